// Apply of YAML manifests on the coordinator: server-side validation against
// what is stored, contract versions, dry runs; and the evaluation `vigil
// status` shows before any check.
#include "services/coordinator/contract_store.h"

#include <gtest/gtest.h>

#include "services/coordinator/coordinator.h"
#include "services/coordinator/keys.h"
#include "tests/services/coordinator/coordinator_fixture.h"
#include "tests/support/manifests.h"

namespace vigil::coordinator {
namespace {

namespace manifests = vigil::testing::manifests;

// Location nas at office, location vault offsite.
const std::string kLocations = manifests::Join(
    {manifests::Location(), manifests::Location("vault", "provider", "offsite: true\n")});

// Tenant acme (Europe/Paris) and its contract: asset fs with fs-nas
// (rsnapshot) and fs-vault, rpo `rpo` and two copies, one offsite; `extra`
// (whole lines) before its assets.
std::string ContractYaml(const std::string& rpo, const std::string& extra = "") {
  return manifests::Join(
      {manifests::Tenant("acme", "Europe/Paris"),
       manifests::Contract(
           "acme",
           extra + "assets:\n" +
               manifests::Asset(
                   "fs", {manifests::BackupSet("fs-nas", "nas", "acme/fs", {"layout: rsnapshot"}),
                          manifests::BackupSet("fs-vault", "vault", "acme/fs")}) +
               "commitments:\n  - rpo: " + rpo + "\n  - copies: {min: 2, offsite: 1}\n")});
}

class ContractStoreTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    coordinator_options_.enrol_token_sha256.clear();  // no workers here
    Open();
  }
  storage::StatusOr<v1::ApplyResponse> Apply(std::vector<std::pair<std::string, std::string>> files,
                                             bool dry_run = false) {
    v1::ApplyRequest req;
    for (auto& [name, text] : files) {
      v1::ManifestFile* f = req.add_files();
      f->set_name(name);
      f->set_text(text);
    }
    req.set_dry_run(dry_run);
    return c_->Apply(req);
  }
  std::vector<v1::ContractVersion> Versions() {
    auto v = LoadContractVersions(c_->catalogue().kv(), "acme");
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::vector<v1::ContractVersion>{};
  }
};

TEST_F(ContractStoreTest, DryRunChangesNothingThenApplyStoresVersionOne) {
  auto r = Apply({{"loc.yaml", kLocations}, {"acme.yaml", ContractYaml("24h")}}, true);
  ASSERT_TRUE(r.ok()) << r.status();
  // 2 locations, 1 tenant, 2 backup sets, 1 contract.
  EXPECT_EQ(r->changes_size(), 6) << r->DebugString();
  EXPECT_EQ(r->changes(5).rfind("+ contract acme v1", 0), 0u) << r->changes(5);
  EXPECT_TRUE(Versions().empty());
  v1::GetStatusResponse st = *c_->GetStatus({});
  EXPECT_EQ(st.tenants_size(), 0);

  r = Apply({{"loc.yaml", kLocations}, {"acme.yaml", ContractYaml("24h")}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->changed(), 6u);
  std::vector<v1::ContractVersion> v = Versions();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].version(), 1u);
  EXPECT_EQ(v[0].effective_from_ns(), clock_.NowNs());  // no effectiveFrom: when applied
  EXPECT_EQ(v[0].sha256().size(), 32u);
  // Canonical: durations normalised, every default explicit.
  EXPECT_NE(v[0].canonical_yaml().find("rpo: \"1d\""), std::string::npos) << v[0].canonical_yaml();
  EXPECT_EQ(v[0].source_file(), "acme.yaml");
  // The layout and the zone are stored with the records.
  st = *c_->GetStatus({});
  ASSERT_EQ(st.tenants_size(), 1);
  EXPECT_EQ(st.tenants(0).tenant().timezone(), "Europe/Paris");
  bool rsnapshot = false;
  for (const auto& b : st.tenants(0).backup_sets()) {
    rsnapshot |= b.backup_set().name() == "fs-nas" && b.backup_set().layout() == "rsnapshot";
  }
  EXPECT_TRUE(rsnapshot);
}

TEST_F(ContractStoreTest, SameContractIsANoOpAChangedOneIsANewVersion) {
  ASSERT_TRUE(Apply({{"loc.yaml", kLocations}, {"acme.yaml", ContractYaml("24h")}}).ok());
  // Comments and key order do not make a new version; the locations are
  // known now, so the contract file alone is enough.
  auto r = Apply({{"acme.yaml", "# a comment\n" + ContractYaml("24h")}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->changed(), 0u) << r->DebugString();
  EXPECT_EQ(Versions().size(), 1u);
  clock_.Advance(86'400'000'000'000LL);
  r = Apply({{"acme.yaml", ContractYaml("26h")}});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->changes_size(), 1) << r->DebugString();
  EXPECT_EQ(r->changes(0).rfind("+ contract acme v2", 0), 0u);
  std::vector<v1::ContractVersion> v = Versions();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1].version(), 2u);
  EXPECT_GT(v[1].effective_from_ns(), v[0].effective_from_ns());
  // Both parse back, each with its own RPO.
  auto cs = LoadContracts(c_->catalogue().kv(), "acme");
  ASSERT_TRUE(cs.ok()) << cs.status();
  ASSERT_EQ(cs->size(), 2u);
  EXPECT_EQ((*cs)[0].commitments[0].rpo.max_age_ns, 24LL * 3600 * 1'000'000'000);
  EXPECT_EQ((*cs)[1].commitments[0].rpo.max_age_ns, 26LL * 3600 * 1'000'000'000);
  // A version may not take effect before the one it replaces.
  r = Apply({{"acme.yaml", ContractYaml("30h", "effectiveFrom: 2026-01-01\n")}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("precedes version 2"), std::string::npos) << r.status();
  EXPECT_EQ(Versions().size(), 2u);
}

TEST_F(ContractStoreTest, ServerSideErrorsNameTheFileAndNothingIsApplied) {
  // The vault location is neither in the file set nor stored: the
  // coordinator refuses it with the place, and stores nothing at all.
  std::string only_nas = "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: office\n";
  auto r = Apply({{"loc.yaml", only_nas}, {"acme.yaml", ContractYaml("24h")}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  std::string m(r.status().message());
  EXPECT_NE(m.find("acme.yaml:17:19"), std::string::npos) << m;
  EXPECT_NE(m.find("backupSets[1].location"), std::string::npos) << m;
  EXPECT_NE(m.find("vault"), std::string::npos) << m;
  EXPECT_EQ(c_->GetStatus({})->tenants_size(), 0);
  EXPECT_TRUE(Versions().empty());
}

TEST_F(ContractStoreTest, StatusJudgesTheContractBeforeAnyCheck) {
  ASSERT_TRUE(Apply({{"loc.yaml", kLocations}, {"acme.yaml", ContractYaml("24h")}}).ok());
  v1::GetStatusRequest req;
  req.set_tenant("acme");
  auto st = c_->GetStatus(req);
  ASSERT_TRUE(st.ok()) << st.status();
  const v1::TenantStatus& t = st->tenants(0);
  EXPECT_EQ(t.contract_version(), 1u);
  ASSERT_EQ(t.readiness_size(), 1);
  EXPECT_EQ(t.readiness(0).readiness(), "not ready");
  EXPECT_EQ(t.readiness(0).reasons(0), "never inventoried");
  ASSERT_EQ(t.commitments_size(), 2);
  for (const auto& c : t.commitments()) {
    EXPECT_EQ(c.verdict(), "unknown") << c.DebugString();
    // Never checked: due now.
    EXPECT_EQ(c.next_check_ns(), clock_.NowNs()) << c.DebugString();
    EXPECT_EQ(c.last_check_ns(), 0);
  }
}

}  // namespace
}  // namespace vigil::coordinator

namespace vigil::coordinator {
namespace {

TEST_F(ContractStoreTest, SchedulerQueuesDueChecksOutsideMaintenanceWindows) {
  // 2026-10-01T00:00Z is 02:00 in Paris: inside the NAS's 01:00-03:00
  // window, so only the vault's set is read now; the NAS's paces at 10 MB/s.
  const std::string locations = manifests::Join(
      {manifests::Location("vault", "provider", "offsite: true\nioBudget: 10MB/s\n"),
       manifests::Location("nas", "office",
                           "timezone: Europe/Paris\nioBudget: 10MB/s\nmaintenanceWindows:\n"
                           "  - days: daily\n    start: \"01:00\"\n    duration: 2h\n")});
  ASSERT_TRUE(Apply({{"loc.yaml", locations}, {"acme.yaml", ContractYaml("24h")}}).ok());
  auto q = c_->ScheduleDue();
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].backup_set().name(), "fs-vault");
  EXPECT_EQ((*q)[0].tenant_timezone(), "Europe/Paris");
  EXPECT_EQ((*q)[0].rate_limit_bytes_per_s(), 10'000'000u);
  // Already queued: not queued twice.
  q = c_->ScheduleDue();
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE(q->empty());
  // After the window (03:00 local), the NAS's set is due too.
  clock_.Advance(61LL * 60 * 1'000'000'000);
  q = c_->ScheduleDue();
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].backup_set().name(), "fs-nas");
  EXPECT_EQ((*q)[0].backup_set().layout(), "rsnapshot");
  EXPECT_EQ((*q)[0].rate_limit_bytes_per_s(), 10'000'000u);
}

}  // namespace
}  // namespace vigil::coordinator

namespace vigil::coordinator {
namespace {

TEST_F(ContractStoreTest, IntegrityRunsReadThePointsVerifiedLongestAgoWithinTheBudget) {
  auto yaml = [](const std::string& integrity) {
    return manifests::Join(
        {manifests::Tenant(),
         manifests::Contract(
             "acme",
             "assets:\n" +
                 manifests::Asset("fs", {manifests::BackupSet("fs-vault", "vault", "acme/fs",
                                                              {"layout: dated-folders"})}) +
                 "commitments:\n  - rpo: 24h\n  - integrity: " + integrity + "\n")});
  };
  ASSERT_TRUE(
      Apply({{"loc.yaml", kLocations}, {"acme.yaml", yaml("{reverifyWithin: 30d, budget: 1KiB}")}})
          .ok());
  // Three known points of 600 bytes, verified at 300, 100 and 200.
  storage::KvBatch b;
  for (auto [time, verified] : {std::pair{10, 300}, {20, 100}, {30, 200}}) {
    v1::PointRecord r;
    r.set_time_ns(time);
    r.set_name("p" + std::to_string(time));
    r.set_first_seen_ns(1);
    r.set_files(3);
    r.set_bytes(600);
    r.set_last_verified_ns(verified);
    r.set_plausibility_checked(true);
    b.Put(storage::Space::kMeta, keys::Point("acme", "fs-vault", time), r.SerializeAsString());
  }
  ASSERT_TRUE(c_->catalogue().kv()->Write(b, {.sync = true}).ok());
  auto q = c_->ScheduleDue();
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->size(), 1u);
  const v1::Task& t = (*q)[0];
  EXPECT_FALSE(t.inventory_only());
  // 1 KiB reads the two verified longest ago (20, then 30: 1,200 bytes),
  // and lists 10 without reading it.
  ASSERT_EQ(t.metadata_only_points_size(), 1) << t.DebugString();
  EXPECT_EQ(t.metadata_only_points(0), 10);
}

}  // namespace
}  // namespace vigil::coordinator
