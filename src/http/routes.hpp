// What each path of the operator's HTTP surface answers, as plain data: no
// Beast here, so that the many translation units that decide *what* to
// answer never pay for the parser and serializer templates (session.cpp).
#pragma once

#include <string>
#include <string_view>

#include "app/telemetry.hpp"

namespace avmon {

struct HttpAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  bool no_store = true;  // Cache-Control: no-store
};

// The answer to a GET (or HEAD) of `target` (path and query).
HttpAnswer route(std::string_view target, Telemetry& telemetry);

}  // namespace avmon
