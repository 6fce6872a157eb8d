// The dashboard served by the coordinator's HTTP port (docs/operations.md):
// a static page (HTML, CSS, JS built into the binary, no CDN) that fetches
// /api/dashboard with the admin token and draws a grid of tenants' assets
// x commitments coloured by verdict, restore readiness first, the rows in
// trouble first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "services/coordinator/history.h"
#include "vigil/v1/admin.pb.h"
#include "vigil/v1/alerts.pb.h"
#include "vigil/v1/types.pb.h"

namespace vigil::coordinator {

// The page and its assets. They hold no data: every figure comes from
// /api/dashboard, which needs the admin token.
std::string_view DashboardHtml();
std::string_view DashboardCss();
std::string_view DashboardJs();

// The grid as JSON, from every tenant's status:
//   {"generated_ns": N, "kinds": ["rpo", ...],
//    "counts": {"pass": N, "fail": N, "unknown": N},
//    "rows": [{"tenant", "asset", "readiness", "reasons": [...],
//              "site_loss",          (readiness if the primary site were lost)
//              "monitored_from_ns",  (0 = never inventoried; nothing before
//                                     it is judged: "not monitored")
//              "rank": 0|1|2|3,
//              "cells": {KIND: {"verdict", "summary", "overdue",
//                               "failing_since_ns", (when Vigil detected it)
//                               "began_ns",         (when it began, as far as
//                                                    the evidence shows)
//                               "monitored_from_ns", "next_check_ns"}}}]}
// One row per (tenant, asset). Rows are ordered by rank, then tenant, then
// asset: 0 = a commitment fails or the asset is not ready, 1 = a check is
// overdue (its next_check_ns is before `now_ns`), 2 = a verdict
// is unknown or the asset at risk, 3 = all pass and ready. `kinds`: the
// commitment kinds present, in the contract's canonical order.
//
// With `tasks` (every task the coordinator holds), also
//   "tasks": [{"id", "check_id", "tenant", "backup_set", "kind", "state",
//              "worker", "attempt", "lease_expires_ns", "waiting", "progress"}]
// for the tasks queued or leased (the checks and drills in progress and
// which worker holds each lease), by id. "waiting": Task.waiting (why no
// worker leased a queued task, "" if a worker serves its location; set by
// Coordinator::TasksWithWaiting). "progress" is null for a queued
// task, else (vigil.v1.TaskProgress, counted in regular files; kept in the
// coordinator's memory, reset by its restart):
//   {"files_done", "bytes_done",    walked so far / bytes of them read
//    "files_total", "bytes_total",  expected, 0 = unknown (an estimate:
//                                   *_done may pass it)
//    "percent",                     0..100 (bytes if their total is known,
//                                   else files), null = total unknown
//    "files_per_s", "bytes_per_s",  averages since the lease (0 = unknown)
//    "started_ns", "updated_ns"}    lease time (0 = leased before a
//                                   restart), last time the figures moved
// The same "progress" is in TenantJson's and WorkersJson's tasks.
//
// Also "failed": the checks and drills that failed (every attempt did) and
// are the latest of their (tenant, backup set, kind), by id: as "tasks",
// plus {"asset", "finished_ns", "reason" (the last attempt's error),
// "errors": [{"attempt", "worker", "at_ns", "message"}]}; each row lists
// its asset's as "failed": [{"id", "backup_set", "kind", "finished_ns",
// "reason"}] (rank 0). And "zones": {TENANT: ZONE} (below), for showing
// times in each tenant's zone.
//
// Ransomware signals (docs/ransomware.md): "signals" lists every present
// restore point whose verdict is suspicious or encrypted and that no
// operator accepted:
//   [{"tenant", "asset", "backup_set", "point_name", "point_ns", "verdict",
//     "signals": [{"kind", "message", "count", "threshold", "examples"}],
//     "compared_with_ns", "last_clean_ns", "last_clean_name"}]
// (last_clean_*: the set's last clean point, 0 / "" when none); each row
// has its asset's as "flagged": [{"backup_set", "point_name", "point_ns",
// "verdict"}] (rank 0), and "clean_points": [{"backup_set", "asset",
// "last_clean_ns", "last_clean_name", "has_clean", "newest_verdict"}] per
// backup set of the asset ("newest_verdict": the newest present point's
// "clean" | "suspicious" | "encrypted" | "content-not-judged" |
// "not-computed" | "accepted", null
// without a point).
//
// ZONE: {"name": IANA name ("UTC" if the tenant has none or an unknown one),
//        "spans": [[begin_ns, offset_s, "CET"], ...]}: the zone's offsets
// from before the page's earliest time to a year ahead, each in force from
// begin_ns until the next; local time = UTC + offset_s, and the
// abbreviation is the one the evaluator's summaries print (contracts::
// Calendar::Format): the page shows every time as "2026-12-06 09:15 CET".
std::string DashboardJson(const v1::GetStatusResponse& status, int64_t now_ns,
                          const std::vector<v1::Task>& tasks = {});

// One tenant's page as JSON, or "" if `status` has no such tenant:
//   {"generated_ns", "tenant", "display_name", "zone" (ZONE, above),
//    "failed": [...],            (as in DashboardJson, this tenant's only)
//    "signals": [...],           (as in DashboardJson, this tenant's only)
//    "clean_points": [...],      (as a row's, for every backup set)
//    "readiness": [{"asset", "readiness", "reasons": [...],
//                   "site_loss": {"readiness", "reasons": [...]},
//                   "monitored_from_ns"}],
//    "commitments": [{"asset", "kind", "verdict", "summary", "failing_since_ns",
//                     "began_ns", "monitored_from_ns",
//                     "last_check_ns", "next_check_ns", "overdue",
//                     "evidence": [{"name", "value", "basis"}]}],
//    "history": [{"asset", "kind", "from", "to", "at_ns", "summary",
//                 "alerted",     (an alert was raised for the change)
//                 "alert"}],     (null if none, else what became of it, below)
//                                (oldest first: the verdict watcher's transitions)
//    "from_ns": N,               (start of the history window)
//    "tasks": [...],             (as in DashboardJson, this tenant's only)
//    "series": [{"asset", "kind": "rpo"|"integrity",
//                "metric": "rpo_age"|"coverage",
//                "unit": "ns"|"ratio",
//                "limit": N|null,     (RPO in ns; 1.0 = every entry re-read)
//                "points": [[t_ns, value], ...],   (ascending t, <= 500)
//                "samples": N,        (before downsampling)
//                "definition", "note"}]}
// "alert", from `deliveries` (alerts.h LoadDeliveriesCreated over the
// window; the outbox and coord/sent/ records the delivery thread keeps):
//   {"id",
//    "state": "sent"        every delivery acknowledged by its receiver
//           | "pending"     some delivery not yet acknowledged, still retried
//           | "not sent"    no channel serves it (no delivery was routed), or
//                           every delivery given up after --alert-max-age
//           | "partly sent" some acknowledged, the others given up,
//    "reason",              why not sent / partly sent ("" otherwise)
//    "deliveries": [{"channel", "contact" ("" = the channel's recipients),
//                    "state": "sent"|"pending"|"given up", "attempts",
//                    "sent_ns" (0 = not sent), "next_attempt_ns" (pending
//                    only, else 0), "failed_ns" (given up, else 0),
//                    "last_error"}]}
// `series` (coordinator/history.h, which defines each metric exactly):
// the RPO age and integrity coverage of each asset over the window, as
// samples to join with straight lines; two samples at one instant are a
// jump.
std::string TenantJson(const v1::GetStatusResponse& status, std::string_view tenant, int64_t now_ns,
                       int64_t from_ns, const std::vector<v1::Transition>& transitions,
                       const std::vector<v1::Task>& tasks,
                       const std::vector<HistorySeries>& series = {},
                       const std::vector<v1::Delivery>& deliveries = {});

// The registered workers and the leases each holds:
//   {"generated_ns", "workers": [{"id", "site", "locations": [...], "capacity",
//     "registered_ns", "leases": [{"id", "tenant", "backup_set", "kind",
//     "attempt", "lease_expires_ns"}]}]}
// by id; a worker holding a lease but not registered (not expected) is
// listed with its id only.
std::string WorkersJson(const std::vector<v1::WorkerRecord>& workers,
                        const std::vector<v1::Task>& tasks, int64_t now_ns);

}  // namespace vigil::coordinator
