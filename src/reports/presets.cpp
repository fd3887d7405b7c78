#include "reports/presets.hpp"

#include <cmath>
#include <cstdio>

namespace avmon::reports {

namespace {

std::string number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

}  // namespace

LoudnessPreset loudness_preset(const std::string& name, double custom_target_lufs) {
  if (name == "ebu_r128") return {"ebu_r128", -23.0, 1.0, -1.0};
  if (name == "atsc_a85") return {"atsc_a85", -24.0, 2.0, -2.0};
  return {"custom", custom_target_lufs, 1.0, -1.0};
}

Verdict judge(const LoudnessPreset& p, std::optional<double> integrated_lufs, std::optional<double> true_peak_dbtp) {
  Verdict v;
  if (!integrated_lufs) {
    v.why.push_back("no programme above the -70 LUFS gate");
    return v;
  }
  const double lo = p.target_lufs - p.tolerance_lu, hi = p.target_lufs + p.tolerance_lu;
  // Compared at the 0.1 LU the figures are published with, so that a
  // reported -24.0 is never a failure against -24.0.
  const double i = static_cast<double>(static_cast<long long>(*integrated_lufs * 10 + (*integrated_lufs < 0 ? -0.5 : 0.5))) / 10;
  if (i > hi) v.why.push_back("integrated " + number(i) + " LUFS above " + number(hi));
  if (i < lo) v.why.push_back("integrated " + number(i) + " LUFS below " + number(lo));
  if (true_peak_dbtp) {
    const double tp = static_cast<double>(static_cast<long long>(*true_peak_dbtp * 10 + (*true_peak_dbtp < 0 ? -0.5 : 0.5))) / 10;
    if (tp > p.max_true_peak_dbtp) v.why.push_back("true peak " + number(tp) + " dBTP above " + number(p.max_true_peak_dbtp));
  }
  v.pass = v.why.empty();
  return v;
}

void judge_dialnorm(Verdict& v, std::optional<double> integrated_lufs, std::optional<int> dialnorm_db, double tolerance_db) {
  if (!integrated_lufs || !dialnorm_db || !v.pass) return;
  // At the published 0.1 LU, as the other checks.
  const double i = std::round(*integrated_lufs * 10) / 10;
  const double offset = std::round((i - *dialnorm_db) * 10) / 10;
  if (std::abs(offset) <= tolerance_db) return;
  v.why.push_back("integrated " + number(i) + " LUFS is " + number(std::abs(offset)) + " LU " +
                  (offset > 0 ? "above" : "below") + " dialnorm " + std::to_string(*dialnorm_db) + " dB");
  v.pass = false;
}

}  // namespace avmon::reports
