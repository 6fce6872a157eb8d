// The read-budget ledger (read_ledger.h).
#include "services/coordinator/read_ledger.h"

#include <algorithm>

#include "services/common/text.h"
#include "services/common/time.h"

namespace vigil::coordinator {

std::string ReadLedger::EstimateKey(const v1::Task& t) {
  const char* kind = t.kind() == v1::TASK_KIND_DRILL ? "drill"
                     : t.inventory_only()            ? "inventory"
                                                     : "integrity";
  return t.backup_set().tenant() + "/" + t.backup_set().name() + "/" + kind;
}

void ReadLedger::Rebuild(const std::vector<v1::Task>& tasks) {
  MutexLock lock(&mu_);
  spent_.clear();
  last_.clear();
  for (const v1::Task& t : tasks) AddLocked(t);
}

void ReadLedger::Add(const v1::Task& done) {
  MutexLock lock(&mu_);
  AddLocked(done);
}

void ReadLedger::AddLocked(const v1::Task& t) {
  if (t.state() != v1::TASK_STATE_DONE || !t.has_store_usage()) return;
  const Entry e{t.finished_ns(), {t.store_usage().bytes_read(), t.store_usage().requests()}};
  spent_[t.backup_set().location()][t.id()] = e;
  PruneLocked(t.backup_set().location(), e.at_ns);  // memory stays bounded by a day of tasks
  Entry& last = last_[EstimateKey(t)];
  if (e.at_ns >= last.at_ns) last = e;
}

void ReadLedger::PruneLocked(const std::string& location, int64_t now_ns) {
  auto it = spent_.find(location);
  if (it == spent_.end()) return;
  for (auto e = it->second.begin(); e != it->second.end();) {
    e = e->second.at_ns <= now_ns - kWindowNs ? it->second.erase(e) : std::next(e);
  }
  if (it->second.empty()) spent_.erase(it);
}

std::vector<ReadLedger::Entry> ReadLedger::WindowLocked(const std::string& location,
                                                        int64_t now_ns) const {
  std::vector<Entry> out;
  auto it = spent_.find(location);
  if (it == spent_.end()) return out;
  for (const auto& [id, e] : it->second) {
    if (e.at_ns > now_ns - kWindowNs && e.at_ns <= now_ns) out.push_back(e);
  }
  std::sort(out.begin(), out.end(),
            [](const Entry& a, const Entry& b) { return a.at_ns < b.at_ns; });
  return out;
}

ReadLedger::Spend ReadLedger::SpentAt(const std::string& location, int64_t now_ns) {
  MutexLock lock(&mu_);
  Spend s;
  for (const Entry& e : WindowLocked(location, now_ns)) {
    s.bytes += e.spend.bytes;
    s.requests += e.spend.requests;
  }
  return s;
}

ReadLedger::Spend ReadLedger::EstimateLocked(const v1::Task& task) {
  auto it = last_.find(EstimateKey(task));
  return it == last_.end() ? Spend{} : it->second.spend;
}

ReadLedger::Spend ReadLedger::EstimateOf(const v1::Task& task) {
  MutexLock lock(&mu_);
  return EstimateLocked(task);
}

ReadLedger::Decision ReadLedger::Decide(const v1::Task& task, const v1::ReadBudget& budget,
                                        const std::vector<const v1::Task*>& leased_here,
                                        int64_t now_ns) {
  MutexLock lock(&mu_);
  const std::string& location = task.backup_set().location();
  const std::vector<Entry> entries = WindowLocked(location, now_ns);  // oldest first
  Decision d;
  if (entries.empty() && leased_here.empty()) return d;  // once a day, whatever its size
  Spend spent, pending = EstimateLocked(task);
  for (const Entry& e : entries) {
    spent.bytes += e.spend.bytes;
    spent.requests += e.spend.requests;
  }
  for (const v1::Task* t : leased_here) {
    const Spend s = EstimateLocked(*t);
    pending.bytes += s.bytes;
    pending.requests += s.requests;
  }
  const uint64_t max_bytes = budget.bytes_per_day(), max_requests = budget.requests_per_day();
  // Room left, and room for this task and those running there.
  auto fits = [&](const Spend& s) {
    return (max_bytes == 0 || (s.bytes < max_bytes && s.bytes + pending.bytes <= max_bytes)) &&
           (max_requests == 0 ||
            (s.requests < max_requests && s.requests + pending.requests <= max_requests));
  };
  if (fits(spent)) return d;
  // Deferred: until enough of the window's spend is 24 h old (or all of it:
  // then the empty-ledger rule admits it).
  d.admit = false;
  Spend left = spent;
  for (const Entry& e : entries) {
    left.bytes -= e.spend.bytes;
    left.requests -= e.spend.requests;
    d.next_ns = e.at_ns + kWindowNs;
    if (fits(left)) break;
  }
  if (d.next_ns == 0) d.next_ns = now_ns;  // only leased tasks in the way
  const bool bytes_short =
      max_bytes != 0 && (spent.bytes >= max_bytes || spent.bytes + pending.bytes > max_bytes);
  const std::string measure =
      bytes_short ? HumanBytes(static_cast<double>(spent.bytes)) + " of " +
                        HumanBytes(static_cast<double>(max_bytes)) + " (bytesPerDay)"
                  : GroupDigits(spent.requests) + " of " + GroupDigits(max_requests) +
                        " requests (requestsPerDay)";
  const bool spent_out = bytes_short ? spent.bytes >= max_bytes : spent.requests >= max_requests;
  std::string estimate;
  if (!spent_out) {
    estimate = " and this check would take about " +
               (bytes_short ? HumanBytes(static_cast<double>(pending.bytes))
                            : GroupDigits(pending.requests) + " requests") +
               (leased_here.empty() ? " (the set's last)"
                                    : " (the set's last, and the checks running there)");
  }
  d.why = "read budget of " + location + (spent_out ? " spent: " : ": ") + measure +
          (spent_out ? "" : " spent") + " in the last 24 h" + estimate + "; next check after " +
          FormatTimeUtc(d.next_ns);
  return d;
}

}  // namespace vigil::coordinator
