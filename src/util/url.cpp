#include "util/url.hpp"

#include <cctype>

#include "util/text.hpp"

namespace avmon {

std::string redact_url(std::string_view url) {
  auto scheme_end = url.find("://");
  // A file path (or "-"): nothing secret in it, and ':' and '?' are ordinary
  // characters of file names.
  if (scheme_end == std::string_view::npos || url.substr(0, scheme_end) == "file") return valid_utf8(url);
  std::string out(url.substr(0, scheme_end + 3));
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view fragment;
  if (auto hash = rest.find('#'); hash != std::string_view::npos) {
    fragment = rest.substr(hash);
    rest = rest.substr(0, hash);
  }
  std::string_view query;
  bool has_query = false;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    has_query = true;
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  // The authority ends at the path; its userinfo ends at the last '@' (an
  // unescaped '@' in a password is common enough). "udp://@239.1.1.1:5000"
  // (an empty userinfo, FFmpeg's multicast form) has nothing to hide.
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (auto at = authority.rfind('@'); at != std::string_view::npos && at > 0) {
    out += "***";
    rest = rest.substr(at);
  }
  out += rest;
  if (has_query) {
    out += '?';
    bool first = true;
    for (std::size_t start = 0; start <= query.size();) {
      auto amp = query.find('&', start);
      std::string_view item = query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
      if (!first) out += '&';
      first = false;
      auto eq = item.find('=');
      out += eq == std::string_view::npos ? item : std::string(item.substr(0, eq + 1)) + "***";
      if (amp == std::string_view::npos) break;
      start = amp + 1;
    }
  }
  if (!fragment.empty()) out += fragment.size() > 1 ? "#***" : "#";
  return valid_utf8(out);
}

std::string redact_urls_in_text(std::string_view text) {
  std::string out;
  std::size_t done = 0;
  for (std::size_t sep = text.find("://"); sep != std::string_view::npos; sep = text.find("://", sep + 3)) {
    if (sep < done) continue;
    // The scheme: letters, digits, '+', '-', '.' before "://".
    std::size_t start = sep;
    while (start > done && (std::isalnum(static_cast<unsigned char>(text[start - 1])) || text[start - 1] == '+' ||
                            text[start - 1] == '-' || text[start - 1] == '.'))
      --start;
    if (start == sep) continue;
    std::size_t end = text.find_first_of(" \t\r\n'\"<>", sep);
    if (end == std::string_view::npos) end = text.size();
    out.append(text.substr(done, start - done));
    out += redact_url(text.substr(start, end - start));
    done = end;
  }
  out.append(text.substr(done));
  return valid_utf8(out);
}

}  // namespace avmon
