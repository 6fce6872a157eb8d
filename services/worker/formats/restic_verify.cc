// The restic Verifier over a repository in a storage::Store (restic.h); the
// parsers it uses are in restic_parse.cc.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

#include "services/worker/formats/restic.h"
#include "services/worker/formats/restic_repo.h"
#include "services/worker/formats/restic_walk.h"
#include "services/worker/formats/safe_io.h"
#include "storage/hash.h"
#include "storage/local_store.h"

namespace vigil::formats {

namespace {

using restic::Hex;
using restic::StoreFailure;
using storage::StoreEntry;
using storage::StoreEntryType;

// A pack up to ResticOptions::pack_window_bytes (32 MiB) is read with one
// request and checked in memory (restic's packs are 16 MiB by default); a
// larger one is read by ranges: its tail (the header), then runs of
// adjacent blobs up to that many bytes (a single blob of up to
// kMaxBlobBytes alone).
//
// The tail read first from a large pack: its header length and, mostly,
// the whole header.
constexpr uint64_t kPackTailBytes = 256ull << 10;
// Reads of a pack hashed as a whole (its name check): 1 MiB, as
// storage::FileHasher (4 MiB measured slower locally: the buffer leaves the
// cache before it is hashed).
constexpr size_t kHashChunkBytes = 1u << 20;

// Everything is read through the store (storage/store.h), beneath the
// repository's directory in it; a LocalStore opens each path beneath its
// root with no symbolic link followed, and lists links as links: a
// symbolic link anywhere in the repository is reported ("symlink") and
// never followed.

struct RepoFile {
  std::string rel;   // "data/ab/ab12...", "index/...": relative to the repository
  std::string name;  // last component
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

bool IsHexName(std::string_view s) {
  std::string raw;
  return restic::ParseId(s, &raw);
}

void LinkFinding(Findings* out, const std::string& rel) {
  out->Error("symlink", rel, 0, "is a symbolic link (not followed)", rel);
}

// A directory of the repository as its parent's listing shows it.
enum class DirState { kMissing, kSymlink, kNotDirectory, kDirectory };

DirState StateOf(const std::map<std::string, StoreEntry>& listing, const std::string& name) {
  auto it = listing.find(name);
  if (it == listing.end()) return DirState::kMissing;
  switch (it->second.type) {
    case StoreEntryType::kDirectory:
      return DirState::kDirectory;
    case StoreEntryType::kSymlink:
      return DirState::kSymlink;
    default:
      return DirState::kNotDirectory;
  }
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

// The bytes of one pack being checked with --read-data: the whole pack when
// it is small (one request), else one range at a time (at most
// ResticOptions::pack_window_bytes). One per thread, reused pack after pack (a fresh 16 MiB
// string per pack costs a page fault per page).
struct PackBytes {
  std::string buf;
  uint64_t start = 0;  // offset of buf[0] in the pack
  bool Holds(uint64_t off, uint64_t len) const {
    return off >= start && off - start <= buf.size() && len <= buf.size() - (off - start);
  }
  std::string_view View(uint64_t off, uint64_t len) const {
    return std::string_view(buf).substr(off - start, len);
  }
  bool Whole(uint64_t size) const { return start == 0 && buf.size() == size; }
};

class Verifier {
 public:
  Verifier(storage::Store& store, std::string base, std::string shown, const ResticOptions& o,
           ResticReport* r)
      : store_(store), base_(std::move(base)), shown_(std::move(shown)), opt_(o), r_(r) {}

  void Run();
  // The store could not be read: OK, or the first such error.
  storage::Status store_error() {
    std::lock_guard lock(mu_);
    return store_error_;
  }

 private:
  void Merge(FileResult& res) {
    for (auto& e : res.findings.errors) r_->errors.push_back(std::move(e));
    for (auto& w : res.findings.warnings) r_->warnings.push_back(std::move(w));
    r_->bytes_read += res.bytes_read;
    r_->blobs_checked += res.blobs_checked;
  }
  std::string Path(std::string_view rel) const { return storage::JoinStorePath(base_, rel); }
  bool Failed() const { return failed_.load(std::memory_order_relaxed); }
  void StoreFailed(const std::string& rel, const storage::Status& s) {
    std::lock_guard lock(mu_);
    if (store_error_.ok()) {
      store_error_ = storage::Status(
          s.code(), "cannot read " + (rel.empty() ? "the repository" : rel) + " from " +
                        store_.Describe() + ": " + std::string(s.message()));
    }
    failed_.store(true, std::memory_order_relaxed);
  }
  // A read of `f` failed with `s`: a finding about the repository (gone,
  // a link, not a file), or the store's error (StoreFailed).
  void ReadFailed(const RepoFile& f, const storage::Status& s, FileResult* res);
  // The entries of the repository's directory `rel`, by name; false when it
  // cannot be listed (a finding, or StoreFailed). *gone: it vanished.
  bool ListDir(const std::string& rel, std::map<std::string, StoreEntry>* out, Findings* fnd);
  // Regular files directly in the directory `rel` (`state` as its parent
  // listed it), sorted by name. A symbolic link (the directory itself, or
  // an entry) is an error, anything else that is not a regular file a
  // warning; neither is read.
  std::vector<RepoFile> ListFiles(const std::string& rel, DirState state, Findings* out,
                                  bool* listed = nullptr);
  bool ReadSmall(const RepoFile& f, std::string* content, FileResult* res);
  bool DecryptJson(const RepoFile& f, const std::string& content, FileResult* res);
  void OpenKeys(const std::vector<RepoFile>& keys);
  void ReadConfig(uint64_t size);
  // Name check (and, with the key, decryption) of index or snapshot files.
  std::vector<FileResult> ReadUnpacked(const std::vector<RepoFile>& files);
  // Reads [off, off + len) of pack `f` into *b (replacing what it held);
  // false (a finding, or StoreFailed) when it cannot.
  bool LoadPack(const RepoFile& f, uint64_t off, uint64_t len, PackBytes* b, FileResult* res);
  // The SHA-256 of the whole pack `f`: from *b when it holds it, else read
  // again through the store. False when it cannot be read.
  bool HashPack(const RepoFile& f, const PackBytes& b, storage::Digest* d, FileResult* res);
  void CheckPack(const RepoFile& f, FileResult* res);
  bool CheckPackContent(const RepoFile& f, PackBytes* b, FileResult* res);
  void MarkUnusable(uint32_t pack, const FileResult& res);

  storage::Store& store_;
  std::string base_;   // the repository's directory in the store
  std::string shown_;  // its path, for messages
  const ResticOptions& opt_;
  ResticReport* r_;
  std::mutex mu_;
  storage::Status store_error_;  // guarded by mu_
  std::atomic<bool> failed_{false};
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

void Verifier::ReadFailed(const RepoFile& f, const storage::Status& s, FileResult* res) {
  switch (restic::ClassifyStoreFailure(store_, Path(f.rel), s)) {
    case StoreFailure::kSymlink:
      LinkFinding(&res->findings, f.rel);  // swapped for a link since the listing
      return;
    case StoreFailure::kGone:
      res->findings.Error("unreadable", f.rel, 0, "cannot read: not found", f.rel);
      return;
    case StoreFailure::kNotFile:
      res->findings.Error("unreadable", f.rel, 0, "cannot read: not a regular file", f.rel);
      return;
    case StoreFailure::kStore:
      StoreFailed(f.rel, s);
      return;
  }
}

bool Verifier::ListDir(const std::string& rel, std::map<std::string, StoreEntry>* out,
                       Findings* fnd) {
  storage::Status s = store_.List(Path(rel), [&](StoreEntry&& e) {
    std::string name = e.name;
    out->emplace(std::move(name), std::move(e));
    return true;
  });
  if (s.ok()) return true;
  out->clear();
  if (rel.empty()) {
    StoreFailed(rel, s);
    return false;
  }
  switch (restic::ClassifyStoreFailure(store_, Path(rel), s)) {
    case StoreFailure::kGone:
      return false;  // vanished since its parent was listed: as missing
    case StoreFailure::kSymlink:
      LinkFinding(fnd, rel);
      return false;
    case StoreFailure::kNotFile:
      // A directory that cannot be listed (FailedPrecondition on a
      // directory): the store's error.
      StoreFailed(rel, s);
      return false;
    case StoreFailure::kStore:
      // A file now where a directory was listed.
      if (auto st = store_.Stat(Path(rel)); st.ok() && st->type == StoreEntryType::kFile) {
        fnd->Error("unexpected_file", rel, 0, "is not a directory", rel);
        return false;
      }
      StoreFailed(rel, s);
      return false;
  }
  return false;
}

std::vector<RepoFile> Verifier::ListFiles(const std::string& rel, DirState state, Findings* out,
                                          bool* listed) {
  std::vector<RepoFile> files;
  if (listed != nullptr) *listed = false;
  switch (state) {
    case DirState::kMissing:
      return files;
    case DirState::kSymlink:
      LinkFinding(out, rel);
      return files;
    case DirState::kNotDirectory:
      out->Error("unexpected_file", rel, 0, "is not a directory", rel);
      return files;
    case DirState::kDirectory:
      break;
  }
  std::map<std::string, StoreEntry> entries;
  if (!ListDir(rel, &entries, out)) return files;
  if (listed != nullptr) *listed = true;
  for (auto& [name, e] : entries) {
    std::string frel = rel + "/" + name;
    if (e.type == StoreEntryType::kSymlink) {
      LinkFinding(out, frel);
      continue;
    }
    if (e.type != StoreEntryType::kFile) {
      out->Warning("unexpected_entry", frel, 0, "not a regular file (ignored)", frel);
      continue;
    }
    files.push_back({std::move(frel), name, e.size, e.mtime_ns});
  }
  return files;
}

bool Verifier::ReadSmall(const RepoFile& f, std::string* content, FileResult* res) {
  if (Failed()) return false;
  if (f.size > opt_.max_metadata_bytes) {
    res->findings.Error(
        "unreadable", f.rel, 0,
        "cannot read: larger than " + std::to_string(opt_.max_metadata_bytes) + " bytes", f.rel);
    return false;
  }
  content->resize(static_cast<size_t>(f.size));
  auto n = store_.ReadAt(Path(f.rel), 0, content->data(), content->size());
  if (!n.ok()) {
    content->clear();
    ReadFailed(f, n.status(), res);
    return false;
  }
  content->resize(*n);  // shorter: it shrank since the listing
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

void Verifier::ReadConfig(uint64_t size) {
  RepoFile f{"config", "config", size, 0};
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

bool Verifier::LoadPack(const RepoFile& f, uint64_t off, uint64_t len, PackBytes* b,
                        FileResult* res) {
  b->start = off;
  b->buf.clear();
  if (Failed()) {
    res->read = false;
    return false;
  }
  b->buf.resize(static_cast<size_t>(len));
  auto n = store_.ReadAt(Path(f.rel), off, b->buf.data(), b->buf.size());
  if (!n.ok()) {
    b->buf.clear();
    res->read = false;
    ReadFailed(f, n.status(), res);
    return false;
  }
  b->buf.resize(*n);
  res->bytes_read += *n;
  return true;
}

bool Verifier::HashPack(const RepoFile& f, const PackBytes& b, storage::Digest* d,
                        FileResult* res) {
  if (b.Whole(f.size) && !b.buf.empty()) {
    *d = storage::HashBytes(storage::HashAlgorithm::kSha256, b.buf);
    return true;
  }
  thread_local std::vector<uint8_t> chunk;
  thread_local std::unique_ptr<storage::Hasher> h;
  if (!h) h = storage::NewHasher(storage::HashAlgorithm::kSha256);
  h->Reset();
  chunk.resize(
      static_cast<size_t>(std::min<uint64_t>(kHashChunkBytes, std::max<uint64_t>(f.size, 1))));
  const std::string path = Path(f.rel);
  uint64_t done = 0;
  while (true) {
    size_t want = chunk.size();
    if (f.size > 0) {  // to the listed size (no request past the end), or EOF first
      if (done >= f.size) break;
      want = static_cast<size_t>(std::min<uint64_t>(want, f.size - done));
    }
    if (Failed()) {
      res->read = false;
      return false;
    }
    auto n = store_.ReadAt(path, done, chunk.data(), want);
    if (!n.ok()) {
      res->read = false;
      ReadFailed(f, n.status(), res);
      return false;
    }
    h->Update({chunk.data(), *n});
    done += *n;
    res->bytes_read += *n;
    if (*n < want) break;
  }
  *d = h->Finish();
  return true;
}

void Verifier::CheckPack(const RepoFile& f, FileResult* res) {
  if ((!opt_.read_data || opt_.skip_known_with_read_data) && opt_.known_packs != nullptr) {
    std::string raw;
    restic::ParseId(f.name, &raw);
    auto it = opt_.known_packs->find(raw);
    if (it != opt_.known_packs->end() && it->second == f.size) {
      res->skipped = true;
      return;
    }
  }
  if (Failed()) return;
  thread_local PackBytes bytes;
  bytes.buf.clear();
  bytes.start = 0;
  res->read = true;  // until a read fails
  if (!opt_.read_data) {
    storage::Digest d;
    if (HashPack(f, bytes, &d, res)) NameCheck(f, d, res);
    return;
  }
  // A small pack whole, in one request; a large one's tail first.
  const uint64_t window = std::max<uint64_t>(opt_.pack_window_bytes, 4);
  const uint64_t first = f.size <= window ? f.size : std::min(kPackTailBytes, window);
  if (!LoadPack(f, f.size - first, first, &bytes, res)) return;
  if (have_key_) {
    // A pack whose every byte the blob-level checks authenticated is not
    // hashed as a whole again: one SHA-256 pass over the data instead of
    // two. Anything amiss, and the name check runs as well.
    const size_t errors = res->findings.errors.size();
    if (CheckPackContent(f, &bytes, res) && res->findings.errors.size() == errors) return;
    if (!res->read) return;
  }
  storage::Digest d;
  if (HashPack(f, bytes, &d, res)) NameCheck(f, d, res);
}

bool Verifier::CheckPackContent(const RepoFile& f, PackBytes* bytes, FileResult* res) {
  auto& fnd = res->findings;
  const uint64_t window = std::max<uint64_t>(opt_.pack_window_bytes, 4);
  // [off, off + len) in *bytes, loading [off, off + load) when it is not
  // there; false when the pack cannot be read or ends before (it shrank
  // since the listing).
  auto need = [&](uint64_t off, uint64_t len, uint64_t load) {
    if (bytes->Holds(off, len)) return true;
    if (!LoadPack(f, off, std::max(len, load), bytes, res)) return false;
    if (bytes->Holds(off, len)) return true;
    fnd.Error("unreadable", f.rel, 0,
              "cannot read: the pack ends before byte " + std::to_string(off + len) +
                  " (it changed since it was listed)",
              f.rel);
    res->read = false;
    return false;
  };
  // The pack's size: where the first read (a small pack whole, a large
  // one's tail) ended.
  const uint64_t size = bytes->start + bytes->buf.size();
  if (size < 4) {
    fnd.Error("pack_header_invalid", f.rel, 0,
              "pack of " + std::to_string(size) + " bytes has no header length", f.rel);
    return false;
  }
  if (!need(size - 4, 4, 4)) return false;
  const std::string_view len4 = bytes->View(size - 4, 4);
  uint64_t hlen = static_cast<uint8_t>(len4[0]) |
                  (static_cast<uint64_t>(static_cast<uint8_t>(len4[1])) << 8) |
                  (static_cast<uint64_t>(static_cast<uint8_t>(len4[2])) << 16) |
                  (static_cast<uint64_t>(static_cast<uint8_t>(len4[3])) << 24);
  int64_t len_at = static_cast<int64_t>(size) - 4;
  if (hlen > size - 4 || hlen < restic::kOverhead) {
    fnd.Error("pack_header_invalid", f.rel, 0,
              "header length " + std::to_string(hlen) + " does not fit a pack of " +
                  std::to_string(size) + " bytes",
              f.rel, len_at);
    return false;
  }
  uint64_t hstart = size - 4 - hlen;
  if (hlen > restic::kMaxBlobBytes) {
    fnd.Error("pack_header_invalid", f.rel, 0,
              "header length " + std::to_string(hlen) + " exceeds the largest header read (" +
                  std::to_string(restic::kMaxBlobBytes) + " bytes)",
              f.rel, len_at);
    return false;
  }
  if (!need(hstart, hlen, hlen)) return false;
  thread_local std::string plain;
  std::string err;
  if (!restic::Decrypt(key_, bytes->View(hstart, hlen), &plain, &err)) {
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
  for (size_t i = 0; i < blobs.size(); ++i) {
    const restic::PackBlob& b = blobs[i];
    if (b.offset + b.length > hstart) break;
    std::string what = std::string(b.tree ? "tree" : "data") + " blob " + Hex(b.id);
    if (b.length > restic::kMaxBlobBytes) {
      fnd.Error("blob_undecodable", f.rel, 0,
                what + ": length " + std::to_string(b.length) + " exceeds the largest blob read (" +
                    std::to_string(restic::kMaxBlobBytes) + " bytes)",
                f.rel, static_cast<int64_t>(b.offset));
      continue;
    }
    // The blob, and the run of whole blobs after it up to the window, in
    // one ranged read when it is not in memory already (a run that ended
    // inside a blob would read that blob's start twice).
    // (Computed only when a read follows: the blobs a run covers are not
    // looked at again, so the pass stays linear in the header's entries.)
    uint64_t run_end = b.offset + b.length;
    if (!bytes->Holds(b.offset, b.length)) {
      for (size_t j = i + 1; j < blobs.size(); ++j) {
        const uint64_t e = blobs[j].offset + blobs[j].length;
        if (blobs[j].offset < run_end || e > hstart || e - b.offset > window) break;
        run_end = e;
      }
    }
    if (!need(b.offset, b.length, run_end - b.offset)) return false;
    if (!restic::Decrypt(key_, bytes->View(b.offset, b.length), &plain, &err)) {
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
  // The repository's own directory, listed once: what its parts are.
  std::map<std::string, StoreEntry> top_entries;
  if (storage::Status s = store_.List(base_,
                                      [&](StoreEntry&& e) {
                                        std::string name = e.name;
                                        top_entries.emplace(std::move(name), std::move(e));
                                        return true;
                                      });
      !s.ok()) {
    if (absl::IsNotFound(s)) {
      r_->fatal = "'" + shown_ + "' is not a restic repository (no config, keys/ or data/)";
    } else {
      StoreFailed("", s);
    }
    return;
  }
  // config: a regular file directly in the root, never through a link.
  auto config = top_entries.find("config");
  const bool config_present = config != top_entries.end();
  const bool config_link = config_present && config->second.type == StoreEntryType::kSymlink;
  const bool config_exists = config_present && config->second.type == StoreEntryType::kFile;
  const DirState keys_state = StateOf(top_entries, "keys");
  const DirState data_state = StateOf(top_entries, "data");
  std::vector<RepoFile> keys = ListFiles("keys", keys_state, &top);
  std::vector<RepoFile> locks = ListFiles("locks", StateOf(top_entries, "locks"), &top);
  if (Failed()) return;
  if (!config_present && keys_state == DirState::kMissing && data_state == DirState::kMissing) {
    r_->fatal = "'" + shown_ + "' is not a restic repository (no config, keys/ or data/)";
    return;
  }
  if (config_link) {
    LinkFinding(&top, "config");
  } else if (!config_exists) {
    top.Error("missing_config", "config", 0,
              config_present ? "config is not a regular file" : "config file is missing", "config");
  }
  if (keys.empty() && keys_state != DirState::kSymlink) {
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
  for (const auto& [name, e] : top_entries) {
    if (kKnown.count(name)) continue;
    if (e.type == StoreEntryType::kSymlink) {
      LinkFinding(&top, name);
    } else {
      top.Warning("unexpected_entry", name, 0, "not part of a restic repository", name);
    }
  }
  for (auto& e : top.errors) r_->errors.push_back(std::move(e));
  for (auto& w : top.warnings) r_->warnings.push_back(std::move(w));
  top = {};

  if (opt_.has_password && !keys.empty()) {
    OpenKeys(keys);
    if (have_key_ && config_exists) ReadConfig(config->second.size);
    if (Failed()) return;
  } else if (opt_.has_password) {
    r_->password_error = keys_state == DirState::kSymlink
                             ? "keys/ is a symbolic link (not followed): no key to open"
                             : "no key files in keys/";
  }

  // Snapshots first, then indexes, then packs: a backup writes packs, then
  // its index, then its snapshot.
  std::vector<RepoFile> snaps = ListFiles("snapshots", StateOf(top_entries, "snapshots"), &top);
  if (Failed()) return;
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
  if (Failed()) return;
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

  const DirState index_state = StateOf(top_entries, "index");
  bool index_listed = false;
  std::vector<RepoFile> indexes = ListFiles("index", index_state, &top, &index_listed);
  if (Failed()) return;
  // Indexes not read: a pack is then "not in any readable index", not
  // unreferenced, and a snapshot's tree is not looked for.
  if (!index_listed && index_state != DirState::kMissing) index_complete_ = false;
  keep_hex(indexes, &r_->index);
  std::vector<FileResult> index_results = ReadUnpacked(indexes);
  if (Failed()) return;
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

  // Packs: data/XX/<id>, each directory listed through the store.
  std::vector<RepoFile> packs;
  switch (data_state) {
    case DirState::kMissing:
      top.Error("missing_data", "data", 0, "data/ directory is missing", "data");
      break;
    case DirState::kSymlink:
      LinkFinding(&top, "data");
      break;
    case DirState::kNotDirectory:
      top.Error("missing_data", "data", 0, "data is not a directory", "data");
      break;
    case DirState::kDirectory:
      break;
  }
  std::map<std::string, StoreEntry> subdirs;
  if (data_state == DirState::kDirectory && ListDir("data", &subdirs, &top)) {
    for (const auto& [name, sd] : subdirs) {
      const std::string rel = "data/" + name;
      if (sd.type == StoreEntryType::kSymlink) {
        LinkFinding(&top, rel);
        continue;
      }
      if (sd.type != StoreEntryType::kDirectory) {
        top.Error("unexpected_file", rel, 0, "file directly under data/", rel);
        continue;
      }
      auto files = ListFiles(rel, DirState::kDirectory, &top);
      if (Failed()) return;
      for (auto& f : files) {
        ++r_->data.files;
        r_->data.bytes += f.size;
        if (!IsHexName(f.name)) {
          top.Error("unexpected_file", f.rel, 0, "name is not a SHA-256 in lower-case hex", f.rel);
          continue;
        }
        if (f.name.compare(0, 2, name) != 0) {
          top.Error("misplaced_pack", f.rel, 0, "pack belongs in data/" + f.name.substr(0, 2) + "/",
                    f.rel);
        }
        packs.push_back(std::move(f));
      }
    }
  }
  if (Failed()) return;
  for (auto& e : top.errors) r_->errors.push_back(std::move(e));
  for (auto& w : top.warnings) r_->warnings.push_back(std::move(w));
  top = {};

  std::vector<FileResult> pack_results(packs.size());
  ParallelFor(packs.size(), opt_.threads,
              [&](size_t i, int) { CheckPack(packs[i], &pack_results[i]); });
  if (Failed()) return;
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
    restic::PackReader reader(store_, base_, key_, blob_index_);
    Findings walk;
    ResticWalkStats stats;
    WalkResticSnapshots(r_->snapshots, blob_index_, &reader, index_complete_, &walk, &stats);
    if (!reader.store_error().ok()) {  // the walk could not read: no verdict
      std::lock_guard lock(mu_);
      if (store_error_.ok()) store_error_ = reader.store_error();
      failed_.store(true, std::memory_order_relaxed);
      return;
    }
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

ResticReport VerifyResticIn(storage::Store& store, const std::string& base,
                            const std::string& shown, const ResticOptions& options) {
  ResticReport r;
  r.root = shown;
  std::string root = shown;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  try {
    Verifier v(store, base, root, options, &r);
    v.Run();
    if (storage::Status s = v.store_error(); !s.ok()) {
      // A check that could not read is no verdict on the repository: what
      // it found before is dropped, the store's error is the answer.
      r.store_error = std::string(s.message());
      r.errors.clear();
      r.warnings.clear();
    }
  } catch (const std::exception& e) {
    r.fatal = std::string("internal error: ") + e.what();
  }
  return r;
}

ResticReport VerifyResticAt(int root_fd, const std::string& shown, const ResticOptions& options) {
  std::string root = shown;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  auto store = storage::LocalStore::OpenAt(root_fd, "", root);
  if (!store.ok()) {
    ResticReport r;
    r.root = shown;
    r.fatal = "cannot use the repository's directory: " + std::string(store.status().message());
    return r;
  }
  return VerifyResticIn(**store, "", shown, options);
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
