// Reports and signed proofs end to end with real processes on loopback: a
// coordinator with a signing key, a worker, two tenants. Issues reports,
// verifies their proofs offline with `vigil proof verify` (and catches any
// changed byte, a wrong key, a rewritten history), issues and checks
// inclusion proofs, reads reports through the TenantPortal with tenant
// tokens, offboards a tenant, and catches an edited check log record.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "services/proofs/check_log.h"
#include "storage/rocks_kv.h"
#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

using nlohmann::json;

class ReportProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "loc";
    for (int i = 0; i < 12; ++i) {
      WriteFile(root_ + "/acme/fs/dir" + std::to_string(i % 3) + "/file" + std::to_string(i),
                "content of acme file " + std::to_string(i) + std::string(100 + i, 'a'));
    }
    WriteFile(root_ + "/other/fs/only.txt", "the other tenant's file");
    WriteFile(
        tmp_ / "tenants.yaml",
        manifests::Join(
            {manifests::Head("loc") +
                 manifests::OneSet("files", "fs", "loc", "acme/fs", {"contentHash: sha256"}) +
                 "commitments:\n  - rpo: 2d\n",
             manifests::Tenant("other"),
             manifests::Contract("other") + manifests::OneSet("files", "fs", "loc", "other/fs")}));
    ASSERT_EQ(RunVigil({"keys", "init", "--dir", tmp_ / "keys"}).exit_code, 0);
    CoordinatorOptions o;
    o.flags = {"--keys", tmp_ / "keys", "--msp-name", "Test MSP"};
    ASSERT_TRUE(cluster_.StartCoordinator(o));
    worker_ = cluster_.StartWorker("worker", "loc=" + root_);
    ASSERT_TRUE(cluster_.Apply(tmp_ / "tenants.yaml"));
    Check("acme");
    Check("other");
    std::time_t now = std::time(nullptr);
    char month[16];
    std::strftime(month, sizeof month, "%Y-%m", std::gmtime(&now));
    period_ = month;
  }

  RunResult AsTenant(const std::string& token_file, std::vector<std::string> args) {
    return cluster_.As(token_file, std::move(args));
  }
  void Check(const std::string& tenant) {
    RunResult r = Admin({"check", "run", tenant, "--wait", "--timeout", "60"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << worker_->err();
  }
  // Issues acme's report; returns the proof's path.
  std::string Report(const std::string& name) {
    RunResult r = Admin({"report", "acme", "--period", period_, "--format", "json", "-o",
                         tmp_ / (name + ".json"), "--proof", tmp_ / (name + ".proof.json")});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return tmp_ / (name + ".proof.json");
  }
  RunResult Verify(const std::string& proof, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"proof", "verify", proof, "--key", tmp_ / "keys/msp.pub"};
    args.insert(args.end(), more.begin(), more.end());
    return RunVigil(args);
  }
  std::string IssueTenantToken(const std::string& tenant) {
    RunResult r = Admin({"token", "issue", "--kind", "tenant", "--tenant", tenant});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string token = r.out.substr(0, r.out.find_first_of(" \n"));
    std::string path = tmp_ / (tenant + ".token");
    WriteFile(path, token);
    return path;
  }

  std::string root_, period_;
  std::unique_ptr<BackgroundProcess> worker_;
};

// One request, one proof: HTML and JSON are rendered from the same signed
// statement; a proof file already there is never replaced by a new proof;
// `--from` renders a proof one has without issuing another.
TEST_F(ReportProcessTest, OneProofRendersBothFormatsAndNoProofIsReplaced) {
  auto proof_count = [&] {
    RunResult list = Admin({"proof", "list", "acme", "--json"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    return json::parse(list.out)["proofs"].size();
  };
  RunResult both = Admin(
      {"report", "acme", "--period", period_, "--format", "html,json", "-o", tmp_ / "both.html"});
  ASSERT_EQ(both.exit_code, 0) << both.out << both.err;
  const std::string statement = ReadFile(tmp_ / "both.proof.json");
  const json signed_report = json::parse(statement)["report"];
  EXPECT_EQ(json::parse(ReadFile(tmp_ / "both.json")), signed_report);
  EXPECT_NE(
      ReadFile(tmp_ / "both.html").find(signed_report["tenant"]["display_name"].get<std::string>()),
      std::string::npos);
  EXPECT_EQ(Verify(tmp_ / "both.proof.json").exit_code, 0);
  EXPECT_EQ(proof_count(), 1u);

  // The same names again: refused before a new proof is issued.
  RunResult again =
      Admin({"report", "acme", "--period", period_, "--format", "json", "-o", tmp_ / "both.json"});
  EXPECT_EQ(again.exit_code, 2) << again.out << again.err;
  EXPECT_NE(again.err.find("vigil report --from " + tmp_ / "both.proof.json"), std::string::npos)
      << again.err;
  EXPECT_EQ(ReadFile(tmp_ / "both.proof.json"), statement);
  EXPECT_EQ(proof_count(), 1u);

  // Rendered again from the proof: offline, nothing issued.
  RunResult from = RunVigil({"report", "--from", tmp_ / "both.proof.json", "--format", "json", "-o",
                             tmp_ / "again.json"});
  ASSERT_EQ(from.exit_code, 0) << from.out << from.err;
  EXPECT_EQ(json::parse(ReadFile(tmp_ / "again.json")), signed_report);
  EXPECT_EQ(proof_count(), 1u);

  // An explicit --proof naming an existing proof is refused too.
  RunResult over = Admin({"report", "acme", "--period", period_, "-o", tmp_ / "other.html",
                          "--proof", tmp_ / "both.proof.json"});
  EXPECT_EQ(over.exit_code, 2) << over.out << over.err;
  EXPECT_EQ(ReadFile(tmp_ / "both.proof.json"), statement);
  EXPECT_EQ(proof_count(), 1u);
}

TEST_F(ReportProcessTest, ProofVerifiesAndAnyChangedByteFails) {
  std::string proof = Report("r1");
  json report = json::parse(ReadFile(tmp_ / "r1.json"));
  EXPECT_EQ(report["format"], "vigil.report/1");
  EXPECT_EQ(report["tenant"]["name"], "acme");
  EXPECT_EQ(report["msp"]["name"], "Test MSP");
  ASSERT_EQ(report["backup_sets"].size(), 1u);
  EXPECT_EQ(report["backup_sets"][0]["merkle"]["tree_size"], 12);
  EXPECT_EQ(report["checks"]["run"], 1);
  EXPECT_EQ(report["checks"]["failed"], 0);
  // The first check read every file: the sizes written in SetUp.
  uint64_t written = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(root_ + "/acme")) {
    if (f.is_regular_file()) written += f.file_size();
  }
  EXPECT_EQ(report["checks"]["entries_verified"], 12);
  EXPECT_EQ(report["checks"]["bytes_verified"], written);

  RunResult ok = Verify(proof);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  // The same tenant's report as HTML (the renderer accepts the report JSON).
  RunResult html = Admin({"report", "acme", "--period", period_, "-o", tmp_ / "r.html"});
  ASSERT_EQ(html.exit_code, 0) << html.out << html.err;
  EXPECT_NE(ReadFile(tmp_ / "r.html").find("acme"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(tmp_ / "r.proof.json.sig"));
  EXPECT_NE(ok.out.find("VALID"), std::string::npos) << ok.out;

  // One changed byte anywhere: invalid, and the signature is named.
  const std::string bytes = ReadFile(proof);
  const std::string sig = ReadFile(proof + ".sig");
  for (size_t k = 0; k < 24; ++k) {
    size_t at = k * (bytes.size() - 1) / 23;
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    WriteFile(tmp_ / "bad.proof.json", bad);
    WriteFile(tmp_ / "bad.proof.json.sig", sig);
    RunResult r = Verify(tmp_ / "bad.proof.json");
    EXPECT_EQ(r.exit_code, 1) << "byte " << at << ": " << r.out << r.err;
    EXPECT_NE(r.out.find("FAIL  signature"), std::string::npos) << "byte " << at << ": " << r.out;
  }
  // A changed byte inside a check log record is also named as such.
  size_t rec = bytes.find("\"records\":[\"");
  ASSERT_NE(rec, std::string::npos);
  std::string bad = bytes;
  size_t at = rec + 12 + 20;
  bad[at] = bad[at] == '0' ? '1' : '0';
  WriteFile(tmp_ / "bad.proof.json", bad);
  RunResult r = Verify(tmp_ / "bad.proof.json");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL  check log"), std::string::npos) << r.out;

  // A signature changed: invalid.
  std::string bad_sig = sig;
  size_t hex = bad_sig.find("\"signature\": \"") + 14;
  bad_sig[hex] = bad_sig[hex] == 'a' ? 'b' : 'a';
  WriteFile(tmp_ / "bad.proof.json", bytes);
  WriteFile(tmp_ / "bad.proof.json.sig", bad_sig);
  EXPECT_EQ(Verify(tmp_ / "bad.proof.json").exit_code, 1);

  // Another MSP's key: invalid, naming the key.
  ASSERT_EQ(RunVigil({"keys", "init", "--dir", tmp_ / "other-keys"}).exit_code, 0);
  RunResult wrong = RunVigil({"proof", "verify", proof, "--key", tmp_ / "other-keys/msp.pub"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.out.find("not among the keys given"), std::string::npos) << wrong.out;
  // Usage errors: exit 2.
  EXPECT_EQ(
      RunVigil({"proof", "verify", tmp_ / "nope.json", "--key", tmp_ / "keys/msp.pub"}).exit_code,
      2);
}

TEST_F(ReportProcessTest, InclusionProofsAndHistoryAcrossProofs) {
  std::string p1 = Report("r1");
  RunResult inc = Admin({"proof", "include", "--tenant", "acme", "--backup-set", "fs", "--path",
                         "dir1/file4", "-o", tmp_ / "inc.json"});
  ASSERT_EQ(inc.exit_code, 0) << inc.out << inc.err;
  RunResult ok = Verify(p1, {"--inclusion", tmp_ / "inc.json"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("'dir1/file4'"), std::string::npos) << ok.out;
  // An entry that is not there: no proof.
  EXPECT_EQ(
      Admin({"proof", "include", "--tenant", "acme", "--backup-set", "fs", "--path", "dir1/absent"})
          .exit_code,
      3);
  // An altered entry (another size in the leaf): refused.
  json doc = json::parse(ReadFile(tmp_ / "inc.json"));
  std::string leaf = doc["leaf"];
  // A size hex digit, after the binding (0x02, tenant "acme", set "fs": 15
  // bytes) and the path.
  size_t size_at = 30 + 8 + std::string("dir1/file4").size() * 2 + 14;
  leaf[size_at] = leaf[size_at] == '0' ? '1' : '0';
  doc["leaf"] = leaf;
  WriteFile(tmp_ / "inc-bad.json", doc.dump());
  RunResult altered = Verify(p1, {"--inclusion", tmp_ / "inc-bad.json"});
  EXPECT_EQ(altered.exit_code, 1);
  EXPECT_NE(altered.out.find("FAIL  inclusion"), std::string::npos) << altered.out;

  // The backup changes, a new check, a new proof: it extends the first.
  WriteFile(root_ + "/acme/fs/dir0/new-file", "added later");
  Check("acme");
  std::string p2 = Report("r2");
  json r2 = json::parse(ReadFile(tmp_ / "r2.json"));
  EXPECT_EQ(r2["checks"]["run"], 2);
  EXPECT_EQ(r2["checks"]["failed"], 0);  // an added file is not a problem
  RunResult chained = Verify(p2, {"--previous", p1});
  EXPECT_EQ(chained.exit_code, 0) << chained.out;
  EXPECT_NE(chained.out.find("extends its check log"), std::string::npos) << chained.out;
  // Not the other way round.
  EXPECT_EQ(Verify(p1, {"--previous", p2}).exit_code, 1);
  // The first proof's inclusion proof still verifies against it (its leaf
  // set was kept), and is refused against the second's new root.
  RunResult old = Admin({"proof", "include", "--tenant", "acme", "--backup-set", "fs", "--path",
                         "dir1/file4", "--seq", "1", "-o", tmp_ / "inc1.json"});
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_EQ(Verify(p1, {"--inclusion", tmp_ / "inc1.json"}).exit_code, 0);
  RunResult against_new = Verify(p2, {"--inclusion", tmp_ / "inc1.json"});
  EXPECT_EQ(against_new.exit_code, 1);
  EXPECT_NE(against_new.out.find("not a Merkle root signed in this proof"), std::string::npos)
      << against_new.out;
}

TEST_F(ReportProcessTest, DamageFoundIsCountedAndListedAsAnIncident) {
  // Silent corruption: other bytes, same size and mtime (a mirror would
  // take a change with a new mtime for an update).
  const std::string victim = root_ + "/acme/fs/dir1/file4";
  struct stat st;
  ASSERT_EQ(::stat(victim.c_str(), &st), 0);
  std::string content = ReadFile(victim);
  content[0] = content[0] == 'x' ? 'y' : 'x';
  WriteFile(victim, content);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, victim.c_str(), times, 0), 0);
  RunResult r = Admin({"check", "run", "acme", "--wait", "--timeout", "60"});
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;  // the check found a problem
  Report("r");
  json report = json::parse(ReadFile(tmp_ / "r.json"));
  EXPECT_EQ(report["checks"]["run"], 2);
  EXPECT_EQ(report["checks"]["failed"], 1);
  bool listed = false;
  for (const auto& i : report["incidents"]) {
    listed |= i["kind"] == "integrity" && i["resolved_at"].is_null() &&
              i["summary"].get<std::string>().find("fs") != std::string::npos;
  }
  EXPECT_TRUE(listed) << report["incidents"].dump(2);
}

TEST_F(ReportProcessTest, TenantTokensReachOnlyTheirOwnReports) {
  Report("r1");
  std::string acme = IssueTenantToken("acme");
  std::string other = IssueTenantToken("other");
  RunResult mine = AsTenant(acme, {"portal", "reports", "--json"});
  ASSERT_EQ(mine.exit_code, 0) << mine.err;
  EXPECT_EQ(json::parse(mine.out)["reports"].size(), 1u) << mine.out;
  RunResult fetched = AsTenant(acme, {"portal", "report", "--dir", tmp_ / "fetched"});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err;
  RunResult v = Verify(tmp_ / ("fetched/acme-" + period_ + ".proof.json"));
  EXPECT_EQ(v.exit_code, 0) << v.out;
  // The other tenant sees none of acme's, and cannot fetch one.
  RunResult theirs = AsTenant(other, {"portal", "reports", "--json"});
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  EXPECT_TRUE(json::parse(theirs.out)["reports"].empty()) << theirs.out;
  EXPECT_EQ(AsTenant(other, {"portal", "report", "--seq", "1", "--dir", tmp_ / "x"}).exit_code, 3);
  // An admin token is not a tenant token; no token at all gets nothing.
  EXPECT_EQ(AsTenant(tmp_ / "data/admin.token", {"portal", "reports"}).exit_code, 3);
  WriteFile(tmp_ / "empty.token", "");
  EXPECT_EQ(AsTenant(tmp_ / "empty.token", {"portal", "reports"}).exit_code, 3);
}

TEST_F(ReportProcessTest, OffboardingExportsErasesAndSignsTheErasure) {
  RunResult p = Admin(
      {"report", "other", "--period", period_, "--format", "json", "-o", tmp_ / "other.json"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  IssueTenantToken("other");
  // Without --yes: export only, nothing erased.
  RunResult dry = Admin({"tenant", "offboard", "other", "--export", tmp_ / "export"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(Admin({"status", "other"}).exit_code, 0);
  RunResult off = Admin({"tenant", "offboard", "other", "--export", tmp_ / "export", "--yes"});
  ASSERT_EQ(off.exit_code, 0) << off.out << off.err;
  EXPECT_TRUE(std::filesystem::exists(tmp_ / ("export/000001-" + period_ + ".proof.json")));
  EXPECT_EQ(Verify(tmp_ / ("export/000001-" + period_ + ".proof.json")).exit_code, 0);
  RunResult erasure = Verify(tmp_ / "export/erasure.json");
  EXPECT_EQ(erasure.exit_code, 0) << erasure.out;
  json record = json::parse(ReadFile(tmp_ / "export/erasure.json"));
  EXPECT_EQ(record["erased"]["catalogue_entries"], 1);
  EXPECT_EQ(record["erased"]["tokens"], 1);
  // The tenant is gone; acme is untouched.
  EXPECT_EQ(Admin({"status", "other"}).exit_code, 3);
  RunResult acme = Admin({"status", "acme", "--json"});
  ASSERT_EQ(acme.exit_code, 0);
  EXPECT_EQ(json::parse(acme.out)["tenants"][0]["backup_sets"][0]["catalogue_entries"], 12);
  EXPECT_GE(record["erased"]["tasks"].get<int>(), 1);  // its check's task record

  // Nothing in the database names the erased tenant's file or backup path
  // any more: catalogue, task records (their error messages), check log,
  // alerts; acme's still do. The location's survey (directory names found
  // there, docs/contracts.md) is the MSP's: its backups of the tenant still
  // on disk are reported as unscoped until they are deleted.
  cluster_.coordinator().Signal(SIGTERM);
  ASSERT_EQ(cluster_.coordinator().Wait(), 0) << cluster_.coordinator().err();
  storage::RocksKvOptions o;
  o.create_if_missing = false;
  o.read_only = true;
  auto kv = storage::OpenRocksKv(tmp_ / "data/db", o);
  ASSERT_TRUE(kv.ok()) << kv.status().message();
  auto mentions = [&](std::string_view needle) {
    std::vector<std::string> where;
    for (int sp = 0; sp < storage::kNumSpaces; ++sp) {
      auto it = (*kv)->NewIterator(static_cast<storage::Space>(sp), {});
      for (it->Seek(""); it->Valid(); it->Next()) {
        if (sp == static_cast<int>(storage::Space::kMeta) &&
            it->key().substr(0, 13) == "coord/survey/") {
          continue;
        }
        if (it->key().find(needle) != std::string_view::npos ||
            it->value().find(needle) != std::string_view::npos) {
          where.push_back(std::string(storage::SpaceName(static_cast<storage::Space>(sp))) + ": " +
                          std::string(it->key()));
        }
      }
      EXPECT_TRUE(it->status().ok());
    }
    return where;
  };
  EXPECT_EQ(mentions("only.txt"), std::vector<std::string>{});
  EXPECT_EQ(mentions("other/fs"), std::vector<std::string>{});
  EXPECT_FALSE(mentions("acme/fs").empty());
}

TEST_F(ReportProcessTest, EditedCheckLogRecordIsCaught) {
  // Read-only: it runs beside the live coordinator.
  RunResult live = RunVigil({"log", "verify", "--data", tmp_ / "data"});
  EXPECT_EQ(live.exit_code, 0) << live.out << live.err;
  EXPECT_NE(live.out.find("acme: intact, 1 records"), std::string::npos) << live.out;
  cluster_.coordinator().Signal(SIGTERM);
  ASSERT_EQ(cluster_.coordinator().Wait(), 0) << cluster_.coordinator().err();
  RunResult intact = RunVigil({"log", "verify", "--data", tmp_ / "data", "acme"});
  EXPECT_EQ(intact.exit_code, 0) << intact.out << intact.err;
  {
    storage::RocksKvOptions o;
    o.create_if_missing = false;
    auto kv = storage::OpenRocksKv(tmp_ / "data/db", o);
    ASSERT_TRUE(kv.ok()) << kv.status().message();
    std::string key = check_log::LogKey("acme", 1);
    std::string v;
    ASSERT_TRUE((*kv)->Get(storage::Space::kResults, key, &v).ok());
    size_t at = v.find("\"entries\":12");
    ASSERT_NE(at, std::string::npos);
    v[at + 10] = '9';  // "entries":92: a result rewritten in place
    storage::KvBatch b;
    b.Put(storage::Space::kResults, key, v);
    ASSERT_TRUE((*kv)->Write(b, {.sync = true}).ok());
  }
  RunResult broken = RunVigil({"log", "verify", "--data", tmp_ / "data", "acme"});
  EXPECT_EQ(broken.exit_code, 1) << broken.out << broken.err;
  EXPECT_NE(broken.out.find("broken at seq 1: hash mismatch"), std::string::npos) << broken.out;
}

}  // namespace
}  // namespace vigil::testing
