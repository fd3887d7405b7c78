// Standard Webhooks: the body is the event line; webhook-id is the delivery
// id (the same on every retry, so receivers can deduplicate), the timestamp
// is the attempt's, and the signature covers "id.timestamp.body".
#include <chrono>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "notify/http_client.hpp"
#include "notify/notifier.hpp"
#include "util/url.hpp"

namespace avmon {

namespace {

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

std::string unbase64(const std::string& in) {
  std::string out(3 * ((in.size() + 3) / 4), '\0');
  int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (len < 0) throw std::invalid_argument("webhook secret: not base64 after 'whsec_'");
  // EVP_DecodeBlock counts the '=' padding as zero bytes.
  std::size_t pad = 0;
  for (auto it = in.rbegin(); it != in.rend() && *it == '='; ++it) ++pad;
  out.resize(static_cast<std::size_t>(len) - pad);
  return out;
}

// The signing key: base64 after "whsec_" (the spec's form); any other string
// is taken as the raw key.
std::string secret_key(const std::string& secret) {
  const std::string prefix = "whsec_";
  return secret.rfind(prefix, 0) == 0 ? unbase64(secret.substr(prefix.size())) : secret;
}

class Webhook final : public Transport {
 public:
  Webhook(const std::string& url, const std::string& secret, double timeout_s, const std::string& ca_file, bool paging)
      : url_text_(redact_url(url)), url_(parse_http_url(url)), secret_(secret), timeout_s_(timeout_s), ca_file_(ca_file),
        paging_(paging) {
    if (!secret_.empty()) secret_key(secret_);  // fails early on a malformed secret
  }
  std::string name() const override { return "webhook"; }
  void cancel() override { cancel_.cancel(); }

  SendResult send(const Delivery& d) override {
    if (paging_ && paging_skips(d.event, false)) return SendResult::ok();
    std::string body = event_line(d.event);
    std::string ts = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    std::map<std::string, std::string> headers = {{"webhook-id", d.id}, {"webhook-timestamp", ts}};
    if (!secret_.empty()) headers["webhook-signature"] = webhook_signature(secret_, d.id, ts, body);
    HttpReply r = http_post(url_, headers, body, timeout_s_, ca_file_, &cancel_);
    if (r.status == 0) return SendResult::retry(r.error);
    if (r.status >= 200 && r.status < 300) return SendResult::ok();
    std::string what = url_text_ + " answered " + std::to_string(r.status);
    if (r.status == 410) return {SendResult::Outcome::Disable, -1, what + " (Gone)"};
    if (r.status == 429 || r.status == 408 || r.status >= 500) return SendResult::retry(what, r.retry_after_s);
    return {SendResult::Outcome::Reject, -1, what + ": " + r.body.substr(0, 200)};
  }

 private:
  std::string url_text_;  // for messages: a receiver URL may carry a token too
  HttpUrl url_;
  std::string secret_;
  double timeout_s_;
  std::string ca_file_;
  bool paging_;
  HttpCancel cancel_;
};

}  // namespace

std::string webhook_signature(const std::string& secret, const std::string& id, const std::string& timestamp,
                              const std::string& body) {
  std::string key = secret_key(secret);
  std::string content = id + "." + timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(content.data()),
       content.size(), mac, &mac_len);
  return "v1," + base64(mac, mac_len);
}

std::unique_ptr<Transport> make_webhook_transport(const std::string& url, const std::string& secret,
                                                  double timeout_s, const std::string& ca_file, bool paging) {
  return std::make_unique<Webhook>(url, secret, timeout_s, ca_file, paging);
}

}  // namespace avmon
