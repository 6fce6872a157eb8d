// Writes the format-1 catalogue of tests/storage/testdata/catalogue-format1.tar.gz
// and what the code of that format read from it (catalogue-format1.json):
// every entry of every restore point with its effective verification record,
// each point's Merkle root, and the holders of some digests.
//
// Not built by CMake: it was compiled once against commit 5455d15 (the last
// commit of catalogue format 1) and its storage library:
//   g++ -std=c++20 -O1 -I. tests/storage/testdata/make_format1.cc \
//       build/storage/libstorage.a build/base/libvigil_base.a \
//       -lrocksdb -lxxhash -lcrypto -labsl_status -labsl_statusor ... -o make_format1
//   ./make_format1 DIR > catalogue-format1.json
// and DIR/db archived. Kept to say how the fixture was made.
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "storage/catalogue.h"
#include "storage/hash.h"
#include "storage/hex.h"
#include "storage/merkle.h"

using namespace vigil::storage;

namespace {

constexpr int64_t kT1 = 1'764'000'000'000'000'000;
constexpr int64_t kDay = 86'400'000'000'000;

EntryRecord File(const std::string& content, int64_t seen, int64_t mtime = 5) {
  EntryRecord r;
  r.type = EntryType::kFile;
  r.size = content.size();
  r.mtime_ns = mtime;
  r.digest = HashBytes(HashAlgorithm::kXxh3_128, content);
  r.first_seen_ns = seen;
  return r;
}

void Die(const Status& s) {
  if (!s.ok()) {
    std::cerr << s << "\n";
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto opened = Catalogue::Open(std::string(argv[1]) + "/db");
  Die(opened.status());
  Catalogue& cat = **opened;
  // acme/fs: three days, files changed, removed and added between them.
  std::map<std::string, std::string> day;
  for (int i = 0; i < 40; ++i) {
    day["d" + std::to_string(i % 4) + "/f" + std::to_string(10 + i)] = "v1-" + std::to_string(i);
  }
  std::vector<std::pair<int64_t, std::map<std::string, std::string>>> days;
  days.push_back({kT1, day});
  day["d0/f10"] = "v2-0";
  day["d1/f21"] = "v2-11";
  day["d2/f32"] = "v2-22";
  day.erase("d3/f13");
  day["d9/new"] = "v2-new";
  day["a.txt"] = "v1-0";  // same bytes as d0/f10 had on day 1 (a rename)
  days.push_back({kT1 + kDay, day});
  day["d1/f21"] = "v3-11";
  day["d2/f34"] = "v3-24";
  days.push_back({kT1 + 2 * kDay, day});
  for (const auto& [t, files] : days) {
    Catalogue::Writer w(&cat, {"acme", "fs", t});
    for (const auto& [path, content] : files) Die(w.PutEntry(path, File(content, t + 1000)));
    EntryRecord link;
    link.type = EntryType::kSymlink;
    link.link_target = "d0/f10";
    link.size = link.link_target.size();
    link.first_seen_ns = t + 1000;
    Die(w.PutEntry("zlink", link));
    Die(w.Commit(true));
  }
  {
    // Day 2: a damaged file found by a later check; day 3 fully re-verified.
    Catalogue::Writer w(&cat, {"acme", "fs", kT1 + kDay});
    VerifyRecord bad;
    bad.state = EntryState::kModified;
    bad.last_verified_ns = kT1 + kDay + 1000;
    bad.last_checked_ns = kT1 + 3 * kDay;
    bad.first_reading = HashBytes(HashAlgorithm::kXxh3_128, "rot");
    bad.observed_size = 3;
    Die(w.PutVerify("d2/f30", bad));
    VerifyRecord ok;
    ok.last_verified_ns = ok.last_checked_ns = kT1 + 3 * kDay;
    Die(w.PutVerify("d1/f25", ok));
    Die(w.Commit(true));
    Catalogue::Writer w3(&cat, {"acme", "fs", kT1 + 2 * kDay});
    w3.PutRangeVerified(kT1 + 3 * kDay);
    Die(w3.Commit(true));
  }
  {
    // acme/mirror: one point of time 0, an entry updated in place later.
    Catalogue::Writer w(&cat, {"acme", "mirror", 0});
    Die(w.PutEntry("doc.pdf", File("pdf-1", kT1)));
    Die(w.PutEntry("sheet.xlsx", File("v1-5", kT1)));
    Die(w.Commit(true));
    Catalogue::Writer w2(&cat, {"acme", "mirror", 0});
    EntryRecord old = File("pdf-1", kT1);
    Die(w2.PutEntry("doc.pdf", File("pdf-2", kT1, 9), &old));
    Die(w2.Commit(true));
  }
  {
    // Another tenant holding some of the same bytes.
    Catalogue::Writer w(&cat, {"beta", "fs", kT1});
    Die(w.PutEntry("copy", File("v1-5", kT1)));
    Die(w.Commit(true));
  }
  nlohmann::json out;
  std::vector<Scope> scopes = {{"acme", "fs", kT1},
                               {"acme", "fs", kT1 + kDay},
                               {"acme", "fs", kT1 + 2 * kDay},
                               {"acme", "mirror", 0},
                               {"beta", "fs", kT1}};
  for (const Scope& s : scopes) {
    nlohmann::json p;
    p["tenant"] = s.tenant;
    p["backup_set"] = s.backup_set;
    p["restore_point"] = s.restore_point;
    auto scan = cat.Scan(s);
    for (; scan->Valid(); scan->Next()) {
      const EntryRecord& e = scan->entry();
      const VerifyRecord& v = scan->verify();
      p["entries"].push_back({{"path", scan->path()},
                              {"type", static_cast<int>(e.type)},
                              {"size", e.size},
                              {"mtime_ns", e.mtime_ns},
                              {"digest", HexEncode(e.digest.view())},
                              {"algorithm", static_cast<int>(e.digest.algorithm())},
                              {"first_seen_ns", e.first_seen_ns},
                              {"link_target", e.link_target},
                              {"state", static_cast<int>(v.state)},
                              {"last_verified_ns", v.last_verified_ns},
                              {"last_checked_ns", v.last_checked_ns},
                              {"first_reading", HexEncode(v.first_reading.view())},
                              {"observed_size", v.observed_size},
                              {"has_verify_record", scan->has_verify_record()}});
    }
    Die(scan->status());
    auto head = CatalogueRoot(cat, s);
    Die(head.status());
    p["tree_size"] = head->tree_size;
    p["root"] = HexEncode(
        std::string_view(reinterpret_cast<const char*>(head->root.data()), head->root.size()));
    out["points"].push_back(p);
  }
  for (const std::string content : {"v1-5", "v1-0", "v2-new"}) {
    nlohmann::json h;
    h["content"] = content;
    Die(cat.ForEachHolder(HashBytes(HashAlgorithm::kXxh3_128, content), [&](const EntryKey& k) {
      h["holders"].push_back({k.tenant, k.backup_set, k.restore_point, k.path});
      return true;
    }));
    out["holders"].push_back(h);
  }
  std::cout << out.dump(1) << "\n";
  return 0;
}
