#include "util/numbers.hpp"

#include <cmath>
#include <cstdio>

namespace avmon {

std::string human_number(double value, int max_decimals) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (max_decimals < 0) max_decimals = 0;
  if (max_decimals > 9) max_decimals = 9;
  char buf[64];
  if (std::fabs(value) >= 1e15) {  // no one reads 16 digits; and %f would not fit
    std::snprintf(buf, sizeof buf, "%g", value);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.*f", max_decimals, value);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

}  // namespace avmon
