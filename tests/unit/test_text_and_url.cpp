// UTF-8 repair (util/text) and URL redaction (util/url): what every output
// relies on to be valid and free of secrets.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/monitor.hpp"
#include "util/text.hpp"
#include "util/url.hpp"

namespace avmon {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Utf8, ValidTextIsKeptAsItIs) {
  for (std::string s : {"", "news", "Fran\xC3\xA7" "ais", "\xE2\x82\xAC 5", "\xF0\x9F\x8E\xAC clip", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(is_valid_utf8(s)) << s;
    EXPECT_EQ(valid_utf8(s), s);
  }
}

TEST(Utf8, EachMaximalInvalidSubpartBecomesOneReplacementCharacter) {
  EXPECT_EQ(valid_utf8("caf\xE9.ts"), "caf" + kFffd + ".ts");            // Latin-1
  EXPECT_EQ(valid_utf8("\xC0\xAF"), kFffd + kFffd);                      // overlong '/'
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);          // a surrogate
  EXPECT_EQ(valid_utf8("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // past U+10FFFF
  EXPECT_EQ(valid_utf8("a\xE2\x82"), "a" + kFffd);                       // truncated: one subpart
  EXPECT_EQ(valid_utf8("\xE2\x82" "b"), kFffd + "b");
  EXPECT_EQ(valid_utf8("\xFF\xFE"), kFffd + kFffd);
  EXPECT_EQ(valid_utf8(std::string("a\0b", 3)), std::string("a\0b", 3));  // NUL is valid UTF-8
  for (std::string s : {"caf\xE9", "\xC0\xAF", "\xED\xA0\x80", "a\xE2\x82", "\xFF"}) {
    EXPECT_FALSE(is_valid_utf8(s));
    EXPECT_TRUE(is_valid_utf8(valid_utf8(s)));
  }
}

TEST(Utf8, JsonTextReplacesInsteadOfThrowing) {
  nlohmann::json j = {{"stream", "caf\xE9"}, {"caf\xE9", 1}};
  EXPECT_THROW((void)j.dump(), nlohmann::json::type_error);
  std::string text = to_json_text(j);
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_EQ(nlohmann::json::parse(text)["stream"], "caf" + kFffd);
}

TEST(RedactUrl, UserinfoQueryValuesAndFragmentAreHidden) {
  EXPECT_EQ(redact_url("http://user:pass@cdn.example/live/index.m3u8?token=abc&sig=x1&hd"),
            "http://***@cdn.example/live/index.m3u8?token=***&sig=***&hd");
  EXPECT_EQ(redact_url("srt://:9000?mode=listener&passphrase=s3cret-pass"), "srt://:9000?mode=***&passphrase=***");
  EXPECT_EQ(redact_url("rtsp://admin:p@ss@10.0.0.9:554/stream1"), "rtsp://***@10.0.0.9:554/stream1");
  EXPECT_EQ(redact_url("https://host/a@b/c.ts#key=1"), "https://host/a@b/c.ts#***");
  EXPECT_EQ(redact_url("rtmp://user@host/app"), "rtmp://***@host/app");
}

TEST(RedactUrl, UrlsWithoutSecretsAndFilePathsAreUnchanged) {
  for (const char* u : {"udp://239.1.1.1:5000", "rtp://@239.1.1.1:5004", "http://host:8080/a/b.ts", "clip.mp4",
                        "/media/what?.mp4", "/media/user:pass@x.ts", "-"})
    EXPECT_EQ(redact_url(u), u);
  EXPECT_EQ(redact_url("file:/media/a?b.mp4"), "file:/media/a?b.mp4");
}

TEST(RedactUrl, TheResultIsValidUtf8) {
  EXPECT_EQ(redact_url("/media/caf\xE9.ts"), "/media/caf" + kFffd + ".ts");
  EXPECT_EQ(redact_url("http://h\xFF/x?k=\xFF"), "http://h" + kFffd + "/x?k=***");
}

TEST(RedactUrl, UrlsInsideLibraryMessagesAreRedactedToo) {
  EXPECT_EQ(redact_urls_in_text("keepalive request failed for 'https://u:p@cdn/s1.ts?sig=xyz' with error: 'EOF'"),
            "keepalive request failed for 'https://***@cdn/s1.ts?sig=***' with error: 'EOF'");
  EXPECT_EQ(redact_urls_in_text("Redirecting to rtmp://h/app?key=k1 and srt://x:9?passphrase=p then"),
            "Redirecting to rtmp://h/app?key=*** and srt://x:9?passphrase=*** then");
  EXPECT_EQ(redact_urls_in_text("no url here: a://"), "no url here: a://");
  EXPECT_EQ(redact_urls_in_text("Connection to tcp://127.0.0.1:5000 failed"), "Connection to tcp://127.0.0.1:5000 failed");
}

TEST(StreamName, DerivedFromHostAndPathNeverFromSecrets) {
  EXPECT_EQ(stream_name_from_url("http://user:pass@cdn.example:8080/live/news.m3u8?token=abc"),
            "cdn.example-8080-live-news.m3u8");
  EXPECT_EQ(stream_name_from_url("srt://10.0.0.5:9000?passphrase=s3cret&mode=caller"), "10.0.0.5-9000");
  EXPECT_EQ(stream_name_from_url("rtsp://admin:p@ss@cam1/stream#frag"), "cam1-stream");
  EXPECT_EQ(stream_name_from_url("/media/news.mp4"), "news.mp4");
  EXPECT_EQ(stream_name_from_url("udp://@239.1.1.1:5000"), "239.1.1.1-5000");
}

}  // namespace
}  // namespace avmon
