#include "services/contracts/canonical.h"

#include <yaml-cpp/yaml.h>

#include "services/common/time.h"
#include "services/contracts/parse.h"
#include "services/contracts/parse_scalars.h"

namespace vigil::contracts {
namespace {

void EmitString(YAML::Emitter& e, const std::string& key, const std::string& value) {
  e << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << value;
}

}  // namespace

std::string CanonicalYaml(const Contract& c) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "apiVersion" << YAML::Value << "vigil/v1";
  e << YAML::Key << "kind" << YAML::Value << "Contract";
  EmitString(e, "tenant", c.tenant);
  if (!c.reference.empty()) EmitString(e, "reference", c.reference);
  if (c.effective_from_ns != 0) {
    EmitString(e, "effectiveFrom", FormatTimeUtcCompact(c.effective_from_ns));
  }
  e << YAML::Key << "assets" << YAML::Value << YAML::BeginSeq;
  for (const auto& a : c.assets) {
    e << YAML::BeginMap;
    EmitString(e, "name", a.name);
    if (!a.description.empty()) EmitString(e, "description", a.description);
    e << YAML::Key << "backupSets" << YAML::Value << YAML::BeginSeq;
    for (const auto& b : a.backup_sets) {
      e << YAML::BeginMap;
      EmitString(e, "name", b.name);
      EmitString(e, "location", b.location);
      EmitString(e, "path", b.path);
      EmitString(e, "format", b.format);
      EmitString(e, "layout", LayoutName(b.layout));
      if (b.layout == Layout::kDatedFiles) EmitString(e, "pattern", b.pattern);
      if (b.layout == Layout::kDatedFiles || b.layout == Layout::kDatedFolders) {
        e << YAML::Key << "timeFromMtime" << YAML::Value << (b.time_from_mtime ? "true" : "false");
      }
      EmitString(e, "contentHash", b.content_hash);
      e << YAML::Key << "mutable" << YAML::Value << (b.mutable_ ? "true" : "false");
      if (!b.sync_marker.empty()) EmitString(e, "syncMarker", b.sync_marker);
      e << YAML::EndMap;
    }
    e << YAML::EndSeq << YAML::EndMap;
  }
  e << YAML::EndSeq;
  e << YAML::Key << "commitments" << YAML::Value << YAML::BeginSeq;
  for (const auto& cm : c.commitments) {
    e << YAML::BeginMap;
    std::string key(CommitmentKindKey(cm.kind));
    switch (cm.kind) {
      case CommitmentKind::kRpo:
        EmitString(e, key, FormatDuration(cm.rpo.max_age_ns));
        break;
      case CommitmentKind::kRetention:
        e << YAML::Key << key << YAML::Value << YAML::BeginMap;
        e << YAML::Key << "daily" << YAML::Value << cm.retention.daily;
        e << YAML::Key << "weekly" << YAML::Value << cm.retention.weekly;
        e << YAML::Key << "monthly" << YAML::Value << cm.retention.monthly;
        e << YAML::Key << "yearly" << YAML::Value << cm.retention.yearly;
        e << YAML::EndMap;
        break;
      case CommitmentKind::kCopies:
        e << YAML::Key << key << YAML::Value << YAML::BeginMap;
        e << YAML::Key << "min" << YAML::Value << cm.copies.min;
        e << YAML::Key << "offsite" << YAML::Value << cm.copies.offsite;
        if (cm.copies.gates_readiness) e << YAML::Key << "gatesReadiness" << YAML::Value << "true";
        e << YAML::EndMap;
        break;
      case CommitmentKind::kIntegrity:
        e << YAML::Key << key << YAML::Value << YAML::BeginMap;
        EmitString(e, "reverifyWithin", FormatDuration(cm.integrity.reverify_within_ns));
        if (cm.integrity.budget_bytes > 0) {
          e << YAML::Key << "budget" << YAML::Value << cm.integrity.budget_bytes;
        }
        if (cm.integrity.sample > 0) {
          e << YAML::Key << "sample" << YAML::Value << cm.integrity.sample;
        }
        e << YAML::EndMap;
        break;
      case CommitmentKind::kRestoreDrill:
        e << YAML::Key << key << YAML::Value << YAML::BeginMap;
        EmitString(e, "every", FormatDuration(cm.drill.every_ns));
        EmitString(e, "rto", FormatDuration(cm.drill.rto_ns));
        e << YAML::Key << "sampleFiles" << YAML::Value << cm.drill.sample_files;
        e << YAML::Key << "sampleBytes" << YAML::Value << cm.drill.sample_bytes;
        e << YAML::EndMap;
        break;
    }
    if (!cm.assets.empty()) {
      e << YAML::Key << "assets" << YAML::Value << YAML::BeginSeq;
      for (const auto& a : cm.assets) e << YAML::DoubleQuoted << a;
      e << YAML::EndSeq;
    }
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
  e << YAML::Key << "outOfScope" << YAML::Value << YAML::BeginSeq;
  for (const auto& o : c.out_of_scope) {
    e << YAML::BeginMap;
    EmitString(e, "item", o.item);
    EmitString(e, "reason", o.reason);
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
  // Only when not the defaults: a contract without the block keeps the
  // canonical text (and identity) it had before the block existed.
  if (c.ransomware != RansomwareSpec{}) {
    const RansomwareSpec& r = c.ransomware;
    auto num = [&](const char* key, double v) {
      e << YAML::Key << key << YAML::Value << FormatNumber(v);
    };
    e << YAML::Key << "ransomware" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "enabled" << YAML::Value << (r.enabled ? "true" : "false");
    e << YAML::Key << "renames" << YAML::Value << r.renames;
    e << YAML::Key << "extensionChanges" << YAML::Value << r.extension_changes;
    e << YAML::Key << "deletionsPerExtension" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "count" << YAML::Value << r.deletions_count;
    num("fraction", r.deletions_fraction);
    e << YAML::EndMap;
    e << YAML::Key << "randomFiles" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "suspicious" << YAML::Value << r.random_files_suspicious;
    e << YAML::Key << "encrypted" << YAML::Value << r.random_files_encrypted;
    num("fraction", r.random_files_fraction);
    e << YAML::EndMap;
    num("structuredEntropyBits", r.structured_entropy_bits);
    num("randomEntropyBits", r.random_entropy_bits);
    e << YAML::Key << "noteDirectories" << YAML::Value << r.note_directories;
    e << YAML::Key << "changeRate" << YAML::Value << YAML::BeginMap;
    num("sigma", r.change_rate_sigma);
    e << YAML::Key << "files" << YAML::Value << r.change_rate_files;
    num("fraction", r.change_rate_fraction);
    e << YAML::EndMap;
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace vigil::contracts
