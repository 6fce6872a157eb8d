#include "services/cli/apply_yaml.h"

namespace vigil::cli {

void ManifestToApplyRequest(const contracts::Manifest& m, v1::ApplyRequest* req) {
  for (const auto& l : m.locations) {
    v1::Location* p = req->add_locations();
    p->set_name(l.name);
    p->set_site(l.site);
    // kind: "filesystem" is the only kind, sent as the proto's default ("").
    p->set_offsite(l.offsite);
    p->set_immutable(l.immutable);
  }
  for (const auto& t : m.tenants) {
    v1::Tenant* p = req->add_tenants();
    p->set_name(t.name);
    p->set_display_name(t.display_name);
    p->set_timezone(t.timezone);
  }
  for (const auto& c : m.contracts) {
    for (const auto& a : c.assets) {
      for (const auto& b : a.backup_sets) {
        v1::BackupSet* p = req->add_backup_sets();
        p->set_tenant(c.tenant);
        p->set_asset(a.name);
        p->set_name(b.name);
        p->set_location(b.location);
        p->set_path(b.path);
        p->set_format(b.format);
        p->set_mutable_(b.mutable_);
        // Defaults are sent as the proto's defaults ("" = mirror, xxh3-128).
        if (b.layout != contracts::Layout::kMirror) p->set_layout(LayoutName(b.layout));
        p->set_pattern(b.pattern);
        p->set_time_from_mtime(b.time_from_mtime);
        if (b.content_hash != "xxh3-128") p->set_content_hash(b.content_hash);
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
