// Restore drills of restic snapshots: Vigil's own reader
// (formats/restic_restore.h) against Debian's `restic restore` of the same
// snapshot, byte for byte, and RunDrill (services/worker/drill.h) on a
// "restic" backup set through a fake worker host: the sample, the
// snapshot's size, the check of each copy against its tree, damage found,
// the scratch left empty. Repositories are made by the real `restic`
// (formats 1 and 2); `restic` missing is a failure: scripts/install-deps
// installs it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "services/worker/drill.h"
#include "services/worker/formats/restic_restore.h"
#include "services/worker/task.h"
#include "services/worker/worker.h"
#include "storage/hash.h"
#include "tests/integration/test_util.h"
#include "tests/support/faulty_store.h"
#include "tests/support/random_bytes.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

std::string Which(const std::string& tool) {
  RunResult r = RunProcess({"/bin/sh", "-c", "command -v " + tool});
  std::string p = r.out;
  while (!p.empty() && p.back() == '\n') p.pop_back();
  return r.exit_code == 0 ? p : std::string();
}

// A worker host with nothing but options and a log.
class FakeHost : public worker::TaskHost {
 public:
  const worker::WorkerOptions& options() const override { return options_; }
  bool stopped() override { return false; }
  void Sleep(int) override {}
  void Pause(std::chrono::nanoseconds) override {}
  void Log(const std::string& line) override { log += line + "\n"; }
  std::unique_ptr<worker::ObservationSink> OpenStream(worker::Attempt*) override { return nullptr; }

  worker::WorkerOptions options_;
  std::string log;
};

class ResticDrillTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    restic_ = Which("restic");
    ASSERT_FALSE(restic_.empty()) << "restic (test oracle) not installed: scripts/install-deps";
    ::setenv("RESTIC_CACHE_DIR", (tmp_ / "cache").c_str(), 1);
    WriteFile(tmp_ / "pw", "drill password\n");
    src_ = tmp_ / "src";
    // 12 files: nested, empty, compressible, several blobs (the chunker
    // cuts ~1 MiB on average, but where depends on the repository's random
    // polynomial; no chunk exceeds 8 MiB, so 9 MiB is always two or more).
    WriteFile(src_ + "/a.txt", "hello drill\n");
    WriteFile(src_ + "/empty", "");
    WriteFile(src_ + "/docs/text.txt", std::string(300000, 't'));
    WriteFile(src_ + "/docs/sub/big.bin", Bytes(9 * 1024 * 1024, 1));
    for (int i = 0; i < 8; ++i) {
      WriteFile(src_ + "/many/f" + std::to_string(i) + ".bin", Bytes(1000 + 5000 * i, 10 + i));
    }
    repo_ = tmp_ / "loc/acme/vault";
    MakeDirs(tmp_ / "loc/acme");
    Restic({"init", "--repository-version", std::to_string(GetParam()), "-r", repo_});
    Restic({"backup", "-r", repo_, src_});
    RunResult r = RunProcess({restic_, "snapshots", "--json", "-r", repo_, "--password-file",
                              tmp_ / "pw", "--no-cache"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(j.is_array() && j.size() == 1u) << r.out << r.err;
    snapshot_ = j[0]["id"].get<std::string>();
    // The worker's password, as --secrets holds it.
    WriteFile(tmp_ / "secrets/acme/vault.password", "drill password\n");
  }

  void Restic(std::vector<std::string> args) {
    args.insert(args.begin(), restic_);
    args.insert(args.end(), {"--password-file", tmp_ / "pw", "--no-cache", "-q"});
    RunResult r = RunProcess(args);
    ASSERT_EQ(r.exit_code, 0) << "restic failed: " << r.out << r.err;
  }

  formats::ResticRestore Restore(const std::string& dest, uint32_t files, uint64_t bytes = 0) {
    MakeDirs(dest);
    int repo = ::open(repo_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int out = ::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    formats::ResticSampleOptions o;
    o.sample_files = files;
    o.sample_bytes = bytes;
    formats::ResticRestore r =
        formats::RestoreResticSample(repo, repo_, "drill password", snapshot_, o, out);
    for (const auto& f : r.files) {
      if (f.error.empty()) {
        EXPECT_EQ(formats::VerifyResticCopy(out, f), "") << f.path;
      }
    }
    ::close(repo);
    ::close(out);
    return r;
  }

  // A drill task of the set "vault" (format restic) naming the snapshot.
  v1::Task DrillTask(uint32_t files) {
    v1::Task t;
    t.set_id(7);
    t.set_attempt(1);
    t.set_kind(v1::TASK_KIND_DRILL);
    v1::BackupSet* b = t.mutable_backup_set();
    b->set_tenant("acme");
    b->set_name("vault");
    b->set_location("loc");
    b->set_path("acme/vault");
    b->set_format("restic");
    b->set_layout("restic-snapshots");
    v1::DrillSample* s = t.add_drill_sample();
    s->set_path("snapshots/" + snapshot_);
    const std::string content = ReadFile(repo_ + "/snapshots/" + snapshot_);
    storage::Digest d = storage::HashBytes(storage::HashAlgorithm::kSha256, content);
    s->set_size(content.size());
    s->set_digest_algorithm(static_cast<uint32_t>(storage::HashAlgorithm::kSha256));
    s->set_digest(std::string(d.view()));
    t.set_drill_sample_files(files);
    return t;
  }
  worker::Outcome Drill(const v1::Task& t) {
    host_.options_.locations["loc"] = tmp_ / "loc";
    host_.options_.scratch = tmp_ / "scratch";
    host_.options_.secrets = tmp_ / "secrets";
    MakeDirs(host_.options_.scratch);
    worker::Attempt attempt(t, 0);
    return worker::RunDrill(&host_, &attempt);
  }
  bool ScratchEmpty() { return fs::is_empty(tmp_ / "scratch"); }
  uint64_t SourceBytes() {
    uint64_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(src_)) {
      if (e.is_regular_file()) n += e.file_size();
    }
    return n;
  }

  TempDir tmp_;
  std::string restic_, src_, repo_, snapshot_;
  FakeHost host_;
};

TEST_P(ResticDrillTest, RestoredFilesAreByteForByteWhatResticRestores) {
  const std::string oracle = tmp_ / "oracle";
  Restic({"restore", snapshot_, "-r", repo_, "--target", oracle});
  formats::ResticRestore r = Restore(tmp_ / "mine", 100);
  ASSERT_TRUE(r.error.empty() && r.key_error.empty() && r.write_error.empty())
      << r.error << r.key_error << r.write_error;
  EXPECT_EQ(r.point_files, 12u);
  EXPECT_EQ(r.point_bytes, SourceBytes());
  ASSERT_EQ(r.files.size(), 12u);  // the sample holds everything
  for (const auto& f : r.files) {
    EXPECT_TRUE(f.error.empty()) << f.path << ": " << f.error;
    // restic stores the backed-up directory under its absolute path.
    EXPECT_EQ(f.path.rfind(fs::path(src_).relative_path().string(), 0), 0u) << f.path;
    EXPECT_EQ(ReadFile(tmp_ / ("mine/" + f.path)), ReadFile(oracle + "/" + f.path)) << f.path;
    EXPECT_EQ(f.written, fs::file_size(oracle + "/" + f.path)) << f.path;
  }
  auto big = std::find_if(r.files.begin(), r.files.end(), [](const auto& f) {
    return f.path.size() >= 7 && f.path.substr(f.path.size() - 7) == "big.bin";
  });
  ASSERT_NE(big, r.files.end());
  EXPECT_GT(big->blobs.size(), 1u);  // streamed blob by blob (9 MiB > the 8 MiB chunk limit)
  EXPECT_GE(r.bytes_read, 9u * 1024 * 1024);
}

TEST_P(ResticDrillTest, SampleIsSpreadAndBounded) {
  formats::ResticRestore r = Restore(tmp_ / "three", 3);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.files.size(), 3u);
  // Every 4th of the 12 files in tree order (names sorted per directory:
  // a.txt, docs/sub/big.bin, docs/text.txt, empty, many/f0.bin ...).
  const std::string base = fs::path(src_).relative_path().string();
  EXPECT_EQ(r.files[0].path, base + "/a.txt");
  EXPECT_EQ(r.files[1].path, base + "/many/f0.bin");
  EXPECT_EQ(r.files[2].path, base + "/many/f4.bin");
  // A byte limit skips files that would pass it.
  formats::ResticRestore small = Restore(tmp_ / "small", 100, 20000);
  uint64_t total = 0;
  for (const auto& f : small.files) total += f.size;
  EXPECT_LE(total, 20000u);
  EXPECT_GE(small.files.size(), 3u);
}

TEST_P(ResticDrillTest, DrillOfAResticSetRestoresAndChecksTheSample) {
  worker::Outcome out = Drill(DrillTask(5));
  ASSERT_EQ(out.kind, worker::Outcome::kDone) << out.error;
  ASSERT_TRUE(out.drill);
  const v1::DrillResult& d = out.drill_result;
  EXPECT_EQ(d.error(), "");
  EXPECT_EQ(d.files(), 5u);  // 12 files, 5 wanted: every 2nd, up to 5
  EXPECT_EQ(d.mismatches(), 0u) << host_.log;
  EXPECT_GT(d.bytes(), 0u);
  EXPECT_GT(d.seconds(), 0.0);
  EXPECT_EQ(d.point_bytes(), SourceBytes());
  EXPECT_TRUE(ScratchEmpty());
}

// The same drill of the repository at a remote location (s3 here), read
// through the location's store (WorkerOptions::open_store: a LocalStore
// over the same directory, behind the fault-injecting seam): the same
// sample restored and checked. A store that cannot read the packs fails
// the task (retried later), naming the store: no mismatch, no failed drill.
TEST_P(ResticDrillTest, DrillThroughAStoreEqualsTheLocalDrill) {
  worker::Outcome local = Drill(DrillTask(5));
  ASSERT_EQ(local.kind, worker::Outcome::kDone) << local.error;
  v1::Task t = DrillTask(5);
  t.mutable_backup_set()->set_location("bucket");
  t.mutable_location()->set_name("bucket");
  t.mutable_location()->set_kind("s3");
  t.mutable_location()->mutable_s3()->set_bucket("backups");
  host_.options_.locations["bucket"] = "";  // served here by its name alone: a remote location
  std::string fail;                         // the store's failing prefix
  host_.options_.open_store =
      [&](const v1::Location&) -> storage::StatusOr<std::unique_ptr<storage::Store>> {
    return std::unique_ptr<storage::Store>(FaultyStore::Open(tmp_ / "loc", fail));
  };
  worker::Outcome remote = Drill(t);
  ASSERT_EQ(remote.kind, worker::Outcome::kDone) << remote.error;
  const v1::DrillResult& a = local.drill_result;
  const v1::DrillResult& b = remote.drill_result;
  EXPECT_EQ(b.error(), "");
  EXPECT_EQ(b.files(), 5u);
  EXPECT_EQ(b.files(), a.files());
  EXPECT_EQ(b.bytes(), a.bytes());
  EXPECT_EQ(b.point_bytes(), a.point_bytes());
  EXPECT_EQ(b.mismatches(), 0u) << host_.log;
  EXPECT_TRUE(ScratchEmpty());

  fail = "acme/vault/data/";
  worker::Outcome cannot = Drill(t);
  EXPECT_EQ(cannot.kind, worker::Outcome::kError);
  EXPECT_NE(cannot.error.find("from test://faulty-store"), std::string::npos) << cannot.error;
  EXPECT_NE(cannot.error.find("data/"), std::string::npos) << cannot.error;
  EXPECT_EQ(cannot.drill_result.mismatches(), 0u);
  EXPECT_TRUE(ScratchEmpty());
}

TEST_P(ResticDrillTest, DamagedPackIsAMismatchAndAForeignSnapshotAnError) {
  // A flipped byte in the pack holding big.bin's data: its blob fails its
  // MAC, the file cannot be restored.
  std::vector<std::pair<uint64_t, std::string>> packs;
  for (const auto& e : fs::recursive_directory_iterator(repo_ + "/data")) {
    if (e.is_regular_file()) packs.emplace_back(e.file_size(), e.path());
  }
  std::sort(packs.rbegin(), packs.rend());
  std::string content = ReadFile(packs.front().second);
  content[content.size() / 3] ^= 0x20;
  fs::permissions(packs.front().second, fs::perms::owner_write, fs::perm_options::add);
  WriteFile(packs.front().second, content);
  worker::Outcome out = Drill(DrillTask(100));
  ASSERT_EQ(out.kind, worker::Outcome::kDone) << out.error;
  EXPECT_EQ(out.drill_result.error(), "");
  EXPECT_GE(out.drill_result.mismatches(), 1u) << host_.log;
  EXPECT_NE(host_.log.find("MAC mismatch"), std::string::npos) << host_.log;
  EXPECT_TRUE(ScratchEmpty());

  // The catalogue's snapshot id no longer matches the file: the drill
  // cannot run (it restores only what the catalogue vouches for).
  v1::Task t = DrillTask(3);
  std::string digest = t.drill_sample(0).digest();
  digest[0] ^= 1;
  t.mutable_drill_sample(0)->set_digest(digest);
  out = Drill(t);
  ASSERT_EQ(out.kind, worker::Outcome::kDone) << out.error;
  EXPECT_NE(out.drill_result.error(), "");

  // No password on the worker: its own fault, the task fails.
  fs::remove(tmp_ / "secrets/acme/vault.password");
  out = Drill(DrillTask(3));
  EXPECT_EQ(out.kind, worker::Outcome::kError);
  EXPECT_TRUE(ScratchEmpty());
}

INSTANTIATE_TEST_SUITE_P(Formats, ResticDrillTest, ::testing::Values(1, 2),
                         [](const auto& info) { return "v" + std::to_string(info.param); });

}  // namespace
}  // namespace vigil::testing
