// The documentation says what the binary does: the README's synopsis names
// every option, docs/contracts.md every defect type and exit status,
// docs/configuration.md every key (generated), and no document or source
// names a file outside the repository.
#include <fstream>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = AVMON_SOURCE_DIR;

// The long options `avmon SUB --help` lists.
std::set<std::string> options_of(const std::string& sub) {
  RunResult r = run_process({avmon_binary(), sub, "--help"});
  EXPECT_EQ(r.exit_status, 0) << sub;
  std::set<std::string> out;
  std::regex opt(R"(^\s+(?:-\w,)?(--[a-z][a-z-]*))");
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, opt) && m[1] != "--help") out.insert(m[1]);
  }
  return out;
}

TEST(Docs, TheReadmeSynopsisNamesEveryOptionOfEveryCommand) {
  std::string readme = read_file(kSource / "README.md");
  auto begin = readme.find("```\navmon run");
  ASSERT_NE(begin, std::string::npos) << "no synopsis block in README.md";
  std::string synopsis = readme.substr(begin, readme.find("```", begin + 3) - begin);
  for (const char* sub : {"run", "demo", "check-config", "detectors", "healthcheck", "report"}) {
    EXPECT_NE(synopsis.find(std::string("avmon ") + sub), std::string::npos) << sub;
    auto options = options_of(sub);
    EXPECT_FALSE(options.empty()) << sub;
    for (const auto& o : options)
      EXPECT_NE(synopsis.find(o), std::string::npos) << "README synopsis lacks " << sub << " " << o;
  }
  for (const char* global : {"--log-level", "--log-format", "--version"})
    EXPECT_NE(synopsis.find(global), std::string::npos) << global;
}

TEST(Docs, ContractsListEveryDefectTypeAndExitStatus) {
  std::string contracts = read_file(kSource / "docs" / "contracts.md");
  RunResult r = run_process({avmon_binary(), "detectors"});
  ASSERT_EQ(r.exit_status, 0);
  std::set<std::string> types = {"signal_loss"};  // the watchdog's, not a detector's
  std::regex reports(R"(reports: ([a-z0-9_., ]+))");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), reports), end; it != end; ++it) {
    std::string list = (*it)[1];
    std::regex word(R"([a-z0-9_.]+)");
    for (std::sregex_iterator w(list.begin(), list.end(), word); w != end; ++w) types.insert((*w)[0]);
  }
  EXPECT_GE(types.size(), 13u);
  for (const auto& t : types)
    EXPECT_NE(contracts.find("| `" + t + "` |"), std::string::npos) << "docs/contracts.md: no row for defect type " << t;

  std::string statuses = read_file(kSource / "src" / "app" / "exit_status.hpp");
  std::regex status(R"(constexpr int k\w+ = (\d+);)");
  int found = 0;
  for (std::sregex_iterator it(statuses.begin(), statuses.end(), status), end; it != end; ++it, ++found)
    EXPECT_NE(contracts.find("\n| " + (*it)[1].str() + " |"), std::string::npos)
        << "docs/contracts.md: no row for exit status " << (*it)[1];
  EXPECT_GE(found, 4);
}

TEST(Docs, TheConfigurationReferenceIsTheBinarysOwn) {
  RunResult r = run_process({avmon_binary(), "check-config", "--print-reference"});
  ASSERT_EQ(r.exit_status, 0);
  std::string doc = read_file(kSource / "docs" / "configuration.md");
  auto begin = doc.find("<!-- reference: begin");
  auto end = doc.find("<!-- reference: end -->");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  begin = doc.find('\n', begin) + 1;
  std::string generated = r.out.substr(r.out.find_first_not_of('\n'));
  EXPECT_EQ(doc.substr(begin, end - begin), generated + "\n")
      << "docs/configuration.md is stale: run scripts/update-docs";
  for (const char* key : {"`input.url`", "`notifiers.webhook.secret`", "`detectors.black.min_duration_s`"})
    EXPECT_NE(generated.find(key), std::string::npos) << key;
}

TEST(Docs, NothingNamesAFileOutsideTheRepository) {
  std::regex outside(R"((\.\./shared/|/work/(wt|main|shared)))");
  std::vector<std::string> offenders;
  for (auto it = fs::recursive_directory_iterator(kSource); it != fs::recursive_directory_iterator(); ++it) {
    const auto name = it->path().filename().string();
    if (name == ".git") {  // a worktree's .git is a file naming where the repository is
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory() && (name.rfind("build", 0) == 0 || name.rfind("out", 0) == 0 ||
                               name == "data" || name == "corpus")) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || it->file_size() > 1000000) continue;
    const auto ext = it->path().extension().string();
    if (ext != ".md" && ext != ".cpp" && ext != ".hpp" && ext != ".txt" && ext != ".yaml" && ext != ".yml" &&
        ext != ".py" && ext != ".sh" && ext != ".cmake" && ext != "" && ext != ".in")
      continue;
    std::string text = read_file(it->path());
    if (std::regex_search(text, outside)) offenders.push_back(fs::relative(it->path(), kSource).string());
  }
  // This file names the patterns it looks for.
  std::erase(offenders, "tests/integration/test_docs.cpp");
  EXPECT_EQ(offenders, std::vector<std::string>{});
}

}  // namespace
}  // namespace avmon::test
