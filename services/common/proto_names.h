// The words Vigil shows for the values of its protobuf enums: one
// vocabulary for the CLI (`vigil status`, `vigil check run --wait`, `vigil
// token list`), the dashboard and its JSON API (/api/*), and the coordinator's
// messages.
//
// Task states are the proto's names in lower case: "queued", "leased",
// "done", "failed". A leased task is held by one worker until its lease
// expires (vigil.v1.Task.lease_expires_ns), and is not necessarily being
// worked on: a worker that died keeps its lease until it expires and the
// task is queued again. "running" is not used, as it would claim more than
// the coordinator knows.
//
// Header-only (plain functions of the generated enums): a target including it
// links `proto` and `storage`. Thread-safe: no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/name_table.h"
#include "storage/hash.h"
#include "vigil/v1/types.pb.h"

namespace vigil {

inline constexpr NameRow<v1::TaskState> kTaskStateNames[] = {{v1::TASK_STATE_QUEUED, "queued"},
                                                             {v1::TASK_STATE_LEASED, "leased"},
                                                             {v1::TASK_STATE_DONE, "done"},
                                                             {v1::TASK_STATE_FAILED, "failed"}};
static_assert(CoversEnum(kTaskStateNames, v1::TASK_STATE_QUEUED));

inline constexpr NameRow<v1::TokenKind> kTokenKindNames[] = {{v1::TOKEN_KIND_ADMIN, "admin"},
                                                             {v1::TOKEN_KIND_TENANT, "tenant"},
                                                             {v1::TOKEN_KIND_ENROL, "enrol"}};
static_assert(CoversEnum(kTokenKindNames, v1::TOKEN_KIND_ADMIN));

inline constexpr NameRow<v1::PointVerdict> kPointVerdictNames[] = {
    {v1::POINT_VERDICT_UNSPECIFIED, "not-computed"},
    {v1::POINT_VERDICT_CLEAN, "clean"},
    {v1::POINT_VERDICT_SUSPICIOUS, "suspicious"},
    {v1::POINT_VERDICT_ENCRYPTED, "encrypted"},
    {v1::POINT_VERDICT_CONTENT_NOT_JUDGED, "content-not-judged"}};
static_assert(CoversEnum(kPointVerdictNames, v1::POINT_VERDICT_UNSPECIFIED));

// "queued", "leased", "done", "failed"; "unspecified" for any other value
// (not expected: every stored task has a state).
inline const char* TaskStateName(v1::TaskState s) {
  return NameOf(kTaskStateNames, s, "unspecified");
}

// "admin", "tenant", "enrol" (`vigil token issue --kind`, `vigil token
// list`); "?" for any other value.
inline const char* TokenKindName(v1::TokenKind k) { return NameOf(kTokenKindNames, k, "?"); }

// A restore point's ransomware verdict (docs/ransomware.md): "clean",
// "suspicious", "encrypted", or "not-computed" (not examined yet); the same
// for any other value.
inline const char* PointVerdictName(v1::PointVerdict v) {
  return NameOf(kPointVerdictNames, v, "not-computed");
}

// The kind TokenKindName() names `name`, or none.
inline std::optional<v1::TokenKind> TokenKindFromName(std::string_view name) {
  return ValueOf(kTokenKindNames, name);
}

// What a finished check did about digest algorithms, for its result line:
// "re-hashed 12 entries with sha256 (catalogue had xxh3-128)", and "3
// entries still recorded with another algorithm than sha256 (until read and
// found unchanged)"; empty when the catalogue already held the set's
// algorithm (DiffCounts.rehashed, rehashed_from, other_algorithm).
inline std::string DigestAlgorithmText(const v1::Task& t) {
  const v1::DiffCounts& c = t.counts();
  auto name = [](uint32_t id) {
    return id <= 255 && storage::IsKnownAlgorithm(static_cast<uint8_t>(id))
               ? std::string(storage::AlgorithmName(static_cast<storage::HashAlgorithm>(id)))
               : "algorithm " + std::to_string(id);
  };
  const std::string& set_alg = t.backup_set().content_hash();
  std::string s;
  if (c.rehashed() > 0) {
    s = "re-hashed " + std::to_string(c.rehashed()) + (c.rehashed() == 1 ? " entry" : " entries") +
        " with " + (set_alg.empty() ? "xxh3-128" : set_alg) + " (catalogue had " +
        name(c.rehashed_from()) + ")";
  }
  if (c.other_algorithm() > 0) {
    s += (s.empty() ? "" : "; ") + std::to_string(c.other_algorithm()) +
         (c.other_algorithm() == 1 ? " entry" : " entries") + " still recorded with another " +
         "algorithm than " + (set_alg.empty() ? "xxh3-128" : set_alg) +
         " (until read and found unchanged)";
  }
  return s;
}

}  // namespace vigil
