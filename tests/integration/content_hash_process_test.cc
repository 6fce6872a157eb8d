// A backup set's contentHash end to end, with real processes on loopback (a
// coordinator with a signing key, a worker): the worker hashes a `sha256`
// set with SHA-256 (the catalogue and the inclusion proof's leaf equal what
// Debian's `sha256sum` prints), a catalogue recorded with another algorithm
// is re-hashed once when the contract changes it (and the check says so),
// copies hashed with different algorithms are never judged by digest, and an
// inclusion proof is bound to its backup set (one of set A never verifies as
// an entry of set B, even when both hold the same files).
//
// The test's thread drives the cluster; nothing here is shared.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <ctime>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "storage/catalogue.h"
#include "storage/hash.h"
#include "storage/hex.h"
#include "storage/merkle.h"
#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

using nlohmann::json;

// Silent corruption: the first byte changes, size and mtime stay.
void Rot(const std::string& path) {
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  std::string content = ReadFile(path);
  content[0] = content[0] == 'F' ? 'G' : 'F';
  WriteFile(path, content);
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

// What Debian's sha256sum prints for `path` (the oracle: not Vigil's hasher).
std::string Sha256Sum(const std::string& path) {
  RunResult r = RunProcess({"/usr/bin/sha256sum", "-b", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out.substr(0, r.out.find(' '));
}

class ContentHashProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "loc";
    for (int i = 0; i < 6; ++i) {
      const std::string content = "file " + std::to_string(i) + std::string(200 + i, 'x');
      for (const char* set : {"a", "b"}) {
        WriteFile(root_ + "/acme/" + set + "/d" + std::to_string(i % 2) + "/f" + std::to_string(i),
                  content);
      }
    }
    ASSERT_EQ(RunVigil({"keys", "init", "--dir", tmp_ / "keys"}).exit_code, 0);
    CoordinatorOptions o;
    o.flags = {"--keys", tmp_ / "keys", "--msp-name", "Test MSP"};
    ASSERT_TRUE(cluster_.StartCoordinator(o));
    worker_ = cluster_.StartWorker("worker", "loc=" + root_);
  }

  // acme with one asset "fs" of backup sets a and b (same files, each with
  // its contentHash line, none if empty) and a copies commitment.
  void Apply(const std::string& hash_a, const std::string& hash_b) {
    auto fields = [](const std::string& h) {
      std::vector<std::string> f = {"mutable: false"};
      if (!h.empty()) f.push_back("contentHash: " + h);
      return f;
    };
    WriteFile(
        tmp_ / "acme.yaml",
        manifests::Head("loc") + "assets:\n" +
            manifests::Asset("fs", {manifests::BackupSet("a", "loc", "acme/a", fields(hash_a)),
                                    manifests::BackupSet("b", "loc", "acme/b", fields(hash_b))}) +
            "commitments:\n  - copies: {min: 2}\n");
    ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
  }
  RunResult Check() {
    RunResult r = cluster_.RunCheck("acme");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err << worker_->err();
    return r;
  }
  // Every entry of set `set` (mirror: point 0), path -> digest, read from
  // the coordinator's database once it is stopped.
  std::map<std::string, storage::Digest> Catalogue(const std::string& set) {
    std::map<std::string, storage::Digest> out;
    storage::RocksKvOptions o;
    o.create_if_missing = false;
    o.read_only = true;
    auto cat = storage::Catalogue::Open(tmp_ / "data/db", o);
    EXPECT_TRUE(cat.ok()) << cat.status().message();
    if (!cat.ok()) return out;
    auto scan = (*cat)->Scan({"acme", set, 0});
    for (; scan->Valid(); scan->Next()) {
      if (scan->entry().type == storage::EntryType::kFile) out[scan->path()] = scan->entry().digest;
    }
    EXPECT_TRUE(scan->status().ok()) << scan->status().message();
    return out;
  }
  void StopCoordinator() {
    cluster_.coordinator().Signal(SIGTERM);
    ASSERT_EQ(cluster_.coordinator().Wait(), 0) << cluster_.coordinator().err();
  }
  std::string period() const {
    std::time_t now = std::time(nullptr);
    char month[16];
    std::strftime(month, sizeof month, "%Y-%m", std::gmtime(&now));
    return month;
  }
  // acme's report and proof; the report's JSON.
  json Report(const std::string& name) {
    RunResult r =
        cluster_.Admin({"report", "acme", "--period", period(), "--format", "json", "-o",
                        tmp_ / (name + ".json"), "--proof", tmp_ / (name + ".proof.json")});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return json::parse(ReadFile(tmp_ / (name + ".json")), nullptr, false);
  }
  RunResult Include(const std::string& set, const std::string& path, const std::string& out) {
    return cluster_.Admin(
        {"proof", "include", "--tenant", "acme", "--backup-set", set, "--path", path, "-o", out});
  }
  RunResult Verify(const std::string& proof, std::vector<std::string> more) {
    std::vector<std::string> args = {"proof", "verify", proof, "--key", tmp_ / "keys/msp.pub"};
    args.insert(args.end(), more.begin(), more.end());
    return RunVigil(args);
  }

  std::string root_;
  std::unique_ptr<BackgroundProcess> worker_;
};

TEST_F(ContentHashProcessTest, Sha256SetIsHashedWithSha256InCatalogueAndLeaves) {
  Apply("sha256", "");
  Check();
  Report("r");
  ASSERT_EQ(Include("a", "d1/f3", tmp_ / "inc.json").exit_code, 0);
  auto doc = storage::ParseInclusionProof(ReadFile(tmp_ / "inc.json"));
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  auto leaf = storage::DecodeEntryLeaf(doc->leaf);
  ASSERT_TRUE(leaf.ok()) << leaf.status().message();
  ASSERT_TRUE(leaf->digest.has_value());
  EXPECT_EQ(leaf->digest->algorithm(), storage::HashAlgorithm::kSha256);
  EXPECT_EQ(leaf->digest->Hex(), Sha256Sum(root_ + "/acme/a/d1/f3"));

  StopCoordinator();
  auto a = Catalogue("a");
  ASSERT_EQ(a.size(), 6u);
  for (const auto& [path, d] : a) {
    EXPECT_EQ(d.algorithm(), storage::HashAlgorithm::kSha256) << path;
    EXPECT_EQ(d.Hex(), Sha256Sum(root_ + "/acme/a/" + path)) << path;
  }
  // The set without contentHash: XXH3-128, as before.
  for (const auto& [path, d] : Catalogue("b")) {
    EXPECT_EQ(d.algorithm(), storage::HashAlgorithm::kXxh3_128) << path;
  }
}

TEST_F(ContentHashProcessTest, SwitchingAlgorithmRehashesOnceAndSaysSo) {
  Apply("", "");
  RunResult first = Check();
  EXPECT_EQ(first.out.find("re-hashed"), std::string::npos) << first.out;
  // Silent corruption before the switch (same size, same mtime): the check
  // that re-hashes compares with the digest the catalogue holds, so it is
  // still found.
  Rot(root_ + "/acme/a/d0/f2");

  Apply("sha256", "");
  RunResult second = cluster_.RunCheck("acme");
  EXPECT_EQ(second.exit_code, 1) << second.out << second.err;  // the corrupted file
  EXPECT_NE(second.out.find("re-hashed 5 entries with sha256 (catalogue had xxh3-128)"),
            std::string::npos)
      << second.out;
  EXPECT_NE(second.out.find("1 modified"), std::string::npos) << second.out;
  // The corrupted entry keeps its XXH3 record (the evidence): counted.
  EXPECT_NE(second.out.find("1 entry still recorded with another algorithm than sha256"),
            std::string::npos)
      << second.out;
  // Once: the next check compares SHA-256 with SHA-256 (the corrupted
  // entry is still compared through its XXH3 record).
  RunResult third = cluster_.RunCheck("acme");
  EXPECT_EQ(third.out.find("re-hashed"), std::string::npos) << third.out;

  StopCoordinator();
  auto a = Catalogue("a");
  ASSERT_EQ(a.size(), 6u);
  for (const auto& [path, d] : a) {
    if (path == "d0/f2") {
      EXPECT_EQ(d.algorithm(), storage::HashAlgorithm::kXxh3_128) << path;
      continue;
    }
    EXPECT_EQ(d.algorithm(), storage::HashAlgorithm::kSha256) << path;
    EXPECT_EQ(d.Hex(), Sha256Sum(root_ + "/acme/a/" + path)) << path;
  }
}

TEST_F(ContentHashProcessTest, SwitchWithoutDamageRehashesEveryEntryOnce) {
  Apply("", "");
  Check();
  Apply("sha256", "");
  RunResult second = Check();
  EXPECT_NE(second.out.find("re-hashed 6 entries with sha256 (catalogue had xxh3-128)"),
            std::string::npos)
      << second.out;
  EXPECT_EQ(second.out.find("still recorded"), std::string::npos) << second.out;
  // `vigil status` says it of the set's last check.
  json status = cluster_.Status("acme");
  EXPECT_EQ(BackupSet(status, "a")["last_task"].value("digest_algorithm", ""),
            "re-hashed 6 entries with sha256 (catalogue had xxh3-128)")
      << status.dump(2);
  RunResult third = Check();
  EXPECT_EQ(third.out.find("re-hashed"), std::string::npos) << third.out;
}

TEST_F(ContentHashProcessTest, CopiesHashedWithDifferentAlgorithmsAreNotJudgedByDigest) {
  Apply("sha256", "xxh3-128");
  // b's copy of one file rots (same size, same mtime) before the first
  // check: with one algorithm the copies would be judged different.
  Rot(root_ + "/acme/b/d1/f1");
  Check();
  json status = cluster_.Status("acme");
  const json* copies = nullptr;
  for (const json& c : status["tenants"][0]["commitments"]) {
    if (c["kind"] == "copies") copies = &c;
  }
  ASSERT_NE(copies, nullptr) << status.dump(2);
  EXPECT_NE((*copies)["verdict"], "fail") << copies->dump(2);
  std::string agreement;
  for (const json& e : (*copies)["evidence"]) {
    if (e["name"] == "agreement a vs b") agreement = e["value"];
  }
  EXPECT_NE(agreement.find("content agreement not established"), std::string::npos)
      << copies->dump(2);
  EXPECT_NE(agreement.find("hashed with different algorithms"), std::string::npos)
      << copies->dump(2);
}

TEST_F(ContentHashProcessTest, InclusionProofOfSetANeverVerifiesAsSetB) {
  Apply("sha256", "sha256");  // a and b hold the same files
  Check();
  json report = Report("r");
  ASSERT_EQ(report["backup_sets"].size(), 2u);
  // Same files, but the leaves name their set: two roots.
  EXPECT_NE(report["backup_sets"][0]["merkle"]["root"], report["backup_sets"][1]["merkle"]["root"]);
  const std::string proof = tmp_ / "r.proof.json";
  ASSERT_EQ(Include("a", "d0/f4", tmp_ / "a.json").exit_code, 0);
  RunResult ok = Verify(proof, {"--inclusion", tmp_ / "a.json"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("of backup set 'a'"), std::string::npos) << ok.out;
  EXPECT_EQ(ok.out.find("backup set 'b'"), std::string::npos) << ok.out;
  EXPECT_EQ(Verify(proof, {"--inclusion", tmp_ / "a.json", "--backup-set", "a"}).exit_code, 0);

  // Asked as an entry of b: refused, naming both.
  RunResult as_b = Verify(proof, {"--inclusion", tmp_ / "a.json", "--backup-set", "b"});
  EXPECT_EQ(as_b.exit_code, 1) << as_b.out;
  EXPECT_NE(as_b.out.find("proves an entry of backup set 'a', not of 'b'"), std::string::npos)
      << as_b.out;

  // Relabelled as b (the file's field; then the leaf's name and the root
  // too): the leaf no longer matches; then the path leads to no root of b.
  json doc = json::parse(ReadFile(tmp_ / "a.json"));
  doc["backup_set"] = "b";
  WriteFile(tmp_ / "relabelled.json", doc.dump());
  RunResult relabelled = Verify(proof, {"--inclusion", tmp_ / "relabelled.json"});
  EXPECT_EQ(relabelled.exit_code, 1) << relabelled.out;
  EXPECT_NE(relabelled.out.find("its leaf is an entry of 'acme/a'"), std::string::npos)
      << relabelled.out;
  std::string leaf = *storage::HexDecode(doc["leaf"].get<std::string>());
  const std::string name_a = std::string("\0\0\0\1a", 5);
  ASSERT_NE(leaf.find(name_a), std::string::npos);
  leaf.replace(leaf.find(name_a), 5, std::string("\0\0\0\1b", 5));
  doc["leaf"] = storage::HexEncode(leaf);
  doc["root"] = report["backup_sets"][1]["merkle"]["root"];
  WriteFile(tmp_ / "forged.json", doc.dump());
  RunResult forged = Verify(proof, {"--inclusion", tmp_ / "forged.json"});
  EXPECT_EQ(forged.exit_code, 1) << forged.out;
  EXPECT_NE(forged.out.find("the entry is not in backup set 'b'"), std::string::npos) << forged.out;

  // An inclusion proof without the binding (as issued before it): refused,
  // naming the missing field.
  json old = json::parse(ReadFile(tmp_ / "a.json"));
  old.erase("tenant");
  old.erase("backup_set");
  WriteFile(tmp_ / "old.json", old.dump());
  RunResult unbound = Verify(proof, {"--inclusion", tmp_ / "old.json"});
  EXPECT_EQ(unbound.exit_code, 1) << unbound.out;
  EXPECT_NE(unbound.out.find("no \"backup_set\" field"), std::string::npos) << unbound.out;
}

}  // namespace
}  // namespace vigil::testing
