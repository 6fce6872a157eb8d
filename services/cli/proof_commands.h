// `vigil keys ...` (the MSP's signing keys) and `vigil log verify` (the
// tenants' hash-chained check logs). No gRPC, no CLI11: report_cli.cc parses.
#pragma once

#include <optional>
#include <string>

namespace vigil::cli {

struct KeysArgs {
  std::string dir;  // empty = signing::DefaultKeyDir()
};
// Exit codes (exit_codes.h): 0 done; 1 failed (message on stderr naming the
// file).
int RunKeysInit(const KeysArgs& args);
int RunKeysRotate(const KeysArgs& args);
int RunKeysList(const KeysArgs& args);

struct LogVerifyArgs {
  std::string data;                   // coordinator data directory (DATA/db)
  std::optional<std::string> tenant;  // none = every tenant with a log
};
// Opens the database read-only, so it runs beside a live coordinator.
// Exit codes: 0 every log checked is intact; 1 a log is broken (the first
// broken seq and why on stdout); 2 usage error or the database cannot be
// opened.
int RunLogVerify(const LogVerifyArgs& args);

struct ProofVerifyArgs {
  std::string proof;      // the statement file
  std::string signature;  // default: PROOF.sig
  std::string key;        // a public key PEM file, or a key directory
  std::string previous;   // optional: the previous proof's statement
  std::string inclusion;  // optional: an inclusion proof (JSON)
  // optional, with `inclusion`: the backup set the entry must be in
  std::string backup_set;
  bool quiet = false;
};
// Offline. Exit codes: 0 valid; 1 invalid (each failure on stdout, naming
// what failed); 2 usage error (a file unreadable, no usable key).
int RunProofVerify(const ProofVerifyArgs& args);

inline constexpr const char* kProofVerifyHelpFooter =
    R"(Checks, offline and without trusting the MSP's servers:
  signature     the Ed25519 signature (PROOF.sig) over the exact bytes of PROOF, by a key given
  statement     its structure: tenant, period, report, Merkle roots, key id
  check log     the records it carries chain from the previous proof's head to its own head
  --previous    PREV is the proof just before it: its SHA-256 is named, and this proof's check
                log starts where PREV's ended (the history was extended, not rewritten)
  --inclusion   an inclusion proof (vigil proof include) leads to the Merkle root signed here
                for the backup set its leaf names (--backup-set S: which must be S)
Every failure is listed, each naming what failed. Exit codes: 0 valid, 1 invalid, 2 usage error.)";

inline constexpr const char* kKeysHelpFooter =
    R"(The key directory (--dir) holds:
  msp.key         current Ed25519 private key, PEM (PKCS#8), mode 0600: keep it secret
  msp.pub         current public key, PEM: give it to clients (vigil proof verify --key)
  keys/ID.pub     every public key ever used, so old proofs keep verifying
A key id is the first 16 hex digits of SHA-256 of the raw 32-byte public key.)";

inline constexpr const char* kLogVerifyHelpFooter =
    R"(Recomputes each tenant's hash-chained check log (keyspace `results`) and names the
first broken record: hash mismatch (a record was edited), prev link broken (records
reordered or replaced), gap in seq (a record was deleted).
The database is opened read-only: this works while the coordinator runs (it checks what
was written when it opened), on a stopped one, or on a copy made with `vigil admin backup`.
Exit codes: 0 intact, 1 broken, 2 usage error or database not openable.)";

}  // namespace vigil::cli
