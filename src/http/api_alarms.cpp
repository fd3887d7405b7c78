#include "http/api_alarms.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cctype>

#include "alarms/alarm_book.hpp"
#include "alarms/schedule.hpp"
#include "util/text.hpp"

namespace avmon {

namespace {

constexpr std::string_view kPrefix = "/api/v1/";
constexpr std::size_t kMaxName = 64, kMaxText = 1000, kMaxTypes = 64;

HttpAnswer json_answer(int status, const nlohmann::json& j) {
  return {status, "application/json", to_json_text(j) + "\n", true, ""};
}

HttpAnswer error(int status, const std::string& why, std::string extra = "") {
  HttpAnswer a = json_answer(status, {{"error", why}});
  a.extra_headers = std::move(extra);
  return a;
}

HttpAnswer not_allowed(const char* allow) {
  return error(405, "method not allowed", std::string("Allow: ") + allow + "\r\n");
}

// Letters, digits, '.', '_' and '-': a name that needs no escaping in a URL,
// a log or a label.
bool plain_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxName) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

// Why the request may not go on (401/403), or nullopt.
std::optional<HttpAnswer> refuse(const ApiRequest& req, const ApiSettings& api) {
  if (api.token.empty())
    return error(403, "changes through the API are off: no http.api_token is configured (AVMON_HTTP__API_TOKEN)");
  constexpr std::string_view bearer = "Bearer ";
  std::string_view given = req.authorization;
  if (given.size() < bearer.size() || given.substr(0, bearer.size()) != bearer || !token_matches(given.substr(bearer.size()), api.token))
    return error(401, req.authorization.empty() ? "Authorization: Bearer <token> required" : "wrong token",
                 "WWW-Authenticate: Bearer realm=\"avmon\"\r\n");
  return std::nullopt;
}

// The request's JSON object, or the 400 that says why not.
std::optional<HttpAnswer> parse_body(const ApiRequest& req, nlohmann::json& out) {
  if (req.body.empty()) {
    out = nlohmann::json::object();
    return std::nullopt;
  }
  try {
    out = nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::exception& e) {
    return error(400, std::string("bad JSON: ") + e.what());
  }
  if (!out.is_object()) return error(400, "expected a JSON object");
  return std::nullopt;
}

std::optional<HttpAnswer> text_field(const nlohmann::json& body, const char* key, bool required, std::string& out) {
  if (!body.contains(key) || body[key].is_null()) {
    if (required) return error(400, std::string("'") + key + "' is required (a string)");
    return std::nullopt;
  }
  if (!body[key].is_string()) return error(400, std::string("'") + key + "' must be a string");
  out = body[key].get<std::string>();
  if (out.size() > kMaxText) return error(400, std::string("'") + key + "' is longer than 1000 bytes");
  if (required && out.empty()) return error(400, std::string("'") + key + "' must not be empty");
  return std::nullopt;
}

HttpAnswer ack(const ApiRequest& req, AlarmBook& book, const std::string& id) {
  nlohmann::json body;
  if (auto bad = parse_body(req, body)) return *bad;
  std::string by, comment;
  if (auto bad = text_field(body, "by", true, by)) return *bad;
  if (auto bad = text_field(body, "comment", false, comment)) return *bad;
  AlarmChange c = book.ack(id, by, comment);
  return json_answer(c.status, c.body);
}

HttpAnswer put_mask(const ApiRequest& req, AlarmBook& book, const std::string& name) {
  nlohmann::json body;
  if (auto bad = parse_body(req, body)) return *bad;
  AlarmMask m;
  m.name = name;
  m.origin = "api";
  if (body.contains("types") && !body["types"].is_null()) {
    if (!body["types"].is_array()) return error(400, "'types' must be a list of defect types ([] or null: every type)");
    if (body["types"].size() > kMaxTypes) return error(400, "'types' has more than 64 entries");
    for (const auto& t : body["types"]) {
      if (!t.is_string() || !plain_name(t.get<std::string>()))
        return error(400, "'types' entries must be defect type names (letters, digits, '.', '_', '-')");
      m.types.push_back(t.get<std::string>());
    }
  }
  if (body.contains("until") && !body["until"].is_null()) {
    if (!body["until"].is_string()) return error(400, "'until' must be an RFC 3339 time or null");
    auto until = parse_rfc3339_ms(body["until"].get<std::string>());
    if (!until) return error(400, "'until' is not an RFC 3339 time (e.g. 2026-12-02T06:00:00Z)");
    if (*until <= AlarmBook::system_now_ms()) return error(400, "'until' is in the past");
    m.until_ms = *until;
  }
  if (auto bad = text_field(body, "by", false, m.by)) return *bad;
  AlarmChange c = book.put_mask(std::move(m));
  return json_answer(c.status, c.body);
}

HttpAnswer delete_mask(const ApiRequest& req, AlarmBook& book, const std::string& name) {
  nlohmann::json body;
  if (auto bad = parse_body(req, body)) return *bad;
  std::string by;
  if (auto bad = text_field(body, "by", false, by)) return *bad;
  AlarmChange c = book.delete_mask(name, by);
  return json_answer(c.status, c.body);
}

}  // namespace

std::string alarm_metrics(const AlarmBook& book) {
  std::string stream;
  for (char c : book.stream()) {
    if (c == '\\' || c == '"') stream += '\\';
    if (c == '\n') stream += "\\n";
    else stream += c;
  }
  const AlarmBook::Counts c = book.counts();
  std::string out =
      "# HELP avmon_alarms Alarms listed by GET /api/v1/alarms, by state and severity\n# TYPE avmon_alarms gauge\n";
  for (const char* state : {"active", "latched", "cleared"})
    for (const char* severity : {"critical", "major", "minor", "warning", "info"}) {
      auto it = c.by_state_severity.find({state, severity});
      out += "avmon_alarms{stream=\"" + stream + "\",state=\"" + state + "\",severity=\"" + severity + "\"} " +
             std::to_string(it == c.by_state_severity.end() ? 0 : it->second) + "\n";
    }
  out += "# HELP avmon_alarms_masked Active or latched alarms raised under a mask or schedule (not paged)\n"
         "# TYPE avmon_alarms_masked gauge\navmon_alarms_masked{stream=\"" + stream + "\"} " + std::to_string(c.masked) + "\n";
  out += "# HELP avmon_alarms_flapping Active flapping alarms\n"
         "# TYPE avmon_alarms_flapping gauge\navmon_alarms_flapping{stream=\"" + stream + "\"} " + std::to_string(c.flapping) + "\n";
  return out;
}

bool token_matches(std::string_view given, std::string_view expected) {
  // Digests first: equal lengths, so the comparison time says nothing about
  // the token's length or its first differing byte.
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

std::optional<HttpAnswer> route_api(const ApiRequest& req, const ApiSettings& api) {
  std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
  if (!path.starts_with(kPrefix)) return std::nullopt;
  path.remove_prefix(kPrefix.size());
  // Other /api/v1 paths (reports, ...) are routes.cpp's.
  if (path != "openapi.json" && path != "alarms" && path != "masks" && !path.starts_with("alarms/") &&
      !path.starts_with("masks/"))
    return std::nullopt;
  const bool read = req.method == "GET" || req.method == "HEAD";
  if (path == "openapi.json") {
    if (!read) return not_allowed("GET, HEAD");
    return HttpAnswer{200, "application/json", openapi_json(), true, ""};
  }
  if (!api.alarms) return error(404, "no alarms in this process");
  AlarmBook& book = *api.alarms;
  if (read && api.read_needs_token)
    if (auto no = refuse(req, api)) return no;

  if (path == "alarms") {
    if (!read) return not_allowed("GET, HEAD");
    return json_answer(200, book.list());
  }
  if (path == "masks") {
    if (!read) return not_allowed("GET, HEAD");
    return json_answer(200, book.masks_json());
  }
  constexpr std::string_view alarms = "alarms/", masks = "masks/", ack_suffix = "/ack";
  if (path.starts_with(alarms)) {
    std::string_view rest = path.substr(alarms.size());
    if (rest.ends_with(ack_suffix)) {
      std::string id(rest.substr(0, rest.size() - ack_suffix.size()));
      if (req.method != "POST") return not_allowed("POST");
      if (auto no = refuse(req, api)) return no;
      if (!plain_name(id)) return error(404, "no such alarm");
      return ack(req, book, id);
    }
    if (!read) return not_allowed("GET, HEAD");
    for (const auto& a : book.list())
      if (a.value("id", "") == rest) return json_answer(200, a);
    return error(404, "no such alarm");
  }
  if (path.starts_with(masks)) {
    std::string name(path.substr(masks.size()));
    if (req.method != "PUT" && req.method != "DELETE" && !read) return not_allowed("GET, HEAD, PUT, DELETE");
    if (!plain_name(name)) return error(400, "a mask name is 1 to 64 letters, digits, '.', '_' or '-'");
    if (read) {
      for (const auto& m : book.masks_json())
        if (m.value("name", "") == name) return json_answer(200, m);
      return error(404, "no mask " + name);
    }
    if (auto no = refuse(req, api)) return no;
    return req.method == "PUT" ? put_mask(req, book, name) : delete_mask(req, book, name);
  }
  return std::nullopt;
}

}  // namespace avmon
