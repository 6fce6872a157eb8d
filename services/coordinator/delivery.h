// Delivery of the alerts in the outbox (alerts.h): webhooks (JSON POST,
// HMAC-SHA256 signed) and e-mail (SMTP), both through libcurl, on one
// thread of its own. A delivery is moved out of the outbox only once the
// receiver acknowledged it (HTTP 2xx, SMTP accepted) or once it is older
// than max_age_ns (then marked failed and logged); in between it is retried
// with exponential backoff and jitter. The outbox is in RocksDB: pending
// deliveries survive a restart. docs/alerts.md has the webhook schema.
#pragma once

#include <cstdint>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "services/coordinator/clock.h"
#include "storage/kv.h"
#include "storage/status.h"
#include "vigil/v1/alerts.pb.h"

namespace vigil::coordinator {

struct DeliveryOptions {
  // Directory of the secret files named by alert channels (HMAC keys, SMTP
  // passwords): one file per secret, its content the secret (a trailing
  // newline is dropped). Read at each send, so a rotation needs no restart.
  std::string secrets_dir;
  // Backoff: first retry after ~base, doubling up to cap (jittered).
  int64_t base_backoff_ns = 2'000'000'000;   // 2 s
  int64_t max_backoff_ns = 600'000'000'000;  // 10 min
  int64_t max_age_ns = 86'400'000'000'000;   // 24 h, then failed
  // Per attempt: connect within / finish within, ms.
  int connect_timeout_ms = 5000;
  int timeout_ms = 15000;
  // How often the thread looks at the outbox when not woken, ms.
  int poll_ms = 1000;
};

// The webhook body (docs/alerts.md): one JSON object.
std::string AlertJson(const v1::Alert& a);
// Lowercase hex HMAC-SHA256 of `data` under `key` (OpenSSL).
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// "[Vigil] acme: fileserver RPO failing"
std::string MailSubject(const v1::Alert& a);
// The plain-text mail: headers (From, To, Subject, Date, Message-ID,
// Content-Type) and body, CRLF line ends.
std::string MailMessage(const v1::Alert& a, const std::string& from,
                        const std::vector<std::string>& to);

class Deliverer {
 public:
  // `kv` and `clock` are not owned and outlive this.
  Deliverer(storage::KvStore* kv, Clock* clock, DeliveryOptions options);
  ~Deliverer();  // Stop()
  Deliverer(const Deliverer&) = delete;
  Deliverer& operator=(const Deliverer&) = delete;

  // One pass: tries every pending delivery whose time has come, oldest
  // first. Returns how many were delivered. Errors are storage errors only
  // (a failed send is recorded on the delivery).
  storage::StatusOr<int> RunOnce();

  // Sends one delivery now; OK once the receiver acknowledged it.
  storage::Status Send(const v1::Delivery& d, const v1::AlertChannel& channel);

  // The background thread: RunOnce every poll_ms, or sooner after Wake().
  void Start();
  void Wake();
  void Stop();

 private:
  storage::Status SendWebhook(const v1::Alert& a, const v1::AlertChannel& c);
  storage::Status SendMail(const v1::Delivery& d, const v1::AlertChannel& c);
  storage::StatusOr<std::string> Secret(const std::string& name);

  storage::KvStore* kv_;
  Clock* clock_;
  DeliveryOptions options_;
  std::thread thread_;
  Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  bool woken_ GUARDED_BY(mu_) = false;
};

}  // namespace vigil::coordinator
