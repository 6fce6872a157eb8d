// The observation stream of one task attempt (stream.h).
#include "services/worker/stream.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "services/worker/connection.h"

namespace vigil::worker {
namespace {

using std::chrono::milliseconds;

class Stream final : public ObservationSink {
 public:
  static constexpr size_t kWindow = 8;
  static constexpr int64_t kBlockedLimitMs = 60'000;

  Stream(Connection* c, TaskHost* host, Attempt* a)
      : c_(c),
        host_(host),
        task_(a->task.id()),
        attempt_(a->task.attempt()),
        lost_(&a->lost),
        heartbeat_ok_ms_(&a->heartbeat_ok_ms),
        ttl_ms_(std::max<int64_t>(100, c->ttl_ms())),
        watchdog_([this] { Watch(); }) {}
  ~Stream() override {
    Close();
    {
      MutexLock lock(&wd_mu_);
      wd_stop_ = true;
    }
    wd_cv_.SignalAll();
    watchdog_.join();
  }

  // Sends one batch; returns once at most kWindow - 1 are unacknowledged,
  // reconnecting and resending as needed.
  Outcome Send(const v1::ObservationBatch& b) override {
    unacked_.push_back(b);
    return Pump(kWindow - 1);
  }
  // Returns once every batch sent is acknowledged.
  Outcome Flush() override { return Pump(0); }

  void Close() override {
    if (rw_ == nullptr) return;
    (void)ShutDown();
  }

 private:
  static int64_t NowMs() {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // Marks the calling thread as waiting in a gRPC call (the watchdog's
  // clock) for the scope.
  class Blocked {
   public:
    explicit Blocked(Stream* s) : s_(s) {
      MutexLock lock(&s_->wd_mu_);
      s_->blocked_since_ms_ = NowMs();
    }
    ~Blocked() {
      MutexLock lock(&s_->wd_mu_);
      s_->blocked_since_ms_ = 0;
    }
    Blocked(const Blocked&) = delete;
    Blocked& operator=(const Blocked&) = delete;

   private:
    Stream* s_;
  };

  void Open() {
    ctx_ = std::make_unique<grpc::ClientContext>();
    c_->Prepare(ctx_.get(), 0);
    {
      // Cancellable from here on: ClientContext::TryCancel before the
      // call exists cancels it as it starts.
      MutexLock lock(&wd_mu_);
      call_ctx_ = ctx_.get();
      cancelled_.clear();
    }
    Blocked b(this);
    rw_ = c_->stub()->Observe(ctx_.get());
  }

  // Drops the acknowledged batches (acks are cumulative).
  void Apply(const v1::Ack& ack) {
    while (!unacked_.empty() && unacked_.front().seq() <= ack.seq()) {
      unacked_.pop_front();
      if (written_ > 0) --written_;
      broken_since_ms_ = 0;
    }
  }

  // Ends the call: WritesDone, the acks still on their way read and
  // applied, then Finish (which waits for ever while a message is left
  // unread). Returns the call's status.
  grpc::Status ShutDown() {
    {
      Blocked b(this);
      rw_->WritesDone();
    }
    for (v1::Ack ack;;) {
      bool ok;
      {
        Blocked b(this);
        ok = rw_->Read(&ack);
      }
      if (!ok) break;
      Apply(ack);
    }
    grpc::Status s;
    {
      Blocked b(this);
      s = rw_->Finish();
    }
    {
      MutexLock lock(&wd_mu_);
      call_ctx_ = nullptr;
      if (!cancelled_.empty()) {
        s = grpc::Status(grpc::StatusCode::UNAVAILABLE, "cancelled: " + cancelled_);
      }
    }
    rw_.reset();
    ctx_.reset();
    written_ = 0;  // a new stream resends every unacknowledged batch
    return s;
  }

  Outcome Pump(size_t max_unacked) {
    int backoff_ms = 100;
    while (true) {
      if (written_ == unacked_.size() && unacked_.size() <= max_unacked) return {};
      if (*lost_) return {Outcome::kLost, "", 0};
      if (host_->stopped()) return {Outcome::kStopped, "", 0};
      if (Stalled()) {
        return {Outcome::kError,
                "no observation batch acknowledged for " +
                    std::to_string((NowMs() - broken_since_ms_) / 1000) +
                    " s while the lease stayed alive" +
                    (last_error_.empty() ? std::string() : " (last error: " + last_error_ + ")"),
                0};
      }
      if (rw_ == nullptr) Open();
      bool ok = true;
      while (ok && written_ < unacked_.size()) {
        {
          Blocked b(this);
          ok = rw_->Write(unacked_[written_]);
        }
        if (ok) ++written_;
      }
      while (ok && unacked_.size() > max_unacked) {
        v1::Ack ack;
        {
          Blocked b(this);
          ok = rw_->Read(&ack);
        }
        if (ok) Apply(ack);
      }
      if (ok) return {};
      grpc::Status s = ShutDown();
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
          s.error_code() == grpc::StatusCode::NOT_FOUND) {
        host_->Log("batch refused, lease lost: " + s.error_message());
        *lost_ = true;
        return {Outcome::kLost, "", 0};
      }
      if (!Retryable(s.error_code()) && !s.ok()) {
        return {Outcome::kError, "observation batch refused: " + s.error_message(), 0};
      }
      if (unacked_.empty()) continue;            // the last acks came with the shutdown
      if (*lost_ || host_->stopped()) continue;  // said at the top of the loop
      if (broken_since_ms_ == 0) broken_since_ms_ = NowMs();
      // Said when the reason changes, then every 30 s while it lasts.
      const int64_t now = NowMs();
      if (s.error_message() != last_error_ || now - last_logged_ms_ >= 30'000) {
        host_->Log(
            "observation stream broken (" + s.error_message() + "), resending batch " +
            std::to_string(unacked_.front().seq()) +
            (unacked_.size() > 1 ? "-" + std::to_string(unacked_.back().seq()) : std::string()) +
            " of task " + std::to_string(task_) + " attempt " + std::to_string(attempt_) +
            " with backoff");
        last_logged_ms_ = now;
      }
      last_error_ = s.error_message();
      host_->Sleep(backoff_ms);
      backoff_ms = std::min(backoff_ms * 2, 2000);
    }
  }

  // Streams broken over and over for ten lease TTLs, no batch
  // acknowledged meanwhile, although the last heartbeat (within a TTL)
  // succeeded: the coordinator keeps the lease but takes nothing. Time
  // spent outside Pump (reading files) does not count.
  bool Stalled() const {
    if (broken_since_ms_ == 0) return false;
    const int64_t now = NowMs();
    return now - broken_since_ms_ > 10 * ttl_ms_ && now - heartbeat_ok_ms_->load() < ttl_ms_;
  }

  // The watchdog (see stream.h).
  void Watch() {
    const int64_t limit_ms = std::max<int64_t>(kBlockedLimitMs, 2 * ttl_ms_);
    MutexLock lock(&wd_mu_);
    while (!wd_stop_) {
      wd_cv_.WaitFor(&wd_mu_, milliseconds(100));
      if (call_ctx_ == nullptr || !cancelled_.empty() || blocked_since_ms_ == 0) continue;
      const int64_t blocked = NowMs() - blocked_since_ms_;
      if (*lost_) {
        cancelled_ = "the lease is lost";
      } else if (blocked >= 2000 && host_->stopped()) {
        cancelled_ = "the worker is stopping";
      } else if (blocked >= limit_ms) {
        cancelled_ = "no answer from the coordinator for " + std::to_string(blocked / 1000) + " s";
      } else {
        continue;
      }
      call_ctx_->TryCancel();
      host_->Log("observation stream of task " + std::to_string(task_) + " attempt " +
                 std::to_string(attempt_) + " cancelled: " + cancelled_);
    }
  }

  Connection* c_;
  TaskHost* host_;
  uint64_t task_;
  uint32_t attempt_;
  std::atomic<bool>* lost_;
  const std::atomic<int64_t>* heartbeat_ok_ms_;  // steady ms of the last good heartbeat
  const int64_t ttl_ms_;
  std::deque<v1::ObservationBatch> unacked_;  // sent or to send, ascending seq
  size_t written_ = 0;                        // of unacked_, written on this stream
  int64_t broken_since_ms_ = 0;               // first broken stream since the last ack
  std::string last_error_;                    // of the last broken stream
  int64_t last_logged_ms_ = 0;
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ObservationBatch, v1::Ack>> rw_;
  Mutex wd_mu_;
  CondVar wd_cv_;
  grpc::ClientContext* call_ctx_ GUARDED_BY(wd_mu_) = nullptr;  // live call, or null
  int64_t blocked_since_ms_ GUARDED_BY(wd_mu_) = 0;             // 0 = not in a call
  std::string cancelled_ GUARDED_BY(wd_mu_);                    // why the call was cancelled
  bool wd_stop_ GUARDED_BY(wd_mu_) = false;
  std::thread watchdog_;  // last: started once the rest is set
};

}  // namespace

std::unique_ptr<ObservationSink> OpenObservationStream(Connection* connection, TaskHost* host,
                                                       Attempt* attempt) {
  return std::make_unique<Stream>(connection, host, attempt);
}

}  // namespace vigil::worker
