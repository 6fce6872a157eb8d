// A catalogue written by format 1 (one record per restore point and path),
// converted on open to format 2 (versions shared between points,
// storage/versions.h). The fixture was made by the format-1 code itself
// (testdata/make_format1.cc, compiled against commit 5455d15), together with
// what that code read from it: every entry of every point with its
// effective verification record, each point's Merkle root, and the holders
// of some digests. After the conversion the same questions must give the
// same answers; only an entry's first_seen_ns may move earlier (a version
// shared by several points keeps the time its content was first recorded).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "storage/catalogue.h"
#include "storage/hash.h"
#include "storage/hex.h"
#include "storage/key_codec.h"
#include "storage/merkle.h"
#include "storage/rocks_kv.h"
#include "tests/storage/test_util.h"

namespace vigil::storage {
namespace {

using testing::TempDir;

const std::string kData = std::string(VIGIL_SOURCE_DIR) + "/tests/storage/testdata/";

nlohmann::json Expected() {
  std::ifstream in(kData + "catalogue-format1.json");
  return nlohmann::json::parse(in);
}

// Unpacks the format-1 catalogue into dir/db.
void Unpack(const TempDir& dir) {
  const std::string cmd = "tar xzf '" + kData + "catalogue-format1.tar.gz' -C '" + dir.path() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

size_t CountKeys(KvStore* kv, Space space, std::string_view from = "") {
  size_t n = 0;
  auto it = kv->NewIterator(space, {});
  for (it->Seek(from); it->Valid(); it->Next()) ++n;
  return n;
}

void ExpectSameAnswers(Catalogue& cat, const nlohmann::json& want) {
  for (const auto& p : want["points"]) {
    const Scope scope{p["tenant"], p["backup_set"], p["restore_point"]};
    SCOPED_TRACE(scope.tenant + "/" + scope.backup_set + " @" +
                 std::to_string(scope.restore_point));
    auto scan = cat.Scan(scope);
    size_t i = 0;
    for (; scan->Valid(); scan->Next(), ++i) {
      ASSERT_LT(i, p["entries"].size()) << "more entries than format 1 read: " << scan->path();
      const auto& w = p["entries"][i];
      const EntryRecord& e = scan->entry();
      const VerifyRecord& v = scan->verify();
      EXPECT_EQ(scan->path(), w["path"]);
      EXPECT_EQ(static_cast<int>(e.type), w["type"]) << scan->path();
      EXPECT_EQ(e.size, w["size"]) << scan->path();
      EXPECT_EQ(e.mtime_ns, w["mtime_ns"]) << scan->path();
      EXPECT_EQ(HexEncode(e.digest.view()), w["digest"]) << scan->path();
      EXPECT_EQ(static_cast<int>(e.digest.algorithm()), w["algorithm"]) << scan->path();
      EXPECT_EQ(e.link_target, w["link_target"]) << scan->path();
      EXPECT_LE(e.first_seen_ns, w["first_seen_ns"].get<int64_t>()) << scan->path();
      EXPECT_EQ(static_cast<int>(v.state), w["state"]) << scan->path();
      EXPECT_EQ(v.last_verified_ns, w["last_verified_ns"]) << scan->path();
      EXPECT_EQ(v.last_checked_ns, w["last_checked_ns"]) << scan->path();
      EXPECT_EQ(HexEncode(v.first_reading.view()), w["first_reading"]) << scan->path();
      EXPECT_EQ(v.observed_size, w["observed_size"]) << scan->path();
      EXPECT_EQ(scan->has_verify_record(), w["has_verify_record"]) << scan->path();
      EntryRecord got;
      VerifyRecord got_v;
      ASSERT_TRUE(cat.GetEntry(scope, scan->path(), &got, &got_v).ok()) << scan->path();
      EXPECT_EQ(got, e);
      EXPECT_EQ(got_v, v);
    }
    ASSERT_TRUE(scan->status().ok()) << scan->status();
    EXPECT_EQ(i, p["entries"].size());
    auto head = CatalogueRoot(cat, scope);
    ASSERT_TRUE(head.ok()) << head.status();
    EXPECT_EQ(head->tree_size, p["tree_size"]);
    EXPECT_EQ(HexEncode(std::string_view(reinterpret_cast<const char*>(head->root.data()),
                                         head->root.size())),
              p["root"]);
    auto count = cat.CountEntries(scope);
    ASSERT_TRUE(count.ok());
    EXPECT_EQ(*count, p["entries"].size());
  }
  for (const auto& h : want["holders"]) {
    using Holder = std::tuple<std::string, std::string, int64_t, std::string>;
    std::set<Holder> expected, got;
    for (const auto& k : h["holders"]) expected.emplace(k[0], k[1], k[2], k[3]);
    const std::string content = h["content"];
    ASSERT_TRUE(cat.ForEachHolder(HashBytes(HashAlgorithm::kXxh3_128, content),
                                  [&](const EntryKey& k) {
                                    got.emplace(k.tenant, k.backup_set, k.restore_point, k.path);
                                    return true;
                                  })
                    .ok());
    EXPECT_EQ(got, expected) << "holders of " << content;
  }
}

TEST(CatalogueMigration, AFormat1CatalogueGivesTheSameAnswersAfterConversion) {
  TempDir dir;
  Unpack(dir);
  const nlohmann::json want = Expected();
  uint64_t logical = 0;
  for (const auto& p : want["points"]) logical += p["entries"].size();
  std::vector<std::string> lines;
  RocksKvOptions o;
  o.log = [&](const std::string& line) { lines.push_back(line); };
  {
    auto cat = Catalogue::Open(dir / "db", o);
    ASSERT_TRUE(cat.ok()) << cat.status();
    std::string v;
    ASSERT_TRUE((*cat)->GetMeta("format_version", &v).ok());
    EXPECT_EQ(v, std::to_string(kFormatVersion));
    EXPECT_EQ(CountKeys((*cat)->kv(), Space::kCatalogue), 0u) << "format-1 records left";
    EXPECT_EQ(CountKeys((*cat)->kv(), Space::kHashIndex, "\x01"), 0u) << "format-1 hash keys left";
    ExpectSameAnswers(**cat, want);
  }
  bool said = false;
  for (const std::string& l : lines) {
    if (l.find("converted from format 1") == std::string::npos) continue;
    said = true;
    // 131 entries of 5 points; the three days of acme/fs share most of theirs.
    EXPECT_NE(l.find(std::to_string(logical) + " entries of 5 restore points"), std::string::npos)
        << l;
  }
  EXPECT_TRUE(said) << "the conversion is logged";
  // Versions stored: far fewer than the logical entries.
  {
    auto kv = OpenRocksKv(dir / "db");
    ASSERT_TRUE(kv.ok());
    const size_t hash_keys = CountKeys(kv->get(), Space::kHashIndex);
    EXPECT_LT(hash_keys, logical / 2) << "one hash key per version, not per point";
  }
  // Opened again: format 2, nothing converted, the same answers.
  lines.clear();
  auto again = Catalogue::Open(dir / "db", o);
  ASSERT_TRUE(again.ok()) << again.status();
  ExpectSameAnswers(**again, want);
  for (const std::string& l : lines) EXPECT_EQ(l.find("converted"), std::string::npos) << l;
}

TEST(CatalogueMigration, AnInterruptedConversionIsRedoneFromTheStart) {
  TempDir clean_dir, dir;
  Unpack(clean_dir);
  Unpack(dir);
  size_t clean_versions = 0;
  {
    auto cat = Catalogue::Open(clean_dir / "db");
    ASSERT_TRUE(cat.ok());
    clean_versions = CountKeys((*cat)->kv(), Space::kVersions);
  }
  {
    // What a conversion killed half-way leaves: format 1 still, some
    // format-2 keys (here: junk ones) beside the format-1 records.
    auto kv = OpenRocksKv(dir / "db");
    ASSERT_TRUE(kv.ok()) << kv.status();
    KvBatch b;
    b.Put(Space::kVersions, std::string("acme\0\x01junk", 10), "junk");
    b.Put(Space::kHashIndex, std::string("\0\0\x01junk", 7), "");
    ASSERT_TRUE((*kv)->Write(b, {.sync = true}).ok());
  }
  auto cat = Catalogue::Open(dir / "db");
  ASSERT_TRUE(cat.ok()) << cat.status();
  EXPECT_EQ(CountKeys((*cat)->kv(), Space::kVersions), clean_versions);
  std::string value;
  EXPECT_TRUE(absl::IsNotFound(
      (*cat)->kv()->Get(Space::kHashIndex, std::string("\0\0\x01junk", 7), &value)));
  ExpectSameAnswers(**cat, Expected());
}

TEST(CatalogueMigration, AFormat1CatalogueOpenedReadOnlyIsRefusedWithTheReason) {
  TempDir dir;
  Unpack(dir);
  RocksKvOptions o;
  o.read_only = true;
  auto cat = Catalogue::Open(dir / "db", o);
  ASSERT_FALSE(cat.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(cat.status())) << cat.status();
  EXPECT_NE(cat.status().message().find("format version 1"), std::string_view::npos)
      << cat.status();
}

}  // namespace
}  // namespace vigil::storage
