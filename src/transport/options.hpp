// The `transport` section of the configuration: whether MPEG-TS inputs are
// analysed packet by packet, the TR 101 290 profile and switches, and how
// transport defects are reported. Declared as data like every other section
// (config.cpp walks these tables); turned into analyser options here.
#pragma once

#include <string>
#include <vector>

#include "avmon/options.hpp"
#include "ts/analyzer.hpp"

namespace avmon {

struct TransportConfig {
  bool enabled = true;                 // analyse MPEG-TS inputs before the demuxer
  std::string pcr_profile = "standard";  // standard: PCR every 100 ms; dvb_legacy: 40 ms
  std::string pcr_accuracy = "live";   // live, always, off
  double pcr_accuracy_ns = 500;
  double pid_error_period_s = 5;
  bool si_required = false;            // DVB SI (NIT, SDT, EIT, TDT) required from the start
  double hold_off_s = 1;               // errors further apart than this are separate defects
  std::string severity_priority1 = "critical", severity_priority2 = "major", severity_priority3 = "minor";
  std::string severity_service = "critical";  // scrambled, service_missing
  ts::PerIndicator<bool> indicators = ts::AnalyzerOptions::all_on();
};

// Option tables: the section itself and its `indicators` subsection (one
// switch per indicator).
std::vector<OptionSpec> transport_option_specs();
std::vector<OptionSpec> transport_indicator_specs();
// Applies one validated value; false when the key is not one of these tables'.
bool set_transport_option(TransportConfig& c, const std::string& section, const std::string& key, const OptionValue& v);

// Analyser options for an input.
ts::AnalyzerOptions analyzer_options(const TransportConfig& c, bool live, const std::string& program);

}  // namespace avmon
