// Remote locations (type s3 / sftp) at the coordinator: a leased task, check
// or drill, carries its set's location with the address the contract
// declares (Task.location), and only that; the structured Apply checks a
// remote address as the YAML parser does; a location no worker serves is
// explained with the flag a remote location needs. In process, no gRPC.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "services/contracts/location_address.h"
#include "services/contracts/model.h"
#include "services/contracts/parse.h"
#include "services/contracts/proto_bridge.h"
#include "tests/services/coordinator/coordinator_fixture.h"
#include "tests/support/manifests.h"

namespace vigil::coordinator {
namespace {

namespace manifests = vigil::testing::manifests;
using ::testing::HasSubstr;
using ::testing::Not;

// A pinned ed25519 host key: "ssh-ed25519" as an SSH string, then 32 key
// bytes (0x01 each).
constexpr char kHostKey[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB backup@site2";

std::string S3Location(std::string_view name = "vault") {
  return manifests::Location(
      name, "office",
      "type: s3\noffsite: true\ns3:\n  endpoint: https://s3.example.net:9000\n"
      "  region: eu-west-3\n  bucket: acme-offsite\n  prefix: vigil/acme\n"
      "  addressing: virtual-host\n  caFile: /etc/vigil/ca.pem\n");
}

std::string SftpLocation() {
  return manifests::Location("site2", "office",
                             std::string("type: sftp\nsftp:\n  host: backup.site2.example\n"
                                         "  port: 2222\n  user: vigil\n  hostKey: ") +
                                 kHostKey + "\n  path: /srv/backups\n");
}

// The location as the contract declares it, as a task must carry it.
v1::Location Declared(const std::string& yaml, const std::string& name) {
  contracts::Manifest m;
  EXPECT_TRUE(contracts::ParseManifest({{"x.yaml", yaml}}, {}, &m).ok());
  v1::Location out;
  for (const auto& l : m.locations) {
    if (l.name == name) contracts::ToProto(l, &out);
  }
  return out;
}

class RemoteLocationTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    Open();
    ApplyYaml(manifests::Join(
        {S3Location(), SftpLocation(), manifests::Location(), manifests::Tenant(),
         manifests::Contract(
             "acme",
             "assets:\n" +
                 manifests::Asset("fs", {manifests::BackupSet("fs-s3", "vault", "acme/fs"),
                                         manifests::BackupSet("fs-sftp", "site2", "fs"),
                                         manifests::BackupSet("fs-nas", "nas", "acme/fs")}) +
                 manifests::kRpo24h)}));
    RegisterWorker("office", {"vault", "site2", "nas"});
  }
};

TEST_F(RemoteLocationTest, ALeasedCheckCarriesItsLocationsAddressAndNothingElse) {
  v1::RunCheckRequest req;
  req.set_tenant("acme");
  ASSERT_TRUE(c_->RunCheck(req).ok());
  std::map<std::string, v1::Task> by_set;
  for (int i = 0; i < 3; ++i) {
    auto t = c_->LeaseTask(worker_);
    ASSERT_TRUE(t.ok() && t->has_task()) << t.status();
    by_set[t->task().backup_set().name()] = t->task();
  }
  ASSERT_EQ(by_set.size(), 3u);

  const v1::Task& s3 = by_set.at("fs-s3");
  ASSERT_TRUE(s3.has_location());
  EXPECT_EQ(s3.location().name(), "vault");
  EXPECT_EQ(s3.location().kind(), "s3");
  EXPECT_EQ(s3.location().s3().endpoint(), "https://s3.example.net:9000");
  EXPECT_EQ(s3.location().s3().region(), "eu-west-3");
  EXPECT_EQ(s3.location().s3().bucket(), "acme-offsite");
  EXPECT_EQ(s3.location().s3().prefix(), "vigil/acme");
  EXPECT_TRUE(s3.location().s3().virtual_host());
  EXPECT_EQ(s3.location().s3().ca_file(), "/etc/vigil/ca.pem");
  EXPECT_FALSE(s3.location().has_sftp());
  // Exactly the declaration: no field the contract did not give (the
  // contract has no place for a credential, so neither has the task).
  EXPECT_EQ(s3.location().SerializeAsString(), Declared(S3Location(), "vault").SerializeAsString());

  const v1::Task& sftp = by_set.at("fs-sftp");
  EXPECT_EQ(sftp.location().kind(), "sftp");
  EXPECT_EQ(sftp.location().sftp().host(), "backup.site2.example");
  EXPECT_EQ(sftp.location().sftp().port(), 2222u);
  EXPECT_EQ(sftp.location().sftp().user(), "vigil");
  EXPECT_EQ(sftp.location().sftp().host_key(), kHostKey);
  EXPECT_EQ(sftp.location().sftp().path(), "/srv/backups");
  EXPECT_EQ(sftp.location().SerializeAsString(),
            Declared(SftpLocation(), "site2").SerializeAsString());

  // A filesystem location: its name, no address (kind "" = filesystem).
  const v1::Task& nas = by_set.at("fs-nas");
  EXPECT_EQ(nas.location().name(), "nas");
  EXPECT_EQ(nas.location().kind(), "");
  EXPECT_FALSE(nas.location().has_s3());
  EXPECT_FALSE(nas.location().has_sftp());

  // Only the leased copy carries it: the queued record does not.
  std::optional<v1::Task> stored = std::nullopt;
  v1::GetStatusRequest by_check;
  by_check.set_check_id(s3.check_id());
  auto status = c_->GetStatus(by_check);
  ASSERT_TRUE(status.ok()) << status.status();
  for (const auto& t : status->check_tasks()) {
    if (t.id() == s3.id()) stored = t;
  }
  ASSERT_TRUE(stored.has_value());
  EXPECT_FALSE(stored->has_location());
}

TEST_F(RemoteLocationTest, ARedeclaredAddressReachesTheNextLease) {
  ApplyYaml(manifests::Join({manifests::Location(
      "vault", "office", "type: s3\ns3:\n  endpoint: http://10.0.0.7:9000\n  bucket: moved\n")}));
  v1::RunCheckRequest req;
  req.set_tenant("acme");
  req.set_asset("fs");
  ASSERT_TRUE(c_->RunCheck(req).ok());
  for (int i = 0; i < 3; ++i) {
    auto t = c_->LeaseTask(worker_);
    ASSERT_TRUE(t.ok() && t->has_task()) << t.status();
    if (t->task().backup_set().name() != "fs-s3") continue;
    EXPECT_EQ(t->task().location().s3().endpoint(), "http://10.0.0.7:9000");
    EXPECT_EQ(t->task().location().s3().bucket(), "moved");
    EXPECT_EQ(t->task().location().s3().region(), "us-east-1");  // the default
    EXPECT_FALSE(t->task().location().s3().virtual_host());
    return;
  }
  FAIL() << "no task of fs-s3 leased";
}

// A drill of a set on an s3 location carries the address too.
class RemoteDrillTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    Open();
    ApplyYaml(manifests::Join(
        {S3Location(), manifests::Tenant(),
         manifests::Contract(
             "acme",
             "assets:\n" +
                 manifests::Asset("fs", {manifests::BackupSet("snaps", "vault", "acme/snaps",
                                                              {"layout: rsnapshot"})}) +
                 "commitments:\n  - restoreDrill: {every: 30d, rto: 8h, sampleFiles: 1}\n")}));
    RegisterWorker("office", {"vault"});
  }
};

TEST_F(RemoteDrillTest, ALeasedDrillCarriesItsLocationsAddress) {
  RunTask({{100, "daily.0"}}, {{Obs(100, "f0", "x"), Obs(100, "f1", "yy")}});
  auto queued = c_->QueueDrill("acme", "snaps", 1, 0);
  ASSERT_TRUE(queued.ok()) << queued.status();
  auto t = c_->LeaseTask(worker_);
  ASSERT_TRUE(t.ok() && t->has_task()) << t.status();
  ASSERT_EQ(t->task().kind(), v1::TASK_KIND_DRILL);
  EXPECT_EQ(t->task().location().kind(), "s3");
  EXPECT_EQ(t->task().location().s3().bucket(), "acme-offsite");
  EXPECT_EQ(t->task().location().SerializeAsString(),
            Declared(S3Location(), "vault").SerializeAsString());
}

// The structured Apply (vigil apply with records, not YAML) checks a
// remote address as the parser does.
class RemoteApplyTest : public CoordinatorFixture {
 protected:
  void SetUp() override { Open(); }
  static v1::ApplyRequest S3Request() {
    v1::ApplyRequest req = SetRequest({.location = "vault"});
    v1::Location* l = req.mutable_locations(0);
    l->set_kind("s3");
    l->mutable_s3()->set_endpoint("https://s3.example.net");
    l->mutable_s3()->set_bucket("acme-offsite");
    return req;
  }
  std::string ErrorOf(const v1::ApplyRequest& req) {
    auto r = c_->Apply(req);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    return std::string(r.status().message());
  }
};

TEST_F(RemoteApplyTest, AValidRemoteLocationIsStoredAndAWorkerHintNamesTheFlag) {
  auto r = c_->Apply(S3Request());
  ASSERT_TRUE(r.ok()) << r.status();
  // The change shows where the location is.
  EXPECT_THAT(r->changes(), ::testing::Contains(
                                "+ location vault (s3://acme-offsite at https://s3.example.net)"));
  // No worker serves it: the hint is the remote form of --location.
  ASSERT_EQ(r->warnings_size(), 1);
  EXPECT_THAT(r->warnings(0), HasSubstr("--location vault --secrets DIR (DIR/vault.s3"));
  EXPECT_THAT(r->warnings(0), Not(HasSubstr("vault=PATH")));
}

TEST_F(RemoteApplyTest, BadAddressesAreRefusedNamingTheField) {
  v1::ApplyRequest no_block = S3Request();
  no_block.mutable_locations(0)->clear_s3();
  EXPECT_THAT(ErrorOf(no_block), HasSubstr("Location 'vault': s3: missing"));

  v1::ApplyRequest bucket = S3Request();
  bucket.mutable_locations(0)->mutable_s3()->set_bucket("Acme_Offsite");
  EXPECT_THAT(ErrorOf(bucket), HasSubstr("Location 'vault': s3.bucket: "));

  v1::ApplyRequest endpoint = S3Request();
  endpoint.mutable_locations(0)->mutable_s3()->set_endpoint("https://user@s3.example.net/x");
  EXPECT_THAT(ErrorOf(endpoint), HasSubstr("Location 'vault': s3.endpoint: "));

  v1::ApplyRequest both = S3Request();
  both.mutable_locations(0)->mutable_sftp()->set_host("h");
  EXPECT_THAT(ErrorOf(both), HasSubstr("sftp: applies to type: sftp only"));

  v1::ApplyRequest fs = SetRequest();
  fs.mutable_locations(0)->mutable_s3()->set_bucket("acme-offsite");
  EXPECT_THAT(ErrorOf(fs), HasSubstr("s3: applies to type: s3 only"));

  v1::ApplyRequest ftp = SetRequest();
  ftp.mutable_locations(0)->set_kind("ftp");
  EXPECT_THAT(ErrorOf(ftp), HasSubstr("unknown location type 'ftp'"));

  v1::ApplyRequest sftp = SetRequest();
  sftp.mutable_locations(0)->set_kind("sftp");
  auto* s = sftp.mutable_locations(0)->mutable_sftp();
  s->set_host("backup.site2.example");
  s->set_user("vigil");
  s->set_path("/srv/backups");
  s->set_host_key("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB");
  EXPECT_THAT(ErrorOf(sftp), HasSubstr("sftp.hostKey: the key is not a ssh-rsa key"));
  // Nothing was stored by the refused requests.
  std::string v;
  EXPECT_TRUE(absl::IsNotFound(
      c_->catalogue().kv()->Get(storage::Space::kMeta, keys::Location("vault"), &v)));
}

TEST_F(RemoteApplyTest, TheProtoBridgeKeepsEveryFieldBothWays) {
  contracts::Manifest m;
  ASSERT_TRUE(
      contracts::ParseManifest({{"x.yaml", S3Location() + "---\n" + SftpLocation()}}, {}, &m).ok());
  ASSERT_EQ(m.locations.size(), 2u);
  for (const contracts::Location& l : m.locations) {
    v1::Location p;
    contracts::ToProto(l, &p);
    contracts::Location back = contracts::FromProto(p);
    EXPECT_EQ(back.kind, l.kind);
    EXPECT_EQ(contracts::LocationAddressText(back), contracts::LocationAddressText(l));
    EXPECT_EQ(back.s3.region, l.s3.region);
    EXPECT_EQ(back.s3.virtual_host, l.s3.virtual_host);
    EXPECT_EQ(back.s3.ca_file, l.s3.ca_file);
    EXPECT_EQ(back.sftp.host_key, l.sftp.host_key);
    EXPECT_EQ(contracts::LocationAddressProblem(back, p.has_s3(), p.has_sftp()), "");
  }
  EXPECT_EQ(contracts::LocationAddressText(m.locations[1]),
            "sftp://vigil@backup.site2.example:2222/srv/backups");
}

// A filesystem location's record is what it was before remote kinds: a
// re-apply of an unchanged manifest reports no change.
TEST_F(RemoteApplyTest, AnUnchangedFilesystemLocationIsNotAChange) {
  const std::string yaml = manifests::AcmeFsRpo24h();
  ApplyYaml(yaml);
  v1::ApplyRequest req;
  v1::ManifestFile* f = req.add_files();
  f->set_name("acme.yaml");
  f->set_text(yaml);
  auto again = c_->Apply(req);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->changed(), 0u);
  v1::Location stored;
  std::string v;
  ASSERT_TRUE(c_->catalogue().kv()->Get(storage::Space::kMeta, keys::Location("nas"), &v).ok());
  ASSERT_TRUE(stored.ParseFromString(v));
  EXPECT_EQ(stored.kind(), "");
  EXPECT_FALSE(stored.has_s3());
  EXPECT_FALSE(stored.has_sftp());
}

// What a remote location's store said reaches the coordinator with the
// check's completion: kept on the DONE task, shown on the set's status,
// beside the declarations in the copies commitment, and a finding where the
// store contradicts an `immutable: true` declaration. Too many named
// disagreements are refused, naming the field.
class StoreEvidenceTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    Open();
    ApplyYaml(manifests::Join(
        {manifests::Location("vault", "provider",
                             "type: s3\noffsite: true\nimmutable: true\ns3:\n"
                             "  endpoint: https://s3.example.net:9000\n  region: eu-west-3\n"
                             "  bucket: acme-offsite\n"),
         manifests::Tenant(),
         manifests::Contract(
             "acme",
             "assets:\n" +
                 manifests::Asset("fs", {manifests::BackupSet("fs-s3", "vault", "acme/fs")}) +
                 "commitments:\n  - rpo: 24h\n  - copies: {min: 1, offsite: 1}\n")}));
    RegisterWorker("provider", {"vault"});
  }
};

TEST_F(StoreEvidenceTest, TheStoresWordIsKeptShownAndComparedWithTheDeclaration) {
  v1::Task t = RunAndLease();
  ASSERT_EQ(t.backup_set().name(), "fs-s3");
  v1::CompleteTaskRequest done = Done(t, 0);
  done.set_set_directory("empty");
  v1::StoreEvidence* e = done.mutable_store_evidence();
  e->set_store("s3://s3.example.net:9000/acme-offsite");
  e->set_measured_ns(vigil::testing::kFakeClockStart);
  e->set_versioning("enabled");
  e->set_object_lock("off");
  for (int i = 0; i < 21; ++i) e->add_disagreeing("x");
  auto refused = c_->CompleteTask(worker_, done);
  ASSERT_TRUE(absl::IsInvalidArgument(refused.status())) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("store_evidence"));
  e->clear_disagreeing();
  auto r = c_->CompleteTask(worker_, done);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->task().store_evidence().object_lock(), "off");

  const v1::TenantStatus st = AcmeStatus();
  ASSERT_EQ(st.backup_sets_size(), 1);
  EXPECT_EQ(st.backup_sets(0).store_evidence().store(), "s3://s3.example.net:9000/acme-offsite");
  EXPECT_THAT(st.scope(),
              ::testing::Contains("location vault: declared immutable, but the store says Object "
                                  "Lock is off (s3://s3.example.net:9000/acme-offsite)"));
  std::string evidence;
  for (const auto& c : st.commitments()) {
    for (const auto& x : c.evidence()) {
      evidence += c.kind() + " " + x.name() + " [" + x.basis() + "] " + x.value() + "\n";
    }
  }
  EXPECT_THAT(evidence, HasSubstr("copies immutable vault [declared] declared immutable\n"));
  EXPECT_THAT(evidence, HasSubstr("copies immutable vault [measured] the store says: Object Lock "
                                  "off (s3://s3.example.net:9000/acme-offsite)\n"));
  EXPECT_THAT(evidence, HasSubstr("copies versioning vault [measured] the store says: versioning "
                                  "enabled (s3://s3.example.net:9000/acme-offsite)\n"));
  EXPECT_THAT(evidence, HasSubstr("copies offsite vault [declared] declared offsite; the store "
                                  "cannot tell\n"));
}

}  // namespace
}  // namespace vigil::coordinator
