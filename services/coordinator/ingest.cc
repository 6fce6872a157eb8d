#include "services/coordinator/ingest.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include "services/common/listing_digest.h"
#include "services/contracts/proto_bridge.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/points.h"
#include "storage/diff.h"
#include "storage/key_codec.h"
#include "storage/versions.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

namespace {

// Printable path for a proto `string` (must be UTF-8): bytes that are not
// printable ASCII become \xNN.
std::string Printable(std::string_view p) {
  std::string out;
  static const char* kHex = "0123456789abcdef";
  for (unsigned char c : p) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// A digest field pair of an observation: both empty, or a known algorithm
// and a digest of its length.
Status CheckDigest(const std::string& path, const std::string& which, uint32_t algorithm,
                   const std::string& digest) {
  if (digest.empty() && algorithm == 0) return absl::OkStatus();
  if (algorithm > 255 || !storage::IsKnownAlgorithm(static_cast<uint8_t>(algorithm))) {
    return absl::InvalidArgumentError("observation '" + path + "': unknown " + which +
                                      "digest algorithm");
  }
  auto alg = static_cast<storage::HashAlgorithm>(algorithm);
  if (digest.size() != storage::DigestSize(alg)) {
    return absl::InvalidArgumentError("observation '" + path + "': " + which + "digest of " +
                                      std::to_string(digest.size()) + " bytes for " +
                                      std::string(storage::AlgorithmName(alg)));
  }
  return absl::OkStatus();
}

// The content sample of observation `i`: only on a file whose content was
// read (it has a digest), entropy within 0..128, a format id that fits the
// catalogue's byte. Ids above the formats known here are kept as they are
// (a newer worker knows more magic numbers).
Status CheckSample(const v1::Observation& o, int i) {
  if (!o.has_sample()) return absl::OkStatus();
  // Texts built only for a refusal: this runs for every file observed.
  const auto refuse = [&](const char* sub, const std::string& what) {
    return absl::InvalidArgumentError("field 'observations[" + std::to_string(i) + "].sample" +
                                      sub + "' of observation '" + o.path() + "': " + what);
  };
  if (o.type() != v1::ENTRY_TYPE_FILE) return refuse("", "a sample on an entry that is not a file");
  if (o.digest().empty()) {
    return refuse("", "a sample of a file whose content was not read (no digest)");
  }
  if (o.sample().entropy() > 128) {
    return refuse(".entropy",
                  std::to_string(o.sample().entropy()) + " (at most 128: 1/16 bit per byte)");
  }
  if (o.sample().format() > 255) {
    return refuse(".format", std::to_string(o.sample().format()) + " (format ids are at most 255)");
  }
  return absl::OkStatus();
}

// A marker's proofs: a SHA-256 listing proof, and a content one or none.
Status CheckProofSizes(const v1::ListingDigests& d, const std::string& field) {
  constexpr size_t kSha256 = 32;
  if (d.listing().size() != kSha256 || (!d.content().empty() && d.content().size() != kSha256)) {
    return absl::InvalidArgumentError(field + ": digests of 32 bytes (SHA-256) expected, got " +
                                      std::to_string(d.listing().size()) + " and " +
                                      std::to_string(d.content().size()));
  }
  return absl::OkStatus();
}

// A held marker (Observation.held): restore_point_ns and two SHA-256
// digests (the content one may be absent), nothing else.
Status CheckHeldMarker(const v1::Observation& o, int i) {
  const std::string field = "field 'observations[" + std::to_string(i) + "].held'";
  v1::Observation rest = o;
  rest.clear_held();
  rest.clear_restore_point_ns();
  if (rest.ByteSizeLong() != 0) {
    return absl::InvalidArgumentError(field + ": a held marker carries only restore_point_ns " +
                                      "(restore point " + std::to_string(o.restore_point_ns()) +
                                      " has a path, type or reading beside it)");
  }
  return CheckProofSizes(o.held(), field);
}

// A held directory marker (Observation.held_dir): a directory's path, its
// restore_point_ns and two SHA-256 digests (the content one may be
// absent), nothing else.
Status CheckHeldDirMarker(const v1::Observation& o, int i) {
  const std::string field = "field 'observations[" + std::to_string(i) + "].held_dir'";
  if (!storage::IsValidRelativePath(o.path())) {
    return absl::InvalidArgumentError(field + ": the directory '" + o.path() +
                                      "' is not a valid relative path");
  }
  v1::Observation rest = o;
  rest.clear_held_dir();
  rest.clear_path();
  rest.clear_restore_point_ns();
  if (rest.ByteSizeLong() != 0) {
    return absl::InvalidArgumentError(field + ": a held directory marker carries only its path " +
                                      "and restore_point_ns ('" + o.path() +
                                      "' has a type or reading beside them)");
  }
  return CheckProofSizes(o.held_dir(), field);
}

}  // namespace

Status ValidateBatch(const v1::ObservationBatch& batch) {
  if (batch.observations_size() > kMaxObservationsPerBatch) {
    return absl::InvalidArgumentError("batch " + std::to_string(batch.seq()) + " holds " +
                                      std::to_string(batch.observations_size()) +
                                      " observations (at most " +
                                      std::to_string(kMaxObservationsPerBatch) + ")");
  }
  if (batch.seq() == 0) return absl::InvalidArgumentError("batch seq must start at 1");
  for (int i = 0; i < batch.observations_size(); ++i) {
    const v1::Observation& o = batch.observations(i);
    if (o.has_held()) {
      if (Status s = CheckHeldMarker(o, i); !s.ok()) return s;
      continue;
    }
    if (o.has_held_dir()) {
      if (Status s = CheckHeldDirMarker(o, i); !s.ok()) return s;
      continue;
    }
    if (!storage::IsValidRelativePath(o.path())) {
      return absl::InvalidArgumentError("observation path '" + o.path() +
                                        "' is not a valid relative path");
    }
    if (o.type() < v1::ENTRY_TYPE_FILE || o.type() > v1::ENTRY_TYPE_OTHER) {
      return absl::InvalidArgumentError("observation '" + o.path() + "': unknown entry type");
    }
    // A file is read (a digest), listed without reading (not_read) or
    // unreadable: one without any would be recorded with no digest and then
    // compare equal to itself, verified on nothing.
    if (o.type() == v1::ENTRY_TYPE_FILE && o.digest().empty() && !o.not_read() && !o.unreadable()) {
      return absl::InvalidArgumentError(
          "observation '" + o.path() +
          "': a file with no digest, neither listed without reading (not_read) nor unreadable");
    }
    if (Status s = CheckDigest(o.path(), "", o.digest_algorithm(), o.digest()); !s.ok()) return s;
    if (Status s =
            CheckDigest(o.path(), "previous ", o.previous_digest_algorithm(), o.previous_digest());
        !s.ok()) {
      return s;
    }
    if (Status s = CheckSample(o, i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

namespace {

// The ack record of an attempt: last acknowledged seq, and the restore point
// of its last observation (nullopt before the first one).
struct AckState {
  uint64_t seq = 0;
  std::optional<int64_t> last_point;
  bool last_held = false;  // the last observation was a held marker
  // Points of which an entry (not a marker) was staged, ascending: a point
  // after the reference may hold directories only while the reference
  // sent none (CheckHeldProofs).
  std::vector<int64_t> entry_points;
};

StatusOr<AckState> LoadAck(storage::KvStore* kv, uint64_t task, uint32_t attempt) {
  std::string v;
  Status s = kv->Get(Space::kTasks, keys::Acked(task, attempt), &v);
  AckState a;
  if (absl::IsNotFound(s)) return a;
  if (!s.ok()) return s;
  a.seq = keys::ReadU64(v);
  if (v.size() >= 16) a.last_point = static_cast<int64_t>(keys::ReadU64(v.substr(8)));
  a.last_held = v.size() >= 17 && (v[16] & 1) != 0;
  // Then (since held directories) U64 n, n x I64 entry_points.
  if (v.size() >= 25) {
    const uint64_t n = keys::ReadU64(v.substr(17));
    if (v.size() != 25 + 8 * n) return absl::DataLossError("ack record does not decode");
    for (uint64_t i = 0; i < n; ++i) {
      a.entry_points.push_back(static_cast<int64_t>(keys::ReadU64(v.substr(25 + 8 * i))));
    }
  }
  return a;
}

std::string PointText(int64_t ns) { return std::to_string(ns); }

Status CheckListing(const google::protobuf::RepeatedPtrField<v1::RestorePointSeen>& points) {
  for (int i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (!p.name().empty() && !storage::IsValidRelativePath(p.name())) {
      return absl::InvalidArgumentError("field 'points': name '" + p.name() + "' of point " +
                                        PointText(p.time_ns()) + " is not a valid relative path");
    }
    if (i > 0 && p.time_ns() <= points[i - 1].time_ns()) {
      return absl::InvalidArgumentError("field 'points': times must be unique and ascending, got " +
                                        PointText(points[i - 1].time_ns()) + " then " +
                                        PointText(p.time_ns()));
    }
  }
  return absl::OkStatus();
}

std::vector<v1::RestorePointSeen> DefaultListing(const v1::BackupSet& set) {
  std::vector<v1::RestorePointSeen> l;
  if (IsMirrorLayout(set)) {
    l.emplace_back();
    l.back().set_time_source("none");
  }
  return l;
}

}  // namespace

bool IsMirrorLayout(const v1::BackupSet& set) {
  return set.layout().empty() || set.layout() == "mirror";
}

StatusOr<std::vector<v1::RestorePointSeen>> ListedPoints(storage::KvStore* kv,
                                                         const v1::BackupSet& set, uint64_t task,
                                                         uint32_t attempt) {
  std::string v;
  Status s = kv->Get(Space::kTasks, keys::Staged(task, attempt, 1), &v);
  if (absl::IsNotFound(s)) return DefaultListing(set);
  if (!s.ok()) return s;
  // Only field 5 (points) is decoded: the observations, read at every batch
  // of the attempt, are skipped on the wire.
  std::vector<v1::RestorePointSeen> points;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(v.data()),
                                            static_cast<int>(v.size()));
  using google::protobuf::internal::WireFormatLite;
  while (uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == 5 &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      std::string bytes;
      if (!WireFormatLite::ReadBytes(&in, &bytes) ||
          !points.emplace_back().ParseFromString(bytes)) {
        return absl::DataLossError("staged observation batch does not decode");
      }
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return absl::DataLossError("staged observation batch does not decode");
    }
  }
  if (!in.ConsumedEntireMessage()) {
    return absl::DataLossError("staged observation batch does not decode");
  }
  if (points.empty()) return DefaultListing(set);
  return points;
}

namespace {

// The restore-point rules for one batch that is the next of its attempt,
// given the attempt's listing and the point of its last observation (and
// whether that was a held marker); advances `last` and `held`. A held
// marker is the only observation of its point.
Status CheckBatchPoints(const std::vector<v1::RestorePointSeen>& listing,
                        std::optional<int64_t>* last, bool* held,
                        const v1::ObservationBatch& batch) {
  for (const auto& o : batch.observations()) {
    const int64_t rp = o.restore_point_ns();
    if (*last && rp == **last && (*held || o.has_held())) {
      return absl::InvalidArgumentError(
          "restore point " + PointText(rp) + ": " +
          (o.has_held() ? "a held marker after an observation of the point"
                        : "observation '" + o.path() + "' after the point's held marker") +
          " (a held point's marker is its only observation)");
    }
    *held = o.has_held();
    if (*last && rp < **last) {
      return absl::InvalidArgumentError("observation '" + o.path() +
                                        "': field 'restore_point_ns' " + PointText(rp) +
                                        " comes after restore point " + PointText(**last) +
                                        " (points must come in ascending time)");
    }
    if (!*last || rp != **last) {
      auto it = std::lower_bound(
          listing.begin(), listing.end(), rp,
          [](const v1::RestorePointSeen& p, int64_t t) { return p.time_ns() < t; });
      bool listed = it != listing.end() && it->time_ns() == rp;
      if (!listed) {
        return absl::InvalidArgumentError("observation '" + o.path() +
                                          "': field 'restore_point_ns' " + PointText(rp) +
                                          " is not among the listed restore points");
      }
    }
    *last = rp;
  }
  return absl::OkStatus();
}

// Whether held marker `held` of point `t` carries the proofs, for (task,
// attempt), of the digests the record of that point in `points` holds
// (HoldablePoints): its listing always, its content when it claims the
// point was read.
bool ProvesHeld(const std::map<int64_t, v1::PointRecord>& points, int64_t t,
                const v1::ListingDigests& held, uint64_t task, uint32_t attempt) {
  auto it = points.find(t);
  if (it == points.end()) return false;
  const v1::ListingDigests want = HeldProof(it->second.digests(), task, attempt);
  return held.listing() == want.listing() &&
         (held.content().empty() || held.content() == want.content());
}

// What staging and the merge load once of a set's holdable points and
// held directories.
struct HeldState {
  std::optional<std::map<int64_t, v1::PointRecord>> points;  // HoldablePoints
  std::optional<std::optional<HeldDirRef>> dirs;             // HeldDirReference
  Status Load(storage::KvStore* kv, const v1::BackupSet& set, bool with_dirs) {
    if (!points) {
      auto h = HoldablePoints(kv, set);
      if (!h.ok()) return h.status();
      points.emplace(std::move(*h));
    }
    if (with_dirs && !dirs) {
      auto d = HeldDirReference(kv, set, *points);
      if (!d.ok()) return d.status();
      dirs.emplace(*d);
    }
    return absl::OkStatus();
  }
};

// Directory `path` as its record of the reference says (without its
// content digest unless `content`).
DirDigester::Dir DirOf(std::string_view path, const v1::HeldDirRecord& r, bool content) {
  DirDigester::Dir d{std::string(path), r.digests(), r.entries(), r.files(), r.bytes()};
  if (!content) d.digests.clear_content();
  return d;
}

// Whether held directory marker `o` carries the proofs, for (task,
// attempt), of the digests the coordinator holds for that directory of the
// reference `ref` (its listing always, its content when the marker claims
// every file beneath it was read). Sets *record to the directory's record.
StatusOr<bool> ProvesHeldDir(storage::KvStore* kv, const v1::BackupSet& set,
                             const std::optional<HeldDirRef>& ref, const v1::Observation& o,
                             uint64_t task, uint32_t attempt, v1::HeldDirRecord* record) {
  if (!ref) return false;
  std::string v;
  Status s = kv->Get(Space::kMeta, keys::HeldDir(set.tenant(), set.name(), o.path()), &v);
  if (absl::IsNotFound(s)) return false;
  if (!s.ok()) return s;
  if (!record->ParseFromString(v)) return false;  // not offered either (AddHeldPoints)
  const DirDigester::Dir have = DirOf(o.path(), *record, ref->content);
  if (!o.held_dir().content().empty() && have.digests.content().empty()) return false;
  const v1::ListingDigests want = HeldDirProof(have, o.restore_point_ns(), task, attempt);
  return o.held_dir().listing() == want.listing() &&
         (o.held_dir().content().empty() || o.held_dir().content() == want.content());
}

// A held directory marker of a point after the reference stands for the
// reference's entries as its digests say; a reference that sent entries
// earlier in the same check (it changed) has them recorded anew by then
// (its merge comes first): refused, the worker sends the point's entries.
Status CheckReferenceUnsent(const v1::Observation& o, const std::optional<HeldDirRef>& ref,
                            const std::vector<int64_t>& entry_points) {
  if (!ref || o.restore_point_ns() <= ref->point_ns ||
      !std::binary_search(entry_points.begin(), entry_points.end(), ref->point_ns)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      "restore point " + PointText(o.restore_point_ns()) + ", directory '" + Printable(o.path()) +
      "': a held directory marker after the reference point (" + PointText(ref->point_ns) +
      ") sent entries in the same check; a directory can stand only for the reference as its "
      "digests say, so its entries must be sent");
}

std::string HeldDirRefused(const v1::Observation& o, const std::optional<HeldDirRef>& ref) {
  return "restore point " + PointText(o.restore_point_ns()) + ", directory '" +
         Printable(o.path()) +
         "': a held directory marker whose proofs are not those of the digests the coordinator "
         "holds for it (" +
         (ref ? std::string("a worker that did not compute them, a directory it did not offer, "
                            "or the reference point recorded again since the lease")
              : std::string("it holds no reference point for this set now")) +
         "); its entries must be sent";
}

// Held markers of a batch: each must carry the proofs of the digests the
// coordinator holds for its point now (HoldablePoints: a point of a set
// whose tasks get offers, recorded consistent, still in the catalogue).
// Checked when the batch is staged, so that a refused marker changes
// nothing (at the merge, catalogue writes of the points before it would be
// in). `held` caches the set's holdable points across a group of batches;
// `files` and `bytes` get what the markers stand for (HeldTally).
Status CheckHeldProofs(storage::KvStore* kv, const v1::BackupSet& set,
                       const v1::ObservationBatch& batch, HeldState* state,
                       std::vector<int64_t>* entry_points, uint64_t* files, uint64_t* bytes) {
  uint64_t batch_files = 0, batch_bytes = 0;  // added once the whole batch passes
  for (const v1::Observation& o : batch.observations()) {
    if (!o.has_held() && !o.has_held_dir() &&
        (entry_points->empty() || entry_points->back() != o.restore_point_ns())) {
      entry_points->push_back(o.restore_point_ns());
    }
    if (o.has_held_dir()) {
      if (Status s = state->Load(kv, set, true); !s.ok()) return s;
      if (Status s = CheckReferenceUnsent(o, *state->dirs, *entry_points); !s.ok()) return s;
      v1::HeldDirRecord dir;
      auto proved = ProvesHeldDir(kv, set, *state->dirs, o, batch.task_id(), batch.attempt(), &dir);
      if (!proved.ok()) return proved.status();
      if (!*proved) return absl::InvalidArgumentError(HeldDirRefused(o, *state->dirs));
      batch_files += dir.files();
      if (!o.held_dir().content().empty()) batch_bytes += dir.bytes();
      continue;
    }
    if (!o.has_held()) continue;
    if (Status s = state->Load(kv, set, false); !s.ok()) return s;
    const std::map<int64_t, v1::PointRecord>& held = *state->points;
    if (!ProvesHeld(held, o.restore_point_ns(), o.held(), batch.task_id(), batch.attempt())) {
      return absl::InvalidArgumentError(
          "restore point " + PointText(o.restore_point_ns()) +
          ": a held marker whose proofs are not those of the digests the coordinator holds for "
          "it (" +
          (held.count(o.restore_point_ns()) == 0
               ? std::string("it offered none for this point")
               : std::string("a worker that did not compute them, or the point recorded again "
                             "since the lease")) +
          "); the point must be sent whole");
    }
    const v1::PointRecord& r = held.at(o.restore_point_ns());
    batch_files += r.files();
    if (!o.held().content().empty()) batch_bytes += r.bytes();
  }
  *files += batch_files;
  *bytes += batch_bytes;
  return absl::OkStatus();
}

}  // namespace

StatusOr<uint64_t> LastAcked(storage::KvStore* kv, uint64_t task, uint32_t attempt) {
  auto a = LoadAck(kv, task, attempt);
  if (!a.ok()) return a.status();
  return a->seq;
}

StageResult StageBatches(storage::KvStore* kv, const v1::BackupSet& set,
                         const std::vector<const v1::ObservationBatch*>& batches) {
  StageResult r;
  if (batches.empty()) return r;
  const uint64_t task = batches[0]->task_id();
  const uint32_t attempt = batches[0]->attempt();
  auto loaded = LoadAck(kv, task, attempt);
  if (!loaded.ok()) {
    r.status = loaded.status();
    return r;
  }
  AckState ack = *loaded;
  r.acked = ack.seq;
  r.acked_before = ack.seq;
  // The attempt's listing: from its batch 1 (staged, or in this group).
  std::optional<std::vector<v1::RestorePointSeen>> listing;
  // The set's holdable points and held directories, loaded at the first
  // marker of the group.
  HeldState held;
  uint64_t held_files = 0, held_bytes = 0;
  storage::KvBatch b;
  for (const v1::ObservationBatch* batch : batches) {
    if (Status s = ValidateBatch(*batch); !s.ok()) {
      r.status = s;
      break;
    }
    if (batch->seq() <= ack.seq) continue;  // a resend: durable already, acknowledged again
    if (batch->seq() != ack.seq + 1) {
      r.status = absl::OutOfRangeError("batch seq " + std::to_string(batch->seq()) +
                                       " leaves a gap; last acknowledged seq is " +
                                       std::to_string(ack.seq));
      break;
    }
    if (batch->seq() == 1) {
      if (Status s = CheckListing(batch->points()); !s.ok()) {
        r.status = s;
        break;
      }
      listing.emplace(batch->points().begin(), batch->points().end());
      if (listing->empty()) listing = DefaultListing(set);
    } else {
      if (batch->points_size() > 0) {
        r.status =
            absl::InvalidArgumentError("batch " + std::to_string(batch->seq()) +
                                       ": field 'points' is only allowed in the batch with seq 1");
        break;
      }
      if (!listing) {
        auto l = ListedPoints(kv, set, task, attempt);
        if (!l.ok()) {
          r.status = l.status();
          break;
        }
        listing = std::move(*l);
      }
    }
    std::optional<int64_t> last_point = ack.last_point;
    bool last_held = ack.last_held;
    if (Status s = CheckBatchPoints(*listing, &last_point, &last_held, *batch); !s.ok()) {
      r.status = s;
      break;
    }
    std::vector<int64_t> entry_points = ack.entry_points;
    if (Status s = CheckHeldProofs(kv, set, *batch, &held, &entry_points, &held_files, &held_bytes);
        !s.ok()) {
      r.status = s;
      break;
    }
    b.Put(Space::kTasks, keys::Staged(task, attempt, batch->seq()), batch->SerializeAsString());
    ack.seq = batch->seq();
    ack.last_point = last_point;
    ack.last_held = last_held;
    ack.entry_points = std::move(entry_points);
  }
  if (b.count() == 0) return r;
  std::string v;
  keys::AppendU64(&v, ack.seq);
  if (ack.last_point) keys::AppendU64(&v, static_cast<uint64_t>(*ack.last_point));
  if (ack.last_point) {
    v.push_back(ack.last_held ? '\x01' : '\x00');
    keys::AppendU64(&v, ack.entry_points.size());
    for (int64_t p : ack.entry_points) keys::AppendU64(&v, static_cast<uint64_t>(p));
  }
  b.Put(Space::kTasks, keys::Acked(task, attempt), v);
  if (Status s = kv->Write(b, {.sync = true}); !s.ok()) {
    r.status = s;  // nothing of this group is acknowledged
    return r;
  }
  r.acked = ack.seq;
  r.held_files = held_files;
  r.held_bytes = held_bytes;
  return r;
}

namespace {

storage::Observation ToObservation(const v1::Observation& o) {
  storage::Observation r;
  r.path = o.path();
  r.type = static_cast<storage::EntryType>(o.type());
  r.size = o.size();
  r.mtime_ns = o.mtime_ns();
  if (!o.digest().empty()) {
    r.digest =
        storage::Digest(static_cast<storage::HashAlgorithm>(o.digest_algorithm()),
                        {reinterpret_cast<const uint8_t*>(o.digest().data()), o.digest().size()});
  }
  if (!o.previous_digest().empty()) {
    r.previous_digest = storage::Digest(
        static_cast<storage::HashAlgorithm>(o.previous_digest_algorithm()),
        {reinterpret_cast<const uint8_t*>(o.previous_digest().data()), o.previous_digest().size()});
  }
  r.link_target = o.link_target();
  r.unreadable = o.unreadable();
  r.error = o.error();
  r.not_read = o.not_read() && o.type() == v1::ENTRY_TYPE_FILE;
  // Validated (ValidateBatch): a file read, entropy <= 128, format < 256.
  if (o.has_sample() && o.sample().format() != 0) {
    r.sample.format = static_cast<storage::FileFormat>(o.sample().format());
    r.sample.entropy = static_cast<uint8_t>(o.sample().entropy());
  }
  return r;
}

// Pulls the staged observations of one attempt in seq order.
class StagedSource {
 public:
  StagedSource(storage::KvStore* kv, uint64_t task, uint32_t attempt) {
    std::string prefix = keys::StagedPrefix(task, attempt);
    it_ = kv->NewIterator(Space::kTasks,
                          {.upper_bound = storage::PrefixSuccessor(prefix), .bulk = true});
    it_->Seek(prefix);
  }
  // The next observation without taking it; nullptr at the end or on error.
  const v1::Observation* Peek() {
    while (next_ >= batch_.observations_size()) {
      if (!status_.ok() || !it_->Valid()) {
        if (status_.ok()) status_ = it_->status();
        return nullptr;
      }
      if (!batch_.ParseFromArray(it_->value().data(), static_cast<int>(it_->value().size()))) {
        status_ = absl::DataLossError("staged observation batch does not decode");
        return nullptr;
      }
      next_ = 0;
      it_->Next();
    }
    return &batch_.observations(next_);
  }
  // Takes the observation Peek() returned. REQUIRES: Peek() != nullptr.
  void Take(storage::Observation* out) {
    *out = ToObservation(batch_.observations(next_++));
    ++count_;
  }
  // Passes over it (a held marker: not an entry). REQUIRES: Peek() != nullptr.
  void Skip() { ++next_; }
  Status status() const { return status_; }
  uint64_t count() const { return count_; }

 private:
  std::unique_ptr<storage::KvIterator> it_;
  v1::ObservationBatch batch_;
  int next_ = 0;
  Status status_;
  uint64_t count_ = 0;
};

// What one point's observations hold (recomputed when a merge resumes:
// every staged observation is read again).
struct PointTally {
  uint64_t files = 0, bytes = 0;
  uint64_t not_read = 0;  // files listed without reading their content
};

// What one point's diff found damaged (kept in the merge's progress).
struct Damage {
  uint64_t modified = 0, missing = 0, unreadable = 0;
  std::vector<std::string> examples;  // first damaged paths
  uint64_t count() const { return modified + missing + unreadable; }
  void Add(uint64_t* kind, std::string_view path) {
    ++*kind;
    if (examples.size() < 5) examples.emplace_back(path);
  }
};

// "3 entries modified: a/b.pdf, c.txt, d" or "4 entries (3 modified, 1
// missing): ...".
std::string DamageText(const Damage& t) {
  std::vector<std::string> kinds;
  if (t.modified > 0) kinds.push_back(std::to_string(t.modified) + " modified");
  if (t.missing > 0) kinds.push_back(std::to_string(t.missing) + " missing");
  if (t.unreadable > 0) kinds.push_back(std::to_string(t.unreadable) + " unreadable");
  const uint64_t n = t.count();
  std::string s = std::to_string(n) + (n == 1 ? " entry " : " entries ");
  if (kinds.size() == 1) {
    s += kinds[0].substr(kinds[0].find(' ') + 1);
  } else {
    s += "(";
    for (size_t i = 0; i < kinds.size(); ++i) s += (i > 0 ? ", " : "") + kinds[i];
    s += ")";
  }
  s += ": ";
  for (size_t i = 0; i < t.examples.size(); ++i) {
    s += (i > 0 ? ", " : "") + Printable(t.examples[i]);
  }
  if (n > t.examples.size()) s += ", ...";
  return s;
}

// A merge's progress (keys::MergeProgress), written with each intermediate
// batch: every catalogue write of the listed points before `point` and of
// point `point` up to and including entry `path` ("": none of it) is in
// that batch or an earlier one, and `counts` and `damage` (one per listed
// point up to `point`) are what those entries' diff found.
struct Progress {
  int64_t now_ns = 0;
  uint64_t point = 0;
  std::string path;
  storage::DiffCounts counts;
  std::vector<Damage> damage;
  // Entries re-hashed (recorded with the set's algorithm after matching
  // through the one their record held, `rehashed_from`), and entries whose
  // record still holds another algorithm's digest (`other_alg`).
  uint64_t rehashed = 0;
  uint8_t rehashed_from = 0;
  uint64_t other = 0;
  uint8_t other_alg = 0;
};

// Persisted format (never change in place; a new version beside it):
//   U8 version (1 or 2)  I64 now_ns  U64 point  Str path
//   U64 x 7 counts (unchanged, modified, updated, missing, added,
//   unreadable, not_read)
//   U64 n, then n x (U64 modified, missing, unreadable, U64 m, m x Str)
//   version 2 only: U64 rehashed, U8 rehashed_from, U64 other, U8 other_alg
// U64/I64 fixed 8 bytes big-endian, Str = U64 length + bytes. Version 1
// (written before contentHash was honoured) decodes with zeros there.
void PutStr(std::string* out, std::string_view s) {
  keys::AppendU64(out, s.size());
  out->append(s);
}

std::string EncodeProgress(const Progress& p) {
  std::string v(1, '\x02');
  keys::AppendU64(&v, static_cast<uint64_t>(p.now_ns));
  keys::AppendU64(&v, p.point);
  PutStr(&v, p.path);
  const storage::DiffCounts& c = p.counts;
  for (uint64_t n :
       {c.unchanged, c.modified, c.updated, c.missing, c.added, c.unreadable, c.not_read}) {
    keys::AppendU64(&v, n);
  }
  keys::AppendU64(&v, p.damage.size());
  for (const Damage& d : p.damage) {
    keys::AppendU64(&v, d.modified);
    keys::AppendU64(&v, d.missing);
    keys::AppendU64(&v, d.unreadable);
    keys::AppendU64(&v, d.examples.size());
    for (const auto& e : d.examples) PutStr(&v, e);
  }
  keys::AppendU64(&v, p.rehashed);
  v.push_back(static_cast<char>(p.rehashed_from));
  keys::AppendU64(&v, p.other);
  v.push_back(static_cast<char>(p.other_alg));
  return v;
}

StatusOr<Progress> DecodeProgress(std::string_view v) {
  Progress p;
  size_t at = 0;
  bool ok = true;
  auto u64 = [&]() -> uint64_t {
    if (v.size() - at < 8) {
      ok = false;
      return 0;
    }
    uint64_t n = keys::ReadU64(v.substr(at, 8));
    at += 8;
    return n;
  };
  auto str = [&]() -> std::string {
    uint64_t n = u64();
    if (!ok || v.size() - at < n) {
      ok = false;
      return {};
    }
    std::string s(v.substr(at, n));
    at += n;
    return s;
  };
  if (v.empty() || (v[0] != '\x01' && v[0] != '\x02'))
    return absl::DataLossError("merge progress record: unknown version");
  const bool v2 = v[0] == '\x02';
  at = 1;
  p.now_ns = static_cast<int64_t>(u64());
  p.point = u64();
  p.path = str();
  storage::DiffCounts& c = p.counts;
  for (uint64_t* n :
       {&c.unchanged, &c.modified, &c.updated, &c.missing, &c.added, &c.unreadable, &c.not_read}) {
    *n = u64();
  }
  const uint64_t points = u64();
  for (uint64_t i = 0; ok && i < points; ++i) {
    Damage& d = p.damage.emplace_back();
    d.modified = u64();
    d.missing = u64();
    d.unreadable = u64();
    const uint64_t m = u64();
    for (uint64_t j = 0; ok && j < m && j < 5; ++j) d.examples.push_back(str());
    if (m > 5) ok = false;
  }
  if (v2) {
    auto u8 = [&]() -> uint8_t {
      if (at >= v.size()) {
        ok = false;
        return 0;
      }
      return static_cast<uint8_t>(v[at++]);
    };
    p.rehashed = u64();
    p.rehashed_from = u8();
    p.other = u64();
    p.other_alg = u8();
  }
  if (!ok || at != v.size()) return absl::DataLossError("merge progress record does not decode");
  return p;
}

}  // namespace

size_t MergeBatchBytes() {
  static const size_t bytes = [] {
    const char* e = std::getenv("VIGIL_TEST_MERGE_BATCH_BYTES");
    if (e != nullptr) {
      char* end = nullptr;
      unsigned long long n = std::strtoull(e, &end, 10);
      if (end != e && *end == '\0' && n > 0) return static_cast<size_t>(n);
    }
    return static_cast<size_t>(4 << 20);
  }();
  return bytes;
}

void TestCrashPoint(std::string_view stage, uint64_t n) {
  static const std::string want = [] {
    const char* e = std::getenv("VIGIL_TEST_CRASH_POINT");
    return std::string(e == nullptr ? "" : e);
  }();
  if (want.empty()) return;
  const std::string here = std::string(stage) + ":" + std::to_string(n);
  if (here != want) return;
  std::fprintf(stderr, "test crash point %s\n", here.c_str());
  std::fflush(stderr);
  raise(SIGKILL);
}

namespace {

// The merge's last listed point `t`, with record `r` just updated: when
// it was recorded consistent, its directories `dirs` (DirDigester) become
// the set's reference (ingest.h, "Held directories"), replacing the
// previous one's, in the point's batch. Not when it was not (nor when it
// had more directories than kept): the previous reference stays, offered
// only while its own point's record holds the digests it was kept with.
// A metadata-only listing of the reference itself that found the same
// listing keeps the reference as it is (with the content digests of the
// read that made it).
Status KeepHeldDirs(const v1::BackupSet& set, int64_t t, const v1::PointRecord& r, bool read_whole,
                    bool consistent, bool overflow, const std::vector<DirDigester::Dir>& dirs,
                    storage::KvStore* kv, storage::Catalogue::Writer* w) {
  if (!consistent || overflow || r.digests().listing().empty()) return absl::OkStatus();
  if (!read_whole) {
    std::string v;
    Status s = kv->Get(Space::kMeta, keys::HeldDirsHead(set.tenant(), set.name()), &v);
    if (!s.ok() && !absl::IsNotFound(s)) return s;
    v1::HeldDirsRecord head;
    if (s.ok() && head.ParseFromString(v) && head.point_ns() == t &&
        head.digests().listing() == r.digests().listing()) {
      return absl::OkStatus();
    }
  }
  const std::string prefix = keys::HeldDirs(set.tenant(), set.name());
  w->DeleteMetaRange(prefix, storage::PrefixSuccessor(prefix));
  if (dirs.empty()) return absl::OkStatus();  // none to offer: no reference
  v1::HeldDirsRecord head;
  head.set_point_ns(t);
  head.mutable_digests()->set_listing(r.digests().listing());
  if (read_whole) head.mutable_digests()->set_content(r.digests().content());
  head.set_dirs(dirs.size());
  w->PutMeta(keys::HeldDirsHead(set.tenant(), set.name()), head.SerializeAsString());
  v1::HeldDirRecord rec;
  for (const DirDigester::Dir& d : dirs) {
    *rec.mutable_digests() = d.digests;
    if (!read_whole) rec.mutable_digests()->clear_content();
    rec.set_entries(d.entries);
    rec.set_files(d.files);
    rec.set_bytes(d.bytes);
    w->PutMeta(keys::HeldDir(set.tenant(), set.name(), d.path), rec.SerializeAsString());
  }
  return absl::OkStatus();
}

// The reference's directory records (keys::HeldDir) to `fn`: all of them,
// or those beneath `dir` when it is not empty. False if one does not parse
// (skipped).
StatusOr<bool> ForEachHeldDir(storage::KvStore* kv, const v1::BackupSet& set, std::string_view dir,
                              bool content, const std::function<void(DirDigester::Dir&&)>& fn) {
  const std::string first = keys::HeldDirs(set.tenant(), set.name()) + "\x01";
  const std::string from =
      dir.empty() ? first : keys::HeldDir(set.tenant(), set.name(), dir) + std::string(1, '\0');
  auto it = kv->NewIterator(Space::kMeta, {.upper_bound = storage::PrefixSuccessor(from)});
  bool parsed = true;
  v1::HeldDirRecord rec;
  for (it->Seek(from); it->Valid(); it->Next()) {
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      parsed = false;
      continue;
    }
    fn(DirOf(storage::DecodePath(it->key().substr(first.size())), rec, content));
  }
  if (!it->status().ok()) return it->status();
  return parsed;
}

}  // namespace

StatusOr<MergeResult> MergeStaged(storage::Catalogue& cat, const v1::BackupSet& set, uint64_t task,
                                  uint32_t attempt, int64_t now_ns, const std::string& marker_key,
                                  storage::KvBatch* last_batch, const MergeOptions& options) {
  auto listing = ListedPoints(cat.kv(), set, task, attempt);
  if (!listing.ok()) return listing.status();
  // The set's point records (one per point ever listed: few).
  std::map<int64_t, v1::PointRecord> records;
  {
    auto loaded = LoadPoints(cat.kv(), set.tenant(), set.name());
    if (!loaded.ok()) return loaded.status();
    for (auto& r : *loaded) records[r.time_ns()] = std::move(r);
  }
  // Where an interrupted merge of this attempt stopped (see the header).
  const std::string progress_key = keys::MergeProgress(task, attempt);
  Progress done;  // what is on disk
  {
    std::string v;
    Status s = cat.kv()->Get(Space::kMeta, progress_key, &v);
    if (s.ok()) {
      auto p = DecodeProgress(v);
      if (!p.ok()) return p.status();
      done = std::move(*p);
      if (done.point >= listing->size() || done.damage.size() != done.point + 1) {
        return absl::DataLossError("merge progress record does not match the staged listing");
      }
    } else if (absl::IsNotFound(s)) {
      done.now_ns = now_ns;
    } else {
      return s;
    }
  }
  now_ns = done.now_ns;
  Progress progress = done;  // what this call reached
  progress.damage.resize(listing->size());
  MergeResult result;
  result.now_ns = now_ns;
  TestCrashPoint("merge", 0);

  // The set's digest algorithm: entries recorded with another are
  // re-hashed when read with theirs too (Task.rehash_from).
  auto declared = contracts::ContentHashOf(set);
  if (!declared.ok()) return declared.status();
  StagedSource source(cat.kv(), task, attempt);
  storage::DiffOptions opts;
  opts.mutable_set = set.mutable_();
  std::unique_ptr<storage::Catalogue::Writer> w;
  // The writer never flushes by itself: intermediate batches end at an
  // entry boundary, with the progress record (WriteProgress).
  const storage::Catalogue::Writer::Options writer_options{.batch_bytes =
                                                               std::numeric_limits<size_t>::max()};
  const size_t batch_bytes = options.batch_bytes > 0 ? options.batch_bytes : MergeBatchBytes();
  uint64_t point_index = 0;
  auto write_progress = [&]() -> Status {
    Progress p = progress;
    p.damage.resize(p.point + 1);
    w->PutMeta(progress_key, EncodeProgress(p));
    if (Status s = w->Flush(); !s.ok()) return s;  // synced with the last batch
    ++result.writes;
    TestCrashPoint("merge", result.writes);
    return options.after_write ? options.after_write(result.writes) : absl::OkStatus();
  };

  // Files of the current point listed without their content, so far: while
  // none is, the point is read whole, and the range record written at its
  // end says "verified now" for every entry without a newer record of its
  // own (a problem found now is stamped now, so it stands): an entry found
  // unchanged writes nothing. (A point is read whole or listed whole by
  // the task; should one be mixed, the entries found unchanged before its
  // first unread one keep their older verification time: under-claimed.)
  uint64_t not_read_in_point = 0;
  // Entries of the current point whose content was not compared (DiffKind
  // kNotRead: listed without content, or read under a digest algorithm the
  // record does not hold and no digest of its own, storage::Classify): the
  // point is then not verified whole (its PointRecord.last_verified_ns).
  uint64_t not_compared_in_point = 0;
  auto verify_ok = [&](std::string_view path) -> Status {
    if (not_read_in_point == 0) return absl::OkStatus();
    storage::VerifyRecord v;
    v.last_verified_ns = v.last_checked_ns = now_ns;
    return w->PutVerify(path, v);
  };
  auto problem = [&](std::string_view path, storage::EntryState state,
                     const storage::Observation* obs) {
    storage::VerifyRecord v;
    v.state = state;
    v.last_checked_ns = now_ns;
    if (obs != nullptr) {
      v.first_reading = obs->digest;
      v.observed_size = obs->size;
      v.detail = obs->error;
    }
    return w->PutVerify(path, v);
  };
  // Entries of the current point that show a sync since the last check:
  // added (and recorded), updated, or touched. Dates a mirror (DateMirror).
  uint64_t point_changes = 0;
  auto record = [&](const storage::DiffEvent& ev, Damage* damage) -> Status {
    switch (ev.kind) {
      case storage::DiffKind::kAdded:
        // Nothing to record yet: unreadable, or listed without its content
        // (recorded when its point is read).
        if (ev.observed->unreadable || ev.observed->not_read) return absl::OkStatus();
        ++point_changes;
        return w->PutEntry(ev.path, storage::RecordOf(*ev.observed, now_ns));
      case storage::DiffKind::kUnchanged: {
        // Matched through the algorithm its record holds: recorded with the
        // set's from now on.
        const bool rehash = !ev.observed->digest.empty() && !ev.recorded->digest.empty() &&
                            ev.observed->digest.algorithm() != ev.recorded->digest.algorithm();
        if (rehash) {
          ++progress.rehashed;
          progress.rehashed_from = static_cast<uint8_t>(ev.recorded->digest.algorithm());
        }
        if (ev.observed->mtime_ns != ev.recorded->mtime_ns) ++point_changes;  // touched
        // Same bytes: a record without their sample (written before
        // samples existed, or by a metadata-only listing) gets it, once;
        // no change is counted for it.
        const bool sample = ev.recorded->type == storage::EntryType::kFile &&
                            ev.observed->sample.sampled() &&
                            !(ev.observed->sample == ev.recorded->sample);
        if (rehash || sample || ev.observed->mtime_ns != ev.recorded->mtime_ns) {
          storage::EntryRecord r = *ev.recorded;
          r.mtime_ns = ev.observed->mtime_ns;
          if (rehash) r.digest = ev.observed->digest;
          if (sample) r.sample = ev.observed->sample;
          if (Status s = w->PutEntry(ev.path, r, ev.recorded); !s.ok()) return s;
        }
        return verify_ok(ev.path);
      }
      case storage::DiffKind::kUpdated: {
        ++point_changes;
        Status s = w->PutEntry(ev.path, storage::RecordOf(*ev.observed, ev.recorded->first_seen_ns),
                               ev.recorded);
        return s.ok() ? verify_ok(ev.path) : s;
      }
      case storage::DiffKind::kModified:
        damage->Add(&damage->modified, ev.path);
        return problem(ev.path, storage::EntryState::kModified, ev.observed);
      case storage::DiffKind::kMissing:
        damage->Add(&damage->missing, ev.path);
        return problem(ev.path, storage::EntryState::kMissing, nullptr);
      case storage::DiffKind::kUnreadable:
        damage->Add(&damage->unreadable, ev.path);
        return problem(ev.path, storage::EntryState::kUnreadable, ev.observed);
      case storage::DiffKind::kNotRead: {
        if (ev.observed->not_read) return absl::OkStatus();  // listed: no range record
        // Read, but not comparable with its record: its verification stays
        // what it was, in a record of its own checked now, which the point's
        // range record (written at its end) does not supersede.
        storage::EntryRecord rec;
        storage::VerifyRecord v;
        const storage::Scope here{set.tenant(), set.name(), (*listing)[point_index].time_ns()};
        if (Status g = cat.GetEntry(here, ev.path, &rec, &v); !g.ok()) return g;
        v.last_checked_ns = now_ns;
        return w->PutVerify(ev.path, v);
      }
    }
    return absl::OkStatus();
  };
  // Events of the current point that leave the catalogue other than what
  // the worker saw (a problem, an entry not comparable, a new one not
  // recorded): the point's listing digests are then not kept.
  uint64_t unclean_in_point = 0;
  auto sink = [&](const storage::DiffEvent& ev) -> Status {
    // Counted whether or not written before a crash: it decides the point's
    // range record, written at its end.
    if (ev.kind == storage::DiffKind::kNotRead) ++not_compared_in_point;
    switch (ev.kind) {
      case storage::DiffKind::kModified:
      case storage::DiffKind::kMissing:
      case storage::DiffKind::kUnreadable:
        ++unclean_in_point;
        break;
      case storage::DiffKind::kNotRead:
        if (!ev.observed->not_read) ++unclean_in_point;
        break;
      case storage::DiffKind::kAdded:
        if (ev.observed->unreadable || ev.observed->not_read) ++unclean_in_point;
        break;
      default:
        break;
    }
    // Written and counted before the crash the merge resumes from.
    if (point_index < done.point || (point_index == done.point && !done.path.empty() &&
                                     storage::ComparePathOrder(ev.path, done.path) <= 0)) {
      return absl::OkStatus();
    }
    progress.counts.Add(ev.kind);
    if (Status s = record(ev, &progress.damage[point_index]); !s.ok()) return s;
    // The algorithm of the digest the entry's record holds now.
    const storage::Digest* kept = ev.recorded != nullptr ? &ev.recorded->digest : nullptr;
    if (ev.observed != nullptr && !ev.observed->digest.empty() &&
        (ev.kind == storage::DiffKind::kAdded || ev.kind == storage::DiffKind::kUnchanged ||
         ev.kind == storage::DiffKind::kUpdated)) {
      kept = &ev.observed->digest;
    }
    if (kept != nullptr && !kept->empty() && kept->algorithm() != *declared) {
      ++progress.other;
      progress.other_alg = static_cast<uint8_t>(kept->algorithm());
    }
    if (w->pending_bytes() < batch_bytes) return absl::OkStatus();
    progress.point = point_index;
    progress.path.assign(ev.path);
    return write_progress();
  };

  std::map<int64_t, bool> listed;
  uint64_t bytes_read = 0;
  // The set's holdable points (HoldablePoints) and held directories,
  // loaded at the first marker.
  HeldState held_state;
  // The directories of the point being merged (DirDigester), collected
  // for the task's last listed point: the set's reference if it is recorded
  // consistent (its merge keeps them, ingest.h "Held directories").
  std::vector<DirDigester::Dir> point_dirs;
  bool dirs_overflow = false;
  bool collect_dirs = false;
  auto keep_dir = [&](DirDigester::Dir&& d) {
    if (!collect_dirs || dirs_overflow || d.entries < kMinHeldDirEntries) return;
    if (point_dirs.size() >= kMaxHeldDirs) {
      dirs_overflow = true;
      std::vector<DirDigester::Dir>().swap(point_dirs);
      return;
    }
    point_dirs.push_back(std::move(d));
  };
  // The point's digests, and its directories' on the way.
  ListingDigester digester(keep_dir);
  uint64_t expanded = 0;  // entries taken from the reference for held directories
  // Points of which entries were sent so far (CheckReferenceUnsent).
  std::vector<int64_t> entry_points;
  for (point_index = 0; point_index < listing->size(); ++point_index) {
    const auto& point = (*listing)[point_index];
    const int64_t t = point.time_ns();
    listed[t] = true;
    if (w != nullptr) {
      // The previous point ends (a new one is recorded), and the previous
      // points are written up to their end.
      if (Status s = w->EndPoint(); !s.ok()) return s;
      if (w->pending_bytes() > 0) {
        progress.point = point_index;
        progress.path.clear();
        if (Status s = write_progress(); !s.ok()) return s;
      }
    }
    storage::Scope scope{set.tenant(), set.name(), t};
    w = std::make_unique<storage::Catalogue::Writer>(&cat, scope, writer_options);
    if (point_index == done.point && !done.path.empty()) {
      // A point being recorded when the crash came: its entries up to
      // done.path are in the catalogue.
      if (Status s = w->ResumeAfter(done.path); !s.ok()) return s;
    }
    // A held marker: the worker saw the point as the digests its record
    // keeps (Task.held_points) and sent none of its entries.
    if (const v1::Observation* p = source.Peek();
        p != nullptr && p->restore_point_ns() == t && p->has_held()) {
      const v1::ListingDigests held = p->held();
      source.Skip();
      if (const v1::Observation* q = source.Peek(); q != nullptr && q->restore_point_ns() == t) {
        return absl::InvalidArgumentError("observation '" + q->path() + "' of restore point " +
                                          PointText(t) +
                                          " comes after its held marker (a held point sends no "
                                          "entry)");
      }
      auto rec = records.find(t);
      const bool read = !held.content().empty();
      // The worker's proof: only a worker that computed the digests the
      // point record holds can give it (listing_digest.h). Checked when
      // staged (CheckHeldProofs); again here, under the set's lock.
      if (Status s = held_state.Load(cat.kv(), set, false); !s.ok()) return s;
      if (rec == records.end() || !ProvesHeld(*held_state.points, t, held, task, attempt)) {
        return absl::InvalidArgumentError(
            "restore point '" + Printable(point.name()) + "' (" + PointText(t) +
            "): a held marker whose proofs are not those of the digests the coordinator holds "
            "for it (the point recorded again since it was staged); the check runs again");
      }
      v1::PointRecord& r = rec->second;
      const uint64_t entries = r.entries();
      const uint64_t files = std::min(r.files(), entries);
      if (point_index >= done.point) {  // before: counted and written already
        progress.counts.unchanged += read ? entries : entries - files;
        if (!read) progress.counts.not_read += files;
        // Every file read now and found as recorded (the content digest
        // covers each one's digest): verified now, as a point read whole.
        if (read) w->PutRangeVerified(now_ns);
      }
      ++result.points_held;
      result.entries_held += entries;
      if (read) bytes_read += r.bytes();
      r.set_name(point.name());
      r.set_gone_ns(0);
      r.set_last_checked_ns(now_ns);
      if (read) r.set_last_verified_ns(now_ns);
      continue;
    }
    PointTally point_tally;
    point_changes = 0;
    not_read_in_point = 0;
    not_compared_in_point = 0;
    unclean_in_point = 0;
    collect_dirs = point_index + 1 == listing->size();
    dirs_overflow = false;
    point_dirs.clear();
    Status order;
    // A held directory being taken from the reference point: its entries
    // as the worker would have sent them (read, or listed), and the prefix
    // no later observation may be beneath.
    std::unique_ptr<storage::Versions::Scanner> under;
    bool under_read = false;
    std::string held_prefix;
    uint64_t under_left = 0;  // entries its record counts, not yet taken
    // The point's last observation (sent or taken; a shared directory: its
    // path): a marker must sort after it, and not beneath it.
    std::string prev_path;
    // The first observation sent after a held directory: it must sort
    // after everything beneath it.
    bool after_held = false;
    v1::Observation x;
    // An observation of the point, staged or taken from the reference.
    auto tally = [&](const v1::Observation& q) {
      if (q.type() == v1::ENTRY_TYPE_FILE) {
        ++point_tally.files;
        point_tally.bytes += q.size();
        if (q.not_read()) {
          ++point_tally.not_read;
          ++not_read_in_point;
        }
        if (!q.not_read() && !q.digest().empty()) bytes_read += q.size();
      }
      digester.Add(q);
    };
    // A held directory whose entries the point shares with the reference
    // (Writer::ShareUnder): what its entries would have done one by one, at
    // once — a new point's entries are added (the sink's count), read (the
    // content proof), tallied and digested from the reference's record of
    // the directory, and the directories beneath it kept again for the
    // next reference.
    auto share_held_dir = [&](const v1::Observation& m, const v1::HeldDirRecord& dir) -> Status {
      if (Status s = w->ShareUnder(m.path(), dir.entries(), now_ns); !s.ok()) return s;
      DirDigester::Dir whole = DirOf(m.path(), dir, true);
      digester.AddDir(whole);
      point_tally.files += dir.files();
      point_tally.bytes += dir.bytes();
      bytes_read += dir.bytes();
      progress.counts.added += dir.entries();
      point_changes += dir.entries();
      expanded += dir.entries();
      ++result.dirs_shared;
      prev_path = m.path();
      if (!collect_dirs) return absl::OkStatus();
      keep_dir(std::move(whole));
      auto kept = ForEachHeldDir(cat.kv(), set, m.path(), true, keep_dir);
      if (!kept.ok()) return kept.status();
      if (!*kept) {
        dirs_overflow = true;  // a record unreadable: the point keeps none
        std::vector<DirDigester::Dir>().swap(point_dirs);
      }
      return absl::OkStatus();
    };
    auto next = [&](storage::Observation* o) -> bool {
      for (;;) {
        while (under) {
          // The reference's entries beneath it not as many as its record
          // counted (cannot be, while its record is the one the digests were
          // kept with): refused.
          const bool ended = !under->Valid();
          if (ended && !under->status().ok()) {
            order = under->status();
            return false;
          }
          if (ended != (under_left == 0)) {
            order = absl::InvalidArgumentError(
                "restore point " + PointText(t) + ", directory '" +
                Printable(std::string_view(held_prefix).substr(0, held_prefix.size() - 1)) +
                "': the reference point's entries beneath it are not as many as its digests "
                "counted; its entries must be sent");
            return false;
          }
          if (ended) {
            under.reset();
            break;  // (out of the held directory: the staged observations again)
          }
          --under_left;
          const storage::Version& v = under->version();
          x.Clear();
          x.set_path(v.path);
          x.set_restore_point_ns(t);
          x.set_type(static_cast<v1::EntryType>(static_cast<int>(v.entry.type)));
          x.set_size(v.entry.size);
          x.set_mtime_ns(v.entry.mtime_ns);
          x.set_link_target(v.entry.link_target);
          const bool file = v.entry.type == storage::EntryType::kFile;
          if ((file && under_read) || (!file && !v.entry.digest.empty())) {
            x.set_digest_algorithm(static_cast<uint32_t>(v.entry.digest.algorithm()));
            x.set_digest(std::string(v.entry.digest.view()));
            if (file && v.entry.sample.sampled()) {
              x.mutable_sample()->set_format(static_cast<uint32_t>(v.entry.sample.format));
              x.mutable_sample()->set_entropy(v.entry.sample.entropy);
            }
          } else if (file) {
            x.set_not_read(true);
          }
          tally(x);
          prev_path = x.path();
          *o = ToObservation(x);
          ++expanded;
          under->Next();
          return true;
        }
        const v1::Observation* p = source.Peek();
        if (p == nullptr) return false;
        if (p->restore_point_ns() != t) {
          if (p->restore_point_ns() < t) {
            order = absl::InvalidArgumentError(
                "observation '" + p->path() + "': field 'restore_point_ns' " +
                std::to_string(p->restore_point_ns()) + " is out of order or not listed");
          }
          return false;
        }
        if (p->has_held()) {
          order = absl::InvalidArgumentError("restore point " + PointText(t) +
                                             ": a held marker after its entries (it must be the "
                                             "point's only observation)");
          return false;
        }
        if (!held_prefix.empty() && p->path().starts_with(held_prefix)) {
          order = absl::InvalidArgumentError(
              "observation '" + Printable(p->path()) + "' of restore point " + PointText(t) +
              " is beneath a directory held before it (a held directory sends no entry)");
          return false;
        }
        if (p->has_held_dir()) {
          // The worker saw everything beneath the directory as the reference
          // point holds it (Task.held_dirs): proved as when staged, again
          // here under the set's lock, then taken from the reference.
          if (Status s = held_state.Load(cat.kv(), set, true); !s.ok()) {
            order = s;
            return false;
          }
          if (!prev_path.empty() && storage::ComparePathOrder(prev_path, p->path()) >= 0) {
            order = absl::InvalidArgumentError(
                "restore point " + PointText(t) + ": held directory '" + Printable(p->path()) +
                "' after observation '" + Printable(prev_path) +
                "' (a marker stands where the directory's entries would be, in catalogue order)");
            return false;
          }
          if (Status s = CheckReferenceUnsent(*p, *held_state.dirs, entry_points); !s.ok()) {
            order = s;
            return false;
          }
          v1::HeldDirRecord dir;
          auto proved = ProvesHeldDir(cat.kv(), set, *held_state.dirs, *p, task, attempt, &dir);
          if (!proved.ok() || !*proved) {
            order = proved.ok() ? absl::InvalidArgumentError(HeldDirRefused(*p, *held_state.dirs))
                                : proved.status();
            return false;
          }
          under_read = !p->held_dir().content().empty();
          const int64_t reference = (*held_state.dirs)->point_ns;
          // A new point after the reference, nothing recorded after it, the
          // directory read: its entries are the reference's versions as
          // they are (the proof says so), shared without reading them.
          // Otherwise taken one by one from the reference.
          bool share = false;
          if (under_read) {
            auto can = w->CanShareFrom(reference);
            if (!can.ok()) {
              order = can.status();
              return false;
            }
            share = *can;
          }
          if (share) {
            if (Status s = share_held_dir(*p, dir); !s.ok()) {
              order = s;
              return false;
            }
          } else {
            under_left = dir.entries();
            under = storage::Versions(cat.kv()).ScanUnder(set.tenant(), set.name(), reference,
                                                          p->path());
          }
          held_prefix = p->path() + "/";
          after_held = true;
          ++result.dirs_held;
          result.entries_in_held_dirs += dir.entries();
          source.Skip();
          continue;
        }
        if (after_held) {
          after_held = false;
          if (storage::ComparePathOrder(prev_path, p->path()) >= 0) {
            order = absl::InvalidArgumentError(
                "observation '" + Printable(p->path()) + "' of restore point " + PointText(t) +
                " sorts before held directory '" + Printable(prev_path) +
                "' or an entry beneath it, sent before it (catalogue order)");
            return false;
          }
        }
        tally(*p);
        prev_path = p->path();
        if (entry_points.empty() || entry_points.back() != t) entry_points.push_back(t);
        source.Take(o);
        return true;
      }
    };
    Status s = storage::DiffRestorePoint(cat, scope, next, opts, sink);
    if (s.ok()) s = order;
    if (s.ok()) s = source.status();
    if (!s.ok()) return s;
    // Every entry of the point was looked at and its content read: one
    // range record instead of one record per entry found unchanged (those
    // not comparable have records of their own, checked now, that stand).
    if (point_tally.not_read == 0) w->PutRangeVerified(now_ns);
    const bool verified_whole = point_tally.not_read == 0 && not_compared_in_point == 0;

    const Damage& damage = progress.damage[point_index];
    auto [rec, is_new] = records.try_emplace(t);
    v1::PointRecord& r = rec->second;
    // A point whose entries were freed, listed again (it came back): the
    // catalogue recorded it anew above (every entry added). Its record keeps
    // its history (first seen, damage: the reports' incidents); what was
    // judged of entries no longer held is judged again from those just
    // recorded, acceptance included (the content now may not be what an
    // operator accepted then).
    if (!is_new && r.entries_freed_ns() != 0) {
      r.clear_entries_freed_ns();
      r.clear_digests();
      r.clear_implausible();
      r.clear_changed_files();
      r.clear_changed_bytes();
      r.set_plausibility_checked(false);
      r.clear_verdict();
      r.clear_verdict_rules();
      r.clear_signals();
      r.clear_compared_with_ns();
      r.clear_accepted_by();
      r.clear_accepted_ns();
      r.clear_accepted_reason();
    }
    if (is_new) {
      r.set_time_ns(t);
      r.set_first_seen_ns(now_ns);
      r.set_plausibility_checked(false);
    }
    // A mirror seen changed since its last check: synced in between. (A
    // merge resumed after a crash counts only the changes it writes itself:
    // the sync is then dated by the next change.)
    if (!is_new && t == 0 && IsMirrorLayout(set) && point_changes > 0 && r.last_checked_ns() != 0 &&
        r.last_checked_ns() < now_ns) {
      r.set_change_after_ns(r.last_checked_ns());
      r.set_change_seen_ns(now_ns);
    }
    r.set_name(point.name());
    r.set_gone_ns(0);
    r.set_files(point_tally.files);
    r.set_bytes(point_tally.bytes);
    r.set_entries(digester.entries());
    // The point as the worker listed it, when the catalogue now holds the
    // same (services/common/listing_digest.h): the next check's worker
    // sends a held marker instead of its entries if it sees the same again.
    // With the content digest only if every file was read now; a listing
    // alone keeps the content digest of an earlier read when it is the same.
    {
      v1::ListingDigests d = digester.Finish(point_tally.not_read == 0);
      if (unclean_in_point != 0) {
        r.clear_digests();
      } else {
        if (point_tally.not_read != 0 && d.listing() == r.digests().listing()) {
          d.set_content(r.digests().content());
        }
        *r.mutable_digests() = std::move(d);
        r.set_digests_format(kListingDigestsFormat);
      }
    }
    if (collect_dirs) {
      if (Status s = KeepHeldDirs(set, t, r, point_tally.not_read == 0, unclean_in_point == 0,
                                  dirs_overflow, point_dirs, cat.kv(), w.get());
          !s.ok()) {
        return s;
      }
    }
    r.set_last_checked_ns(now_ns);
    if (verified_whole) r.set_last_verified_ns(now_ns);
    if (damage.count() > 0 && r.damaged_ns() == 0) {
      r.set_damaged_ns(now_ns);
      r.set_damage(DamageText(damage));
    }
  }
  if (const v1::Observation* p = source.Peek(); p != nullptr) {
    return absl::InvalidArgumentError("observation '" + p->path() + "': field 'restore_point_ns' " +
                                      std::to_string(p->restore_point_ns()) +
                                      " is out of order or not listed");
  }
  if (!source.status().ok()) return source.status();
  if (w == nullptr) {  // nothing listed: the last batch holds only meta keys
    w = std::make_unique<storage::Catalogue::Writer>(
        &cat, storage::Scope{set.tenant(), set.name(), 0}, writer_options);
  }
  for (auto& [t, r] : records) {
    if (listed.count(t) == 0) {
      if (r.gone_ns() != 0) continue;  // unchanged
      r.set_gone_ns(now_ns);
    }
    w->PutMeta(keys::Point(set.tenant(), set.name(), t), r.SerializeAsString());
  }

  // Which algorithm the next check's reads must add (Task.rehash_from).
  w->PutMeta(
      keys::CatalogueHash(set.tenant(), set.name()),
      std::string(1, static_cast<char>(progress.other > 0 ? progress.other_alg
                                                          : static_cast<uint8_t>(*declared))));
  const storage::DiffCounts& counts = progress.counts;
  result.counts.set_rehashed(progress.rehashed);
  if (progress.rehashed > 0) result.counts.set_rehashed_from(progress.rehashed_from);
  result.counts.set_other_algorithm(progress.other);
  result.counts.set_unchanged(counts.unchanged);
  result.counts.set_modified(counts.modified);
  result.counts.set_updated(counts.updated);
  result.counts.set_missing(counts.missing);
  result.counts.set_added(counts.added);
  result.counts.set_unreadable(counts.unreadable);
  result.counts.set_not_read(counts.not_read);
  result.entries = source.count() + result.entries_held + expanded;
  result.bytes_read = bytes_read;
  v1::Task marker;
  *marker.mutable_counts() = result.counts;
  marker.set_entries(result.entries);
  marker.set_bytes_read(result.bytes_read);
  marker.set_points_held(result.points_held);
  marker.set_entries_held(result.entries_held);
  marker.set_dirs_held(result.dirs_held);
  marker.set_dirs_shared(result.dirs_shared);
  marker.set_entries_in_held_dirs(result.entries_in_held_dirs);
  if (Status s = w->EndPoint(); !s.ok()) return s;  // the last point ends in the last batch
  if (last_batch != nullptr) {
    *last_batch = w->TakeBatch();  // written with the DONE record
    return result;
  }
  w->PutMeta(marker_key, marker.SerializeAsString());  // atomic with the last batch
  if (Status c = w->Commit(/*sync=*/true); !c.ok()) return c;
  return result;
}

namespace {

Status DeletePrefix(storage::KvStore* kv, Space space, const std::string& prefix,
                    storage::KvBatch* b) {
  auto it = kv->NewIterator(space, {.upper_bound = storage::PrefixSuccessor(prefix)});
  for (it->Seek(prefix); it->Valid(); it->Next()) b->Delete(space, it->key());
  return it->status();
}

// The algorithm Task.rehash_from must name for a check of `set` (a
// non-restic set whose catalogue holds digests of another algorithm than
// its content_hash: keys::CatalogueHash, absent = XXH3-128), 0 for none
// (or an unknown content_hash: the worker fails the task, naming it).
StatusOr<uint32_t> RehashFrom(storage::KvStore* kv, const v1::BackupSet& set) {
  if (set.format() == "restic") return 0u;
  auto declared = contracts::ContentHashOf(set);
  if (!declared.ok()) return 0u;
  std::string v;
  Status s = kv->Get(Space::kMeta, keys::CatalogueHash(set.tenant(), set.name()), &v);
  if (!s.ok() && !absl::IsNotFound(s)) return s;
  uint8_t recorded = static_cast<uint8_t>(storage::HashAlgorithm::kXxh3_128);
  if (s.ok() && v.size() == 1 && storage::IsKnownAlgorithm(static_cast<uint8_t>(v[0]))) {
    recorded = static_cast<uint8_t>(v[0]);
  }
  return recorded != static_cast<uint8_t>(*declared) ? uint32_t{recorded} : 0u;
}

}  // namespace

StatusOr<std::map<int64_t, v1::PointRecord>> HoldablePoints(storage::KvStore* kv,
                                                            const v1::BackupSet& set) {
  std::map<int64_t, v1::PointRecord> held;
  if (set.format() == "restic" || set.layout() == "dated-files") return held;
  auto rehash = RehashFrom(kv, set);
  if (!rehash.ok()) return rehash.status();
  if (*rehash != 0) return held;
  auto records = LoadPoints(kv, set.tenant(), set.name());
  if (!records.ok()) return records.status();
  // Only points the catalogue still records (an offboarding interrupted
  // after its erasure leaves point records behind); a point of no entry
  // has nothing recorded (and nothing to claim).
  auto recorded = storage::Versions(kv).Points(set.tenant(), set.name());
  if (!recorded.ok()) return recorded.status();
  for (const v1::PointRecord& r : *records) {
    if (r.digests().listing().empty() || r.digests_format() != kListingDigestsFormat) continue;
    if (r.entries() > 0 && !std::binary_search(recorded->begin(), recorded->end(), r.time_ns())) {
      continue;
    }
    held[r.time_ns()] = r;
  }
  return held;
}

StatusOr<std::optional<HeldDirRef>> HeldDirReference(
    storage::KvStore* kv, const v1::BackupSet& set,
    const std::map<int64_t, v1::PointRecord>& holdable) {
  std::string v;
  Status s = kv->Get(Space::kMeta, keys::HeldDirsHead(set.tenant(), set.name()), &v);
  if (absl::IsNotFound(s)) return std::optional<HeldDirRef>();
  if (!s.ok()) return s;
  v1::HeldDirsRecord head;
  if (!head.ParseFromString(v) || head.digests().listing().empty()) {
    return std::optional<HeldDirRef>();  // nothing offered, nothing proved
  }
  auto it = holdable.find(head.point_ns());
  if (it == holdable.end() || it->second.entries() == 0 ||
      it->second.digests().listing() != head.digests().listing()) {
    return std::optional<HeldDirRef>();
  }
  HeldDirRef ref;
  ref.point_ns = head.point_ns();
  ref.content = !head.digests().content().empty() &&
                head.digests().content() == it->second.digests().content();
  return std::optional<HeldDirRef>(ref);
}

Status AddRehash(storage::KvStore* kv, v1::Task* task) {
  task->clear_rehash_from();
  if (task->kind() != v1::TASK_KIND_CHECK) return absl::OkStatus();
  auto from = RehashFrom(kv, task->backup_set());
  if (!from.ok()) return from.status();
  if (*from != 0) task->set_rehash_from(*from);
  return absl::OkStatus();
}

Status AddHeldPoints(storage::KvStore* kv, v1::Task* task) {
  task->clear_held_points();
  task->clear_held_dirs();
  if (task->kind() != v1::TASK_KIND_CHECK) return absl::OkStatus();
  auto held = HoldablePoints(kv, task->backup_set());
  if (!held.ok()) return held.status();
  for (const auto& [t, record] : *held) {
    v1::HeldPoint* h = task->add_held_points();
    h->set_time_ns(t);
    h->set_entries(record.entries());
    *h->mutable_digests() = HeldOffer(record.digests(), task->id(), task->attempt());
  }
  // The reference's directories, those with most entries beneath them
  // first when there are more than an offer can carry.
  auto ref = HeldDirReference(kv, task->backup_set(), *held);
  if (!ref.ok()) return ref.status();
  if (!*ref) return absl::OkStatus();
  std::vector<DirDigester::Dir> dirs;
  auto read = ForEachHeldDir(kv, task->backup_set(), {}, (*ref)->content,
                             [&](DirDigester::Dir&& d) { dirs.push_back(std::move(d)); });
  if (!read.ok()) return read.status();  // (a record that does not parse is not offered)
  // Most entries beneath first, up to kMaxHeldDirOffers and
  // kMaxHeldDirOfferBytes of paths (a lease must stay well within a
  // message's size, however deep the tree).
  std::sort(dirs.begin(), dirs.end(), [](const DirDigester::Dir& a, const DirDigester::Dir& b) {
    return a.entries > b.entries;
  });
  v1::HeldDirs* offers = task->mutable_held_dirs();
  offers->set_reference_ns((*ref)->point_ns);
  size_t path_bytes = 0;
  for (const DirDigester::Dir& d : dirs) {
    if (static_cast<size_t>(offers->dirs_size()) >= kMaxHeldDirOffers) break;
    if (path_bytes + d.path.size() > kMaxHeldDirOfferBytes) continue;
    path_bytes += d.path.size();
    v1::HeldDir* h = offers->add_dirs();
    h->set_path(d.path);
    *h->mutable_offer() = HeldDirOffer(d, task->id(), task->attempt());
  }
  return absl::OkStatus();
}

Status DropStaged(storage::KvStore* kv, storage::KvBatch* b, uint64_t task) {
  if (Status s = DeletePrefix(kv, Space::kTasks, keys::StagedPrefixOfTask(task), b); !s.ok()) {
    return s;
  }
  std::string ap = "A";
  keys::AppendU64(&ap, task);
  if (Status s = DeletePrefix(kv, Space::kTasks, ap, b); !s.ok()) return s;
  const std::string marker = keys::Merged(task, 0);
  if (Status s = DeletePrefix(kv, Space::kMeta, marker.substr(0, marker.size() - 4), b); !s.ok()) {
    return s;
  }
  const std::string progress = keys::MergeProgress(task, 0);
  return DeletePrefix(kv, Space::kMeta, progress.substr(0, progress.size() - 4), b);
}

}  // namespace vigil::coordinator
