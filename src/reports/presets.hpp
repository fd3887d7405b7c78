// Loudness delivery presets and the verdict on one programme segment: the
// integrated loudness must be within the target's tolerance and the true
// peak at or below the ceiling.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace avmon::reports {

struct LoudnessPreset {
  std::string name;              // ebu_r128, atsc_a85, custom
  double target_lufs = -23.0;
  double tolerance_lu = 1.0;     // integrated within target +- this
  double max_true_peak_dbtp = -1.0;
};

// ebu_r128: EBU R128 -23 LUFS +-1 LU, -1 dBTP (the tolerance for live
// programmes); atsc_a85: ATSC A/85 -24 LKFS +-2 LU, -2 dBTP; custom: the
// given target with EBU's tolerance and ceiling. Unknown names are custom.
LoudnessPreset loudness_preset(const std::string& name, double custom_target_lufs = -23.0);

struct Verdict {
  std::optional<bool> pass;       // none: no programme above the gate to judge
  std::vector<std::string> why;   // each failed check, for people
};

Verdict judge(const LoudnessPreset& p, std::optional<double> integrated_lufs, std::optional<double> true_peak_dbtp);
// AC-3 / E-AC-3: the integrated loudness must also be within
// `tolerance_db` of the dialogue level the audio declares (dialnorm), or a
// receiver normalising to it plays the programme too loud or too soft.
// Nothing to judge without both figures.
void judge_dialnorm(Verdict& v, std::optional<double> integrated_lufs, std::optional<int> dialnorm_db, double tolerance_db);

}  // namespace avmon::reports
