// Numbers in messages as people write them: "10 s", "0.5 s", "12.346 s",
// never "10.000000 s". Event lines keep their own numeric JSON.
#pragma once

#include <string>

namespace avmon {

// `value` rounded to at most `max_decimals` decimals, without trailing
// zeros or a trailing point ("-0" is written "0"); non-finite values as
// "inf", "-inf", "nan".
std::string human_number(double value, int max_decimals = 3);

}  // namespace avmon
