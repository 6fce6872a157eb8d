#include "services/worker/formats/safe_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "storage/open_beneath.h"

namespace vigil::formats {

namespace {

constexpr int kReadFlags = O_RDONLY | O_NONBLOCK | O_CLOEXEC;

OpenedFile Failed(int err, std::string text) {
  OpenedFile f;
  f.error = err;
  f.error_text = std::move(text);
  f.not_found = err == ENOENT || err == ENOTDIR;
  return f;
}

// Checks that `fd` is a regular file; closes it otherwise.
OpenedFile Finish(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return Failed(e, std::string("stat: ") + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Failed(EINVAL, S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
  }
  // Clear O_NONBLOCK: it was only there so that a FIFO does not hang open().
  int fl = ::fcntl(fd, F_GETFL);
  if (fl >= 0) ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  OpenedFile f;
  f.fd = fd;
  f.size = static_cast<uint64_t>(st.st_size);
  return f;
}

// The message for a refused open.
OpenedFile Explain(const storage::BeneathOpen& o) {
  const int err = o.error;
  if (o.escapes()) {
    OpenedFile f = Failed(err, o.link.empty() ? "leads outside the directory, not followed"
                                              : "'" + o.link +
                                                    "' is a symbolic link leading outside the "
                                                    "directory, not followed");
    f.escapes = true;
    f.symlink = true;
    return f;
  }
  if (o.symlink()) {
    OpenedFile f =
        Failed(ELOOP, o.link.empty() ? "symbolic link, not followed"
                                     : "'" + o.link + "' is a symbolic link, not followed");
    f.symlink = true;
    return f;
  }
  if (err == ENOTDIR) return Failed(err, "not found (a parent is not a directory)");
  if (err == ENOENT) return Failed(err, "not found");
  return Failed(err, std::string("open: ") + std::strerror(err));
}

}  // namespace

void UseOpenat2ForTesting(bool use) { storage::UseOpenat2ForTesting(use); }

OpenedFile OpenBeneath(int dir_fd, const std::string& rel, Symlinks policy) {
  storage::BeneathOpen o =
      storage::OpenBeneath(dir_fd, rel, kReadFlags | O_NOATIME,
                           policy == Symlinks::kRefuse ? storage::LinkPolicy::kRefuse
                                                       : storage::LinkPolicy::kFollowBeneath);
  if (o.fd < 0) return Explain(o);
  return Finish(o.fd);
}

namespace {

// Reads all of f.fd (and closes it) into *content, at most max_bytes.
OpenedFile ReadAll(OpenedFile f, uint64_t max_bytes, std::string* content) {
  if (f.size > max_bytes) {
    ::close(f.fd);
    return Failed(EFBIG, "larger than " + std::to_string(max_bytes) + " bytes");
  }
  content->resize(static_cast<size_t>(f.size));
  size_t got = 0;
  // Past the size fstat gave, a file that grew is read through a small
  // buffer: growing `content` for a read that finds the end at once would
  // copy the whole (large) string for nothing.
  char probe[1 << 14];
  while (true) {
    if (got == content->size()) {
      if (content->size() >= max_bytes) break;
      ssize_t n = ::read(f.fd, probe, std::min<uint64_t>(sizeof probe, max_bytes - got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int e = errno;
        ::close(f.fd);
        content->clear();
        return Failed(e, std::string("read: ") + std::strerror(e));
      }
      if (n == 0) break;
      content->append(probe, static_cast<size_t>(n));
      got += static_cast<size_t>(n);
      continue;
    }
    ssize_t n = ::read(f.fd, content->data() + got, content->size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(f.fd);
      content->clear();
      return Failed(e, std::string("read: ") + std::strerror(e));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  content->resize(got);
  ::close(f.fd);
  f.fd = -1;
  f.size = got;
  return f;
}

}  // namespace

OpenedFile ReadBeneath(int dir_fd, const std::string& rel, Symlinks policy, uint64_t max_bytes,
                       std::string* content) {
  content->clear();
  OpenedFile f = OpenBeneath(dir_fd, rel, policy);
  if (f.fd < 0) return f;
  return ReadAll(std::move(f), max_bytes, content);
}

OpenedFile ReadPath(const std::string& path, uint64_t max_bytes, std::string* content) {
  content->clear();
  int fd = ::open(path.c_str(), kReadFlags);
  if (fd < 0) {
    storage::BeneathOpen o;
    o.error = errno;
    return Explain(o);
  }
  OpenedFile f = Finish(fd);
  if (f.fd < 0) return f;
  return ReadAll(std::move(f), max_bytes, content);
}

MultiHasher::MultiHasher(size_t buffer_bytes) : hashers_(16), buffer_(buffer_bytes) {}

storage::Hasher* MultiHasher::HasherFor(storage::HashAlgorithm alg) {
  auto i = static_cast<size_t>(alg);
  if (i >= hashers_.size()) hashers_.resize(i + 1);
  if (!hashers_[i]) hashers_[i] = storage::NewHasher(alg);
  return hashers_[i].get();
}

MultiHasher::Result MultiHasher::Hash(int fd, std::span<const storage::HashAlgorithm> algorithms,
                                      bool drop_cache) {
  if (drop_cache) {
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return HashFrom(
      [fd](uint64_t off, void* buf, size_t len) -> storage::StatusOr<size_t> {
        while (true) {
          ssize_t n = ::pread(fd, buf, len, static_cast<off_t>(off));
          if (n >= 0) return static_cast<size_t>(n);
          if (errno != EINTR) {
            return absl::UnknownError(std::string("read: ") + std::strerror(errno));
          }
        }
      },
      algorithms);
}

MultiHasher::Result MultiHasher::HashFrom(const ReadFn& read,
                                          std::span<const storage::HashAlgorithm> algorithms,
                                          storage::Status* failure) {
  Result r;
  std::vector<storage::Hasher*> hs;
  for (auto alg : algorithms) {
    storage::Hasher* h = HasherFor(alg);
    h->Reset();
    hs.push_back(h);
  }
  uint64_t off = 0;
  while (true) {
    storage::StatusOr<size_t> n = read(off, buffer_.data(), buffer_.size());
    if (!n.ok()) {
      r.error_text = std::string(n.status().message());
      if (failure != nullptr) *failure = n.status();
      for (auto* h : hs) (void)h->Finish();
      return r;
    }
    if (*n == 0) break;
    std::span<const uint8_t> chunk(buffer_.data(), *n);
    for (auto* h : hs) h->Update(chunk);
    off += *n;
  }
  r.ok = true;
  r.bytes = off;
  for (auto* h : hs) r.digests.push_back(h->Finish());
  return r;
}

namespace {
storage::Digest Pick(const FileCheck& c, const MultiHasher::Result& r, storage::HashAlgorithm alg) {
  for (size_t i = 0; i < c.algorithms.size() && i < r.digests.size(); ++i) {
    if (c.algorithms[i] == alg) return r.digests[i];
  }
  return {};
}
}  // namespace

storage::Digest FileCheck::First(storage::HashAlgorithm alg) const {
  return Pick(*this, first, alg);
}
storage::Digest FileCheck::Second(storage::HashAlgorithm alg) const {
  return reread ? Pick(*this, second, alg) : storage::Digest();
}

void RunFileChecksWith(FileCheckReader& reader, std::vector<FileCheck>* checks, int threads,
                       size_t buffer_bytes) {
  constexpr int kMaxThreads = 64;
  std::vector<std::unique_ptr<MultiHasher>> hashers(kMaxThreads);
  ParallelFor(checks->size(), std::min(threads, kMaxThreads), [&](size_t i, int w) {
    FileCheck& c = (*checks)[i];
    if (!reader.Open(c)) return;
    if (!c.algorithms.empty()) {
      auto& mh = hashers[static_cast<size_t>(w)];
      if (!mh) mh = std::make_unique<MultiHasher>(buffer_bytes);
      c.first = reader.Hash(*mh, c, /*cold=*/false);
      bool mismatch = false;
      for (const storage::Digest& want : c.expected) {
        if (c.first.ok && !want.empty() && !(c.First(want.algorithm()) == want)) mismatch = true;
      }
      if (mismatch) {
        c.second = reader.Hash(*mh, c, /*cold=*/true);
        c.reread = c.second.ok;
      }
    }
    reader.Close(c);
  });
}

void RunFileChecks(int dir_fd, Symlinks policy, std::vector<FileCheck>* checks, int threads,
                   size_t buffer_bytes) {
  class Beneath final : public FileCheckReader {
   public:
    Beneath(int dir_fd, Symlinks policy) : dir_fd_(dir_fd), policy_(policy) {}
    bool Open(FileCheck& c) override {
      c.open = OpenBeneath(dir_fd_, c.path, policy_);
      return c.open.fd >= 0;
    }
    MultiHasher::Result Hash(MultiHasher& mh, FileCheck& c, bool cold) override {
      return mh.Hash(c.open.fd, c.algorithms, cold);
    }
    void Close(FileCheck& c) override {
      ::close(c.open.fd);
      c.open.fd = -1;
    }

   private:
    const int dir_fd_;
    const Symlinks policy_;
  } reader(dir_fd, policy);
  RunFileChecksWith(reader, checks, threads, buffer_bytes);
}

int ParallelFor(size_t n, int threads, const std::function<void(size_t, int)>& fn) {
  if (threads <= 0) {
    threads = static_cast<int>(std::min(16u, std::max(1u, std::thread::hardware_concurrency())));
  }
  threads =
      static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), std::max<size_t>(n, 1)));
  if (threads == 1) {
    for (size_t i = 0; i < n; ++i) fn(i, 0);
    return 1;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (int w = 0; w < threads; ++w) {
    pool.emplace_back([&, w] {
      for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(i, w);
    });
  }
  for (auto& t : pool) t.join();
  return threads;
}

}  // namespace vigil::formats
