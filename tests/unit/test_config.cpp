// Configuration validation against declared option tables: defaults, types,
// ranges, unknown keys with FILE:LINE:COL, environment overrides.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "config/config.hpp"
#include "config/yaml_input.hpp"
#include "support/run.hpp"

namespace avmon {
namespace {

class Nothing final : public Detector {};

DetectorRegistry test_registry() {
  DetectorRegistry r;
  DetectorInfo d;
  d.name = "black";
  d.summary = "test";
  d.media = kVideo;
  d.types = {"black"};
  d.options = {{"threshold", OptionType::Double, 0.1, 0.0, 1.0, "fraction", "how dark", {}},
               {"mode", OptionType::String, std::string("auto"), {}, {}, "", "mode", {"auto", "strict"}},
               {"frames", OptionType::Int, std::int64_t{3}, 1.0, 100.0, "frames", "count", {}},
               {"exclude_regions", OptionType::Regions, std::vector<Region>{}, {}, {}, "", "logo areas", {}}};
  d.min_duration_s = 0.5;
  d.create = [](const Options&) { return std::make_unique<Nothing>(); };
  r.add(d, "test");
  return r;
}

std::string write(const std::string& name, const std::string& text) {
  auto path = test::scratch_dir("config") / name;
  std::ofstream(path) << text;
  return path.string();
}

std::string error_of(const std::string& path, char** env = nullptr) {
  DetectorRegistry r = test_registry();
  try {
    load_config(path, r, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsComeFromTheDeclarations) {
  DetectorRegistry r = test_registry();
  Config c = load_config("", r, nullptr);
  const DetectorConfig* d = c.detector("black");
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->enabled);
  EXPECT_DOUBLE_EQ(d->options.get_double("threshold"), 0.1);
  EXPECT_DOUBLE_EQ(d->policy.min_duration_s, 0.5);
  EXPECT_EQ(c.pipeline.queue_frames, 16);
}

TEST(Config, ValuesFromTheFileAreApplied) {
  auto path = write("ok.yaml",
                    "stream:\n  name: news\n"
                    "input:\n  url: udp://127.0.0.1:5000\n  options:\n    fifo_size: 100000\n"
                    "detectors:\n  black:\n    threshold: 0.25\n    mode: strict\n    min_duration_s: 2\n"
                    "    exclude_regions: [[0.8, 0.0, 0.2, 0.1], {x: 0, y: 0.9, w: 0.3, h: 0.1}]\n");
  DetectorRegistry r = test_registry();
  Config c = load_config(path, r, nullptr);
  EXPECT_EQ(c.stream_name, "news");
  EXPECT_EQ(c.input.url, "udp://127.0.0.1:5000");
  EXPECT_EQ(c.input.av_options.at("fifo_size"), "100000");
  const DetectorConfig* d = c.detector("black");
  EXPECT_DOUBLE_EQ(d->options.get_double("threshold"), 0.25);
  EXPECT_EQ(d->options.get_string("mode"), "strict");
  EXPECT_DOUBLE_EQ(d->policy.min_duration_s, 2.0);
  ASSERT_EQ(d->options.get_regions("exclude_regions").size(), 2u);
  EXPECT_EQ(d->options.get_regions("exclude_regions")[1], (Region{0, 0.9, 0.3, 0.1}));
}

TEST(Config, UnknownDetectorOptionNamesKeyAndPosition) {
  auto path = write("unknown.yaml", "detectors:\n  black:\n    treshold: 0.2\n");
  std::string err = error_of(path);
  EXPECT_NE(err.find(path + ":3:5: detectors.black.treshold: unknown option"), std::string::npos) << err;
  EXPECT_NE(err.find("threshold"), std::string::npos) << "lists the known options: " << err;
}

TEST(Config, UnknownDetectorIsAnError) {
  auto path = write("nodet.yaml", "detectors:\n  blak:\n    threshold: 0.2\n");
  std::string err = error_of(path);
  EXPECT_NE(err.find(path + ":2:3: detectors.blak"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown detector"), std::string::npos) << err;
}

TEST(Config, UnknownSectionAndCoreKeyAreErrors) {
  EXPECT_NE(error_of(write("sec.yaml", "inputs:\n  url: x\n")).find(":1:1: inputs"), std::string::npos);
  std::string err = error_of(write("key.yaml", "input:\n  uri: x\n"));
  EXPECT_NE(err.find(":2:3: input.uri: unknown option"), std::string::npos) << err;
}

TEST(Config, OutOfRangeValueIsAnError) {
  std::string err = error_of(write("range.yaml", "detectors:\n  black:\n    threshold: 1.5\n"));
  EXPECT_NE(err.find("detectors.black.threshold: value 1.5 out of range"), std::string::npos) << err;
}

TEST(Config, WrongTypesAreErrors) {
  EXPECT_NE(error_of(write("t1.yaml", "detectors:\n  black:\n    threshold: dark\n")).find("expected a number"),
            std::string::npos);
  EXPECT_NE(error_of(write("t2.yaml", "detectors:\n  black:\n    frames: 2.5\n")).find("expected an integer"),
            std::string::npos);
  EXPECT_NE(error_of(write("t3.yaml", "detectors:\n  black:\n    enabled: maybe\n")).find("expected true or false"),
            std::string::npos);
  EXPECT_NE(error_of(write("t4.yaml", "detectors:\n  black:\n    mode: lax\n")).find("not one of: auto, strict"),
            std::string::npos);
  EXPECT_NE(error_of(write("t5.yaml", "detectors:\n  black:\n    exclude_regions: [[0.9, 0, 0.2, 0.1]]\n"))
                .find("inside the picture"),
            std::string::npos);
}

TEST(Config, SyntaxErrorNamesThePosition) {
  std::string err = error_of(write("syntax.yaml", "detectors:\n  black: [\n"));
  EXPECT_NE(err.find("YAML syntax error"), std::string::npos) << err;
  EXPECT_NE(err.find("syntax.yaml:"), std::string::npos) << err;
}

TEST(Config, MissingFileIsAnError) {
  EXPECT_NE(error_of("/nonexistent/avmon.yaml").find("cannot read configuration file"), std::string::npos);
}

TEST(Config, EnvironmentOverridesTheFile) {
  auto path = write("env.yaml", "detectors:\n  black:\n    threshold: 0.25\n");
  std::string a = "AVMON_DETECTORS__BLACK__THRESHOLD=0.5", b = "AVMON_STREAM__NAME=sport",
              c = "AVMON_KEEP_TEST_FILES=1", d = "PATH=/bin";
  char* env[] = {a.data(), b.data(), c.data(), d.data(), nullptr};
  DetectorRegistry r = test_registry();
  Config cfg = load_config(path, r, env);
  EXPECT_DOUBLE_EQ(cfg.detector("black")->options.get_double("threshold"), 0.5);
  EXPECT_EQ(cfg.stream_name, "sport");
}

TEST(Config, BadEnvironmentOverrideNamesTheVariable) {
  std::string a = "AVMON_DETECTORS__BLACK__THRESHOLD=7";
  char* env[] = {a.data(), nullptr};
  std::string err = error_of("", env);
  EXPECT_NE(err.find("environment AVMON_DETECTORS__BLACK__THRESHOLD: detectors.black.threshold: value 7 out of range"),
            std::string::npos)
      << err;
}

// yaml-cpp takes any node as a key; the loader reads keys as names, and a
// list or mapping there once escaped as an "internal error" (exit 1) with
// no position.
TEST(Config, AKeyThatIsAListOrAMappingNamesItsPosition) {
  auto top = write("complex-top.yaml", "? [a, b] : 1\n");
  EXPECT_EQ(error_of(top), top + ":1:3: a key must be a plain name, not a list, a mapping or empty");
  auto nested = write("complex-nested.yaml", "stream:\n  ? {a: 1}\n  : x\n");
  EXPECT_EQ(error_of(nested), nested + ":2:5: a key must be a plain name, not a list, a mapping or empty");
  auto region = write("complex-region.yaml", "detectors:\n  black:\n    exclude_regions: [{? [x] : 0}]\n");
  EXPECT_EQ(error_of(region), region + ":3:26: a key must be a plain name, not a list, a mapping or empty");
}

TEST(Config, ListsWhereNamesBelongAreErrors) {
  auto plugins = write("plugins-lists.yaml", "plugins: [[a.so, b.so]]\n");
  EXPECT_EQ(error_of(plugins), plugins + ":1:11: plugins: expected a shared-object path");
  auto top = write("list-of-lists.yaml", "- [a]\n- [b]\n");
  EXPECT_EQ(error_of(top), top + ":1:1: expected a mapping at the top");
}

TEST(Config, ADuplicateKeyIsAnErrorNamingBothPlaces) {
  auto path = write("dup.yaml", "stream:\n  name: a\ninput:\n  url: x\nstream:\n  name: b\n");
  EXPECT_EQ(error_of(path), path + ":5:1: duplicate key 'stream' (first at line 1, column 1)");
  auto inner = write("dup-inner.yaml", "detectors:\n  black:\n    threshold: 0.2\n    threshold: 0.3\n");
  EXPECT_EQ(error_of(inner), inner + ":4:5: duplicate key 'threshold' (first at line 3, column 5)");
}

TEST(Config, NonFiniteRegionFractionsAreErrors) {
  for (const char* v : {".nan", ".inf", "-.inf"}) {
    auto path = write("nan.yaml", std::string("detectors:\n  black:\n    exclude_regions: [[") + v + ", 0, 0.5, 0.5]]\n");
    EXPECT_EQ(error_of(path), path + ":3:5: detectors.black.exclude_regions[0]: a region's fractions must be finite numbers")
        << v;
  }
}

TEST(Config, ADirectoryIsAnError) {
  auto dir = test::scratch_dir("config-dir");
  EXPECT_EQ(error_of(dir.string()), dir.string() + ": cannot read configuration file: it is a directory");
}

TEST(Config, APipeThatNobodyWritesIsAnErrorNotAHang) {
  auto path = (test::scratch_dir("config-fifo") / "silent.fifo").string();
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of(path), path + ": cannot read configuration file: nothing written to the pipe within 5 s");
  double waited_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(waited_s, kConfigPipeWaitS - 0.1);
}

TEST(Config, APipeIsReadToItsEnd) {
  auto path = (test::scratch_dir("config-pipe") / "config.fifo").string();
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  // The writer opens late and writes in two pieces, as a template tool may.
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::ofstream out(path);
    out << "stream:\n" << std::flush;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    out << "  name: piped\n";
  });
  DetectorRegistry r = test_registry();
  Config c = load_config(path, r, nullptr);
  writer.join();
  EXPECT_EQ(c.stream_name, "piped");
}

TEST(Config, AHugeMappingIsRefusedAtOnce) {
  // 100,000 input options once took 13 minutes (each one a linear search of
  // libavformat's option dictionary).
  std::string text = "input:\n  options:\n";
  for (int i = 0; i < 100000; ++i) text += "    opt" + std::to_string(i) + ": 1\n";
  auto path = write("many.yaml", text);
  EXPECT_EQ(error_of(path), path + ":3:5: a mapping of 100000 entries (at most 1000)");
}

TEST(Config, AliasesThatExpandToBillionsAreRefused) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c)
    text += std::string(1, c) + ": &" + c + " [*" + char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) +
            ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" +
            char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + "]\n";
  auto path = write("laughs.yaml", text);
  EXPECT_NE(error_of(path).find("more than 100000 values (aliases counted each time they are used)"),
            std::string::npos)
      << error_of(path);
}

TEST(Config, DefaultYamlLoadsBackToTheDefaults) {
  DetectorRegistry r = test_registry();
  auto path = write("defaults.yaml", default_config_yaml(r));
  Config c = load_config(path, r, nullptr);
  EXPECT_DOUBLE_EQ(c.detector("black")->options.get_double("threshold"), 0.1);
  EXPECT_EQ(c.log_level, "info");
}

}  // namespace
}  // namespace avmon
