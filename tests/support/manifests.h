// The YAML manifests the tests apply, built in one place: one function per
// kind of document (Location, Tenant, Contract and the parts of a contract)
// and Join() for a multi-document file, plus the two fixtures most tests
// share: the unit tests' AcmeFsRpo24h() (Location nas at site office) and
// the process tests' Head() + OneSet() (Location loc-a at site s1). The text
// is exactly what a test would have written by hand (block style,
// two-space indent), so error positions stay stable. What is a test's own
// (commitments, more backup sets, an AlertChannel, a second tenant) it
// appends as text:
//
//   Head("loc") + OneSet("fs", "snaps", "loc", "acme/snaps", {"layout: rsnapshot"}) + kRpo24h
//
// A manifest whose exact lines a test checks (an error's file:line) stays
// in that test.
//
// Used by the coordinator's unit tests (on the CoordinatorFixture) and the
// process tests (`vigil apply -f`). Header-only; every function returns
// text and has no side effect: thread-safe.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::testing::manifests {

// kind: Location; `more` (whole lines) follows `site:`.
inline std::string Location(std::string_view name = "nas", std::string_view site = "office",
                            std::string_view more = "") {
  return "apiVersion: vigil/v1\nkind: Location\nname: " + std::string(name) +
         "\nsite: " + std::string(site) + "\n" + std::string(more);
}

// kind: Tenant; `more` (whole lines: contact, alerts) follows `timezone:`.
inline std::string Tenant(std::string_view name = "acme", std::string_view timezone = "UTC",
                          std::string_view more = "") {
  return "apiVersion: vigil/v1\nkind: Tenant\nname: " + std::string(name) +
         "\ntimezone: " + std::string(timezone) + "\n" + std::string(more);
}

// kind: Contract of `tenant`; `body` (whole lines: effectiveFrom, assets,
// commitments) follows `tenant:`. Without a body, the head a caller
// appends the rest to.
inline std::string Contract(std::string_view tenant, std::string_view body = "") {
  return "apiVersion: vigil/v1\nkind: Contract\ntenant: " + std::string(tenant) + "\n" +
         std::string(body);
}

// One item of an asset's backupSets list; each of `fields` ("layout:
// rsnapshot", "mutable: false", ...) is a line after `path:`.
inline std::string BackupSet(std::string_view name, std::string_view location,
                             std::string_view path, const std::vector<std::string>& fields = {}) {
  std::string s = "      - name: " + std::string(name) +
                  "\n        location: " + std::string(location) +
                  "\n        path: " + std::string(path) + "\n";
  for (const std::string& f : fields) s += "        " + f + "\n";
  return s;
}

// One item of a contract's `assets:` list, with its backup sets (BackupSet).
inline std::string Asset(std::string_view name, std::initializer_list<std::string> sets) {
  std::string s = "  - name: " + std::string(name) + "\n    backupSets:\n";
  for (const std::string& set : sets) s += set;
  return s;
}

// The documents as one file, "---" between them.
inline std::string Join(std::initializer_list<std::string> docs) {
  std::string s;
  for (const std::string& d : docs) s += (s.empty() ? "" : "---\n") + d;
  return s;
}

// Commitments most contracts carry.
inline constexpr char kRpo24h[] = "commitments:\n  - rpo: 24h\n";
inline constexpr char kRpoAndIntegrity[] =
    "commitments:\n  - rpo: 24h\n  - integrity: {reverifyWithin: 30d}\n";

// --- The unit tests' fixture.

// acme's contract: asset fs, backup set fs-nas at acme/fs on nas (a mirror
// whose sync marker is data.bin: its mtime dates the mirror), rpo 24h, in
// force from 2026-01-01.
inline std::string AcmeFsContract() {
  return Contract(
      "acme", "effectiveFrom: 2026-01-01\nassets:\n" +
                  Asset("fs", {BackupSet("fs-nas", "nas", "acme/fs", {"syncMarker: data.bin"})}) +
                  kRpo24h);
}

// Location nas at site office, Tenant acme (UTC), and AcmeFsContract().
inline std::string AcmeFsRpo24h() { return Join({Location(), Tenant(), AcmeFsContract()}); }

// --- The process tests' fixture.

// Location `location` on site s1, Tenant `tenant` in `timezone`, and the
// head of the tenant's Contract, in that order.
inline std::string Head(std::string_view location = "loc-a", std::string_view timezone = "UTC",
                        std::string_view tenant = "acme") {
  return Join({Location(location, "s1"), Tenant(tenant, timezone), Contract(tenant)});
}

// "assets:" with one asset of one backup set (path below the location's
// root; `fields` as for BackupSet).
inline std::string OneSet(std::string_view asset = "fs", std::string_view set = "fs-a",
                          std::string_view location = "loc-a", std::string_view path = "acme/fs",
                          const std::vector<std::string>& fields = {}) {
  return "assets:\n" + Asset(asset, {BackupSet(set, location, path, fields)});
}

// acme's file server as most process tests declare it: OneSet() with
// "mutable: false" (a mirror is mutable by default; here any change to a
// file is a problem).
inline std::string ImmutableFs() {
  return OneSet("fs", "fs-a", "loc-a", "acme/fs", {"mutable: false"});
}

}  // namespace vigil::testing::manifests
