// Proof issuance and offline checking at library level: a catalogue written
// directly (no workers), a check log, a key ring in a temporary directory.
#include "services/coordinator/proofs.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "services/coordinator/check_log_writer.h"
#include "services/proofs/proof_verify.h"
#include "storage/hash.h"
#include "tests/support/temp_dir.h"

namespace vigil::coordinator {
namespace {

using nlohmann::json;
using proofs::CheckProof;
using proofs::ProofCheck;
using proofs::ProofCheckOptions;
using proofs::SignatureJson;

class ProofsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cat = storage::Catalogue::Open(tmp_ / "db");
    ASSERT_TRUE(cat.ok()) << cat.status().message();
    cat_ = std::move(*cat);
    auto ring = signing::KeyRing::Init(tmp_ / "keys");
    ASSERT_TRUE(ring.ok()) << ring.status().message();
    ring_.emplace(std::move(*ring));
    WriteEntries({{"a.txt", "alpha"}, {"d/b.txt", "bravo"}, {"d/c.txt", "charlie"}});
    for (int i = 1; i <= 3; ++i) {
      ASSERT_TRUE(check_log::Append(*cat_->kv(), "acme", "{\"check\":" + std::to_string(i) + "}",
                                    1'790'000'000'000'000'000 + i)
                      .ok());
    }
  }
  void TearDown() override { cat_.reset(); }
  void WriteEntries(const std::vector<std::pair<std::string, std::string>>& files) {
    storage::Catalogue::Writer w(cat_.get(), {"acme", "fs", 0});
    for (const auto& [path, content] : files) {
      storage::EntryRecord e;
      e.size = content.size();
      e.digest = storage::HashBytes(storage::HashAlgorithm::kSha256, content);
      ASSERT_TRUE(w.PutEntry(path, e).ok());
    }
    ASSERT_TRUE(w.Commit(true).ok());
  }
  json Report() {
    return {{"format", "vigil.report/1"},
            {"tenant", {{"name", "acme"}, {"time_zone", "UTC"}}},
            {"period", {{"label", "2026-10"}}},
            {"backup_sets", json::array({{{"name", "fs"}, {"merkle", nullptr}}})}};
  }
  ProofCheck Check(const IssuedProof& p, ProofCheckOptions o = {}) {
    o.keys = ring_->public_keys();
    return CheckProof(p.statement, p.signature, o);
  }

  vigil::testing::TempDir tmp_;
  std::unique_ptr<storage::Catalogue> cat_;
  std::optional<signing::KeyRing> ring_;
};

std::string Failures(const ProofCheck& c) {
  std::string s;
  for (const auto& f : c.failures) s += f + "\n";
  return s;
}

TEST_F(ProofsTest, IssuedProofVerifiesAndCarriesRootAndLog) {
  auto p = IssueProof(*cat_, *ring_, "acme", Report(), 1'790'000'100'000'000'000);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->seq, 1u);
  ProofCheck c = Check(*p);
  EXPECT_TRUE(c.ok()) << Failures(c);
  json st = json::parse(p->statement);
  EXPECT_EQ(st["report"]["backup_sets"][0]["merkle"]["tree_size"], 3);
  auto head = storage::CatalogueRoot(*cat_, {"acme", "fs", 0});
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(st["report"]["backup_sets"][0]["merkle"]["root"], storage::MerkleHex(head->root));
  EXPECT_EQ(st["check_log"]["records"].size(), 3u);
  EXPECT_TRUE(st["previous_proof_sha256"].is_null());
}

TEST_F(ProofsTest, SecondProofChainsToTheFirstAndKeepsOldLeaves) {
  auto p1 = IssueProof(*cat_, *ring_, "acme", Report(), 1);
  ASSERT_TRUE(p1.ok());
  WriteEntries({{"d/b.txt", "bravo, changed"}});
  ASSERT_TRUE(check_log::Append(*cat_->kv(), "acme", "{\"check\":4}", 5).ok());
  auto p2 = IssueProof(*cat_, *ring_, "acme", Report(), 2);
  ASSERT_TRUE(p2.ok());
  ProofCheckOptions o;
  o.previous_statement = p1->statement;
  ProofCheck c = Check(*p2, o);
  EXPECT_TRUE(c.ok()) << Failures(c);
  EXPECT_EQ(json::parse(p2->statement)["check_log"]["records"].size(), 1u);
  // Proof 1's entry as it was then is still provable against proof 1.
  auto inc = IssueInclusionProof(*cat_->kv(), "acme", "fs", "d/b.txt", 1);
  ASSERT_TRUE(inc.ok()) << inc.status().message();
  o = {};
  o.inclusion = *inc;
  EXPECT_TRUE(Check(*p1, o).ok()) << Failures(Check(*p1, o));
  ProofCheck against2 = Check(*p2, o);
  ASSERT_FALSE(against2.ok());
  EXPECT_NE(Failures(against2).find("inclusion:"), std::string::npos);
  auto list = ListProofs(*cat_->kv(), "acme", false);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
}

TEST_F(ProofsTest, EachKindOfTamperingIsNamed) {
  auto p = IssueProof(*cat_, *ring_, "acme", Report(), 1);
  ASSERT_TRUE(p.ok());
  // A record dropped from the carried log: signature and chain.
  json st = json::parse(p->statement);
  st["check_log"]["records"].erase(1);
  IssuedProof dropped = *p;
  dropped.statement = st.dump();
  ProofCheck c = Check(dropped);
  EXPECT_NE(Failures(c).find("signature:"), std::string::npos) << Failures(c);
  EXPECT_NE(Failures(c).find("check log:"), std::string::npos) << Failures(c);
  // A statement re-signed by another key the client does not trust.
  auto other = signing::KeyRing::Init(tmp_ / "other");
  ASSERT_TRUE(other.ok());
  IssuedProof resigned = *p;
  resigned.signature = SignatureJson(*other->Sign(p->statement));
  EXPECT_NE(Failures(Check(resigned)).find("not among the keys given"), std::string::npos);
  // A wrong report tenant.
  st = json::parse(p->statement);
  st["report"]["tenant"]["name"] = "mallory";
  IssuedProof swapped = *p;
  swapped.statement = st.dump();
  EXPECT_NE(Failures(Check(swapped)).find("another tenant"), std::string::npos);
  // A garbage signature file.
  IssuedProof garbage = *p;
  garbage.signature = "{not json";
  EXPECT_NE(Failures(Check(garbage)).find("signature: signature file"), std::string::npos);
}

// Fields of another JSON type (a statement Vigil never signed) are named as
// a statement failure, never thrown out of the verifier.
TEST_F(ProofsTest, FieldsOfAnotherTypeAreAFailureNotACrash) {
  auto p = IssueProof(*cat_, *ring_, "acme", Report(), 1);
  ASSERT_TRUE(p.ok());
  // Each edit, and what the failure names.
  const std::vector<std::pair<std::function<void(json&)>, std::string>> edits = {
      {[](json& st) { st["format"] = 1; }, "statement:"},
      {[](json& st) { st["key_id"] = 5; }, "statement:"},
      {[](json& st) { st["report"]["tenant"] = "acme"; }, "statement:"},
      {[](json& st) { st["report"]["backup_sets"] = json::array({1}); }, "statement:"},
      {[](json& st) { st["check_log"] = "none"; }, "check log:"},
      {[](json& st) {
         st["format"] = "vigil.erasure/1";
         st["erased_at"] = 0;
       },
       "statement:"},
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    json st = json::parse(p->statement);
    edits[i].first(st);
    IssuedProof edited = *p;
    edited.statement = st.dump();
    ProofCheck c;
    ASSERT_NO_THROW(c = Check(edited)) << "edit " << i;
    EXPECT_FALSE(c.ok()) << "edit " << i;
    EXPECT_NE(Failures(c).find(edits[i].second), std::string::npos)
        << "edit " << i << ": " << Failures(c);
  }
}

TEST_F(ProofsTest, RotatedKeysStillVerifyOldProofs) {
  auto p = IssueProof(*cat_, *ring_, "acme", Report(), 1);
  ASSERT_TRUE(p.ok());
  auto rotated = signing::KeyRing::Rotate(tmp_ / "keys");
  ASSERT_TRUE(rotated.ok());
  ProofCheckOptions o;
  o.keys = rotated->public_keys();
  EXPECT_TRUE(CheckProof(p->statement, p->signature, o).ok());
}

// Two sets holding the same files: two roots (the leaves name their set),
// and an inclusion proof of one set's entry never verifies as the other's.
TEST_F(ProofsTest, InclusionProofIsBoundToItsSet) {
  {
    storage::Catalogue::Writer w(cat_.get(), {"acme", "fs2", 0});
    for (const auto& [path, content] : std::vector<std::pair<std::string, std::string>>{
             {"a.txt", "alpha"}, {"d/b.txt", "bravo"}, {"d/c.txt", "charlie"}}) {
      storage::EntryRecord e;
      e.size = content.size();
      e.digest = storage::HashBytes(storage::HashAlgorithm::kSha256, content);
      ASSERT_TRUE(w.PutEntry(path, e).ok());
    }
    ASSERT_TRUE(w.Commit(true).ok());
  }
  json report = Report();
  report["backup_sets"].push_back({{"name", "fs2"}, {"merkle", nullptr}});
  auto p = IssueProof(*cat_, *ring_, "acme", report, 1);
  ASSERT_TRUE(p.ok()) << p.status().message();
  json st = json::parse(p->statement);
  EXPECT_NE(st["report"]["backup_sets"][0]["merkle"]["root"],
            st["report"]["backup_sets"][1]["merkle"]["root"]);
  auto inc = IssueInclusionProof(*cat_->kv(), "acme", "fs", "d/b.txt", 0);
  ASSERT_TRUE(inc.ok()) << inc.status().message();
  EXPECT_EQ(inc->tenant, "acme");
  EXPECT_EQ(inc->backup_set, "fs");
  ProofCheckOptions o;
  o.inclusion = *inc;
  ProofCheck ok = Check(*p, o);
  EXPECT_TRUE(ok.ok()) << Failures(ok);
  o.inclusion_backup_set = "fs2";
  EXPECT_NE(Failures(Check(*p, o)).find("proves an entry of backup set 'fs', not of 'fs2'"),
            std::string::npos)
      << Failures(Check(*p, o));
  // Relabelled as fs2 (its leaf and root too): fs's path leads to no root
  // of fs2.
  o = {};
  storage::InclusionProofDoc forged = *inc;
  forged.backup_set = "fs2";
  forged.root =
      *storage::MerkleFromHex(st["report"]["backup_sets"][1]["merkle"]["root"].get<std::string>());
  forged.leaf = storage::BoundEntryLeaf(
      "acme", "fs2", "d/b.txt", 5, storage::HashBytes(storage::HashAlgorithm::kSha256, "bravo"));
  o.inclusion = forged;
  EXPECT_NE(Failures(Check(*p, o)).find("inclusion: the entry is not in backup set 'fs2'"),
            std::string::npos)
      << Failures(Check(*p, o));
  // Without the binding (an inclusion proof of a format-1 leaf): refused.
  storage::InclusionProofDoc unbound = *inc;
  unbound.tenant.clear();
  unbound.backup_set.clear();
  o.inclusion = unbound;
  EXPECT_NE(Failures(Check(*p, o)).find("no \"backup_set\" field"), std::string::npos)
      << Failures(Check(*p, o));
  unbound = *inc;
  unbound.leaf = storage::EntryLeaf("d/b.txt", 5,
                                    storage::HashBytes(storage::HashAlgorithm::kSha256, "bravo"));
  o.inclusion = unbound;
  EXPECT_NE(Failures(Check(*p, o)).find("leaf format 1"), std::string::npos)
      << Failures(Check(*p, o));
}

TEST_F(ProofsTest, InclusionOfAnAbsentEntryIsNotFound) {
  ASSERT_TRUE(IssueProof(*cat_, *ring_, "acme", Report(), 1).ok());
  auto inc = IssueInclusionProof(*cat_->kv(), "acme", "fs", "d/absent", 0);
  EXPECT_EQ(inc.status().code(), absl::StatusCode::kNotFound);
  auto no_set = IssueInclusionProof(*cat_->kv(), "acme", "nope", "a.txt", 0);
  EXPECT_EQ(no_set.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ProofsTest, EraseProofsLeavesNothing) {
  ASSERT_TRUE(IssueProof(*cat_, *ring_, "acme", Report(), 1).ok());
  storage::KvBatch b;
  EraseProofs("acme", &b);
  ASSERT_TRUE(cat_->kv()->Write(b, {.sync = true}).ok());
  auto list = ListProofs(*cat_->kv(), "acme", false);
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  auto it = cat_->kv()->NewIterator(storage::Space::kResults, {});
  int proof_keys = 0;
  for (it->Seek("proof"); it->Valid() && it->key().substr(0, 5) == "proof"; it->Next())
    ++proof_keys;
  EXPECT_EQ(proof_keys, 0);
}

}  // namespace
}  // namespace vigil::coordinator
