#include "services/coordinator/proofs.h"

#include <map>
#include <memory>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "services/contracts/calendar.h"
#include "services/coordinator/check_results.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/points.h"
#include "services/proofs/check_log.h"
#include "services/proofs/proof_verify.h"
#include "storage/hash.h"
#include "storage/hex.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using nlohmann::json;
using storage::KvStore;
using storage::Space;
using storage::Status;
using storage::StatusOr;

namespace {

constexpr std::string_view kProof = "proof/";
constexpr std::string_view kProofSig = "proofsig/";
constexpr std::string_view kProofHead = "proofhead/";
constexpr std::string_view kProofLeaf = "proofleaf/";
// Leaves are written in batches of about this many bytes (unsynced; the
// proof record's synced write makes them durable before it is visible).
constexpr size_t kLeafBatchBytes = 4 << 20;

std::string TenantKey(std::string_view prefix, std::string_view tenant) {
  std::string k(prefix);
  storage::AppendString(&k, tenant);
  return k;
}

std::string SeqKey(std::string_view prefix, std::string_view tenant, uint64_t seq) {
  std::string k = TenantKey(prefix, tenant);
  keys::AppendU64(&k, seq);
  return k;
}

std::string LeafSetPrefix(std::string_view tenant, uint64_t seq, std::string_view set) {
  std::string k = SeqKey(kProofLeaf, tenant, seq);
  storage::AppendString(&k, set);
  return k;
}

Mutex& ProofMutex(const std::string& tenant) {
  static Mutex map_mu;
  static std::map<std::string, std::unique_ptr<Mutex>> mutexes GUARDED_BY(map_mu);
  MutexLock lock(&map_mu);
  auto& m = mutexes[tenant];
  if (!m) m = std::make_unique<Mutex>();
  return *m;
}

struct ProofHead {
  uint64_t seq = 0;
  std::string sha256;  // raw 32 bytes; empty when seq == 0
};

StatusOr<ProofHead> LoadHead(KvStore& kv, const std::string& tenant) {
  std::string v;
  Status s = kv.Get(Space::kResults, TenantKey(kProofHead, tenant), &v);
  if (absl::IsNotFound(s)) return ProofHead{};
  if (!s.ok()) return s;
  if (v.size() != 8 + 32) return absl::DataLossError("proof head of '" + tenant + "' is corrupt");
  return ProofHead{keys::ReadU64(v), v.substr(8)};
}

// Streams the newest present restore point of a backup set into a Merkle
// tree while storing its leaves under proof `seq`.
StatusOr<json> RootAndKeepLeaves(storage::Catalogue& cat, const std::string& tenant, uint64_t seq,
                                 const std::string& set, const contracts::Calendar& cal) {
  auto points = LoadPoints(cat.kv(), tenant, set);
  if (!points.ok()) return points.status();
  const v1::PointRecord* newest = nullptr;
  for (const v1::PointRecord& p : *points) {
    if (p.gone_ns() == 0 && (newest == nullptr || p.time_ns() > newest->time_ns())) newest = &p;
  }
  int64_t point_time = newest != nullptr ? newest->time_ns() : 0;
  if (newest == nullptr && !points->empty()) return json(nullptr);  // every point gone
  const std::string prefix = LeafSetPrefix(tenant, seq, set);
  storage::MerkleBuilder builder;
  storage::KvBatch batch;
  size_t pending = 0;
  auto scan = cat.Scan({tenant, set, point_time});
  for (; scan->Valid(); scan->Next()) {
    std::string leaf = storage::BoundEntryLeaf(tenant, set, scan->path(), scan->entry().size,
                                               scan->entry().digest);
    builder.Add(leaf);
    std::string key = prefix;
    keys::AppendU64(&key, builder.size() - 1);
    pending += key.size() + leaf.size();
    batch.Put(Space::kResults, key, leaf);
    if (pending >= kLeafBatchBytes) {
      if (Status s = cat.kv()->Write(batch, {}); !s.ok()) return s;
      batch = storage::KvBatch();
      pending = 0;
    }
  }
  if (!scan->status().ok()) return scan->status();
  if (pending > 0) {
    if (Status s = cat.kv()->Write(batch, {}); !s.ok()) return s;
  }
  if (builder.size() == 0 && newest == nullptr) return json(nullptr);  // never checked
  // A mirror is one point without a time of its own (time_ns 0).
  json point = {{"time", point_time == 0 ? json(nullptr) : json(cal.Rfc3339(point_time))},
                {"time_ns", point_time},
                {"name", newest != nullptr ? newest->name() : std::string()}};
  return json{{"tree_size", builder.size()},
              {"root", storage::MerkleHex(builder.Root())},
              {"restore_point", point}};
}

StatusOr<IssuedProof> Decode(KvStore& kv, const std::string& tenant, uint64_t seq,
                             bool with_content) {
  IssuedProof p;
  p.seq = seq;
  std::string statement;
  if (Status s = kv.Get(Space::kResults, SeqKey(kProof, tenant, seq), &statement); !s.ok()) {
    return absl::IsNotFound(s)
               ? absl::NotFoundError("tenant '" + tenant + "' has no proof " + std::to_string(seq))
               : s;
  }
  json j = json::parse(statement, nullptr, false);
  if (!j.is_object()) return absl::DataLossError("proof statement does not parse");
  p.period = j.value("period", json::object()).value("label", "");
  p.issued_ns = j.value("issued_ns", int64_t{0});
  if (with_content) {
    p.statement = std::move(statement);
    Status s = kv.Get(Space::kResults, SeqKey(kProofSig, tenant, seq), &p.signature);
    if (!s.ok()) return s;
  }
  return p;
}

}  // namespace

StatusOr<IssuedProof> IssueProof(storage::Catalogue& cat, const signing::KeyRing& keys,
                                 const std::string& tenant, json report, int64_t now) {
  MutexLock lock(&ProofMutex(tenant));
  KvStore& kv = *cat.kv();
  auto head = LoadHead(kv, tenant);
  if (!head.ok()) return head.status();
  const uint64_t seq = head->seq + 1;
  contracts::Calendar cal(report.value("tenant", json::object()).value("time_zone", "UTC"));

  // Leaves of an issuance that died before its record: dropped first.
  {
    storage::KvBatch drop;
    std::string leaves = SeqKey(kProofLeaf, tenant, seq);
    drop.DeleteRange(Space::kResults, leaves, storage::PrefixSuccessor(leaves));
    if (Status s = kv.Write(drop, {}); !s.ok()) return s;
  }
  if (report.contains("backup_sets") && report["backup_sets"].is_array()) {
    for (json& set : report["backup_sets"]) {
      auto root = RootAndKeepLeaves(cat, tenant, seq, set.value("name", ""), cal);
      if (!root.ok()) return root.status();
      set["merkle"] = std::move(*root);
    }
  }

  // The check log since the previous proof (all of it for the first).
  uint64_t from_seq = 0;
  std::string from_hash(64, '0');
  if (head->seq > 0) {
    auto prev = Decode(kv, tenant, head->seq, true);
    if (!prev.ok()) return prev.status();
    json pj = json::parse(prev->statement, nullptr, false);
    const json log = pj.value("check_log", json::object());
    from_seq = log.value("head_seq", uint64_t{0});
    from_hash = log.value("head_hash", from_hash);
  }
  json records = json::array();
  check_log::LogHead log_head{from_seq, {}};
  std::string head_hash = from_hash;
  Status scanned = check_log::Scan(
      kv, tenant,
      [&](const check_log::LogRecord& r, const check_log::Hash& h) {
        records.push_back(storage::HexEncode(check_log::EncodeRecord(r)));
        log_head.seq = r.seq;
        head_hash = check_log::HashHex(h);
        return true;
      },
      from_seq + 1);
  if (!scanned.ok()) return scanned;

  json statement;
  statement["format"] = "vigil.proof/1";
  statement["tenant"] = tenant;
  statement["seq"] = seq;
  statement["issued_at"] = cal.Rfc3339(now);
  statement["issued_ns"] = now;
  statement["key_id"] = keys.current().key_id;
  statement["period"] = report.value("period", json::object());
  // The last clean point of each asset, as the report's readiness names it
  // (docs/proofs.md): what `vigil proof verify` shows. Absent when the
  // report says nothing of it.
  if (json clean = proofs::LastCleanPointsOf(report); !clean.empty()) {
    statement["last_clean_points"] = std::move(clean);
  }
  statement["report"] = std::move(report);
  statement["check_log"] = {{"from_seq", from_seq},
                            {"from_hash", from_hash},
                            {"head_seq", log_head.seq},
                            {"head_hash", head_hash},
                            {"records", std::move(records)}};
  statement["previous_proof_sha256"] =
      head->seq == 0 ? json(nullptr) : json(storage::HexEncode(head->sha256));

  IssuedProof out;
  out.seq = seq;
  out.issued_ns = now;
  out.period = statement["period"].value("label", "");
  out.statement = DumpJson(statement);
  auto sig = keys.Sign(out.statement);
  if (!sig.ok()) return sig.status();
  out.signature = proofs::SignatureJson(*sig);

  storage::Digest digest = storage::HashBytes(storage::HashAlgorithm::kSha256, out.statement);
  std::string head_value;
  keys::AppendU64(&head_value, seq);
  head_value.append(reinterpret_cast<const char*>(digest.bytes().data()), digest.bytes().size());
  storage::KvBatch batch;
  batch.Put(Space::kResults, SeqKey(kProof, tenant, seq), out.statement);
  batch.Put(Space::kResults, SeqKey(kProofSig, tenant, seq), out.signature);
  batch.Put(Space::kResults, TenantKey(kProofHead, tenant), head_value);
  if (Status s = kv.Write(batch, {.sync = true}); !s.ok()) return s;
  return out;
}

StatusOr<std::vector<IssuedProof>> ListProofs(KvStore& kv, const std::string& tenant,
                                              bool with_content) {
  auto head = LoadHead(kv, tenant);
  if (!head.ok()) return head.status();
  std::vector<IssuedProof> out;
  for (uint64_t seq = 1; seq <= head->seq; ++seq) {
    auto p = Decode(kv, tenant, seq, with_content);
    if (!p.ok()) return p.status();
    out.push_back(std::move(*p));
  }
  return out;
}

StatusOr<IssuedProof> LoadProof(KvStore& kv, const std::string& tenant, uint64_t seq) {
  if (seq == 0) {
    auto head = LoadHead(kv, tenant);
    if (!head.ok()) return head.status();
    if (head->seq == 0) return absl::NotFoundError("tenant '" + tenant + "' has no proof yet");
    seq = head->seq;
  }
  return Decode(kv, tenant, seq, true);
}

StatusOr<storage::InclusionProofDoc> IssueInclusionProof(KvStore& kv, const std::string& tenant,
                                                         const std::string& backup_set,
                                                         const std::string& path, uint64_t seq) {
  auto proof = LoadProof(kv, tenant, seq);
  if (!proof.ok()) return proof.status();
  json st = json::parse(proof->statement, nullptr, false);
  const json* merkle = nullptr;
  if (st.is_object() && st.contains("report") && st["report"].contains("backup_sets")) {
    for (const json& s : st["report"]["backup_sets"]) {
      if (s.value("name", "") == backup_set && s.contains("merkle") && s["merkle"].is_object()) {
        merkle = &s["merkle"];
      }
    }
  }
  if (merkle == nullptr) {
    return absl::NotFoundError("proof " + std::to_string(proof->seq) + " of '" + tenant +
                               "' has no Merkle root for backup set '" + backup_set + "'");
  }
  const uint64_t tree_size = merkle->value("tree_size", uint64_t{0});
  auto root = storage::MerkleFromHex(merkle->value("root", ""));
  if (!root) return absl::DataLossError("proof statement: malformed root");
  const std::string prefix = LeafSetPrefix(tenant, proof->seq, backup_set);
  storage::ScanOptions so;
  so.upper_bound = storage::PrefixSuccessor(prefix);
  // First pass: the index of the entry.
  storage::InclusionProofDoc doc;
  bool found = false;
  {
    auto it = kv.NewIterator(Space::kResults, so);
    uint64_t i = 0;
    for (it->Seek(prefix); it->Valid(); it->Next(), ++i) {
      auto leaf = storage::DecodeEntryLeaf(it->value());
      if (!leaf.ok()) return absl::DataLossError("kept leaf " + std::to_string(i) + " is corrupt");
      if (leaf->format != storage::kBoundLeafFormat) {
        return absl::FailedPreconditionError(
            "proof " + std::to_string(proof->seq) + " of '" + tenant +
            "' was issued before inclusion proofs named their backup set (its leaves are of "
            "format 1, which `vigil proof verify` refuses): issue a new proof (vigil report) and "
            "ask for the inclusion proof against it");
      }
      if (leaf->path == path) {
        doc.index = i;
        doc.leaf = std::string(it->value());
        found = true;
        break;
      }
    }
    if (!it->status().ok()) return it->status();
  }
  if (!found) {
    return absl::NotFoundError("'" + path + "' is not an entry of backup set '" + backup_set +
                               "' in proof " + std::to_string(proof->seq));
  }
  // Second pass: the audit path, each leaf read once in order.
  auto it = kv.NewIterator(Space::kResults, so);
  it->Seek(prefix);
  uint64_t pos = 0;
  Status read_error;
  auto leaf_hash = [&](uint64_t i) {
    while (pos < i && it->Valid()) {
      it->Next();
      ++pos;
    }
    if (!it->Valid()) {
      read_error = absl::DataLossError("kept leaf set shorter than its tree");
      return storage::MerkleHash{};
    }
    return storage::MerkleLeafHash(it->value());
  };
  auto path_hashes = storage::InclusionProof(doc.index, tree_size, leaf_hash);
  if (!path_hashes.ok()) return path_hashes.status();
  if (!read_error.ok()) return read_error;
  if (!it->status().ok()) return it->status();
  doc.tree_size = tree_size;
  doc.path = std::move(*path_hashes);
  doc.root = *root;
  doc.tenant = tenant;
  doc.backup_set = backup_set;
  // Sanity: the kept leaves must still give the signed root.
  if (Status s = storage::VerifyInclusionProof(doc); !s.ok()) {
    return absl::DataLossError("kept leaf set of proof " + std::to_string(proof->seq) +
                               " no longer matches its signed root: " + std::string(s.message()));
  }
  return doc;
}

void EraseProofs(const std::string& tenant, storage::KvBatch* batch) {
  for (std::string_view p : {kProof, kProofSig, kProofLeaf}) {
    std::string k = TenantKey(p, tenant);
    batch->DeleteRange(Space::kResults, k, storage::PrefixSuccessor(k));
  }
  batch->Delete(Space::kResults, TenantKey(kProofHead, tenant));
}

}  // namespace vigil::coordinator
