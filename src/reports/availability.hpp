// Availability of the programme, in the terms of ITU-T G.826 applied to
// seconds of media time instead of blocks of bits:
//  - an errored second (ES) is a second in which any defect was present;
//  - a severely errored second (SES) is a second with a defect that takes
//    the programme away: signal_loss, black, freeze, silence, or any defect
//    of severity critical;
//  - unavailable time begins at the first of 10 consecutive SES and ends at
//    the first of 10 consecutive seconds that are not SES (those 10 are
//    available again); ES and SES are counted in available time only, as in
//    G.826;
//  - availability = 1 - unavailable seconds / seconds observed.
// The monitor's own conditions (detector_lagging, detector_failed) are not
// defects of the programme and are left out. Seconds are counted on a grid
// of whole seconds of media time from 0; a defect covers each second it
// overlaps, even in part.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace avmon::reports {

struct DefectSpan {
  std::string type, severity;
  double start_s = 0, end_s = 0;  // media time
  bool open = false;              // not ended yet (end_s is where the report ends)
};

struct AvailabilityRow {
  double start_s = 0, end_s = 0;  // the period, in media time (clipped to what was observed)
  std::optional<double> start_wall_s;  // UTC seconds since the epoch at start_s, when known
  long long seconds = 0;          // whole seconds observed in the period
  long long errored_s = 0, severely_errored_s = 0, unavailable_s = 0;
  double availability = 1.0;      // fraction
  std::map<std::string, double> defect_s;  // seconds of each defect type (the union of its defects)
};

// True for the types whose seconds are severely errored whatever their severity.
bool severely_errors(const DefectSpan& d);

// Rows of `period_s` (3600: hourly, 86400: daily) covering [start_s, end_s)
// of media time. With `origin_wall_s` (the UTC time at media time 0, live
// inputs) the periods are aligned to the UTC clock (hours on the hour, days
// at midnight), else they start at media time 0.
std::vector<AvailabilityRow> availability(const std::vector<DefectSpan>& defects, double start_s, double end_s,
                                          double period_s,
                                          std::optional<double> origin_wall_s);

}  // namespace avmon::reports
