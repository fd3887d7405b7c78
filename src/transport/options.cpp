#include "transport/options.hpp"

namespace avmon {

namespace {
const std::vector<std::string> kSeverities = {"critical", "major", "minor", "warning", "info"};
}

std::vector<OptionSpec> transport_option_specs() {
  return {
      {"enabled", OptionType::Bool, true, {}, {}, "",
       "analyse MPEG-TS inputs (files, UDP, RTP, SRT, HLS segments) packet by packet before the demuxer: "
       "TR 101 290, services, scrambling, per-PID figures",
       {}},
      {"pcr_profile", OptionType::String, std::string("standard"), {}, {}, "",
       "PCR repetition limit for 2.3/2.3a: standard 100 ms (ISO/IEC 13818-1), dvb_legacy 40 ms (ETSI TS 101 154)",
       {"standard", "dvb_legacy"}},
      {"pcr_accuracy", OptionType::String, std::string("live"), {}, {}, "",
       "2.4 PCR_accuracy_error against a constant-rate clock fitted to the PCRs: on live inputs, on every "
       "input, or never (only checked while the multiplex's rate is constant)",
       {"live", "always", "off"}},
      {"pcr_accuracy_ns", OptionType::Double, 500.0, 1.0, 1e9, "ns", "2.4 limit", {}},
      {"pid_error_period_s", OptionType::Double, 5.0, 0.1, 3600.0, "s",
       "1.6 PID_error: an audio or video PID of a PMT absent for longer than this", {}},
      {"si_required", OptionType::Bool, false, {}, {}, "",
       "DVB SI (NIT, SDT, EIT p/f, TDT) must be present from the start; false: a table counts only once it "
       "has been seen and then stops repeating",
       {}},
      {"hold_off_s", OptionType::Double, 1.0, 0.0, 3600.0, "s",
       "transport errors closer than this belong to one defect; a defect ends this long after its last error", {}},
      {"severity_priority1", OptionType::String, std::string("critical"), {}, {}, "", "severity of priority 1 defects",
       kSeverities},
      {"severity_priority2", OptionType::String, std::string("major"), {}, {}, "", "severity of priority 2 defects",
       kSeverities},
      {"severity_priority3", OptionType::String, std::string("minor"), {}, {}, "", "severity of priority 3 defects",
       kSeverities},
      {"severity_service", OptionType::String, std::string("critical"), {}, {}, "",
       "severity of scrambled and service_missing", kSeverities},
  };
}

std::vector<OptionSpec> transport_indicator_specs() {
  std::vector<OptionSpec> out;
  for (std::size_t k = 0; k < ts::kIndicatorCount; ++k) {
    auto i = static_cast<ts::Indicator>(k);
    out.push_back({std::string(ts::indicator_name(i)), OptionType::Bool, true, {}, {}, "",
                   "check " + std::string(ts::indicator_number(i)) + " (priority " +
                       std::to_string(ts::indicator_priority(i)) + ")",
                   {}});
  }
  return out;
}

bool set_transport_option(TransportConfig& c, const std::string& section, const std::string& key, const OptionValue& v) {
  if (section == "transport.indicators") {
    auto i = ts::indicator_from_name(key);
    if (!i) return false;
    c.indicators[ts::idx(*i)] = std::get<bool>(v);
    return true;
  }
  if (section != "transport") return false;
  auto dbl = [&] { return std::holds_alternative<double>(v) ? std::get<double>(v) : static_cast<double>(std::get<std::int64_t>(v)); };
  if (key == "enabled") c.enabled = std::get<bool>(v);
  else if (key == "pcr_profile") c.pcr_profile = std::get<std::string>(v);
  else if (key == "pcr_accuracy") c.pcr_accuracy = std::get<std::string>(v);
  else if (key == "pcr_accuracy_ns") c.pcr_accuracy_ns = dbl();
  else if (key == "pid_error_period_s") c.pid_error_period_s = dbl();
  else if (key == "si_required") c.si_required = std::get<bool>(v);
  else if (key == "hold_off_s") c.hold_off_s = dbl();
  else if (key == "severity_priority1") c.severity_priority1 = std::get<std::string>(v);
  else if (key == "severity_priority2") c.severity_priority2 = std::get<std::string>(v);
  else if (key == "severity_priority3") c.severity_priority3 = std::get<std::string>(v);
  else if (key == "severity_service") c.severity_service = std::get<std::string>(v);
  else return false;
  return true;
}

ts::AnalyzerOptions analyzer_options(const TransportConfig& c, bool live, const std::string& program) {
  ts::AnalyzerOptions o;
  o.enabled = c.indicators;
  o.pcr_repetition_s = c.pcr_profile == "dvb_legacy" ? 0.04 : 0.1;
  o.pcr_accuracy = c.pcr_accuracy == "off"      ? ts::AnalyzerOptions::PcrAccuracy::Off
                   : c.pcr_accuracy == "always" ? ts::AnalyzerOptions::PcrAccuracy::On
                                                : ts::AnalyzerOptions::PcrAccuracy::Auto;
  o.pcr_accuracy_ns = c.pcr_accuracy_ns;
  o.pid_period_s = c.pid_error_period_s;
  o.si_required = c.si_required;
  o.live = live;
  o.service.spec = program;
  return o;
}

}  // namespace avmon
