#include "services/worker/remote/sftp_store.h"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace vigil::worker::remote {
namespace {

using storage::Status;
using storage::StatusOr;
using storage::StoreEntry;
using storage::StoreEntryType;

// ReadAt's pipeline: 64 KiB per READ (every server takes 32 KiB, OpenSSH up
// to 256 KiB; a server that answers short is asked again for the rest), 16
// in flight: 1 MiB, the hasher's read, in one window.
constexpr uint32_t kChunk = 64 * 1024;
constexpr size_t kDepth = 16;

// AES-GCM first: with AES-NI it costs less CPU than libssh's default
// chacha20-poly1305, and loopback or LAN reads are CPU-bound.
constexpr char kCiphers[] =
    "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,"
    "aes256-ctr";

struct KeyFree {
  void operator()(ssh_key k) const { ssh_key_free(k); }
};
using KeyPtr = std::unique_ptr<std::remove_pointer_t<ssh_key>, KeyFree>;

struct AttrFree {
  void operator()(sftp_attributes a) const { sftp_attributes_free(a); }
};
using AttrPtr = std::unique_ptr<std::remove_pointer_t<sftp_attributes>, AttrFree>;

std::string Fingerprint(ssh_key key) {
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) != 0) return "?";
  char* fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
  std::string out = fp != nullptr ? fp : "?";
  ssh_string_free_char(fp);
  ssh_clean_pubkey_hash(&hash);
  return out;
}

std::string KeyName(ssh_key key) {
  const char* n = ssh_key_type_to_char(ssh_key_type(key));
  return n != nullptr ? n : "unknown";
}

// "TYPE BASE64 [comment]" -> the key; InvalidArgument otherwise.
StatusOr<KeyPtr> ParsePinnedKey(const std::string& line) {
  std::istringstream in(line);
  std::string type, blob;
  in >> type >> blob;
  if (type.empty() || blob.empty()) {
    return absl::InvalidArgumentError("sftp host_key '" + line.substr(0, 80) +
                                      "' is not 'TYPE BASE64' (a .pub or known_hosts key)");
  }
  const ssh_keytypes_e t = ssh_key_type_from_name(type.c_str());
  if (t == SSH_KEYTYPE_UNKNOWN) {
    return absl::InvalidArgumentError("sftp host_key: unknown key type '" + type + "'");
  }
  ssh_key key = nullptr;
  if (ssh_pki_import_pubkey_base64(blob.c_str(), t, &key) != SSH_OK || key == nullptr) {
    return absl::InvalidArgumentError("sftp host_key: the " + type +
                                      " key does not decode (bad base64 or key blob)");
  }
  KeyPtr k(key);
  if (ssh_key_type(key) != t) {
    return absl::InvalidArgumentError("sftp host_key: declared " + type + " but the blob is a " +
                                      KeyName(key) + " key");
  }
  return k;
}

// Host key algorithms in the order the client offers them: the pinned type
// first, so a server that has a key of that type presents it (the server
// picks the first it supports); the others after, so a server without one
// still presents a key, and the mismatch names what it has.
std::string HostKeyOrder(ssh_key pinned) {
  std::vector<std::string> algos;
  switch (ssh_key_type(pinned)) {
    case SSH_KEYTYPE_RSA:
      algos = {"rsa-sha2-512", "rsa-sha2-256"};
      break;
    default:
      algos = {KeyName(pinned)};
  }
  for (const char* a : {"ssh-ed25519", "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp384",
                        "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"}) {
    if (std::find(algos.begin(), algos.end(), a) == algos.end()) algos.emplace_back(a);
  }
  std::string out;
  for (const auto& a : algos) out += (out.empty() ? "" : ",") + a;
  return out;
}

// libssh asks for a passphrase through this; the worker has none to give,
// so an encrypted key fails instead of prompting on a terminal.
int NoPassphrase(const char*, char*, size_t, int, int, void*) { return -1; }

// Shuts a session's socket down when an armed deadline passes: libssh's
// blocking SFTP calls loop on a timed-out channel read for ever, and a
// socket shut down is the one thing that ends them without touching the
// session from another thread.
class Watchdog {
 public:
  Watchdog() : thread_([this] { Loop(); }) {}
  ~Watchdog() {
    {
      MutexLock l(&mu_);
      stop_ = true;
    }
    cv_.SignalAll();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void Arm(int fd, std::chrono::milliseconds timeout) {
    {
      MutexLock l(&mu_);
      fd_ = fd;
      deadline_ = std::chrono::steady_clock::now() + timeout;
      armed_ = true;
      fired_ = false;
    }
    cv_.SignalAll();
  }
  // True if the deadline passed (the socket is shut down).
  bool Disarm() {
    MutexLock l(&mu_);
    armed_ = false;
    return fired_;
  }

 private:
  void Loop() {
    MutexLock l(&mu_);
    while (!stop_) {
      if (!armed_) {
        cv_.Wait(&mu_);
        continue;
      }
      if (std::chrono::steady_clock::now() >= deadline_) {
        ::shutdown(fd_, SHUT_RDWR);
        fired_ = true;
        armed_ = false;
        continue;
      }
      const auto deadline = deadline_;
      cv_.WaitUntil(&mu_, deadline, [this]() REQUIRES(mu_) { return stop_ || !armed_; });
    }
  }

  Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  bool armed_ GUARDED_BY(mu_) = false;
  bool fired_ GUARDED_BY(mu_) = false;
  int fd_ GUARDED_BY(mu_) = -1;
  std::chrono::steady_clock::time_point deadline_ GUARDED_BY(mu_);
  std::thread thread_;
};

// Arms the watchdog for one round trip.
class Deadline {
 public:
  Deadline(Watchdog* w, ssh_session s, std::chrono::milliseconds timeout) : w_(w) {
    w_->Arm(ssh_get_fd(s), timeout);
  }
  ~Deadline() { Disarm(); }
  // True if the deadline passed.
  bool Disarm() {
    if (!done_) {
      fired_ = w_->Disarm();
      done_ = true;
    }
    return fired_;
  }

 private:
  Watchdog* w_;
  bool done_ = false;
  bool fired_ = false;
};

// What one attempt came to: ok, a transient failure (retry on a new
// session) or a final answer.
struct Outcome {
  Status status;
  bool transient = false;
};

class SftpStore final : public storage::Store {
 public:
  SftpStore(SftpConfig config, std::string key_file, KeyPtr key, KeyPtr pinned,
            storage::RetryPolicy policy)
      : config_(std::move(config)),
        key_file_(std::move(key_file)),
        key_(std::move(key)),
        pinned_(std::move(pinned)),
        policy_(policy),
        rng_(std::random_device{}()) {
    describe_ =
        "sftp://" + config_.user + "@" +
        (config_.host.find(':') != std::string::npos ? "[" + config_.host + "]" : config_.host) +
        ":" + std::to_string(config_.port) + config_.path;
  }

  ~SftpStore() override {
    MutexLock l(&mu_);
    Drop(/*graceful=*/true);
  }

  std::string Describe() const override { return describe_; }

  // Connects (with retries) before the store is handed out.
  Status Open() {
    MutexLock l(&mu_);
    return Run("connect", [] { return Outcome{}; });
  }

  // Reads a page (one READDIR answer) under the lock, then hands it to
  // `each` without the lock, so `each` may call the store.
  Status List(std::string_view dir, const std::function<bool(StoreEntry&&)>& each) override {
    if (Status s = storage::CheckStorePath(dir, Describe() + ": List"); !s.ok()) return s;
    const std::string full = Full(dir);
    MutexLock l(&mu_);
    sftp_dir h = nullptr;
    std::vector<StoreEntry> page;
    bool eof = false;
    // Opening and the first page are retried together; later pages are
    // not (entries already handed out would come again).
    Status s = Run("list " + Shown(dir), [&]() REQUIRES(mu_) -> Outcome {
      page.clear();
      eof = false;
      Deadline d(&watchdog_, session_, policy_.timeout);
      counters_.requests.fetch_add(1, std::memory_order_relaxed);
      h = sftp_opendir(sftp_, full.c_str());
      if (h == nullptr) {
        const bool fired = d.Disarm();
        Outcome o = Failed("list", dir, fired);
        if (fired || !Alive()) return o;
        // Why it failed: OpenSSH answers NO_SUCH_FILE for a file (ENOTDIR),
        // other servers FAILURE; an LSTAT tells a file from nothing.
        Deadline d2(&watchdog_, session_, policy_.timeout);
        counters_.requests.fetch_add(1, std::memory_order_relaxed);
        AttrPtr a(sftp_lstat(sftp_, full.c_str()));
        if (a != nullptr && a->type != SSH_FILEXFER_TYPE_DIRECTORY) {
          return {
              absl::FailedPreconditionError(Describe() + ": " + Shown(dir) + " is not a directory"),
              false};
        }
        return o;
      }
      d.Disarm();
      open_dirs_.push_back(h);
      Outcome o = ReadPage(h, dir, &page, &eof);
      if (!o.status.ok()) CloseDir(h, !o.transient);
      return o;
    });
    if (!s.ok()) return s;
    const uint64_t generation = generation_;
    bool more = true;
    while (true) {
      l.Unlock();
      for (auto& e : page) {
        if (!each(std::move(e))) {
          more = false;
          break;
        }
      }
      l.Lock();
      page.clear();
      if (generation_ != generation) {
        // Another call reconnected; the handle went with the old session.
        if (!more || eof) return absl::OkStatus();
        return absl::UnavailableError(Describe() + ": list " + Shown(dir) +
                                      ": the connection was lost in the middle of the listing");
      }
      if (!more || eof) break;
      Outcome o = ReadPage(h, dir, &page, &eof);
      if (!o.status.ok()) {
        CloseDir(h, !o.transient);
        if (o.transient) Drop(/*graceful=*/false);
        return o.transient ? absl::UnavailableError(std::string(o.status.message()) +
                                                    " (in the middle of the listing)")
                           : o.status;
      }
    }
    CloseDir(h, true);
    return absl::OkStatus();
  }

  StatusOr<StoreEntry> Stat(std::string_view path) override {
    if (Status s = storage::CheckStorePath(path, Describe() + ": Stat"); !s.ok()) return s;
    const std::string full = Full(path);
    MutexLock l(&mu_);
    StoreEntry entry;
    Status s = Run("stat " + Shown(path), [&]() REQUIRES(mu_) -> Outcome {
      Deadline d(&watchdog_, session_, policy_.timeout);
      counters_.requests.fetch_add(1, std::memory_order_relaxed);
      AttrPtr a(sftp_lstat(sftp_, full.c_str()));
      if (a == nullptr) return Failed("stat", path, d.Disarm());
      d.Disarm();
      entry = ToEntry(*a, std::string(path));
      if (entry.type == StoreEntryType::kSymlink) return ReadLink(path, &entry.link_target);
      return {};
    });
    if (!s.ok()) return s;
    return entry;
  }

  StatusOr<size_t> ReadAt(std::string_view path, uint64_t offset, void* buf, size_t len) override {
    if (Status s = storage::CheckStorePath(path, Describe() + ": ReadAt"); !s.ok()) return s;
    if (path.empty()) {
      return absl::FailedPreconditionError(Describe() + ": ReadAt: the root is a directory");
    }
    if (len == 0) return size_t{0};
    const std::string full = Full(path);
    MutexLock l(&mu_);
    size_t got = 0;
    Status s = Run("read " + Shown(path), [&]() REQUIRES(mu_) -> Outcome {
      got = 0;
      if (Outcome o = OpenFile(path, full); !o.status.ok()) return o;
      return Pipeline(path, offset, static_cast<char*>(buf), len, &got);
    });
    if (!s.ok()) return s;
    counters_.bytes_read.fetch_add(got, std::memory_order_relaxed);
    return got;
  }

 private:
  std::string Full(std::string_view rel) const {
    if (rel.empty()) return config_.path;
    return config_.path == "/" ? "/" + std::string(rel) : config_.path + "/" + std::string(rel);
  }
  static std::string Shown(std::string_view rel) {
    return rel.empty() ? std::string("the root") : "'" + std::string(rel) + "'";
  }

  StoreEntry ToEntry(const sftp_attributes_struct& a, std::string name) const {
    StoreEntry e;
    e.name = std::move(name);
    switch (a.type) {
      case SSH_FILEXFER_TYPE_REGULAR:
        e.type = StoreEntryType::kFile;
        break;
      case SSH_FILEXFER_TYPE_DIRECTORY:
        e.type = StoreEntryType::kDirectory;
        break;
      case SSH_FILEXFER_TYPE_SYMLINK:
        e.type = StoreEntryType::kSymlink;
        break;
      default:
        e.type = StoreEntryType::kOther;
    }
    if ((a.flags & SSH_FILEXFER_ATTR_SIZE) != 0) e.size = a.size;
    // SFTP v3 (OpenSSH) sends whole seconds in `mtime`; v4+ the 64-bit
    // `mtime64` and, with SUBSECOND_TIMES, nanoseconds.
    if (a.mtime64 != 0) {
      e.mtime_ns = static_cast<int64_t>(a.mtime64) * 1'000'000'000 +
                   ((a.flags & SSH_FILEXFER_ATTR_SUBSECOND_TIMES) != 0 ? a.mtime_nseconds : 0);
    } else if ((a.flags & SSH_FILEXFER_ATTR_ACMODTIME) != 0) {
      e.mtime_ns = static_cast<int64_t>(a.mtime) * 1'000'000'000;
    }
    return e;
  }

  Outcome ReadLink(std::string_view rel, std::string* target) REQUIRES(mu_) {
    const std::string full = Full(rel);
    Deadline d(&watchdog_, session_, policy_.timeout);
    counters_.requests.fetch_add(1, std::memory_order_relaxed);
    char* t = sftp_readlink(sftp_, full.c_str());
    if (t == nullptr) return Failed("readlink", rel, d.Disarm());
    *target = t;
    ssh_string_free_char(t);
    return {};
  }

  // The entries of `h` up to the end of one READDIR answer (more than one
  // when an answer holds only "." and ".."), symbolic links resolved.
  Outcome ReadPage(sftp_dir h, std::string_view dir, std::vector<StoreEntry>* page, bool* eof)
      REQUIRES(mu_) {
    while (true) {
      if (h->buffer == nullptr) {
        if (!page->empty()) return {};
        counters_.requests.fetch_add(1, std::memory_order_relaxed);
      }
      Deadline d(&watchdog_, session_, policy_.timeout);
      AttrPtr a(sftp_readdir(sftp_, h));
      const bool fired = d.Disarm();
      if (a == nullptr) {
        if (sftp_dir_eof(h) != 0) {
          *eof = true;
          return {};
        }
        return Failed("list", dir, fired);
      }
      const std::string name = a->name != nullptr ? a->name : "";
      if (name.empty() || name == "." || name == "..") continue;
      StoreEntry e = ToEntry(*a, name);
      if (e.type == StoreEntryType::kSymlink) {
        if (Outcome o = ReadLink(storage::JoinStorePath(dir, name), &e.link_target);
            !o.status.ok()) {
          return o;
        }
      }
      page->push_back(std::move(e));
    }
  }

  // Closes a directory handle of this session: with a CLOSE round trip if
  // `answer` (the session is sound), else only freed (the socket is shut
  // down first so libssh does not wait on it).
  void CloseDir(sftp_dir h, bool answer) REQUIRES(mu_) {
    auto it = std::find(open_dirs_.begin(), open_dirs_.end(), h);
    if (it == open_dirs_.end()) return;  // freed with its session
    open_dirs_.erase(it);
    if (answer && Alive()) {
      Deadline d(&watchdog_, session_, policy_.timeout);
      counters_.requests.fetch_add(1, std::memory_order_relaxed);
      sftp_closedir(h);
      return;
    }
    ShutSocket();
    sftp_closedir(h);
  }

  void ShutSocket() REQUIRES(mu_) {
    const int fd = session_ != nullptr ? ssh_get_fd(session_) : -1;
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }

  // The cached handle is `full`'s, or it is replaced by a new one.
  Outcome OpenFile(std::string_view rel, const std::string& full) REQUIRES(mu_) {
    if (file_ != nullptr && file_path_ == full) return {};
    CloseFile();
    Deadline d(&watchdog_, session_, policy_.timeout);
    counters_.requests.fetch_add(1, std::memory_order_relaxed);
    sftp_file f = sftp_open(sftp_, full.c_str(), O_RDONLY, 0);
    if (f == nullptr) return Failed("open", rel, d.Disarm());
    d.Disarm();
    Deadline d2(&watchdog_, session_, policy_.timeout);
    counters_.requests.fetch_add(1, std::memory_order_relaxed);
    AttrPtr a(sftp_fstat(f));
    if (a == nullptr) {
      Outcome o = Failed("stat", rel, d2.Disarm());
      if (o.transient) ShutSocket();  // frees the handle without waiting for an answer
      sftp_close(f);
      return o;
    }
    if (a->type == SSH_FILEXFER_TYPE_DIRECTORY) {
      sftp_close(f);
      return {absl::FailedPreconditionError(Describe() + ": " + Shown(rel) + " is a directory"),
              false};
    }
    file_ = f;
    file_path_ = full;
    last_end_ = UINT64_MAX;
    // Reads stop at the size the file had when it was opened: a file that
    // changes while it is verified is caught by its digest, not chased.
    file_size_ = (a->flags & SSH_FILEXFER_ATTR_SIZE) != 0 ? a->size : UINT64_MAX;
    return {};
  }

  void CloseFile() REQUIRES(mu_) {
    if (file_ == nullptr) return;
    if (!DiscardAhead(file_path_).status.ok()) ShutSocket();
    Deadline d(&watchdog_, session_, policy_.timeout);
    counters_.requests.fetch_add(1, std::memory_order_relaxed);
    sftp_close(file_);
    file_ = nullptr;
    file_path_.clear();
  }

  // READs of [offset, offset+len) capped at the file's size, kDepth in
  // flight, answers taken in order. When a call goes on where the previous
  // one ended (a hasher reading a file 1 MiB at a time), READs run ahead of
  // it up to kDepth chunks, so the next call finds its first answers on the
  // way instead of an empty pipeline; an answer that runs past the caller's
  // range keeps its tail (carry_) for the next call. A short answer (a
  // server's smaller maximum, or the end of a file that shrank) drops what
  // is in flight and asks again from where it stopped; an EOF answer ends
  // the read.
  Outcome Pipeline(std::string_view rel, uint64_t offset, char* buf, size_t len, size_t* got)
      REQUIRES(mu_) {
    const bool sequential = offset == last_end_;
    last_end_ = UINT64_MAX;
    if (offset >= file_size_) return DiscardAhead(rel);
    const uint64_t end = offset + std::min<uint64_t>(len, file_size_ - offset);
    uint64_t pos = offset;  // bytes before pos are in buf
    if (!carry_.empty() && carry_pos_ == pos) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(carry_.size(), end - pos));
      std::memcpy(buf, carry_.data(), n);
      carry_.erase(0, n);
      carry_pos_ += n;
      pos += n;
    }
    if ((!carry_.empty() && carry_pos_ != pos) || (!ahead_.empty() && ahead_.front().pos != pos)) {
      if (Outcome o = DiscardAhead(rel); !o.status.ok()) return o;
    }
    const uint64_t horizon =
        sequential ? std::min<uint64_t>(end + uint64_t{kChunk} * kDepth, file_size_) : end;
    uint64_t next = ahead_.empty() ? pos : ahead_.back().pos + ahead_.back().len;
    scratch_.resize(kChunk);
    while (pos < end) {
      while (ahead_.size() < kDepth && next < horizon) {
        // Chunks end at `end` (then go on from it), so a caller reading
        // equal ranges never needs the carry.
        const uint64_t stop = next < end ? end : horizon;
        const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(kChunk, stop - next));
        sftp_seek64(file_, next);
        Deadline d(&watchdog_, session_, policy_.timeout);
        counters_.requests.fetch_add(1, std::memory_order_relaxed);
        const int id = sftp_async_read_begin(file_, n);
        if (id < 0) return Failed("read", rel, d.Disarm());
        ahead_.push_back({id, next, n});
        next += n;
      }
      if (ahead_.empty() || ahead_.front().pos != pos) {  // cannot happen
        return {absl::InternalError(Describe() + ": read " + Shown(rel) + ": pipeline out of step"),
                false};
      }
      const ReadReq r = ahead_.front();
      ahead_.pop_front();
      sftp_seek64(file_, r.pos);  // clears the handle's eof flag
      Deadline d(&watchdog_, session_, policy_.timeout);
      const int n = sftp_async_read(file_, scratch_.data(), r.len, r.id);
      const bool fired = d.Disarm();
      if (n < 0) {
        Outcome o = Failed("read", rel, fired);
        if (!o.transient) {
          if (Outcome dr = DiscardAhead(rel); dr.transient) return dr;
        }
        return o;
      }
      const size_t take = static_cast<size_t>(std::min<uint64_t>(n, end - pos));
      std::memcpy(buf + (pos - offset), scratch_.data(), take);
      pos += take;
      if (static_cast<uint32_t>(n) == r.len) {
        if (take < static_cast<size_t>(n)) {
          carry_.assign(scratch_.data() + take, n - take);
          carry_pos_ = pos;
        }
        continue;
      }
      // Short: what is in flight starts at the wrong place.
      if (Outcome dr = DiscardAhead(rel); !dr.status.ok()) return dr;
      if (n == 0) {  // EOF: the file ends at pos
        *got = pos - offset;
        return {};
      }
      next = pos;
    }
    *got = end - offset;
    last_end_ = end;
    return {};
  }

  // Takes (and throws away) the READ answers in flight on file_: libssh
  // keeps each until it is read. EOF sets the handle's eof flag, which makes
  // sftp_async_read answer 0 without reading; a seek clears it.
  Outcome DiscardAhead(std::string_view rel) REQUIRES(mu_) {
    carry_.clear();
    scratch_.resize(kChunk);
    while (!ahead_.empty()) {
      const ReadReq r = ahead_.front();
      ahead_.pop_front();
      sftp_seek64(file_, r.pos);
      Deadline d(&watchdog_, session_, policy_.timeout);
      if (sftp_async_read(file_, scratch_.data(), r.len, r.id) < 0 && (d.Disarm() || !Alive())) {
        ahead_.clear();
        return Failed("read", rel, d.Disarm());
      }
    }
    return {};
  }

  bool Alive() REQUIRES(mu_) {
    return session_ != nullptr && ssh_is_connected(session_) != 0 && sftp_ != nullptr &&
           ssh_channel_is_closed(sftp_->channel) == 0 && ssh_channel_is_eof(sftp_->channel) == 0;
  }

  // Why the SFTP call that just failed on `rel` failed.
  Outcome Failed(const char* op, std::string_view rel, bool timed_out) REQUIRES(mu_) {
    const std::string where = Describe() + ": " + op + " " + Shown(rel) + ": ";
    if (timed_out) {
      return {absl::UnavailableError(where + "no answer within " +
                                     std::to_string(policy_.timeout.count()) + " ms"),
              true};
    }
    if (!Alive()) {
      return {absl::UnavailableError(where + "connection lost (" + ssh_get_error(session_) + ")"),
              true};
    }
    switch (sftp_get_error(sftp_)) {
      case SSH_FX_NO_SUCH_FILE:
      case SSH_FX_NO_SUCH_PATH:
        return {absl::NotFoundError(where + "no such file or directory"), false};
      case SSH_FX_PERMISSION_DENIED:
        return {absl::PermissionDeniedError(where + "the server refused access"), false};
      default:
        // A server-side failure (FAILURE, an I/O error): try again, on a
        // new session.
        return {absl::UnavailableError(where + "the server failed (SFTP status " +
                                       std::to_string(sftp_get_error(sftp_)) + ": " +
                                       ssh_get_error(session_) + ")"),
                true};
    }
  }

  // Runs `attempt` on a connected session, retrying transient failures
  // (on a new session) under the policy.
  template <typename F>
  Status Run(const std::string& what, F&& attempt) REQUIRES(mu_) {
    const int attempts = std::max(policy_.attempts, 1);
    Status last;
    bool replaced_old = false;
    for (int i = 1;; ++i) {
      const bool old_session = sftp_ != nullptr;
      Outcome o = Connect();
      if (o.status.ok()) o = attempt();
      if (!o.transient) {
        if (session_ != nullptr && !Alive()) Drop(/*graceful=*/false);
        return o.status;
      }
      last = o.status;
      Drop(/*graceful=*/false);
      // A session that failed on its first use in this call may have died
      // while idle (a server restarted, an idle connection dropped): it is
      // replaced at once, not counted as one of the server's attempts.
      if (old_session && !replaced_old) {
        replaced_old = true;
        counters_.retries.fetch_add(1, std::memory_order_relaxed);
        --i;
        continue;
      }
      if (i >= attempts) break;
      counters_.retries.fetch_add(1, std::memory_order_relaxed);
      const auto wait =
          storage::BackoffDelay(policy_, i, std::uniform_real_distribution<double>(0, 1)(rng_));
      std::this_thread::sleep_for(wait);
    }
    return absl::UnavailableError(std::string(last.message()) + " (" + what + ": " +
                                  std::to_string(attempts) + " attempts)");
  }

  // One connection attempt, unless the session is up.
  Outcome Connect() REQUIRES(mu_) {
    if (sftp_ != nullptr) return {};
    const std::string addr = config_.host + ":" + std::to_string(config_.port);
    ssh_session s = ssh_new();
    if (s == nullptr) return {absl::ResourceExhaustedError("ssh_new failed"), false};
    session_ = s;
    const long secs = static_cast<long>(policy_.timeout.count() / 1000);
    const long usecs = static_cast<long>(policy_.timeout.count() % 1000) * 1000;
    const int port = config_.port;
    const int verbosity = SSH_LOG_NOLOG;
    const int no = 0;
    const std::string hostkeys = HostKeyOrder(pinned_.get());
    if (ssh_options_set(s, SSH_OPTIONS_HOST, config_.host.c_str()) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_PORT, &port) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_USER, config_.user.c_str()) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &secs) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usecs) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) != SSH_OK ||
        // The pinned key decides, never a known_hosts file, and nothing
        // from ~/.ssh/config changes where or how the store connects.
        ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, hostkeys.c_str()) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, kCiphers) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, kCiphers) != SSH_OK) {
      return {absl::InvalidArgumentError(Describe() +
                                         ": libssh refused an option: " + ssh_get_error(s)),
              false};
    }
    if (ssh_connect(s) != SSH_OK) {
      return {absl::UnavailableError(Describe() + ": cannot connect to " + addr + " (" +
                                     ssh_get_error(s) + ")"),
              true};
    }
    ssh_key presented = nullptr;
    if (ssh_get_server_publickey(s, &presented) != SSH_OK || presented == nullptr) {
      return {absl::UnavailableError(Describe() + ": the server at " + addr +
                                     " presented no host key (" + ssh_get_error(s) + ")"),
              true};
    }
    KeyPtr server_key(presented);
    if (ssh_key_cmp(pinned_.get(), presented, SSH_KEY_CMP_PUBLIC) != 0) {
      return {absl::FailedPreconditionError(
                  Describe() + ": the server at " + addr + " presented host key " +
                  KeyName(presented) + " " + Fingerprint(presented) + ", not the pinned " +
                  KeyName(pinned_.get()) + " " + Fingerprint(pinned_.get()) +
                  "; refused (if the server's key was changed on purpose, pin the new one)"),
              false};
    }
    Deadline d(&watchdog_, s, policy_.timeout);
    const int rc = ssh_userauth_publickey(s, nullptr, key_.get());
    const bool fired = d.Disarm();
    if (rc == SSH_AUTH_DENIED || rc == SSH_AUTH_PARTIAL) {
      return {absl::PermissionDeniedError(Describe() + ": the server refused key " + key_file_ +
                                          " for user " + config_.user),
              false};
    }
    if (rc != SSH_AUTH_SUCCESS) {
      return {absl::UnavailableError(
                  Describe() + ": authentication did not complete (" +
                  (fired ? "no answer within " + std::to_string(policy_.timeout.count()) + " ms"
                         : std::string(ssh_get_error(s))) +
                  ")"),
              true};
    }
    Deadline d2(&watchdog_, s, policy_.timeout);
    sftp_session sf = sftp_new(s);
    if (sf == nullptr || sftp_init(sf) != SSH_OK) {
      const bool late = d2.Disarm();
      const std::string why = ssh_get_error(s);
      const bool up = !late && ssh_is_connected(s) != 0;
      if (sf != nullptr) sftp_free(sf);
      if (up) {
        return {absl::FailedPreconditionError(Describe() + ": the server at " + addr +
                                              " offers no SFTP subsystem (" + why + ")"),
                false};
      }
      return {
          absl::UnavailableError(
              Describe() + ": starting SFTP failed (" +
              (late ? "no answer within " + std::to_string(policy_.timeout.count()) + " ms" : why) +
              ")"),
          true};
    }
    sftp_ = sf;
    return {};
  }

  // Ends the session. graceful: close the cached handle and say goodbye
  // (bounded by the timeout); otherwise the socket is shut down first so
  // nothing waits on a dead peer.
  void Drop(bool graceful) REQUIRES(mu_) {
    if (session_ == nullptr) return;
    if (graceful && Alive()) {
      CloseFile();
      while (!open_dirs_.empty()) CloseDir(open_dirs_.back(), true);
    } else {
      ShutSocket();
    }
    // The socket is down: these free without a round trip.
    for (sftp_dir h : open_dirs_) sftp_closedir(h);
    open_dirs_.clear();
    if (file_ != nullptr) sftp_close(file_);
    file_ = nullptr;
    file_path_.clear();
    ahead_.clear();
    carry_.clear();
    if (sftp_ != nullptr) sftp_free(sftp_);
    sftp_ = nullptr;
    if (graceful && ssh_is_connected(session_) != 0) ssh_disconnect(session_);
    ssh_free(session_);
    session_ = nullptr;
    ++generation_;
  }

  const SftpConfig config_;
  const std::string key_file_;
  const KeyPtr key_;
  const KeyPtr pinned_;
  const storage::RetryPolicy policy_;
  std::string describe_;
  Watchdog watchdog_;

  Mutex mu_;
  std::mt19937_64 rng_ GUARDED_BY(mu_);
  ssh_session session_ GUARDED_BY(mu_) = nullptr;
  sftp_session sftp_ GUARDED_BY(mu_) = nullptr;
  sftp_file file_ GUARDED_BY(mu_) = nullptr;  // the last ReadAt's file, open
  std::string file_path_ GUARDED_BY(mu_);
  uint64_t file_size_ GUARDED_BY(mu_) = 0;
  // READs in flight on file_, in offset order, and the tail of an answer
  // past the last caller's range (at carry_pos_).
  struct ReadReq {
    int id;
    uint64_t pos;
    uint32_t len;
  };
  std::deque<ReadReq> ahead_ GUARDED_BY(mu_);
  std::string carry_ GUARDED_BY(mu_);
  uint64_t carry_pos_ GUARDED_BY(mu_) = 0;
  uint64_t last_end_ GUARDED_BY(mu_) = UINT64_MAX;  // where the last ReadAt ended
  std::vector<char> scratch_ GUARDED_BY(mu_);
  std::vector<sftp_dir> open_dirs_ GUARDED_BY(mu_);  // Lists in progress
  uint64_t generation_ GUARDED_BY(mu_) = 0;          // sessions dropped
};

}  // namespace

storage::StatusOr<std::unique_ptr<storage::Store>> OpenSftpStore(
    const SftpConfig& config, const SshCredentials& credentials,
    const storage::RetryPolicy& policy) {
  static std::once_flag init;
  std::call_once(init, [] { ssh_init(); });

  if (config.host.empty()) return absl::InvalidArgumentError("sftp location: host is empty");
  if (config.user.empty()) return absl::InvalidArgumentError("sftp location: user is empty");
  if (config.port < 1 || config.port > 65535) {
    return absl::InvalidArgumentError("sftp location: port " + std::to_string(config.port) +
                                      " is not in 1..65535");
  }
  if (config.path.empty() || config.path[0] != '/' || config.path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("sftp location: path '" + config.path +
                                      "' is not an absolute path on the server");
  }
  SftpConfig c = config;
  while (c.path.size() > 1 && c.path.back() == '/') c.path.pop_back();

  auto pinned = ParsePinnedKey(c.host_key);
  if (!pinned.ok()) return pinned.status();

  const std::string& file = credentials.private_key_file;
  if (file.empty()) {
    return absl::FailedPreconditionError("sftp location: no private key file (--secrets)");
  }
  {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return absl::FailedPreconditionError("cannot read private key file " + file + ": " +
                                           std::strerror(errno));
    }
    ::close(fd);
  }
  ssh_key key = nullptr;
  if (ssh_pki_import_privkey_file(file.c_str(), nullptr, NoPassphrase, nullptr, &key) != SSH_OK ||
      key == nullptr) {
    return absl::FailedPreconditionError(
        "private key file " + file +
        " is not an unencrypted private key (an encrypted key is not supported: the worker "
        "has no passphrase to give)");
  }
  KeyPtr k(key);

  auto store = std::make_unique<SftpStore>(std::move(c), file, std::move(k),
                                           std::move(pinned).value(), policy);
  if (Status s = store->Open(); !s.ok()) return s;
  return std::unique_ptr<storage::Store>(std::move(store));
}

}  // namespace vigil::worker::remote
