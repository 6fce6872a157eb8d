// Restore drills (drill.h).
#include "services/worker/drill.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "services/common/text.h"
#include "services/contracts/restore_points.h"
#include "services/worker/format_tasks.h"
#include "services/worker/formats/file_source.h"
#include "services/worker/formats/restic_parse.h"
#include "services/worker/formats/restic_restore.h"
#include "services/worker/formats/safe_io.h"
#include "services/worker/set_dir.h"
#include "storage/file_hasher.h"
#include "storage/key_codec.h"
#include "storage/local_store.h"
#include "storage/open_beneath.h"

namespace vigil::worker {
namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The drill's own directory in the scratch, fresh and private (whatever an
// earlier attempt left there is removed first). When this goes, the
// directory is removed with everything in it and `owned_fd` (a descriptor
// the drill holds for its duration, if any) is closed.
struct DrillDir {
  std::string path;
  int owned_fd = -1;
  DrillDir() = default;
  DrillDir(const DrillDir&) = delete;
  DrillDir& operator=(const DrillDir&) = delete;
  ~DrillDir() {
    if (owned_fd >= 0) close(owned_fd);
    if (path.empty()) return;
    std::error_code e;
    std::filesystem::remove_all(path, e);
  }
};

// Creates task's drill directory in the scratch; "" or why it could not.
std::string CreateDrillDir(TaskHost* host, const v1::Task& task, DrillDir* d) {
  d->path = host->options().scratch + "/drill-" + std::to_string(task.id()) + "-" +
            std::to_string(task.attempt());
  std::error_code ec;
  std::filesystem::remove_all(d->path, ec);
  if (mkdir(d->path.c_str(), 0700) != 0) {
    return "cannot create drill directory '" + d->path + "': " + std::strerror(errno);
  }
  return "";
}

// A drill of a restic repository: the task's one sample entry is the
// snapshot file (its SHA-256 = the snapshot id, as the catalogue holds it);
// the files come from the snapshot's trees (formats/restic_restore.h), read
// through `store` beneath `base` (a LocalStore at a filesystem location,
// the location's store at a remote one); the copy is restored locally.
Outcome RunResticDrill(TaskHost* host, Attempt* attempt, storage::Store& store,
                       const std::string& base, const std::string& shown) {
  const v1::Task& task = attempt->task;
  Outcome out;
  out.drill = true;
  v1::DrillResult& res = out.drill_result;
  std::string raw;
  const std::string path = task.drill_sample_size() == 1 ? task.drill_sample(0).path() : "";
  if (path.rfind("snapshots/", 0) != 0 ||
      task.drill_sample(0).digest_algorithm() !=
          static_cast<uint32_t>(storage::HashAlgorithm::kSha256) ||
      !formats::restic::ParseId(path.substr(10), &raw) || raw != task.drill_sample(0).digest()) {
    res.set_error("a restic drill names one snapshot file (snapshots/<id>, SHA-256 = its id)");
    return out;
  }
  auto password = ReadResticPassword(host->options().secrets, task.backup_set());
  if (!password.ok()) return {Outcome::kError, std::string(password.status().message()), 0};
  DrillDir drill;
  if (std::string e = CreateDrillDir(host, task, &drill); !e.empty()) {
    return {Outcome::kError, e, 0};
  }
  drill.owned_fd = open(drill.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (drill.owned_fd < 0) {
    return {Outcome::kError,
            "cannot open drill directory '" + drill.path + "': " + std::strerror(errno), 0};
  }
  const int dest = drill.owned_fd;
  formats::ResticSampleOptions o;
  o.sample_files = task.drill_sample_files();
  o.sample_bytes = task.drill_sample_bytes();
  o.stop = [&] { return attempt->lost.load() || host->stopped(); };
  o.progress = [&](uint64_t bytes) {
    attempt->progress.files.fetch_add(1, std::memory_order_relaxed);
    attempt->progress.bytes.fetch_add(bytes, std::memory_order_relaxed);
  };
  formats::ResticRestore r =
      formats::RestoreResticSampleIn(store, base, shown, *password, path.substr(10), o, dest);
  if (attempt->lost) return {Outcome::kLost, "", 0};
  if (r.stopped || host->stopped()) return {Outcome::kStopped, "", 0};
  if (!r.key_error.empty()) return {Outcome::kError, r.key_error, 0};
  // The store could not be read: the drill did not run, the task fails
  // (and is retried); nothing is said of the backup.
  if (!r.store_error.empty()) return {Outcome::kError, "drill: " + r.store_error, 0};
  if (!r.write_error.empty()) return {Outcome::kError, "drill: " + r.write_error, 0};
  if (!r.error.empty()) {
    res.set_error(r.error);
    return out;
  }
  res.set_point_bytes(r.point_bytes);
  res.set_seconds(r.seconds);
  auto mismatch = [&](const std::string& p, const std::string& why) {
    res.set_mismatches(res.mismatches() + 1);
    if (res.mismatch_paths_size() < 20) res.add_mismatch_paths(EscapeForTerminal(p));
    host->Log("drill of task " + std::to_string(task.id()) + ": '" + EscapeForTerminal(p) + "' " +
              why);
  };
  for (const formats::ResticRestoredFile& f : r.files) {
    if (!f.error.empty()) {
      mismatch(f.path, "cannot be restored: " + f.error);
      continue;
    }
    res.set_files(res.files() + 1);
    res.set_bytes(res.bytes() + f.written);
  }
  // Each copy read back from the device and compared with the tree.
  for (const formats::ResticRestoredFile& f : r.files) {
    if (!f.error.empty()) continue;
    if (attempt->lost) return {Outcome::kLost, "", 0};
    if (host->stopped()) return {Outcome::kStopped, "", 0};
    if (std::string why = formats::VerifyResticCopy(dest, f); !why.empty()) mismatch(f.path, why);
  }
  return out;
}

// The point of `found` at time `ns`; null when there is none.
const contracts::DiscoveredPoint* FindPoint(const contracts::Discovery& found, int64_t ns) {
  for (const auto& p : found.points) {
    if (p.time_ns == ns) return &p;
  }
  return nullptr;
}

std::string NoLongerPresent(int64_t ns) {
  return "restore point of time " + std::to_string(ns) +
         " ns is no longer present in the backup set";
}

// Where a drill of a plain set copies its sample from: the point's
// directory open at a descriptor (a filesystem location) or in a store (a
// remote location). One file at a time: Open, Read to the end, Close.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  // Opens the regular file `path` (relative to the point, no link
  // followed) for a cold read: "" or why it cannot be (a mismatch). A
  // store that could not be asked sets store_error() instead.
  virtual std::string Open(const std::string& path) = 0;
  // The next bytes of the open file: how many (0 at its end), or an error
  // (a mismatch; a store that could not be read sets store_error()).
  virtual storage::StatusOr<size_t> Read(void* buf, size_t len) = 0;
  virtual void Close() = 0;
  // Non-empty: the store could not be read (naming the file and the
  // store): the drill did not run, the task fails.
  const std::string& store_error() const { return store_error_; }

 protected:
  std::string store_error_;
};

// The point's directory open at `base_fd` (owned: closed with the source).
class DirSampleSource final : public SampleSource {
 public:
  explicit DirSampleSource(int base_fd) : base_fd_(base_fd) {}
  ~DirSampleSource() override {
    Close();
    close(base_fd_);
  }
  std::string Open(const std::string& path) override {
    // The one rule (storage/open_beneath.h): no link followed on the
    // way, only a regular file returned, O_NONBLOCK cleared once it is one.
    formats::OpenedFile opened = formats::OpenBeneath(base_fd_, path, formats::Symlinks::kRefuse);
    if (opened.fd < 0) return opened.error_text;
    fd_ = opened.fd;
    // Cold read: whatever the page cache holds of the source goes first.
    posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED);
    posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    return "";
  }
  storage::StatusOr<size_t> Read(void* buf, size_t len) override {
    while (true) {
      ssize_t n = read(fd_, buf, len);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return absl::UnknownError(std::strerror(errno));
    }
  }
  void Close() override {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  const int base_fd_;
  int fd_ = -1;
};

// The point's directory `base` of `store` (remote: S3, SFTP), through
// formats::StoreSource (what is a finding about the file and what is the
// store's error, told apart once): each file Stat'ed (a regular file, no
// link followed) and read with ReadAt up to the size Stat gave (to its end
// when that is 0); Store::DropCached first (a cold read: a no-op for a
// remote store, which holds no cache).
class StoreSampleSource final : public SampleSource {
 public:
  StoreSampleSource(storage::Store& store, std::string base)
      : store_(store), src_(store, std::move(base)) {}
  std::string Open(const std::string& path) override {
    path_ = path;
    off_ = 0;
    formats::OpenedFile f = src_.Open(path);
    if (f.error != 0) {
      KeepStoreError();
      return f.error_text;
    }
    size_ = f.size;
    store_.DropCached(storage::JoinStorePath(base(), path));
    return "";
  }
  storage::StatusOr<size_t> Read(void* buf, size_t len) override {
    if (size_ > 0) {
      if (off_ >= size_) return size_t{0};
      len = static_cast<size_t>(std::min<uint64_t>(len, size_ - off_));
    }
    auto n = src_.ReadAt(path_, off_, buf, len);
    if (!n.ok()) {
      KeepStoreError();
      return n.status();
    }
    off_ += *n;
    return *n;
  }
  void Close() override {}

 private:
  const std::string& base() const { return src_.base(); }
  void KeepStoreError() {
    if (storage::Status e = src_.store_error(); !e.ok()) store_error_ = std::string(e.message());
  }

  storage::Store& store_;
  formats::StoreSource src_;
  std::string path_;  // the open file, relative to the point
  uint64_t size_ = 0;
  uint64_t off_ = 0;
};

// A drill of a plain set: each sample entry copied from `src` into a fresh
// directory of the scratch (synced), then each copy read back from the
// device and compared with the catalogue's size and digest.
Outcome CopyAndVerify(TaskHost* host, Attempt* attempt, SampleSource& src) {
  const v1::Task& task = attempt->task;
  std::atomic<bool>* lost = &attempt->lost;
  Outcome out;
  out.drill = true;
  v1::DrillResult& res = out.drill_result;
  DrillDir drill;
  if (std::string e = CreateDrillDir(host, task, &drill); !e.empty()) {
    return {Outcome::kError, e, 0};
  }
  const std::string& drill_dir = drill.path;

  std::vector<uint8_t> buf(4 << 20);
  std::vector<std::string> dirs{drill_dir};           // created, to fsync
  std::vector<std::pair<int, std::string>> restored;  // sample index, copy
  auto mismatch = [&](const std::string& path, const std::string& why) {
    res.set_mismatches(res.mismatches() + 1);
    // A string field must be UTF-8: raw byte paths are escaped.
    if (res.mismatch_paths_size() < 20) res.add_mismatch_paths(EscapeForTerminal(path));
    host->Log("drill of task " + std::to_string(task.id()) + ": '" + EscapeForTerminal(path) +
              "' " + why);
  };
  const int64_t start = SteadyNs();
  for (int i = 0; i < task.drill_sample_size(); ++i) {
    if (*lost) return {Outcome::kLost, "", 0};
    if (host->stopped()) return {Outcome::kStopped, "", 0};
    const v1::DrillSample& smp = task.drill_sample(i);
    const std::string& path = smp.path();
    if (!storage::IsValidRelativePath(path)) {
      mismatch(path, "is not a relative path inside the point");
      continue;
    }
    if (std::string why = src.Open(path); !why.empty()) {
      if (!src.store_error().empty()) return {Outcome::kError, "drill: " + src.store_error(), 0};
      mismatch(path, "cannot be opened: " + why);
      continue;
    }
    // Parent directories of the copy.
    std::string dst = drill_dir;
    for (size_t p = path.find('/'); p != std::string::npos; p = path.find('/', p + 1)) {
      std::string d = drill_dir + "/" + path.substr(0, p);
      if (mkdir(d.c_str(), 0700) == 0) {
        dirs.push_back(d);
      } else if (errno != EEXIST) {
        const int err = errno;
        src.Close();
        return {Outcome::kError, "cannot create '" + d + "': " + std::strerror(err), 0};
      }
    }
    dst += "/" + path;
    int out_fd = open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out_fd < 0) {
      int err = errno;
      src.Close();
      return {Outcome::kError, "cannot create '" + dst + "': " + std::strerror(err), 0};
    }
    uint64_t copied = 0;
    std::string read_error, write_error;
    while (true) {
      if (*lost || host->stopped()) break;
      storage::StatusOr<size_t> got = src.Read(buf.data(), buf.size());
      if (!got.ok()) {
        read_error = std::string(got.status().message());
        break;
      }
      const ssize_t n = static_cast<ssize_t>(*got);
      if (n == 0) break;
      for (ssize_t off = 0; off < n;) {
        ssize_t w = write(out_fd, buf.data() + off, static_cast<size_t>(n - off));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
          write_error = std::strerror(errno);
          break;
        }
        off += w;
      }
      if (!write_error.empty()) break;
      copied += static_cast<uint64_t>(n);
    }
    src.Close();
    // Synced write: the copy is on stable storage before it counts.
    if (write_error.empty() && fsync(out_fd) != 0) write_error = std::strerror(errno);
    if (close(out_fd) != 0 && write_error.empty()) write_error = std::strerror(errno);
    if (!write_error.empty()) {
      return {Outcome::kError, "cannot write '" + dst + "': " + write_error, 0};
    }
    if (*lost) return {Outcome::kLost, "", 0};
    if (host->stopped()) return {Outcome::kStopped, "", 0};
    if (!src.store_error().empty()) return {Outcome::kError, "drill: " + src.store_error(), 0};
    if (!read_error.empty()) {
      mismatch(path, "cannot be read: " + read_error);
      continue;
    }
    res.set_files(res.files() + 1);
    res.set_bytes(res.bytes() + copied);
    attempt->progress.files.fetch_add(1, std::memory_order_relaxed);
    attempt->progress.bytes.fetch_add(copied, std::memory_order_relaxed);
    restored.emplace_back(i, dst);
  }
  // The directory entries of the copies, deepest first, then the scratch.
  dirs.push_back(host->options().scratch);
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    int fd = open(it->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
      int err = errno;
      if (fd >= 0) close(fd);
      return {Outcome::kError, "cannot sync '" + *it + "': " + std::strerror(err), 0};
    }
    close(fd);
  }
  res.set_seconds(static_cast<double>(SteadyNs() - start) / 1e9);
  // Re-hash each copy (read back from the device) against the catalogue.
  std::map<uint32_t, std::unique_ptr<storage::FileHasher>> hashers;
  for (const auto& [i, dst] : restored) {
    if (*lost) return {Outcome::kLost, "", 0};
    if (host->stopped()) return {Outcome::kStopped, "", 0};
    const v1::DrillSample& smp = task.drill_sample(i);
    const uint32_t alg = smp.digest_algorithm();
    if (alg < 1 || alg > 7) {
      mismatch(smp.path(), "has a digest of unknown algorithm " + std::to_string(alg));
      continue;
    }
    auto& h = hashers[alg];
    if (!h) h = std::make_unique<storage::FileHasher>(static_cast<storage::HashAlgorithm>(alg));
    storage::FileReading r = h->Read(AT_FDCWD, dst.c_str(), smp.size(), /*drop_cache=*/true);
    if (!r.ok) {
      mismatch(smp.path(), "restored copy cannot be read: " + r.error_text);
    } else if (r.bytes != smp.size()) {
      mismatch(smp.path(), "restored " + std::to_string(r.bytes) + " bytes, catalogue has " +
                               std::to_string(smp.size()));
    } else if (r.digest.view() != smp.digest()) {
      mismatch(smp.path(), "restored content differs from the catalogue");
    }
  }
  return out;
}

// A plain set's restore point at a remote location: the sample copied from
// the store (`dir`) and re-hashed.
Outcome DrillFromStore(TaskHost* host, Attempt* attempt, const contracts::BackupSet& set,
                       const StoreSetDir& dir) {
  const v1::Task& task = attempt->task;
  Outcome out;
  out.drill = true;
  auto drill_error = [&](const std::string& why) {
    out.drill_result.set_error(why);
    return out;
  };
  const std::string tz = task.tenant_timezone().empty() ? "UTC" : task.tenant_timezone();
  auto found = contracts::DiscoverRestorePointsIn(set, *dir.store, dir.path, dir.shown, tz);
  if (!found.ok()) return {Outcome::kError, std::string(found.status().message()), 0};
  const contracts::DiscoveredPoint* point = FindPoint(*found, task.drill_point_ns());
  if (point == nullptr) return drill_error(NoLongerPresent(task.drill_point_ns()));
  const bool file_point = set.layout == contracts::Layout::kDatedFiles;
  std::string base = dir.path;  // the point's directory, a store path
  if (!point->name.empty()) {
    storage::StoreEntry st;
    if (Outcome r = CheckStorePointUnchanged(dir, *point, !file_point, &st);
        r.kind != Outcome::kDone) {
      return drill_error(r.error);
    }
    if (!file_point) base = storage::JoinStorePath(dir.path, point->name);
  }
  StoreSampleSource src(*dir.store, base);
  return CopyAndVerify(host, attempt, src);
}

}  // namespace

Outcome RunDrill(TaskHost* host, Attempt* attempt) {
  const v1::Task& task = attempt->task;
  Outcome out;
  out.drill = true;
  v1::DrillResult& res = out.drill_result;
  auto drill_error = [&](const std::string& why) {
    res.set_error(why);
    return out;
  };
  if (IsRemoteLocation(task)) {  // S3, SFTP: through the location's store
    auto set = ContractSet(task.backup_set());
    if (!set.ok()) return drill_error(std::string(set.status().message()));
    auto dir = ResolveStoreSetDir(host->options(), task);
    if (!dir.ok()) {
      // The set is not there (or not a directory): the drill fails. Not
      // served here, or the store could not be read: the task's error.
      if (absl::IsNotFound(dir.status()) || absl::IsInvalidArgument(dir.status())) {
        return drill_error(std::string(dir.status().message()));
      }
      return {Outcome::kError, std::string(dir.status().message()), 0};
    }
    Outcome drilled = set->format == "restic"
                          ? RunResticDrill(host, attempt, *dir->store, dir->path, dir->shown)
                          : DrillFromStore(host, attempt, *set, *dir);
    drilled.store_usage = UsageOf(*dir->store);  // the location's read budget counts it
    return drilled;
  }
  auto dir = ResolveSetDir(host->options().locations, task.backup_set());
  if (!dir.ok()) {
    if (absl::IsFailedPrecondition(dir.status())) {  // not served here: our fault
      return {Outcome::kError, std::string(dir.status().message()), 0};
    }
    return drill_error(std::string(dir.status().message()));
  }
  auto set = ContractSet(task.backup_set());
  if (!set.ok()) return drill_error(std::string(set.status().message()));
  if (set->format == "restic") {
    auto store = storage::LocalStore::OpenAt(dir->fd(), "", dir->path);
    if (!store.ok()) return drill_error(std::string(store.status().message()));
    return RunResticDrill(host, attempt, **store, "", dir->path);
  }
  const std::string tz = task.tenant_timezone().empty() ? "UTC" : task.tenant_timezone();
  auto found = contracts::DiscoverRestorePointsAt(*set, dir->fd(), dir->path, tz);
  if (!found.ok()) return drill_error(std::string(found.status().message()));
  const contracts::DiscoveredPoint* point = FindPoint(*found, task.drill_point_ns());
  if (point == nullptr) return drill_error(NoLongerPresent(task.drill_point_ns()));
  const bool file_point = set->layout == contracts::Layout::kDatedFiles;
  std::string base_rel;  // the point's directory, relative to the set's
  if (!point->name.empty()) {
    struct stat st {};
    if (Outcome r = CheckPointUnchanged(*dir, *point, !file_point, &st); r.kind != Outcome::kDone) {
      return drill_error(r.error);
    }
    if (!file_point) base_rel = point->name;
  }
  storage::BeneathOpen base = storage::OpenDirBeneath(dir->fd(), base_rel);
  if (base.fd < 0) {
    const std::string shown = base_rel.empty() ? dir->path : dir->path + "/" + base_rel;
    return drill_error("cannot open restore point '" + shown + "': " +
                       (base.symlink() ? std::string("a symbolic link, not followed")
                                       : std::strerror(base.error)));
  }
  DirSampleSource src(base.fd);
  return CopyAndVerify(host, attempt, src);
}

}  // namespace vigil::worker
