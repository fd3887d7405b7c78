#include "input/watchdog.hpp"

namespace avmon {

const char* loss_reason_name(LossReason r) {
  switch (r) {
    case LossReason::NoData: return "no data";
    case LossReason::NoDecodableFrames: return "no decodable frames";
    case LossReason::InputClosed: return "input closed";
  }
  return "?";
}

}  // namespace avmon
