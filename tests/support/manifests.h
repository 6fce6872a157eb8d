// The YAML manifests the tests apply, built in one place: one function per
// kind of document (Location, Tenant, Contract and the parts of a contract)
// and Join() for a multi-document file, plus the fixture most tests share
// (AcmeFsRpo24h). The text is exactly what a test would have written by
// hand (block style, two-space indent), so error positions stay stable.
//
// Used by the coordinator's unit tests and usable by the process tests
// (write the text to a file and `vigil apply -f` it). Header-only.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace vigil::testing::manifest {

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
// commitments) follows `tenant:`.
inline std::string Contract(std::string_view tenant, std::string_view body) {
  return "apiVersion: vigil/v1\nkind: Contract\ntenant: " + std::string(tenant) + "\n" +
         std::string(body);
}

// One item of an asset's backupSets list; no `layout:` line if empty.
inline std::string BackupSet(std::string_view name, std::string_view location,
                             std::string_view path, std::string_view layout = "") {
  std::string s = "      - name: " + std::string(name) +
                  "\n        location: " + std::string(location) +
                  "\n        path: " + std::string(path) + "\n";
  if (!layout.empty()) s += "        layout: " + std::string(layout) + "\n";
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

// acme's contract of the common fixture: asset fs, backup set fs-nas at
// acme/fs on nas, rpo 24h, in force from 2026-01-01.
inline std::string AcmeFsContract() {
  return Contract("acme", "effectiveFrom: 2026-01-01\nassets:\n" +
                              Asset("fs", {BackupSet("fs-nas", "nas", "acme/fs")}) +
                              "commitments:\n  - rpo: 24h\n");
}

// The common fixture: Location nas at site office, Tenant acme (UTC), and
// AcmeFsContract().
inline std::string AcmeFsRpo24h() { return Join({Location(), Tenant(), AcmeFsContract()}); }

}  // namespace vigil::testing::manifest
