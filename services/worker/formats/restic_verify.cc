// The restic Verifier over a repository on disk (restic.h); the parsers it
// uses are in restic_parse.cc.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <utility>

#include "services/worker/formats/restic.h"
#include "services/worker/formats/restic_repo.h"
#include "services/worker/formats/restic_walk.h"
#include "services/worker/formats/safe_io.h"
#include "storage/dir_names.h"
#include "storage/file_hasher.h"
#include "storage/hash.h"
#include "storage/tree_walker.h"

namespace vigil::formats {

namespace {

using restic::Hex;
using Dir = std::shared_ptr<storage::DirHandle>;

// Everything below the repository's root is opened relative to its parent
// directory's descriptor, one component at a time, with O_NOFOLLOW (and
// O_DIRECTORY for a directory), and listed with fstatat(AT_SYMLINK_NOFOLLOW):
// a symbolic link anywhere in the repository is reported ("symlink") and
// never followed (storage/open_beneath.h).

struct RepoFile {
  std::string rel;   // "data/ab/ab12...", "index/..."
  std::string name;  // last component
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  Dir dir;  // the directory holding it, open
};

bool IsHexName(std::string_view s) {
  std::string raw;
  return restic::ParseId(s, &raw);
}

void LinkFinding(Findings* out, const std::string& rel) {
  out->Error("symlink", rel, 0, "is a symbolic link (not followed)", rel);
}

// One entry of a directory, as lstat sees it.
struct Entry {
  std::string name;
  mode_t type = 0;  // S_IFREG, S_IFDIR, S_IFLNK, ...
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

// The entries of the directory open at `fd` (not ".", ".."), sorted by
// name; an errno on failure.
int ListDir(int fd, std::vector<Entry>* out) {
  std::vector<storage::DirName> names;
  if (int err = storage::ReadDirNames(fd, &names); err != 0) return err;
  for (const storage::DirName& n : names) {
    struct stat st;
    if (::fstatat(fd, n.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // vanished since the listing
      return errno;
    }
    Entry e;
    e.name = n.name;
    e.type = st.st_mode & S_IFMT;
    e.size = static_cast<uint64_t>(st.st_size);
    e.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
    out->push_back(std::move(e));
  }
  return 0;
}

// A directory of the repository: `name` beneath the open directory
// `parent`, never through a link.
struct SubDir {
  enum State { kMissing, kSymlink, kNotDirectory, kUnreadable, kOpen } state = kMissing;
  Dir dir;
  std::string error;  // kUnreadable
  bool present() const { return state != kMissing; }
};

SubDir OpenSubDir(int parent, const std::string& name) {
  SubDir s;
  struct stat st;
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno != ENOENT) {
      s.state = SubDir::kUnreadable;
      s.error = std::strerror(errno);
    }
    return s;
  }
  if (S_ISLNK(st.st_mode)) {
    s.state = SubDir::kSymlink;
    return s;
  }
  if (!S_ISDIR(st.st_mode)) {
    s.state = SubDir::kNotDirectory;
    return s;
  }
  int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    // Swapped for a link (or something else) since the fstatat.
    if (e == ELOOP || e == ENOTDIR) {
      s.state =
          ::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)
              ? SubDir::kSymlink
              : SubDir::kNotDirectory;
    } else if (e != ENOENT) {
      s.state = SubDir::kUnreadable;
      s.error = std::strerror(e);
    }
    return s;
  }
  s.state = SubDir::kOpen;
  s.dir = std::make_shared<storage::DirHandle>(fd);
  return s;
}

// Regular files directly in the directory `rel` (opened beneath `parent`),
// sorted by name. A symbolic link (the directory itself, or an entry) is an
// error, anything else that is not a regular file a warning; neither is
// opened. *sub: what `name` is, and the directory when it opened.
std::vector<RepoFile> ListFiles(int parent, const std::string& name, const std::string& rel,
                                SubDir* sub, Findings* out) {
  std::vector<RepoFile> files;
  *sub = OpenSubDir(parent, name);
  switch (sub->state) {
    case SubDir::kMissing:
      return files;
    case SubDir::kSymlink:
      LinkFinding(out, rel);
      return files;
    case SubDir::kNotDirectory:
      out->Error("unexpected_file", rel, 0, "is not a directory", rel);
      return files;
    case SubDir::kUnreadable:
      out->Error("unreadable", rel, 0, "cannot open directory: " + sub->error, rel);
      return files;
    case SubDir::kOpen:
      break;
  }
  std::vector<Entry> entries;
  if (int e = ListDir(sub->dir->fd(), &entries); e != 0) {
    out->Error("unreadable", rel, 0, std::string("cannot list directory: ") + std::strerror(e),
               rel);
  }
  for (Entry& e : entries) {
    std::string frel = rel + "/" + e.name;
    if (e.type == S_IFLNK) {
      LinkFinding(out, frel);
      continue;
    }
    if (e.type != S_IFREG) {
      out->Warning("unexpected_entry", frel, 0, "not a regular file (ignored)", frel);
      continue;
    }
    files.push_back({frel, std::move(e.name), e.size, e.mtime_ns, sub->dir});
  }
  return files;
}

bool Has(const std::vector<Finding>& list, std::string_view code) {
  for (const auto& f : list) {
    if (f.code == code) return true;
  }
  return false;
}

// Per-file result, merged into the report in listing order.
struct FileResult {
  Findings findings;
  uint64_t bytes_read = 0;
  uint64_t blobs_checked = 0;
  bool read = false;
  bool skipped = false;
  std::string plain_json;  // decrypted + decoded JSON (index, snapshot)
};

void NameCheck(const RepoFile& f, const storage::Digest& got, FileResult* res) {
  if (got.Hex() != f.name) {
    res->findings.Error(
        "name_mismatch", f.rel, 0,
        "content does not match its name: SHA-256 is " + got.Hex() + ", name says " + f.name,
        f.rel);
  }
}

class Verifier {
 public:
  Verifier(int root_fd, std::string shown, const ResticOptions& o, ResticReport* r)
      : root_fd_(root_fd), shown_(std::move(shown)), opt_(o), r_(r) {}

  void Run();

 private:
  void Merge(FileResult& res) {
    for (auto& e : res.findings.errors) r_->errors.push_back(std::move(e));
    for (auto& w : res.findings.warnings) r_->warnings.push_back(std::move(w));
    r_->bytes_read += res.bytes_read;
    r_->blobs_checked += res.blobs_checked;
  }
  bool ReadSmall(const RepoFile& f, std::string* content, FileResult* res);
  bool DecryptJson(const RepoFile& f, const std::string& content, FileResult* res);
  void OpenKeys(const std::vector<RepoFile>& keys);
  void ReadConfig();
  // Name check (and, with the key, decryption) of index or snapshot files.
  std::vector<FileResult> ReadUnpacked(const std::vector<RepoFile>& files);
  void CheckPack(const RepoFile& f, storage::FileHasher* hasher, FileResult* res);
  bool CheckPackContent(const RepoFile& f, const std::string& content, FileResult* res);
  void MarkUnusable(uint32_t pack, const FileResult& res);

  int root_fd_;        // the repository, open (not owned)
  std::string shown_;  // its path, for messages
  Dir root_dir_;       // a copy of it, for the files directly in it
  const ResticOptions& opt_;
  ResticReport* r_;
  bool have_key_ = false;
  restic::Key key_;
  // pack id (raw) -> blobs from every index, deduplicated by offset.
  std::unordered_map<std::string, std::map<uint64_t, restic::IndexBlob>> index_;
  std::unordered_map<std::string, std::string> pack_index_file_;  // first index naming it
  bool index_complete_ = true;                                    // every index file decoded
  // The same blobs by id, for the structure walk; packs by raw id.
  restic::BlobIndex blob_index_;
  std::unordered_map<std::string, uint32_t> pack_number_;
};

// Reads `f` from its directory's descriptor: one component, O_NOFOLLOW.
OpenedFile ReadRepoFile(const RepoFile& f, uint64_t max_bytes, std::string* content) {
  return ReadBeneath(f.dir->fd(), f.name, Symlinks::kRefuse, max_bytes, content);
}

void ReadFailed(const RepoFile& f, const OpenedFile& o, FileResult* res) {
  if (o.symlink) {
    LinkFinding(&res->findings, f.rel);  // swapped for a link since the listing
  } else {
    res->findings.Error("unreadable", f.rel, 0, "cannot read: " + o.error_text, f.rel);
  }
}

bool Verifier::ReadSmall(const RepoFile& f, std::string* content, FileResult* res) {
  OpenedFile o = ReadRepoFile(f, opt_.max_metadata_bytes, content);
  if (o.error != 0) {
    ReadFailed(f, o, res);
    return false;
  }
  res->read = true;
  res->bytes_read += content->size();
  return true;
}

bool Verifier::DecryptJson(const RepoFile& f, const std::string& content, FileResult* res) {
  std::string plain, err;
  if (!restic::Decrypt(key_, content, &plain, &err)) {
    res->findings.Error("undecryptable", f.rel, 0, "cannot decrypt: " + err, f.rel);
    return false;
  }
  if (!restic::DecodeUnpacked(plain, opt_.max_metadata_bytes, &res->plain_json, &err)) {
    res->findings.Error("undecodable", f.rel, 0, "decrypted content: " + err, f.rel);
    return false;
  }
  return true;
}

void Verifier::OpenKeys(const std::vector<RepoFile>& keys) {
  for (const RepoFile& f : keys) {
    FileResult res;
    std::string content, err;
    size_t off = 0;
    if (!ReadSmall(f, &content, &res)) {
      Merge(res);
      continue;
    }
    switch (
        restic::OpenKeyFile(content, opt_.password, opt_.max_scrypt_memory, &key_, &err, &off)) {
      case restic::KeyOpen::kOpened:
        have_key_ = true;
        r_->key_file = f.rel;
        return;
      case restic::KeyOpen::kWrongPassword:
        continue;  // another password's key
      case restic::KeyOpen::kMalformed:
        res.findings.Error("bad_key_file", f.rel, 0, err, f.rel, static_cast<int64_t>(off));
        break;
      case restic::KeyOpen::kBadMasterKey:
        res.findings.Error("bad_key_file", f.rel, 0, err, f.rel);
        break;
      case restic::KeyOpen::kNotTried:
        res.findings.Warning("key_not_tried", f.rel, 0, err, f.rel);
        break;
    }
    Merge(res);
  }
  r_->password_error = keys.empty() ? "no key files in keys/"
                                    : "the password opens none of the " +
                                          std::to_string(keys.size()) + " key(s) in keys/";
}

void Verifier::ReadConfig() {
  RepoFile f{"config", "config", 0, 0, root_dir_};
  FileResult res;
  std::string content, err;
  size_t off = 0;
  if (!ReadSmall(f, &content, &res)) {
    Merge(res);
    return;
  }
  if (DecryptJson(f, content, &res)) {
    restic::Config c;
    if (!restic::ParseConfig(res.plain_json, &c, &err, &off)) {
      res.findings.Error("bad_config", f.rel, 0, err, f.rel, static_cast<int64_t>(off));
    } else {
      r_->version = c.version;
      r_->repository_id = c.id;
    }
  }
  Merge(res);
}

std::vector<FileResult> Verifier::ReadUnpacked(const std::vector<RepoFile>& files) {
  std::vector<FileResult> results(files.size());
  ParallelFor(files.size(), opt_.threads, [&](size_t i, int) {
    const RepoFile& f = files[i];
    FileResult& res = results[i];
    std::string content;
    if (!ReadSmall(f, &content, &res)) return;
    NameCheck(f, storage::HashBytes(storage::HashAlgorithm::kSha256, content), &res);
    if (have_key_) DecryptJson(f, content, &res);
  });
  return results;
}

void Verifier::CheckPack(const RepoFile& f, storage::FileHasher* hasher, FileResult* res) {
  if ((!opt_.read_data || opt_.skip_known_with_read_data) && opt_.known_packs != nullptr) {
    std::string raw;
    restic::ParseId(f.name, &raw);
    auto it = opt_.known_packs->find(raw);
    if (it != opt_.known_packs->end() && it->second == f.size) {
      res->skipped = true;
      return;
    }
  }
  if (!opt_.read_data) {
    storage::FileReading rd = hasher->Read(f.dir->fd(), f.name.c_str(), f.size);
    if (!rd.ok) {
      if (rd.error == ELOOP) {
        LinkFinding(&res->findings, f.rel);  // swapped for a link since the listing
      } else {
        res->findings.Error("unreadable", f.rel, 0, "cannot read: " + rd.error_text, f.rel);
      }
      return;
    }
    res->read = true;
    res->bytes_read += rd.bytes;
    NameCheck(f, rd.digest, res);
    return;
  }
  // One buffer per thread, reused pack after pack (a fresh 16 MiB string
  // per pack costs a page fault per page).
  thread_local std::string content;
  OpenedFile o = ReadRepoFile(f, 1ull << 34, &content);
  if (o.error != 0) {
    ReadFailed(f, o, res);
    return;
  }
  res->read = true;
  res->bytes_read += content.size();
  if (have_key_) {
    // A pack whose every byte the blob-level checks authenticated is not
    // hashed as a whole again: one SHA-256 pass over the data instead of
    // two. Anything amiss, and the name check runs as well.
    const size_t errors = res->findings.errors.size();
    if (CheckPackContent(f, content, res) && res->findings.errors.size() == errors) return;
  }
  NameCheck(f, storage::HashBytes(storage::HashAlgorithm::kSha256, content), res);
}

bool Verifier::CheckPackContent(const RepoFile& f, const std::string& content, FileResult* res) {
  auto& fnd = res->findings;
  if (content.size() < 4) {
    fnd.Error("pack_header_invalid", f.rel, 0,
              "pack of " + std::to_string(content.size()) + " bytes has no header length", f.rel);
    return false;
  }
  uint64_t hlen = static_cast<uint8_t>(content[content.size() - 4]) |
                  (static_cast<uint64_t>(static_cast<uint8_t>(content[content.size() - 3])) << 8) |
                  (static_cast<uint64_t>(static_cast<uint8_t>(content[content.size() - 2])) << 16) |
                  (static_cast<uint64_t>(static_cast<uint8_t>(content[content.size() - 1])) << 24);
  int64_t len_at = static_cast<int64_t>(content.size()) - 4;
  if (hlen > content.size() - 4 || hlen < restic::kOverhead) {
    fnd.Error("pack_header_invalid", f.rel, 0,
              "header length " + std::to_string(hlen) + " does not fit a pack of " +
                  std::to_string(content.size()) + " bytes",
              f.rel, len_at);
    return false;
  }
  uint64_t hstart = content.size() - 4 - hlen;
  thread_local std::string plain;
  std::string err;
  if (!restic::Decrypt(key_, std::string_view(content).substr(hstart, hlen), &plain, &err)) {
    fnd.Error("pack_header_invalid", f.rel, 0, "cannot decrypt header: " + err, f.rel,
              static_cast<int64_t>(hstart));
    return false;
  }
  std::vector<restic::PackBlob> blobs;
  size_t off = 0;
  if (!restic::ParsePackHeader(plain, &blobs, &err, &off)) {
    fnd.Error("pack_header_invalid", f.rel, 0,
              err + " at header byte " + std::to_string(off) + " (plaintext)", f.rel,
              static_cast<int64_t>(hstart));
    return false;
  }
  uint64_t end = blobs.empty() ? 0 : blobs.back().offset + blobs.back().length;
  if (end != hstart) {
    fnd.Error("pack_header_invalid", f.rel, 0,
              "header lists blobs up to byte " + std::to_string(end) +
                  " but the header starts at " + std::to_string(hstart),
              f.rel, static_cast<int64_t>(hstart));
    if (end > hstart) return false;
  }
  // Compare with the index.
  std::string raw_id;
  restic::ParseId(f.name, &raw_id);
  auto idx = index_.find(raw_id);
  const bool indexed = idx != index_.end();
  if (indexed) {
    std::set<std::pair<uint64_t, std::string>> in_header;
    for (const auto& b : blobs) {
      in_header.emplace(b.offset, b.id);
      auto ib = idx->second.find(b.offset);
      if (ib == idx->second.end() || ib->second.id != b.id || ib->second.tree != b.tree ||
          ib->second.length != b.length ||
          ib->second.uncompressed_length != (b.compressed ? b.uncompressed_length : 0)) {
        fnd.Error("index_mismatch", f.rel, 0,
                  std::string(b.tree ? "tree" : "data") + " blob " + Hex(b.id) +
                      " in the pack header is not in the index as such (offset " +
                      std::to_string(b.offset) + ", length " + std::to_string(b.length) + ")",
                  f.rel, static_cast<int64_t>(b.offset));
      }
    }
    for (const auto& [o, ib] : idx->second) {
      if (!in_header.count({o, ib.id})) {
        fnd.Error("index_mismatch", f.rel, 0,
                  "blob " + Hex(ib.id) + " listed by " + pack_index_file_[raw_id] + " at offset " +
                      std::to_string(o) + " is not in the pack header",
                  f.rel, static_cast<int64_t>(o));
      }
    }
  }
  // Every blob: MAC, decompression, SHA-256 = id.
  thread_local std::string dec;
  size_t verified = 0;
  for (const auto& b : blobs) {
    if (b.offset + b.length > hstart) break;
    std::string what = std::string(b.tree ? "tree" : "data") + " blob " + Hex(b.id);
    if (!restic::Decrypt(key_, std::string_view(content).substr(b.offset, b.length), &plain,
                         &err)) {
      fnd.Error("blob_undecryptable", f.rel, 0, what + ": " + err, f.rel,
                static_cast<int64_t>(b.offset));
      continue;
    }
    const std::string* data = &plain;
    if (b.compressed) {
      if (!restic::ZstdDecompress(plain, b.uncompressed_length, &dec, &err)) {
        fnd.Error("blob_undecodable", f.rel, 0, what + ": " + err, f.rel,
                  static_cast<int64_t>(b.offset));
        continue;
      }
      if (dec.size() != b.uncompressed_length) {
        fnd.Error("blob_undecodable", f.rel, 0,
                  what + ": decompressed to " + std::to_string(dec.size()) +
                      " bytes, header says " + std::to_string(b.uncompressed_length),
                  f.rel, static_cast<int64_t>(b.offset));
        continue;
      }
      data = &dec;
    }
    storage::Digest d = storage::HashBytes(storage::HashAlgorithm::kSha256, *data);
    if (d.view() != b.id) {
      fnd.Error("blob_hash_mismatch", f.rel, 0,
                what + ": content hashes to " + d.Hex() + " (SHA-256)", f.rel,
                static_cast<int64_t>(b.offset));
      continue;
    }
    ++res->blobs_checked;
    ++verified;
  }
  // Every byte authenticated: blobs back to back up to the header, each
  // one's MAC and SHA-256 right, the header's MAC right and as the index has
  // it (the caller also requires that no finding was made).
  return indexed && end == hstart && verified == blobs.size();
}

void Verifier::Run() {
  Findings top;
  root_dir_ = std::make_shared<storage::DirHandle>(::fcntl(root_fd_, F_DUPFD_CLOEXEC, 0));
  if (root_dir_->fd() < 0) {
    r_->fatal = std::string("cannot use the repository's directory: ") + std::strerror(errno);
    return;
  }
  // config: a regular file directly in the root, never through a link.
  struct stat cst {};
  const bool config_present =
      ::fstatat(root_fd_, "config", &cst, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
  const bool config_link = config_present && S_ISLNK(cst.st_mode);
  const bool config_exists = config_present && S_ISREG(cst.st_mode);
  SubDir keys_dir, locks_dir, data_dir;
  std::vector<RepoFile> keys = ListFiles(root_fd_, "keys", "keys", &keys_dir, &top);
  std::vector<RepoFile> locks = ListFiles(root_fd_, "locks", "locks", &locks_dir, &top);
  data_dir = OpenSubDir(root_fd_, "data");
  if (!config_present && !keys_dir.present() && !data_dir.present()) {
    r_->fatal = "'" + shown_ + "' is not a restic repository (no config, keys/ or data/)";
    return;
  }
  if (config_link) {
    LinkFinding(&top, "config");
  } else if (!config_exists) {
    top.Error("missing_config", "config", 0,
              config_present ? "config is not a regular file" : "config file is missing", "config");
  }
  if (keys.empty() && keys_dir.state != SubDir::kSymlink) {
    top.Error("missing_keys", "keys", 0, "no key files in keys/", "keys");
  }
  for (const auto& k : keys) {
    ++r_->keys.files;
    r_->keys.bytes += k.size;
  }
  for (const auto& l : locks) {
    ++r_->locks.files;
    r_->locks.bytes += l.size;
  }
  // Unknown top-level entries.
  static const std::set<std::string> kKnown = {"config",    "keys",  "locks",
                                               "snapshots", "index", "data"};
  std::vector<Entry> top_entries;
  if (int e = ListDir(root_fd_, &top_entries); e != 0) {
    top.Error("unreadable", "", 0, std::string("cannot list the repository: ") + std::strerror(e));
  }
  for (const Entry& e : top_entries) {
    if (kKnown.count(e.name)) continue;
    if (e.type == S_IFLNK) {
      LinkFinding(&top, e.name);
    } else {
      top.Warning("unexpected_entry", e.name, 0, "not part of a restic repository", e.name);
    }
  }
  for (auto& e : top.errors) r_->errors.push_back(std::move(e));
  for (auto& w : top.warnings) r_->warnings.push_back(std::move(w));
  top = {};

  if (opt_.has_password && !keys.empty()) {
    OpenKeys(keys);
    if (have_key_ && config_exists) ReadConfig();
  } else if (opt_.has_password) {
    r_->password_error = keys_dir.state == SubDir::kSymlink
                             ? "keys/ is a symbolic link (not followed): no key to open"
                             : "no key files in keys/";
  }

  // Snapshots first, then indexes, then packs: a backup writes packs, then
  // its index, then its snapshot.
  SubDir snaps_dir, index_dir;
  std::vector<RepoFile> snaps = ListFiles(root_fd_, "snapshots", "snapshots", &snaps_dir, &top);
  auto keep_hex = [&](std::vector<RepoFile>& files, ResticDirStats* stats) {
    std::vector<RepoFile> kept;
    for (auto& f : files) {
      ++stats->files;
      stats->bytes += f.size;
      if (IsHexName(f.name)) {
        kept.push_back(std::move(f));
      } else {
        top.Error("unexpected_file", f.rel, 0, "name is not a SHA-256 in lower-case hex", f.rel);
      }
    }
    files = std::move(kept);
  };
  keep_hex(snaps, &r_->snapshots_dir);
  std::vector<FileResult> snap_results = ReadUnpacked(snaps);
  for (size_t i = 0; i < snaps.size(); ++i) {
    FileResult& res = snap_results[i];
    r_->snapshot_files.push_back({snaps[i].name, snaps[i].size,
                                  res.read && !Has(res.findings.errors, "name_mismatch"), false,
                                  snaps[i].mtime_ns});
    if (have_key_ && !res.plain_json.empty()) {
      restic::Snapshot s;
      std::string err;
      size_t off = 0;
      if (restic::ParseSnapshot(res.plain_json, &s, &err, &off)) {
        s.id = snaps[i].name;
        r_->snapshots.push_back(std::move(s));
      } else {
        res.findings.Error("bad_snapshot", snaps[i].rel, 0, err + " (decrypted JSON)", snaps[i].rel,
                           static_cast<int64_t>(off));
      }
    }
    Merge(res);
  }
  std::stable_sort(
      r_->snapshots.begin(), r_->snapshots.end(),
      [](const restic::Snapshot& a, const restic::Snapshot& b) { return a.time < b.time; });

  std::vector<RepoFile> indexes = ListFiles(root_fd_, "index", "index", &index_dir, &top);
  // Indexes not read: a pack is then "not in any readable index", not
  // unreferenced, and a snapshot's tree is not looked for.
  if (index_dir.state != SubDir::kOpen && index_dir.present()) index_complete_ = false;
  keep_hex(indexes, &r_->index);
  std::vector<FileResult> index_results = ReadUnpacked(indexes);
  for (size_t i = 0; i < indexes.size(); ++i) {
    FileResult& res = index_results[i];
    if (have_key_) {
      std::vector<restic::IndexPack> packs;
      std::string err;
      size_t off = 0;
      if (res.plain_json.empty()) {
        index_complete_ = false;
      } else if (!restic::ParseIndex(res.plain_json, &packs, &err, &off)) {
        index_complete_ = false;
        res.findings.Error("bad_index", indexes[i].rel, 0, err + " (decrypted JSON)",
                           indexes[i].rel, static_cast<int64_t>(off));
      } else {
        for (auto& p : packs) {
          auto& m = index_[p.id];
          pack_index_file_.emplace(p.id, indexes[i].rel);
          for (auto& b : p.blobs) m.emplace(b.offset, std::move(b));
        }
      }
    }
    Merge(res);
  }
  r_->indexed_packs = index_.size();
  for (const auto& [id, blobs] : index_) {
    r_->indexed_blobs += blobs.size();
    const uint32_t p = blob_index_.AddPack(id);
    pack_number_.emplace(id, p);
    for (const auto& [o, b] : blobs) blob_index_.Add(p, b);
  }
  blob_index_.Finish();

  // Packs: data/XX/<id>, each directory opened beneath its parent.
  std::vector<RepoFile> packs;
  switch (data_dir.state) {
    case SubDir::kMissing:
      top.Error("missing_data", "data", 0, "data/ directory is missing", "data");
      break;
    case SubDir::kSymlink:
      LinkFinding(&top, "data");
      break;
    case SubDir::kNotDirectory:
      top.Error("missing_data", "data", 0, "data is not a directory", "data");
      break;
    case SubDir::kUnreadable:
      top.Error("unreadable", "data", 0, "cannot open directory: " + data_dir.error, "data");
      break;
    case SubDir::kOpen:
      break;
  }
  if (data_dir.state == SubDir::kOpen) {
    std::vector<Entry> subdirs;
    if (int e = ListDir(data_dir.dir->fd(), &subdirs); e != 0) {
      top.Error("unreadable", "data", 0, std::string("cannot list directory: ") + std::strerror(e),
                "data");
    }
    for (const Entry& sd : subdirs) {
      const std::string rel = "data/" + sd.name;
      if (sd.type == S_IFLNK) {
        LinkFinding(&top, rel);
        continue;
      }
      if (sd.type != S_IFDIR) {
        top.Error("unexpected_file", rel, 0, "file directly under data/", rel);
        continue;
      }
      SubDir sub;
      auto files = ListFiles(data_dir.dir->fd(), sd.name, rel, &sub, &top);
      for (auto& f : files) {
        ++r_->data.files;
        r_->data.bytes += f.size;
        if (!IsHexName(f.name)) {
          top.Error("unexpected_file", f.rel, 0, "name is not a SHA-256 in lower-case hex", f.rel);
          continue;
        }
        if (f.name.compare(0, 2, sd.name) != 0) {
          top.Error("misplaced_pack", f.rel, 0, "pack belongs in data/" + f.name.substr(0, 2) + "/",
                    f.rel);
        }
        packs.push_back(std::move(f));
      }
    }
  }
  for (auto& e : top.errors) r_->errors.push_back(std::move(e));
  for (auto& w : top.warnings) r_->warnings.push_back(std::move(w));
  top = {};

  std::vector<FileResult> pack_results(packs.size());
  std::vector<std::unique_ptr<storage::FileHasher>> hashers(64);
  ParallelFor(packs.size(), opt_.threads, [&](size_t i, int w) {
    auto& h = hashers[static_cast<size_t>(w) % hashers.size()];
    if (!h) h = std::make_unique<storage::FileHasher>(storage::HashAlgorithm::kSha256);
    CheckPack(packs[i], h.get(), &pack_results[i]);
  });
  std::set<std::string> present;
  for (size_t i = 0; i < packs.size(); ++i) {
    const RepoFile& f = packs[i];
    std::string raw;
    restic::ParseId(f.name, &raw);
    present.insert(raw);
    FileResult& res = pack_results[i];
    if (res.read && opt_.read_data) ++r_->packs_read;
    if (res.skipped) ++r_->packs_skipped;
    const bool name_ok = res.skipped || (res.read && !Has(res.findings.errors, "name_mismatch"));
    auto it = index_.find(raw);
    const bool referenced = it != index_.end();
    r_->pack_files.push_back({f.name, f.size, name_ok, res.skipped, 0, referenced});
    if (have_key_) {
      if (!referenced && index_complete_) {
        // No snapshot can need it: whatever is wrong with it (garbage,
        // another repository's key, a half-written pack) is a hint, as
        // `restic check` says, naming what is wrong.
        std::string what;
        for (const Finding& e : res.findings.errors) {
          if (what.empty()) what = e.message;
        }
        if (res.findings.errors.size() > 1) {
          what += " (and " + std::to_string(res.findings.errors.size() - 1) + " more problems)";
        }
        res.findings.errors.clear();
        res.findings.Warning("unreferenced_pack", f.rel, 0,
                             "pack not referenced in any index (non-critical: `restic prune` "
                             "removes it)" +
                                 (what.empty() ? std::string() : "; its content: " + what),
                             f.rel);
      } else if (!referenced) {
        res.findings.Warning(
            "unreferenced_pack", f.rel, 0,
            "pack not referenced in any readable index (an index file failed to decode)", f.rel);
      } else {
        uint64_t end = 0, header = restic::kOverhead + 4;
        for (const auto& [o, b] : it->second) {
          end = std::max(end, o + b.length);
          header += b.uncompressed_length > 0 ? 41 : 37;
        }
        uint64_t expected = end + header;
        if (f.size < end + restic::kOverhead + 4) {
          res.findings.Error("pack_truncated", f.rel, 0,
                             "pack is " + std::to_string(f.size) +
                                 " bytes, the index implies at least " +
                                 std::to_string(end + restic::kOverhead + 4) +
                                 " (blobs up to byte " + std::to_string(end) + " and a header)",
                             f.rel);
        } else if (f.size != expected) {
          res.findings.Warning("pack_size_mismatch", f.rel, 0,
                               "pack is " + std::to_string(f.size) + " bytes, the index implies " +
                                   std::to_string(expected),
                               f.rel);
        }
      }
    }
    if (have_key_ && referenced) MarkUnusable(pack_number_.at(raw), res);
    Merge(res);
  }
  if (have_key_) {
    std::vector<std::pair<std::string, std::string>> missing;  // hex, index file
    for (const auto& [id, blobs] : index_) {
      if (!present.count(id)) missing.emplace_back(Hex(id), pack_index_file_[id]);
    }
    std::sort(missing.begin(), missing.end());
    for (const auto& [hex, idx] : missing) {
      std::string rel = "data/" + hex.substr(0, 2) + "/" + hex;
      r_->errors.push_back(
          Finding{"missing_pack", rel, 0, -1, rel, "pack listed by " + idx + " does not exist"});
    }
    for (const auto& [id, blobs] : index_) {
      if (!present.count(id))
        blob_index_.MarkPackBad(pack_number_.at(id), "the pack does not exist");
    }
    // The structure: every snapshot's trees, every data blob they need.
    restic::PackReader reader(root_fd_, key_, blob_index_);
    Findings walk;
    ResticWalkStats stats;
    WalkResticSnapshots(r_->snapshots, blob_index_, &reader, index_complete_, &walk, &stats);
    r_->trees_checked = stats.trees;
    r_->data_refs_checked = stats.data_refs;
    r_->bytes_read += reader.bytes_read();
    r_->incomplete_snapshots = std::move(stats.incomplete_snapshots);
    for (auto& e : walk.errors) r_->errors.push_back(std::move(e));
    for (auto& w : walk.warnings) r_->warnings.push_back(std::move(w));
  }
}

// What the pack checks found makes blobs unusable for a restore: the whole
// pack when it cannot be trusted at all, single blobs when --read-data
// pinned the damage to them.
void Verifier::MarkUnusable(uint32_t pack, const FileResult& res) {
  if (res.skipped) return;  // verified at an earlier run
  if (!res.read) {
    blob_index_.MarkPackBad(pack, "the pack cannot be read");
    return;
  }
  for (const Finding& e : res.findings.errors) {
    if (e.code == "pack_truncated") {
      blob_index_.MarkPackBad(pack, "the pack is truncated");
    } else if (e.code == "pack_header_invalid") {
      blob_index_.MarkPackBad(pack, "the pack's header is unusable");
    } else if (e.code == "name_mismatch" && !opt_.read_data) {
      // Without --read-data nothing says which blob the damage is in.
      blob_index_.MarkPackBad(pack, "the pack's content does not match its name");
    } else if ((e.code == "blob_undecryptable" || e.code == "blob_undecodable" ||
                e.code == "blob_hash_mismatch" || e.code == "index_mismatch") &&
               e.offset >= 0) {
      blob_index_.MarkBlobBad(pack, static_cast<uint64_t>(e.offset),
                              "fails its check (" + e.code + ")");
    }
  }
}

}  // namespace

ResticReport VerifyResticAt(int root_fd, const std::string& shown, const ResticOptions& options) {
  ResticReport r;
  r.root = shown;
  std::string root = shown;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  try {
    Verifier v(root_fd, root, options, &r);
    v.Run();
  } catch (const std::exception& e) {
    r.fatal = std::string("internal error: ") + e.what();
  }
  return r;
}

ResticReport VerifyRestic(const std::string& path, const ResticOptions& options) {
  // The directory named is opened by its path (it may be reached through
  // links); nothing beneath it is.
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    ResticReport r;
    r.root = path;
    std::string root = path;
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    r.fatal = "'" + root + "' is not a directory";
    if (errno != ENOTDIR && errno != ENOENT)
      r.fatal += std::string(" (") + std::strerror(errno) + ")";
    return r;
  }
  ResticReport r = VerifyResticAt(fd, path, options);
  ::close(fd);
  return r;
}

}  // namespace vigil::formats
