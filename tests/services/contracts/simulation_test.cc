// 90 simulated days for 3 tenants on backups generated on disk.
//
// A fake clock advances hour by hour. Backup "tools" write restore points
// into real directories (rsnapshot rotation, dated folders pruned like
// `restic forget`, dated dump files), with the incidents of the scenario.
// Vigil's side is the real code: the scheduler decides when inventories,
// integrity runs and drills happen (never inside a maintenance window),
// restore-point discovery lists the real directories, plausibility compares
// each new point with the previous one, and every local midnight each
// tenant's previous day is evaluated. The test then asserts the days on
// which each verdict failed and each asset's readiness, derived from the
// scenario's own definitions (when the incidents were staged), never from
// the evaluator's output.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "services/contracts/calendar.h"
#include "services/contracts/evaluate.h"
#include "services/contracts/plausibility.h"
#include "services/contracts/restore_points.h"
#include "services/contracts/schedule.h"
#include "tests/support/temp_dir.h"

namespace vigil::contracts {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kH = kHourNs;
constexpr int kDays = 90;
constexpr int kHistoryDays = 21;  // backups made before Vigil starts

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void Write(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}
void SetMtime(const fs::path& p, int64_t t) {
  struct timespec ts[2] = {{t / kSecondNs, t % kSecondNs}, {t / kSecondNs, t % kSecondNs}};
  ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << p;
}

// Files of one restore point: relative path -> content.
using Tree = std::map<std::string, std::string>;

Tree ReadTree(const fs::path& root) {
  Tree t;
  if (fs::is_regular_file(root)) {
    t[root.filename().string()] = Slurp(root);
    return t;
  }
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->is_regular_file()) t[fs::relative(it->path(), root).string()] = Slurp(it->path());
  }
  return t;
}

// --- Vigil's view of one backup set -------------------------------------
struct Watched {
  std::string tenant;
  const Tenant* tenant_spec = nullptr;
  const BackupSet* spec = nullptr;
  fs::path root;
  BackupSetFacts facts;
  std::map<int64_t, Tree> first_seen;  // content at first sight, by point time
  double drill_bytes_per_s = 0;        // what a restore of this set runs at
};

void Inventory(Watched& w, int64_t now) {
  auto d = DiscoverRestorePointsAt(*w.spec, w.root.string(), w.tenant_spec->timezone);
  ASSERT_TRUE(d.ok()) << d.status();
  std::set<int64_t> listed;
  for (const DiscoveredPoint& p : d->points) {
    listed.insert(p.time_ns);
    auto known = std::find_if(w.facts.points.begin(), w.facts.points.end(),
                              [&](const PointFact& f) { return f.time_ns == p.time_ns; });
    if (known != w.facts.points.end()) {
      known->name = p.name;  // rsnapshot renamed it; same point
      continue;
    }
    Tree tree = ReadTree(w.root / p.name);
    PointFact f;
    f.time_ns = p.time_ns;
    f.name = p.name;
    f.first_seen_ns = now;
    for (const auto& [path, content] : tree) {
      ++f.files;
      f.bytes += content.size();
    }
    // Plausibility against the newest earlier point Vigil knows.
    auto prev = w.first_seen.lower_bound(p.time_ns);
    if (prev != w.first_seen.begin()) {
      --prev;
      PointComparison c;
      c.prev.time_ns = prev->first;
      c.cur.time_ns = p.time_ns;
      for (const auto& [path, content] : prev->second) {
        ++c.prev.files;
        c.prev.bytes += content.size();
        c.prev.zero_length_files += content.empty();
      }
      for (const auto& [path, content] : tree) {
        ++c.cur.files;
        c.cur.bytes += content.size();
        c.cur.zero_length_files += content.empty();
        auto old = prev->second.find(path);
        if (old == prev->second.end()) {
          c.new_zero_length += content.empty();
          continue;
        }
        ++c.common_files;
        c.content_changed += old->second != content;
        c.became_zero_length += !old->second.empty() && content.empty();
      }
      for (const PlausibilityFinding& pf : CheckPlausibility(c)) {
        f.implausible.push_back(pf.message);
      }
    }
    w.first_seen[p.time_ns] = std::move(tree);
    w.facts.points.push_back(std::move(f));
  }
  for (PointFact& f : w.facts.points) {
    if (f.gone_ns == 0 && !listed.count(f.time_ns)) f.gone_ns = now;
  }
  if (w.facts.first_inventory_ns == 0) w.facts.first_inventory_ns = now;
  w.facts.last_inventory_ns = now;
}

// An integrity run lists the points first, as a worker does: rsnapshot
// renames them between runs, so a point is found by its time, not its name.
void IntegrityRun(Watched& w, int64_t now) {
  Inventory(w, now);
  IntegrityFact& i = w.facts.integrity;
  i.entries = 0;
  i.failures = 0;
  for (PointFact& f : w.facts.points) {
    if (f.gone_ns != 0) continue;
    Tree now_tree = ReadTree(w.root / f.name);
    const Tree& then = w.first_seen[f.time_ns];
    uint64_t bad = 0;
    std::string first_bad;
    for (const auto& [path, content] : then) {
      ++i.entries;
      auto it = now_tree.find(path);
      if (it == now_tree.end() || it->second != content) {
        ++bad;
        if (first_bad.empty()) first_bad = path;
      }
    }
    if (bad > 0) {
      i.failures += bad;
      if (f.damaged_ns == 0) {
        f.damaged_ns = now;
        f.damage = std::to_string(bad) + " entries modified or missing: " + first_bad;
      }
    }
  }
  i.verified_within = i.entries;
  i.oldest_verified_ns = now;
  i.last_run_ns = now;
}

void Drill(Watched& w, int64_t now) {
  const PointFact* newest = nullptr;
  for (const PointFact& f : w.facts.points) {
    if (f.gone_ns == 0 && (!newest || f.time_ns > newest->time_ns)) newest = &f;
  }
  if (newest == nullptr) return;
  DrillFact d;
  d.at_ns = now;
  d.point_time_ns = newest->time_ns;
  d.files = newest->files;
  // The sample stands for 10 GiB; the point for 1 TiB.
  d.bytes = 10ull << 30;
  d.point_bytes = 1ull << 40;
  d.seconds = static_cast<double>(d.bytes) / w.drill_bytes_per_s;
  w.facts.drills.push_back(d);
}

// --- The scenario ------------------------------------------------------------
class Simulation : public ::testing::Test {
 protected:
  void SetUp() override {
    cal_ = std::make_unique<Calendar>("Europe/Paris");
    day0_ = cal_->LocalMidnight(2026, 8, 3);  // a Monday

    Location nas{.name = "nas", .site = "office"};
    nas.timezone = "Europe/Paris";
    // The NAS runs its own jobs 21:00-23:59: Vigil does not read it then.
    nas.maintenance_windows.push_back(
        {.days = 0x7f, .start_minute = 21 * 60, .duration_ns = 3 * kH - kMinuteNs});
    Location vault{.name = "vault", .site = "provider"};
    vault.offsite = true;
    vault.immutable = true;
    locations_["nas"] = nas;
    locations_["vault"] = vault;

    for (const char* t : {"dupont", "martin", "leroy"}) {
      Tenant tn;
      tn.name = t;
      tn.timezone = "Europe/Paris";
      tenants_[t] = tn;
    }
    // dupont: file server, rsnapshot on the NAS + dated copies offsite.
    Contract& a = contracts_["dupont"];
    a.tenant = "dupont";
    a.assets.push_back(Asset{.name = "fileserver"});
    a.assets[0].backup_sets.push_back(Set("fs-nas", "nas", Layout::kRsnapshot));
    a.assets[0].backup_sets.push_back(Set("fs-vault", "vault", Layout::kDatedFolders));
    AddRpo(a, 25 * kH);  // daily at 22:00 local: 25 h across the fall-back
    AddRetention(a, 7, 4);
    AddCopies(a, 2, 1);
    AddIntegrity(a, 7 * kDayNs);
    AddDrill(a, 30 * kDayNs, 8 * kH);
    // martin: accounting dumps (files) and weekly mailbox exports.
    Contract& b = contracts_["martin"];
    b.tenant = "martin";
    b.assets.push_back(Asset{.name = "accounting"});
    b.assets[0].backup_sets.push_back(Set("acct-nas", "nas", Layout::kDatedFiles));
    b.assets.push_back(Asset{.name = "mail"});
    b.assets[1].backup_sets.push_back(Set("mail-nas", "nas", Layout::kDatedFolders));
    AddRpo(b, 26 * kH, {"accounting"});
    AddRpo(b, 8 * kDayNs, {"mail"});
    AddRetention(b, 14, 0, {"accounting"});
    // leroy: file server pruned like restic forget + offsite copy; a
    // database whose restore is too slow for its RTO.
    Contract& c = contracts_["leroy"];
    c.tenant = "leroy";
    c.assets.push_back(Asset{.name = "fileserver"});
    c.assets[0].backup_sets.push_back(Set("files-nas", "nas", Layout::kDatedFolders));
    c.assets[0].backup_sets.push_back(Set("files-vault", "vault", Layout::kDatedFolders));
    c.assets.push_back(Asset{.name = "database"});
    c.assets[1].backup_sets.push_back(Set("db-nas", "nas", Layout::kDatedFolders));
    AddRpo(c, 26 * kH);
    AddRetention(c, 7, 4, {"fileserver"});
    AddCopies(c, 2, 1, {"fileserver"});
    AddDrill(c, 30 * kDayNs, 4 * kH, {"database"});

    for (auto& [name, contract] : contracts_) {
      for (const Asset& asset : contract.assets) {
        for (const BackupSet& s : asset.backup_sets) {
          Watched w;
          w.tenant = name;
          w.tenant_spec = &tenants_[name];
          w.spec = &s;
          w.root = root_ / s.location / name / s.path;
          // 1 TiB restores in 2.9 h at 100 MiB/s; the database in 5.8 h.
          w.drill_bytes_per_s = s.name == "db-nas" ? 50.0 * (1 << 20) : 100.0 * (1 << 20);
          fs::create_directories(w.root);
          watched_[s.name] = std::move(w);
        }
      }
    }
  }

  static BackupSet Set(const std::string& name, const std::string& loc, Layout layout) {
    BackupSet s;
    s.name = name;
    s.location = loc;
    s.path = name;
    s.layout = layout;
    return s;
  }
  static Commitment& Add(Contract& c, CommitmentKind k, std::vector<std::string> assets) {
    Commitment x;
    x.kind = k;
    x.assets = std::move(assets);
    c.commitments.push_back(std::move(x));
    return c.commitments.back();
  }
  static void AddRpo(Contract& c, int64_t age, std::vector<std::string> a = {}) {
    Add(c, CommitmentKind::kRpo, a).rpo.max_age_ns = age;
  }
  static void AddRetention(Contract& c, int daily, int weekly, std::vector<std::string> a = {}) {
    Commitment& x = Add(c, CommitmentKind::kRetention, a);
    x.retention.daily = daily;
    x.retention.weekly = weekly;
  }
  static void AddCopies(Contract& c, int min, int off, std::vector<std::string> a = {}) {
    Commitment& x = Add(c, CommitmentKind::kCopies, a);
    x.copies.min = min;
    x.copies.offsite = off;
  }
  static void AddIntegrity(Contract& c, int64_t within, std::vector<std::string> a = {}) {
    Commitment& x = Add(c, CommitmentKind::kIntegrity, a);
    x.integrity.reverify_within_ns = within;
    x.integrity.budget_bytes = 1ull << 30;
  }
  static void AddDrill(Contract& c, int64_t every, int64_t rto, std::vector<std::string> a = {}) {
    Commitment& x = Add(c, CommitmentKind::kRestoreDrill, a);
    x.drill.every_ns = every;
    x.drill.rto_ns = rto;
  }

  // Local time of day `day` at hh:mm (day 0 = 2026-08-03, a Monday).
  int64_t At(int day, int hh, int mm = 0) const {
    auto c = cal_->ToCivil(day0_ + day * kDayNs + 12 * kH);  // noon: clear of DST shifts
    return cal_->LocalTime(c.year, c.month, c.day, hh, mm);
  }
  int DayOf(int64_t t) const {
    Interval d = cal_->UnitContaining(CalendarUnit::kDay, t);
    int64_t offset = d.start_ns + 12 * kH - day0_;  // floor division: days before 0 too
    return static_cast<int>(offset >= 0 ? offset / kDayNs : -((-offset + kDayNs - 1) / kDayNs));
  }
  std::string Stamp(int64_t t) const {
    auto c = cal_->ToCivil(t);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u%02u", c.year, c.month, c.day, c.hour,
                  c.minute);
    return buf;
  }

  // The client's source data on day `day`: 20 files, one changes daily.
  Tree Source(const std::string& who, int day) const {
    Tree t;
    for (int i = 0; i < 20; ++i) {
      int version = (i == (day % 20)) ? day : 0;
      t["dir" + std::to_string(i % 3) + "/f" + std::to_string(i)] =
          who + " file " + std::to_string(i) + " v" + std::to_string(version) +
          std::string(100 + i * 10, 'x');
    }
    return t;
  }
  static void WriteTree(const fs::path& dir, const Tree& t) {
    for (const auto& [p, c] : t) Write(dir / p, c);
  }

  // rsnapshot: `retain daily 7`, `retain weekly 4`; weekly runs first.
  void Rsnapshot(Watched& w, const Tree& src, int64_t t, bool weekly) {
    const fs::path& r = w.root;
    auto mv = [&](const std::string& a, const std::string& b) {
      if (fs::exists(r / a)) fs::rename(r / a, r / b);
    };
    if (weekly) {
      fs::remove_all(r / "weekly.3");
      for (int i = 2; i >= 0; --i)
        mv("weekly." + std::to_string(i), "weekly." + std::to_string(i + 1));
      mv("daily.6", "weekly.0");
      return;
    }
    fs::remove_all(r / "daily.6");
    for (int i = 5; i >= 0; --i) mv("daily." + std::to_string(i), "daily." + std::to_string(i + 1));
    WriteTree(r / "daily.0", src);
    SetMtime(r / "daily.0", t);
  }
  // restic-like forget on dated folders: --keep-daily D --keep-weekly W
  // (the newest point of each of the last D days / W weeks having one).
  void Forget(Watched& w, int daily, int weekly) {
    std::map<int64_t, std::string> points;
    for (const auto& e : fs::directory_iterator(w.root)) {
      auto t = ParseDateInName(e.path().filename().string(), "Europe/Paris");
      if (t) points[*t] = e.path().filename().string();
    }
    std::set<std::string> keep;
    for (auto [unit, n] : {std::pair{CalendarUnit::kDay, daily}, {CalendarUnit::kWeek, weekly}}) {
      std::set<int64_t> slots;
      for (auto it = points.rbegin(); it != points.rend(); ++it) {
        int64_t slot = cal_->UnitContaining(unit, it->first).start_ns;
        if (slots.count(slot)) continue;
        if (static_cast<int>(slots.size()) == n) break;
        slots.insert(slot);
        keep.insert(it->second);
      }
    }
    for (const auto& [t, name] : points) {
      if (!keep.count(name)) fs::remove_all(w.root / name);
    }
  }
  void PruneOlderThan(Watched& w, int64_t cutoff) {
    for (const auto& e : fs::directory_iterator(w.root)) {
      auto t = ParseDateInName(e.path().filename().string(), "Europe/Paris");
      if (t && *t < cutoff) fs::remove_all(e.path());
    }
  }

  // The backup tools' schedule, with the scenario's incidents.
  void Backups(int64_t t) {
    int day = DayOf(t);
    auto c = cal_->ToCivil(t);
    bool sunday = c.weekday == 6;
    // dupont: rsnapshot daily at 22:00 (weekly at 21:50 on Sundays); on day
    // 20 (a Sunday) the job runs late, at 23:30. The offsite copy of the new
    // point follows 20 minutes after it.
    Watched& fs_nas = watched_["fs-nas"];
    if (sunday && c.hour == 21 && c.minute == 50) Rsnapshot(fs_nas, {}, t, true);
    int64_t nas_run = day == kLateDay ? At(day, 23, 30) : At(day, 22);
    if (t == nas_run) Rsnapshot(fs_nas, Source("dupont", day), t, false);
    if (t == nas_run + 20 * kMinuteNs) {
      Watched& v = watched_["fs-vault"];
      WriteTree(v.root / ("copy-" + Stamp(t)), Source("dupont", day));
      PruneOlderThan(v, t - 30 * kDayNs);
      if (day == kCorruptDay) {  // bit rot in an older offsite copy
        fs::path victim = v.root / ("copy-" + Stamp(At(kCorruptPointDay, 22, 20))) / "dir1/f4";
        std::string s = Slurp(victim);
        ASSERT_FALSE(s.empty());
        s[s.size() / 2] ^= 0x20;
        Write(victim, s);
      }
    }
    // martin: accounting dump at 01:00, the tool keeps 30 days; on day
    // kPruneDay an operator deletes every dump older than 5 days.
    Watched& acct = watched_["acct-nas"];
    if (t == At(day, 1)) {
      Write(acct.root / ("compta_" + Stamp(t) + ".sql.gz"),
            "dump of day " + std::to_string(day) + std::string(5000, 'd'));
      PruneOlderThan(acct, t - 30 * kDayNs);
    }
    if (t == At(kPruneDay, 10)) PruneOlderThan(acct, t - 5 * kDayNs - kH);
    // martin: weekly mailbox export on Sundays 03:00; on kEmptiedDay the
    // source mailbox store was emptied by mistake: a near-empty export.
    if (sunday && c.hour == 3 && c.minute == 0) {
      Watched& mail = watched_["mail-nas"];
      Tree src = Source("martin-mail", day);
      if (day == kEmptiedDay) src = {{"README.txt", ""}};
      WriteTree(mail.root / ("mail-" + Stamp(t)), src);
      PruneOlderThan(mail, t - 56 * kDayNs);
    }
    // leroy: files at 20:00 + forget --keep-daily 7 --keep-weekly 4; the
    // vault copy at 20:30 stops on kVaultStopDay; database dump at 02:00.
    if (t == At(day, 20)) {
      Watched& f = watched_["files-nas"];
      WriteTree(f.root / ("snap-" + Stamp(t)), Source("leroy", day));
      Forget(f, 7, 4);
    }
    if (t == At(day, 20, 30) && day < kVaultStopDay) {
      Watched& v = watched_["files-vault"];
      WriteTree(v.root / ("snap-" + Stamp(t)), Source("leroy", day));
      Forget(v, 7, 4);
    }
    if (t == At(day, 2)) {
      Watched& d = watched_["db-nas"];
      WriteTree(d.root / ("db-" + Stamp(t)), Source("leroy-db", day));
      PruneOlderThan(d, t - 14 * kDayNs);
    }
  }

  void RunChecks(int64_t t) {
    for (auto& [name, contract] : contracts_) {
      for (const DueCheck& d : PlanChecks(tenants_[name], contract, locations_, history_, t)) {
        if (d.start_ns > t) continue;
        ASSERT_FALSE(InMaintenance(locations_[d.location], t))
            << d.backup_set << " read in a maintenance window at " << cal_->Format(t);
        Watched& w = watched_[d.backup_set];
        switch (d.kind) {
          case CheckKind::kInventory:
            Inventory(w, t);
            break;
          case CheckKind::kIntegrity:
            IntegrityRun(w, t);
            break;
          case CheckKind::kRestoreDrill:
            Drill(w, t);
            break;
        }
        history_[{d.backup_set, d.kind}] = t;
        ++checks_run_[d.kind];
      }
    }
  }

  // Verdicts per (tenant, asset, kind) and readiness per (tenant, asset),
  // one per simulated day.
  //
  // Day d is judged at 12:30 on day d+1, as seen then: every backup set has
  // been inventoried since midnight by then (inventory cadences are at most
  // 12 h + jitter here, or 24 h + jitter for the weekly exports), so a
  // breach late on day d is seen rather than "unknown".
  void EvaluateDay(int day) {
    for (auto& [name, contract] : contracts_) {
      TenantFacts tf;
      for (const Asset& a : contract.assets) {
        for (const BackupSet& s : a.backup_sets) tf.sets[s.name] = watched_[s.name].facts;
      }
      Interval d{At(day, 0), At(day + 1, 0)};
      Evaluation e = Evaluate(tenants_[name], contract, locations_, tf, d, At(day + 1, 12, 30));
      for (const CommitmentVerdict& v : e.verdicts) {
        verdicts_[{name, v.asset, v.kind}].push_back(v.verdict);
        summaries_[{name, v.asset, v.kind}].push_back(v.summary);
      }
      for (const AssetReadiness& r : e.readiness) {
        readiness_[{name, r.asset}].push_back(r.readiness);
        site_loss_[{name, r.asset}].push_back(r.site_loss);
      }
    }
  }

  // Days on which a verdict was `v`.
  std::set<int> DaysWith(const std::string& t, const std::string& a, CommitmentKind k, Verdict v) {
    std::set<int> out;
    const auto& series = verdicts_[{t, a, k}];
    for (size_t i = 0; i < series.size(); ++i) {
      if (series[i] == v) out.insert(static_cast<int>(i));
    }
    return out;
  }
  std::set<int> NotReadyDays(const std::string& t, const std::string& a, Readiness r,
                             bool site_loss = false) {
    std::set<int> out;
    const auto& series = (site_loss ? site_loss_ : readiness_)[{t, a}];
    for (size_t i = 0; i < series.size(); ++i) {
      if (series[i] == r) out.insert(static_cast<int>(i));
    }
    return out;
  }
  static std::set<int> Range(int from, int to) {  // inclusive
    std::set<int> s;
    for (int i = from; i <= to; ++i) s.insert(i);
    return s;
  }

  // The incidents (simulated day numbers).
  static constexpr int kLateDay = 20;
  static constexpr int kCorruptDay = 55, kCorruptPointDay = 50;
  static constexpr int kPruneDay = 40;
  static constexpr int kEmptiedDay = 69;  // a Sunday
  static constexpr int kVaultStopDay = 30;

  vigil::testing::TempDir tmp_;
  const fs::path root_ = tmp_.path();
  std::unique_ptr<Calendar> cal_;
  int64_t day0_ = 0;
  std::map<std::string, Location> locations_;
  std::map<std::string, Tenant> tenants_;
  std::map<std::string, Contract> contracts_;
  std::map<std::string, Watched> watched_;
  CheckHistory history_;
  std::map<CheckKind, int> checks_run_;
  using Key = std::tuple<std::string, std::string, CommitmentKind>;
  std::map<Key, std::vector<Verdict>> verdicts_;
  std::map<Key, std::vector<std::string>> summaries_;
  std::map<std::pair<std::string, std::string>, std::vector<Readiness>> readiness_;
  std::map<std::pair<std::string, std::string>, std::vector<Readiness>> site_loss_;  // same days
};

TEST_F(Simulation, NinetyDaysThreeTenants) {
  // History before Vigil starts, then 90 days in 10-minute steps.
  for (int64_t t = At(-kHistoryDays, 0); t <= At(kDays, 12, 30); t += 10 * kMinuteNs) {
    ASSERT_NO_FATAL_FAILURE(Backups(t));
    if (t < At(0, 0)) continue;
    ASSERT_NO_FATAL_FAILURE(RunChecks(t));
    if (t == At(DayOf(t), 12, 30) && DayOf(t) > 0) EvaluateDay(DayOf(t) - 1);
  }
  Key rpo_key{"dupont", "fileserver", CommitmentKind::kRpo};
  ASSERT_EQ(verdicts_[rpo_key].size(), size_t{kDays});
  // The scheduler ran every kind, inventories most.
  EXPECT_GT(checks_run_[CheckKind::kInventory], kDays * 6);
  EXPECT_GT(checks_run_[CheckKind::kIntegrity], kDays / 2);
  EXPECT_GE(checks_run_[CheckKind::kRestoreDrill], 2 * 3);

  auto dump = [&](const std::string& t, const std::string& a, CommitmentKind k) {
    std::string s;
    const auto& sum = summaries_[{t, a, k}];
    const auto& ver = verdicts_[{t, a, k}];
    for (size_t i = 0; i < sum.size(); ++i) {
      if (ver[i] != Verdict::kPass) {
        s += "\n  day " + std::to_string(i) + " " + VerdictName(ver[i]) + ": " + sum[i];
      }
    }
    return s;
  };
  const std::set<int> none;

  // dupont: the late job (day 20, 23:30 instead of 22:00; its copy at
  // 23:50 instead of 22:20) breaks the 25 h RPO at 23:20 on day 20 only;
  // the rsnapshot rotation raises no retention alarm, nor does the 25-hour
  // day of the switch from summer time (day 83).
  EXPECT_EQ(DaysWith("dupont", "fileserver", CommitmentKind::kRpo, Verdict::kFail),
            std::set<int>{kLateDay})
      << dump("dupont", "fileserver", CommitmentKind::kRpo);
  EXPECT_EQ(DaysWith("dupont", "fileserver", CommitmentKind::kRetention, Verdict::kFail), none)
      << dump("dupont", "fileserver", CommitmentKind::kRetention);
  EXPECT_EQ(DaysWith("dupont", "fileserver", CommitmentKind::kCopies, Verdict::kFail), none)
      << dump("dupont", "fileserver", CommitmentKind::kCopies);
  // The corrupted offsite copy (of day 50, damaged on day 55 at 22:20) is
  // found by the next integrity run (every 42 h + jitter at most, and the
  // vault has no maintenance window), and fails until the copy ages out of
  // the vault's 30 days (pruned on day 81 at 22:20: strictly older than
  // 30 days) and the next integrity run sees it gone.
  std::set<int> integ =
      DaysWith("dupont", "fileserver", CommitmentKind::kIntegrity, Verdict::kFail);
  ASSERT_FALSE(integ.empty()) << dump("dupont", "fileserver", CommitmentKind::kIntegrity);
  int detected = *integ.begin();
  EXPECT_GE(detected, kCorruptDay);
  EXPECT_LE(detected, kCorruptDay + 2);
  EXPECT_EQ(integ, Range(detected, *integ.rbegin()));
  // Still failing when judged on day 81 12:30 (day 80), cleared by the
  // first integrity run after the prune on day 81 22:20 (day 83 at most).
  EXPECT_GE(*integ.rbegin(), kCorruptPointDay + 30);
  EXPECT_LE(*integ.rbegin(), kCorruptPointDay + 33);
  EXPECT_EQ(DaysWith("dupont", "fileserver", CommitmentKind::kIntegrity, Verdict::kUnknown), none);
  EXPECT_EQ(DaysWith("dupont", "fileserver", CommitmentKind::kRestoreDrill, Verdict::kFail), none)
      << dump("dupont", "fileserver", CommitmentKind::kRestoreDrill);
  // Readiness: at risk exactly while the integrity failure stands.
  EXPECT_EQ(NotReadyDays("dupont", "fileserver", Readiness::kAtRisk), integ);
  EXPECT_EQ(NotReadyDays("dupont", "fileserver", Readiness::kNotReady), none);

  // martin: on day 40 at 10:00 an operator deletes every dump taken before
  // day 35 09:00 (days ..35), leaving holes in the 14 daily slots (27..40).
  // Vigil sees it at the next inventory (13 h cadence, pushed past the
  // NAS's 21:00-24:00 window: day 40 or day 41 00:00). It fails until the
  // last deleted dump (day 35) leaves the ladder: at the start of day 49
  // the 14 days with points are still 35..48, so day 49 fails too; at the
  // start of day 50 they are 36..49 and it passes.
  std::set<int> ret = DaysWith("martin", "accounting", CommitmentKind::kRetention, Verdict::kFail);
  ASSERT_FALSE(ret.empty()) << dump("martin", "accounting", CommitmentKind::kRetention);
  EXPECT_GE(*ret.begin(), kPruneDay);
  EXPECT_LE(*ret.begin(), kPruneDay + 1);
  EXPECT_EQ(ret, Range(*ret.begin(), kPruneDay + 9))
      << dump("martin", "accounting", CommitmentKind::kRetention);
  EXPECT_EQ(DaysWith("martin", "accounting", CommitmentKind::kRpo, Verdict::kFail), none)
      << dump("martin", "accounting", CommitmentKind::kRpo);
  // The emptied mailbox export (Sunday day 69, 03:00) is flagged as
  // implausible: the newest GOOD export stays day 62's, so the 8-day RPO
  // fails from day 70 03:00 until the next good export on day 76 03:00.
  EXPECT_EQ(DaysWith("martin", "mail", CommitmentKind::kRpo, Verdict::kFail),
            Range(kEmptiedDay + 1, kEmptiedDay + 7))
      << dump("martin", "mail", CommitmentKind::kRpo);
  // At risk from the day the empty export is seen (the inventory after
  // 03:00 on day 69) until a good export replaces it on day 76.
  EXPECT_EQ(NotReadyDays("martin", "mail", Readiness::kAtRisk),
            Range(kEmptiedDay, kEmptiedDay + 6));
  // A required dump deleted: that point cannot be restored, so the asset
  // is at risk while retention fails.
  EXPECT_EQ(NotReadyDays("martin", "accounting", Readiness::kAtRisk), ret);
  // martin keeps nothing offsite: after the loss of the office nothing is
  // left to restore, every day.
  EXPECT_EQ(NotReadyDays("martin", "accounting", Readiness::kNotReady, true), Range(0, kDays - 1));

  // leroy: the forget policy raises no retention alarm; the vault copy
  // stopped after day 29: on day 30 its newest copy (day 29 20:30) is
  // 27.5 h old at midnight > 26 h, so copies fail from day 30 on.
  EXPECT_EQ(DaysWith("leroy", "fileserver", CommitmentKind::kRetention, Verdict::kFail), none)
      << dump("leroy", "fileserver", CommitmentKind::kRetention);
  EXPECT_EQ(DaysWith("leroy", "fileserver", CommitmentKind::kRpo, Verdict::kFail), none)
      << dump("leroy", "fileserver", CommitmentKind::kRpo);
  EXPECT_EQ(DaysWith("leroy", "fileserver", CommitmentKind::kCopies, Verdict::kFail),
            Range(kVaultStopDay, kDays - 1))
      << dump("leroy", "fileserver", CommitmentKind::kCopies);
  // The database drill projects 1 TiB at 50 MiB/s = 5.8 h > the 4 h RTO:
  // every day fails (the first drill runs on day 0), and it is at risk.
  EXPECT_EQ(DaysWith("leroy", "database", CommitmentKind::kRestoreDrill, Verdict::kFail),
            Range(0, kDays - 1))
      << dump("leroy", "database", CommitmentKind::kRestoreDrill);
  EXPECT_EQ(NotReadyDays("leroy", "database", Readiness::kAtRisk), Range(0, kDays - 1));
  EXPECT_EQ(NotReadyDays("leroy", "fileserver", Readiness::kAtRisk), none);
  // Yet after a fire at the office it could not be restored as promised:
  // the vault copy stopped on day 30, so the readiness after site loss is
  // not ready from then on (the copies commitment fails), ready before.
  EXPECT_EQ(NotReadyDays("leroy", "fileserver", Readiness::kNotReady, true),
            Range(kVaultStopDay, kDays - 1));
  EXPECT_EQ(NotReadyDays("leroy", "fileserver", Readiness::kReady, true),
            Range(0, kVaultStopDay - 1));

  // Nothing was ever "unknown": every set was inventoried in time.
  for (const auto& [key, series] : verdicts_) {
    const auto& [t, a, k] = key;
    EXPECT_EQ(DaysWith(t, a, k, Verdict::kUnknown), none)
        << t << "/" << a << "/" << CommitmentKindName(k) << dump(t, a, k);
  }
}

}  // namespace
}  // namespace vigil::contracts
