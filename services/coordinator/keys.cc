#include "services/coordinator/keys.h"

#include "storage/key_codec.h"

namespace vigil::coordinator::keys {

namespace {
std::string Named(std::string_view prefix, std::string_view name) {
  std::string k(prefix);
  storage::AppendString(&k, name);
  return k;
}
}  // namespace

std::string Location(std::string_view name) { return Named(kLocationPrefix, name); }
std::string Tenant(std::string_view name) { return Named(kTenantPrefix, name); }
std::string BackupSetsOf(std::string_view tenant) { return Named("coord/bset/", tenant); }
std::string BackupSet(std::string_view tenant, std::string_view name) {
  std::string k = BackupSetsOf(tenant);
  storage::AppendString(&k, name);
  return k;
}
std::string ContractVersionsOf(std::string_view tenant) { return Named("coord/contract/", tenant); }
std::string ContractVersion(std::string_view tenant, uint32_t version) {
  std::string k = ContractVersionsOf(tenant);
  AppendU32(&k, version);
  return k;
}
std::string Token(std::string_view id) { return Named(kTokenPrefix, id); }
std::string Survey(std::string_view location) { return Named("coord/survey/", location); }
std::string Worker(std::string_view id) { return Named(kWorkerPrefix, id); }

std::string Merged(uint64_t task, uint32_t attempt) {
  std::string k = "coord/merged/";
  AppendU64(&k, task);
  AppendU32(&k, attempt);
  return k;
}

std::string MergeProgress(uint64_t task, uint32_t attempt) {
  std::string k = "coord/mergeprog/";
  AppendU64(&k, task);
  AppendU32(&k, attempt);
  return k;
}

std::string Task(uint64_t id) {
  std::string k(kTaskPrefix);
  AppendU64(&k, id);
  return k;
}
std::string StagedPrefixOfTask(uint64_t task) {
  std::string k = "S";
  AppendU64(&k, task);
  return k;
}
std::string StagedPrefix(uint64_t task, uint32_t attempt) {
  std::string k = StagedPrefixOfTask(task);
  AppendU32(&k, attempt);
  return k;
}
std::string Staged(uint64_t task, uint32_t attempt, uint64_t seq) {
  std::string k = StagedPrefix(task, attempt);
  AppendU64(&k, seq);
  return k;
}
std::string Acked(uint64_t task, uint32_t attempt) {
  std::string k = "A";
  AppendU64(&k, task);
  AppendU32(&k, attempt);
  return k;
}

std::string PointsOf(std::string_view tenant, std::string_view backup_set) {
  std::string k = Named("coord/point/", tenant);
  storage::AppendString(&k, backup_set);
  return k;
}
std::string Point(std::string_view tenant, std::string_view backup_set, int64_t time_ns) {
  std::string k = PointsOf(tenant, backup_set);
  storage::AppendI64(&k, time_ns);
  return k;
}

std::string DrillsOf(std::string_view tenant, std::string_view backup_set) {
  std::string k = Named("coord/drill/", tenant);
  storage::AppendString(&k, backup_set);
  return k;
}
std::string Drill(std::string_view tenant, std::string_view backup_set, int64_t at_ns) {
  std::string k = DrillsOf(tenant, backup_set);
  storage::AppendI64(&k, at_ns);
  return k;
}

std::string AlertChannel(std::string_view name) { return Named(kAlertChannelPrefix, name); }
std::string FormatVerdictsOf(std::string_view tenant) { return Named("coord/fverdict/", tenant); }
std::string FormatVerdicts(std::string_view tenant, std::string_view backup_set) {
  std::string k = FormatVerdictsOf(tenant);
  storage::AppendString(&k, backup_set);
  return k;
}
std::string CatalogueHashesOf(std::string_view tenant) { return Named("coord/hashalg/", tenant); }
std::string CatalogueHash(std::string_view tenant, std::string_view backup_set) {
  std::string k = CatalogueHashesOf(tenant);
  storage::AppendString(&k, backup_set);
  return k;
}
std::string ResticPacksOf(std::string_view tenant) { return Named("coord/rpack/", tenant); }
std::string ResticPacks(std::string_view tenant, std::string_view backup_set) {
  std::string k = ResticPacksOf(tenant);
  storage::AppendString(&k, backup_set);
  return k;
}

std::string Verdict(std::string_view tenant, std::string_view asset, std::string_view kind) {
  std::string k = VerdictsOf(tenant);
  storage::AppendString(&k, asset);
  storage::AppendString(&k, kind);
  return k;
}
std::string VerdictsOf(std::string_view tenant) { return Named(kVerdictPrefix, tenant); }
std::string TransitionsOf(std::string_view tenant) { return Named("coord/transition/", tenant); }
std::string Transition(std::string_view tenant, int64_t at_ns, std::string_view asset,
                       std::string_view kind) {
  std::string k = TransitionsOf(tenant);
  storage::AppendI64(&k, at_ns);
  storage::AppendString(&k, asset);
  storage::AppendString(&k, kind);
  return k;
}
std::string Delivery(std::string_view prefix, int64_t created_ns, std::string_view alert_id,
                     std::string_view channel, std::string_view contact) {
  std::string k(prefix);
  storage::AppendI64(&k, created_ns);
  storage::AppendString(&k, alert_id);
  storage::AppendString(&k, channel);
  storage::AppendString(&k, contact);
  return k;
}

}  // namespace vigil::coordinator::keys
