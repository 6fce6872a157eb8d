// Key layout of the coordinator's records (persisted; see docs/coordinator.md).
//
// Keyspace `meta` (readable ASCII prefixes, then Str() of key_codec.h):
//   "coord/location/" Str(name)                  -> vigil.v1.Location
//   "coord/tenant/"   Str(name)                  -> vigil.v1.Tenant
//   "coord/bset/"     Str(tenant) Str(name)      -> vigil.v1.BackupSet
//   "coord/contract/" Str(tenant) U32(version)   -> vigil.v1.ContractVersion
//       (1, 2, ... per tenant; never rewritten: a change is a new version)
//   "coord/worker/"   Str(id)                    -> vigil.v1.WorkerRecord
//   "coord/token/"    Str(id)                    -> vigil.v1.TokenRecord
//   "coord/survey/"   Str(location)              -> vigil.v1.LocationSurvey
//   "coord/enrol_required"                       -> "1": written by older
//       versions once an enrol token was issued; no longer read or written
//       (Register always needs a token)
//   "coord/next_id"                              -> U64 next task/check id
//   "coord/merged/" U64(task) U32(attempt)       -> vigil.v1.Task (counts,
//       entries): written in the last batch of a merge, so a merge that
//       completed is never redone (and its counts never recounted) if the
//       coordinator dies before marking the task DONE
//   "coord/mergeprog/" U64(task) U32(attempt)    -> a merge's progress
//       (ingest.cc, EncodeProgress): written in each intermediate write of a
//       merge, atomically with its catalogue writes, so a merge interrupted
//       by a crash resumes where its writes stopped, with the counts so far
//   "coord/point/" Str(tenant) Str(backup_set) I64(time_ns)
//                                                -> vigil.v1.PointRecord
//       one per restore point ever listed (I64 as in key_codec.h: one set's
//       records are one range, ascending time); written in the last batch
//       of a merge, then again once the point's plausibility is computed
//   "coord/drill/" Str(tenant) Str(backup_set) I64(at_ns)
//                                                -> vigil.v1.DrillRecord
//       one per restore drill completed (failed ones included), ascending
//       time within a set; written with the task's DONE state in one synced
//       batch, never rewritten (services/coordinator/drills.h)
//   "coord/alertchannel/" Str(name)            -> vigil.v1.AlertChannel
//   "coord/verdict/" Str(tenant) Str(asset) Str(kind)
//                                                -> vigil.v1.VerdictRecord
//       the verdict watcher's current state of each subject (workers:
//       tenant "", asset = worker id, kind "worker"); rewritten on change
//   "coord/transition/" Str(tenant) I64(at_ns) Str(asset) Str(kind)
//                                                -> vigil.v1.Transition
//       every change of state, ascending time per tenant, never rewritten
//   "coord/outbox/" I64(created_ns) Str(alert_id) Str(channel) Str(contact)
//                                                -> vigil.v1.Delivery
//       alerts not yet delivered (written with their transition in one
//       synced batch); moved to "coord/sent/" (same suffix) once delivered
//       or given up (services/coordinator/alerts.h)
//   "coord/fverdict/" Str(tenant) Str(backup_set)
//                                                -> vigil.v1.FormatVerdicts
//   "coord/rpack/" Str(tenant) Str(backup_set) ID(32 raw bytes)
//                                                -> vigil.v1.ResticPackRecord
//       format results of bagit/sumfile/restic sets, written in a synced
//       write right after the task's DONE state (format_results.h)
//   "coord/hashalg/" Str(tenant) Str(backup_set) -> U8 algorithm id
//       (storage/hash.h): the digest algorithm the set's catalogue entries
//       (of its listed points) are recorded with, or one other than the
//       set's contentHash that some are still recorded with; written in the
//       last batch of every merge (ingest.h). Absent: nothing merged since
//       it was introduced (entries recorded before were XXH3-128)
//   "coord/helddir/" Str(tenant) Str(backup_set) 0x00 -> vigil.v1.HeldDirsRecord
//   "coord/helddir/" Str(tenant) Str(backup_set) 0x01 Path(dir)
//                                                -> vigil.v1.HeldDirRecord
//       the digests of the directories of the set's reference point (the
//       last listed point of the merge that last recorded it consistent;
//       ingest.h, "Held directories"),
//       Path() as in key_codec.h (catalogue order); rewritten whole by the
//       merge that records a newer reference
// Keyspace `tasks` (fixed-width big-endian integers: numeric order == byte
// order, so one task's staged batches are one range, in seq order):
//   'T' U64(task_id)                             -> vigil.v1.Task
//   'S' U64(task_id) U32(attempt) U64(seq)       -> vigil.v1.ObservationBatch
//   'A' U64(task_id) U32(attempt)                -> U64 last acknowledged seq
//       [I64 restore_point_ns of the attempt's last observation so far,
//       absent before the first observation]
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::coordinator::keys {

inline void AppendU64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}
inline void AppendU32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}
inline uint64_t ReadU64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < in.size(); ++i) v = v << 8 | static_cast<uint8_t>(in[i]);
  return v;
}

std::string Location(std::string_view name);
std::string Tenant(std::string_view name);
std::string BackupSet(std::string_view tenant, std::string_view name);
std::string BackupSetsOf(std::string_view tenant);
std::string ContractVersionsOf(std::string_view tenant);
std::string ContractVersion(std::string_view tenant, uint32_t version);
std::string Worker(std::string_view id);
std::string Token(std::string_view id);
std::string Survey(std::string_view location);
inline constexpr std::string_view kTokenPrefix = "coord/token/";
std::string Merged(uint64_t task, uint32_t attempt);
std::string MergeProgress(uint64_t task, uint32_t attempt);
inline constexpr std::string_view kLocationPrefix = "coord/location/";
inline constexpr std::string_view kTenantPrefix = "coord/tenant/";
inline constexpr std::string_view kNextId = "coord/next_id";

std::string Task(uint64_t id);
inline constexpr std::string_view kTaskPrefix = "T";
std::string Staged(uint64_t task, uint32_t attempt, uint64_t seq);
std::string StagedPrefix(uint64_t task, uint32_t attempt);
std::string StagedPrefixOfTask(uint64_t task);
std::string Acked(uint64_t task, uint32_t attempt);

// Restore-point records (meta).
std::string Point(std::string_view tenant, std::string_view backup_set, int64_t time_ns);
std::string PointsOf(std::string_view tenant, std::string_view backup_set);

// Format results (meta; services/coordinator/format_results.h): a set's
// verdicts, its verified restic packs, and each tenant's whole range.
std::string FormatVerdicts(std::string_view tenant, std::string_view backup_set);
std::string FormatVerdictsOf(std::string_view tenant);
std::string CatalogueHash(std::string_view tenant, std::string_view backup_set);
std::string CatalogueHashesOf(std::string_view tenant);
std::string ResticPacks(std::string_view tenant, std::string_view backup_set);
// Held directories (meta): a set's range, its head record, one directory,
// and a tenant's whole range.
std::string HeldDirs(std::string_view tenant, std::string_view backup_set);
std::string HeldDirsHead(std::string_view tenant, std::string_view backup_set);
std::string HeldDir(std::string_view tenant, std::string_view backup_set, std::string_view dir);
std::string HeldDirsOf(std::string_view tenant);
std::string ResticPacksOf(std::string_view tenant);

// Restore-drill records (meta).
std::string Drill(std::string_view tenant, std::string_view backup_set, int64_t at_ns);
std::string DrillsOf(std::string_view tenant, std::string_view backup_set);

// Alerts (meta; services/coordinator/alerts.h).
inline constexpr std::string_view kWorkerPrefix = "coord/worker/";
inline constexpr std::string_view kAlertChannelPrefix = "coord/alertchannel/";
inline constexpr std::string_view kVerdictPrefix = "coord/verdict/";
inline constexpr std::string_view kOutboxPrefix = "coord/outbox/";
inline constexpr std::string_view kSentPrefix = "coord/sent/";
std::string AlertChannel(std::string_view name);
std::string Verdict(std::string_view tenant, std::string_view asset, std::string_view kind);
std::string VerdictsOf(std::string_view tenant);
std::string TransitionsOf(std::string_view tenant);
std::string Transition(std::string_view tenant, int64_t at_ns, std::string_view asset,
                       std::string_view kind);
// `prefix` is kOutboxPrefix or kSentPrefix.
std::string Delivery(std::string_view prefix, int64_t created_ns, std::string_view alert_id,
                     std::string_view channel, std::string_view contact);

}  // namespace vigil::coordinator::keys
