// `vigil keys ...` (the MSP's signing keys) and `vigil log verify` (the
// tenants' hash-chained check logs). No gRPC, no CLI11: main.cc parses.
#pragma once

#include <optional>
#include <string>

namespace vigil::cli {

struct KeysArgs {
  std::string dir;  // empty = signing::DefaultKeyDir()
};
// Exit codes: 0 done; 1 failed (message on stderr naming the file).
int RunKeysInit(const KeysArgs& args);
int RunKeysRotate(const KeysArgs& args);
int RunKeysList(const KeysArgs& args);

struct LogVerifyArgs {
  std::string data;                   // coordinator data directory (DATA/db)
  std::optional<std::string> tenant;  // none = every tenant with a log
};
// Exit codes: 0 every log checked is intact; 1 a log is broken (the first
// broken seq and why on stdout); 2 usage error or the database cannot be
// opened (e.g. the coordinator still runs).
int RunLogVerify(const LogVerifyArgs& args);

inline constexpr const char* kKeysHelpFooter =
    R"(Key directory (default: $XDG_CONFIG_HOME/vigil/keys, else ~/.config/vigil/keys):
  msp.key         current Ed25519 private key, PEM (PKCS#8), mode 0600: keep it secret
  msp.pub         current public key, PEM: give it to clients (vigil proof verify --key)
  keys/ID.pub     every public key ever used, so old proofs keep verifying
A key id is the first 16 hex digits of SHA-256 of the raw 32-byte public key.)";

inline constexpr const char* kLogVerifyHelpFooter =
    R"(Recomputes each tenant's hash-chained check log (keyspace `results`) and names the
first broken record: hash mismatch (a record was edited), prev link broken (records
reordered or replaced), gap in seq (a record was deleted).
The database is opened for writing, so the coordinator using DATA must be stopped
(RocksDB refuses a second opener while it runs); or verify a copy made with
`vigil admin backup`.
Exit codes: 0 intact, 1 broken, 2 usage error or database not openable.)";

}  // namespace vigil::cli
