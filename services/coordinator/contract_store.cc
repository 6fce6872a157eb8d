#include "services/coordinator/contract_store.h"

#include "services/contracts/parse.h"
#include "services/contracts/proto_bridge.h"
#include "services/coordinator/keys.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

namespace {

// Names of the records stored under `prefix` (their `name` field).
template <typename Msg>
Status StoredNames(storage::KvStore* kv, std::string_view prefix, std::set<std::string>* out) {
  std::string p(prefix);
  auto it = kv->NewIterator(Space::kMeta, {.upper_bound = storage::PrefixSuccessor(p)});
  for (it->Seek(p); it->Valid(); it->Next()) {
    Msg m;
    if (!m.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a record under " + p + " does not decode");
    }
    out->insert(m.name());
  }
  return it->status();
}

}  // namespace

Status ParseManifests(storage::KvStore* kv, const v1::ApplyRequest& req, v1::ApplyRequest* objects,
                      std::vector<PendingContract>* contracts) {
  contracts::KnownNames known;
  if (Status s = StoredNames<v1::Location>(kv, keys::kLocationPrefix, &known.locations); !s.ok())
    return s;
  if (Status s = StoredNames<v1::Tenant>(kv, keys::kTenantPrefix, &known.tenants); !s.ok())
    return s;
  // Names of the request's own objects count as known too.
  for (const auto& l : req.locations()) known.locations.insert(l.name());
  for (const auto& t : req.tenants()) known.tenants.insert(t.name());
  std::vector<contracts::SourceFile> files;
  for (const auto& f : req.files()) files.push_back({f.name(), f.text()});
  contracts::Manifest m;
  if (Status s = contracts::ParseManifest(files, known, &m); !s.ok()) return s;
  for (const auto& l : m.locations) contracts::ToProto(l, objects->add_locations());
  for (const auto& t : m.tenants) contracts::ToProto(t, objects->add_tenants());
  for (const auto& c : m.contracts) {
    for (const auto& a : c.assets) {
      for (const auto& b : a.backup_sets) {
        contracts::ToProto(c.tenant, a.name, b, objects->add_backup_sets());
      }
    }
    contracts->push_back({c.tenant, c.canonical_yaml, c.effective_from_ns, c.pos.file});
  }
  return absl::OkStatus();
}

StatusOr<std::vector<v1::ContractVersion>> LoadContractVersions(storage::KvStore* kv,
                                                                std::string_view tenant) {
  std::vector<v1::ContractVersion> out;
  std::string p = keys::ContractVersionsOf(tenant);
  auto it = kv->NewIterator(Space::kMeta, {.upper_bound = storage::PrefixSuccessor(p)});
  for (it->Seek(p); it->Valid(); it->Next()) {
    v1::ContractVersion v;
    if (!v.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("contract version record of '" + std::string(tenant) +
                                 "' does not decode");
    }
    out.push_back(std::move(v));
  }
  if (!it->status().ok()) return it->status();
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
