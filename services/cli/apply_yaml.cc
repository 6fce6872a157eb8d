#include "services/cli/apply_yaml.h"

#include "services/contracts/proto_bridge.h"

namespace vigil::cli {

void ManifestToApplyRequest(const contracts::Manifest& m, v1::ApplyRequest* req) {
  for (const auto& l : m.locations) contracts::ToProto(l, req->add_locations());
  for (const auto& t : m.tenants) contracts::ToProto(t, req->add_tenants());
  for (const auto& c : m.contracts) {
    for (const auto& a : c.assets) {
      for (const auto& b : a.backup_sets) {
        contracts::ToProto(c.tenant, a.name, b, req->add_backup_sets());
      }
    }
  }
}

storage::Status ParseApplyFiles(const std::vector<contracts::SourceFile>& files,
                                v1::ApplyRequest* req) {
  contracts::KnownNames known;
  known.allow_unknown_references = true;  // the coordinator checks them
  contracts::Manifest m;
  if (auto s = contracts::ParseManifest(files, known, &m); !s.ok()) return s;
  ManifestToApplyRequest(m, req);
  return absl::OkStatus();
}

storage::Status ParseApplyYaml(const std::string& file, const std::string& text,
                               v1::ApplyRequest* req) {
  return ParseApplyFiles({{file, text}}, req);
}

}  // namespace vigil::cli
