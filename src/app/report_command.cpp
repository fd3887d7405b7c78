// `avmon report EVENTS.jsonl --out DIR`: the compliance and availability
// report rebuilt after the fact from an events file alone.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <spdlog/spdlog.h>

#include "app/commands.hpp"
#include "app/exit_status.hpp"
#include "reports/files.hpp"
#include "reports/report.hpp"
#include "util/numbers.hpp"
#include "util/text.hpp"

namespace avmon {

int report_command(const Invocation& inv) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (inv.input != "-") {
    file.open(inv.input, std::ios::binary);
    if (!file) {
      std::cerr << "avmon report: cannot open " << inv.input << ": " << std::strerror(errno) << "\n";
      return exit_status::kInput;
    }
    in = &file;
  }
  reports::ReportBuilder builder;
  std::string line;
  size_t number = 0, bad = 0;
  while (std::getline(*in, line)) {
    ++number;
    if (line.empty() || line == "\r") continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("kind")) {
      // A line cut short by a crash or a full disk: the rest still counts.
      if (bad++ == 0) spdlog::warn("{}:{}: not an event line, skipped", inv.input, number);
      continue;
    }
    builder.add(j);
  }
  if (in->bad()) {
    std::cerr << "avmon report: cannot read " << inv.input << ": " << std::strerror(errno) << "\n";
    return exit_status::kInput;
  }
  if (bad > 1) spdlog::warn("{}: {} lines were not event lines", inv.input, bad);
  if (builder.lines() == 0) {
    std::cerr << "avmon report: " << inv.input << ": no event lines\n";
    return exit_status::kInput;
  }
  std::error_code ec;
  std::filesystem::create_directories(inv.out_dir, ec);
  if (ec) {
    std::cerr << "avmon report: cannot create " << inv.out_dir << ": " << ec.message() << "\n";
    return exit_status::kOutputLost;
  }
  const reports::ReportData data = builder.data();
  const std::filesystem::path dir(inv.out_dir);
  int status = exit_status::kOk;
  const std::pair<const char*, std::string> outputs[] = {
      {"loudness.csv", reports::loudness_csv(data)},
      {"availability.csv", reports::availability_csv(data)},
      {"report.json", to_json_text(reports::report_json(data), 2) + "\n"},
      {"report.html", reports::report_html(data)},
  };
  for (const auto& [name, content] : outputs) {
    if (std::string err = reports::write_file((dir / name).string(), content); !err.empty()) {
      std::cerr << "avmon report: " << err << "\n";
      status = exit_status::kOutputLost;
    }
  }
  if (status == exit_status::kOk)
    spdlog::info("report of {} ({} loudness segments, {} defects, {} s) written to {}", inv.input, data.segments.size(),
                 data.defects.size(), human_number(data.end_s), inv.out_dir);
  return status;
}

}  // namespace avmon
