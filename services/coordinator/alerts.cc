#include "services/coordinator/alerts.h"

#include <algorithm>

#include "services/coordinator/keys.h"
#include "services/coordinator/records.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

namespace {

// Appends the records of type T under `prefix` followed by I64(t), from_ns
// <= t < to_ns, in key order: one bounded range read.
template <typename T>
Status AppendTimeRange(storage::KvStore* kv, std::string_view prefix, int64_t from_ns,
                       int64_t to_ns, const char* what, std::vector<T>* out) {
  if (to_ns <= from_ns) return absl::OkStatus();
  std::string begin(prefix), end(prefix);
  storage::AppendI64(&begin, from_ns);
  storage::AppendI64(&end, to_ns);
  auto it = kv->NewIterator(Space::kMeta, {.upper_bound = end});
  for (it->Seek(begin); it->Valid(); it->Next()) {
    T t;
    if (!t.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(std::string(what) + " record does not decode");
    }
    out->push_back(std::move(t));
  }
  return it->status();
}

}  // namespace

StatusOr<std::vector<v1::Transition>> LoadTransitions(storage::KvStore* kv, std::string_view tenant,
                                                      int64_t from_ns, int64_t to_ns) {
  std::vector<v1::Transition> out;
  Status s = AppendTimeRange(kv, keys::TransitionsOf(tenant), from_ns, to_ns, "transition", &out);
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::vector<v1::VerdictRecord>> LoadVerdicts(storage::KvStore* kv) {
  return LoadRecords<v1::VerdictRecord>(kv, keys::kVerdictPrefix, "verdict");
}

StatusOr<std::vector<v1::AlertChannel>> LoadAlertChannels(storage::KvStore* kv) {
  return LoadRecords<v1::AlertChannel>(kv, keys::kAlertChannelPrefix, "alert channel");
}

StatusOr<std::vector<v1::Delivery>> LoadDeliveries(storage::KvStore* kv, bool sent) {
  return LoadRecords<v1::Delivery>(kv, sent ? keys::kSentPrefix : keys::kOutboxPrefix,
                                   "alert delivery");
}

StatusOr<std::vector<v1::Delivery>> LoadDeliveriesCreated(storage::KvStore* kv, int64_t from_ns,
                                                          int64_t to_ns) {
  std::vector<v1::Delivery> out;
  for (std::string_view prefix : {keys::kOutboxPrefix, keys::kSentPrefix}) {
    Status s = AppendTimeRange(kv, prefix, from_ns, to_ns, "alert delivery", &out);
    if (!s.ok()) return s;
  }
  std::stable_sort(out.begin(), out.end(), [](const v1::Delivery& a, const v1::Delivery& b) {
    return a.created_ns() < b.created_ns();
  });
  return out;
}

std::string DeliveryKey(const v1::Delivery& d, bool sent) {
  return keys::Delivery(sent ? keys::kSentPrefix : keys::kOutboxPrefix, d.created_ns(),
                        d.alert().id(), d.channel(), d.contact());
}

std::vector<v1::Delivery> Route(const v1::Alert& alert,
                                const std::vector<v1::AlertChannel>& channels,
                                const v1::Tenant* tenant, int64_t now_ns) {
  std::vector<v1::Delivery> out;
  auto delivery = [&](const v1::AlertChannel& c, const std::string& contact) {
    v1::Delivery d;
    *d.mutable_alert() = alert;
    d.set_channel(c.name());
    d.set_contact(contact);
    d.set_created_ns(now_ns);
    d.set_next_attempt_ns(now_ns);
    out.push_back(std::move(d));
  };
  const v1::AlertChannel* contact_via = nullptr;
  for (const v1::AlertChannel& c : channels) {
    bool serves = c.tenants().empty() ||
                  (!alert.tenant().empty() && std::find(c.tenants().begin(), c.tenants().end(),
                                                        alert.tenant()) != c.tenants().end());
    if (!serves) continue;
    delivery(c, "");
    if (contact_via == nullptr && c.email_to_size() > 0) contact_via = &c;
  }
  if (tenant != nullptr && tenant->alert_contact() && !tenant->contact().empty() &&
      contact_via != nullptr) {
    delivery(*contact_via, tenant->contact());
  }
  return out;
}

int64_t BackoffDelayNs(uint32_t attempt, int64_t base_ns, int64_t cap_ns, double unit_random) {
  if (attempt == 0) attempt = 1;
  int64_t d = base_ns;
  for (uint32_t i = 1; i < attempt && d < cap_ns; ++i) d *= 2;
  d = std::min(d, cap_ns);
  double jitter = 0.5 + 0.5 * std::clamp(unit_random, 0.0, 1.0);
  return std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(d) * jitter));
}

}  // namespace vigil::coordinator
