// The manifests the process tests apply with `vigil apply -f`, written in
// one place. Most tests declare the same three documents (a Location on
// site s1, the tenant acme, the head of acme's Contract) and then one asset
// with one backup set; what is a test's own (commitments, more backup sets,
// an AlertChannel, a second tenant) it appends as text:
//
//   Head("loc") + OneSet("fs", "snaps", "loc", "acme/snaps", {"layout: rsnapshot"}) + kRpo24h
//
// Every function returns YAML text and has no side effect: thread-safe.
// A manifest whose exact lines a test checks (an error's file:line) stays
// in that test.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

namespace vigil::testing::manifests {

// "apiVersion: vigil/v1\nkind: Location\nname: NAME\nsite: SITE\n".
std::string Location(const std::string& name, const std::string& site = "s1");
// "apiVersion: vigil/v1\nkind: Tenant\nname: NAME\ntimezone: TIMEZONE\n".
std::string Tenant(const std::string& name, const std::string& timezone = "UTC");
// The first lines of a Contract of `tenant`; the caller appends the rest
// ("assets:", "commitments:", "effectiveFrom: ...").
std::string ContractHead(const std::string& tenant);
// `docs` as one multi-document stream (joined by "---" lines).
std::string Documents(std::initializer_list<std::string> docs);

// Location `location` on site s1, Tenant `tenant` in `timezone`, and the
// head of the tenant's Contract, in that order.
std::string Head(const std::string& location = "loc-a", const std::string& timezone = "UTC",
                 const std::string& tenant = "acme");

// "assets:" with one asset of one backup set, in block style, in the order
// the YAML reads:
//   assets:
//     - name: ASSET
//       backupSets:
//         - name: SET
//           location: LOCATION
//           path: PATH          (below the location's root)
//           FIELD               (each of `fields`: "mutable: false", ...)
std::string OneSet(const std::string& asset = "fs", const std::string& set = "fs-a",
                   const std::string& location = "loc-a", const std::string& path = "acme/fs",
                   const std::vector<std::string>& fields = {});

// acme's file server as most tests declare it: OneSet() with
// "mutable: false" (a mirror is mutable by default; here any change to a
// file is a problem).
std::string ImmutableFs();

// Commitments most contracts carry.
inline constexpr char kRpo24h[] = "commitments:\n  - rpo: 24h\n";
inline constexpr char kRpoAndIntegrity[] =
    "commitments:\n  - rpo: 24h\n  - integrity: {reverifyWithin: 30d}\n";

}  // namespace vigil::testing::manifests
