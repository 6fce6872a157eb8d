// libFuzzer target: contracts::ParseManifest on arbitrary bytes (one file,
// or two when the input holds a "\n#--8<--\n" cut mark, for the cross-file
// checks). It must never crash, hang or leak; and every contract it accepts
// must give back, from its canonical_yaml, a contract with the same
// canonical_yaml (the canonical form is stable).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "services/contracts/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vigil::contracts::KnownNames;
  using vigil::contracts::Manifest;
  using vigil::contracts::SourceFile;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<SourceFile> files;
  constexpr std::string_view kCut = "\n#--8<--\n";
  if (size_t cut = in.find(kCut); cut != std::string_view::npos) {
    files.push_back({"a.yaml", std::string(in.substr(0, cut))});
    files.push_back({"b.yaml", std::string(in.substr(cut + kCut.size()))});
  } else {
    files.push_back({"a.yaml", std::string(in)});
  }
  KnownNames known;
  known.locations = {"nas", "vault"};
  known.tenants = {"acme"};
  Manifest m;
  if (!vigil::contracts::ParseManifest(files, known, &m).ok()) return 0;
  std::set<std::string> locations = known.locations;
  for (const auto& l : m.locations) locations.insert(l.name);
  for (const auto& c : m.contracts) {
    KnownNames k;
    k.locations = locations;
    k.tenants = {c.tenant};
    Manifest again;
    auto s = vigil::contracts::ParseManifest({{"canonical.yaml", c.canonical_yaml}}, k, &again);
    if (!s.ok() || again.contracts.size() != 1 ||
        again.contracts[0].canonical_yaml != c.canonical_yaml) {
      std::fprintf(
          stderr, "canonical form not stable:\n%s\n---\n%s\n", c.canonical_yaml.c_str(),
          s.ok() ? again.contracts[0].canonical_yaml.c_str() : std::string(s.message()).c_str());
      std::abort();
    }
  }
  return 0;
}
