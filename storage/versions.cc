#include "storage/versions.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <random>
#include <utility>

#include "storage/catalogue.h"
#include "storage/key_codec.h"
#include "storage/key_parts.h"
#include "storage/varint.h"

namespace vigil::storage {

bool SameContent(const EntryRecord& a, const EntryRecord& b) {
  return a.type == b.type && a.size == b.size && a.mtime_ns == b.mtime_ns && a.digest == b.digest &&
         a.link_target == b.link_target;
}

namespace {

using internal::GetVarint64;
using internal::PutVarint64;

constexpr char kPointTag = 0;
constexpr char kBornTag = 1;
constexpr char kEndTag = 2;
// A point being recorded: its time of recording, written with the stream's
// first entry, read back by a redo (ResumeAfter), dropped by Finish.
constexpr char kPendingTag = 3;
// A caller's summary of a recorded point, and the set's generation
// (versions.h, "summary").
constexpr char kSummaryTag = 4;
constexpr char kGenerationTag = 5;

// A token no earlier Update wrote: a random start, then counted.
std::string NewGenerationToken() {
  static std::atomic<uint64_t> next{[] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }()};
  std::string out;
  AppendI64(&out, static_cast<int64_t>(next.fetch_add(1, std::memory_order_relaxed)));
  return out;
}

std::string IndexPrefix(std::string_view set_prefix, char tag) {
  std::string out(set_prefix);
  out.push_back('\0');
  out.push_back(tag);
  return out;
}

std::string IndexKey(std::string_view set_prefix, char tag, int64_t t, std::string_view enc_path) {
  std::string out = IndexPrefix(set_prefix, tag);
  AppendI64(&out, t);
  out.append(enc_path);
  return out;
}

// The hash index's keys: 0x00 0x00, then those of key_codec.h.
std::string HashKeyOf(const Digest& d, std::string_view version_key) {
  return std::string("\0\0", 2) + EncodeHashKey(d, version_key);
}

// Prefix of every version key of one path: S Path 0x00 0x00.
std::string PathPrefix(std::string_view set_prefix, std::string_view enc_path) {
  std::string out(set_prefix);
  out.append(enc_path);
  out.push_back('\0');
  out.push_back('\0');
  return out;
}

std::string I64String(int64_t v) {
  std::string out;
  AppendI64(&out, v);
  return out;
}

int64_t DecodeI64At(std::string_view in) {
  int64_t v = 0;
  ConsumeI64(&in, &v);  // REQUIRES: 8 bytes
  return v;
}

// Splits the suffix of a version key after its set prefix into the encoded
// path and the birth time; false when it is not a version key.
bool SplitVersionSuffix(std::string_view suffix, std::string_view* enc_path, int64_t* born) {
  if (suffix.size() < 11 || suffix[0] == '\0') return false;
  const size_t n = suffix.size() - 10;
  if (suffix[n] != '\0' || suffix[n + 1] != '\0') return false;
  *enc_path = suffix.substr(0, n);
  *born = DecodeI64At(suffix.substr(n + 2));
  return true;
}

// A version's value: I64(until) then its EntryRecord.
std::string ValueOf(int64_t until, const EntryRecord& entry) {
  std::string record;
  EncodeEntryRecord(entry, &record);
  return I64String(until) + record;
}

// A version as read, with its encoded path.
struct Stored {
  std::string enc_path;
  int64_t born = 0;
  int64_t until = kOpenUntil;
  EntryRecord entry;
};

// Names a version key for a message: "tenant/set: path (born T)".
std::string DescribeVersionKey(std::string_view key) {
  std::string tenant, set;
  std::string_view rest = key;
  std::string_view enc;
  int64_t born = 0;
  if (!ConsumeString(&rest, &tenant) || !ConsumeString(&rest, &set) ||
      !SplitVersionSuffix(rest, &enc, &born)) {
    return "an undecodable version key of " + std::to_string(key.size()) + " bytes";
  }
  return tenant + "/" + set + ": '" + DecodePath(enc) + "' (born " + std::to_string(born) + ")";
}

Status DecodeValue(std::string_view key, std::string_view value, int64_t* until,
                   EntryRecord* entry) {
  if (value.size() < 8) {
    return absl::DataLossError("version record of " + DescribeVersionKey(key) + ": " +
                               std::to_string(value.size()) + " bytes, too short");
  }
  *until = DecodeI64At(value.substr(0, 8));
  if (entry == nullptr) return absl::OkStatus();
  if (Status s = DecodeEntryRecord(value.substr(8), entry); !s.ok()) {
    return absl::DataLossError("version record of " + DescribeVersionKey(key) + ": " +
                               std::string(s.message()));
  }
  return absl::OkStatus();
}

// The writes of one set: versions with their index and hash keys.
class SetWrites {
 public:
  // `first`: the set's first recorded point (the one being recorded
  // included); versions born at or before it get no born-index key (see
  // versions.h, "born idx").
  SetWrites(std::string set_prefix, Space data, Space hashes,
            int64_t first = std::numeric_limits<int64_t>::min())
      : prefix_(std::move(set_prefix)), data_(data), hashes_(hashes), first_(first) {}

  const std::string& prefix() const { return prefix_; }

  void Put(KvBatch* b, const Stored& v) {
    const std::string key = PathPrefix(prefix_, v.enc_path) + I64String(v.born);
    const std::string value = ValueOf(v.until, v.entry);
    b->Put(data_, key, value);
    if (v.born > first_) b->Put(data_, IndexKey(prefix_, kBornTag, v.born, v.enc_path), {});
    if (v.until != kOpenUntil) {
      b->Put(data_, IndexKey(prefix_, kEndTag, v.until, v.enc_path), I64String(v.born));
    }
    if (!v.entry.digest.empty()) b->Put(hashes_, HashKeyOf(v.entry.digest, key), {});
  }

  void Delete(KvBatch* b, const Stored& v) {
    const std::string key = PathPrefix(prefix_, v.enc_path) + I64String(v.born);
    b->Delete(data_, key);
    b->Delete(data_, IndexKey(prefix_, kBornTag, v.born, v.enc_path));
    if (v.until != kOpenUntil) b->Delete(data_, IndexKey(prefix_, kEndTag, v.until, v.enc_path));
    if (!v.entry.digest.empty()) b->Delete(hashes_, HashKeyOf(v.entry.digest, key));
  }

  // Changes where a version ends (its key stays).
  void SetUntil(KvBatch* b, Stored* v, int64_t until) {
    if (v->until != kOpenUntil) b->Delete(data_, IndexKey(prefix_, kEndTag, v->until, v->enc_path));
    v->until = until;
    const std::string key = PathPrefix(prefix_, v->enc_path) + I64String(v->born);
    const std::string value = ValueOf(until, v->entry);
    b->Put(data_, key, value);
    if (until != kOpenUntil) {
      b->Put(data_, IndexKey(prefix_, kEndTag, until, v->enc_path), I64String(v->born));
    }
  }

 private:
  std::string prefix_;
  Space data_;
  Space hashes_;
  int64_t first_;
};

// Whether a version [born, until) holds time p (kOpenUntil: no end).
bool Covers(int64_t born, int64_t until, int64_t p) {
  return born <= p && (until == kOpenUntil || p < until);
}

// The recorded neighbours of a point: the latest before it and the earliest
// after it (nullopt: none).
struct Neighbours {
  std::optional<int64_t> prev;
  std::optional<int64_t> next;
};

Neighbours NeighboursOf(const std::vector<int64_t>& points, int64_t p) {
  Neighbours n;
  for (int64_t q : points) {
    if (q < p) n.prev = q;
    if (q > p && !n.next) n.next = q;
  }
  return n;
}

struct ApplyCounts {
  uint64_t added = 0;
  uint64_t closed = 0;
  uint64_t shared = 0;
};

// Makes point `p` hold `entry` (null: nothing) for one path whose stored
// versions are `versions` (ascending birth, disjoint ranges; left as the
// writes added to `b` make them), given the recorded points around p.
// Versions other recorded points hold keep holding them: a version covering
// p is cut at p, the part after p kept as a version born at the next point
// when that point is in it.
// `rewrite_same` rewrites a same-content covering version in place (a
// re-hash or a sample of the same bytes) instead of sharing it unchanged.
void ApplyAt(SetWrites& w, KvBatch* b, std::vector<Stored>& versions, std::string_view enc_path,
             int64_t p, const Neighbours& n, const EntryRecord* entry, bool rewrite_same,
             ApplyCounts* counts) {
  Stored* cover = nullptr;
  int64_t bound = n.next.value_or(kOpenUntil);
  for (Stored& v : versions) {
    if (Covers(v.born, v.until, p)) cover = &v;
    if (v.born > p) bound = std::min(bound, v.born);
  }
  if (cover != nullptr && entry != nullptr) {
    const bool same = SameContent(cover->entry, *entry);
    // Same bytes recorded with another algorithm (a re-hash): the same
    // content, for every point that shares it.
    const bool rehash =
        !same && rewrite_same && cover->entry.type == entry->type &&
        cover->entry.size == entry->size && cover->entry.mtime_ns == entry->mtime_ns &&
        cover->entry.link_target == entry->link_target && !cover->entry.digest.empty() &&
        !entry->digest.empty() && cover->entry.digest.algorithm() != entry->digest.algorithm();
    if (same || rehash) {
      ++counts->shared;
      EntryRecord updated = cover->entry;
      if (rewrite_same) {
        updated = *entry;  // as the caller records it
      } else if (entry->sample.sampled()) {
        updated.sample = entry->sample;  // the same bytes, sampled now
      }
      if (!(updated == cover->entry)) {
        Stored u = *cover;
        u.entry = std::move(updated);
        w.Delete(b, *cover);
        w.Put(b, u);
        *cover = std::move(u);
      }
      return;
    }
  }
  std::vector<Stored> added;
  if (cover != nullptr) {
    const Stored old = *cover;
    const bool left = n.prev && old.born <= *n.prev;
    const bool right = n.next && Covers(old.born, old.until, *n.next);
    if (left) {
      w.SetUntil(b, cover, p);
      ++counts->closed;
    } else {
      w.Delete(b, old);
      versions.erase(versions.begin() + (cover - versions.data()));
    }
    if (right) {
      Stored rest = old;
      rest.born = *n.next;
      w.Put(b, rest);
      added.push_back(std::move(rest));
    }
  }
  if (entry != nullptr) {
    Stored v;
    v.enc_path = std::string(enc_path);
    v.born = p;
    v.until = bound;
    v.entry = *entry;
    w.Put(b, v);
    ++counts->added;
    added.push_back(std::move(v));
  }
  // `versions` becomes the path's versions as the batch leaves them.
  for (Stored& v : added) versions.push_back(std::move(v));
  std::sort(versions.begin(), versions.end(),
            [](const Stored& x, const Stored& y) { return x.born < y.born; });
}

// Reads the versions of the set one path at a time, in path order.
class PathGroups {
 public:
  PathGroups(KvStore* kv, Space data, const std::string& set_prefix) : prefix_(set_prefix) {
    ScanOptions o;
    o.upper_bound = PrefixSuccessor(set_prefix);
    o.bulk = true;
    it_ = kv->NewIterator(data, o);
    std::string first = set_prefix;
    first.push_back('\x01');  // after the point and index records
    it_->Seek(first);
  }

  // Loads the next path's versions into *out; false at the end (or on an
  // error: status()).
  bool Next(std::string* enc_path, std::vector<Stored>* out) {
    out->clear();
    while (status_.ok() && it_->Valid()) {
      std::string_view key = it_->key();
      std::string_view path;
      int64_t born = 0;
      if (!SplitVersionSuffix(key.substr(prefix_.size()), &path, &born)) {
        status_ = absl::DataLossError("malformed version key in the catalogue");
        return false;
      }
      if (!out->empty() && path != *enc_path) return true;
      if (out->empty()) enc_path->assign(path);
      Stored v;
      v.enc_path = *enc_path;
      v.born = born;
      if (Status s = DecodeValue(key, it_->value(), &v.until, &v.entry); !s.ok()) {
        status_ = s;
        return false;
      }
      out->push_back(std::move(v));
      it_->Next();
    }
    if (status_.ok() && !it_->status().ok()) status_ = it_->status();
    return status_.ok() && !out->empty();
  }
  Status status() const { return status_; }
  // The next group loaded is the first at or after encoded path `enc`
  // (a key suffix: it may end mid-path).
  void SeekTo(std::string_view enc) { it_->Seek(prefix_ + std::string(enc)); }

 private:
  std::string prefix_;
  std::unique_ptr<KvIterator> it_;
  Status status_;
};

class PointStreamImpl final : public Versions::PointStream {
 public:
  // `share`: NothingAfter(n.prev) held as the stream was made, and no
  // point is after this one (CanShareFrom).
  PointStreamImpl(KvStore* kv, Space space, Space hashes, std::string set_prefix, int64_t point,
                  Neighbours n, bool share)
      : kv_(kv),
        w_(set_prefix, space, hashes, n.prev ? std::numeric_limits<int64_t>::min() : point),
        space_(space),
        point_(point),
        n_(n),
        share_(share && n.prev && !n.next),
        groups_(kv, space, set_prefix) {
    have_group_ = groups_.Next(&group_path_, &group_);
  }

  Status ResumeAfter(std::string_view path) override {
    if (!IsValidRelativePath(path)) {
      return absl::InvalidArgumentError("invalid entry path '" + std::string(path) + "'");
    }
    last_.assign(path);
    // When the interrupted stream recorded the point (its entries are not
    // put again).
    std::string value;
    Status got = kv_->Get(space_, IndexKey(w_.prefix(), kPendingTag, point_, {}), &value);
    if (got.ok() && value.size() == 8) {
      recorded_ = DecodeI64At(value);
      pending_written_ = true;
    } else if (!got.ok() && !absl::IsNotFound(got)) {
      return got;
    }
    const std::string enc = EncodePath(path);
    while (have_group_ && group_path_ <= enc) have_group_ = groups_.Next(&group_path_, &group_);
    return groups_.status();
  }

  Status Put(std::string_view path, const EntryRecord& entry, KvBatch* batch) override {
    if (!IsValidRelativePath(path)) {
      return absl::InvalidArgumentError("invalid entry path '" + std::string(path) + "'");
    }
    if (!last_.empty() && ComparePathOrder(last_, path) >= 0) {
      return absl::InvalidArgumentError("entries out of path order: '" + std::string(path) +
                                        "' after '" + last_ + "'");
    }
    if (Status s = NotBeneathShared(path); !s.ok()) return s;
    last_.assign(path);
    NoteFirstSeen(entry.first_seen_ns, batch);
    enc_.clear();
    AppendPath(&enc_, path);
    while (have_group_ && group_path_ < enc_) Drain(nullptr, batch);
    if (!groups_.status().ok()) return groups_.status();
    if (have_group_ && group_path_ == enc_) {
      Drain(&entry, batch);
      return groups_.status();
    }
    std::vector<Stored> none;
    ApplyAt(w_, batch, none, enc_, point_, n_, &entry, false, &counts_);
    return absl::OkStatus();
  }

  bool CanShareFrom(int64_t from) const override { return share_ && *n_.prev == from; }

  Status ShareUnder(std::string_view dir, uint64_t entries, int64_t first_seen_ns,
                    KvBatch* batch) override {
    if (!IsValidRelativePath(dir)) {
      return absl::InvalidArgumentError("invalid directory path '" + std::string(dir) + "'");
    }
    if (!share_) {
      return absl::FailedPreconditionError(
          "restore point " + std::to_string(point_) + ": the versions beneath '" +
          std::string(dir) +
          "' may not cover it as they are (a point after it, or a version born or ended after "
          "the point before it): its entries must be put");
    }
    // `dir` itself may have been put; nothing beneath it.
    if (!last_.empty() && ComparePathOrder(last_, dir) > 0) {  // (beneath it sorts after it)
      return absl::InvalidArgumentError("directory '" + std::string(dir) +
                                        "' shared out of path order, after '" + last_ + "'");
    }
    if (Status s = NotBeneathShared(dir); !s.ok()) return s;
    if (dir == shared_) {
      return absl::InvalidArgumentError("directory '" + std::string(dir) + "' shared twice");
    }
    last_.assign(dir);
    shared_.assign(dir);
    NoteFirstSeen(first_seen_ns, batch);
    // The paths before it not put, and `dir` itself unless put: not in the
    // point, as Put does.
    enc_.clear();
    AppendPath(&enc_, dir);
    while (have_group_ && group_path_ <= enc_) Drain(nullptr, batch);
    if (!groups_.status().ok()) return groups_.status();
    // Beneath it: Path(dir) 0x00 then a name; after it: Path(dir) 0x01.
    if (have_group_ && group_path_.size() > enc_.size() && group_path_.starts_with(enc_) &&
        group_path_[enc_.size()] == '\0') {
      enc_.push_back('\x01');
      groups_.SeekTo(enc_);
      have_group_ = groups_.Next(&group_path_, &group_);
      if (!groups_.status().ok()) return groups_.status();
    }
    counts_.shared += entries;
    return absl::OkStatus();
  }

  Status Finish(KvBatch* batch) override {
    while (have_group_) Drain(nullptr, batch);
    if (!groups_.status().ok()) return groups_.status();
    batch->Put(space_, IndexKey(w_.prefix(), kPointTag, point_, {}), I64String(recorded_));
    batch->Delete(space_, IndexKey(w_.prefix(), kPendingTag, point_, {}));
    batch->Delete(space_, IndexKey(w_.prefix(), kSummaryTag, point_, {}));
    return absl::OkStatus();
  }

  uint64_t added() const override { return counts_.added; }
  uint64_t closed() const override { return counts_.closed; }
  uint64_t shared() const override { return counts_.shared; }

 private:
  // The point's time of recording is the smallest first seen put; the
  // pending record says it from the first entry on (a redo keeps it).
  void NoteFirstSeen(int64_t first_seen_ns, KvBatch* batch) {
    if (first_seen_ns != 0 && (recorded_ == 0 || first_seen_ns < recorded_)) {
      recorded_ = first_seen_ns;
    }
    if (!pending_written_ && recorded_ != 0) {
      batch->Put(space_, IndexKey(w_.prefix(), kPendingTag, point_, {}), I64String(recorded_));
      pending_written_ = true;
    }
  }

  Status NotBeneathShared(std::string_view path) const {
    if (!shared_.empty() && path.size() > shared_.size() && path.starts_with(shared_) &&
        path[shared_.size()] == '/') {
      return absl::InvalidArgumentError("entry '" + std::string(path) + "' beneath directory '" +
                                        shared_ + "', shared before it");
    }
    return absl::OkStatus();
  }

  // Applies the current path group (with `entry` or nothing) and loads the
  // next one.
  void Drain(const EntryRecord* entry, KvBatch* batch) {
    ApplyAt(w_, batch, group_, group_path_, point_, n_, entry, false, &counts_);
    have_group_ = groups_.Next(&group_path_, &group_);
  }

  KvStore* kv_;
  SetWrites w_;
  Space space_;
  int64_t point_;
  Neighbours n_;
  bool share_;
  PathGroups groups_;
  bool pending_written_ = false;
  bool have_group_ = false;
  std::string group_path_;
  std::vector<Stored> group_;
  std::string last_;
  std::string shared_;  // the last directory shared (ShareUnder)
  std::string enc_;
  ApplyCounts counts_;
  int64_t recorded_ = 0;
};

class ScannerImpl final : public Versions::Scanner {
 public:
  // Versions of the set's paths in [first, upper) when given (suffixes
  // after the set's prefix), else all of them.
  ScannerImpl(KvStore* kv, Space data, std::string set_prefix, int64_t point, bool recorded,
              int64_t recorded_ns, std::string_view first = {}, std::string_view upper = {})
      : prefix_(std::move(set_prefix)), point_(point) {
    v_.recorded_ns = recorded_ns;
    if (!recorded) return;
    ScanOptions o;
    o.upper_bound = upper.empty() ? PrefixSuccessor(prefix_) : prefix_ + std::string(upper);
    o.bulk = true;
    it_ = kv->NewIterator(data, o);
    it_->Seek(prefix_ + (first.empty() ? std::string("\x01") : std::string(first)));
    Settle();
  }
  bool Valid() const override { return valid_; }
  void Next() override {
    it_->Next();
    Settle();
  }
  const Version& version() const override { return v_; }
  std::string_view encoded_path() const override { return enc_; }
  Status status() const override { return status_; }

 private:
  // Moves to the first version at or after the iterator covering the point.
  void Settle() {
    valid_ = false;
    for (; it_->Valid(); it_->Next()) {
      std::string_view key = it_->key();
      std::string_view path;
      int64_t born = 0;
      if (!SplitVersionSuffix(key.substr(prefix_.size()), &path, &born)) {
        status_ = absl::DataLossError("malformed version key in the catalogue");
        return;
      }
      if (born > point_) continue;
      int64_t until = 0;
      if (Status s = DecodeValue(key, it_->value(), &until, nullptr); !s.ok()) {
        status_ = s;
        return;
      }
      if (!Covers(born, until, point_)) continue;
      enc_ = path;
      v_.path = DecodePath(path);
      v_.born_ns = born;
      v_.until_ns = until;
      if (Status s = DecodeValue(key, it_->value(), &until, &v_.entry); !s.ok()) {
        status_ = s;
        return;
      }
      valid_ = true;
      return;
    }
    status_ = it_->status();
  }

  std::string prefix_;
  int64_t point_;
  std::unique_ptr<KvIterator> it_;
  bool valid_ = false;
  std::string_view enc_;
  Version v_;
  Status status_;
};

// Reads the versions of one path.
Status ReadPath(KvStore* kv, Space data, const std::string& set_prefix, std::string_view enc_path,
                std::vector<Stored>* out) {
  out->clear();
  const std::string prefix = PathPrefix(set_prefix, enc_path);
  auto it = kv->NewIterator(data, {.upper_bound = PrefixSuccessor(prefix)});
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (it->key().size() != prefix.size() + 8) {
      return absl::DataLossError("malformed version key in the catalogue at " +
                                 DecodePath(enc_path));
    }
    Stored v;
    v.enc_path = std::string(enc_path);
    v.born = DecodeI64At(it->key().substr(prefix.size()));
    if (Status s = DecodeValue(it->key(), it->value(), &v.until, &v.entry); !s.ok()) return s;
    out->push_back(std::move(v));
  }
  return it->status();
}

// A point record's time of recording (0 if it holds none).
int64_t RecordedAt(std::string_view point_value) {
  return point_value.size() == 8 ? DecodeI64At(point_value) : 0;
}

const Stored* CoverOf(const std::vector<Stored>& versions, int64_t p) {
  for (const Stored& v : versions) {
    if (Covers(v.born, v.until, p)) return &v;
  }
  return nullptr;
}

// Calls fn(time, encoded path, value) for the index records of `tag` with
// times in (after, upto] (upto = kOpenUntil: no upper bound).
Status IndexPaths(KvStore* kv, Space data, const std::string& set_prefix, char tag, int64_t after,
                  int64_t upto,
                  const std::function<void(int64_t, std::string_view, std::string_view)>& fn) {
  const std::string prefix = IndexPrefix(set_prefix, tag);
  std::string end = prefix;
  if (upto == kOpenUntil) {
    end = PrefixSuccessor(prefix);
  } else {
    AppendI64(&end, upto + 1);
  }
  auto it = kv->NewIterator(data, {.upper_bound = end});
  std::string start = prefix;
  if (after != std::numeric_limits<int64_t>::min()) AppendI64(&start, after + 1);
  for (it->Seek(start); it->Valid(); it->Next()) {
    std::string_view rest = it->key().substr(prefix.size());
    if (rest.size() < 9) return absl::DataLossError("malformed index key in the catalogue");
    fn(DecodeI64At(rest.substr(0, 8)), rest.substr(8), it->value());
  }
  return it->status();
}

}  // namespace

std::string Versions::VersionKey(std::string_view tenant, std::string_view set,
                                 std::string_view path, int64_t born) {
  return PathPrefix(BackupSetPrefix(tenant, set), EncodePath(path)) + I64String(born);
}

StatusOr<std::vector<int64_t>> Versions::Points(std::string_view tenant, std::string_view set) {
  const std::string prefix = IndexPrefix(BackupSetPrefix(tenant, set), kPointTag);
  std::vector<int64_t> out;
  auto it = kv_->NewIterator(space_, {.upper_bound = PrefixSuccessor(prefix)});
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    std::string_view rest = it->key().substr(prefix.size());
    if (rest.size() != 8) return absl::DataLossError("malformed point key in the catalogue");
    out.push_back(DecodeI64At(rest));
  }
  if (!it->status().ok()) return it->status();
  return out;
}

StatusOr<bool> Versions::Recording(std::string_view tenant, std::string_view set) {
  const std::string prefix = IndexPrefix(BackupSetPrefix(tenant, set), kPendingTag);
  auto it = kv_->NewIterator(space_, {.upper_bound = PrefixSuccessor(prefix)});
  it->Seek(prefix);
  if (!it->status().ok()) return it->status();
  return it->Valid();
}

StatusOr<bool> Versions::NothingAfter(std::string_view tenant, std::string_view set,
                                      int64_t point) {
  auto points = Points(tenant, set);
  if (!points.ok()) return points.status();
  if (points->empty() || points->back() != point) return false;
  return NothingAfterLatest(tenant, set, point);
}

StatusOr<bool> Versions::NothingAfterLatest(std::string_view tenant, std::string_view set,
                                            int64_t point) {
  auto recording = Recording(tenant, set);
  if (!recording.ok()) return recording.status();
  if (*recording) return false;
  const std::string prefix = BackupSetPrefix(tenant, set);
  for (char tag : {kBornTag, kEndTag}) {
    const std::string index = IndexPrefix(prefix, tag);
    auto it = kv_->NewIterator(space_, {.upper_bound = PrefixSuccessor(index)});
    it->Seek(IndexKey(prefix, tag, point + 1, {}));
    if (!it->status().ok()) return it->status();
    if (it->Valid()) return false;
  }
  return true;
}

StatusOr<std::unique_ptr<Versions::PointStream>> Versions::NewPoint(std::string_view tenant,
                                                                    std::string_view set,
                                                                    int64_t point) {
  if (point == kOpenUntil) {
    return absl::InvalidArgumentError("restore point time " + std::to_string(point) +
                                      " is out of range (it marks an open version)");
  }
  auto points = Points(tenant, set);
  if (!points.ok()) return points.status();
  if (std::find(points->begin(), points->end(), point) != points->end()) {
    return absl::AlreadyExistsError("restore point " + std::to_string(point) +
                                    " is already recorded");
  }
  const Neighbours n = NeighboursOf(*points, point);
  const std::string prefix = BackupSetPrefix(tenant, set);
  if (!n.prev && n.next) {
    // Recorded before the set's first point: the versions born at or before
    // that point had no born-index key (versions.h); a diff from the new
    // point needs them.
    KvBatch batch;
    PathGroups groups(kv_, space_, prefix);
    std::string enc;
    std::vector<Stored> versions;
    while (groups.Next(&enc, &versions)) {
      for (const Stored& v : versions) {
        if (v.born <= *n.next) batch.Put(space_, IndexKey(prefix, kBornTag, v.born, enc), {});
      }
      if (batch.approximate_bytes() >= (4u << 20)) {
        if (Status s = kv_->Write(batch, {}); !s.ok()) return s;
        batch.Clear();
      }
    }
    if (!groups.status().ok()) return groups.status();
    if (Status s = kv_->Write(batch, {}); !s.ok()) return s;
  }
  bool share = false;
  if (n.prev && !n.next) {
    auto nothing = NothingAfterLatest(tenant, set, *n.prev);
    if (!nothing.ok()) return nothing.status();
    share = *nothing;
  }
  return std::unique_ptr<PointStream>(
      new PointStreamImpl(kv_, space_, hashes_, prefix, point, n, share));
}

std::unique_ptr<Versions::Scanner> Versions::Scan(std::string_view tenant, std::string_view set,
                                                  int64_t point) {
  return ScanRange(tenant, set, point, {}, {});
}

std::unique_ptr<Versions::Scanner> Versions::ScanUnder(std::string_view tenant,
                                                       std::string_view set, int64_t point,
                                                       std::string_view dir) {
  // Beneath `dir`: Path(dir) 0x00 then a name's first byte (never 0x00: the
  // version keys of `dir` itself are Path(dir) 0x00 0x00), up to Path(dir)
  // 0x01.
  std::string first = EncodePath(dir);
  std::string upper = first;
  first.append("\x00\x01", 2);
  upper.push_back('\x01');
  return ScanRange(tenant, set, point, first, upper);
}

StatusOr<bool> Versions::HoldsFileIn(std::string_view tenant, std::string_view set, int64_t point,
                                     std::string_view dir) {
  const std::string prefix = BackupSetPrefix(tenant, set);
  std::string value;
  if (Status s = kv_->Get(space_, IndexKey(prefix, kPointTag, point, {}), &value); !s.ok()) {
    return absl::IsNotFound(s) ? StatusOr<bool>(false) : StatusOr<bool>(s);
  }
  // The children of `dir`: S Path(dir) 0x00 name ... (the root's: S name
  // ...); a child's subtree is S Path(child) 0x00 <non-zero> ..., its own
  // versions S Path(child) 0x00 0x00 I64(born).
  std::string start = prefix;
  std::string upper;
  if (dir.empty()) {
    upper = PrefixSuccessor(prefix);
  } else {
    start += EncodePath(dir);
    upper = start + '\x01';
    start.push_back('\0');
  }
  const size_t base = start.size();
  auto it = kv_->NewIterator(space_, {.upper_bound = upper});
  start.push_back('\x01');  // (the first name byte is never 0x00)
  std::string skip;
  for (it->Seek(start); it->Valid();) {
    std::string_view rest = it->key().substr(base);  // name 0x00 ...
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos || nul == 0) {
      return absl::DataLossError("malformed version key in the catalogue");
    }
    if (rest.size() > nul + 1 && rest[nul + 1] != '\0') {
      // Beneath a subdirectory: past its subtree, S Path(child) 0x01.
      skip.assign(it->key().substr(0, base + nul));
      skip.push_back('\x01');
      it->Seek(skip);
      continue;
    }
    if (rest.size() != nul + 10)
      return absl::DataLossError("malformed version key in the catalogue");
    const int64_t born = DecodeI64At(rest.substr(nul + 2));
    int64_t until = 0;
    EntryRecord e;
    if (born <= point) {
      if (Status s = DecodeValue(it->key(), it->value(), &until, &e); !s.ok()) return s;
      if (Covers(born, until, point) && e.type == EntryType::kFile) return true;
    }
    it->Next();
  }
  if (!it->status().ok()) return it->status();
  return false;
}

std::unique_ptr<Versions::Scanner> Versions::ScanRange(std::string_view tenant,
                                                       std::string_view set, int64_t point,
                                                       std::string_view first,
                                                       std::string_view upper) {
  const std::string prefix = BackupSetPrefix(tenant, set);
  std::string value;
  const bool recorded = kv_->Get(space_, IndexKey(prefix, kPointTag, point, {}), &value).ok();
  return std::make_unique<ScannerImpl>(kv_, space_, prefix, point, recorded, RecordedAt(value),
                                       first, upper);
}

StatusOr<uint64_t> Versions::Count(std::string_view tenant, std::string_view set, int64_t point) {
  const std::string prefix = BackupSetPrefix(tenant, set);
  std::string value;
  if (Status s = kv_->Get(space_, IndexKey(prefix, kPointTag, point, {}), &value); !s.ok()) {
    return absl::IsNotFound(s) ? StatusOr<uint64_t>(0) : StatusOr<uint64_t>(s);
  }
  auto it = kv_->NewIterator(space_, {.upper_bound = PrefixSuccessor(prefix), .bulk = true});
  std::string first = prefix;
  first.push_back('\x01');
  uint64_t n = 0;
  for (it->Seek(first); it->Valid(); it->Next()) {
    std::string_view path;
    int64_t born = 0, until = 0;
    if (!SplitVersionSuffix(it->key().substr(prefix.size()), &path, &born)) {
      return absl::DataLossError("malformed version key in the catalogue");
    }
    if (born > point) continue;
    if (Status s = DecodeValue(it->key(), it->value(), &until, nullptr); !s.ok()) return s;
    if (Covers(born, until, point)) ++n;
  }
  if (!it->status().ok()) return it->status();
  return n;
}

StatusOr<Version> Versions::Get(std::string_view tenant, std::string_view set, int64_t point,
                                std::string_view path) {
  if (!IsValidRelativePath(path)) return absl::InvalidArgumentError("invalid path");
  const std::string prefix = BackupSetPrefix(tenant, set);
  std::string value;
  if (Status s = kv_->Get(space_, IndexKey(prefix, kPointTag, point, {}), &value); !s.ok()) {
    return s;
  }
  std::vector<Stored> versions;
  if (Status s = ReadPath(kv_, space_, prefix, EncodePath(path), &versions); !s.ok()) return s;
  const Stored* cover = CoverOf(versions, point);
  if (cover == nullptr) return absl::NotFoundError("no entry '" + std::string(path) + "'");
  Version v;
  v.path = std::string(path);
  v.born_ns = cover->born;
  v.until_ns = cover->until;
  v.entry = cover->entry;
  v.recorded_ns = RecordedAt(value);
  return v;
}

Status Versions::Diff(std::string_view tenant, std::string_view set, int64_t a, int64_t b,
                      const DiffFn& fn, bool every_version, size_t max_paths) {
  if (a >= b) return absl::InvalidArgumentError("Diff needs a < b");
  const std::string prefix = BackupSetPrefix(tenant, set);
  std::vector<std::string> paths;
  bool over = false;
  auto collect = [&](int64_t, std::string_view enc_path, std::string_view) {
    if (paths.size() >= max_paths) {
      over = true;
    } else {
      paths.emplace_back(enc_path);
    }
  };
  if (Status s = IndexPaths(kv_, space_, prefix, kBornTag, a, b, collect); !s.ok()) return s;
  if (Status s = IndexPaths(kv_, space_, prefix, kEndTag, a, b, collect); !s.ok()) return s;
  if (over) {
    return absl::ResourceExhaustedError("more than " + std::to_string(max_paths) +
                                        " versions born or ended between the two points");
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  std::vector<Stored> versions;
  for (const std::string& enc : paths) {
    if (Status s = ReadPath(kv_, space_, prefix, enc, &versions); !s.ok()) return s;
    const Stored* va = CoverOf(versions, a);
    const Stored* vb = CoverOf(versions, b);
    if (va == vb) continue;
    if (!every_version && va != nullptr && vb != nullptr && SameContent(va->entry, vb->entry)) {
      continue;
    }
    if (Status s = fn(DecodePath(enc), va ? &va->entry : nullptr, vb ? &vb->entry : nullptr);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

Status Versions::DeletePoint(std::string_view tenant, std::string_view set, int64_t point,
                             KvBatch* into) {
  auto points = Points(tenant, set);
  if (!points.ok()) return points.status();
  if (std::find(points->begin(), points->end(), point) == points->end()) {
    return absl::NotFoundError("restore point " + std::to_string(point) + " is not recorded");
  }
  const Neighbours n = NeighboursOf(*points, point);
  const std::string prefix = BackupSetPrefix(tenant, set);
  SetWrites w(prefix, space_, hashes_);
  KvBatch own;
  KvBatch& batch = into != nullptr ? *into : own;
  auto done = [&]() -> Status {
    return into != nullptr ? absl::OkStatus() : kv_->Write(own, {.sync = true});
  };
  if (!n.prev && !n.next) {  // the only point: every version is its own
    auto erased = EraseSet(tenant, set, &batch);
    if (!erased.ok()) return erased.status();
    return done();
  }
  // A version only this point holds covers it, begins after the previous
  // point and ends no later than the next: found among the versions ended
  // in (point, next], or, with no next point, born in (prev, point].
  std::vector<std::pair<std::string, int64_t>> gone;  // encoded path, born
  bool bad_index = false;
  if (n.next) {
    Status s = IndexPaths(kv_, space_, prefix, kEndTag, point, *n.next,
                          [&](int64_t, std::string_view enc, std::string_view value) {
                            if (value.size() != 8) {
                              bad_index = true;
                              return;
                            }
                            const int64_t born = DecodeI64At(value);
                            if (born <= point && (!n.prev || born > *n.prev)) {
                              gone.emplace_back(enc, born);
                            }
                          });
    if (!s.ok()) return s;
    if (bad_index) {
      return absl::DataLossError("an end-index record of " + std::string(tenant) + "/" +
                                 std::string(set) + " does not hold a time");
    }
  } else {
    const int64_t after = n.prev.value_or(std::numeric_limits<int64_t>::min());
    Status s = IndexPaths(kv_, space_, prefix, kBornTag, after, point,
                          [&](int64_t born, std::string_view enc, std::string_view) {
                            gone.emplace_back(enc, born);
                          });
    if (!s.ok()) return s;
  }
  for (const auto& [enc, born] : gone) {
    const std::string key = PathPrefix(prefix, enc) + I64String(born);
    std::string value;
    if (Status s = kv_->Get(space_, key, &value); !s.ok()) return s;
    Stored v;
    v.enc_path = enc;
    v.born = born;
    if (Status s = DecodeValue(key, value, &v.until, &v.entry); !s.ok()) return s;
    if (!Covers(v.born, v.until, point)) continue;
    w.Delete(&batch, v);
  }
  batch.Delete(space_, IndexKey(prefix, kPointTag, point, {}));
  batch.Delete(space_, IndexKey(prefix, kSummaryTag, point, {}));
  return done();
}

struct Versions::Pending::Impl {
  std::map<std::string, std::vector<Stored>> paths;  // set prefix + encoded path
};

Versions::Pending::Pending() : impl_(std::make_unique<Impl>()) {}
Versions::Pending::~Pending() = default;
void Versions::Pending::Clear() { impl_->paths.clear(); }

Status Versions::Update(std::string_view tenant, std::string_view set, int64_t point,
                        const std::vector<int64_t>& points, std::string_view path,
                        const EntryRecord* entry, KvBatch* batch, Pending* pending) {
  if (!IsValidRelativePath(path)) {
    return absl::InvalidArgumentError("invalid entry path '" + std::string(path) + "'");
  }
  if (std::find(points.begin(), points.end(), point) == points.end()) {
    return absl::NotFoundError("restore point " + std::to_string(point) + " is not recorded");
  }
  const std::string prefix = BackupSetPrefix(tenant, set);
  const std::string enc = EncodePath(path);
  // Whatever it changes, a summary of the points it touches is stale.
  batch->Put(space_, IndexPrefix(prefix, kGenerationTag), NewGenerationToken());
  std::vector<Stored> read;
  std::vector<Stored>* versions = &read;
  const int64_t first = points.front();
  if (pending != nullptr) {
    auto [it, added] = pending->impl_->paths.try_emplace(prefix + enc);
    versions = &it->second;
    if (!added) {
      SetWrites w(prefix, space_, hashes_, first);
      ApplyCounts counts;
      ApplyAt(w, batch, *versions, enc, point, NeighboursOf(points, point), entry, true, &counts);
      return absl::OkStatus();
    }
  }
  if (Status s = ReadPath(kv_, space_, prefix, enc, versions); !s.ok()) return s;
  SetWrites w(prefix, space_, hashes_, first);
  ApplyCounts counts;
  ApplyAt(w, batch, *versions, enc, point, NeighboursOf(points, point), entry, true, &counts);
  return absl::OkStatus();
}

StatusOr<std::string> Versions::Generation(std::string_view tenant, std::string_view set) {
  std::string value;
  Status s = kv_->Get(space_, IndexPrefix(BackupSetPrefix(tenant, set), kGenerationTag), &value);
  if (absl::IsNotFound(s)) return std::string();
  if (!s.ok()) return s;
  return value;
}

void Versions::PutSummary(std::string_view tenant, std::string_view set, int64_t point,
                          std::string_view generation, std::string_view summary, KvBatch* batch) {
  std::string value(1, static_cast<char>(generation.size()));  // (tokens are 8 bytes)
  value.append(generation);
  value.append(summary);
  batch->Put(space_, IndexKey(BackupSetPrefix(tenant, set), kSummaryTag, point, {}), value);
}

StatusOr<std::optional<std::string>> Versions::GetSummary(std::string_view tenant,
                                                          std::string_view set, int64_t point) {
  auto generation = Generation(tenant, set);
  if (!generation.ok()) return generation.status();
  std::string value;
  Status s =
      kv_->Get(space_, IndexKey(BackupSetPrefix(tenant, set), kSummaryTag, point, {}), &value);
  if (absl::IsNotFound(s)) return std::optional<std::string>();
  if (!s.ok()) return s;
  const size_t n = value.empty() ? 0 : static_cast<uint8_t>(value[0]);
  if (value.empty() || value.size() < 1 + n ||
      std::string_view(value).substr(1, n) != *generation) {
    return std::optional<std::string>();  // stale (or not one of ours)
  }
  return std::optional<std::string>(value.substr(1 + n));
}

Status Versions::ForEachHolder(const Digest& digest, const HolderFn& fn) {
  const std::string prefix = HashKeyOf(digest, {});
  auto it = kv_->NewIterator(hashes_, {.upper_bound = PrefixSuccessor(prefix)});
  std::string tenant, set;
  std::string value;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    auto hk = DecodeHashKey(it->key().substr(2));
    if (!hk) return absl::DataLossError("malformed hash-index key");
    std::string_view rest = hk->entry_key;
    const std::string_view key = rest;
    if (!ConsumeString(&rest, &tenant) || !ConsumeString(&rest, &set)) {
      return absl::DataLossError("malformed hash-index key");
    }
    Version v;
    std::string_view enc;
    if (!SplitVersionSuffix(rest, &enc, &v.born_ns)) {
      return absl::DataLossError("malformed hash-index key");
    }
    v.path = DecodePath(enc);
    if (Status s = kv_->Get(space_, key, &value); !s.ok()) {
      return absl::DataLossError("hash index names a version that is not stored: " + v.path);
    }
    if (Status s = DecodeValue(key, value, &v.until_ns, &v.entry); !s.ok()) return s;
    if (!fn(tenant, set, v)) break;
  }
  return it->status();
}

StatusOr<uint64_t> Versions::EraseSet(std::string_view tenant, std::string_view set,
                                      KvBatch* batch) {
  const std::string prefix = BackupSetPrefix(tenant, set);
  const std::string end = PrefixSuccessor(prefix);
  // Raw keys, not PathGroups: a record that does not decode must not stop
  // an erasure. Its hash key is found by a scan of the hash index instead.
  uint64_t n = 0;
  bool undecodable = false;
  auto flush = [&]() -> Status {
    if (batch->approximate_bytes() < (4u << 20)) return absl::OkStatus();
    Status s = kv_->Write(*batch, {});
    batch->Clear();
    return s;
  };
  {
    auto it = kv_->NewIterator(space_, {.upper_bound = end, .bulk = true});
    std::string first = prefix;
    first.push_back('\x01');  // versions only
    EntryRecord e;
    for (it->Seek(first); it->Valid(); it->Next()) {
      ++n;
      int64_t until = 0;
      if (!DecodeValue(it->key(), it->value(), &until, &e).ok()) {
        undecodable = true;
        continue;
      }
      if (!e.digest.empty()) batch->Delete(hashes_, HashKeyOf(e.digest, it->key()));
      if (Status s = flush(); !s.ok()) return s;
    }
    if (!it->status().ok()) return it->status();
  }
  if (undecodable) {
    auto it = kv_->NewIterator(hashes_, {.upper_bound = std::string("\0\x01", 2), .bulk = true});
    for (it->Seek(std::string("\0\0", 2)); it->Valid(); it->Next()) {
      auto hk = DecodeHashKey(it->key().substr(2));
      if (hk && hk->entry_key.substr(0, prefix.size()) == prefix) batch->Delete(hashes_, it->key());
      if (Status s = flush(); !s.ok()) return s;
    }
    if (!it->status().ok()) return it->status();
  }
  batch->DeleteRange(space_, prefix, end);
  return n;
}

}  // namespace vigil::storage
