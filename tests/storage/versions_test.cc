// Entry versions with point ranges (storage/versions.h) on a real RocksDB:
// a model-based test (random points added anywhere, deleted, entries
// replaced) checked against a plain map of every point's entries after each
// step, plus the properties the layout exists for: an unchanged point writes
// nothing but its point record, deleting every point leaves nothing behind.
#include "storage/versions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/catalogue.h"
#include "storage/diff.h"
#include "storage/hash.h"
#include "storage/key_codec.h"
#include "storage/key_parts.h"
#include "storage/rocks_kv.h"
#include "tests/storage/test_util.h"

namespace vigil::storage {
namespace {

using testing::ReferencePathOrder;
using testing::TempDir;

struct PathLess {
  bool operator()(const std::string& a, const std::string& b) const {
    return ReferencePathOrder(a, b) < 0;
  }
};
using PointEntries = std::map<std::string, EntryRecord, PathLess>;
using Model = std::map<int64_t, PointEntries>;

EntryRecord Rec(uint64_t content, int64_t mtime = 500, int64_t first_seen = 7) {
  EntryRecord r;
  r.type = EntryType::kFile;
  r.size = 100 + content % 1000;
  r.mtime_ns = mtime;
  r.digest = HashBytes(HashAlgorithm::kXxh3_128, "content-" + std::to_string(content));
  r.first_seen_ns = first_seen;
  return r;
}

class VersionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kv = OpenRocksKv(dir_.path() + "/db");
    ASSERT_TRUE(kv.ok()) << kv.status();
    kv_ = std::move(*kv);
    v_ = std::make_unique<Versions>(kv_.get());
  }

  // Writes a point through a stream, writing its batch whenever it holds
  // more than `batch_bytes`. Returns the stream (for its counts).
  std::unique_ptr<Versions::PointStream> WritePoint(int64_t t, const PointEntries& entries,
                                                    size_t batch_bytes = 4 << 20) {
    auto w = v_->NewPoint("acme", "fs", t);
    EXPECT_TRUE(w.ok()) << w.status();
    if (!w.ok()) return nullptr;
    KvBatch batch;
    for (const auto& [path, rec] : entries) {
      Status s = (*w)->Put(path, rec, &batch);
      EXPECT_TRUE(s.ok()) << path << ": " << s;
      if (batch.approximate_bytes() > batch_bytes) {
        EXPECT_TRUE(kv_->Write(batch, {}).ok());
        batch.Clear();
      }
    }
    EXPECT_TRUE((*w)->Finish(&batch).ok());
    EXPECT_TRUE(kv_->Write(batch, {}).ok());
    return std::move(*w);
  }

  Status Update(int64_t t, const std::string& path, const EntryRecord* rec) {
    auto points = v_->Points("acme", "fs");
    if (!points.ok()) return points.status();
    KvBatch batch;
    if (Status s = v_->Update("acme", "fs", t, *points, path, rec, &batch); !s.ok()) return s;
    return kv_->Write(batch, {});
  }

  PointEntries ScanPoint(int64_t t) {
    PointEntries out;
    auto s = v_->Scan("acme", "fs", t);
    std::string last;
    for (; s->Valid(); s->Next()) {
      const Version& v = s->version();
      EXPECT_TRUE(last.empty() || ReferencePathOrder(last, v.path) < 0) << last << " " << v.path;
      last = v.path;
      EXPECT_TRUE(out.emplace(v.path, v.entry).second) << "twice: " << v.path;
    }
    EXPECT_TRUE(s->status().ok()) << s->status();
    return out;
  }

  // Keys of a keyspace (all of them: one test set per database).
  size_t CountKeys(Space space) {
    size_t n = 0;
    auto it = kv_->NewIterator(space, {});
    for (it->Seek(""); it->Valid(); it->Next()) ++n;
    return n;
  }

  void ExpectMatches(const Model& model) {
    auto points = v_->Points("acme", "fs");
    ASSERT_TRUE(points.ok());
    std::vector<int64_t> want;
    for (const auto& [t, e] : model) want.push_back(t);
    ASSERT_EQ(*points, want);
    for (const auto& [t, entries] : model) {
      PointEntries got = ScanPoint(t);
      ASSERT_EQ(got.size(), entries.size()) << "point " << t;
      auto count = v_->Count("acme", "fs", t);
      ASSERT_TRUE(count.ok());
      EXPECT_EQ(*count, entries.size()) << "point " << t;
      for (const auto& [path, rec] : entries) {
        auto it = got.find(path);
        ASSERT_NE(it, got.end()) << "point " << t << " lacks " << path;
        EXPECT_TRUE(SameContent(it->second, rec)) << "point " << t << " " << path;
        auto one = v_->Get("acme", "fs", t, path);
        ASSERT_TRUE(one.ok()) << path << ": " << one.status();
        EXPECT_TRUE(SameContent(one->entry, rec));
      }
      // Beneath each directory (ScanUnder): the model's entries under it,
      // in order, and nothing else (a sibling whose name extends the
      // directory's is not beneath it).
      std::set<std::string> dirs = {"zz", "a"};
      for (const auto& [path, rec] : entries) {
        for (size_t at = path.find('/'); at != std::string::npos; at = path.find('/', at + 1)) {
          dirs.insert(path.substr(0, at));
        }
      }
      for (const std::string& dir : dirs) {
        std::vector<std::string> want_under, got_under;
        for (const auto& [path, rec] : entries) {
          if (path.size() > dir.size() + 1 && path.starts_with(dir + "/")) {
            want_under.push_back(path);
          }
        }
        auto u = v_->ScanUnder("acme", "fs", t, dir);
        for (; u->Valid(); u->Next()) {
          got_under.push_back(u->version().path);
          EXPECT_TRUE(SameContent(u->version().entry, entries.at(u->version().path)));
        }
        EXPECT_TRUE(u->status().ok()) << u->status();
        EXPECT_EQ(got_under, want_under) << "point " << t << " beneath " << dir;
      }
      for (const std::string& p : {std::string("zz/absent"), std::string("a")}) {
        if (entries.count(p) == 0) {
          EXPECT_EQ(v_->Get("acme", "fs", t, p).status().code(), absl::StatusCode::kNotFound);
        }
      }
    }
    // Who holds each digest: the holders' covered points, against the model.
    std::map<std::string, std::set<std::pair<int64_t, std::string>>> want_holders;
    for (const auto& [t, entries] : model) {
      for (const auto& [path, rec] : entries) {
        want_holders[std::string(rec.digest.view())].emplace(t, path);
      }
    }
    for (const auto& [d, want_set] : want_holders) {
      std::set<std::pair<int64_t, std::string>> got;
      Digest digest(HashAlgorithm::kXxh3_128,
                    {reinterpret_cast<const uint8_t*>(d.data()), d.size()});
      Status s = v_->ForEachHolder(
          digest, [&](std::string_view tenant, std::string_view set, const Version& v) {
            EXPECT_EQ(tenant, "acme");
            EXPECT_EQ(set, "fs");
            for (int64_t t : want) {
              if (v.born_ns <= t && t < v.until_ns) got.emplace(t, v.path);
            }
            return true;
          });
      ASSERT_TRUE(s.ok()) << s;
      EXPECT_EQ(got, want_set);
    }
  }

  // Directories whose entries beneath are the same (SameContent, same
  // paths, at least one) in `a` and `b`, in path order.
  static std::vector<std::string> SameDirs(const PointEntries& a, const PointEntries& b) {
    std::set<std::string, PathLess> dirs;
    for (const PointEntries* e : {&a, &b}) {
      for (const auto& [path, rec] : *e) {
        for (size_t at = path.find('/'); at != std::string::npos; at = path.find('/', at + 1)) {
          dirs.insert(path.substr(0, at));
        }
      }
    }
    auto beneath = [](const PointEntries& e, const std::string& d) {
      std::vector<std::pair<std::string, const EntryRecord*>> out;
      for (const auto& [path, rec] : e) {
        if (path.starts_with(d + "/")) out.emplace_back(path, &rec);
      }
      return out;
    };
    std::vector<std::string> out;
    for (const std::string& d : dirs) {
      auto x = beneath(a, d), y = beneath(b, d);
      bool same = !x.empty() && x.size() == y.size();
      for (size_t i = 0; same && i < x.size(); ++i) {
        same = x[i].first == y[i].first && SameContent(*x[i].second, *y[i].second);
      }
      if (same) out.push_back(d);
    }
    return out;
  }

  // Writes new point `t` of `set` holding `entries`, sharing with point
  // `from` the entries beneath each of `dirs` (none beneath another)
  // instead of putting them.
  void WritePointSharing(int64_t t, const PointEntries& entries, int64_t from,
                         const std::vector<std::string>& dirs, const std::string& set = "fs") {
    auto w = v_->NewPoint("acme", set, t);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->CanShareFrom(from)) << t << " from " << from;
    KvBatch batch;
    std::set<std::string> done;
    for (const auto& [path, rec] : entries) {
      auto in = std::find_if(dirs.begin(), dirs.end(),
                             [&](const std::string& d) { return path.starts_with(d + "/"); });
      if (in == dirs.end()) {
        ASSERT_TRUE((*w)->Put(path, rec, &batch).ok()) << path;
        continue;
      }
      if (!done.insert(*in).second) continue;
      uint64_t n = 0;
      for (const auto& [p, r] : entries) n += p.starts_with(*in + "/") ? 1 : 0;
      Status s = (*w)->ShareUnder(*in, n, rec.first_seen_ns, &batch);
      ASSERT_TRUE(s.ok()) << *in << ": " << s;
    }
    ASSERT_TRUE((*w)->Finish(&batch).ok());
    ASSERT_TRUE(kv_->Write(batch, {}).ok());
  }

  // The keys and values of a set's versions, points and indexes (without
  // the set's prefix), and its hash-index keys.
  std::vector<std::pair<std::string, std::string>> SetKeys(const std::string& set) {
    std::vector<std::pair<std::string, std::string>> out;
    const std::string prefix = BackupSetPrefix("acme", set);
    auto it = kv_->NewIterator(Space::kVersions, {.upper_bound = PrefixSuccessor(prefix)});
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      out.emplace_back(std::string(it->key().substr(prefix.size())), std::string(it->value()));
    }
    EXPECT_TRUE(it->status().ok());
    return out;
  }

  void ExpectDiff(const Model& model, int64_t a, int64_t b) {
    std::map<std::string, std::pair<bool, bool>, PathLess> want;
    const PointEntries& ea = model.at(a);
    const PointEntries& eb = model.at(b);
    for (const auto& [p, r] : ea) {
      auto it = eb.find(p);
      if (it == eb.end() || !SameContent(r, it->second)) want[p] = {true, it != eb.end()};
    }
    for (const auto& [p, r] : eb) {
      if (ea.count(p) == 0) want[p] = {false, true};
    }
    std::map<std::string, std::pair<bool, bool>, PathLess> got;
    std::string last;
    Status s = v_->Diff("acme", "fs", a, b,
                        [&](std::string_view path, const EntryRecord* ra, const EntryRecord* rb) {
                          EXPECT_TRUE(last.empty() || ReferencePathOrder(last, path) < 0);
                          last = std::string(path);
                          if (ra != nullptr) {
                            EXPECT_TRUE(SameContent(*ra, ea.at(last)));
                          }
                          if (rb != nullptr) {
                            EXPECT_TRUE(SameContent(*rb, eb.at(last)));
                          }
                          got[last] = {ra != nullptr, rb != nullptr};
                          return absl::OkStatus();
                        });
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(got, want) << "diff " << a << " -> " << b;
  }

  // One random step of a history over `model`: a new point anywhere in time
  // (derived from a neighbour, some paths removed, changed or added), a point
  // deleted, or an entry of a point replaced or removed. Returns what it did.
  struct History {
    std::mt19937_64 rng;
    std::vector<std::string> paths;
    int64_t time_slots;    // new points at 10 x [0, time_slots)
    uint64_t prev_one_in;  // derive from the later neighbour once in this many
    uint64_t erase_pct, change_pct, add_pct;
    bool random_mtime;   // changed entries also get an mtime in [0, 3)
    bool small_batches;  // write some points in batches of 64 bytes
    Model model;
    uint64_t next_content = 1;
    // A new point after every other, when NothingAfter the latest: some of
    // its directories the same as the latest's are shared (ShareUnder)
    // instead of put; `shared` counts them.
    bool share_dirs;
    uint64_t shared;

    int64_t RandomPoint() {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % model.size()));
      return it->first;
    }
  };
  std::string Step(History& h) {
    const int op = h.model.empty() ? 0 : static_cast<int>(h.rng() % 10);
    if (op < 5) {
      int64_t t;
      do t = static_cast<int64_t>(h.rng() % h.time_slots) * 10;
      while (h.model.count(t) != 0);
      if (h.share_dirs && !h.model.empty() && h.rng() % 2 == 0) {
        t = h.model.rbegin()->first + 10 * static_cast<int64_t>(1 + h.rng() % 3);  // the next day
      }
      PointEntries e;
      auto after = h.model.lower_bound(t);
      if (after != h.model.begin() && (h.rng() % h.prev_one_in != 0))
        e = std::prev(after)->second;
      else if (after != h.model.end())
        e = after->second;
      for (const std::string& p : h.paths) {
        const uint64_t r = h.rng() % 100;
        if (r < h.erase_pct) {
          e.erase(p);
        } else if (r < h.change_pct || (e.count(p) == 0 && r < h.add_pct)) {
          e[p] = h.random_mtime ? Rec(h.next_content++, static_cast<int64_t>(h.rng() % 3))
                                : Rec(h.next_content++);
        }
      }
      const bool after_all = !h.model.empty() && t > h.model.rbegin()->first;
      std::vector<std::string> share;
      if (h.share_dirs && after_all) {
        const int64_t latest = h.model.rbegin()->first;
        auto nothing = v_->NothingAfter("acme", "fs", latest);
        EXPECT_TRUE(nothing.ok()) << nothing.status();
        if (nothing.ok() && *nothing) {
          for (const std::string& d : SameDirs(e, h.model.at(latest))) {
            const bool beneath_chosen = std::any_of(
                share.begin(), share.end(), [&](auto& c) { return d.starts_with(c + "/"); });
            if (!beneath_chosen && h.rng() % 2 == 0) share.push_back(d);
          }
        }
        if (!share.empty()) {
          WritePointSharing(t, e, latest, share);
          h.shared += share.size();
        }
      }
      if (!share.empty()) {
      } else if (h.small_batches) {
        WritePoint(t, e, h.rng() % 2 ? 64 : 4 << 20);
      } else {
        WritePoint(t, e);
      }
      h.model[t] = e;
      return "new point " + std::to_string(t);
    }
    if (op < 7) {
      const int64_t t = h.RandomPoint();
      EXPECT_TRUE(v_->DeletePoint("acme", "fs", t).ok());
      h.model.erase(t);
      return "deleted " + std::to_string(t);
    }
    const int64_t t = h.RandomPoint();
    const std::string& p = h.paths[h.rng() % h.paths.size()];
    if (h.rng() % 3 == 0) {
      EXPECT_TRUE(Update(t, p, nullptr).ok());
      h.model[t].erase(p);
    } else {
      const EntryRecord r = Rec(h.next_content++);
      EXPECT_TRUE(Update(t, p, &r).ok());
      h.model[t][p] = r;
    }
    return "update at " + std::to_string(t);
  }

  TempDir dir_;
  std::unique_ptr<KvStore> kv_;
  std::unique_ptr<Versions> v_;
};

TEST_F(VersionsTest, AnUnchangedPointWritesOnlyItsPointRecord) {
  PointEntries day;
  for (int i = 0; i < 200; ++i)
    day["d" + std::to_string(i / 20) + "/f" + std::to_string(i)] = Rec(i);
  WritePoint(100, day);
  const size_t data_keys = CountKeys(Space::kVersions);
  const size_t hash_keys = CountKeys(Space::kHashIndex);
  EXPECT_EQ(hash_keys, 200u);
  auto w = WritePoint(200, day);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shared(), 200u);
  EXPECT_EQ(w->added(), 0u);
  EXPECT_EQ(CountKeys(Space::kVersions), data_keys + 1);  // the point record
  EXPECT_EQ(CountKeys(Space::kHashIndex), hash_keys);
  // One changed file: one version closed, one added (the new version, its
  // birth index, the old one's end index; one hash key).
  day["d3/f61"] = Rec(1061);
  auto w2 = WritePoint(300, day);
  ASSERT_NE(w2, nullptr);
  EXPECT_EQ(w2->added(), 1u);
  EXPECT_EQ(w2->closed(), 1u);
  EXPECT_EQ(w2->shared(), 199u);
  EXPECT_EQ(CountKeys(Space::kVersions), data_keys + 2 + 3);
  EXPECT_EQ(CountKeys(Space::kHashIndex), hash_keys + 1);
  // The diff of the last two points reads that one path.
  int calls = 0;
  ASSERT_TRUE(v_->Diff("acme", "fs", 200, 300,
                       [&](std::string_view path, const EntryRecord* a, const EntryRecord* b) {
                         ++calls;
                         EXPECT_EQ(path, "d3/f61");
                         EXPECT_TRUE(a != nullptr && b != nullptr);
                         return absl::OkStatus();
                       })
                  .ok());
  EXPECT_EQ(calls, 1);
}

TEST_F(VersionsTest, ScanUnderGivesOneDirectorysEntriesOfThePointOnly) {
  PointEntries day;
  for (const char* p : {"a/b/y", "a/x", "a.txt", "ab/z",
                        "a\x01"
                        "c/q",
                        "b/a/x"})
    day[p] = Rec(p[0]);
  WritePoint(100, day);
  day["a/x"] = Rec(99);  // changed at 200
  day.erase("a/b/y");    // gone at 200
  day["a/w"] = Rec(98);  // new at 200
  WritePoint(200, day);
  auto under = [&](int64_t t, const std::string& dir) {
    std::vector<std::string> out;
    auto u = v_->ScanUnder("acme", "fs", t, dir);
    for (; u->Valid(); u->Next()) out.push_back(u->version().path);
    EXPECT_TRUE(u->status().ok()) << u->status();
    return out;
  };
  EXPECT_EQ(under(100, "a"), (std::vector<std::string>{"a/b/y", "a/x"}));
  EXPECT_EQ(under(200, "a"), (std::vector<std::string>{"a/w", "a/x"}));
  EXPECT_EQ(under(100, "a/b"), (std::vector<std::string>{"a/b/y"}));
  EXPECT_TRUE(under(200, "a/b").empty());
  EXPECT_TRUE(under(150, "a").empty()) << "not a recorded point";
  EXPECT_EQ(under(200, "b"), (std::vector<std::string>{"b/a/x"}));
  auto x = v_->ScanUnder("acme", "fs", 200, "a");
  ASSERT_TRUE(x->Valid());
  x->Next();
  ASSERT_TRUE(x->Valid());
  EXPECT_EQ(x->version().path, "a/x");
  EXPECT_TRUE(SameContent(x->version().entry, Rec(99)));
}

// A new point after the latest, nothing after it: sharing a directory the
// same as the latest point's writes exactly what putting its entries
// writes (nothing beneath it), without reading them.
TEST_F(VersionsTest, SharingADirectoryWritesWhatPuttingItsEntriesWrites) {
  PointEntries day;
  for (int i = 0; i < 30; ++i) day["d/f" + std::to_string(100 + i)] = Rec(i);
  for (int i = 0; i < 10; ++i) day["d/s/g" + std::to_string(i)] = Rec(100 + i);
  for (int i = 0; i < 5; ++i) day["e/x" + std::to_string(i)] = Rec(200 + i);
  day["d\x01z"] = Rec(300);  // sorts after d's subtree, not beneath it
  day["top"] = Rec(301);
  PointEntries day2 = day;
  day2["d/f103"] = Rec(400);  // changed at 200
  day2.erase("e/x2");         // gone at 200
  day2["n/new"] = Rec(401);   // new at 200
  PointEntries day3 = day2;
  day3["top"] = Rec(402);
  day3.erase("n/new");
  for (const std::string set : {"fs", "fs2"}) {
    for (auto [t, e] : {std::pair{100, &day}, std::pair{200, &day2}}) {
      auto w = v_->NewPoint("acme", set, t);
      ASSERT_TRUE(w.ok());
      KvBatch b;
      for (const auto& [path, rec] : *e) ASSERT_TRUE((*w)->Put(path, rec, &b).ok());
      ASSERT_TRUE((*w)->Finish(&b).ok());
      ASSERT_TRUE(kv_->Write(b, {}).ok());
    }
  }
  auto nothing = v_->NothingAfter("acme", "fs", 200);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(*nothing);
  EXPECT_FALSE(*v_->NothingAfter("acme", "fs", 100)) << "not the latest";
  {
    auto early = v_->NewPoint("acme", "fs", 150);
    ASSERT_TRUE(early.ok());
    EXPECT_FALSE((*early)->CanShareFrom(100)) << "a point after it";
    KvBatch b;
    EXPECT_EQ((*early)->ShareUnder("d", 40, 7, &b).code(), absl::StatusCode::kFailedPrecondition);
  }
  // fs: every entry put; fs2: "d" and "e" shared.
  {
    auto w = v_->NewPoint("acme", "fs", 300);
    ASSERT_TRUE(w.ok());
    EXPECT_FALSE((*w)->CanShareFrom(100));
    KvBatch b;
    for (const auto& [path, rec] : day3) ASSERT_TRUE((*w)->Put(path, rec, &b).ok());
    ASSERT_TRUE((*w)->Finish(&b).ok());
    ASSERT_TRUE(kv_->Write(b, {}).ok());
  }
  ASSERT_NO_FATAL_FAILURE(WritePointSharing(300, day3, 200, {"d", "e"}, "fs2"));
  EXPECT_EQ(SetKeys("fs2"), SetKeys("fs"));
  PointEntries got;
  auto scan = v_->Scan("acme", "fs2", 300);
  for (; scan->Valid(); scan->Next()) got.emplace(scan->version().path, scan->version().entry);
  ASSERT_EQ(got.size(), day3.size());
  for (const auto& [path, rec] : day3) EXPECT_TRUE(SameContent(got.at(path), rec)) << path;

  // In path order only: nothing beneath a shared directory, before it, or
  // shared twice.
  auto w = v_->NewPoint("acme", "fs2", 400);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->CanShareFrom(300));
  KvBatch b;
  ASSERT_TRUE((*w)->Put("d/f100", Rec(0), &b).ok());
  EXPECT_EQ((*w)->ShareUnder("d", 40, 7, &b).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE((*w)->ShareUnder("e", 4, 7, &b).ok());
  EXPECT_EQ((*w)->ShareUnder("e", 4, 7, &b).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*w)->Put("e/x9", Rec(0), &b).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*w)->Put("top", Rec(402), &b).ok());
}

// NothingAfter says no while a point is being recorded (an interrupted
// stream) or a version ends after the point (a later point deleted may
// leave one).
TEST_F(VersionsTest, NothingAfterIsNoWhileAPointIsRecordedOrAVersionEndsAfter) {
  PointEntries day = {{"a/x", Rec(1)}, {"a/y", Rec(2)}};
  WritePoint(100, day);
  ASSERT_TRUE(*v_->NothingAfter("acme", "fs", 100));
  {
    auto w = v_->NewPoint("acme", "fs", 200);
    ASSERT_TRUE(w.ok());
    KvBatch b;
    // The same content: its pending record only, no version written.
    ASSERT_TRUE((*w)->Put("a/x", Rec(1), &b).ok());
    ASSERT_TRUE(kv_->Write(b, {}).ok());  // and no Finish: interrupted
  }
  EXPECT_FALSE(*v_->NothingAfter("acme", "fs", 100)) << "a point being recorded";
  PointEntries day2 = day;
  day2["a/x"] = Rec(5);
  WritePoint(200, day2);  // recorded from the start
  EXPECT_FALSE(*v_->NothingAfter("acme", "fs", 100)) << "not the latest";
  EXPECT_TRUE(*v_->NothingAfter("acme", "fs", 200));
  // Point 200 deleted: 100's version of a/x says whether it still ends
  // after 100 (then a point after 100 may not share it).
  ASSERT_TRUE(v_->DeletePoint("acme", "fs", 200).ok());
  auto x = v_->Get("acme", "fs", 100, "a/x");
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_EQ(*v_->NothingAfter("acme", "fs", 100), x->until_ns == kOpenUntil) << x->until_ns;
  ExpectMatches({{100, day}});
}

// A caller's summary of a point is returned while the point's entries are
// as they were: any Update of the set makes it stale (the generation), a
// point deleted loses it, a point recorded after it or between does not.
TEST_F(VersionsTest, ASummaryHoldsWhileThePointsEntriesAreAsTheyWere) {
  auto summary = [&](int64_t t) {
    auto s = v_->GetSummary("acme", "fs", t);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : std::nullopt;
  };
  auto put = [&](int64_t t, const std::string& text) {
    auto g = v_->Generation("acme", "fs");
    ASSERT_TRUE(g.ok());
    KvBatch b;
    v_->PutSummary("acme", "fs", t, *g, text, &b);
    ASSERT_TRUE(kv_->Write(b, {}).ok());
  };
  PointEntries day = {{"a/x", Rec(1)}, {"a/y", Rec(2)}};
  WritePoint(100, day);
  EXPECT_EQ(summary(100), std::nullopt);
  put(100, "one hundred");
  EXPECT_EQ(summary(100), "one hundred");
  day["a/y"] = Rec(3);
  WritePoint(300, day);
  day["a/z"] = Rec(4);
  WritePoint(200, day);  // between: 100's entries are as they were
  EXPECT_EQ(summary(100), "one hundred");
  put(300, "three hundred");
  EXPECT_EQ(summary(300), "three hundred");
  // Deleted, then recorded again at the same time: not its summary.
  ASSERT_TRUE(v_->DeletePoint("acme", "fs", 300).ok());
  EXPECT_EQ(summary(300), std::nullopt);
  WritePoint(300, {{"b", Rec(9)}});
  EXPECT_EQ(summary(300), std::nullopt);
  EXPECT_EQ(summary(100), "one hundred");
  // A sample written in place into a version 100 shares: stale.
  const std::string generation = *v_->Generation("acme", "fs");
  EntryRecord sampled = day["a/x"];
  sampled.sample = ContentSample{FileFormat::kZip, 126};
  ASSERT_TRUE(Update(200, "a/x", &sampled).ok());
  EXPECT_NE(*v_->Generation("acme", "fs"), generation);
  EXPECT_EQ(summary(100), std::nullopt);
  // Written under the generation read before an Update: stale at once.
  KvBatch b;
  v_->PutSummary("acme", "fs", 100, generation, "old", &b);
  ASSERT_TRUE(kv_->Write(b, {}).ok());
  EXPECT_EQ(summary(100), std::nullopt);
  // Erasing the set drops them with the rest.
  put(100, "again");
  EXPECT_EQ(summary(100), "again");
  KvBatch erase;
  ASSERT_TRUE(v_->EraseSet("acme", "fs", &erase).ok());
  ASSERT_TRUE(kv_->Write(erase, {}).ok());
  EXPECT_EQ(CountKeys(Space::kVersions), 0u);
}

// A diff asked to hold no more than so many changed paths refuses before
// calling back, and gives every path whose versions differ when asked to,
// the same content included.
TEST_F(VersionsTest, ADiffHoldsAtMostSoManyPathsAndGivesEveryVersionWhenAsked) {
  PointEntries day = {{"a", Rec(1)}, {"b", Rec(2)}, {"c", Rec(3)}};
  WritePoint(100, day);
  day.erase("b");
  day["c"] = Rec(4);
  WritePoint(200, day);
  day["b"] = Rec(2);  // back, the same content: a new version
  WritePoint(300, day);
  auto paths = [&](int64_t a, int64_t b, bool every, size_t max, Status* status) {
    std::vector<std::string> out;
    *status = v_->Diff(
        "acme", "fs", a, b,
        [&](std::string_view path, const EntryRecord*, const EntryRecord*) {
          out.emplace_back(path);
          return absl::OkStatus();
        },
        every, max);
    return out;
  };
  Status s;
  EXPECT_EQ(paths(100, 300, false, 100, &s), std::vector<std::string>{"c"});
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(paths(100, 300, true, 100, &s), (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE(s.ok()) << s;
  // (100, 300]: b's end and new birth, c's end and birth: 4 index records.
  EXPECT_TRUE(paths(100, 300, true, 3, &s).empty());
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  paths(100, 300, true, 4, &s);
  EXPECT_TRUE(s.ok()) << s;
}

// Whether a point holds a regular file directly in a directory, against
// a scan of the point, for every directory of random trees over points
// that differ; symbolic links and files beneath subdirectories do not count.
TEST_F(VersionsTest, HoldsFileInAgreesWithAScanOfThePoint) {
  std::mt19937 rng(7);
  const std::vector<std::string> dirs = {"", "a", "a/b", "a/b/c", "a/bb", "ab", "z"};
  Model model;
  PointEntries entries;
  for (int t = 100; t <= 500; t += 100) {
    for (int i = 0; i < 12; ++i) {
      const std::string& d = dirs[rng() % dirs.size()];
      const std::string path = (d.empty() ? "" : d + "/") + "f" + std::to_string(rng() % 6);
      bool blocked = false;  // (a file's name is not also a directory of the tree)
      for (const std::string& other : dirs) blocked |= other == path;
      if (blocked) continue;
      if (rng() % 4 == 0) {
        entries.erase(path);
      } else {
        EntryRecord r = Rec(rng() % 1000);
        if (rng() % 5 == 0) {
          r.type = EntryType::kSymlink;
          r.digest = Digest();
          r.link_target = "x";
        }
        entries[path] = r;
      }
    }
    if (entries.empty()) continue;
    WritePoint(t, entries);
    model[t] = entries;
  }
  ASSERT_GE(model.size(), 3u);
  for (const auto& [t, point] : model) {
    for (const std::string& d : dirs) {
      bool want = false;
      for (const auto& [path, e] : point) {
        const size_t slash = path.rfind('/');
        const std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
        want |= parent == d && e.type == EntryType::kFile;
      }
      auto got = v_->HoldsFileIn("acme", "fs", t, d);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, want) << "point " << t << " dir '" << d << "'";
    }
  }
  EXPECT_FALSE(*v_->HoldsFileIn("acme", "fs", 50, "a"));  // not recorded
}

TEST_F(VersionsTest, RefusesOutOfOrderEntriesAndARecordedPoint) {
  WritePoint(10, {{"a", Rec(1)}});
  EXPECT_EQ(v_->NewPoint("acme", "fs", 10).status().code(), absl::StatusCode::kAlreadyExists);
  auto w = v_->NewPoint("acme", "fs", 20);
  ASSERT_TRUE(w.ok());
  KvBatch batch;
  ASSERT_TRUE((*w)->Put("b", Rec(2), &batch).ok());
  EXPECT_EQ((*w)->Put("a", Rec(1), &batch).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*w)->Put("../x", Rec(1), &batch).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(VersionsTest, AnUnfinishedPointIsNotListedAndARedoIsExact) {
  PointEntries day;
  for (int i = 0; i < 300; ++i) day["f" + std::to_string(1000 + i)] = Rec(i);
  WritePoint(100, day);
  PointEntries next = day;
  for (int i = 0; i < 300; i += 7) next["f" + std::to_string(1000 + i)] = Rec(5000 + i);
  next.erase("f1001");
  next["g"] = Rec(9999);
  std::string written_up_to;
  {
    // A crash after a batch: the paths up to f1250 are written, the rest
    // and Finish are not.
    auto w = v_->NewPoint("acme", "fs", 200);
    ASSERT_TRUE(w.ok());
    KvBatch batch;
    for (const auto& [path, rec] : next) {
      ASSERT_TRUE((*w)->Put(path, rec, &batch).ok());
      written_up_to = path;
      if (path == "f1250") break;
    }
    ASSERT_TRUE(kv_->Write(batch, {}).ok());
  }
  EXPECT_TRUE(ScanPoint(200).empty());
  // The redo resumes after what was written.
  auto w = v_->NewPoint("acme", "fs", 200);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->ResumeAfter(written_up_to).ok());
  KvBatch batch;
  for (const auto& [path, rec] : next) {
    if (ReferencePathOrder(path, written_up_to) <= 0) continue;
    ASSERT_TRUE((*w)->Put(path, rec, &batch).ok());
  }
  ASSERT_TRUE((*w)->Finish(&batch).ok());
  ASSERT_TRUE(kv_->Write(batch, {}).ok());
  ExpectMatches({{100, day}, {200, next}});
  // A redo from the start (no resume point) gives the same.
  ASSERT_TRUE(v_->DeletePoint("acme", "fs", 200).ok());
  WritePoint(200, next, 64);
  ExpectMatches({{100, day}, {200, next}});
}

TEST_F(VersionsTest, AgreesWithAModelOfEveryPoint) {
  History h{std::mt19937_64(1717),
            {"a", "a.txt", "b/c", "b/d/e", "b/d/f", "b.d", "c/x/y", "c/z", "d", "e/1", "e/2", "e/3",
             "f\xff", "g h", "i/j/k"},
            400,
            4,
            8,
            20,
            40,
            true,
            true,
            {},
            1,
            false,
            0};
  Model& model = h.model;
  auto random_point = [&]() { return h.RandomPoint(); };
  for (int step = 0; step < 250; ++step) {
    Step(h);
    ASSERT_NO_FATAL_FAILURE(ExpectMatches(model)) << "step " << step;
    if (model.size() >= 2) {
      const int64_t a = random_point(), b = random_point();
      if (a != b) ExpectDiff(model, std::min(a, b), std::max(a, b));
    }
  }
  while (!model.empty()) {
    const int64_t t = random_point();
    ASSERT_TRUE(v_->DeletePoint("acme", "fs", t).ok());
    model.erase(t);
    ASSERT_NO_FATAL_FAILURE(ExpectMatches(model));
  }
  EXPECT_EQ(CountKeys(Space::kVersions), 0u) << "deleting every point freed everything";
  EXPECT_EQ(CountKeys(Space::kHashIndex), 0u);
}

// The same with directories shared (ShareUnder) by new points after the
// latest whenever NothingAfter says they may: deletions and updates in the
// history leave versions ending after a point, which it must see.
TEST_F(VersionsTest, SharingDirectoriesAgreesWithAModelOfEveryPoint) {
  History h{std::mt19937_64(2026),
            {"a", "b/c", "b/d/e", "b/d/f", "b/d/g", "b.d", "c/x/y", "c/z", "e/1", "e/2", "e/3",
             "i/j/k", "i/j/l"},
            400,
            8,
            3,
            8,
            12,
            false,
            true,
            {},
            1,
            true,
            0};
  for (int step = 0; step < 300; ++step) {
    const std::string did = Step(h);
    ASSERT_NO_FATAL_FAILURE(ExpectMatches(h.model)) << "step " << step << ": " << did;
  }
  EXPECT_GT(h.shared, 20u) << "directories shared in the history";
}

TEST_F(VersionsTest, ASameContentUpdateHoldsForEveryPointSharingIt) {
  WritePoint(10, {{"a", Rec(1)}});
  WritePoint(20, {{"a", Rec(1)}});
  EntryRecord sampled = Rec(1);
  sampled.sample.format = FileFormat::kSqlite;
  sampled.sample.entropy = 40;
  ASSERT_TRUE(Update(20, "a", &sampled).ok());
  for (int64_t t : {10, 20}) {
    PointEntries e = ScanPoint(t);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e["a"].sample, sampled.sample) << t;
    EXPECT_EQ(e["a"].first_seen_ns, 7) << t;
  }
  // A different file at 20 only: 10 keeps its own.
  const EntryRecord other = Rec(2);
  ASSERT_TRUE(Update(20, "a", &other).ok());
  EXPECT_TRUE(SameContent(ScanPoint(10)["a"], Rec(1)));
  EXPECT_TRUE(SameContent(ScanPoint(20)["a"], other));
}

TEST_F(VersionsTest, EraseSetLeavesNothingOfTheSetAndSparesTheOthers) {
  WritePoint(10, {{"a", Rec(1)}, {"b/c", Rec(2)}});
  WritePoint(20, {{"a", Rec(3)}, {"b/c", Rec(2)}});
  {
    auto other = v_->NewPoint("acme", "fs2", 10);
    ASSERT_TRUE(other.ok());
    KvBatch b;
    ASSERT_TRUE((*other)->Put("a", Rec(1), &b).ok());
    ASSERT_TRUE((*other)->Finish(&b).ok());
    ASSERT_TRUE(kv_->Write(b, {}).ok());
  }
  const size_t fs2_hashes = 1;
  KvBatch batch;
  auto n = v_->EraseSet("acme", "fs", &batch);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);  // a twice, b/c once
  ASSERT_TRUE(kv_->Write(batch, {}).ok());
  EXPECT_TRUE(v_->Points("acme", "fs")->empty());
  EXPECT_EQ(CountKeys(Space::kHashIndex), fs2_hashes);
  auto again = v_->Points("acme", "fs2");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 1u);
  int holders = 0;
  ASSERT_TRUE(
      v_->ForEachHolder(Rec(1).digest, [&](std::string_view, std::string_view set, const Version&) {
          EXPECT_EQ(set, "fs2");
          ++holders;
          return true;
        }).ok());
  EXPECT_EQ(holders, 1);
}

// --- Review of format 2 (h17-review): findings demonstrated ---------------

// Premise of finding 1: a file that WAS read (not_read false), whose record
// holds a digest of another algorithm and whose observation carries no
// digest of that algorithm, is classified kNotRead (not compared). The merge
// (ingest.cc) counts only observations flagged not_read, so such a point
// still gets a range record "verified now" for an entry whose content was
// not compared. This test passes: it pins the premise.
TEST(VersionsReview, AReadFileOfAnotherAlgorithmIsNotReadWithoutTheFlag) {
  EntryRecord rec = Rec(1);  // xxh3
  Observation obs;
  obs.path = "a";
  obs.type = EntryType::kFile;
  obs.size = rec.size;
  obs.mtime_ns = rec.mtime_ns;
  obs.digest = HashBytes(HashAlgorithm::kSha256, "content-1");
  obs.not_read = false;  // read, no previous_digest (no rehash_from)
  EXPECT_EQ(Classify(rec, obs, DiffOptions()), DiffKind::kNotRead);
}

// Finding 2: a Writer on a point before the set's first (the merge's
// "nothing listed" writer at point 0 is one) rewrites a born-index key for
// every version of the set at construction, even when nothing is put:
// O(set) reads and writes per such merge. Expected: nothing written.
TEST(VersionsReview, AWriterBeforeTheFirstPointWritesNothingWhenNothingIsPut) {
  TempDir dir;
  auto cat = Catalogue::Open(dir.path() + "/db", RocksKvOptions());
  ASSERT_TRUE(cat.ok()) << cat.status();
  for (int64_t t : {10, 20}) {
    Catalogue::Writer w(cat->get(), Scope{"acme", "fs", t});
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(w.PutEntry("f" + std::to_string(1000 + i), Rec(i)).ok());
    }
    ASSERT_TRUE(w.Commit(true).ok());
  }
  auto count = [&]() {
    auto it = (*cat)->kv()->NewIterator(Space::kVersions, {});
    size_t n = 0;
    for (it->Seek(""); it->Valid(); it->Next()) ++n;
    return n;
  };
  const size_t before = count();
  { Catalogue::Writer w(cat->get(), Scope{"acme", "fs", 0}); }  // nothing put
  EXPECT_EQ(count(), before) << "keys written by a writer that put nothing";
}

// Finding 3: a point whose stream is resumed after its last entry (a crash
// after the batch holding the last entry, before the one holding Finish)
// is recorded with recorded_ns 0, so its entries that share an older
// point's version show that older time, not the time they were read.
TEST_F(VersionsTest, AResumedPointKeepsItsTimeOfRecording) {
  PointEntries p1{{"a", Rec(1, 500, 7)}};
  WritePoint(10, p1);
  {
    auto w = v_->NewPoint("acme", "fs", 20);
    ASSERT_TRUE(w.ok());
    KvBatch b;
    ASSERT_TRUE((*w)->Put("a", Rec(1, 500, 1000), &b).ok());
    ASSERT_TRUE(kv_->Write(b, {}).ok());  // then a crash: no Finish
  }
  // Being recorded: nothing of the set may be deleted (FreeGonePoints).
  auto recording = v_->Recording("acme", "fs");
  ASSERT_TRUE(recording.ok()) << recording.status();
  EXPECT_TRUE(*recording);
  recording = v_->Recording("acme", "f");  // a set whose name prefixes this one's
  ASSERT_TRUE(recording.ok());
  EXPECT_FALSE(*recording);
  auto w = v_->NewPoint("acme", "fs", 20);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->ResumeAfter("a").ok());
  KvBatch b;
  ASSERT_TRUE((*w)->Finish(&b).ok());
  ASSERT_TRUE(kv_->Write(b, {}).ok());
  recording = v_->Recording("acme", "fs");
  ASSERT_TRUE(recording.ok()) << recording.status();
  EXPECT_FALSE(*recording);
  auto v = v_->Get("acme", "fs", 20, "a");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->recorded_ns, 1000) << "the redo forgot when the point was read";
}

// Finding 4: one undecodable version record makes offboarding fail (format
// 1's OffboardTenant skipped such a record's hash key and erased the set);
// and reads through ReadPath (Get, Diff, Update, DeletePoint) name neither
// the path nor the set in their DataLoss. Expected: the set erased; the
// message names the path.
TEST(VersionsReview, ACorruptVersionNeitherBlocksOffboardingNorGoesUnnamed) {
  TempDir dir;
  auto cat = Catalogue::Open(dir.path() + "/db", RocksKvOptions());
  ASSERT_TRUE(cat.ok()) << cat.status();
  {
    Catalogue::Writer w(cat->get(), Scope{"acme", "fs", 10});
    ASSERT_TRUE(w.PutEntry("a", Rec(1)).ok());
    ASSERT_TRUE(w.PutEntry("b", Rec(2)).ok());
    ASSERT_TRUE(w.Commit(true).ok());
  }
  KvBatch b;
  b.Put(Space::kVersions, Versions::VersionKey("acme", "fs", "b", 10),
        std::string(8, '\x7f') + "garbage");
  ASSERT_TRUE((*cat)->kv()->Write(b, {}).ok());
  EntryRecord e;
  VerifyRecord v;
  Status g = (*cat)->GetEntry(Scope{"acme", "fs", 10}, "b", &e, &v);
  EXPECT_TRUE(absl::IsDataLoss(g)) << g;
  EXPECT_NE(std::string(g.message()).find("'b'"), std::string::npos)
      << "the DataLoss does not name the path: " << g;
  auto erased = (*cat)->EraseBackupSet("acme", "fs");
  EXPECT_TRUE(erased.ok()) << "offboarding blocked by one corrupt record: " << erased.status();
}

// An audit of the stored layout against its invariants (versions.h): every
// version covers a recorded point (none leaked), a path's versions are
// disjoint, every index key names a version as it is, every version born
// after the first point has its born key, every finite end its end key, and
// the hash index holds exactly one key per version with a digest.
class VersionsAuditTest : public VersionsTest {
 protected:
  void Audit(const std::string& where) {
    const std::string set = BackupSetPrefix("acme", "fs");
    struct V {
      int64_t until;
      Digest digest;
    };
    std::map<std::pair<std::string, int64_t>, V> versions;
    std::set<int64_t> points, summaries;
    std::set<std::pair<std::string, int64_t>> born_keys;
    std::map<std::pair<std::string, int64_t>, int64_t> end_keys;  // (path, until) -> born
    auto it = kv_->NewIterator(Space::kVersions, {});
    for (it->Seek(""); it->Valid(); it->Next()) {
      std::string_view k = it->key();
      ASSERT_EQ(k.substr(0, set.size()), set);
      k.remove_prefix(set.size());
      int64_t t = 0;
      if (k[0] == '\0') {
        const char tag = k[1];
        std::string_view rest = k.substr(2);
        if (tag == 5) {  // the set's generation: a token
          EXPECT_TRUE(rest.empty());
          EXPECT_EQ(it->value().size(), 8u);
          continue;
        }
        ASSERT_TRUE(ConsumeI64(&rest, &t));
        if (tag == 0) {
          points.insert(t);
        } else if (tag == 4) {  // a summary: of a recorded point
          summaries.insert(t);
        } else if (tag == 1) {
          born_keys.insert({std::string(rest), t});
        } else {
          std::string_view val = it->value();
          int64_t born = 0;
          ASSERT_TRUE(ConsumeI64(&val, &born));
          end_keys[{std::string(rest), t}] = born;
        }
        continue;
      }
      std::string_view path = k.substr(0, k.size() - 10);
      std::string_view b = k.substr(k.size() - 8);
      ASSERT_TRUE(ConsumeI64(&b, &t));
      std::string_view val = it->value();
      V v;
      ASSERT_TRUE(ConsumeI64(&val, &v.until));
      EntryRecord e;
      ASSERT_TRUE(DecodeEntryRecord(val, &e).ok());
      v.digest = e.digest;
      versions[{std::string(path), t}] = v;
    }
    std::string last;
    int64_t last_until = 0;
    size_t with_digest = 0;
    for (const auto& [key, v] : versions) {
      const auto& [path, born] = key;
      bool held = false;
      for (int64_t p : points) held |= born <= p && (v.until == kOpenUntil || p < v.until);
      EXPECT_TRUE(held) << where << ": version of " << DecodePath(path) << " [" << born << ", "
                        << v.until << ") covers no recorded point (leaked)";
      if (path == last) {
        EXPECT_LE(last_until, born) << where << ": overlapping versions of " << DecodePath(path);
      }
      last = path;
      last_until = v.until;
      if (!points.empty() && born > *points.begin()) {
        EXPECT_TRUE(born_keys.count(key))
            << where << ": no born key for " << DecodePath(path) << " born " << born;
      }
      if (v.until != kOpenUntil) {
        auto e = end_keys.find({path, v.until});
        EXPECT_TRUE(e != end_keys.end() && e->second == born)
            << where << ": no end key for " << DecodePath(path) << " until " << v.until;
      }
      if (!v.digest.empty()) {
        ++with_digest;
        std::string hv;
        EXPECT_TRUE(
            kv_->Get(Space::kHashIndex,
                     std::string("\0\0", 2) + EncodeHashKey(
                                                  v.digest, set + path + std::string("\0\0", 2) +
                                                                [&] {
                                                                  std::string o;
                                                                  AppendI64(&o, born);
                                                                  return o;
                                                                }()),
                     &hv)
                .ok())
            << where << ": no hash key for " << DecodePath(path);
      }
    }
    for (const auto& key : born_keys) {
      EXPECT_TRUE(versions.count(key))
          << where << ": stale born key " << DecodePath(key.first) << " " << key.second;
    }
    for (const auto& [key, born] : end_keys) {
      auto v = versions.find({key.first, born});
      EXPECT_TRUE(v != versions.end() && v->second.until == key.second)
          << where << ": stale end key " << DecodePath(key.first) << " " << key.second;
    }
    EXPECT_EQ(CountKeys(Space::kHashIndex), with_digest) << where << ": stale hash keys";
    for (int64_t t : summaries) {
      EXPECT_TRUE(points.count(t)) << where << ": a summary of " << t << ", not recorded";
    }
  }
};

TEST_F(VersionsAuditTest, RandomHistoriesKeepTheLayoutsInvariants) {
  History h{std::mt19937_64(4242),
            {"a", "b/c", "b/d", "c", "d/e", "f"},
            1000,
            3,
            10,
            25,
            50,
            false,
            false,
            {},
            1,
            false,
            0};
  Model& model = h.model;
  for (int step = 0; step < 150 && !HasFailure(); ++step) {
    const std::string what = Step(h);
    ASSERT_NO_FATAL_FAILURE(ExpectMatches(model));
    Audit("step " + std::to_string(step) + " (" + what + ")");
    // A summary of every point: a point deleted must not keep its own.
    auto g = v_->Generation("acme", "fs");
    ASSERT_TRUE(g.ok());
    KvBatch b;
    for (const auto& [t, entries] : model) v_->PutSummary("acme", "fs", t, *g, "s", &b);
    ASSERT_TRUE(kv_->Write(b, {}).ok());
  }
}

}  // namespace
}  // namespace vigil::storage
