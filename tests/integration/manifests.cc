#include "tests/integration/manifests.h"

namespace vigil::testing::manifests {

std::string Location(const std::string& name, const std::string& site) {
  return "apiVersion: vigil/v1\nkind: Location\nname: " + name + "\nsite: " + site + "\n";
}

std::string Tenant(const std::string& name, const std::string& timezone) {
  return "apiVersion: vigil/v1\nkind: Tenant\nname: " + name + "\ntimezone: " + timezone + "\n";
}

std::string ContractHead(const std::string& tenant) {
  return "apiVersion: vigil/v1\nkind: Contract\ntenant: " + tenant + "\n";
}

std::string Documents(std::initializer_list<std::string> docs) {
  std::string out;
  for (const std::string& d : docs) out += (out.empty() ? "" : "---\n") + d;
  return out;
}

std::string Head(const std::string& location, const std::string& timezone,
                 const std::string& tenant) {
  return Documents({Location(location), Tenant(tenant, timezone), ContractHead(tenant)});
}

std::string OneSet(const std::string& asset, const std::string& set, const std::string& location,
                   const std::string& path, const std::vector<std::string>& fields) {
  std::string out = "assets:\n  - name: " + asset + "\n    backupSets:\n      - name: " + set +
                    "\n        location: " + location + "\n        path: " + path + "\n";
  for (const std::string& f : fields) out += "        " + f + "\n";
  return out;
}

std::string ImmutableFs() { return OneSet("fs", "fs-a", "loc-a", "acme/fs", {"mutable: false"}); }

}  // namespace vigil::testing::manifests
