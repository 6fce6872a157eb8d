#include "storage/file_hasher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "storage/store.h"

namespace vigil::storage {

FileHasher::FileHasher(HashAlgorithm alg, size_t buffer_bytes)
    : hasher_(NewHasher(alg)), buffer_(buffer_bytes) {}

FileHasher::FileHasher(HashAlgorithm alg, HashAlgorithm also, size_t buffer_bytes)
    : hasher_(NewHasher(alg)), also_(NewHasher(also)), buffer_(buffer_bytes) {}

namespace {
FileReading Fail(int err, const char* what) {
  FileReading r;
  r.error = err;
  r.error_text = std::string(what) + ": " + std::strerror(err);
  return r;
}
}  // namespace

FileReading FileHasher::Read(int dir_fd, const char* name, uint64_t expected_size, bool drop_cache,
                             bool skip_hard_linked) {
  // O_NOFOLLOW: a symlink swapped in is refused, not followed. O_NONBLOCK: a
  // FIFO swapped in does not hang the open. O_NOATIME: reading a backup does
  // not dirty its inodes (only allowed to the owner or root; retried without).
  int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  int fd = ::openat(dir_fd, name, flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(dir_fd, name, flags);
  if (fd < 0) return Fail(errno, "open");
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return Fail(e, "fstat");
  }
  auto with_stat = [&](FileReading r) {
    r.has_stat = true;
    r.size = static_cast<uint64_t>(st.st_size);
    r.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
    r.dev = st.st_dev;
    r.ino = st.st_ino;
    r.nlink = st.st_nlink;
    return r;
  };
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Fail(EINVAL, "not a regular file any more");
  }
  if (skip_hard_linked && st.st_nlink > 1) {
    ::close(fd);
    FileReading r;
    r.skipped_hard_linked = true;
    return with_stat(std::move(r));
  }
  if (drop_cache) {
    ::fdatasync(fd);  // harmless on a read-only fd; makes DONTNEED effective
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  }
  if (expected_size > buffer_.size()) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  hasher_->Reset();
  if (also_) also_->Reset();
  sampler_.Start(static_cast<uint64_t>(st.st_size));
  FileReading r;
  while (true) {
    ssize_t n = ::read(fd, buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return with_stat(Fail(e, "read"));
    }
    if (n == 0) break;
    hasher_->Update({buffer_.data(), static_cast<size_t>(n)});
    if (also_) also_->Update({buffer_.data(), static_cast<size_t>(n)});
    sampler_.Feed(r.bytes, {buffer_.data(), static_cast<size_t>(n)});
    r.bytes += static_cast<uint64_t>(n);
    // Stop at the size fstat gave instead of reading again for EOF: one
    // system call fewer per small file (docs/BENCHMARKS.md). A file that
    // grew meanwhile is read up to its size at open; a read past that size
    // (it grew before this read) goes on to EOF as before. A size of 0 is
    // not trusted (some filesystems report 0 for files with content).
    if (st.st_size > 0 && r.bytes == static_cast<uint64_t>(st.st_size)) break;
  }
  ::close(fd);
  r.ok = true;
  r.digest = hasher_->Finish();
  if (also_) r.also_digest = also_->Finish();
  r.sample = sampler_.Finish();
  return with_stat(std::move(r));
}

FileReading FileHasher::ReadStore(Store& store, std::string_view path, uint64_t expected_size,
                                  std::optional<HashAlgorithm> upload) {
  auto with_stat = [&](FileReading r) {
    r.has_stat = true;
    r.size = expected_size;
    r.nlink = 0;
    return r;
  };
  hasher_->Reset();
  if (also_) also_->Reset();
  // The upload record's algorithm, unless one of the set's already is.
  Hasher* extra = nullptr;
  if (upload && *upload != hasher_->algorithm() && !(also_ && *upload == also_->algorithm())) {
    if (!upload_ || upload_->algorithm() != *upload) upload_ = NewHasher(*upload);
    extra = upload_.get();
    extra->Reset();
  }
  sampler_.Start(expected_size);
  FileReading r;
  while (true) {
    // Up to the listed size: a read past the end of an object costs a
    // request for nothing.
    size_t want = buffer_.size();
    if (expected_size > 0) {
      if (r.bytes >= expected_size) break;
      want = static_cast<size_t>(std::min<uint64_t>(want, expected_size - r.bytes));
    }
    StatusOr<size_t> n = store.ReadAt(path, r.bytes, buffer_.data(), want);
    if (!n.ok()) {
      const Status& s = n.status();
      FileReading f;
      f.error = absl::IsNotFound(s)             ? ENOENT
                : absl::IsPermissionDenied(s)   ? EACCES
                : absl::IsFailedPrecondition(s) ? EINVAL
                                                : EIO;
      f.error_text = "read: " + std::string(s.message());
      return with_stat(std::move(f));
    }
    if (*n == 0) break;
    hasher_->Update({buffer_.data(), *n});
    if (also_) also_->Update({buffer_.data(), *n});
    if (extra) extra->Update({buffer_.data(), *n});
    sampler_.Feed(r.bytes, {buffer_.data(), *n});
    r.bytes += *n;
    if (*n < want) break;  // the end of the file, before the listed size
  }
  r.ok = true;
  r.digest = hasher_->Finish();
  if (also_) r.also_digest = also_->Finish();
  if (extra) {
    r.upload_digest = extra->Finish();
  } else if (upload) {
    r.upload_digest = *upload == r.digest.algorithm() ? r.digest : r.also_digest;
  }
  r.sample = sampler_.Finish();
  return with_stat(std::move(r));
}

}  // namespace vigil::storage
