// The worker's content sample end to end, with real processes on loopback
// (a coordinator and a worker): a check of a real tree records, in the
// catalogue, what each file read looked like (storage/content_sample.h) —
// a PDF by its magic number with the low entropy of text, a file of
// `openssl rand` bytes as random — for a plain tree, a BagIt bag's payload
// and a checksum-file set alike.
//
// The test's thread drives the cluster; nothing here is shared.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "storage/catalogue.h"
#include "storage/content_sample.h"
#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

using storage::FileFormat;

// `size` bytes from Debian's openssl (not the test's generator).
void OpensslRand(const std::string& path, int size) {
  RunResult r = RunProcess({"/usr/bin/openssl", "rand", "-out", path, std::to_string(size)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// A PDF-looking text file of about `size` bytes.
std::string PdfText(size_t size) {
  std::string s = "%PDF-1.7\n";
  while (s.size() < size) {
    s += "1 0 obj << /Type /Page /Contents (the minutes of the board meeting) >> endobj\n";
  }
  return s;
}

class ContentSampleProcessTest : public ClusterTest {
 protected:
  void SetUp() override {
    root_ = tmp_ / "loc";
    ASSERT_TRUE(cluster_.StartCoordinator());
    worker_ = cluster_.StartWorker("worker", "loc=" + root_);
  }
  // The records of set `set` at point `t`, read from the coordinator's
  // database once it is stopped.
  std::map<std::string, storage::EntryRecord> Records(const std::string& set, int64_t t) {
    std::map<std::string, storage::EntryRecord> out;
    storage::RocksKvOptions o;
    o.create_if_missing = false;
    o.read_only = true;
    auto cat = storage::Catalogue::Open(tmp_ / "data/db", o);
    EXPECT_TRUE(cat.ok()) << cat.status().message();
    if (!cat.ok()) return out;
    auto scan = (*cat)->Scan({"acme", set, t});
    for (; scan->Valid(); scan->Next()) out[std::string(scan->path())] = scan->entry();
    EXPECT_TRUE(scan->status().ok()) << scan->status().message();
    return out;
  }

  std::string root_;
  std::unique_ptr<BackgroundProcess> worker_;
};

TEST_F(ContentSampleProcessTest, ACheckRecordsWhatEachFileLookedLike) {
  // A plain mirror.
  WriteFile(root_ + "/acme/fs/docs/report.pdf", PdfText(20000));
  OpensslRand(root_ + "/acme/fs/docs/random.bin", 3 << 20);
  WriteFile(root_ + "/acme/fs/empty", "");
  // A BagIt bag (one dated point), its manifest by coreutils.
  const std::string bag = root_ + "/acme/bags/2026-03-05";
  WriteFile(bag + "/data/minutes.pdf", PdfText(9000));
  OpensslRand(bag + "/data/blob.bin", 100000);
  WriteFile(bag + "/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n");
  ASSERT_EQ(RunProcess({"/bin/sh", "-c",
                        "cd '" + bag +
                            "' && sha256sum data/minutes.pdf data/blob.bin > manifest-sha256.txt"})
                .exit_code,
            0);
  // A mirror with its SHA256SUMS.
  const std::string sums = root_ + "/acme/sums";
  MakeDirs(sums);
  OpensslRand(sums + "/db.dump", 50000);
  WriteFile(sums + "/scan.pdf", PdfText(5000));
  ASSERT_EQ(
      RunProcess({"/bin/sh", "-c", "cd '" + sums + "' && sha256sum db.dump scan.pdf > SHA256SUMS"})
          .exit_code,
      0);
  WriteFile(tmp_ / "acme.yaml", manifests::Head("loc") + R"(assets:
  - name: fs
    backupSets:
      - name: fs
        location: loc
        path: acme/fs
  - name: archive
    backupSets:
      - name: bags
        location: loc
        path: acme/bags
        format: bagit
      - name: sums
        location: loc
        path: acme/sums
        format: sumfile
)");
  ASSERT_TRUE(cluster_.Apply(tmp_ / "acme.yaml"));
  RunResult check = cluster_.RunCheck("acme");
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err << worker_->err();
  nlohmann::json bags = BackupSet(cluster_.Status("acme"), "bags");
  ASSERT_EQ(bags["points"].size(), 1u) << bags.dump(1);
  const int64_t bag_point = bags["points"][0]["time_ns"].get<int64_t>();
  cluster_.coordinator().Signal(SIGTERM);
  ASSERT_EQ(cluster_.coordinator().Wait(), 0) << cluster_.coordinator().err();

  auto text = [](const storage::EntryRecord& r, const std::string& path) {
    EXPECT_EQ(r.sample.format, FileFormat::kPdf) << path;
    EXPECT_GE(r.sample.entropy, 16) << path;  // text, not a constant
    EXPECT_LE(r.sample.entropy, 80) << path;
  };
  auto random = [](const storage::EntryRecord& r, const std::string& path) {
    EXPECT_EQ(r.sample.format, FileFormat::kUnknown) << path;
    EXPECT_GE(r.sample.entropy, 126) << path;
  };
  auto fs = Records("fs", 0);
  ASSERT_EQ(fs.count("docs/report.pdf"), 1u);
  text(fs["docs/report.pdf"], "docs/report.pdf");
  random(fs["docs/random.bin"], "docs/random.bin");
  EXPECT_EQ(fs["empty"].sample.format, FileFormat::kUnknown);
  EXPECT_EQ(fs["empty"].sample.entropy, 0);

  auto bag_records = Records("bags", bag_point);
  ASSERT_EQ(bag_records.count("data/minutes.pdf"), 1u) << bag_records.size();
  text(bag_records["data/minutes.pdf"], "data/minutes.pdf");
  random(bag_records["data/blob.bin"], "data/blob.bin");

  auto sum_records = Records("sums", 0);
  ASSERT_EQ(sum_records.count("db.dump"), 1u);
  random(sum_records["db.dump"], "db.dump");
  text(sum_records["scan.pdf"], "scan.pdf");
}

}  // namespace
}  // namespace vigil::testing
