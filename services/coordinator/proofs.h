// Signed compliance proofs (docs/proofs.md): a tenant's report for a period,
// the Merkle root of each backup set's newest restore point, the tenant's
// check log since its previous proof, and the hash of that previous proof,
// in one JSON statement signed with the MSP's Ed25519 key (detached).
//
// KEY LAYOUT (keyspace `results`; persisted)
//   "proof/"     Str(tenant) U64(seq)                  -> statement bytes
//   "proofsig/"  Str(tenant) U64(seq)                  -> signature JSON
//   "proofhead/" Str(tenant)                           -> U64(seq) || SHA-256(statement)
//   "proofleaf/" Str(tenant) U64(seq) Str(set) U64(i)  -> leaf i of the set's tree
// The leaf sets are kept so that inclusion proofs can be issued later against
// the signed roots, whatever the catalogue has become since.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "services/common/signing.h"
#include "storage/catalogue.h"
#include "storage/merkle.h"
#include "storage/status.h"
#include "vigil/v1/types.pb.h"

namespace vigil::coordinator {

struct IssuedProof {
  uint64_t seq = 0;
  std::string period;     // the report's period label
  std::string statement;  // exact bytes signed
  std::string signature;  // signature JSON (docs/proofs.md)
  int64_t issued_ns = 0;
};

// Issues the proof of `report` (BuildReport's JSON; its backup sets' merkle
// fields are filled here) for `tenant`: computes each set's root over its
// newest present restore point while storing the leaves, gathers the check
// log since the previous proof, signs with `keys`' current key and stores
// everything (synced). Serialized per tenant.
storage::StatusOr<IssuedProof> IssueProof(storage::Catalogue& cat, const signing::KeyRing& keys,
                                          const std::string& tenant, nlohmann::json report,
                                          int64_t now);

// The tenant's proofs, ascending seq (statement and signature included when
// `with_content`).
storage::StatusOr<std::vector<IssuedProof>> ListProofs(storage::KvStore& kv,
                                                       const std::string& tenant,
                                                       bool with_content);
// One proof; seq 0 = the latest. NotFound if none.
storage::StatusOr<IssuedProof> LoadProof(storage::KvStore& kv, const std::string& tenant,
                                         uint64_t seq);

// The inclusion proof of entry `path` of `backup_set` against the root
// signed in proof `seq` (0 = the latest). NotFound: no such proof, set or
// entry in the kept leaf set.
storage::StatusOr<storage::InclusionProofDoc> IssueInclusionProof(storage::KvStore& kv,
                                                                  const std::string& tenant,
                                                                  const std::string& backup_set,
                                                                  const std::string& path,
                                                                  uint64_t seq);

// Deletes every proof record and leaf set of `tenant` into `batch`
// (offboarding).
void EraseProofs(const std::string& tenant, storage::KvBatch* batch);

}  // namespace vigil::coordinator
