#include "services/coordinator/check_results.h"

#include "services/common/proto_names.h"

namespace vigil::coordinator {

nlohmann::json CheckResultJson(const v1::Task& t, const v1::DrillResult* drill) {
  using nlohmann::json;
  json j;
  j["v"] = 1;
  j["type"] = t.kind() == v1::TASK_KIND_DRILL ? "drill" : "check";
  j["state"] = t.state() == v1::TASK_STATE_DONE ? "done" : "failed";
  j["check_id"] = t.check_id();
  j["task_id"] = t.id();
  j["attempt"] = t.attempt();
  j["backup_set"] = t.backup_set().name();
  j["location"] = t.backup_set().location();
  j["created_ns"] = t.created_ns();
  j["finished_ns"] = t.finished_ns();
  j["inventory_only"] = t.inventory_only();
  j["metadata_only_points"] = t.metadata_only_points_size();
  const v1::DiffCounts& c = t.counts();
  j["counts"] = {{"unchanged", c.unchanged()}, {"modified", c.modified()},
                 {"updated", c.updated()},     {"missing", c.missing()},
                 {"added", c.added()},         {"unreadable", c.unreadable()},
                 {"not_read", c.not_read()}};
  if (c.rehashed() > 0 || c.other_algorithm() > 0) {
    j["counts"]["rehashed"] = c.rehashed();
    j["digest_algorithm"] = DigestAlgorithmText(t);
  }
  j["entries"] = t.entries();
  if (t.kind() != v1::TASK_KIND_DRILL) j["bytes_read"] = t.bytes_read();
  json errors = json::array();
  for (const v1::TaskError& e : t.errors()) {
    errors.push_back({{"attempt", e.attempt()},
                      {"worker", e.worker_id()},
                      {"at_ns", e.at_ns()},
                      {"message", e.message()}});
  }
  j["errors"] = std::move(errors);
  if (drill != nullptr) {
    json paths = json::array();
    for (const auto& p : drill->mismatch_paths()) paths.push_back(p);
    j["drill"] = {{"point_time_ns", t.drill_point_ns()},
                  {"files", drill->files()},
                  {"bytes", drill->bytes()},
                  {"seconds", drill->seconds()},
                  {"mismatches", drill->mismatches()},
                  {"point_bytes", t.drill_point_bytes()},
                  {"error", drill->error()},
                  {"mismatch_paths", std::move(paths)}};
  }
  return j;
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace vigil::coordinator
