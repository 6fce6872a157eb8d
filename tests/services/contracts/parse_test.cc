#include "services/contracts/parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>

namespace vigil::contracts {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kS = kSecondNs;

// Locations and the tenant the malformed contracts below may reference.
KnownNames Known() {
  KnownNames k;
  k.locations = {"nas", "vault"};
  k.tenants = {"acme"};
  return k;
}

storage::Status Parse(const std::string& yaml, Manifest* m, const KnownNames& known = Known()) {
  return ParseManifest({{"t.yaml", yaml}}, known, m);
}

// The error message of a manifest that must not parse.
std::string ErrorOf(const std::string& yaml, const KnownNames& known = Known()) {
  Manifest m;
  storage::Status s = Parse(yaml, &m, known);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  return std::string(s.message());
}

std::string ReadSource(const std::string& rel) {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/" + rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every field of a contract but positions and canonical_yaml, independently
// of the parser's emitter.
std::string Dump(const Contract& c) {
  std::ostringstream o;
  o << "tenant=" << c.tenant << " ref=" << c.reference << " from=" << c.effective_from_ns << "\n";
  for (const auto& a : c.assets) {
    o << " asset " << a.name << " desc=" << a.description << "\n";
    for (const auto& b : a.backup_sets) {
      o << "  set " << b.name << " loc=" << b.location << " path=" << b.path
        << " format=" << b.format << " layout=" << LayoutName(b.layout) << " pattern=" << b.pattern
        << " mtime=" << b.time_from_mtime << " hash=" << b.content_hash << " mutable=" << b.mutable_
        << " marker=" << b.sync_marker << "\n";
    }
  }
  for (const auto& cm : c.commitments) {
    o << " commitment " << CommitmentKindName(cm.kind) << " assets=";
    for (const auto& a : cm.assets) o << a << ",";
    o << " rpo=" << cm.rpo.max_age_ns << " ret=" << cm.retention.daily << "/" << cm.retention.weekly
      << "/" << cm.retention.monthly << "/" << cm.retention.yearly << " copies=" << cm.copies.min
      << "/" << cm.copies.offsite << "/" << cm.copies.gates_readiness
      << " integ=" << cm.integrity.reverify_within_ns << "/" << cm.integrity.budget_bytes << "/"
      << cm.integrity.sample << " drill=" << cm.drill.every_ns << "/" << cm.drill.rto_ns << "/"
      << cm.drill.sample_files << "/" << cm.drill.sample_bytes << "\n";
  }
  for (const auto& x : c.out_of_scope) o << " oos " << x.item << " | " << x.reason << "\n";
  return o.str();
}

// Parses c.canonical_yaml alone (tenant and locations known) and checks it
// gives the same contract and the same canonical text.
void ExpectRoundTrip(const Contract& c, const std::set<std::string>& locations) {
  KnownNames k;
  k.locations = locations;
  k.tenants = {c.tenant};
  Manifest again;
  storage::Status s = ParseManifest({{"canonical.yaml", c.canonical_yaml}}, k, &again);
  ASSERT_TRUE(s.ok()) << s.message() << "\n" << c.canonical_yaml;
  ASSERT_EQ(again.contracts.size(), 1u);
  EXPECT_EQ(Dump(again.contracts[0]), Dump(c)) << c.canonical_yaml;
  EXPECT_EQ(again.contracts[0].canonical_yaml, c.canonical_yaml);
  EXPECT_TRUE(again.locations.empty());
  EXPECT_TRUE(again.tenants.empty());
}

// ---------------------------------------------------------------- valid input

// readBudget: bytes and requests a location may be read for in any 24 h.
TEST(ParseManifestTest, ReadBudgetOfALocation) {
  const std::string yaml = R"(apiVersion: vigil/v1
kind: Location
name: vault
site: office
readBudget:
  bytesPerDay: 50GiB
  requestsPerDay: 100000
---
apiVersion: vigil/v1
kind: Location
name: site2
site: office
readBudget: {requestsPerDay: 2500}
---
apiVersion: vigil/v1
kind: Location
name: nas
site: office
)";
  Manifest m;
  storage::Status s = ParseManifest({{"x.yaml", yaml}}, KnownNames{}, &m);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(m.locations.size(), 3u);
  EXPECT_EQ(m.locations[0].read_bytes_per_day, 50ULL << 30);
  EXPECT_EQ(m.locations[0].read_requests_per_day, 100'000u);
  EXPECT_EQ(m.locations[1].read_bytes_per_day, 0u);
  EXPECT_EQ(m.locations[1].read_requests_per_day, 2'500u);
  EXPECT_EQ(m.locations[2].read_bytes_per_day, 0u);  // none
  EXPECT_EQ(m.locations[2].read_requests_per_day, 0u);
}

TEST(ParseManifestTest, FullManifestFieldByField) {
  const std::string yaml = R"(apiVersion: vigil/v1
kind: Location
name: nas-office
site: office
type: filesystem
offsite: false
immutable: false
ioBudget: 50MiB/s
timezone: Europe/Paris
maintenanceWindows:
  - days: [mon, tue, wed, thu, fri]
    start: "22:00"
    duration: 4h
  - days: daily
    start: 03:15
    duration: 1d12h
---
apiVersion: vigil/v1
kind: Location
name: vault
site: provider
offsite: true
immutable: True
ioBudget: 1000
---
apiVersion: vigil/v1
kind: Tenant
name: dupont-avocats
displayName: Dupont & Associés, avocats
timezone: Europe/Paris
language: fr
contact: it@dupont-avocats.fr
---
apiVersion: vigil/v1
kind: Contract
tenant: dupont-avocats
reference: CTR-2026-014
effectiveFrom: 2026-01-01
assets:
  - name: fileserver
    description: Windows file server (FS01)
    backupSets:
      - name: fileserver-nas
        location: nas-office
        path: dupont-avocats/fileserver
        format: dir
        layout: rsnapshot
        contentHash: sha256
      - name: fileserver-vault
        location: vault
        path: dupont/fs
        mutable: false
  - name: db
    backupSets:
      - name: db-nas
        location: nas-office
        path: db
        layout: dated-files
        pattern: "*.sql.gz"
        timeFromMtime: true
      - name: db-bags
        location: vault
        path: db-bags
        format: bagit
      - name: db-restic
        location: vault
        path: restic
        format: restic
        contentHash: SHA-1
commitments:
  - rpo: 24h
  - retention: {daily: 7, weekly: 4, monthly: 12, yearly: 1}
    assets: [fileserver]
  - copies: {min: 2, offsite: 1}
  - integrity: {reverifyWithin: 30d, budget: 200GiB}
    assets: [fileserver]
  - integrity: {reverifyWithin: 2w, sample: 500}
    assets: [db]
  - restoreDrill: {every: 90d, rto: 8h, sampleFiles: 100, sampleBytes: 2GiB}
outOfScope:
  - item: Accounting SaaS (Pennylane)
    reason: hosted and backed up by the vendor
)";
  Manifest m;
  storage::Status s = ParseManifest({{"dupont.yaml", yaml}}, KnownNames{}, &m);
  ASSERT_TRUE(s.ok()) << s.message();

  ASSERT_EQ(m.locations.size(), 2u);
  const Location& l = m.locations[0];
  EXPECT_EQ(l.name, "nas-office");
  EXPECT_EQ(l.site, "office");
  EXPECT_EQ(l.kind, "filesystem");
  EXPECT_FALSE(l.offsite);
  EXPECT_FALSE(l.immutable);
  EXPECT_EQ(l.io_budget_bytes_per_s, 50u * 1024 * 1024);
  EXPECT_EQ(l.timezone, "Europe/Paris");
  ASSERT_EQ(l.maintenance_windows.size(), 2u);
  EXPECT_EQ(l.maintenance_windows[0].days, 0x1f);
  EXPECT_EQ(l.maintenance_windows[0].start_minute, 22 * 60);
  EXPECT_EQ(l.maintenance_windows[0].duration_ns, 4 * kHourNs);
  EXPECT_EQ(l.maintenance_windows[1].days, 0x7f);
  EXPECT_EQ(l.maintenance_windows[1].start_minute, 3 * 60 + 15);
  EXPECT_EQ(l.maintenance_windows[1].duration_ns, 36 * kHourNs);
  EXPECT_EQ(l.pos.ToString(), "dupont.yaml:1:1");
  const Location& v = m.locations[1];
  EXPECT_EQ(v.name, "vault");
  EXPECT_TRUE(v.offsite);
  EXPECT_TRUE(v.immutable);
  EXPECT_EQ(v.io_budget_bytes_per_s, 1000u);
  EXPECT_EQ(v.timezone, "UTC");
  EXPECT_TRUE(v.maintenance_windows.empty());
  EXPECT_EQ(v.pos.ToString(), "dupont.yaml:18:1");

  ASSERT_EQ(m.tenants.size(), 1u);
  const Tenant& t = m.tenants[0];
  EXPECT_EQ(t.name, "dupont-avocats");
  EXPECT_EQ(t.display_name, "Dupont & Associés, avocats");
  EXPECT_EQ(t.timezone, "Europe/Paris");
  EXPECT_EQ(t.language, "fr");
  EXPECT_EQ(t.contact, "it@dupont-avocats.fr");
  EXPECT_EQ(t.pos.ToString(), "dupont.yaml:26:1");

  ASSERT_EQ(m.contracts.size(), 1u);
  const Contract& c = m.contracts[0];
  EXPECT_EQ(c.tenant, "dupont-avocats");
  EXPECT_EQ(c.reference, "CTR-2026-014");
  // 2026-01-01T00:00 in Paris is 2025-12-31T23:00:00Z.
  EXPECT_EQ(c.effective_from_ns, 1767222000 * kS);
  EXPECT_EQ(c.pos.ToString(), "dupont.yaml:34:1");
  ASSERT_EQ(c.assets.size(), 2u);
  const Asset& fs = c.assets[0];
  EXPECT_EQ(fs.name, "fileserver");
  EXPECT_EQ(fs.description, "Windows file server (FS01)");
  EXPECT_EQ(fs.pos.ToString(), "dupont.yaml:40:5");
  ASSERT_EQ(fs.backup_sets.size(), 2u);
  const BackupSet& b0 = fs.backup_sets[0];
  EXPECT_EQ(b0.name, "fileserver-nas");
  EXPECT_EQ(b0.location, "nas-office");
  EXPECT_EQ(b0.path, "dupont-avocats/fileserver");
  EXPECT_EQ(b0.format, "dir");
  EXPECT_EQ(b0.layout, Layout::kRsnapshot);
  EXPECT_EQ(b0.pattern, "");
  EXPECT_FALSE(b0.time_from_mtime);
  EXPECT_EQ(b0.content_hash, "sha256");
  EXPECT_FALSE(b0.mutable_);
  EXPECT_EQ(b0.pos.ToString(), "dupont.yaml:43:9");
  const BackupSet& b1 = fs.backup_sets[1];
  EXPECT_EQ(b1.format, "dir");
  EXPECT_EQ(b1.layout, Layout::kMirror);
  EXPECT_EQ(b1.content_hash, "xxh3-128");
  EXPECT_FALSE(b1.mutable_);
  const Asset& db = c.assets[1];
  ASSERT_EQ(db.backup_sets.size(), 3u);
  EXPECT_EQ(db.description, "");
  EXPECT_EQ(db.backup_sets[0].layout, Layout::kDatedFiles);
  EXPECT_EQ(db.backup_sets[0].pattern, "*.sql.gz");
  EXPECT_TRUE(db.backup_sets[0].time_from_mtime);
  EXPECT_FALSE(db.backup_sets[0].mutable_);
  EXPECT_EQ(db.backup_sets[1].format, "bagit");
  EXPECT_EQ(db.backup_sets[1].layout, Layout::kBagitBags);
  EXPECT_EQ(db.backup_sets[2].format, "restic");
  EXPECT_EQ(db.backup_sets[2].layout, Layout::kResticSnapshots);
  EXPECT_EQ(db.backup_sets[2].content_hash, "sha1");

  ASSERT_EQ(c.commitments.size(), 6u);
  const auto& cm = c.commitments;
  EXPECT_EQ(cm[0].kind, CommitmentKind::kRpo);
  EXPECT_TRUE(cm[0].assets.empty());
  EXPECT_EQ(cm[0].rpo.max_age_ns, 24 * kHourNs);
  EXPECT_EQ(cm[0].pos.ToString(), "dupont.yaml:71:5");
  EXPECT_EQ(cm[1].kind, CommitmentKind::kRetention);
  EXPECT_EQ(cm[1].assets, std::vector<std::string>{"fileserver"});
  EXPECT_EQ(cm[1].retention.daily, 7);
  EXPECT_EQ(cm[1].retention.weekly, 4);
  EXPECT_EQ(cm[1].retention.monthly, 12);
  EXPECT_EQ(cm[1].retention.yearly, 1);
  EXPECT_EQ(cm[2].kind, CommitmentKind::kCopies);
  EXPECT_EQ(cm[2].copies.min, 2);
  EXPECT_EQ(cm[2].copies.offsite, 1);
  EXPECT_EQ(cm[3].kind, CommitmentKind::kIntegrity);
  EXPECT_EQ(cm[3].integrity.reverify_within_ns, 30 * kDayNs);
  EXPECT_EQ(cm[3].integrity.budget_bytes, 200ull << 30);
  EXPECT_EQ(cm[3].integrity.sample, 0u);
  EXPECT_EQ(cm[4].integrity.reverify_within_ns, 14 * kDayNs);
  EXPECT_EQ(cm[4].integrity.budget_bytes, 0u);
  EXPECT_EQ(cm[4].integrity.sample, 500u);
  EXPECT_EQ(cm[4].assets, std::vector<std::string>{"db"});
  EXPECT_EQ(cm[5].kind, CommitmentKind::kRestoreDrill);
  EXPECT_EQ(cm[5].drill.every_ns, 90 * kDayNs);
  EXPECT_EQ(cm[5].drill.rto_ns, 8 * kHourNs);
  EXPECT_EQ(cm[5].drill.sample_files, 100u);
  EXPECT_EQ(cm[5].drill.sample_bytes, 2ull << 30);
  ASSERT_EQ(c.out_of_scope.size(), 1u);
  EXPECT_EQ(c.out_of_scope[0].item, "Accounting SaaS (Pennylane)");
  EXPECT_EQ(c.out_of_scope[0].reason, "hosted and backed up by the vendor");
  EXPECT_EQ(c.out_of_scope[0].pos.ToString(), "dupont.yaml:81:5");

  EXPECT_EQ(c.CommitmentsFor("db").size(), 4u);
  ExpectRoundTrip(c, {"nas-office", "vault"});
}

TEST(ParseManifestTest, DefaultsOfAMinimalManifest) {
  Manifest m;
  storage::Status s = Parse(R"(apiVersion: vigil/v1
kind: Tenant
name: acme
timezone: UTC
---
apiVersion: vigil/v1
kind: Contract
tenant: acme
assets:
  - name: fs
    backupSets:
      - name: fs-a
        location: nas
        path: acme/fs
  - name: db
    backupSets:
      - name: db-a
        location: nas
        path: acme/db
        layout: dated-folders
commitments:
  - restoreDrill: {every: 30d, rto: 1h}
---
)",
                            &m);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(m.tenants.size(), 1u);
  EXPECT_EQ(m.tenants[0].language, "en");
  EXPECT_EQ(m.tenants[0].display_name, "");
  const Contract& c = m.contracts.at(0);
  EXPECT_EQ(c.effective_from_ns, 0);
  EXPECT_EQ(c.reference, "");
  const BackupSet& b = c.assets.at(0).backup_sets.at(0);
  EXPECT_EQ(b.format, "dir");
  EXPECT_EQ(b.layout, Layout::kMirror);
  EXPECT_EQ(b.content_hash, "xxh3-128");
  EXPECT_TRUE(b.mutable_);  // mirror
  EXPECT_FALSE(c.assets.at(1).backup_sets.at(0).mutable_);
  EXPECT_FALSE(c.assets.at(1).backup_sets.at(0).time_from_mtime);
  EXPECT_EQ(c.commitments.at(0).drill.sample_files, 100u);
  EXPECT_EQ(c.commitments.at(0).drill.sample_bytes, 0u);
  EXPECT_TRUE(c.out_of_scope.empty());
  ExpectRoundTrip(c, {"nas"});
}

TEST(ParseManifestTest, EffectiveFromOfAKnownTenantIsUtcMidnightAndTimestampsAreExact) {
  const char* contract = R"(apiVersion: vigil/v1
kind: Contract
tenant: acme
effectiveFrom: %s
assets:
  - name: fs
    backupSets:
      - name: fs-a
        location: nas
        path: acme/fs
)";
  auto parse = [&](const char* value) {
    char buf[1024];
    std::snprintf(buf, sizeof buf, contract, value);
    Manifest m;
    storage::Status s = Parse(buf, &m);
    EXPECT_TRUE(s.ok()) << s.message();
    return s.ok() ? m.contracts.at(0).effective_from_ns : -1;
  };
  // The tenant is only known to the coordinator: its zone is not known here.
  EXPECT_EQ(parse("2026-01-01"), 1767225600 * kS);
  EXPECT_EQ(parse("2026-03-29T08:30:00+02:00"), 1774765800 * kS);
  EXPECT_EQ(parse("2026-03-29T06:30:00Z"), 1774765800 * kS);
  EXPECT_EQ(parse("\"2026-03-29T06:30:00.25Z\""), 1774765800 * kS + kS / 4);
}

TEST(ParseManifestTest, TheDevExampleParses) {
  Manifest m;
  storage::Status s =
      ParseManifest({{"dev.yaml", ReadSource("deploy/examples/dev.yaml")}}, KnownNames{}, &m);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(m.locations.size(), 2u);
  ASSERT_EQ(m.tenants.size(), 1u);
  EXPECT_EQ(m.tenants[0].name, "dupont-avocats");
  ASSERT_EQ(m.contracts.size(), 1u);
  const Contract& c = m.contracts[0];
  ASSERT_EQ(c.assets.size(), 2u);
  ASSERT_EQ(c.assets[0].backup_sets.size(), 2u);
  // `vigil dev` and its test depend on these names and paths.
  EXPECT_EQ(c.assets[0].backup_sets[0].name, "fileserver-nas");
  EXPECT_EQ(c.assets[0].backup_sets[0].path, "dupont-avocats/fileserver");
  EXPECT_EQ(c.assets[0].backup_sets[1].name, "fileserver-offsite");
  EXPECT_EQ(c.assets[0].backup_sets[1].path, "dupont-avocats/fileserver-copy");
  EXPECT_EQ(c.assets[1].backup_sets[0].name, "mail-nas");
  EXPECT_EQ(c.assets[1].backup_sets[0].path, "dupont-avocats/mail");
  EXPECT_FALSE(c.commitments.empty());
  ExpectRoundTrip(c, {"nas-office", "offsite-vault"});
}

TEST(ParseManifestTest, TheLawFirmExampleParses) {
  Manifest m;
  storage::Status s = ParseManifest(
      {{"law-firm.yaml", ReadSource("deploy/examples/law-firm.yaml")}}, KnownNames{}, &m);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(m.locations.size(), 2u);
  EXPECT_EQ(m.locations[0].io_budget_bytes_per_s, 40u << 20);
  EXPECT_EQ(m.locations[0].maintenance_windows.size(), 2u);
  EXPECT_EQ(m.locations[0].maintenance_windows[0].start_minute, 21 * 60 + 30);
  EXPECT_EQ(m.locations[0].maintenance_windows[0].duration_ns, 4 * kHourNs + 30 * kMinuteNs);
  EXPECT_EQ(m.locations[0].maintenance_windows[1].days, 1 << 5);  // sat
  EXPECT_TRUE(m.locations[1].offsite);
  EXPECT_TRUE(m.locations[1].immutable);
  EXPECT_EQ(m.locations[1].io_budget_bytes_per_s, 25'000'000u);
  ASSERT_EQ(m.tenants.size(), 1u);
  EXPECT_EQ(m.tenants[0].language, "fr");
  ASSERT_EQ(m.contracts.size(), 1u);
  const Contract& c = m.contracts[0];
  EXPECT_EQ(c.effective_from_ns, 1767222000 * kS);
  ASSERT_EQ(c.assets.size(), 3u);
  EXPECT_EQ(c.assets[0].backup_sets[0].layout, Layout::kRsnapshot);
  EXPECT_EQ(c.assets[0].backup_sets[1].layout, Layout::kDatedFolders);
  EXPECT_EQ(c.assets[1].backup_sets[0].layout, Layout::kDatedFiles);
  EXPECT_EQ(c.assets[1].backup_sets[0].pattern, "*.sql.gz");
  EXPECT_EQ(c.assets[2].backup_sets[0].layout, Layout::kDatedFolders);
  EXPECT_EQ(c.commitments.size(), 9u);
  EXPECT_EQ(c.out_of_scope.size(), 4u);
  EXPECT_EQ(c.CommitmentsFor("accounting-db").size(), 5u);
  ExpectRoundTrip(c, {"nas-martin-office", "vault-provider-paris"});
}

TEST(ParseManifestTest, CanonicalFormHasEveryDefaultAndNoComments) {
  Manifest m;
  ASSERT_TRUE(Parse(R"(apiVersion: vigil/v1
kind: Contract
tenant: acme   # a comment
assets:
  - name: fs
    backupSets:
      - name: fs-a
        location: nas
        path: acme/fs
commitments:
  - rpo: 36h
)",
                    &m)
                  .ok());
  const std::string& y = m.contracts.at(0).canonical_yaml;
  EXPECT_THAT(y, HasSubstr("format: \"dir\""));
  EXPECT_THAT(y, HasSubstr("layout: \"mirror\""));
  EXPECT_THAT(y, HasSubstr("contentHash: \"xxh3-128\""));
  EXPECT_THAT(y, HasSubstr("mutable: true"));
  EXPECT_THAT(y, HasSubstr("rpo: \"1d12h\""));
  EXPECT_THAT(y, Not(HasSubstr("#")));
  // Key order is fixed, whatever the order in the input.
  Manifest m2;
  ASSERT_TRUE(Parse(R"(commitments:
  - rpo: 1d12h
assets:
  - backupSets:
      - path: acme/fs
        mutable: true
        location: nas
        name: fs-a
    name: fs
tenant: acme
kind: Contract
apiVersion: vigil/v1
)",
                    &m2)
                  .ok());
  EXPECT_EQ(m2.contracts.at(0).canonical_yaml, y);
}

TEST(ParseManifestTest, SeveralFilesAndKnownNames) {
  KnownNames k;
  k.locations = {"nas"};  // "nas" is redeclared below: an update, fine
  Manifest m;
  storage::Status s = ParseManifest({{"loc.yaml", R"(apiVersion: vigil/v1
kind: Location
name: nas
site: s
)"},
                                     {"t.yaml", R"(apiVersion: vigil/v1
kind: Contract
tenant: acme
assets:
  - name: fs
    backupSets:
      - name: fs-a
        location: nas
        path: acme/fs
---
apiVersion: vigil/v1
kind: Tenant
name: acme
timezone: America/New_York
)"}},
                                    k, &m);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(m.locations.size(), 1u);
  EXPECT_EQ(m.tenants.size(), 1u);
  EXPECT_EQ(m.contracts.size(), 1u);
}

TEST(ParseManifestTest, AllowUnknownReferences) {
  const std::string yaml = R"(apiVersion: vigil/v1
kind: Contract
tenant: elsewhere
assets:
  - name: fs
    backupSets:
      - name: fs-a
        location: somewhere
        path: x
)";
  KnownNames k;
  Manifest m;
  EXPECT_FALSE(Parse(yaml, &m, k).ok());
  k.allow_unknown_references = true;
  EXPECT_TRUE(Parse(yaml, &m, k).ok());
}

TEST(ParseManifestTest, TimeZonesAndDurations) {
  EXPECT_TRUE(IsKnownTimeZone("Europe/Paris"));
  EXPECT_TRUE(IsKnownTimeZone("UTC"));
  EXPECT_TRUE(IsKnownTimeZone("America/Argentina/Buenos_Aires"));
  EXPECT_FALSE(IsKnownTimeZone("Europe/Pariss"));
  EXPECT_FALSE(IsKnownTimeZone(""));
  EXPECT_FALSE(IsKnownTimeZone("../../etc/passwd"));
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(90 * kS), "1m30s");
  EXPECT_EQ(FormatDuration(36 * kHourNs), "1d12h");
  EXPECT_EQ(FormatDuration(30 * kDayNs), "30d");
}

// -------------------------------------------------------------- invalid input

// The start every malformed contract below shares (lines 1-9):
//   1 apiVersion: vigil/v1
//   2 kind: Contract
//   3 tenant: acme
//   4 assets:
//   5   - name: fs
//   6     backupSets:
//   7       - name: fs-a
//   8         location: nas
//   9         path: acme/fs
const std::string kHead = R"(apiVersion: vigil/v1
kind: Contract
tenant: acme
assets:
  - name: fs
    backupSets:
      - name: fs-a
        location: nas
        path: acme/fs
)";

// syncMarker (mirror only) and copies.gatesReadiness: parsed, and kept by
// the canonical form; absent, the canonical form is as before (the stored
// contracts' hashes do not change).
TEST(ParseManifestTest, SyncMarkerAndGatesReadiness) {
  Manifest m;
  ASSERT_TRUE(Parse(kHead +
                        "        syncMarker: logs/last-sync\ncommitments:\n  - copies: {min: 1, "
                        "gatesReadiness: true}\n",
                    &m)
                  .ok());
  const Contract& c = m.contracts.at(0);
  EXPECT_EQ(c.assets[0].backup_sets[0].sync_marker, "logs/last-sync");
  EXPECT_TRUE(c.commitments[0].copies.gates_readiness);
  EXPECT_NE(c.canonical_yaml.find("syncMarker:"), std::string::npos) << c.canonical_yaml;
  EXPECT_NE(c.canonical_yaml.find("gatesReadiness: true"), std::string::npos);
  Manifest again;
  ASSERT_TRUE(Parse(c.canonical_yaml, &again).ok()) << c.canonical_yaml;
  EXPECT_EQ(Dump(again.contracts.at(0)), Dump(c));
  Manifest plain;
  ASSERT_TRUE(Parse(kHead + "commitments:\n  - copies: {min: 1}\n", &plain).ok());
  EXPECT_EQ(plain.contracts.at(0).canonical_yaml.find("syncMarker"), std::string::npos);
  EXPECT_EQ(plain.contracts.at(0).canonical_yaml.find("gatesReadiness"), std::string::npos);
}

// The `ransomware:` block: every threshold overridable, the others keep
// their defaults; kept by the canonical form; absent, the canonical form is
// as before (the stored contracts' hashes do not change).
TEST(ParseManifestTest, RansomwareThresholds) {
  Manifest m;
  ASSERT_TRUE(Parse(kHead + R"(ransomware:
  renames: 500
  deletionsPerExtension: {count: 300, fraction: 0.75}
  randomFiles: {suspicious: 20, encrypted: 400, fraction: 0.1}
  randomEntropyBits: 7.75
  noteDirectories: 25
  changeRate: {sigma: 4.5}
)",
                    &m)
                  .ok());
  const Contract& c = m.contracts.at(0);
  RansomwareSpec want;
  want.renames = 500;
  want.deletions_count = 300;
  want.deletions_fraction = 0.75;
  want.random_files_suspicious = 20;
  want.random_files_encrypted = 400;
  want.random_files_fraction = 0.1;
  want.random_entropy_bits = 7.75;
  want.note_directories = 25;
  want.change_rate_sigma = 4.5;
  EXPECT_TRUE(c.ransomware == want);
  EXPECT_EQ(c.ransomware.extension_changes, 50u);  // default kept
  EXPECT_NE(c.canonical_yaml.find("randomEntropyBits: 7.75"), std::string::npos)
      << c.canonical_yaml;
  Manifest again;
  ASSERT_TRUE(Parse(c.canonical_yaml, &again).ok()) << c.canonical_yaml;
  EXPECT_TRUE(again.contracts.at(0).ransomware == want);
  EXPECT_EQ(again.contracts.at(0).canonical_yaml, c.canonical_yaml);

  Manifest off;
  ASSERT_TRUE(Parse(kHead + "ransomware: {enabled: false}\n", &off).ok());
  EXPECT_FALSE(off.contracts.at(0).ransomware.enabled);
  Manifest plain;
  ASSERT_TRUE(Parse(kHead, &plain).ok());
  EXPECT_TRUE(plain.contracts.at(0).ransomware == RansomwareSpec{});
  EXPECT_EQ(plain.contracts.at(0).canonical_yaml.find("ransomware"), std::string::npos);
}

// A Location document's head, then an s3 / sftp location that parses
// (each field on its own line: 5 type, 6 the block, 7.. its fields).
const std::string kLoc = "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: s\n";
const std::string kS3 = kLoc + "type: s3\ns3:\n  endpoint: https://h.example\n  bucket: bkt\n";
// "ssh-ed25519" as an SSH string, then a 32-byte key (0x01 each), base64.
constexpr char kEd25519Blob[] =
    "AAAAC3NzaC1lZDI1NTE5AAAAIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB";
const std::string kSftpHead = kLoc + "type: sftp\nsftp:\n";
const std::string kSftpTail = "  user: vigil\n  hostKey: ssh-ed25519 " + std::string(kEd25519Blob) +
                              "\n  path: /srv/backups\n";
const std::string kSftp = kSftpHead + "  host: h.example\n" + kSftpTail;
std::string SftpWithPath(const std::string& path) {
  return kSftpHead + "  host: h.example\n  user: vigil\n  hostKey: ssh-ed25519 " + kEd25519Blob +
         "\n  path: " + path + "\n";
}
std::string SftpWithKey(const std::string& key) {
  return kSftpHead + "  host: h.example\n  user: vigil\n  hostKey: " + key +
         "\n  path: /srv/backups\n";
}

TEST(ParseLocationsTest, S3AndSftpLocationsFieldByField) {
  Manifest m;
  ASSERT_TRUE(Parse(R"(apiVersion: vigil/v1
kind: Location
name: offsite
site: cloud
type: s3
offsite: true
immutable: true
s3:
  endpoint: https://s3.eu-west-3.example.com:8443
  region: eu-west-3
  bucket: acme-backups.eu
  prefix: restic/acme
  addressing: virtual-host
  caFile: /etc/vigil/s3-ca.pem
---
apiVersion: vigil/v1
kind: Location
name: site2
site: lyon
type: sftp
sftp:
  host: 192.0.2.10
  port: 2222
  user: vigil
  hostKey: ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI= root@site2
  path: /srv/backups/acme
)",
                    &m)
                  .ok());
  ASSERT_EQ(m.locations.size(), 2u);
  const Location& s3 = m.locations[0];
  EXPECT_EQ(s3.kind, "s3");
  EXPECT_TRUE(s3.offsite);
  EXPECT_TRUE(s3.immutable);
  EXPECT_EQ(s3.s3.endpoint, "https://s3.eu-west-3.example.com:8443");
  EXPECT_EQ(s3.s3.region, "eu-west-3");
  EXPECT_EQ(s3.s3.bucket, "acme-backups.eu");
  EXPECT_EQ(s3.s3.prefix, "restic/acme");
  EXPECT_TRUE(s3.s3.virtual_host);
  EXPECT_EQ(s3.s3.ca_file, "/etc/vigil/s3-ca.pem");
  const Location& sftp = m.locations[1];
  EXPECT_EQ(sftp.kind, "sftp");
  EXPECT_EQ(sftp.sftp.host, "192.0.2.10");
  EXPECT_EQ(sftp.sftp.port, 2222);
  EXPECT_EQ(sftp.sftp.user, "vigil");
  // The whole line, its comment included (the store ignores the comment).
  EXPECT_THAT(sftp.sftp.host_key, ::testing::StartsWith("ecdsa-sha2-nistp256 AAAAE2VjZHNh"));
  EXPECT_THAT(sftp.sftp.host_key, ::testing::EndsWith("gICAgI= root@site2"));
  EXPECT_EQ(sftp.sftp.path, "/srv/backups/acme");
}

// docs/contracts.md's example of an offsite bucket and an SFTP site parses.
TEST(ParseLocationsTest, TheDocsExamplesParse) {
  const std::string doc = ReadSource("docs/contracts.md");
  size_t at = doc.find("### Examples");
  ASSERT_NE(at, std::string::npos);
  size_t begin = doc.find("```yaml\n", at);
  ASSERT_NE(begin, std::string::npos);
  begin += 8;
  const std::string yaml = doc.substr(begin, doc.find("```", begin) - begin);
  Manifest m;
  storage::Status s = Parse(yaml, &m);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(m.locations.size(), 2u);
  EXPECT_EQ(m.locations[0].kind, "s3");
  EXPECT_EQ(m.locations[1].kind, "sftp");
}

TEST(ParseLocationsTest, RemoteDefaultsAndIPv6) {
  Manifest m;
  ASSERT_TRUE(Parse(kLoc + "type: s3\ns3:\n  endpoint: http://[::1]:9000\n  bucket: bkt\n---\n" +
                        "apiVersion: vigil/v1\nkind: Location\nname: s2\nsite: s\ntype: sftp\n" +
                        "sftp:\n  host: \"2001:db8::7\"\n  user: u\n  hostKey: ssh-ed25519 " +
                        kEd25519Blob + "\n  path: /\n---\n" + kLoc.substr(0, kLoc.find("nas")) +
                        "fs\nsite: s\ntype: filesystem\n",
                    &m)
                  .ok());
  ASSERT_EQ(m.locations.size(), 3u);
  EXPECT_EQ(m.locations[0].s3.region, "us-east-1");
  EXPECT_EQ(m.locations[0].s3.prefix, "");
  EXPECT_FALSE(m.locations[0].s3.virtual_host);
  EXPECT_EQ(m.locations[0].s3.ca_file, "");
  EXPECT_EQ(m.locations[1].sftp.port, 22);
  EXPECT_EQ(m.locations[1].sftp.host, "2001:db8::7");
  EXPECT_EQ(m.locations[2].kind, "filesystem");
}

struct Case {
  const char* name;
  std::string yaml;
  const char* where;   // "t.yaml:L:C: <field path>: "
  const char* phrase;  // what is wrong
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class MalformedTest : public ::testing::TestWithParam<Case> {};

TEST_P(MalformedTest, NamesFileLineColumnFieldAndProblem) {
  const Case& c = GetParam();
  std::string msg = ErrorOf(c.yaml);
  EXPECT_THAT(msg, HasSubstr(c.where)) << c.yaml;
  EXPECT_THAT(msg, HasSubstr(c.phrase)) << c.yaml;
  // The phrase is on the line of the position.
  size_t at = msg.find(c.where);
  if (at != std::string::npos) {
    std::string line = msg.substr(at, msg.find('\n', at) - at);
    EXPECT_THAT(line, HasSubstr(c.phrase));
  }
}

const Case kCases[] = {
    {"StringForInt", kHead + "commitments:\n  - copies: {min: two}\n",
     "t.yaml:11:19: Contract(acme).commitments[0].copies.min: ",
     "expected an integer from 1 to 1000, got 'two'"},
    {"QuotedInt", kHead + "commitments:\n  - retention: {daily: \"7\"}\n",
     "t.yaml:11:24: Contract(acme).commitments[0].retention.daily: ", "got the quoted string '7'"},
    {"ListForMap", kHead + "commitments:\n  - retention: [7, 4]\n",
     "t.yaml:11:16: Contract(acme).commitments[0].retention: ", "expected a map, got a list"},
    {"MapForString", kHead + "reference: {a: 1}\n",
     "t.yaml:10:12: Contract(acme).reference: ", "expected a string, got a map"},
    {"StringForList", kHead + "outOfScope: laptops\n",
     "t.yaml:10:13: Contract(acme).outOfScope: ", "expected a list, got 'laptops'"},
    {"FloatForInt", kHead + "commitments:\n  - retention: {daily: 7.5}\n",
     "t.yaml:11:24: Contract(acme).commitments[0].retention.daily: ",
     "got '7.5' (not a whole number)"},
    {"NegativeRetention", kHead + "commitments:\n  - retention: {daily: -1, weekly: 4}\n",
     "t.yaml:11:24: Contract(acme).commitments[0].retention.daily: ",
     "expected an integer from 0 to 100000, got -1"},
    {"RetentionKeepsNothing", kHead + "commitments:\n  - retention: {daily: 0}\n",
     "t.yaml:11:16: Contract(acme).commitments[0].retention: ", "keeps nothing"},
    {"BadBool", kHead + "        mutable: yes please\n",
     "t.yaml:10:18: Contract(acme).assets[0].backupSets[0].mutable: ",
     "expected true or false, got 'yes please'"},
    {"UnknownField", kHead + "        compression: zstd\n",
     "t.yaml:10:9: Contract(acme).assets[0].backupSets[0].compression: ",
     "unknown field 'compression'; expected one of: name, location, path, format, layout, "
     "pattern, timeFromMtime, contentHash, mutable, syncMarker"},
    {"UnknownTopLevelField", kHead + "owner: bob\n", "t.yaml:10:1: Contract(acme).owner: ",
     "unknown field 'owner'; expected one of: apiVersion, kind, tenant"},
    {"MissingPath",
     "apiVersion: vigil/v1\nkind: Contract\ntenant: acme\nassets:\n  - name: fs\n    backupSets:\n"
     "      - name: fs-a\n        location: nas\n",
     "t.yaml:7:9: Contract(acme).assets[0].backupSets[0].path: ", "missing required field"},
    {"EmptyAssets", "apiVersion: vigil/v1\nkind: Contract\ntenant: acme\nassets: []\n",
     "t.yaml:4:9: Contract(acme).assets: ", "must not be empty"},
    {"BadDuration", kHead + "commitments:\n  - rpo: 1 day\n",
     "t.yaml:11:10: Contract(acme).commitments[0].rpo: ",
     "expected a duration like 90s, 15m, 12h, 30d, 2w or 1d12h, got '1 day'"},
    // Past int64 nanoseconds, and past the 100 years of kMaxDurationNs:
    // the range, not "expected a duration like 90s".
    {"DurationPastInt64", kHead + "commitments:\n  - rpo: 99999999999999d\n",
     "t.yaml:11:10: Contract(acme).commitments[0].rpo: ",
     "duration out of range: must be at most 36500d (100 years), got '99999999999999d'"},
    {"DurationPastAHundredYears",
     kHead + "commitments:\n  - restoreDrill: {every: 36500d1s, rto: 8h}\n",
     "t.yaml:11:27: Contract(acme).commitments[0].restoreDrill.every: ",
     "duration out of range: must be at most 36500d (100 years), got '36500d1s'"},
    {"ZeroDuration", kHead + "commitments:\n  - restoreDrill: {every: 0s, rto: 8h}\n",
     "t.yaml:11:27: Contract(acme).commitments[0].restoreDrill.every: ", "must be longer than 0"},
    {"MissingRto", kHead + "commitments:\n  - restoreDrill: {every: 90d}\n",
     "t.yaml:11:19: Contract(acme).commitments[0].restoreDrill.rto: ", "missing required field"},
    {"UnknownLocation",
     "apiVersion: vigil/v1\nkind: Contract\ntenant: acme\nassets:\n  - name: fs\n    backupSets:\n"
     "      - name: fs-a\n        location: nas-x\n        path: acme/fs\n",
     "t.yaml:8:19: Contract(acme).assets[0].backupSets[0].location: ", "unknown location 'nas-x'"},
    {"UnknownTenant",
     "apiVersion: vigil/v1\nkind: Contract\ntenant: nobody\nassets:\n  - name: fs\n"
     "    backupSets:\n      - name: fs-a\n        location: nas\n        path: acme/fs\n",
     "t.yaml:3:9: Contract(nobody).tenant: ", "unknown tenant 'nobody'"},
    {"UnknownAssetInCommitment", kHead + "commitments:\n  - rpo: 24h\n    assets: [fs, db]\n",
     "t.yaml:12:18: Contract(acme).commitments[0].assets[1]: ",
     "unknown asset 'db'; expected an asset of this contract (fs)"},
    {"DuplicateAsset",
     kHead + "  - name: fs\n    backupSets:\n      - name: fs-b\n        location: nas\n"
             "        path: acme/fs2\n",
     "t.yaml:10:5: Contract(acme).assets[1].name: ", "duplicate asset 'fs' (first at t.yaml:5:5)"},
    {"DuplicateBackupSet",
     kHead + "  - name: db\n    backupSets:\n      - name: fs-a\n        location: nas\n"
             "        path: acme/db\n",
     "t.yaml:12:15: Contract(acme).assets[1].backupSets[0].name: ",
     "duplicate backup set 'fs-a' (first at t.yaml:7:15)"},
    {"DuplicateCommitmentKind", kHead + "commitments:\n  - rpo: 24h\n  - rpo: 12h\n",
     "t.yaml:12:5: Contract(acme).commitments[1].rpo: ",
     "a second rpo commitment for asset 'fs' (the first is at t.yaml:11:5)"},
    {"TwoKindsInOneCommitment", kHead + "commitments:\n  - rpo: 24h\n    copies: {min: 1}\n",
     "t.yaml:12:5: Contract(acme).commitments[0].copies: ",
     "a commitment has exactly one kind, found both 'rpo' and 'copies'"},
    {"NoKindInCommitment", kHead + "commitments:\n  - assets: [fs]\n",
     "t.yaml:11:5: Contract(acme).commitments[0]: ", "missing the commitment kind"},
    {"OffsiteMoreThanMin", kHead + "commitments:\n  - copies: {min: 1, offsite: 2}\n",
     "t.yaml:11:31: Contract(acme).commitments[0].copies.offsite: ",
     "expected at most min (1), got 2"},
    {"MoreCopiesThanBackupSets", kHead + "commitments:\n  - copies: {min: 2}\n",
     "t.yaml:11:19: Contract(acme).commitments[0].copies.min: ",
     "2 copies but asset 'fs' has only 1 backup set(s)"},
    {"IntegrityBudgetAndSample",
     kHead + "commitments:\n  - integrity: {reverifyWithin: 30d, budget: 1GiB, sample: 10}\n",
     "t.yaml:11:52: Contract(acme).commitments[0].integrity.sample: ",
     "budget and sample are exclusive"},
    {"BadBudgetUnit", kHead + "commitments:\n  - integrity: {reverifyWithin: 30d, budget: 1GO}\n",
     "t.yaml:11:46: Contract(acme).commitments[0].integrity.budget: ",
     "expected a size like 200GiB"},
    {"PathWithDotDot",
     "apiVersion: vigil/v1\nkind: Contract\ntenant: acme\nassets:\n  - name: fs\n    backupSets:\n"
     "      - name: fs-a\n        location: nas\n        path: acme/../../etc\n",
     "t.yaml:9:15: Contract(acme).assets[0].backupSets[0].path: ",
     "invalid path 'acme/../../etc'; expected a relative path with no '..'"},
    {"AbsolutePath",
     "apiVersion: vigil/v1\nkind: Contract\ntenant: acme\nassets:\n  - name: fs\n    backupSets:\n"
     "      - name: fs-a\n        location: nas\n        path: /srv/acme\n",
     "t.yaml:9:15: Contract(acme).assets[0].backupSets[0].path: ",
     "absolute path '/srv/acme'; expected a path relative to the location's root"},
    {"LayoutFormatMismatch", kHead + "        layout: restic-snapshots\n",
     "t.yaml:10:17: Contract(acme).assets[0].backupSets[0].layout: ",
     "layout 'restic-snapshots' needs format restic, but format is 'dir'"},
    {"BagitWithRsnapshot", kHead + "        format: bagit\n        layout: rsnapshot\n",
     "t.yaml:11:17: Contract(acme).assets[0].backupSets[0].layout: ",
     "layout 'rsnapshot' needs format dir or sumfile, but format is 'bagit'"},
    {"UnknownFormat", kHead + "        format: zip\n",
     "t.yaml:10:17: Contract(acme).assets[0].backupSets[0].format: ",
     "unknown format 'zip'; expected dir, bagit, sumfile or restic"},
    {"PatternOnMirror", kHead + "        pattern: \"*.gz\"\n",
     "t.yaml:10:9: Contract(acme).assets[0].backupSets[0].pattern: ",
     "only allowed with layout dated-files (layout is 'mirror')"},
    {"TimeFromMtimeOnRsnapshot", kHead + "        layout: rsnapshot\n        timeFromMtime: true\n",
     "t.yaml:11:9: Contract(acme).assets[0].backupSets[0].timeFromMtime: ",
     "only allowed with layouts dated-folders and dated-files"},
    {"MutableRsnapshot", kHead + "        layout: rsnapshot\n        mutable: true\n",
     "t.yaml:11:18: Contract(acme).assets[0].backupSets[0].mutable: ",
     "mutable: true is only allowed with layout mirror"},
    {"SyncMarkerOnRsnapshot", kHead + "        layout: rsnapshot\n        syncMarker: log\n",
     "t.yaml:11:9: Contract(acme).assets[0].backupSets[0].syncMarker: ",
     "only allowed with layout mirror (layout is 'rsnapshot')"},
    {"SyncMarkerOutsideTheSet", kHead + "        syncMarker: ../sync.log\n",
     "t.yaml:10:21: Contract(acme).assets[0].backupSets[0].syncMarker: ",
     "invalid path '../sync.log'"},
    {"GatesReadinessNotABool",
     kHead + "commitments:\n  - copies: {min: 1, gatesReadiness: maybe}\n",
     "t.yaml:11:38: Contract(acme).commitments[0].copies.gatesReadiness: ",
     "expected true or false, got 'maybe'"},
    {"RansomwareUnknownKey", kHead + "ransomware:\n  renamez: 10\n",
     "t.yaml:11:3: Contract(acme).ransomware.renamez: ",
     "unknown field 'renamez'; expected one of: enabled, renames, extensionChanges"},
    {"RansomwareCountNotANumber", kHead + "ransomware:\n  renames: many\n",
     "t.yaml:11:12: Contract(acme).ransomware.renames: ",
     "expected an integer from 1 to 1000000000, got 'many'"},
    {"RansomwareFractionOutOfRange",
     kHead + "ransomware:\n  deletionsPerExtension: {count: 10, fraction: 1.5}\n",
     "t.yaml:11:48: Contract(acme).ransomware.deletionsPerExtension.fraction: ",
     "expected a number from 0 to 1, got 1.5"},
    {"RansomwareEntropyNotANumber", kHead + "ransomware:\n  randomEntropyBits: 7,5\n",
     "t.yaml:11:22: Contract(acme).ransomware.randomEntropyBits: ",
     "expected a number from 0 to 8, got '7,5'"},
    {"RansomwareEntropyOrder",
     kHead + "ransomware:\n  structuredEntropyBits: 7.8\n  randomEntropyBits: 7.2\n",
     "t.yaml:12:22: Contract(acme).ransomware.randomEntropyBits: ",
     "must be at least structuredEntropyBits (7.8), got 7.2"},
    {"RansomwareNotAMap", kHead + "ransomware: yes\n",
     "t.yaml:10:13: Contract(acme).ransomware: ", "expected a map"},
    {"UnknownHash", kHead + "        contentHash: crc32\n",
     "t.yaml:10:22: Contract(acme).assets[0].backupSets[0].contentHash: ",
     "unknown hash algorithm 'crc32'"},
    {"BadAssetName",
     "apiVersion: vigil/v1\nkind: Contract\ntenant: acme\nassets:\n  - name: file server\n"
     "    backupSets:\n      - name: fs-a\n        location: nas\n        path: acme/fs\n",
     "t.yaml:5:11: Contract(acme).assets[0].name: ",
     "invalid name 'file server'; expected 1 to 128"},
    {"BadEffectiveFrom", kHead + "effectiveFrom: 2026-02-30\n",
     "t.yaml:10:16: Contract(acme).effectiveFrom: ", "expected a date like 2026-01-01"},
    {"EmptyOutOfScopeReason", kHead + "outOfScope:\n  - item: laptops\n    reason: \"\"\n",
     "t.yaml:12:13: Contract(acme).outOfScope[0].reason: ", "must not be empty"},
    {"DuplicateKey", kHead + "tenant: acme\n",
     "t.yaml:10:1: Contract(acme).tenant: ", "duplicate key (first at line 3)"},
    // YAML syntax errors: positions are yaml-cpp's.
    {"UnclosedBracket", kHead + "commitments:\n  - rpo: 24h\n    assets: [fs\n",
     "t.yaml:13:1: yaml: ", "syntax error: end of sequence flow not found"},
    {"BadIndentation",
     "apiVersion: vigil/v1\nkind: Contract\ntenant: acme\nassets:\n  - name: fs\n"
     "     backupSets: []\n",
     "t.yaml:6:16: yaml: ", "syntax error: "},
    {"Tab", "apiVersion: vigil/v1\nkind: Contract\ntenant: acme\nassets:\n\t- name: fs\n",
     "t.yaml:5:2: yaml: ", "syntax error: illegal block entry"},
    // A stray ',' made yaml-cpp 0.7's LoadAll() loop forever (its issue #1040).
    {"StrayComma", "{a: 1},\n", "t.yaml:1:7: yaml: ", "syntax error: unexpected token here"},
    {"StrayCommaAfterAContract", kHead + "---\n,\n",
     "t.yaml:11:1: yaml: ", "syntax error: unexpected token here"},
    // Locations and tenants.
    {"BadTimeZone", "apiVersion: vigil/v1\nkind: Tenant\nname: acme\ntimezone: Europe/Pariss\n",
     "t.yaml:4:11: Tenant(acme).timezone: ",
     "unknown time zone 'Europe/Pariss'; expected an IANA zone"},
    {"TenantWithoutTimeZone", "apiVersion: vigil/v1\nkind: Tenant\nname: acme\n",
     "t.yaml:1:1: Tenant(acme).timezone: ", "missing required field"},
    {"BadLanguage", "apiVersion: vigil/v1\nkind: Tenant\nname: acme\ntimezone: UTC\nlanguage: de\n",
     "t.yaml:5:11: Tenant(acme).language: ", "unknown language 'de'; expected en or fr"},
    {"WindowStart25",
     "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: s\nmaintenanceWindows:\n"
     "  - days: daily\n    start: \"25:00\"\n    duration: 1h\n",
     "t.yaml:7:12: Location(nas).maintenanceWindows[0].start: ",
     "expected a local time HH:MM from 00:00 to 23:59, got '25:00'"},
    {"WindowTooLong",
     "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: s\nmaintenanceWindows:\n"
     "  - days: [mon]\n    start: \"01:00\"\n    duration: 8d\n",
     "t.yaml:8:15: Location(nas).maintenanceWindows[0].duration: ", "must be at most 7d"},
    {"WindowBadDay",
     "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: s\nmaintenanceWindows:\n"
     "  - days: [mon, funday]\n    start: \"01:00\"\n    duration: 1h\n",
     "t.yaml:6:17: Location(nas).maintenanceWindows[0].days[1]: ",
     "expected a day name (mon, tue, wed, thu, fri, sat, sun), got 'funday'"},
    {"BadIoBudget", "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: s\nioBudget: 50MiB\n",
     "t.yaml:5:11: Location(nas).ioBudget: ", "(missing '/s' after the unit)"},
    // readBudget: a cost per day, not a speed.
    {"ReadBudgetPerSecond",
     "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: s\nreadBudget:\n"
     "  bytesPerDay: 50GiB/s\n",
     "t.yaml:6:16: Location(nas).readBudget.bytesPerDay: ", "expected a size like 200GiB"},
    {"ReadBudgetZeroBytes",
     "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: s\nreadBudget:\n"
     "  bytesPerDay: 0\n",
     "t.yaml:6:16: Location(nas).readBudget.bytesPerDay: ", "must be more than 0"},
    {"ReadBudgetZeroRequests",
     "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: s\nreadBudget:\n"
     "  requestsPerDay: 0\n",
     "t.yaml:6:19: Location(nas).readBudget.requestsPerDay: ", "expected an integer >= 1, got 0"},
    {"ReadBudgetEmpty",
     "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: s\nreadBudget: {}\n",
     "t.yaml:5:13: Location(nas).readBudget: ", "expected bytesPerDay, requestsPerDay or both"},
    {"ReadBudgetUnknownKey",
     "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: s\nreadBudget:\n"
     "  bytesPerMonth: 1TiB\n",
     "t.yaml:6:3: Location(nas).readBudget.bytesPerMonth: ", "unknown"},
    {"BadLocationName", "apiVersion: vigil/v1\nkind: Location\nname: nas/office\nsite: s\n",
     "t.yaml:3:7: Location(nas/office).name: ", "invalid name 'nas/office'"},
    {"DotDotLocationName", "apiVersion: vigil/v1\nkind: Location\nname: ..\nsite: s\n",
     "t.yaml:3:7: Location(..).name: ", "invalid name '..'; expected 1 to 128 of"},
    {"LocationWithoutSite", "apiVersion: vigil/v1\nkind: Location\nname: nas\n",
     "t.yaml:1:1: Location(nas).site: ", "missing required field"},
    {"BadLocationType", "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: s\ntype: ftp\n",
     "t.yaml:5:7: Location(nas).type: ",
     "unknown location type 'ftp'; expected filesystem, s3 or sftp"},
    // Remote locations (type s3 / sftp): the block, then each field.
    {"S3WithoutItsBlock", kLoc + "type: s3\n", "t.yaml:1:1: Location(nas).s3: ",
     "missing required field: a location of type s3 needs its s3 block"},
    {"S3BlockOnAFilesystemLocation", kLoc + "s3:\n  bucket: b\n", "t.yaml:5:1: Location(nas).s3: ",
     "applies to type: s3 only (this location's type is filesystem)"},
    {"SftpBlockOnAnS3Location", kS3 + "sftp:\n  host: h\n",
     "t.yaml:9:1: Location(nas).sftp: ", "applies to type: sftp only (this location's type is s3)"},
    {"S3BlockNotAMap", kLoc + "type: s3\ns3: bucket\n",
     "t.yaml:6:5: Location(nas).s3: ", "expected a map, got 'bucket'"},
    {"S3UnknownField", kS3 + "  secretKey: x\n", "t.yaml:9:3: Location(nas).s3.secretKey: ",
     "unknown field 'secretKey'; expected one of: endpoint, region, bucket, prefix, addressing, "
     "caFile"},
    {"S3WithoutEndpoint", kLoc + "type: s3\ns3:\n  bucket: bkt\n",
     "t.yaml:7:3: Location(nas).s3.endpoint: ", "missing required field"},
    {"S3EndpointWithAPath",
     kLoc + "type: s3\ns3:\n  endpoint: https://h.example/b\n  bucket: bkt\n",
     "t.yaml:7:13: Location(nas).s3.endpoint: ",
     "expected http://HOST[:PORT] or https://HOST[:PORT] (no path, query or user), got "
     "'https://h.example/b'"},
    {"S3EndpointWithAUser",
     kLoc + "type: s3\ns3:\n  endpoint: https://me@h.example\n  bucket: bkt\n",
     "t.yaml:7:13: Location(nas).s3.endpoint: ", "(no path, query or user)"},
    {"S3EndpointNotHttp", kLoc + "type: s3\ns3:\n  endpoint: s3://bkt\n  bucket: bkt\n",
     "t.yaml:7:13: Location(nas).s3.endpoint: ", "got 's3://bkt'"},
    {"S3EndpointBadPort",
     kLoc + "type: s3\ns3:\n  endpoint: http://h.example:70000\n  bucket: bkt\n",
     "t.yaml:7:13: Location(nas).s3.endpoint: ", "got 'http://h.example:70000'"},
    {"S3BucketWithCapitals",
     kLoc + "type: s3\ns3:\n  endpoint: https://h.example\n  bucket: Acme\n",
     "t.yaml:8:11: Location(nas).s3.bucket: ",
     "a bucket name has only a-z, 0-9, '.' and '-', got 'Acme'"},
    {"S3BucketTooShort", kLoc + "type: s3\ns3:\n  endpoint: https://h.example\n  bucket: ab\n",
     "t.yaml:8:11: Location(nas).s3.bucket: ", "3 to 63 characters"},
    {"S3BucketLikeAnAddress",
     kLoc + "type: s3\ns3:\n  endpoint: https://h.example\n  bucket: 10.0.0.1\n",
     "t.yaml:8:11: Location(nas).s3.bucket: ", "is not an IP address"},
    {"S3PrefixWithALeadingSlash", kS3 + "  prefix: /acme\n",
     "t.yaml:9:11: Location(nas).s3.prefix: ", "no leading or trailing '/'"},
    {"S3PrefixWithDotDot", kS3 + "  prefix: acme/../other\n",
     "t.yaml:9:11: Location(nas).s3.prefix: ", "no empty, '.' or '..' component"},
    {"S3BadAddressing", kS3 + "  addressing: vhost\n",
     "t.yaml:9:15: Location(nas).s3.addressing: ", "expected path or virtual-host, got 'vhost'"},
    {"S3RelativeCaFile", kS3 + "  caFile: ca.pem\n", "t.yaml:9:11: Location(nas).s3.caFile: ",
     "expected an absolute path on the worker's machine, got 'ca.pem'"},
    {"S3EmptyRegion", kS3 + "  region: \"\"\n",
     "t.yaml:9:11: Location(nas).s3.region: ", "expected a region like us-east-1"},
    {"SftpWithoutItsBlock", kLoc + "type: sftp\n", "t.yaml:1:1: Location(nas).sftp: ",
     "missing required field: a location of type sftp needs its sftp block"},
    {"SftpWithoutHostKey",
     kLoc + "type: sftp\nsftp:\n  host: h.example\n  user: vigil\n  path: /srv\n",
     "t.yaml:7:3: Location(nas).sftp.hostKey: ", "missing required field"},
    {"SftpPortZero", kSftp + "  port: 0\n",
     "t.yaml:11:9: Location(nas).sftp.port: ", "expected an integer from 1 to 65535, got 0"},
    {"SftpBadHost", kSftpHead + "  host: h_x!\n" + kSftpTail,
     "t.yaml:7:9: Location(nas).sftp.host: ", "expected a host name or an IP address, got 'h_x!'"},
    {"SftpUserWithAnAt", kSftpHead + "  host: h.example\n  user: me@h\n  hostKey: x\n  path: /\n",
     "t.yaml:8:9: Location(nas).sftp.user: ", "expected a user name (1 to 64 bytes, no space, '@'"},
    {"SftpUnknownField", kSftp + "  port: 22\n  user2: x\n",
     "t.yaml:12:3: Location(nas).sftp.user2: ",
     "unknown field 'user2'; expected one of: host, port, user, hostKey, path"},
    {"SftpRelativePath", SftpWithPath("srv/backups"),
     "t.yaml:10:9: Location(nas).sftp.path: ", "expected an absolute directory like /srv/backups"},
    {"SftpPathWithDotDot", SftpWithPath("/srv/../etc"),
     "t.yaml:10:9: Location(nas).sftp.path: ", "no empty, '.' or '..' component"},
    {"SftpHostKeyUnknownType", SftpWithKey("ssh-dss AAAAB3NzaC1kc3M="),
     "t.yaml:9:12: Location(nas).sftp.hostKey: ", "got the type 'ssh-dss'"},
    {"SftpHostKeyWithoutTheKey", SftpWithKey("ssh-ed25519"),
     "t.yaml:9:12: Location(nas).sftp.hostKey: ",
     "expected the server's public key as 'TYPE BASE64 [comment]'"},
    {"SftpHostKeyNotBase64", SftpWithKey("ssh-ed25519 AAAA!!!!"),
     "t.yaml:9:12: Location(nas).sftp.hostKey: ", "the key after ssh-ed25519 is not base64"},
    // The blob of an ed25519 key under the name ssh-rsa.
    {"SftpHostKeyOfAnotherType", SftpWithKey(std::string("ssh-rsa ") + kEd25519Blob),
     "t.yaml:9:12: Location(nas).sftp.hostKey: ",
     "the key is not a ssh-rsa key (it says 'ssh-ed25519')"},
    // Documents.
    {"EmptyFile", "", "t.yaml:1:1: file: ", "no documents"},
    {"OnlyComments", "# nothing here\n---\n", "t.yaml:1:1: file: ", "no documents"},
    {"NotAMap", "- a\n- b\n",
     "t.yaml:1:1: document[0]: ", "expected a map with apiVersion and kind, got a list"},
    {"WrongApiVersion", "apiVersion: vigil/v2\nkind: Tenant\nname: acme\ntimezone: UTC\n",
     "t.yaml:1:13: document[0].apiVersion: ", "expected 'vigil/v1', got 'vigil/v2'"},
    {"MissingApiVersion", "kind: Tenant\nname: acme\ntimezone: UTC\n",
     "t.yaml:1:1: document[0].apiVersion: ", "missing required field"},
    {"UnknownKind", "apiVersion: vigil/v1\nkind: Customer\nname: acme\n",
     "t.yaml:2:7: document[0].kind: ",
     "unknown kind 'Customer'; expected Location, Tenant, Contract or AlertChannel"},
    {"TwoContractsForOneTenant", kHead + "---\n" + kHead, "t.yaml:13:9: Contract(acme).tenant: ",
     "a second Contract for tenant 'acme' (the first is at t.yaml:1:1)"},
    {"DuplicateTenant",
     "apiVersion: vigil/v1\nkind: Tenant\nname: acme\ntimezone: UTC\n---\n"
     "apiVersion: vigil/v1\nkind: Tenant\nname: acme\ntimezone: UTC\n",
     "t.yaml:6:1: Tenant(acme).name: ", "duplicate Tenant 'acme' (also declared at t.yaml:1:1)"},
};

INSTANTIATE_TEST_SUITE_P(Contracts, MalformedTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ParseManifestErrorsTest, ReportsEveryErrorAtOnceSortedByPosition) {
  std::string msg = ErrorOf(R"(apiVersion: vigil/v1
kind: Contract
tenant: acme
assets:
  - name: fs
    backupSets:
      - name: fs-a
        location: nowhere
        path: /abs
        layout: restic-snapshots
commitments:
  - rpo: soon
  - copies: {min: 1, offsite: 3}
  - integrity: {reverifyWithin: 30d, budget: 1GiB, sample: 5}
---
apiVersion: vigil/v1
kind: Tenant
name: other
timezone: Mars/Olympus
)");
  std::vector<std::string> lines;
  std::stringstream ss(msg);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 7u) << msg;
  EXPECT_THAT(lines[0], HasSubstr("t.yaml:8:19: Contract(acme).assets[0].backupSets[0].location: "
                                  "unknown location 'nowhere'"));
  EXPECT_THAT(lines[1],
              HasSubstr("t.yaml:9:15: Contract(acme).assets[0].backupSets[0].path: absolute"));
  EXPECT_THAT(lines[2], HasSubstr("t.yaml:10:17: Contract(acme).assets[0].backupSets[0].layout: "
                                  "layout 'restic-snapshots' needs format restic"));
  EXPECT_THAT(lines[3], HasSubstr("t.yaml:12:10: Contract(acme).commitments[0].rpo: expected a "
                                  "duration"));
  EXPECT_THAT(lines[4], HasSubstr("t.yaml:13:31: Contract(acme).commitments[1].copies.offsite: "
                                  "expected at most min (1), got 3"));
  EXPECT_THAT(lines[5], HasSubstr("t.yaml:14:52: Contract(acme).commitments[2].integrity.sample: "
                                  "budget and sample are exclusive"));
  EXPECT_THAT(lines[6],
              HasSubstr("t.yaml:19:11: Tenant(other).timezone: unknown time zone 'Mars/Olympus'"));
}

TEST(ParseManifestErrorsTest, ErrorsAcrossFilesNameEachFile) {
  Manifest m;
  storage::Status s =
      ParseManifest({{"a.yaml", "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: s\n"},
                     {"b.yaml", "apiVersion: vigil/v1\nkind: Location\nname: nas\nsite: s2\n"},
                     {"c.yaml", "{unclosed"}},
                    KnownNames{}, &m);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("b.yaml:1:1: Location(nas).name: duplicate Location 'nas' (also "
                        "declared at a.yaml:1:1)"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("c.yaml:"));
}

TEST(ParseManifestErrorsTest, AtMostFiftyErrorsAreListed) {
  std::string yaml = kHead + "outOfScope:\n";
  for (int i = 0; i < 60; ++i) yaml += "  - item: x" + std::to_string(i) + "\n";  // no reason
  std::string msg = ErrorOf(yaml);
  std::stringstream ss(msg);
  std::vector<std::string> lines;
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 51u);
  EXPECT_THAT(lines[0], HasSubstr("t.yaml:11:5: Contract(acme).outOfScope[0].reason: missing"));
  EXPECT_THAT(lines[49], HasSubstr("t.yaml:60:5: Contract(acme).outOfScope[49].reason: missing"));
  EXPECT_EQ(lines[50], "... and 10 more error(s)");
}

TEST(ParseManifestErrorsTest, AliasesMayNotMultiplyTheManifest) {
  // 300 aliases of an asset holding 300 aliases of a backup set: 90,000
  // backup sets from a 3 kB text.
  std::string yaml =
      "apiVersion: vigil/v1\nkind: Contract\ntenant: acme\nassets:\n"
      "  - &a\n    name: fs\n    backupSets:\n      - &s {name: s, location: nas, path: p}\n";
  for (int i = 1; i < 300; ++i) yaml += "      - *s\n";
  for (int i = 1; i < 300; ++i) yaml += "  - *a\n";
  std::string msg = ErrorOf(yaml);
  EXPECT_THAT(msg, HasSubstr(": yaml: too many values once aliases are expanded"));
  // A few aliases are fine.
  Manifest m;
  storage::Status s = Parse(kHead +
                                "  - &db\n    name: db\n    backupSets:\n"
                                "      - &set {name: db-a, location: nas, path: db}\n"
                                "commitments:\n  - rpo: &day 1d\n    assets: &both [fs, db]\n"
                                "  - integrity: {reverifyWithin: *day}\n    assets: *both\n",
                            &m);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(m.contracts.at(0).commitments.at(1).integrity.reverify_within_ns, kDayNs);
}

// A tenant and a contract whose reference is an anchored scalar of `bytes`
// bytes, and `aliases` out-of-scope items naming it twice each.
std::string AliasBomb(size_t bytes, int aliases) {
  std::string yaml = kHead + "reference: &big " + std::string(bytes, 'x') + "\noutOfScope:\n";
  for (int i = 0; i < aliases; ++i) yaml += "  - {item: *big, reason: *big}\n";
  return yaml;
}

TEST(ParseManifestErrorsTest, AliasesOfALargeScalarAreCountedExpanded) {
  // 100 kB anchored and aliased 400 times: a 110 kB file standing for 40 MB
  // (the issue's 1 MB x 2,000 took 58 s and died of bad_alloc: the walk,
  // the model and the canonical YAML copy each alias). Refused at the
  // alias that crosses 4 MiB (4 x 110 kB is less), before anything is
  // built.
  std::string yaml = AliasBomb(100'000, 200);
  std::string msg = ErrorOf(yaml);
  EXPECT_THAT(msg, HasSubstr("t.yaml:"));
  EXPECT_THAT(msg, HasSubstr(": yaml: the manifest is too large once its aliases are expanded: "
                             "more than 4,194,304 bytes (the limit for this file: 4 times its "
                             "size, at least 4,194,304 bytes)"));
  // The first alias past the budget: the 42nd 100 kB, item 20's item.
  EXPECT_THAT(msg, HasSubstr("t.yaml:32:12: yaml:")) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one error, nothing walked after it";
  // The issue's file: 1.1 MB, 2,000 aliases of 1 MB. The budget is 4 x
  // its size: the fifth 1 MB (item 1's reason) is refused.
  yaml = AliasBomb(1'000'000, 1000);
  yaml += "# " + std::string(1'100'000 - yaml.size() - 3, '#') + "\n";
  ASSERT_EQ(yaml.size(), 1'100'000u);
  msg = ErrorOf(yaml);
  EXPECT_EQ(msg,
            "t.yaml:13:26: yaml: the manifest is too large once its aliases are expanded: "
            "more than 4,400,000 bytes (the limit for this file: 4 times its size, at least "
            "4,194,304 bytes); anchors and aliases may not multiply the size of a manifest");
  // An anchor aliased a few times within the budget is fine, however large.
  Manifest m;
  storage::Status s = Parse(AliasBomb(1'000'000, 1), &m);
  ASSERT_TRUE(s.ok()) << s.message().substr(0, 300);
  EXPECT_EQ(m.contracts.at(0).out_of_scope.at(0).reason.size(), 1'000'000u);
}

TEST(ParseManifestErrorsTest, AnchorsOfAnchorsAreCountedExpanded) {
  // The billion laughs: each level aliases the previous one ten times.
  std::string yaml = kHead + "outOfScope:\n  - item: &l0 [lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 9; ++i) {
    std::string prev = "*l" + std::to_string(i - 1);
    yaml += "  - item: &l" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) yaml += (j ? ", " : "") + prev;
    yaml += "]\n";
  }
  std::string msg = ErrorOf(yaml);
  EXPECT_THAT(msg, HasSubstr(": yaml: the manifest is too large once its aliases are expanded"));
  // An alias inside the node its anchor names.
  msg = ErrorOf(kHead + "outOfScope: &loop [*loop]\n");
  EXPECT_THAT(msg, HasSubstr("t.yaml:10:20: yaml: an alias inside the node its anchor names (a "
                             "recursive structure)"));
}

TEST(ParseManifestErrorsTest, DeepNestingNamesTheLimit) {
  for (int depth : {33, 40, 499, 600, 100000}) {
    SCOPED_TRACE(depth);
    std::string yaml =
        "apiVersion: vigil/v1\nkind: Tenant\nname: acme\ntimezone: UTC\n"
        "displayName: " +
        std::string(depth, '[') + std::string(depth, ']') + "\n";
    std::string msg = ErrorOf(yaml);
    // The 33rd list (the tenant's map is the first level) opens at column 45.
    EXPECT_EQ(msg,
              "t.yaml:5:45: yaml: nested too deeply: more than 32 levels of lists and maps (the "
              "limit)");
    EXPECT_THAT(msg, Not(HasSubstr("bad file")));
  }
  // Block style too.
  std::string yaml =
      "apiVersion: vigil/v1\nkind: Tenant\nname: acme\ntimezone: UTC\ndisplayName:\n";
  for (int i = 0; i < 40; ++i) yaml += std::string(2 * i + 2, ' ') + "k:\n";
  EXPECT_THAT(ErrorOf(yaml), HasSubstr("yaml: nested too deeply: more than 32 levels"));
  // 32 levels are allowed (and refused as a display name, a string).
  yaml = "apiVersion: vigil/v1\nkind: Tenant\nname: acme\ntimezone: UTC\ndisplayName: " +
         std::string(31, '[') + std::string(31, ']') + "\n";
  EXPECT_THAT(ErrorOf(yaml), HasSubstr("t.yaml:5:14: Tenant(acme).displayName: expected a string"));
}

TEST(ParseManifestErrorsTest, OutIsUntouchedOnError) {
  Manifest m;
  m.tenants.push_back(Tenant{});
  m.tenants[0].name = "sentinel";
  storage::Status s = Parse(kHead + "        mutable: maybe\n" +
                                "---\napiVersion: vigil/v1\nkind: Location\nname: ok\nsite: s\n",
                            &m);
  ASSERT_FALSE(s.ok());
  ASSERT_EQ(m.tenants.size(), 1u);
  EXPECT_EQ(m.tenants[0].name, "sentinel");
  EXPECT_TRUE(m.locations.empty());
  EXPECT_TRUE(m.contracts.empty());
}

TEST(ParseManifestErrorsTest, NoFilesAndGarbage) {
  Manifest m;
  EXPECT_FALSE(ParseManifest({}, KnownNames{}, &m).ok());
  const std::string garbage[] = {"\xff\xfe\x00\x01",
                                 "&a [*a]",
                                 "!!binary 3",
                                 "? [a]\n: b\n",
                                 "apiVersion: [\n",
                                 "*unknown",
                                 "%YAML 9.9\n---\na: b\n",
                                 std::string(5000, '[')};
  for (const auto& g : garbage) EXPECT_FALSE(Parse(g, &m).ok()) << g;
}

// --- alerts: AlertChannel manifests and the Tenant's `alerts` section.

TEST(ParseAlertsTest, ChannelsAndTenantContact) {
  Manifest m;
  storage::Status s = Parse(R"(apiVersion: vigil/v1
kind: Tenant
name: globex
timezone: UTC
contact: it@globex.example
alerts: {contact: true}
---
apiVersion: vigil/v1
kind: AlertChannel
name: ops-hook
webhook: https://hooks.msp.example/vigil
secret: ops-hmac
tenants: [acme, globex]
---
apiVersion: vigil/v1
kind: AlertChannel
name: ops-mail
email: [ops@msp.example, noc@msp.example]
smtp: smtp://mail.msp.example:587
from: vigil@msp.example
starttls: true
user: vigil
passwordSecret: smtp-password
)",
                            &m);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(m.tenants.size(), 1u);
  EXPECT_TRUE(m.tenants[0].alert_contact);
  ASSERT_EQ(m.alert_channels.size(), 2u);
  const AlertChannel& h = m.alert_channels[0];
  EXPECT_EQ(h.name, "ops-hook");
  EXPECT_EQ(h.webhook_url, "https://hooks.msp.example/vigil");
  EXPECT_EQ(h.secret, "ops-hmac");
  EXPECT_EQ(h.tenants, (std::vector<std::string>{"acme", "globex"}));
  EXPECT_TRUE(h.email_to.empty());
  const AlertChannel& e = m.alert_channels[1];
  EXPECT_EQ(e.email_to, (std::vector<std::string>{"ops@msp.example", "noc@msp.example"}));
  EXPECT_EQ(e.smtp_url, "smtp://mail.msp.example:587");
  EXPECT_EQ(e.from, "vigil@msp.example");
  EXPECT_TRUE(e.starttls);
  EXPECT_EQ(e.smtp_user, "vigil");
  EXPECT_EQ(e.password_secret, "smtp-password");
  EXPECT_TRUE(e.tenants.empty());
  // Default: no alerts to the contact.
  Manifest d;
  ASSERT_TRUE(Parse("apiVersion: vigil/v1\nkind: Tenant\nname: x\ntimezone: UTC\n", &d).ok());
  EXPECT_FALSE(d.tenants[0].alert_contact);
}

TEST(ParseAlertsTest, BadChannelsNameFileLineColumnAndField) {
  const std::string head = "apiVersion: vigil/v1\nkind: AlertChannel\nname: c\n";
  const std::string tenant = "apiVersion: vigil/v1\nkind: Tenant\nname: x\ntimezone: UTC\n";
  // Each manifest, and what its error says.
  const std::pair<std::string, std::string> cases[] = {
      {head + "secret: k\n", "t.yaml:1:1: AlertChannel(c): expected exactly one of webhook"},
      {head + "webhook: http://x/h\nemail: [a@b]\n", "expected exactly one of webhook"},
      {head + "webhook: ftp://x/h\nsecret: k\n",
       "t.yaml:4:10: AlertChannel(c).webhook: expected a URL starting with http:// or https://"},
      {head + "webhook: http://x/h\n", "AlertChannel(c).secret: missing required field"},
      {head + "webhook: http://x/h\nsecret: ../etc/passwd\n",
       "t.yaml:5:9: AlertChannel(c).secret: invalid secret name '../etc/passwd'"},
      {head + "webhook: http://x/h\nsecret: k\nfrom: a@b\n",
       "t.yaml:6:1: AlertChannel(c).from: applies to email channels only"},
      {head + "email: [ops@msp.example]\nsmtp: http://m\nfrom: v@m\n",
       "t.yaml:5:7: AlertChannel(c).smtp: expected a URL starting with smtp:// or smtps://"},
      {head + "email: [not-an-address]\nsmtp: smtp://m\nfrom: v@m\n",
       "AlertChannel(c).email: expected plain e-mail addresses"},
      {head + "email: [a@b]\nsmtp: smtp://m\nfrom: \"v@m\\r\\nBcc: x@y\"\n",
       "AlertChannel(c).from: expected a plain e-mail address"},
      {head + "email: [a@b]\nsmtp: smtp://m\nfrom: v@m\nuser: u\n",
       "AlertChannel(c).passwordSecret: missing required field"},
      {head + "email: [a@b]\nsmtp: smtp://m\nfrom: v@m\npassword: hunter2\n",
       "t.yaml:7:1: AlertChannel(c).password: unknown field"},
      {head + "webhook: http://x/h\nsecret: k\n---\n" + head + "webhook: http://y/h\nsecret: k\n",
       "duplicate AlertChannel 'c'"},
      {tenant + "alerts: {contact: true}\n",
       "t.yaml:5:19: Tenant(x).alerts.contact: alerts to the client's contact need a contact"},
      {tenant + "alerts: {contact: yes}\n", "Tenant(x).alerts.contact: expected true or false"},
      {tenant + "alerts: {webhook: http://x}\n", "Tenant(x).alerts.webhook: unknown field"},
  };
  for (const auto& [yaml, error] : cases) EXPECT_THAT(ErrorOf(yaml), HasSubstr(error)) << yaml;
  // Nothing is returned on error.
  Manifest m;
  EXPECT_FALSE(Parse(head + "secret: k\n", &m).ok());
  EXPECT_TRUE(m.alert_channels.empty());
}

// What effectiveFrom takes of RFC 3339 (services/common/time.h), and what
// it refuses on top: years outside 1970-2261, times before the epoch, a leap
// second, more than nine fraction digits.
TEST(ParseManifestTest, EffectiveFromAcceptsAndRefuses) {
  auto parse = [](const std::string& value) -> std::optional<int64_t> {
    Manifest m;
    if (!Parse(kHead + "effectiveFrom: \"" + value + "\"\n", &m).ok()) {
      return std::nullopt;
    }
    return m.contracts.at(0).effective_from_ns;
  };
  EXPECT_EQ(parse("1970-01-01"), 0);
  EXPECT_EQ(parse("2028-02-29"), 1835395200 * kS);  // a leap day
  EXPECT_EQ(parse("2261-12-31"), int64_t{9214560000} * kS);
  EXPECT_EQ(parse("2026-03-29 06:30:00Z"), 1774765800 * kS);  // space, as RFC 3339 allows
  EXPECT_EQ(parse("2026-03-29t06:30:00z"), 1774765800 * kS);
  EXPECT_EQ(parse("2026-03-29T06:30:00.123456789Z"), 1774765800 * kS + 123456789);
  EXPECT_EQ(parse("1970-01-01T01:00:00+01:00"), 0);
  for (const char* bad :
       {"1969-12-31", "2262-01-01", "2026-02-29", "2026-04-31", "2026-13-01", "2026-1-01",
        "1970-01-01T00:00:00+01:00",        // before the epoch
        "1969-12-31T23:00:00-01:00",        // the epoch, but written in 1969
        "2016-12-31T23:59:60Z",             // a leap second
        "2026-03-29T06:30:00.1234567891Z",  // ten fraction digits
        "2026-03-29T06:30:00", "2026-03-29T06:30Z", "2026-03-29T06:30:00+0100",
        "2026-03-29T06:30:00Z junk", "2026-03-29T", "tomorrow"}) {
    EXPECT_EQ(parse(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace vigil::contracts
