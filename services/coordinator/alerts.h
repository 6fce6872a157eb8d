// Alert records in the coordinator's database (key layout: keys.h): the
// verdict watcher's current state per subject, its transitions, the alert
// channels applied from manifests, and the outbox of deliveries that the
// delivery thread (delivery.h) drains. See docs/alerts.md.
//
// No gRPC, no curl here: cheap to include, testable alone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/kv.h"
#include "storage/status.h"
#include "vigil/v1/alerts.pb.h"
#include "vigil/v1/types.pb.h"

namespace vigil::coordinator {

// Every transition of `tenant` with from_ns <= at_ns < to_ns, ascending
// time (the incidents of a report period). Workers' transitions are stored
// under tenant "".
storage::StatusOr<std::vector<v1::Transition>> LoadTransitions(storage::KvStore* kv,
                                                               std::string_view tenant,
                                                               int64_t from_ns, int64_t to_ns);

// Every current verdict record, in key order (tenant, asset, kind).
storage::StatusOr<std::vector<v1::VerdictRecord>> LoadVerdicts(storage::KvStore* kv);

// Every alert channel applied, by name.
storage::StatusOr<std::vector<v1::AlertChannel>> LoadAlertChannels(storage::KvStore* kv);

// Deliveries still pending (`sent` false) or done/given up (`sent` true),
// oldest first.
storage::StatusOr<std::vector<v1::Delivery>> LoadDeliveries(storage::KvStore* kv, bool sent);

// The deliveries created in [from_ns, to_ns), pending and done, by
// creation time: the deliveries of the alerts raised in that period (the
// watcher writes a transition, its alert's deliveries and their creation
// time in one synced batch). Two bounded range reads.
storage::StatusOr<std::vector<v1::Delivery>> LoadDeliveriesCreated(storage::KvStore* kv,
                                                                   int64_t from_ns, int64_t to_ns);

// The outbox key of a delivery (`sent`: its key once done).
std::string DeliveryKey(const v1::Delivery& d, bool sent);

// Where `alert` goes: one delivery per channel serving its tenant (a
// channel without `tenants` serves every tenant and the worker alerts, one
// with `tenants` only those), plus, when the tenant asked for it
// (Tenant.alert_contact), one to the tenant's contact through the first
// e-mail channel serving it. `tenant` may be nullptr (worker alerts).
std::vector<v1::Delivery> Route(const v1::Alert& alert,
                                const std::vector<v1::AlertChannel>& channels,
                                const v1::Tenant* tenant, int64_t now_ns);

// Delay before attempt `attempt` + 1 after `attempt` failures (1, 2, ...):
// base * 2^(attempt-1), capped at `cap_ns`, then scaled by a jitter factor
// in [0.5, 1) taken from `unit_random` (in [0, 1)), so that receivers
// coming back are not hit by every sender at once.
int64_t BackoffDelayNs(uint32_t attempt, int64_t base_ns, int64_t cap_ns, double unit_random);

}  // namespace vigil::coordinator
