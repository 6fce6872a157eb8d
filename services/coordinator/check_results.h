// Check results as the tenant's check log records them
// (services/proofs/check_log.h): one JSON payload per finished task,
// appended atomically with the task's DONE or FAILED state.
//
// PAYLOAD (JSON object, keys sorted, UTF-8; bytes that are not UTF-8 in
// paths or messages are replaced by U+FFFD; persisted: add fields, never
// change one):
//   v            1
//   type         "check" | "drill"
//   state        "done" | "failed"
//   check_id, task_id, attempt
//   backup_set, location
//   created_ns, finished_ns      ns since the Unix epoch
//   inventory_only               true: no known restore point was read
//   metadata_only_points         how many points were listed, not read
//   counts       {unchanged, modified, updated, missing, added, unreadable,
//                 not_read}: the merge's classification (storage/diff.h)
//   entries      entries observed
//   errors       [{attempt, worker, at_ns, message}]: every failed attempt
//   drill        (drills only) {point_time_ns, files, bytes, seconds,
//                 mismatches, point_bytes, error, mismatch_paths}
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "vigil/v1/types.pb.h"
#include "vigil/v1/worker.pb.h"

namespace vigil::coordinator {

nlohmann::json CheckResultJson(const v1::Task& t, const v1::DrillResult* drill);
// Serialized as stored: compact, sorted keys, invalid UTF-8 replaced.
std::string DumpJson(const nlohmann::json& j);

}  // namespace vigil::coordinator
