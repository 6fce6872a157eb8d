#include "services/coordinator/keys.h"

#include "storage/key_codec.h"

namespace vigil::coordinator::keys {

namespace {

// A key's parts after its prefix: names length-prefixed (storage's
// AppendString), times as order-preserving signed integers, ids and
// attempts big-endian.
void Append(std::string* k, std::string_view name) { storage::AppendString(k, name); }
void Append(std::string* k, int64_t ns) { storage::AppendI64(k, ns); }
void Append(std::string* k, uint64_t id) { AppendU64(k, id); }
void Append(std::string* k, uint32_t n) { AppendU32(k, n); }

template <typename... Parts>
std::string Key(std::string_view prefix, const Parts&... parts) {
  std::string k(prefix);
  (Append(&k, parts), ...);
  return k;
}

}  // namespace

std::string Location(std::string_view name) { return Key(kLocationPrefix, name); }
std::string Tenant(std::string_view name) { return Key(kTenantPrefix, name); }
std::string BackupSetsOf(std::string_view tenant) { return Key("coord/bset/", tenant); }
std::string BackupSet(std::string_view tenant, std::string_view name) {
  return Key("coord/bset/", tenant, name);
}
std::string ContractVersionsOf(std::string_view tenant) { return Key("coord/contract/", tenant); }
std::string ContractVersion(std::string_view tenant, uint32_t version) {
  return Key("coord/contract/", tenant, version);
}
std::string Token(std::string_view id) { return Key(kTokenPrefix, id); }
std::string Survey(std::string_view location) { return Key("coord/survey/", location); }
std::string Worker(std::string_view id) { return Key(kWorkerPrefix, id); }

std::string Merged(uint64_t task, uint32_t attempt) { return Key("coord/merged/", task, attempt); }
std::string MergeProgress(uint64_t task, uint32_t attempt) {
  return Key("coord/mergeprog/", task, attempt);
}

std::string Task(uint64_t id) { return Key(kTaskPrefix, id); }
std::string StagedPrefixOfTask(uint64_t task) { return Key("S", task); }
std::string StagedPrefix(uint64_t task, uint32_t attempt) { return Key("S", task, attempt); }
std::string Staged(uint64_t task, uint32_t attempt, uint64_t seq) {
  return Key("S", task, attempt, seq);
}
std::string Acked(uint64_t task, uint32_t attempt) { return Key("A", task, attempt); }

std::string PointsOf(std::string_view tenant, std::string_view backup_set) {
  return Key("coord/point/", tenant, backup_set);
}
std::string Point(std::string_view tenant, std::string_view backup_set, int64_t time_ns) {
  return Key("coord/point/", tenant, backup_set, time_ns);
}

std::string DrillsOf(std::string_view tenant, std::string_view backup_set) {
  return Key("coord/drill/", tenant, backup_set);
}
std::string Drill(std::string_view tenant, std::string_view backup_set, int64_t at_ns) {
  return Key("coord/drill/", tenant, backup_set, at_ns);
}

std::string AlertChannel(std::string_view name) { return Key(kAlertChannelPrefix, name); }
std::string FormatVerdictsOf(std::string_view tenant) { return Key("coord/fverdict/", tenant); }
std::string FormatVerdicts(std::string_view tenant, std::string_view backup_set) {
  return Key("coord/fverdict/", tenant, backup_set);
}
std::string CatalogueHashesOf(std::string_view tenant) { return Key("coord/hashalg/", tenant); }
std::string CatalogueHash(std::string_view tenant, std::string_view backup_set) {
  return Key("coord/hashalg/", tenant, backup_set);
}
std::string HeldDirsOf(std::string_view tenant) { return Key("coord/helddir/", tenant); }
std::string HeldDirs(std::string_view tenant, std::string_view backup_set) {
  return Key("coord/helddir/", tenant, backup_set);
}
std::string HeldDirsHead(std::string_view tenant, std::string_view backup_set) {
  return HeldDirs(tenant, backup_set) + std::string(1, '\0');
}
std::string HeldDir(std::string_view tenant, std::string_view backup_set, std::string_view dir) {
  return HeldDirs(tenant, backup_set) + "\x01" + storage::EncodePath(dir);
}
std::string ResticPacksOf(std::string_view tenant) { return Key("coord/rpack/", tenant); }
std::string ResticPacks(std::string_view tenant, std::string_view backup_set) {
  return Key("coord/rpack/", tenant, backup_set);
}

std::string Verdict(std::string_view tenant, std::string_view asset, std::string_view kind) {
  return Key(kVerdictPrefix, tenant, asset, kind);
}
std::string VerdictsOf(std::string_view tenant) { return Key(kVerdictPrefix, tenant); }
std::string TransitionsOf(std::string_view tenant) { return Key("coord/transition/", tenant); }
std::string Transition(std::string_view tenant, int64_t at_ns, std::string_view asset,
                       std::string_view kind) {
  return Key("coord/transition/", tenant, at_ns, asset, kind);
}
std::string Delivery(std::string_view prefix, int64_t created_ns, std::string_view alert_id,
                     std::string_view channel, std::string_view contact) {
  return Key(prefix, created_ns, alert_id, channel, contact);
}

}  // namespace vigil::coordinator::keys
