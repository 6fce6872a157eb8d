#include "services/proofs/proof_verify.h"

#include <nlohmann/json.hpp>

#include "services/common/text.h"
#include "services/proofs/check_log.h"
#include "storage/hash.h"

namespace vigil::proofs {

using nlohmann::json;
using storage::StatusOr;

std::string StatementSha256Hex(std::string_view statement) {
  return storage::HashBytes(storage::HashAlgorithm::kSha256, statement).Hex();
}

std::string SignatureJson(const signing::Signature& sig) {
  json j = {
      {"algorithm", "ed25519"}, {"key_id", sig.key_id}, {"signature", HexEncode(sig.signature)}};
  return j.dump(2) + "\n";
}

StatusOr<signing::Signature> ParseSignatureJson(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return absl::InvalidArgumentError("signature file is not a JSON object");
  auto field = [&](const char* name) -> StatusOr<std::string> {
    if (!j.contains(name) || !j[name].is_string()) {
      return absl::InvalidArgumentError(std::string("signature file: field '") + name +
                                        "' missing or not a string");
    }
    return j[name].get<std::string>();
  };
  auto alg = field("algorithm");
  if (!alg.ok()) return alg.status();
  if (*alg != "ed25519") {
    return absl::InvalidArgumentError("signature file: algorithm '" + EscapeForTerminal(*alg) +
                                      "' is not ed25519");
  }
  auto id = field("key_id");
  if (!id.ok()) return id.status();
  auto hex = field("signature");
  if (!hex.ok()) return hex.status();
  std::optional<std::string> raw = HexDecode(*hex);
  if (!raw || raw->size() != 64) {
    return absl::InvalidArgumentError("signature file: field 'signature' is not 128 hex digits");
  }
  return signing::Signature{*id, *raw};
}

namespace {

bool IsHex64(const json& j) {
  if (!j.is_string()) return false;
  auto d = HexDecode(j.get<std::string>());
  return d && d->size() == 32;
}

bool IsUint(const json& j) { return j.is_number_unsigned() || (j.is_number_integer() && j >= 0); }

// The check log records carried by the statement: each decodes, belongs to
// the tenant, follows the previous one (seq and hash link) from
// (from_seq, from_hash), and ends at (head_seq, head_hash).
void CheckLog(const json& log, const std::string& tenant, ProofCheck* out) {
  auto fail = [&](const std::string& why) { out->failures.push_back("check log: " + why); };
  if (!log.is_object() || !IsUint(log.value("from_seq", json())) ||
      !IsHex64(log.value("from_hash", json())) || !IsUint(log.value("head_seq", json())) ||
      !IsHex64(log.value("head_hash", json())) || !log.value("records", json()).is_array()) {
    fail("missing or malformed (from_seq, from_hash, head_seq, head_hash, records)");
    return;
  }
  uint64_t seq = log["from_seq"].get<uint64_t>();
  std::string prev = *HexDecode(log["from_hash"].get<std::string>());
  size_t i = 0;
  for (const json& hex : log["records"]) {
    const std::string where =
        "record " + std::to_string(i++) + " (seq " + std::to_string(seq + 1) + ")";
    std::optional<std::string> bytes =
        hex.is_string() ? HexDecode(hex.get<std::string>()) : std::nullopt;
    if (!bytes) return fail(where + ": not hex");
    check_log::LogRecord r;
    if (auto s = check_log::DecodeRecord(*bytes, &r); !s.ok()) {
      return fail(where + ": " + std::string(s.message()));
    }
    if (r.tenant != tenant) return fail(where + ": belongs to tenant '" + r.tenant + "'");
    if (r.seq != seq + 1) {
      return fail(where + ": seq " + std::to_string(r.seq) +
                  " breaks the sequence (a record was "
                  "removed or reordered)");
    }
    if (std::string(r.prev_hash.begin(), r.prev_hash.end()) != prev) {
      return fail(where +
                  ": chain link broken (its prev_hash is not the hash of the record "
                  "before it)");
    }
    check_log::Hash h = check_log::RecordHash(*bytes);
    prev.assign(h.begin(), h.end());
    seq = r.seq;
  }
  if (seq != log["head_seq"].get<uint64_t>() ||
      prev != *HexDecode(log["head_hash"].get<std::string>())) {
    return fail("the records end at seq " + std::to_string(seq) +
                ", not at the head the statement names (head_seq " +
                std::to_string(log["head_seq"].get<uint64_t>()) + ")");
  }
  out->passed.push_back(
      "check log: " + std::to_string(log["records"].size()) + " records chained from seq " +
      std::to_string(log["from_seq"].get<uint64_t>()) + " to head seq " + std::to_string(seq));
}

}  // namespace

namespace {

// CheckProof's checks, adding to `out`. A field of an unexpected JSON type
// makes nlohmann-json throw: CheckProof catches it.
void CheckInto(std::string_view statement, std::string_view signature_json,
               const ProofCheckOptions& options, ProofCheck& out) {
  // 1. The signature over the exact bytes.
  auto sig = ParseSignatureJson(signature_json);
  if (!sig.ok()) {
    out.failures.push_back("signature: " + std::string(sig.status().message()));
  } else {
    const signing::PublicKey* key = nullptr;
    std::string known;
    for (const auto& k : options.keys) {
      if (k.key_id == sig->key_id) key = &k;
      known += (known.empty() ? "" : ", ") + k.key_id;
    }
    if (key == nullptr) {
      out.failures.push_back("signature: made with key " + EscapeForTerminal(sig->key_id) +
                             ", which is not among the keys given (" + known + ")");
    } else if (auto s = signing::Verify(statement, sig->signature, key->pem); !s.ok()) {
      out.failures.push_back(
          "signature: does not match the statement (the statement was "
          "altered, or it was signed by another key): " +
          std::string(s.message()));
    } else {
      out.passed.push_back("signature: Ed25519, key " + key->key_id);
    }
  }

  // 2. The statement's structure.
  json st = json::parse(statement, nullptr, false);
  auto bad = [&](const std::string& why) { out.failures.push_back("statement: " + why); };
  if (!st.is_object()) {
    bad("not a JSON object");
    return;
  }
  if (st.value("format", "") != "vigil.proof/1" && st.value("format", "") != "vigil.erasure/1") {
    bad("format is neither vigil.proof/1 nor vigil.erasure/1");
  }
  if (!st.value("tenant", json()).is_string()) {
    bad("tenant missing");
    return;
  }
  out.tenant = st["tenant"].get<std::string>();
  if (st.value("format", "") == "vigil.erasure/1") {  // an offboarding's erasure record
    out.period = "erasure of " + st.value("erased_at", std::string("?"));
    if (sig.ok() && st.value("key_id", "") != sig->key_id) {
      bad("key_id differs from the signature's");
    }
    if (!st.value("erased", json()).is_object()) bad("erased counts missing");
    if (out.failures.empty()) out.passed.push_back("statement: erasure record of " + out.tenant);
    return;
  }
  const json period = st.value("period", json());
  if (!period.is_object() || !period.value("label", json()).is_string()) {
    bad("period missing");
  } else {
    out.period = period["label"].get<std::string>();
  }
  if (!IsUint(st.value("seq", json())) || st["seq"].get<uint64_t>() == 0) bad("seq missing");
  const uint64_t seq = IsUint(st.value("seq", json())) ? st["seq"].get<uint64_t>() : 0;
  if (sig.ok() && st.value("key_id", "") != sig->key_id) {
    bad("key_id " + EscapeForTerminal(st.value("key_id", "")) + " differs from the signature's");
  }
  const json& prev_hash = st.value("previous_proof_sha256", json());
  if (seq == 1 ? !prev_hash.is_null() : !IsHex64(prev_hash)) {
    bad("previous_proof_sha256 must be null for the first proof and 64 hex digits after");
  }
  const json report = st.value("report", json());
  std::vector<std::pair<std::string, const json*>> roots;  // set name, merkle
  if (!report.is_object() || report.value("format", "") != "vigil.report/1") {
    bad("report missing or not vigil.report/1");
  } else {
    if (report.value("tenant", json::object()).value("name", "") != out.tenant) {
      bad("the report is about another tenant");
    }
    if (report.value("period", json()) != period) bad("the report's period differs");
    const json sets = report.value("backup_sets", json::array());
    if (!sets.is_array()) bad("report.backup_sets is not an array");
    for (size_t i = 0; sets.is_array() && i < sets.size(); ++i) {
      const json& m = sets[i].value("merkle", json());
      if (m.is_null()) continue;
      if (!m.is_object() || !IsUint(m.value("tree_size", json())) ||
          !IsHex64(m.value("root", json()))) {
        bad("report.backup_sets[" + std::to_string(i) + "].merkle malformed (tree_size, root)");
        continue;
      }
      roots.emplace_back(sets[i].value("name", ""), &report["backup_sets"][i]["merkle"]);
    }
  }
  // The last clean points, when the statement names them (proofs issued
  // before ransomware signals do not): the report's, well formed.
  if (const auto it = st.find("last_clean_points"); it != st.end()) {
    const json& clean = *it;
    if (!clean.is_array() || !report.is_object() || clean != LastCleanPointsOf(report)) {
      bad("last_clean_points differ from the report's readiness");
    } else {
      size_t before = out.failures.size();
      std::vector<std::string> named;
      for (size_t i = 0; i < clean.size(); ++i) {
        const json& e = clean[i];
        const json& pt = e.value("point", json());
        const std::string asset = EscapeForTerminal(e.value("asset", std::string("?")));
        if (!e.value("asset", json()).is_string()) {
          bad("last_clean_points[" + std::to_string(i) + "].asset missing");
        } else if (pt.is_null()) {
          named.push_back("last clean point of " + asset + ": none");
        } else if (!pt.is_object() || !pt.value("backup_set", json()).is_string() ||
                   !pt.value("name", json()).is_string() || !pt.value("time", json()).is_string() ||
                   !IsUint(pt.value("time_ns", json()))) {
          bad("last_clean_points[" + std::to_string(i) +
              "].point malformed (backup_set, name, time, time_ns)");
        } else {
          named.push_back("last clean point of " + asset + ": " +
                          EscapeForTerminal(pt["backup_set"].get<std::string>()) + "/" +
                          EscapeForTerminal(pt["name"].get<std::string>()) + " (" +
                          EscapeForTerminal(pt["time"].get<std::string>()) + ")");
        }
      }
      if (out.failures.size() == before) {
        out.passed.insert(out.passed.end(), named.begin(), named.end());
      }
    }
  }
  if (out.failures.empty() || !out.tenant.empty()) {
    CheckLog(st.value("check_log", json()), out.tenant, &out);
  }

  // 3. The previous proof: this one extends its history.
  if (options.previous_statement) {
    auto fail = [&](const std::string& why) { out.failures.push_back("previous proof: " + why); };
    json prev = json::parse(*options.previous_statement, nullptr, false);
    std::string d_hex = StatementSha256Hex(*options.previous_statement);
    const json log = st.value("check_log", json::object());
    if (!prev.is_object()) {
      fail("not a JSON object");
    } else if (!prev_hash.is_string() || prev_hash.get<std::string>() != d_hex) {
      fail("its SHA-256 is " + d_hex + ", but this proof names " +
           (prev_hash.is_string() ? prev_hash.get<std::string>() : std::string("none")));
    } else if (prev.value("tenant", "") != out.tenant) {
      fail("it is about another tenant");
    } else if (!IsUint(prev.value("seq", json())) || prev["seq"].get<uint64_t>() + 1 != seq) {
      fail("it is not the proof just before this one");
    } else {
      const json plog = prev.value("check_log", json::object());
      if (plog.value("head_seq", json()) != log.value("from_seq", json()) ||
          plog.value("head_hash", json()) != log.value("from_hash", json())) {
        fail(
            "this proof's check log does not start at the previous proof's head: the history "
            "was rewritten, not extended");
      } else {
        out.passed.push_back("previous proof: this proof extends its check log from seq " +
                             plog["head_seq"].dump());
      }
    }
  }

  // 4. An inclusion proof against the root signed for the backup set its
  // leaf names (bound leaves: docs/proofs.md).
  if (options.inclusion) {
    const storage::InclusionProofDoc& doc = *options.inclusion;
    auto fail = [&](const std::string& why) { out.failures.push_back("inclusion: " + why); };
    auto leaf = storage::DecodeEntryLeaf(doc.leaf);
    const json* m = nullptr;
    if (leaf.ok()) {
      for (const auto& [name, merkle] : roots) {
        if (name == leaf->backup_set) m = merkle;
      }
    }
    const std::string set = leaf.ok() ? EscapeForTerminal(leaf->backup_set) : "";
    const std::string wanted = EscapeForTerminal(options.inclusion_backup_set.value_or(""));
    if (!leaf.ok()) {
      fail(std::string(leaf.status().message()));
    } else if (doc.backup_set.empty() || doc.tenant.empty()) {
      fail(std::string("no \"") + (doc.backup_set.empty() ? "backup_set" : "tenant") +
           "\" field: an inclusion proof made before proofs named the backup set of their "
           "entries is not accepted (ask for a new proof and inclusion proof)");
    } else if (leaf->format != storage::kBoundLeafFormat) {
      fail(
          "its leaf does not name its tenant and backup set (leaf format 1, from a proof issued "
          "before they were bound): not accepted (ask for a new proof and inclusion proof)");
    } else if (leaf->tenant != doc.tenant || leaf->backup_set != doc.backup_set) {
      fail("it says backup set '" + EscapeForTerminal(doc.tenant) + "/" +
           EscapeForTerminal(doc.backup_set) + "' but its leaf is an entry of '" +
           EscapeForTerminal(leaf->tenant) + "/" + set + "'");
    } else if (options.inclusion_backup_set && leaf->backup_set != *options.inclusion_backup_set) {
      fail("it proves an entry of backup set '" + set + "', not of '" + wanted + "'");
    } else if (leaf->tenant != out.tenant) {
      fail("its entry belongs to tenant '" + EscapeForTerminal(leaf->tenant) +
           "', this proof is about '" + EscapeForTerminal(out.tenant) + "'");
    } else if (m == nullptr) {
      fail("backup set '" + set + "' has no Merkle root signed in this proof");
    } else if ((*m)["root"].get<std::string>() != storage::MerkleHex(doc.root) ||
               (*m)["tree_size"].get<uint64_t>() != doc.tree_size) {
      fail("its root " + storage::MerkleHex(doc.root) + " (tree size " +
           std::to_string(doc.tree_size) +
           ") is not a Merkle root signed in this proof for backup set '" + set + "'");
    } else if (auto s = storage::VerifyInclusionProof(doc); !s.ok()) {
      fail("the entry is not in backup set '" + set + "': " + std::string(s.message()));
    } else {
      std::string digest = leaf->digest ? leaf->digest->ToString() : std::string("no digest");
      out.passed.push_back("inclusion: '" + EscapeForTerminal(leaf->path) + "' (" +
                           std::to_string(leaf->size) + " bytes, " + digest + ") is entry " +
                           std::to_string(doc.index) + " of backup set '" + set +
                           "' under the signed root");
    }
  }
}

}  // namespace

json LastCleanPointsOf(const json& report) {
  json out = json::array();
  if (!report.is_object()) return out;
  const auto readiness = report.find("readiness");
  if (readiness == report.end() || !readiness->is_array()) return out;
  for (const json& r : *readiness) {
    if (!r.is_object() || !r.contains("last_clean_point")) continue;
    const json& p = r["last_clean_point"];
    json point = nullptr;
    if (p.is_object()) {
      point = {{"backup_set", p.value("backup_set", json())},
               {"name", p.value("name", json())},
               {"time", p.value("time", json())},
               {"time_ns", p.value("time_ns", json())}};
    } else if (!p.is_null()) {
      point = p;  // kept as written: the verifier refuses it as malformed
    }
    out.push_back({{"asset", r.value("asset", json())}, {"point", std::move(point)}});
  }
  return out;
}

ProofCheck CheckProof(std::string_view statement, std::string_view signature_json,
                      const ProofCheckOptions& options) {
  ProofCheck out;
  try {
    CheckInto(statement, signature_json, options, out);
  } catch (const json::exception& e) {
    // Not a statement Vigil signed: a field holds another JSON type.
    out.failures.push_back(std::string("statement: a field has an unexpected JSON type (") +
                           e.what() + ")");
  }
  return out;
}

}  // namespace vigil::proofs
