// Input URLs carry secrets: user:password@ (HTTP, RTSP, RTMP), tokens and
// SRT passphrases in the query. The URL is used as given only to open the
// input; everything that shows it (logs, /status, /metrics, events, the
// derived stream name) shows redact_url() of it.
#pragma once

#include <string>
#include <string_view>

namespace avmon {

// `url` with the userinfo of its authority replaced by "***", every query
// value by "***" (names are kept) and a fragment by "***"; the rest (scheme,
// host, port, path) unchanged. A plain file path comes back as it is. The
// result is valid UTF-8 (see util/text.hpp).
//   http://user:pass@cdn/live.m3u8?token=abc&x  ->  http://***@cdn/live.m3u8?token=***&x
//   srt://:9000?mode=listener&passphrase=s3cret  ->  srt://:9000?mode=***&passphrase=***
std::string redact_url(std::string_view url);

// `text` with every URL in it ("scheme://" up to the next space, quote or
// angle bracket) passed through redact_url(): for messages from libraries.
std::string redact_urls_in_text(std::string_view text);

}  // namespace avmon
