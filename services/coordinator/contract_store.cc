#include "services/coordinator/contract_store.h"

#include "services/contracts/parse.h"
#include "services/contracts/proto_bridge.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/records.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

Status ParseManifests(storage::KvStore* kv, const v1::ApplyRequest& req, v1::ApplyRequest* objects,
                      std::vector<PendingContract>* contracts) {
  contracts::KnownNames known;
  Status s =
      ForEachRecord<v1::Location>(kv, Space::kMeta, keys::kLocationPrefix, "location",
                                  [&](v1::Location&& l) { known.locations.insert(l.name()); });
  if (!s.ok()) return s;
  s = ForEachRecord<v1::Tenant>(kv, Space::kMeta, keys::kTenantPrefix, "tenant",
                                [&](v1::Tenant&& t) { known.tenants.insert(t.name()); });
  if (!s.ok()) return s;
  // Names of the request's own objects count as known too.
  for (const auto& l : req.locations()) known.locations.insert(l.name());
  for (const auto& t : req.tenants()) known.tenants.insert(t.name());
  std::vector<contracts::SourceFile> files;
  for (const auto& f : req.files()) files.push_back({f.name(), f.text()});
  contracts::Manifest m;
  if (s = contracts::ParseManifest(files, known, &m); !s.ok()) return s;
  for (const auto& l : m.locations) contracts::ToProto(l, objects->add_locations());
  for (const auto& t : m.tenants) contracts::ToProto(t, objects->add_tenants());
  for (const auto& c : m.alert_channels) contracts::ToProto(c, objects->add_alert_channels());
  for (const auto& c : m.contracts) {
    for (const auto& a : c.assets) {
      for (const auto& b : a.backup_sets) {
        contracts::ToProto(c.tenant, a.name, b, objects->add_backup_sets());
      }
    }
    contracts->push_back({c.tenant, c.canonical_yaml, c.effective_from_ns, c.pos.file, c});
  }
  return absl::OkStatus();
}

StatusOr<std::vector<v1::ContractVersion>> LoadContractVersions(storage::KvStore* kv,
                                                                std::string_view tenant) {
  return LoadRecords<v1::ContractVersion>(kv, keys::ContractVersionsOf(tenant),
                                          "contract version of '" + std::string(tenant) + "'");
}

StatusOr<std::map<std::string, contracts::Location>> LoadLocations(storage::KvStore* kv) {
  std::map<std::string, contracts::Location> out;
  Status s = ForEachRecord<v1::Location>(
      kv, Space::kMeta, keys::kLocationPrefix, "location",
      [&](v1::Location&& l) { out[l.name()] = contracts::FromProto(l); });
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::vector<contracts::Contract>> LoadContracts(storage::KvStore* kv,
                                                         std::string_view tenant) {
  auto versions = LoadContractVersions(kv, tenant);
  if (!versions.ok()) return versions.status();
  std::vector<contracts::Contract> out;
  contracts::KnownNames known;
  known.allow_unknown_references = true;  // checked when it was applied
  for (const auto& v : *versions) {
    contracts::Manifest m;
    std::string name = "contract " + std::string(tenant) + " v" + std::to_string(v.version());
    Status s = contracts::ParseManifest({{name, v.canonical_yaml()}}, known, &m);
    if (!s.ok() || m.contracts.size() != 1) {
      return absl::DataLossError("stored " + name + " does not parse: " + std::string(s.message()));
    }
    m.contracts[0].effective_from_ns = v.effective_from_ns();
    out.push_back(std::move(m.contracts[0]));
  }
  return out;
}

}  // namespace vigil::coordinator
