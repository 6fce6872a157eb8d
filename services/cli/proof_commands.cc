#include "services/cli/proof_commands.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "services/cli/exit_codes.h"
#include "services/common/files.h"
#include "services/common/signing.h"
#include "services/common/text.h"
#include "services/proofs/check_log.h"
#include "services/proofs/proof_verify.h"
#include "storage/rocks_kv.h"

namespace vigil::cli {

namespace {

std::string KeyDir(const KeysArgs& a) { return a.dir.empty() ? signing::DefaultKeyDir() : a.dir; }

void PrintKey(const signing::KeyRing& ring) {
  std::printf("key id   %s\nprivate  %s/msp.key (secret, mode 0600)\npublic   %s/msp.pub\n",
              ring.current().key_id.c_str(), ring.dir().c_str(), ring.dir().c_str());
}

}  // namespace

int RunKeysInit(const KeysArgs& args) {
  auto ring = signing::KeyRing::Init(KeyDir(args));
  if (!ring.ok()) {
    std::fprintf(stderr, "vigil keys init: %s\n", std::string(ring.status().message()).c_str());
    return kExitProblems;
  }
  std::printf("created a new Ed25519 signing key\n");
  PrintKey(*ring);
  return kExitOk;
}

int RunKeysRotate(const KeysArgs& args) {
  std::string dir = KeyDir(args);
  auto old = signing::KeyRing::Open(dir);
  if (!old.ok()) {
    std::fprintf(stderr, "vigil keys rotate: %s\n", std::string(old.status().message()).c_str());
    return kExitProblems;
  }
  auto ring = signing::KeyRing::Rotate(dir);
  if (!ring.ok()) {
    std::fprintf(stderr, "vigil keys rotate: %s\n", std::string(ring.status().message()).c_str());
    return kExitProblems;
  }
  std::printf("new current key (the previous one, %s, is kept in %s/keys/ to verify old proofs)\n",
              old->current().key_id.c_str(), dir.c_str());
  PrintKey(*ring);
  return kExitOk;
}

int RunKeysList(const KeysArgs& args) {
  auto ring = signing::KeyRing::Open(KeyDir(args));
  if (!ring.ok()) {
    std::fprintf(stderr, "vigil keys list: %s\n", std::string(ring.status().message()).c_str());
    return kExitProblems;
  }
  std::printf("%-16s  %-7s  %s\n", "KEY ID", "CURRENT", "PUBLIC KEY FILE");
  for (const auto& k : ring->public_keys()) {
    bool current = k.key_id == ring->current().key_id;
    std::printf("%-16s  %-7s  %s/keys/%s.pub\n", k.key_id.c_str(), current ? "yes" : "",
                ring->dir().c_str(), k.key_id.c_str());
  }
  return kExitOk;
}

int RunLogVerify(const LogVerifyArgs& args) {
  std::string db = args.data + "/db";
  struct stat st;
  if (::stat(db.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "vigil log verify: no coordinator database at %s\n", db.c_str());
    return kExitUsage;
  }
  storage::RocksKvOptions o;
  o.create_if_missing = false;
  o.read_only = true;  // works while the coordinator runs
  auto kv = storage::OpenRocksKv(db, o);
  if (!kv.ok()) {
    std::fprintf(stderr, "vigil log verify: cannot open %s: %s\n", db.c_str(),
                 std::string(kv.status().message()).c_str());
    return kExitUsage;
  }
  std::vector<std::string> tenants;
  if (args.tenant) {
    tenants.push_back(*args.tenant);
  } else {
    auto all = check_log::Tenants(**kv);
    if (!all.ok()) {
      std::fprintf(stderr, "vigil log verify: %s\n", std::string(all.status().message()).c_str());
      return kExitProblems;
    }
    tenants = *std::move(all);
    if (tenants.empty()) std::printf("no check log in %s\n", db.c_str());
  }
  int rc = kExitOk;
  for (const std::string& t : tenants) {
    check_log::LogHead head;
    storage::Status s = check_log::Verify(**kv, t, &head);
    std::string name = EscapeForTerminal(t);
    if (s.ok() && head.seq == 0) {
      std::printf("%s: no records\n", name.c_str());
    } else if (s.ok()) {
      std::printf("%s: intact, %llu records, head %s\n", name.c_str(),
                  static_cast<unsigned long long>(head.seq), check_log::HashHex(head.hash).c_str());
    } else if (absl::IsDataLoss(s)) {
      std::printf("%s: BROKEN: %s\n", name.c_str(), std::string(s.message()).c_str());
      rc = kExitProblems;
    } else {
      std::fprintf(stderr, "vigil log verify: %s: %s\n", name.c_str(),
                   std::string(s.message()).c_str());
      rc = kExitProblems;
    }
  }
  return rc;
}

namespace {

// The public keys of --key: one PEM file, or a key directory (msp.pub and
// keys/*.pub).
storage::StatusOr<std::vector<signing::PublicKey>> LoadKeys(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError("--key: no such file or directory '" + path + "'");
  }
  std::vector<std::string> files;
  if (S_ISDIR(st.st_mode)) {
    files.push_back(path + "/msp.pub");
    if (DIR* d = opendir((path + "/keys").c_str()); d != nullptr) {
      while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > 4 && n.compare(n.size() - 4, 4, ".pub") == 0) {
          files.push_back(path + "/keys/" + n);
        }
      }
      closedir(d);
    }
  } else {
    files.push_back(path);
  }
  std::vector<signing::PublicKey> keys;
  for (const std::string& f : files) {
    auto pem = ReadWholeFile(f);
    if (!pem.ok()) {
      if (S_ISDIR(st.st_mode) && absl::IsNotFound(pem.status())) continue;
      return pem.status();
    }
    auto k = signing::LoadPublicKey(*pem);
    if (!k.ok()) {
      return absl::InvalidArgumentError("--key: " + f + ": " + std::string(k.status().message()));
    }
    keys.push_back(std::move(*k));
  }
  if (keys.empty()) return absl::NotFoundError("--key: no public key in '" + path + "'");
  return keys;
}

}  // namespace

int RunProofVerify(const ProofVerifyArgs& args) {
  auto usage = [](const std::string& msg) {
    std::fprintf(stderr, "vigil proof verify: %s\n", msg.c_str());
    return kExitUsage;
  };
  auto statement = ReadWholeFile(args.proof);
  if (!statement.ok()) return usage(std::string(statement.status().message()));
  const std::string sig_path = args.signature.empty() ? args.proof + ".sig" : args.signature;
  auto signature = ReadWholeFile(sig_path);
  if (!signature.ok()) {
    return usage(std::string(signature.status().message()) +
                 " (the detached signature; --signature FILE if it is elsewhere)");
  }
  auto keys = LoadKeys(args.key);
  if (!keys.ok()) return usage(std::string(keys.status().message()));
  proofs::ProofCheckOptions o;
  o.keys = std::move(*keys);
  if (!args.previous.empty()) {
    auto prev = ReadWholeFile(args.previous);
    if (!prev.ok()) return usage(std::string(prev.status().message()));
    o.previous_statement = std::move(*prev);
  }
  if (!args.inclusion.empty()) {
    auto text = ReadWholeFile(args.inclusion);
    if (!text.ok()) return usage(std::string(text.status().message()));
    auto doc = storage::ParseInclusionProof(*text);
    if (!doc.ok()) {
      std::printf("INVALID %s\n  inclusion: %s\n", args.proof.c_str(),
                  std::string(doc.status().message()).c_str());
      return kExitProblems;
    }
    o.inclusion = std::move(*doc);
    if (!args.backup_set.empty()) o.inclusion_backup_set = args.backup_set;
  }
  proofs::ProofCheck r = proofs::CheckProof(*statement, *signature, o);
  if (r.ok()) {
    std::printf("VALID %s: tenant %s, period %s\n", args.proof.c_str(),
                EscapeForTerminal(r.tenant).c_str(), EscapeForTerminal(r.period).c_str());
    if (!args.quiet) {
      for (const auto& p : r.passed) std::printf("  ok  %s\n", p.c_str());
    }
    return kExitOk;
  }
  std::printf("INVALID %s\n", args.proof.c_str());
  for (const auto& f : r.failures) std::printf("  FAIL  %s\n", EscapeForTerminal(f).c_str());
  return kExitProblems;
}

}  // namespace vigil::cli
