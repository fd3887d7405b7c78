// The OpenAPI 3 document of the alarm API, served at /api/v1/openapi.json.
// tests/unit/test_alarm_api.cpp checks that every route answered by
// api_alarms.cpp is described here.
#include <nlohmann/json.hpp>

#include "http/api_alarms.hpp"
#include "util/text.hpp"

namespace avmon {

namespace {

nlohmann::json build() {
  using J = nlohmann::json;
  auto ref = [](const char* name) { return J{{"$ref", std::string("#/components/schemas/") + name}}; };
  auto answer = [](const char* what, J schema) {
    return J{{"description", what}, {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
  };
  J err = answer("error", ref("Error"));
  J alarm = {
      {"type", "object"},
      {"required", {"id", "type", "severity", "state", "since", "acked", "masked"}},
      {"properties",
       {{"id", {{"type", "string"}, {"description", "16 hex digits: the id of the defect that raised it"}}},
        {"type", {{"type", "string"}, {"description", "defect type (docs/contracts.md)"}}},
        {"detector", {{"type", "string"}}},
        {"channel", {{"type", "integer"}}},
        {"severity", {{"type", "string"}, {"enum", {"critical", "major", "minor", "warning", "info"}}}},
        {"state", {{"type", "string"}, {"enum", {"active", "cleared", "latched"}}}},
        {"since", {{"type", "string"}, {"format", "date-time"}, {"description", "raised (wall clock)"}}},
        {"cleared_at", {{"type", "string"}, {"format", "date-time"}}},
        {"media_time", {{"type", "number"}, {"description", "onset, seconds of media time"}}},
        {"end_media_time", {{"type", "number"}}},
        {"acked", {{"nullable", true}, {"allOf", {ref("Ack")}}}},
        {"masked", {{"type", "boolean"}, {"description", "recorded, not sent to paging outputs"}}},
        {"masked_by", {{"type", "array"}, {"items", {{"type", "string"}}}}},
        {"latch", {{"type", "boolean"}, {"description", "stays listed (latched) after it clears until acknowledged"}}},
        {"flapping", {{"type", "boolean"}, {"description", "stands for a condition raised too often"}}},
        {"raises", {{"type", "integer"}}},
        {"carried", {{"type", "boolean"}, {"description", "open at the previous instance's stop, not confirmed yet"}}}}}};
  J ack = {{"type", "object"},
           {"properties",
            {{"by", {{"type", "string"}}}, {"at", {{"type", "string"}, {"format", "date-time"}}}, {"comment", {{"type", "string"}}}}}};
  J mask = {{"type", "object"},
            {"properties",
             {{"name", {{"type", "string"}}},
              {"types", {{"type", "array"}, {"items", {{"type", "string"}}}, {"description", "empty: every type"}}},
              {"until", {{"type", "string"}, {"format", "date-time"}, {"nullable", true}}},
              {"origin", {{"type", "string"}, {"enum", {"config", "api", "schedule"}}}},
              {"by", {{"type", "string"}}},
              {"mode", {{"type", "string"}, {"enum", {"mask", "invert"}}}},
              {"active", {{"type", "boolean"}}}}}};
  J bearer = J::array({{{"bearer", J::array()}}});
  J id = {{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
  J name = {{"name", "name"}, {"in", "path"}, {"required", true},
            {"schema", {{"type", "string"}, {"pattern", "^[A-Za-z0-9._-]{1,64}$"}}}};
  J refused = {{"400", answer("bad request (the message says why)", ref("Error"))},
               {"401", answer("no or wrong bearer token", ref("Error"))},
               {"403", answer("no http.api_token configured: changes are refused", ref("Error"))}};
  auto with = [&](J responses) {
    for (auto& [k, v] : refused.items()) responses[k] = v;
    return responses;
  };
  J doc = {
      {"openapi", "3.0.3"},
      {"info", {{"title", "avmon alarm API"}, {"version", "1"},
                {"description", "Alarms of one monitored stream: list, acknowledge, mask (docs/operations.md, Alarms)"}}},
      {"components",
       {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
        {"schemas",
         {{"Alarm", alarm}, {"Ack", ack}, {"Mask", mask},
          {"Error", {{"type", "object"}, {"properties", {{"error", {{"type", "string"}}}}}}}}}}},
      {"paths",
       {{"/api/v1/alarms",
         {{"get", {{"summary", "alarms, newest first: active, latched and recently cleared"},
                   {"responses", {{"200", answer("the alarms", {{"type", "array"}, {"items", ref("Alarm")}})}}}}}}},
        {"/api/v1/alarms/{id}",
         {{"get", {{"summary", "one alarm"}, {"parameters", {id}},
                   {"responses", {{"200", answer("the alarm", ref("Alarm"))}, {"404", err}}}}}}},
        {"/api/v1/alarms/{id}/ack",
         {{"post",
           {{"summary", "acknowledge an active or latched alarm (a latched one is cleared)"},
            {"parameters", {id}},
            {"security", bearer},
            {"requestBody",
             {{"required", true},
              {"content",
               {{"application/json",
                 {{"schema", {{"type", "object"}, {"required", {"by"}},
                              {"properties", {{"by", {{"type", "string"}}}, {"comment", {{"type", "string"}}}}}}}}}}}}},
            {"responses", with({{"200", answer("acknowledged", ref("Alarm"))}, {"404", err},
                                {"409", answer("already acknowledged, or cleared", ref("Error"))}})}}}}},
        {"/api/v1/masks",
         {{"get", {{"summary", "masks (configured and set through the API) and schedules"},
                   {"responses", {{"200", answer("the masks", {{"type", "array"}, {"items", ref("Mask")}})}}}}}}},
        {"/api/v1/masks/{name}",
         {{"get", {{"summary", "one mask"}, {"parameters", {name}}, {"responses", {{"200", answer("the mask", ref("Mask"))}, {"404", err}}}}},
          {"put",
           {{"summary", "set (or replace) a mask: alarms of its types raised from now on are recorded but not paged"},
            {"parameters", {name}},
            {"security", bearer},
            {"requestBody",
             {{"required", true},
              {"content",
               {{"application/json",
                 {{"schema", {{"type", "object"},
                              {"properties", {{"types", {{"type", "array"}, {"items", {{"type", "string"}}}, {"nullable", true}}},
                                              {"until", {{"type", "string"}, {"format", "date-time"}, {"nullable", true}}},
                                              {"by", {{"type", "string"}}}}}}}}}}}}},
            {"responses", with({{"200", answer("replaced", ref("Mask"))}, {"201", answer("created", ref("Mask"))}})}}},
          {"delete", {{"summary", "remove a mask"}, {"parameters", {name}}, {"security", bearer},
                      {"responses", with({{"200", answer("removed", {{"type", "object"}})}, {"404", err}})}}}}},
        {"/api/v1/openapi.json",
         {{"get", {{"summary", "this document"}, {"responses", {{"200", {{"description", "OpenAPI 3"}}}}}}}}}}}};
  return doc;
}

}  // namespace

const std::string& openapi_json() {
  static const std::string text = to_json_text(build(), 1) + "\n";
  return text;
}

}  // namespace avmon
