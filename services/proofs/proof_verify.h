// Offline verification of a signed proof (docs/proofs.md): what
// `vigil proof verify` runs on the client's side. No server, no database:
// the statement bytes, the detached signature, the MSP's public key(s), and
// optionally the previous proof and an inclusion proof. The coordinator,
// which issues proofs (services/coordinator/proofs.h), uses the same
// signature file format and statement hash from here.
//
// Thread safety: stateless functions, safe to call concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json_fwd.hpp"
#include "services/common/signing.h"
#include "storage/hex.h"
#include "storage/merkle.h"
#include "storage/status.h"

namespace vigil::proofs {

// The documents' hex fields (storage/hex.h).
using storage::HexDecode;
using storage::HexEncode;

// SHA-256 of a proof's statement bytes, lowercase hex: what the next proof
// names as its previous one, and what an offboarding export lists.
std::string StatementSha256Hex(std::string_view statement);

// The detached signature file:
//   {"algorithm": "ed25519", "key_id": "<16 hex>", "signature": "<128 hex>"}
std::string SignatureJson(const signing::Signature& sig);
// InvalidArgument naming the field.
storage::StatusOr<signing::Signature> ParseSignatureJson(std::string_view json);

// The statement's `last_clean_points` (docs/proofs.md) drawn from a report
// (vigil.report/1): one {"asset", "point"} per readiness entry that names
// its last clean point ("point": {"backup_set", "name", "time", "time_ns"},
// or null when the asset has none), in the report's order; an empty array
// when no entry does (reports before ransomware signals). The coordinator
// writes it, the verifier checks the statement's against its report.
nlohmann::json LastCleanPointsOf(const nlohmann::json& report);

struct ProofCheckOptions {
  // Public keys the client trusts (one msp.pub, or a key directory's).
  std::vector<signing::PublicKey> keys;
  // The previous proof's statement bytes (already verified by the client):
  // checks that this proof extends its history.
  std::optional<std::string> previous_statement;
  // An inclusion proof to check against the root signed for the backup
  // set its (bound) leaf names; proofs whose leaf names none are refused.
  std::optional<storage::InclusionProofDoc> inclusion;
  // The backup set the client expects the entry in (`--backup-set`): an
  // inclusion proof of another set's entry fails. Unset: the leaf's set.
  std::optional<std::string> inclusion_backup_set;
};

struct ProofCheck {
  // Every failure found, each starting with what failed: "signature: ...",
  // "statement: ...", "check log: ...", "previous proof: ...",
  // "inclusion: ...". Empty = valid.
  std::vector<std::string> failures;
  // What was checked and held, for the user ("signature by key ...",
  // "last clean point of fs: fs-nas/2026-10-03 (2026-10-03T02:00:00+02:00)").
  std::vector<std::string> passed;
  std::string tenant, period;
  bool ok() const { return failures.empty(); }
};

// Checks everything it can, independently, so a changed byte is named by
// each check it breaks (the signature always; the chain or the statement's
// structure when that is where the byte was).
ProofCheck CheckProof(std::string_view statement, std::string_view signature_json,
                      const ProofCheckOptions& options);

}  // namespace vigil::proofs
