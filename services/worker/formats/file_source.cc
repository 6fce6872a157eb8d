// The two places a BagIt or checksum-file reader finds its files
// (file_source.h): a directory's descriptor, a storage::Store.
#include "services/worker/formats/file_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "services/worker/formats/restic_repo.h"
#include "storage/open_beneath.h"
#include "storage/store_walker.h"

namespace vigil::formats {

namespace {

OpenedFile Failed(int err, std::string text) {
  OpenedFile f;
  f.error = err;
  f.error_text = std::move(text);
  f.not_found = err == ENOENT;
  return f;
}

storage::StoreEntryType TypeOfMode(mode_t m) {
  if (S_ISREG(m)) return storage::StoreEntryType::kFile;
  if (S_ISDIR(m)) return storage::StoreEntryType::kDirectory;
  if (S_ISLNK(m)) return storage::StoreEntryType::kSymlink;
  return storage::StoreEntryType::kOther;
}

// A store read in one call (a tag file, a checksum file).
constexpr size_t kReadChunk = 1 << 20;

}  // namespace

// ---- DirSource ------------------------------------------------------------

OpenedFile DirSource::Read(const std::string& rel, uint64_t max_bytes, std::string* content) {
  return ReadBeneath(fd_, rel, policy_, max_bytes, content);
}

SourceEntry DirSource::Lstat(const std::string& rel) {
  SourceEntry e;
  struct stat st {};
  int rc = rel.empty() ? ::fstat(fd_, &st) : ::fstatat(fd_, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW);
  if (rc != 0) {
    e.error = errno;
    e.error_text = std::strerror(e.error);
    return e;
  }
  e.type = TypeOfMode(st.st_mode);
  return e;
}

bool DirSource::List(const std::string& rel, std::vector<SourceName>* out, std::string* error) {
  out->clear();
  int dfd = -1;
  if (rel.empty()) {
    dfd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  } else {
    storage::BeneathOpen o = storage::OpenDirBeneath(fd_, rel);
    dfd = o.fd;
    if (dfd < 0) errno = o.error;
  }
  DIR* dir = dfd >= 0 ? ::fdopendir(dfd) : nullptr;
  if (dir == nullptr) {
    const int e = errno;
    if (dfd >= 0) ::close(dfd);
    *error = std::strerror(e);
    return false;
  }
  const int at = ::dirfd(dir);
  while (dirent* de = ::readdir(dir)) {
    if (std::strcmp(de->d_name, ".") == 0 || std::strcmp(de->d_name, "..") == 0) continue;
    struct stat st {};
    if (::fstatat(at, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
    out->push_back({de->d_name, TypeOfMode(st.st_mode)});
  }
  ::closedir(dir);
  std::sort(out->begin(), out->end(),
            [](const SourceName& a, const SourceName& b) { return a.name < b.name; });
  return true;
}

storage::StatusOr<FileSource::WalkNext> DirSource::Walk(const std::string& rel,
                                                        const std::string& shown) {
  auto walker = storage::TreeWalker::OpenAt(fd_, rel, shown);
  if (!walker.ok()) return walker.status();
  std::shared_ptr<storage::TreeWalker> w = std::move(*walker);
  return WalkNext([w](storage::WalkEntry* e) { return w->Next(e); });
}

void DirSource::RunFileChecks(std::vector<FileCheck>* checks, int threads, size_t buffer_bytes) {
  formats::RunFileChecks(fd_, policy_, checks, threads, buffer_bytes);
}

// ---- StoreSource ----------------------------------------------------------

storage::Status StoreSource::store_error() const {
  std::lock_guard<std::mutex> l(mu_);
  return error_;
}

void StoreSource::Fail(const storage::Status& s) {
  std::lock_guard<std::mutex> l(mu_);
  if (error_.ok()) error_ = s;
}

OpenedFile StoreSource::Failure(const std::string& rel, const storage::Status& s) {
  const std::string path = Path(rel);
  switch (restic::ClassifyStoreFailure(store_, path, s)) {
    case restic::StoreFailure::kGone:
      return Failed(ENOENT, "not found");
    case restic::StoreFailure::kSymlink: {
      OpenedFile f = Failed(ELOOP, "symbolic link, not followed");
      f.symlink = true;
      return f;
    }
    case restic::StoreFailure::kNotFile:
      return Failed(EINVAL, "not a regular file");
    case restic::StoreFailure::kStore:
      break;
  }
  // A path the store refuses (a LocalStore: a symbolic link in one of its
  // directories, named in the message) is about that file, not the store.
  if (absl::IsInvalidArgument(s)) return Failed(EINVAL, std::string(s.message()));
  Fail(storage::Status(s.code(), "cannot read '" + path + "' from " + store_.Describe() + ": " +
                                     std::string(s.message())));
  return Failed(EIO, std::string(s.message()));
}

OpenedFile StoreSource::Open(const std::string& rel) {
  if (storage::Status e = store_error(); !e.ok()) return Failed(EIO, std::string(e.message()));
  storage::StatusOr<storage::StoreEntry> st = store_.Stat(Path(rel));
  if (!st.ok()) return Failure(rel, st.status());
  switch (st->type) {
    case storage::StoreEntryType::kFile: {
      OpenedFile f;
      f.size = st->size;
      return f;
    }
    case storage::StoreEntryType::kSymlink: {
      OpenedFile f = Failed(ELOOP, "symbolic link, not followed");
      f.symlink = true;
      return f;
    }
    case storage::StoreEntryType::kDirectory:
      return Failed(EINVAL, "is a directory");
    default:
      return Failed(EINVAL, "not a regular file");
  }
}

storage::StatusOr<size_t> StoreSource::ReadAt(const std::string& rel, uint64_t offset, void* buf,
                                              size_t len) {
  if (storage::Status e = store_error(); !e.ok()) return e;
  storage::StatusOr<size_t> n = store_.ReadAt(Path(rel), offset, buf, len);
  if (n.ok()) return n;
  return storage::Status(n.status().code(), Failure(rel, n.status()).error_text);
}

OpenedFile StoreSource::Read(const std::string& rel, uint64_t max_bytes, std::string* content) {
  content->clear();
  OpenedFile f = Open(rel);
  if (f.error != 0) return f;
  if (f.size > max_bytes)
    return Failed(EFBIG, "larger than " + std::to_string(max_bytes) + " bytes");
  const std::string path = Path(rel);
  // To the size Stat gave (no request past the end), or to the end of the
  // file when that was 0, in chunks; at most max_bytes + 1 bytes held.
  const uint64_t limit = f.size > 0 ? f.size : max_bytes + 1;
  while (true) {
    const uint64_t room = limit - content->size();
    if (room == 0) break;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kReadChunk, room));
    const size_t at = content->size();
    content->resize(at + want);
    storage::StatusOr<size_t> n = store_.ReadAt(path, at, content->data() + at, want);
    if (!n.ok()) {
      content->clear();
      OpenedFile e = Failure(rel, n.status());
      if (!e.not_found && !e.symlink && e.error != EINVAL) e.error_text = "read: " + e.error_text;
      return e;
    }
    content->resize(at + *n);
    if (*n == 0) break;
  }
  if (content->size() > max_bytes) {
    content->clear();
    return Failed(EFBIG, "larger than " + std::to_string(max_bytes) + " bytes");
  }
  f.size = content->size();
  return f;
}

SourceEntry StoreSource::Lstat(const std::string& rel) {
  SourceEntry e;
  if (storage::Status s = store_error(); !s.ok()) {
    e.error = EIO;
    e.error_text = std::string(s.message());
    return e;
  }
  storage::StatusOr<storage::StoreEntry> st = store_.Stat(Path(rel));
  if (st.ok()) {
    e.type = st->type;
    return e;
  }
  OpenedFile f = Failure(rel, st.status());
  e.error = f.error;
  e.error_text = f.error_text;
  return e;
}

bool StoreSource::List(const std::string& rel, std::vector<SourceName>* out, std::string* error) {
  out->clear();
  if (storage::Status s = store_error(); !s.ok()) {
    *error = std::string(s.message());
    return false;
  }
  storage::Status s = store_.List(Path(rel), [out](storage::StoreEntry&& e) {
    out->push_back({std::move(e.name), e.type});
    return true;
  });
  if (!s.ok()) {
    if (!absl::IsNotFound(s) && !absl::IsInvalidArgument(s)) {
      Fail(storage::Status(s.code(), "cannot list '" + Path(rel) + "' in " + store_.Describe() +
                                         ": " + std::string(s.message())));
    }
    *error = std::string(s.message());
    return false;
  }
  std::sort(out->begin(), out->end(),
            [](const SourceName& a, const SourceName& b) { return a.name < b.name; });
  return true;
}

storage::StatusOr<FileSource::WalkNext> StoreSource::Walk(const std::string& rel,
                                                          const std::string& shown) {
  if (storage::Status s = store_error(); !s.ok()) return s;
  auto walker = storage::StoreWalker::Open(store_, Path(rel), shown);
  if (!walker.ok()) {
    const storage::Status& s = walker.status();
    if (!absl::IsNotFound(s) && !absl::IsInvalidArgument(s)) Fail(s);
    return s;
  }
  std::shared_ptr<storage::StoreWalker> w = std::move(*walker);
  return WalkNext([this, w, shown](storage::WalkEntry* e) {
    if (!w->Next(e)) return false;
    // A directory the store could not list (not one it refused): the
    // store's error, not the set's.
    if (e->is_directory && e->error == EIO) {
      Fail(absl::UnavailableError("cannot read directory '" + shown + "/" + e->path + "' in " +
                                  store_.Describe() + ": " + e->error_text));
    }
    return true;
  });
}

void StoreSource::RunFileChecks(std::vector<FileCheck>* checks, int threads, size_t buffer_bytes) {
  class Reader final : public FileCheckReader {
   public:
    explicit Reader(StoreSource& src) : src_(src) {}
    bool Open(FileCheck& c) override {
      c.open = src_.Open(c.path);
      return c.open.error == 0;
    }
    MultiHasher::Result Hash(MultiHasher& mh, FileCheck& c, bool cold) override {
      const std::string path = src_.Path(c.path);
      if (storage::Status e = src_.store_error(); !e.ok()) {
        MultiHasher::Result r;
        r.error_text = std::string(e.message());
        return r;
      }
      if (cold) src_.store_.DropCached(path);
      const uint64_t size = c.open.size;
      // Stops at the size Stat gave (no request past the end), or reads
      // to the end when that was 0.
      MultiHasher::Result r = mh.HashFrom(
          [&](uint64_t off, void* buf, size_t len) -> storage::StatusOr<size_t> {
            if (size > 0) {
              if (off >= size) return size_t{0};
              len = static_cast<size_t>(std::min<uint64_t>(len, size - off));
            }
            return src_.ReadAt(c.path, off, buf, len);
          },
          c.algorithms);
      if (!r.ok) r.error_text = "read: " + r.error_text;
      return r;
    }
    void Close(FileCheck&) override {}

   private:
    StoreSource& src_;
  } reader(*this);
  RunFileChecksWith(reader, checks, threads, buffer_bytes);
}

}  // namespace vigil::formats
