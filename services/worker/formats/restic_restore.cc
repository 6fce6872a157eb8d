// A sample of a restic snapshot restored by Vigil's own reader
// (restic_restore.h).
#include "services/worker/formats/restic_restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <set>
#include <unordered_map>

#include "services/common/text.h"
#include "services/worker/formats/restic_crypto.h"
#include "services/worker/formats/restic_parse.h"
#include "services/worker/formats/restic_repo.h"
#include "services/worker/formats/safe_io.h"
#include "storage/hash.h"
#include "storage/local_store.h"
#include "storage/open_beneath.h"

namespace vigil::formats {

namespace {

using restic::BlobIndex;
using restic::Hex;
using restic::PackReader;
using restic::TreeNode;

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// Names of the regular files directly in the directory `dir` of `store`,
// sorted.
storage::Status ListRegular(storage::Store& store, const std::string& dir,
                            std::vector<std::string>* out) {
  storage::Status s = store.List(dir, [&](storage::StoreEntry&& e) {
    if (e.type == storage::StoreEntryType::kFile) out->push_back(std::move(e.name));
    return true;
  });
  std::sort(out->begin(), out->end());
  return s;
}

// The whole file `path` of `store` (at most `max_bytes`), never through a
// link: InvalidArgument for a link, FailedPrecondition for anything else
// that is not a regular file or a file too large, the store's error
// otherwise.
storage::Status ReadWhole(storage::Store& store, const std::string& path, uint64_t max_bytes,
                          std::string* content) {
  auto st = store.Stat(path);
  if (!st.ok()) return st.status();
  if (st->type == storage::StoreEntryType::kSymlink) {
    return absl::InvalidArgumentError("a symbolic link, not followed");
  }
  if (st->type != storage::StoreEntryType::kFile) {
    return absl::FailedPreconditionError("not a regular file");
  }
  if (st->size > max_bytes) {
    return absl::FailedPreconditionError("larger than " + std::to_string(max_bytes) + " bytes");
  }
  content->resize(static_cast<size_t>(st->size));
  auto n = store.ReadAt(path, 0, content->data(), content->size());
  if (!n.ok()) return n.status();
  content->resize(*n);
  return storage::Status();
}

// A tree node's name as one path component: never empty, ".", ".." or
// holding '/' or NUL (a hostile tree must not write outside the drill).
bool ValidName(const std::string& n) {
  return !n.empty() && n != "." && n != ".." && n.find('/') == std::string::npos &&
         n.find('\0') == std::string::npos;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

class Restorer {
 public:
  Restorer(storage::Store& store, const std::string& base, const std::string& shown,
           const ResticSampleOptions& o, int dest_fd, ResticRestore* out)
      : store_(store), base_(base), shown_(shown), opt_(o), dest_fd_(dest_fd), out_(out) {}

  void Run(const std::string& password, const std::string& snapshot_hex);

 private:
  bool Fail(const std::string& why) {
    out_->error = "restic repository '" + EscapeForTerminal(shown_) + "': " + why;
    return false;
  }
  std::string Path(const std::string& rel) const { return storage::JoinStorePath(base_, rel); }
  // A store call about `rel` failed with `s`: the store's error (the drill
  // could not read, ResticRestore::store_error) or the repository's state
  // (Fail, with `what` and the store's message).
  bool ReadError(const std::string& rel, const storage::Status& s, const std::string& what) {
    if (restic::ClassifyStoreFailure(store_, Path(rel), s) == restic::StoreFailure::kStore) {
      out_->store_error = "restic repository '" + EscapeForTerminal(shown_) + "': cannot read " +
                          rel + " from " + store_.Describe() + ": " + std::string(s.message());
      return false;
    }
    return Fail(what.empty() ? rel + ": cannot read: " + std::string(s.message()) : what);
  }
  // After a failed PackReader read: true (and store_error set) when the
  // store could not be read.
  bool StoreFailed() {
    if (reader_ == nullptr || reader_->store_error().ok()) return false;
    out_->store_error = "restic repository '" + EscapeForTerminal(shown_) +
                        "': " + std::string(reader_->store_error().message());
    return true;
  }
  bool OpenKey(const std::string& password);
  bool LoadIndex();
  bool ReadUnpacked(const std::string& rel, std::string* json);
  bool LoadTree(const std::string& id, const std::string& path, std::vector<TreeNode>* nodes);
  bool Count(const std::string& root);
  bool Sample(const std::string& root);
  bool Stopped() {
    if (!out_->stopped && opt_.stop && opt_.stop()) out_->stopped = true;
    return out_->stopped;
  }
  // The directory `rel` beneath the destination, made as needed (each
  // component created here, never through a link); -1 with *err.
  int MakeDir(const std::string& rel, std::string* err);
  bool RestoreFile(const TreeNode& n, const std::string& dir, const std::string& path);
  bool SyncDirs();

  storage::Store& store_;
  std::string base_;  // the repository's directory in the store
  std::string shown_;
  const ResticSampleOptions& opt_;
  int dest_fd_;
  ResticRestore* out_;
  restic::Key key_;
  BlobIndex index_;
  std::unique_ptr<PackReader> reader_;
  // Files and bytes below each distinct tree (the first pass).
  std::unordered_map<std::string, std::pair<uint64_t, uint64_t>> counts_;
  std::set<std::string> made_;  // directories created beneath the destination
  std::string plain_;
};

bool Restorer::OpenKey(const std::string& password) {
  std::vector<std::string> names;
  if (storage::Status s = ListRegular(store_, Path("keys"), &names); !s.ok()) {
    return ReadError("keys", s, "cannot list keys/: " + std::string(s.message()));
  }
  for (const std::string& n : names) {
    std::string content, err;
    size_t off = 0;
    if (storage::Status s = ReadWhole(store_, Path("keys/" + n), 1 << 20, &content); !s.ok()) {
      if (restic::ClassifyStoreFailure(store_, Path("keys/" + n), s) ==
          restic::StoreFailure::kStore) {
        return ReadError("keys/" + n, s, "");
      }
      continue;
    }
    if (restic::OpenKeyFile(content, password, opt_.max_scrypt_memory, &key_, &err, &off) ==
        restic::KeyOpen::kOpened) {
      return true;
    }
  }
  out_->key_error = "restic repository '" + EscapeForTerminal(shown_) +
                    "': the password opens none of the " + std::to_string(names.size()) +
                    " key(s) in keys/";
  return false;
}

bool Restorer::ReadUnpacked(const std::string& rel, std::string* json) {
  std::string content, plain, err;
  if (storage::Status s = ReadWhole(store_, Path(rel), opt_.max_metadata_bytes, &content);
      !s.ok()) {
    return ReadError(rel, s, "");
  }
  if (!restic::Decrypt(key_, content, &plain, &err) ||
      !restic::DecodeUnpacked(plain, opt_.max_metadata_bytes, json, &err)) {
    return Fail(rel + ": " + err);
  }
  return true;
}

bool Restorer::LoadIndex() {
  std::vector<std::string> names;
  if (storage::Status s = ListRegular(store_, Path("index"), &names); !s.ok()) {
    return ReadError("index", s, "cannot list index/: " + std::string(s.message()));
  }
  std::unordered_map<std::string, uint32_t> packs;
  for (const std::string& n : names) {
    std::string json, err;
    if (!ReadUnpacked("index/" + n, &json)) return false;
    std::vector<restic::IndexPack> list;
    size_t off = 0;
    if (!restic::ParseIndex(json, &list, &err, &off)) {
      return Fail("index/" + n + ": " + err + " (decrypted JSON, byte offset " +
                  std::to_string(off) + ")");
    }
    for (const auto& p : list) {
      auto [it, fresh] = packs.try_emplace(p.id, 0);
      if (fresh) it->second = index_.AddPack(p.id);
      for (const auto& b : p.blobs) index_.Add(it->second, b);
    }
  }
  index_.Finish();
  return true;
}

bool Restorer::LoadTree(const std::string& id, const std::string& path,
                        std::vector<TreeNode>* nodes) {
  std::string err;
  size_t off = 0;
  if (!reader_->ReadAny(id, /*tree=*/true, /*cold=*/false, &plain_, &err)) {
    if (StoreFailed()) return false;
    return Fail("tree of /" + EscapeForTerminal(path) + ": " + err);
  }
  if (!restic::ParseTree(plain_, nodes, &err, &off)) {
    return Fail("tree " + Hex(id) + " of /" + EscapeForTerminal(path) + ": " + err);
  }
  return true;
}

// Files and bytes below `root`, each distinct tree decoded once.
bool Restorer::Count(const std::string& root) {
  struct Frame {
    std::string id, path;
    std::vector<std::pair<std::string, std::string>> subdirs;
    size_t next = 0;
    uint64_t files = 0, bytes = 0;
  };
  std::vector<Frame> stack;
  std::vector<TreeNode> nodes;
  auto push = [&](const std::string& id, const std::string& path) {
    if (!LoadTree(id, path, &nodes)) return false;
    Frame f{id, path, {}, 0, 0, 0};
    for (const TreeNode& n : nodes) {
      if (n.type == "file") {
        ++f.files;
        f.bytes += n.size;
      } else if (n.type == "dir") {
        f.subdirs.emplace_back(n.subtree, Join(path, n.name));
      }
    }
    stack.push_back(std::move(f));
    return true;
  };
  if (!push(root, "")) return false;
  while (!stack.empty()) {
    if (Stopped()) return false;
    Frame& top = stack.back();
    if (top.next < top.subdirs.size()) {
      auto [id, path] = top.subdirs[top.next++];
      if (auto c = counts_.find(id); c != counts_.end()) {
        top.files += c->second.first;
        top.bytes += c->second.second;
      } else if (!push(id, path)) {
        return false;
      }
      continue;
    }
    const auto done = std::make_pair(top.files, top.bytes);
    counts_[top.id] = done;
    stack.pop_back();
    if (!stack.empty()) {
      stack.back().files += done.first;
      stack.back().bytes += done.second;
    }
  }
  out_->point_files = counts_[root].first;
  out_->point_bytes = counts_[root].second;
  return true;
}

int Restorer::MakeDir(const std::string& rel, std::string* err) {
  int fd = ::fcntl(dest_fd_, F_DUPFD_CLOEXEC, 0);
  std::string sofar;
  size_t start = 0;
  while (fd >= 0 && start < rel.size()) {
    size_t slash = rel.find('/', start);
    const std::string comp =
        rel.substr(start, slash == std::string::npos ? rel.npos : slash - start);
    start = slash == std::string::npos ? rel.size() : slash + 1;
    sofar = Join(sofar, comp);
    if (!made_.count(sofar)) {
      if (::mkdirat(fd, comp.c_str(), 0700) != 0) {
        *err =
            "cannot create directory '" + EscapeForTerminal(sofar) + "': " + std::strerror(errno);
        ::close(fd);
        return -1;
      }
      made_.insert(sofar);
    }
    int next = ::openat(fd, comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int e = errno;
    ::close(fd);
    fd = next;
    if (fd < 0)
      *err = "cannot open directory '" + EscapeForTerminal(sofar) + "': " + std::strerror(e);
  }
  return fd;
}

bool Restorer::RestoreFile(const TreeNode& n, const std::string& dir, const std::string& path) {
  ResticRestoredFile& rf = out_->files.emplace_back();
  rf.path = path;
  rf.size = n.size;
  for (const std::string& id : n.content) {
    auto at = index_.Find(id, /*tree=*/false);
    rf.blobs.emplace_back(id, at.empty() ? 0 : at.front().at.PlainSize());
  }
  std::string err;
  int dfd = MakeDir(dir, &err);
  if (dfd < 0) {
    out_->write_error = err;
    return false;
  }
  const std::string name = path.substr(dir.empty() ? 0 : dir.size() + 1);
  int fd = ::openat(dfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  const int open_errno = errno;
  ::close(dfd);
  if (fd < 0) {
    if (open_errno == EEXIST) {  // a tree listing one name twice
      rf.error = "is listed twice in its directory";
      return true;
    }
    out_->write_error =
        "cannot create '" + EscapeForTerminal(path) + "': " + std::strerror(open_errno);
    return false;
  }
  Fd out(fd);
  for (size_t i = 0; i < n.content.size(); ++i) {
    if (Stopped()) return false;
    const uint64_t before = reader_->bytes_read();
    if (!reader_->ReadAny(n.content[i], /*tree=*/false, /*cold=*/true, &plain_, &err)) {
      if (StoreFailed()) return false;
      rf.error =
          "blob " + std::to_string(i) + " of " + std::to_string(n.content.size()) + ": " + err;
      break;
    }
    out_->bytes_read += reader_->bytes_read() - before;
    rf.blobs[i].second = plain_.size();
    for (size_t off = 0; off < plain_.size();) {
      ssize_t w = ::write(out.fd, plain_.data() + off, plain_.size() - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        out_->write_error =
            "cannot write '" + EscapeForTerminal(path) + "': " + std::strerror(errno);
        return false;
      }
      off += static_cast<size_t>(w);
    }
    rf.written += plain_.size();
  }
  // Synced write: the copy is on stable storage before it counts.
  if (::fsync(out.fd) != 0) {
    out_->write_error = "cannot sync '" + EscapeForTerminal(path) + "': " + std::strerror(errno);
    return false;
  }
  if (opt_.progress && rf.error.empty()) opt_.progress(rf.written);
  return true;
}

// Every k-th file (tree order), restored as it is met; subtrees holding no
// pick are not decoded.
bool Restorer::Sample(const std::string& root) {
  const uint32_t want = opt_.sample_files == 0 ? 100 : opt_.sample_files;
  const uint64_t k = std::max<uint64_t>(1, out_->point_files / want);
  uint64_t index = 0, bytes = 0;
  struct Frame {
    std::vector<TreeNode> nodes;
    size_t next = 0;
    std::string path;   // relative to the snapshot's root
    bool valid = true;  // every component a valid name
  };
  std::vector<Frame> stack;
  stack.emplace_back();
  if (!LoadTree(root, "", &stack.back().nodes)) return false;
  while (!stack.empty() && out_->files.size() < want) {
    if (Stopped()) return false;
    Frame& top = stack.back();
    if (top.next >= top.nodes.size()) {
      stack.pop_back();
      continue;
    }
    const TreeNode& n = top.nodes[top.next++];
    const std::string path = Join(top.path, n.name);
    if (n.type == "dir") {
      const uint64_t files = counts_[n.subtree].first;
      const uint64_t pick = (index + k - 1) / k * k;  // the next index sampled
      if (pick >= index + files) {
        index += files;
        continue;
      }
      Frame f;
      f.path = path;
      f.valid = top.valid && ValidName(n.name);
      const std::string subtree = n.subtree;
      if (!LoadTree(subtree, path, &f.nodes)) return false;
      stack.push_back(std::move(f));
      continue;
    }
    if (n.type != "file") continue;
    if (index++ % k != 0) continue;
    if (opt_.sample_bytes != 0 && bytes + n.size > opt_.sample_bytes) continue;
    bytes += n.size;
    if (!top.valid || !ValidName(n.name)) {
      ResticRestoredFile& rf = out_->files.emplace_back();
      rf.path = path;
      rf.size = n.size;
      rf.error = "its path holds a name that cannot be restored ('/', '.', '..', empty or NUL)";
      continue;
    }
    const TreeNode node = n;  // RestoreFile may not hold a reference into the stack
    if (!RestoreFile(node, top.path, path)) return false;
  }
  return true;
}

bool Restorer::SyncDirs() {
  // Deepest first, then the destination itself.
  for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
    storage::BeneathOpen d = storage::OpenDirBeneath(dest_fd_, *it);
    if (d.fd < 0 || ::fsync(d.fd) != 0) {
      const int e = d.fd < 0 ? d.error : errno;
      if (d.fd >= 0) ::close(d.fd);
      out_->write_error = "cannot sync '" + EscapeForTerminal(*it) + "': " + std::strerror(e);
      return false;
    }
    ::close(d.fd);
  }
  if (::fsync(dest_fd_) != 0) {
    out_->write_error = std::string("cannot sync the drill directory: ") + std::strerror(errno);
    return false;
  }
  return true;
}

void Restorer::Run(const std::string& password, const std::string& snapshot_hex) {
  std::string raw;
  if (!restic::ParseId(snapshot_hex, &raw)) {
    Fail("'" + EscapeForTerminal(snapshot_hex) + "' is not a snapshot id");
    return;
  }
  if (!OpenKey(password)) return;
  // The snapshot the catalogue vouches for: its file hashes to its id.
  const std::string rel = "snapshots/" + snapshot_hex;
  std::string content, plain, json, err;
  if (storage::Status s = ReadWhole(store_, Path(rel), opt_.max_metadata_bytes, &content);
      !s.ok()) {
    ReadError(
        rel, s,
        absl::IsNotFound(s) ? "snapshot " + snapshot_hex + " is no longer in the repository" : "");
    return;
  }
  if (storage::HashBytes(storage::HashAlgorithm::kSha256, content).Hex() != snapshot_hex) {
    Fail(rel + ": content does not match its name (SHA-256)");
    return;
  }
  if (!ReadUnpacked(rel, &json)) return;
  restic::Snapshot snap;
  size_t off = 0;
  if (!restic::ParseSnapshot(json, &snap, &err, &off)) {
    Fail(rel + ": " + err);
    return;
  }
  std::string tree;
  restic::ParseId(snap.tree, &tree);
  if (!LoadIndex()) return;
  reader_ = std::make_unique<PackReader>(store_, base_, key_, index_);
  if (!Count(tree)) return;
  const auto start = std::chrono::steady_clock::now();
  if (Sample(tree)) SyncDirs();
  out_->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

ResticRestore RestoreResticSampleIn(storage::Store& store, const std::string& base,
                                    const std::string& shown, const std::string& password,
                                    const std::string& snapshot_hex,
                                    const ResticSampleOptions& options, int dest_fd) {
  ResticRestore out;
  try {
    Restorer(store, base, shown, options, dest_fd, &out).Run(password, snapshot_hex);
  } catch (const std::exception& e) {
    out.error = std::string("internal error: ") + e.what();
  }
  return out;
}

ResticRestore RestoreResticSample(int repo_fd, const std::string& shown,
                                  const std::string& password, const std::string& snapshot_hex,
                                  const ResticSampleOptions& options, int dest_fd) {
  auto store = storage::LocalStore::OpenAt(repo_fd, "", shown);
  if (!store.ok()) {
    ResticRestore out;
    out.error = "restic repository '" + EscapeForTerminal(shown) +
                "': " + std::string(store.status().message());
    return out;
  }
  return RestoreResticSampleIn(**store, "", shown, password, snapshot_hex, options, dest_fd);
}

std::string VerifyResticCopy(int dest_fd, const ResticRestoredFile& f) {
  OpenedFile o = OpenBeneath(dest_fd, f.path, Symlinks::kRefuse);
  if (o.fd < 0) return "restored copy cannot be opened: " + o.error_text;
  Fd fd(o.fd);
  // Read back from the device, not from the cache the writes left.
  ::posix_fadvise(fd.fd, 0, 0, POSIX_FADV_DONTNEED);
  auto hasher = storage::NewHasher(storage::HashAlgorithm::kSha256);
  std::vector<uint8_t> buf(1 << 20);
  uint64_t total = 0;
  auto read_some = [&](size_t want, size_t* got) -> std::string {
    *got = 0;
    while (*got < want) {
      ssize_t n = ::read(fd.fd, buf.data() + *got, want - *got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::string("restored copy cannot be read: ") + std::strerror(errno);
      if (n == 0) break;
      *got += static_cast<size_t>(n);
    }
    return "";
  };
  for (size_t i = 0; i < f.blobs.size(); ++i) {
    const auto& [id, size] = f.blobs[i];
    hasher->Reset();
    uint64_t left = size;
    while (left > 0) {
      size_t got = 0;
      if (std::string e =
              read_some(static_cast<size_t>(std::min<uint64_t>(left, buf.size())), &got);
          !e.empty()) {
        return e;
      }
      if (got == 0) {
        return "restored copy ends at byte " + std::to_string(total) + ", inside blob " +
               std::to_string(i) + " of " + std::to_string(f.blobs.size());
      }
      hasher->Update({buf.data(), got});
      left -= got;
      total += got;
    }
    if (hasher->Finish().view() != id) {
      return "restored content differs from blob " + std::to_string(i) + " (" + Hex(id) +
             ") of the tree";
    }
  }
  size_t extra = 0;
  if (std::string e = read_some(1, &extra); !e.empty()) return e;
  if (extra > 0) return "restored copy is longer than its blobs";
  if (total != f.size) {
    return "restored " + std::to_string(total) + " bytes, the tree records " +
           std::to_string(f.size);
  }
  return "";
}

}  // namespace vigil::formats
