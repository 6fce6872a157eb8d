#include "services/coordinator/delivery.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "services/common/text.h"
#include "services/common/time.h"
#include "services/coordinator/alerts.h"
#include "storage/hex.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

namespace {

std::string KindLabel(const std::string& kind) {
  if (kind == "rpo") return "RPO";
  if (kind == "restore_drill") return "restore drill";
  return kind;
}

std::string EventWord(const v1::Alert& a) {
  if (a.event() == "fail") return "failing";
  if (a.event() == "silent") return "silent";
  if (a.event() == "recovery") return "recovered";
  if (a.event() == "reminder") return a.to() == "silent" ? "still silent" : "still failing";
  return a.event();
}

// libcurl's global state, set up once for the process.
void CurlGlobalInit() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

struct Upload {
  std::string_view data;
  size_t pos = 0;
};
size_t ReadUpload(char* buf, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  size_t len = std::min(size * n, u->data.size() - u->pos);
  std::memcpy(buf, u->data.data() + u->pos, len);
  u->pos += len;
  return len;
}

}  // namespace

std::string AlertJson(const v1::Alert& a) {
  nlohmann::ordered_json j;
  j["id"] = a.id();
  j["tenant"] = a.tenant();
  j["asset"] = a.asset();
  j["kind"] = a.kind();
  j["event"] = a.event();
  j["from"] = a.from();
  j["to"] = a.to();
  j["at"] = FormatTimeUtc(a.at_ns());
  j["at_ns"] = a.at_ns();
  j["summary"] = a.summary();
  nlohmann::ordered_json ev = nlohmann::ordered_json::array();
  for (const auto& e : a.evidence()) {
    ev.push_back({{"name", e.name()}, {"value", e.value()}, {"basis", e.basis()}});
  }
  j["evidence"] = std::move(ev);
  if (a.has_point()) {
    // Kind "ransomware": the flagged point. Names and paths are bytes: as
    // UTF-8 (invalid bytes replaced) and base64, exact.
    const v1::PointAlert& p = a.point();
    nlohmann::ordered_json signals = nlohmann::ordered_json::array();
    for (const v1::PointSignal& sig : p.signals()) {
      nlohmann::ordered_json ex = nlohmann::ordered_json::array();
      for (const std::string& e : sig.examples()) ex.push_back(e);
      signals.push_back({{"kind", sig.kind()},
                         {"message", sig.message()},
                         {"count", sig.count()},
                         {"threshold", sig.threshold()},
                         {"examples", std::move(ex)}});
    }
    nlohmann::ordered_json pj;
    pj["backup_set"] = p.backup_set();
    pj["name"] = p.point_name();
    pj["name_base64"] = Base64Encode(p.point_name());
    pj["time"] = FormatTimeUtc(p.point_ns());
    pj["time_ns"] = p.point_ns();
    pj["verdict"] = p.verdict();
    pj["signals"] = std::move(signals);
    pj["compared_with_ns"] = p.compared_with_ns();
    j["point"] = std::move(pj);
    if (p.last_clean_ns() != 0 || !p.last_clean_name().empty()) {
      j["last_clean_point"] = {{"name", p.last_clean_name()},
                               {"name_base64", Base64Encode(p.last_clean_name())},
                               {"time", FormatTimeUtc(p.last_clean_ns())},
                               {"time_ns", p.last_clean_ns()}};
    } else {
      j["last_clean_point"] = nullptr;
    }
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return storage::HexEncode({reinterpret_cast<const char*>(out), len});
}

std::string MailSubject(const v1::Alert& a) {
  if (a.has_point()) {
    return "[Vigil] " + a.tenant() + ": restore point " +
           EscapeForTerminal(a.point().point_name()) + " of " + a.point().backup_set() + " " +
           a.event() + " (ransomware signals)";
  }
  if (a.kind() == "worker") return "[Vigil] workers of location " + a.asset() + " " + EventWord(a);
  return "[Vigil] " + a.tenant() + ": " + a.asset() + " " + KindLabel(a.kind()) + " " +
         EventWord(a);
}

std::string MailMessage(const v1::Alert& a, const std::string& from,
                        const std::vector<std::string>& to) {
  std::string m;
  char date[64];
  std::time_t t = static_cast<std::time_t>(a.at_ns() / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string to_line;
  for (const auto& r : to) to_line += (to_line.empty() ? "" : ", ") + r;
  m += "Date: " + std::string(date) + "\r\n";
  m += "From: " + from + "\r\n";
  m += "To: " + to_line + "\r\n";
  m += "Subject: " + MailSubject(a) + "\r\n";
  m += "Message-ID: <" + a.id() + "@vigil>\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n\r\n";
  std::string body;
  if (a.kind() == "worker") {
    body += "Workers of location: " + a.asset() + "\n";
  } else {
    body += "Tenant: " + a.tenant() +
            (a.tenant_display().empty() ? "" : " (" + a.tenant_display() + ")") + "\n";
    body += "Asset: " + a.asset() + "\nCommitment: " + KindLabel(a.kind()) + "\n";
  }
  body += "Change: " + (a.from().empty() ? std::string("(first seen)") : a.from()) + " -> " +
          a.to() + " (" + a.event() + ")\n";
  body += "At: " + FormatTimeUtc(a.at_ns()) + "\n\n" + a.summary() + "\n";
  if (a.evidence_size() > 0) {
    body += "\nEvidence:\n";
    for (const auto& e : a.evidence()) {
      body += "  - " + e.name() + ": " + e.value() +
              (e.basis().empty() ? "" : " (" + e.basis() + ")") + "\n";
    }
  }
  if (a.has_point()) {
    body += "\nSignals:\n";
    for (const v1::PointSignal& sig : a.point().signals()) {
      body += "  - " + sig.kind() + ": " + sig.message() + "\n";
      for (const std::string& e : sig.examples()) body += "      " + EscapeForTerminal(e) + "\n";
    }
  }
  body += "\nAlert id: " + a.id() + "\n";
  // CRLF line ends; a line starting with "." is dot-stuffed by libcurl.
  for (char c : body) {
    if (c == '\n') {
      m += "\r\n";
    } else if (c != '\r') {
      m.push_back(c);
    }
  }
  return m;
}

Deliverer::Deliverer(storage::KvStore* kv, Clock* clock, DeliveryOptions options)
    : kv_(kv), clock_(clock), options_(std::move(options)) {
  CurlGlobalInit();
}

Deliverer::~Deliverer() { Stop(); }

StatusOr<std::string> Deliverer::Secret(const std::string& name) {
  if (options_.secrets_dir.empty()) {
    return absl::FailedPreconditionError("secret '" + name +
                                         "' needed but the coordinator has no --secrets directory");
  }
  std::string path = options_.secrets_dir + "/" + name;
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError("secret file '" + path + "' cannot be read");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) return absl::FailedPreconditionError("secret file '" + path + "' is empty");
  return s;
}

Status Deliverer::SendWebhook(const v1::Alert& a, const v1::AlertChannel& c) {
  auto key = Secret(c.secret());
  if (!key.ok()) return key.status();
  std::string body = AlertJson(a);
  std::string ts = std::to_string(clock_->NowNs() / 1'000'000'000);
  std::string sig = HmacSha256Hex(*key, ts + "." + body);
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, ("X-Vigil-Timestamp: " + ts).c_str());
  headers = curl_slist_append(headers, ("X-Vigil-Signature: sha256=" + sig).c_str());
  headers = curl_slist_append(headers, ("X-Vigil-Alert-Id: " + a.id()).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, c.webhook_url().c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return absl::UnavailableError("webhook " + c.webhook_url() + ": " + curl_easy_strerror(rc));
  }
  if (code < 200 || code > 299) {
    return absl::UnavailableError("webhook " + c.webhook_url() + " answered HTTP " +
                                  std::to_string(code));
  }
  return absl::OkStatus();
}

Status Deliverer::SendMail(const v1::Delivery& d, const v1::AlertChannel& c) {
  std::vector<std::string> to;
  if (!d.contact().empty()) {
    to.push_back(d.contact());
  } else {
    to.assign(c.email_to().begin(), c.email_to().end());
  }
  std::string password;
  if (!c.smtp_user().empty()) {
    auto p = Secret(c.password_secret());
    if (!p.ok()) return p.status();
    password = std::move(*p);
  }
  std::string message = MailMessage(d.alert(), c.from(), to);
  Upload up{message};
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  curl_slist* rcpt = nullptr;
  for (const auto& r : to) rcpt = curl_slist_append(rcpt, ("<" + r + ">").c_str());
  curl_easy_setopt(curl, CURLOPT_URL, c.smtp_url().c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, ("<" + c.from() + ">").c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &up);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  if (c.starttls()) curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!c.smtp_user().empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, c.smtp_user().c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, password.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return absl::UnavailableError("smtp " + c.smtp_url() + ": " + curl_easy_strerror(rc));
  }
  return absl::OkStatus();
}

Status Deliverer::Send(const v1::Delivery& d, const v1::AlertChannel& channel) {
  if (!channel.webhook_url().empty()) return SendWebhook(d.alert(), channel);
  return SendMail(d, channel);
}

StatusOr<int> Deliverer::RunOnce() {
  auto pending = LoadDeliveries(kv_, false);
  if (!pending.ok()) return pending.status();
  if (pending->empty()) return 0;
  auto loaded = LoadAlertChannels(kv_);
  if (!loaded.ok()) return loaded.status();
  std::map<std::string, v1::AlertChannel> channels;
  for (auto& c : *loaded) channels[c.name()] = std::move(c);
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int delivered = 0;
  // A channel that just failed is not tried again in this pass: a receiver
  // that hangs costs one timeout per pass, not one per pending alert, and
  // the other channels' alerts are not held behind it.
  std::set<std::string> failed_now;
  for (v1::Delivery& d : *pending) {
    int64_t now = clock_->NowNs();
    if (d.next_attempt_ns() > now || failed_now.count(d.channel()) != 0) continue;
    {
      MutexLock lock(&mu_);
      if (stop_) break;
    }
    auto it = channels.find(d.channel());
    Status sent = it == channels.end()
                      ? absl::NotFoundError("alert channel '" + d.channel() + "' is not applied")
                      : Send(d, it->second);
    now = clock_->NowNs();
    storage::KvBatch batch;
    std::string old_key = DeliveryKey(d, false);
    d.set_attempts(d.attempts() + 1);
    bool done = false;
    if (sent.ok()) {
      d.set_delivered_ns(now);
      d.clear_last_error();
      done = true;
      ++delivered;
    } else {
      d.set_last_error(std::string(sent.message()));
      failed_now.insert(d.channel());
      int64_t next = now + BackoffDelayNs(d.attempts(), options_.base_backoff_ns,
                                          options_.max_backoff_ns, unit(rng));
      if (next - d.created_ns() > options_.max_age_ns) {
        d.set_failed_ns(now);
        done = true;
        std::fprintf(
            stderr, "vigil coordinator: alert %s to %s%s%s given up after %u attempts: %s\n",
            d.alert().id().c_str(), d.channel().c_str(), d.contact().empty() ? "" : " for ",
            d.contact().c_str(), d.attempts(), d.last_error().c_str());
      } else {
        d.set_next_attempt_ns(next);
      }
    }
    if (done) {
      batch.Delete(Space::kMeta, old_key);
      batch.Put(Space::kMeta, DeliveryKey(d, true), d.SerializeAsString());
    } else {
      batch.Put(Space::kMeta, old_key, d.SerializeAsString());
    }
    if (Status w = kv_->Write(batch, {.sync = true}); !w.ok()) return w;
  }
  return delivered;
}

void Deliverer::Start() {
  thread_ = std::thread([this] {
    MutexLock lock(&mu_);
    while (!stop_) {
      woken_ = false;
      lock.Unlock();
      auto r = RunOnce();
      if (!r.ok()) {
        std::fprintf(stderr, "vigil coordinator: alert delivery: %s\n",
                     std::string(r.status().message()).c_str());
      }
      lock.Lock();
      cv_.WaitFor(&mu_, std::chrono::milliseconds(options_.poll_ms),
                  [this]() REQUIRES(mu_) { return stop_ || woken_; });
    }
  });
}

void Deliverer::Wake() {
  {
    MutexLock lock(&mu_);
    woken_ = true;
  }
  cv_.SignalAll();
}

void Deliverer::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

}  // namespace vigil::coordinator
