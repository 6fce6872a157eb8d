// The worker's CHECK of a plain set at a remote location (Location.kind
// "s3"), read through WorkerOptions::open_store, against the same check of
// the same files at a filesystem location. A real Worker leases its tasks
// over real gRPC on loopback from a scripted gateway in this process (the
// coordinator's side of leasing a remote location is not on this branch:
// its tasks are written here), and the gateway keeps every batch and
// completion. The store is a LocalStore over the directory the filesystem
// check reads: the restore points and every observation (paths, types,
// sizes, mtimes, digests, samples, link targets) must be the same.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "services/common/listing_digest.h"
#include "services/worker/remote/s3_store.h"
#include "services/worker/worker.h"
#include "storage/hash.h"
#include "storage/local_store.h"
#include "tests/integration/test_util.h"
#include "tests/services/worker/bag_builder.h"
#include "tests/support/faulty_store.h"
#include "tests/support/random_bytes.h"
#include "tests/support/s3_server.h"
#include "tests/support/wait.h"
#include "tests/support/webhook.h"
#include "vigil/v1/worker.grpc.pb.h"

namespace vigil::worker {
namespace {

using ObserveStream = grpc::ServerReaderWriter<v1::Ack, v1::ObservationBatch>;
using vigil::testing::RunProcess;
using vigil::testing::RunResult;

// What the gateway kept of one task: its batches' points and observations
// in order, and its completion.
struct TaskRecord {
  std::vector<v1::RestorePointSeen> points;
  std::vector<v1::Observation> observations;
  bool completed = false;
  v1::CompleteTaskRequest complete;
};

// Leases the tasks it is given, in order, and keeps what comes back.
class ScriptedGateway final : public v1::WorkerGateway::Service {
 public:
  void Add(const v1::Task& t) {
    std::lock_guard lock(mu_);
    queue_.push_back(t);
  }
  // The record of task `id` once it completed; nullopt at the deadline.
  std::optional<TaskRecord> WaitTask(uint64_t id) {
    std::optional<TaskRecord> out;
    vigil::testing::WaitFor(
        [&] {
          std::lock_guard lock(mu_);
          auto it = tasks_.find(id);
          if (it == tasks_.end() || !it->second.completed) return false;
          out = it->second;
          return true;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(20));
    return out;
  }

  grpc::Status Register(grpc::ServerContext*, const v1::RegisterRequest*,
                        v1::RegisterResponse* resp) override {
    resp->set_worker_id("w1");
    resp->set_credential("secret");
    resp->set_lease_ttl_ms(5000);
    return grpc::Status::OK;
  }
  grpc::Status LeaseTask(grpc::ServerContext*, const v1::LeaseTaskRequest*,
                         v1::LeaseTaskResponse* resp) override {
    std::lock_guard lock(mu_);
    if (queue_.empty()) return grpc::Status::OK;
    *resp->mutable_task() = queue_.front();
    queue_.pop_front();
    return grpc::Status::OK;
  }
  grpc::Status Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest*,
                         v1::HeartbeatResponse*) override {
    return grpc::Status::OK;
  }
  grpc::Status Observe(grpc::ServerContext*, ObserveStream* stream) override {
    for (v1::ObservationBatch b; stream->Read(&b);) {
      {
        std::lock_guard lock(mu_);
        TaskRecord& t = tasks_[b.task_id()];
        for (const auto& p : b.points()) t.points.push_back(p);
        for (const auto& o : b.observations()) t.observations.push_back(o);
      }
      v1::Ack ack;
      ack.set_seq(b.seq());
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }
  grpc::Status CompleteTask(grpc::ServerContext*, const v1::CompleteTaskRequest* req,
                            v1::CompleteTaskResponse*) override {
    std::lock_guard lock(mu_);
    TaskRecord& t = tasks_[req->task_id()];
    t.completed = true;
    t.complete = *req;
    return grpc::Status::OK;
  }
  grpc::Status ReleaseTask(grpc::ServerContext*, const v1::ReleaseTaskRequest*,
                           v1::ReleaseTaskResponse*) override {
    return grpc::Status::OK;
  }

 private:
  std::mutex mu_;
  std::deque<v1::Task> queue_;
  std::map<uint64_t, TaskRecord> tasks_;
};

bool EndsWith(std::string_view s, std::string_view end) {
  return s.size() >= end.size() && s.substr(s.size() - end.size()) == end;
}

// A LocalStore that says what an S3 bucket with Object Lock would: the
// bucket's facts (Object Lock on, COMPLIANCE 30 days, versioning on), a
// SHA-256 upload checksum in the listing of every file (a wrong one for
// names ending in ".bad"; none for ".kms", whose Stat says SSE-KMS), and
// on Stat each object's retention: files of point 2026-10-01 retained
// until 2100, the others not retained (one on a legal hold: "legal").

// A LocalStore that counts what is asked of it: listings and reads.
class CountingStore final : public storage::Store {
 public:
  CountingStore(std::unique_ptr<storage::Store> inner, std::atomic<int>* lists,
                std::atomic<int>* reads)
      : inner_(std::move(inner)), lists_(lists), reads_(reads) {}
  std::string Describe() const override { return inner_->Describe(); }
  storage::Status List(std::string_view dir,
                       const std::function<bool(storage::StoreEntry&&)>& each) override {
    ++*lists_;
    return inner_->List(dir, each);
  }
  storage::StatusOr<storage::StoreEntry> Stat(std::string_view path) override {
    return inner_->Stat(path);
  }
  storage::StatusOr<size_t> ReadAt(std::string_view path, uint64_t offset, void* buf,
                                   size_t len) override {
    ++*reads_;
    return inner_->ReadAt(path, offset, buf, len);
  }

 private:
  std::unique_ptr<storage::Store> inner_;
  std::atomic<int>* lists_;
  std::atomic<int>* reads_;
};

class SayingStore final : public storage::Store {
 public:
  explicit SayingStore(std::unique_ptr<storage::Store> inner) : inner_(std::move(inner)) {}
  std::string Describe() const override { return "s3://saying.test/bucket"; }
  storage::StoreFacts Facts() override {
    storage::StoreFacts f;
    f.versioning = storage::StoreFact::kOn;
    f.versioning_status = "Enabled";
    f.object_lock = storage::StoreFact::kOn;
    f.default_mode = "COMPLIANCE";
    f.default_days = 30;
    return f;
  }
  storage::Status List(std::string_view dir,
                       const std::function<bool(storage::StoreEntry&&)>& each) override {
    return inner_->List(dir, [&](storage::StoreEntry&& e) {
      if (e.type == storage::StoreEntryType::kFile) {
        std::string content(e.size, '\0');
        const std::string path = storage::JoinStorePath(dir, e.name);
        auto n = inner_->ReadAt(path, 0, content.data(), content.size());
        if (n.ok()) content.resize(*n);
        if (e.name.size() > 4 && e.name.substr(e.name.size() - 4) == ".bad") content += "x";
        e.etag = "0123456789abcdef0123456789abcdef";  // not the MD5: the checksum comes first
        if (!EndsWith(e.name, ".kms")) {
          e.checksum_sha256 =
              std::string(storage::HashBytes(storage::HashAlgorithm::kSha256, content).view());
        }
      }
      return each(std::move(e));
    });
  }
  storage::StatusOr<storage::StoreEntry> Stat(std::string_view path) override {
    auto e = inner_->Stat(path);
    if (!e.ok() || e->type != storage::StoreEntryType::kFile) return e;
    e->lock_known = true;
    e->etag_not_md5 = EndsWith(path, ".kms");  // encrypted with SSE-KMS
    if (path.find("/2026-10-01/") != std::string_view::npos) {
      e->lock_mode = "COMPLIANCE";
      e->lock_until_ns = int64_t{4102444800} * 1'000'000'000;  // 2100-01-01
    } else if (path.find("legal") != std::string_view::npos) {
      e->legal_hold = true;
    } else {
      e->lock_mode = "GOVERNANCE";
      e->lock_until_ns = 1'000'000'000;  // 1970: expired
    }
    return e;
  }
  storage::StatusOr<size_t> ReadAt(std::string_view path, uint64_t offset, void* buf,
                                   size_t len) override {
    return inner_->ReadAt(path, offset, buf, len);
  }

 private:
  std::unique_ptr<storage::Store> inner_;
};

class StoreCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The backup set: dated folders, nested directories, an empty file and
    // an empty directory, odd byte names, a symbolic link, a file of
    // several read buffers, a hard link (a filesystem check reuses its
    // digest, a store has no hard links: the same observation either way),
    // and a dateless folder (a warning, no point).
    const std::string set = tmp_ / "loc/acme/fs";
    W(set + "/2026-10-01/etc/hosts", "127.0.0.1 localhost\n");
    W(set + "/2026-10-01/docs/report.pdf", "%PDF-1.7 " + std::string(3000, 'r'));
    W(set + "/2026-10-01/big.bin", vigil::testing::Bytes((3 << 20) + 7, 1));
    W(set + "/2026-10-01/empty", "");
    W(set + "/2026-10-01/caf\xc3\xa9 \xff.txt", "odd name");
    std::filesystem::create_directories(set + "/2026-10-01/empty-dir");
    ASSERT_EQ(::symlink("etc/hosts", (set + "/2026-10-01/hosts-link").c_str()), 0);
    W(set + "/2026-10-02/etc/hosts", "127.0.0.1 localhost\n::1 localhost\n");
    W(set + "/2026-10-02/big.bin", vigil::testing::Bytes((3 << 20) + 7, 1));
    ASSERT_EQ(::link((set + "/2026-10-02/etc/hosts").c_str(),
                     (set + "/2026-10-02/hosts.hardlink").c_str()),
              0);
    W(set + "/undated/x", "no date: not a point");
    std::filesystem::create_directories(tmp_ / "loc/acme/mirror-empty");
  }
  void TearDown() override {
    if (worker_) worker_->Stop();
    if (run_.joinable()) run_.join();
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }
  static void W(const std::string& path, const std::string& content) {
    vigil::testing::WriteFile(path, content);
  }

  // Starts the gateway and a worker serving "loc" (filesystem, tmp/loc)
  // and "bucket" (remote); `hook` says whether it can open stores.
  void Start(bool hook = true) {
    grpc::ServerBuilder b;
    int port = 0;
    b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&gateway_);
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    WorkerOptions o;
    o.coordinator = "127.0.0.1:" + std::to_string(port);
    o.site = "s1";
    o.locations["loc"] = tmp_ / "loc";
    o.locations["bucket"] = "";  // remote: served by its name alone
    // Declared remote, but served as a directory (a bucket mounted by
    // hand); and declared a directory, but served as remote.
    o.locations["mounted"] = tmp_ / "loc";
    o.locations["unrooted"] = "";
    o.verbose = false;
    o.secrets = tmp_ / "secrets";
    o.test_max_kept = max_kept_;
    if (hook) {
      o.open_store =
          [this](const v1::Location& l) -> storage::StatusOr<std::unique_ptr<storage::Store>> {
        std::string fail;
        std::optional<remote::S3Config> s3;
        storage::RetryPolicy policy;
        {
          std::lock_guard lock(mu_);
          opened_.push_back(l.s3().bucket());
          fail = fail_prefix_;
          s3 = s3_;
          policy = s3_policy_;
        }
        if (s3) return remote::OpenS3Store(*s3, vigil::testing::S3Server::Credentials(), policy);
        if (!fail.empty()) {
          return std::unique_ptr<storage::Store>(
              vigil::testing::FaultyStore::Open(tmp_ / "loc", fail));
        }
        if (counting_) {
          auto inner = storage::LocalStore::Open(tmp_ / "loc");
          if (!inner.ok()) return inner.status();
          return std::unique_ptr<storage::Store>(
              std::make_unique<CountingStore>(std::move(*inner), &lists_, &reads_));
        }
        if (saying_) {
          auto inner = storage::LocalStore::Open(tmp_ / "loc");
          if (!inner.ok()) return inner.status();
          return std::unique_ptr<storage::Store>(std::make_unique<SayingStore>(std::move(*inner)));
        }
        auto s = storage::LocalStore::Open(tmp_ / "loc");
        if (!s.ok()) return s.status();
        return std::unique_ptr<storage::Store>(std::move(*s));
      };
    }
    auto w = Worker::Create(o);
    ASSERT_TRUE(w.ok()) << w.status();
    worker_ = std::move(*w);
    run_ = std::thread([this] { (void)worker_->Run(); });
  }

  // A CHECK of set `path` at `location` ("loc": filesystem; else s3).
 public:
  static v1::Task CheckTask(uint64_t id, const std::string& location, const std::string& path,
                            const std::string& layout, const std::string& format = "") {
    v1::Task t;
    t.set_id(id);
    t.set_attempt(1);
    t.set_kind(v1::TASK_KIND_CHECK);
    v1::BackupSet* s = t.mutable_backup_set();
    s->set_tenant("acme");
    s->set_name("fs");
    s->set_location(location);
    s->set_path(path);
    s->set_layout(layout);
    s->set_format(format);
    v1::Location* l = t.mutable_location();
    l->set_name(location);
    if (location == "loc" || location == "unrooted") {
      l->set_kind("filesystem");
    } else {
      l->set_kind("s3");
      l->mutable_s3()->set_endpoint("https://s3.example.test");
      l->mutable_s3()->set_bucket("backups");
    }
    return t;
  }

 protected:
  vigil::testing::TempDir tmp_;
  ScriptedGateway gateway_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Worker> worker_;
  std::thread run_;
  std::mutex mu_;
  std::vector<std::string> opened_;  // buckets the hook was asked for
  std::string fail_prefix_;          // non-empty: the store fails reads there (FaultyStore)
  // Set: the store is the real S3 store at this address, with this policy.
  std::optional<remote::S3Config> s3_;
  storage::RetryPolicy s3_policy_;
  bool saying_ = false;  // set before Start: the hook opens a SayingStore
  // Set before Start: the hook opens a CountingStore counting into these.
  bool counting_ = false;
  size_t max_kept_ = 0;  // set before Start: WorkerOptions::test_max_kept
  std::atomic<int> lists_{0}, reads_{0};
};

// The check of task `remote` (through the store) gave what the check of
// task `local` (on disk) gave: points, observations, completion. Returns
// the local one's observations for the caller's own expectations.
std::vector<v1::Observation> ExpectSameCheck(ScriptedGateway& gateway, uint64_t local_id,
                                             uint64_t remote_id) {
  auto local = gateway.WaitTask(local_id);
  auto remote = gateway.WaitTask(remote_id);
  EXPECT_TRUE(local.has_value()) << "the filesystem check did not complete";
  EXPECT_TRUE(remote.has_value()) << "the check over the store did not complete";
  if (!local || !remote) return {};
  EXPECT_EQ(local->complete.error(), "");
  EXPECT_EQ(remote->complete.error(), "");
  EXPECT_EQ(remote->points.size(), local->points.size());
  for (size_t i = 0; i < local->points.size() && i < remote->points.size(); ++i) {
    EXPECT_EQ(remote->points[i].SerializeAsString(), local->points[i].SerializeAsString())
        << local->points[i].DebugString();
  }
  EXPECT_EQ(remote->observations.size(), local->observations.size());
  for (size_t i = 0; i < local->observations.size() && i < remote->observations.size(); ++i) {
    const v1::Observation& a = local->observations[i];
    const v1::Observation& b = remote->observations[i];
    EXPECT_EQ(b.SerializeAsString(), a.SerializeAsString()) << "filesystem:\n"
                                                            << a.DebugString() << "store:\n"
                                                            << b.DebugString();
  }
  EXPECT_EQ(remote->complete.set_directory(), local->complete.set_directory());
  return local->observations;
}

TEST_F(StoreCheckTest, DatedFoldersOverAStoreEqualTheFilesystemCheck) {
  gateway_.Add(CheckTask(1, "loc", "acme/fs", "dated-folders"));
  gateway_.Add(CheckTask(2, "bucket", "acme/fs", "dated-folders"));
  Start();
  std::vector<v1::Observation> seen = ExpectSameCheck(gateway_, 1, 2);
  // What the filesystem check saw: two points, every kind of entry.
  EXPECT_EQ(gateway_.WaitTask(1)->points.size(), 2u);
  ASSERT_EQ(seen.size(), 9u);
  int digests = 0, samples = 0, links = 0;
  for (const v1::Observation& o : seen) {
    digests += !o.digest().empty();
    samples += o.has_sample();
    links += o.type() == v1::ENTRY_TYPE_SYMLINK;
  }
  EXPECT_EQ(digests, 9);  // every file and the link hashed: not a listing only
  EXPECT_GE(samples, 6);
  EXPECT_EQ(links, 1);
  std::lock_guard lock(mu_);
  EXPECT_EQ(opened_, std::vector<std::string>{"backups"});
}

// A point the coordinator holds digests of, read through a store: walked
// (listed and read) once, sent as a held marker when the same, and when it
// differs sent as that one walk saw it — never listed nor read twice.
TEST_F(StoreCheckTest, HeldPointsOverAStoreAreWalkedOnceAndSentOnlyWhenChanged) {
  counting_ = true;
  gateway_.Add(CheckTask(1, "bucket", "acme/fs", "dated-folders"));
  Start();
  auto first = gateway_.WaitTask(1);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->complete.error(), "");
  ASSERT_EQ(first->points.size(), 2u);
  const int lists = lists_.exchange(0), reads = reads_.exchange(0);
  ASSERT_GT(lists, 0);
  ASSERT_GT(reads, 0);
  // What the coordinator would hold of each point after this check: its
  // digests (every file read) and entries.
  std::map<int64_t, ListingDigester> digesters;
  std::map<int64_t, uint64_t> entries;
  for (const v1::Observation& o : first->observations) {
    digesters[o.restore_point_ns()].Add(o);
    ++entries[o.restore_point_ns()];
  }
  ASSERT_EQ(digesters.size(), 2u);
  const int64_t day1 = first->points[0].time_ns(), day2 = first->points[1].time_ns();
  std::map<int64_t, v1::ListingDigests> digests;
  for (auto& [t, d] : digesters) digests[t] = d.Finish(true);

  // Day 2 changes (its hosts file, hard-linked under two names) before the
  // next check, which the coordinator gives both points' offers.
  W(tmp_ / "loc/acme/fs/2026-10-02/etc/hosts", "changed\n");
  v1::Task t = CheckTask(2, "bucket", "acme/fs", "dated-folders");
  for (int64_t p : {day1, day2}) {
    v1::HeldPoint* h = t.add_held_points();
    h->set_time_ns(p);
    h->set_entries(entries[p]);
    *h->mutable_digests() = HeldOffer(digests[p], 2, 1);
  }
  gateway_.Add(t);
  auto second = gateway_.WaitTask(2);
  ASSERT_TRUE(second.has_value());
  ASSERT_EQ(second->complete.error(), "");
  EXPECT_EQ(lists_.exchange(0), lists) << "every directory listed once, as without offers";
  EXPECT_EQ(reads_.exchange(0), reads) << "every object read once";
  // Day 1: one marker with the proof of its digests; day 2: its entries.
  ASSERT_FALSE(second->observations.empty());
  const v1::Observation& marker = second->observations[0];
  ASSERT_TRUE(marker.has_held()) << marker.DebugString();
  EXPECT_EQ(marker.restore_point_ns(), day1);
  EXPECT_EQ(marker.held().SerializeAsString(), HeldProof(digests[day1], 2, 1).SerializeAsString());
  std::vector<v1::Observation> sent(second->observations.begin() + 1, second->observations.end());
  for (const v1::Observation& o : sent) EXPECT_EQ(o.restore_point_ns(), day2) << o.DebugString();

  // What it sent of day 2 is what a check without offers sees.
  gateway_.Add(CheckTask(3, "bucket", "acme/fs", "dated-folders"));
  auto third = gateway_.WaitTask(3);
  ASSERT_TRUE(third.has_value());
  std::vector<v1::Observation> plain;
  for (const v1::Observation& o : third->observations) {
    if (o.restore_point_ns() == day2) plain.push_back(o);
  }
  ASSERT_EQ(sent.size(), plain.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(sent[i].SerializeAsString(), plain[i].SerializeAsString()) << plain[i].DebugString();
  }
  bool changed = false;
  for (const v1::Observation& o : sent) changed |= o.path() == "etc/hosts" && o.size() == 8;
  EXPECT_TRUE(changed) << "day 2 as it is now";
  // What the store said of the objects read (checksums, retention) is the
  // same as a plain check's: every object counted once.
  v1::StoreEvidence e2 = second->complete.store_evidence(), e3 = third->complete.store_evidence();
  e2.clear_measured_ns();
  e3.clear_measured_ns();
  EXPECT_EQ(e2.SerializeAsString(), e3.SerializeAsString()) << e2.DebugString() << e3.DebugString();

  // Listed without reading (the scheduler's metadata-only points): held on
  // the listing alone, nothing read.
  std::map<int64_t, ListingDigester> now;
  for (const v1::Observation& o : third->observations) now[o.restore_point_ns()].Add(o);
  v1::Task listing = CheckTask(4, "bucket", "acme/fs", "dated-folders");
  for (int64_t p : {day1, day2}) {
    listing.add_metadata_only_points(p);
    v1::HeldPoint* h = listing.add_held_points();
    h->set_time_ns(p);
    h->set_entries(entries[p]);
    *h->mutable_digests() = HeldOffer(now[p].Finish(true), 4, 1);
  }
  lists_ = 0;
  reads_ = 0;
  gateway_.Add(listing);
  auto fourth = gateway_.WaitTask(4);
  ASSERT_TRUE(fourth.has_value());
  ASSERT_EQ(fourth->complete.error(), "");
  ASSERT_EQ(fourth->observations.size(), 2u);
  for (const v1::Observation& o : fourth->observations) {
    EXPECT_TRUE(o.has_held()) << o.DebugString();
    EXPECT_TRUE(o.held().content().empty()) << "nothing read: no content proof";
  }
  EXPECT_EQ(reads_.load(), 0);
  EXPECT_EQ(lists_.load(), lists);
}

// A held point that grew past what the worker keeps while it compares,
// and changed: walked (and read) a second time to be sent, sent as a plain
// check sends it, its store evidence counted once.
TEST_F(StoreCheckTest, AHeldPointGrownPastTheBoundIsWalkedAgainToBeSent) {
  counting_ = true;
  max_kept_ = 4;  // points of at most 2 entries compared; 4 kept
  const std::string day = tmp_ / "loc/acme/fs/2026-10-03";
  W(day + "/a", "a");
  gateway_.Add(CheckTask(1, "bucket", "acme/fs", "dated-folders"));
  Start();
  auto first = gateway_.WaitTask(1);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->points.size(), 3u);
  const int64_t t3 = first->points[2].time_ns();
  ListingDigester d;
  for (const v1::Observation& o : first->observations) {
    if (o.restore_point_ns() == t3) d.Add(o);
  }
  ASSERT_EQ(d.entries(), 1u);
  const v1::ListingDigests recorded = d.Finish(true);
  // The day grows to 6 entries, past the 4 kept.
  for (const char* n : {"b", "c", "d", "e", "f"}) W(day + "/" + n, n);
  auto held_task = [&](uint64_t id) {
    v1::Task t = CheckTask(id, "bucket", "acme/fs", "dated-folders");
    v1::HeldPoint* h = t.add_held_points();
    h->set_time_ns(t3);
    h->set_entries(1);
    *h->mutable_digests() = HeldOffer(recorded, id, 1);
    return t;
  };
  reads_ = 0;
  gateway_.Add(CheckTask(2, "bucket", "acme/fs", "dated-folders"));  // no offers
  auto plain = gateway_.WaitTask(2);
  ASSERT_TRUE(plain.has_value());
  const int plain_reads = reads_.exchange(0);
  gateway_.Add(held_task(3));
  auto grown = gateway_.WaitTask(3);
  ASSERT_TRUE(grown.has_value());
  ASSERT_EQ(grown->complete.error(), "");
  ASSERT_EQ(grown->observations.size(), plain->observations.size());
  for (size_t i = 0; i < plain->observations.size(); ++i) {
    EXPECT_EQ(grown->observations[i].SerializeAsString(),
              plain->observations[i].SerializeAsString())
        << plain->observations[i].DebugString();
  }
  EXPECT_EQ(reads_.load(), plain_reads + 6) << "the grown day's 6 objects read twice";
  v1::StoreEvidence e2 = plain->complete.store_evidence(), e3 = grown->complete.store_evidence();
  e2.clear_measured_ns();
  e3.clear_measured_ns();
  EXPECT_EQ(e3.SerializeAsString(), e2.SerializeAsString()) << "each object counted once";
}

TEST_F(StoreCheckTest, MirrorAndDatedFilesOverAStoreEqualTheFilesystemCheck) {
  W(tmp_ / "loc/acme/files/db_20261001.sql.gz", vigil::testing::Bytes(70'000, 3));
  W(tmp_ / "loc/acme/files/db_20261002.sql.gz", vigil::testing::Bytes(5, 4));
  W(tmp_ / "loc/acme/files/notes.txt", "not a point");
  gateway_.Add(CheckTask(1, "loc", "acme/fs/2026-10-01", ""));  // a mirror: the point is the set
  gateway_.Add(CheckTask(2, "bucket", "acme/fs/2026-10-01", ""));
  v1::Task files = CheckTask(3, "loc", "acme/files", "dated-files");
  files.mutable_backup_set()->set_pattern("db_*");
  gateway_.Add(files);
  files = CheckTask(4, "bucket", "acme/files", "dated-files");
  files.mutable_backup_set()->set_pattern("db_*");
  gateway_.Add(files);
  Start();
  std::vector<v1::Observation> mirror = ExpectSameCheck(gateway_, 1, 2);
  EXPECT_EQ(mirror.size(), 6u);
  for (const v1::Observation& o : mirror) EXPECT_FALSE(o.unreadable()) << o.DebugString();
  std::vector<v1::Observation> dated = ExpectSameCheck(gateway_, 3, 4);
  ASSERT_EQ(dated.size(), 2u);
  EXPECT_EQ(dated[0].path(), "db_20261001.sql.gz");
  EXPECT_EQ(dated[0].size(), 70'000u);
  EXPECT_FALSE(dated[0].digest().empty());
}

TEST_F(StoreCheckTest, AMissingSetInTheStoreIsEvidenceThatItDoesNotExist) {
  gateway_.Add(CheckTask(1, "bucket", "acme/none", "dated-folders"));
  gateway_.Add(CheckTask(2, "bucket", "acme/mirror-empty", ""));
  Start();
  auto missing = gateway_.WaitTask(1);
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->complete.error(), "");
  EXPECT_EQ(missing->complete.set_directory(), "does not exist");
  EXPECT_TRUE(missing->points.empty());
  EXPECT_TRUE(missing->observations.empty());
  // An empty mirror in the store: one point, nothing in it, "empty".
  auto empty = gateway_.WaitTask(2);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->complete.error(), "");
  EXPECT_EQ(empty->complete.set_directory(), "empty");
  EXPECT_TRUE(empty->observations.empty());
}

// A restic repository (written by Debian's restic) at a remote location,
// checked through the store: the same restore points (its snapshots), the
// same observations, the same verdict and pack list as the filesystem check
// of the same repository; damage (a flipped byte in a pack, a deleted pack)
// found the same way. A store that cannot read a pack fails the task,
// naming the pack and the store: no verdict.
TEST_F(StoreCheckTest, AResticRepositoryOverAStoreEqualsTheFilesystemCheck) {
  RunResult which = RunProcess({"/bin/sh", "-c", "command -v restic"});
  ASSERT_EQ(which.exit_code, 0) << "the `restic` binary is not installed: run scripts/install-deps";
  std::string bin = which.out;
  while (!bin.empty() && bin.back() == '\n') bin.pop_back();
  ::setenv("RESTIC_CACHE_DIR", (tmp_ / "cache").c_str(), 1);
  W(tmp_ / "pw", "store pw\n");
  W(tmp_ / "secrets/acme/fs.password", "store pw\n");
  const std::string repo = tmp_ / "loc/acme/restic", src = tmp_ / "src";
  auto restic = [&](std::vector<std::string> args) {
    args.insert(args.begin(), bin);
    args.insert(args.end(), {"-r", repo, "--password-file", tmp_ / "pw", "--no-cache", "-q"});
    RunResult r = RunProcess(args);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  };
  W(src + "/a.txt", "first file\n");
  W(src + "/big.bin", vigil::testing::Bytes(3 << 20, 4));
  restic({"init"});
  restic({"backup", src});
  W(src + "/b.bin", vigil::testing::Bytes(1 << 20, 5));
  restic({"backup", src});
  Start();
  // Two checks of the same repository, one from each kind of location;
  // both must complete before the next pair (the repository changes).
  uint64_t id = 0;
  auto pair = [&] {
    gateway_.Add(CheckTask(++id, "loc", "acme/restic", "restic-snapshots", "restic"));
    gateway_.Add(CheckTask(++id, "bucket", "acme/restic", "restic-snapshots", "restic"));
    auto local = gateway_.WaitTask(id - 1);
    auto remote = gateway_.WaitTask(id);
    EXPECT_TRUE(local.has_value() && remote.has_value());
    return std::make_pair(local.value_or(TaskRecord{}), remote.value_or(TaskRecord{}));
  };
  auto same = [](const TaskRecord& a, const TaskRecord& b) {
    ASSERT_EQ(b.points.size(), a.points.size());
    for (size_t i = 0; i < a.points.size(); ++i) {
      EXPECT_EQ(b.points[i].SerializeAsString(), a.points[i].SerializeAsString());
    }
    ASSERT_EQ(b.observations.size(), a.observations.size());
    for (size_t i = 0; i < a.observations.size(); ++i) {
      EXPECT_EQ(b.observations[i].SerializeAsString(), a.observations[i].SerializeAsString())
          << a.observations[i].DebugString() << b.observations[i].DebugString();
    }
    ASSERT_EQ(b.complete.format_verdicts_size(), 1);
    ASSERT_EQ(a.complete.format_verdicts_size(), 1);
    EXPECT_EQ(b.complete.format_verdicts(0).SerializeAsString(),
              a.complete.format_verdicts(0).SerializeAsString())
        << a.complete.format_verdicts(0).DebugString()
        << b.complete.format_verdicts(0).DebugString();
    ASSERT_EQ(b.complete.restic_packs_size(), a.complete.restic_packs_size());
    for (int i = 0; i < a.complete.restic_packs_size(); ++i) {
      EXPECT_EQ(b.complete.restic_packs(i).SerializeAsString(),
                a.complete.restic_packs(i).SerializeAsString());
    }
  };
  auto [local, remote] = pair();
  EXPECT_EQ(local.complete.error(), "");
  EXPECT_EQ(remote.complete.error(), "");
  EXPECT_EQ(local.points.size(), 2u);  // two snapshots
  EXPECT_EQ(local.observations.size(), 2u);
  ASSERT_EQ(local.complete.format_verdicts_size(), 1);
  EXPECT_TRUE(local.complete.format_verdicts(0).valid())
      << local.complete.format_verdicts(0).DebugString();
  EXPECT_GE(local.complete.format_verdicts(0).packs_read(), 2u);
  same(local, remote);

  // Damage: a flipped byte in the largest pack, the smallest one deleted.
  std::vector<std::pair<uint64_t, std::string>> packs;
  for (const auto& e : std::filesystem::recursive_directory_iterator(repo + "/data")) {
    if (e.is_regular_file()) packs.emplace_back(e.file_size(), e.path().string());
  }
  std::sort(packs.begin(), packs.end());
  ASSERT_GE(packs.size(), 3u);
  std::string content = vigil::testing::ReadFile(packs.back().second);
  content[content.size() / 2] ^= 0x01;
  std::filesystem::permissions(packs.back().second, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  W(packs.back().second, content);
  ASSERT_EQ(::unlink(packs.front().second.c_str()), 0);
  auto [bad_local, bad_remote] = pair();
  EXPECT_EQ(bad_remote.complete.error(), "");
  ASSERT_EQ(bad_local.complete.format_verdicts_size(), 1);
  const v1::FormatVerdict& v = bad_local.complete.format_verdicts(0);
  EXPECT_FALSE(v.valid());
  std::string errors;
  for (const auto& e : v.errors()) errors += e + "\n";
  const auto name = [](const std::string& p) {
    return std::filesystem::path(p).filename().string();
  };
  EXPECT_NE(errors.find(name(packs.back().second)), std::string::npos) << errors;
  EXPECT_NE(errors.find("does not exist"), std::string::npos) << errors;  // missing_pack
  EXPECT_NE(errors.find(name(packs.front().second)), std::string::npos) << errors;
  same(bad_local, bad_remote);

  // A store that cannot read the damaged pack: the task's error, naming
  // the pack and the store; no verdict, no pack list.
  {
    std::lock_guard lock(mu_);
    fail_prefix_ = "acme/restic/data/" + name(packs.back().second).substr(0, 2) + "/" +
                   name(packs.back().second);
  }
  gateway_.Add(CheckTask(++id, "bucket", "acme/restic", "restic-snapshots", "restic"));
  auto failed = gateway_.WaitTask(id);
  ASSERT_TRUE(failed.has_value());
  const std::string& err = failed->complete.error();
  EXPECT_NE(err.find("cannot read data/"), std::string::npos) << err;
  EXPECT_NE(err.find(name(packs.back().second) + " from test://faulty-store"), std::string::npos)
      << err;
  EXPECT_EQ(err.find("INVALID"), std::string::npos) << err;
  EXPECT_EQ(err.find("invalid"), std::string::npos) << err;
  EXPECT_EQ(failed->complete.format_verdicts_size(), 0);
  EXPECT_EQ(failed->complete.restic_packs_size(), 0);
  EXPECT_TRUE(failed->observations.empty());
}

// The verdicts of task `remote` (through the store) are those of task
// `local` (on disk), besides the same points and observations. Returns
// the local one's verdicts.
std::vector<v1::FormatVerdict> ExpectSameVerdicts(ScriptedGateway& gateway, uint64_t local_id,
                                                  uint64_t remote_id) {
  ExpectSameCheck(gateway, local_id, remote_id);
  auto local = gateway.WaitTask(local_id);
  auto remote = gateway.WaitTask(remote_id);
  if (!local || !remote) return {};
  EXPECT_EQ(remote->complete.format_verdicts_size(), local->complete.format_verdicts_size());
  for (int i = 0;
       i < local->complete.format_verdicts_size() && i < remote->complete.format_verdicts_size();
       ++i) {
    EXPECT_EQ(remote->complete.format_verdicts(i).SerializeAsString(),
              local->complete.format_verdicts(i).SerializeAsString())
        << "filesystem:\n"
        << local->complete.format_verdicts(i).DebugString() << "store:\n"
        << remote->complete.format_verdicts(i).DebugString();
  }
  return {local->complete.format_verdicts().begin(), local->complete.format_verdicts().end()};
}

// Every error of `vs`, one a line.
std::string Errors(const std::vector<v1::FormatVerdict>& vs) {
  std::string out;
  for (const auto& v : vs) {
    for (const auto& e : v.errors()) out += v.target() + ": " + e + "\n";
  }
  return out;
}

TEST_F(StoreCheckTest, BagsAndChecksumFilesOverAStoreEqualTheFilesystemCheck) {
  // A bagit set and a sumfile set, dated folders, each point a bag / a
  // directory with its SHA256SUMS (and an MD5SUMS for the second point).
  const std::string bags = tmp_ / "loc/acme/bags", sums = tmp_ / "loc/acme/sums";
  for (const char* day : {"2026-10-01", "2026-10-02"}) {
    vigil::testing::BagBuilder bag(bags + "/" + day);
    bag.payload["data/a.txt"] = std::string("first payload file ") + day + "\n";
    bag.payload["data/sub/b.bin"] = vigil::testing::Bytes((2 << 20) + 11, 7);
    bag.payload["data/empty"] = "";
    bag.Build();
    const std::string dir = sums + "/" + day;
    W(dir + "/a.txt", std::string("alpha ") + day);
    W(dir + "/sub/b.bin", vigil::testing::Bytes((1 << 20) + 3, 8));
    std::string list;
    for (const char* f : {"a.txt", "sub/b.bin"}) {
      list += storage::HashBytes(storage::HashAlgorithm::kSha256,
                                 vigil::testing::ReadFile(dir + "/" + f))
                  .Hex() +
              "  " + f + "\n";
    }
    W(dir + "/SHA256SUMS", list);
  }
  W(sums + "/2026-10-02/MD5SUMS",
    storage::HashBytes(storage::HashAlgorithm::kMd5,
                       vigil::testing::ReadFile(sums + "/2026-10-02/a.txt"))
            .Hex() +
        " *a.txt\n");
  Start();
  uint64_t id = 0;
  // One round: each set checked from the filesystem location and through
  // the store; the verdicts (and the walk) must be equal. Returns the
  // local verdicts of the bags and of the checksum files.
  auto round = [&] {
    gateway_.Add(CheckTask(++id, "loc", "acme/bags", "dated-folders", "bagit"));
    gateway_.Add(CheckTask(++id, "bucket", "acme/bags", "dated-folders", "bagit"));
    gateway_.Add(CheckTask(++id, "loc", "acme/sums", "dated-folders", "sumfile"));
    gateway_.Add(CheckTask(++id, "bucket", "acme/sums", "dated-folders", "sumfile"));
    auto b = ExpectSameVerdicts(gateway_, id - 3, id - 2);
    auto s = ExpectSameVerdicts(gateway_, id - 1, id);
    return std::make_pair(b, s);
  };

  auto [bag_ok, sum_ok] = round();
  ASSERT_EQ(bag_ok.size(), 2u);
  ASSERT_EQ(sum_ok.size(), 3u);  // SHA256SUMS twice, MD5SUMS once
  EXPECT_EQ(Errors(bag_ok), "");
  EXPECT_EQ(Errors(sum_ok), "");
  for (const auto& v : bag_ok) EXPECT_TRUE(v.valid()) << v.DebugString();
  for (const auto& v : sum_ok) EXPECT_TRUE(v.valid()) << v.DebugString();
  EXPECT_EQ(bag_ok[0].files_read(), 3u + 4u);  // payload + tag files
  EXPECT_GT(bag_ok[0].bytes_read(), 2u << 20);

  // A flipped byte in a payload file: a digest mismatch, named.
  auto flip = [](const std::string& path) {
    std::string c = vigil::testing::ReadFile(path);
    c[c.size() / 2] ^= 0x20;
    vigil::testing::WriteFile(path, c);
    return c;
  };
  const std::string bag_b = bags + "/2026-10-01/data/sub/b.bin";
  const std::string sum_b = sums + "/2026-10-01/sub/b.bin";
  const std::string bag_b_was = vigil::testing::ReadFile(bag_b);
  const std::string sum_b_was = vigil::testing::ReadFile(sum_b);
  flip(bag_b);
  flip(sum_b);
  auto [bag_flip, sum_flip] = round();
  ASSERT_EQ(bag_flip.size(), 2u);
  EXPECT_FALSE(bag_flip[0].valid());
  EXPECT_TRUE(bag_flip[1].valid());
  EXPECT_NE(Errors(bag_flip).find("digest mismatch for data/sub/b.bin"), std::string::npos)
      << Errors(bag_flip);
  ASSERT_EQ(sum_flip.size(), 3u);
  EXPECT_FALSE(sum_flip[0].valid());
  EXPECT_NE(Errors(sum_flip).find("digest mismatch for sub/b.bin"), std::string::npos)
      << Errors(sum_flip);

  // The files back; one deleted from each: missing.
  vigil::testing::WriteFile(bag_b, bag_b_was);
  vigil::testing::WriteFile(sum_b, sum_b_was);
  ASSERT_EQ(::unlink((bags + "/2026-10-02/data/a.txt").c_str()), 0);
  ASSERT_EQ(::unlink((sums + "/2026-10-02/a.txt").c_str()), 0);
  auto [bag_gone, sum_gone] = round();
  ASSERT_EQ(bag_gone.size(), 2u);
  EXPECT_TRUE(bag_gone[0].valid()) << bag_gone[0].DebugString();
  EXPECT_FALSE(bag_gone[1].valid());
  EXPECT_NE(Errors(bag_gone).find("data/a.txt is missing"), std::string::npos) << Errors(bag_gone);
  EXPECT_NE(Errors(bag_gone).find("Payload-Oxum 2097193.3 does not match"), std::string::npos)
      << Errors(bag_gone);
  ASSERT_EQ(sum_gone.size(), 3u);
  EXPECT_TRUE(sum_gone[0].valid());
  EXPECT_FALSE(sum_gone[1].valid());  // 2026-10-02/MD5SUMS
  EXPECT_FALSE(sum_gone[2].valid());  // 2026-10-02/SHA256SUMS
  EXPECT_NE(Errors(sum_gone).find("a.txt is missing"), std::string::npos) << Errors(sum_gone);

  // A payload file no manifest lists (and an unlisted file beside the
  // checksum files, which they do not have to list).
  W(bags + "/2026-10-01/data/stray.txt", "not in any manifest");
  W(sums + "/2026-10-01/stray.txt", "not listed");
  auto [bag_stray, sum_stray] = round();
  ASSERT_EQ(bag_stray.size(), 2u);
  EXPECT_FALSE(bag_stray[0].valid());
  EXPECT_NE(Errors(bag_stray).find("payload file data/stray.txt is not listed"), std::string::npos)
      << Errors(bag_stray);
  ASSERT_EQ(sum_stray.size(), 3u);
  EXPECT_TRUE(sum_stray[0].valid());

  // A store that cannot read a payload file: the task's error, naming the
  // file and the store; no verdict (not a finding of damage).
  {
    std::lock_guard lock(mu_);
    fail_prefix_ = "acme/bags/2026-10-01/data/sub/b.bin";
  }
  gateway_.Add(CheckTask(++id, "bucket", "acme/bags", "dated-folders", "bagit"));
  auto failed = gateway_.WaitTask(id);
  ASSERT_TRUE(failed.has_value());
  const std::string& err = failed->complete.error();
  EXPECT_NE(err.find("data/sub/b.bin"), std::string::npos) << err;
  EXPECT_NE(err.find("test://faulty-store"), std::string::npos) << err;
  EXPECT_EQ(err.find("mismatch"), std::string::npos) << err;
  EXPECT_EQ(failed->complete.format_verdicts_size(), 0);
}

// An S3 endpoint that accepts connections and never answers: every check
// (a bag, a plain set) ends when the store's timeout has passed on each of
// its attempts, as the task's error naming the endpoint and the attempts;
// nothing is observed, no verdict is given, nothing hangs.
TEST_F(StoreCheckTest, AStallingS3EndpointEndsTheCheckAsUnavailableWithinItsTimeouts) {
  vigil::testing::LoopbackPort stalling(vigil::testing::LoopbackPort::Kind::kHanging);
  s3_.emplace();
  s3_->endpoint = "http://127.0.0.1:" + std::to_string(stalling.port());
  s3_->region = "us-east-1";
  s3_->bucket = "backups";
  s3_policy_ = {2, std::chrono::milliseconds(50), std::chrono::milliseconds(100),
                std::chrono::milliseconds(1000)};  // 2 attempts of 1 s
  const auto start = std::chrono::steady_clock::now();
  gateway_.Add(CheckTask(1, "bucket", "acme/fs", "dated-folders", "bagit"));
  gateway_.Add(CheckTask(2, "bucket", "acme/fs", "dated-folders", "sumfile"));
  gateway_.Add(CheckTask(3, "bucket", "acme/fs", "dated-folders"));
  Start();
  for (uint64_t id : {1, 2, 3}) {
    auto t = gateway_.WaitTask(id);
    ASSERT_TRUE(t.has_value()) << id;
    const std::string& err = t->complete.error();
    EXPECT_NE(err.find("127.0.0.1:" + std::to_string(stalling.port())), std::string::npos) << err;
    EXPECT_NE(err.find("after 2 attempts"), std::string::npos) << err;
    EXPECT_TRUE(t->observations.empty()) << id;
    EXPECT_TRUE(t->points.empty()) << id;
    EXPECT_EQ(t->complete.format_verdicts_size(), 0) << id;
    EXPECT_TRUE(t->complete.set_directory().empty()) << id;
  }
  // Three tasks in turn, each at most 2 attempts of 1 s (and the backoff):
  // well under the 15 s a hang would exceed.
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::seconds(3));
  EXPECT_LT(took, std::chrono::seconds(15));
}

// A DRILL task of the first restore point of `check` (a completed check of
// the set): every regular file of that point in the sample, with the
// catalogue's size and digest as the check observed them.
v1::Task DrillTask(uint64_t id, const std::string& location, const TaskRecord& check) {
  v1::Task t = StoreCheckTest::CheckTask(id, location, "acme/fs", "dated-folders");
  t.set_kind(v1::TASK_KIND_DRILL);
  EXPECT_FALSE(check.points.empty());
  if (check.points.empty()) return t;
  const int64_t p0 = check.points[0].time_ns();
  t.set_drill_point_ns(p0);
  for (const auto& o : check.observations) {
    if (o.restore_point_ns() != p0 || o.type() != v1::ENTRY_TYPE_FILE) continue;
    v1::DrillSample* s = t.add_drill_sample();
    s->set_path(o.path());
    s->set_size(o.size());
    s->set_digest(o.digest());
    s->set_digest_algorithm(o.digest_algorithm());
  }
  return t;
}

// A drill's result without its duration.
std::string DrillShown(const TaskRecord& t) {
  v1::DrillResult d = t.complete.drill();
  d.clear_seconds();
  return d.DebugString();
}

TEST_F(StoreCheckTest, ADrillOfAPlainSetFromAStoreEqualsTheFilesystemDrill) {
  gateway_.Add(CheckTask(1, "bucket", "acme/fs", "dated-folders"));
  Start();
  auto check = gateway_.WaitTask(1);
  ASSERT_TRUE(check.has_value());
  ASSERT_EQ(check->complete.error(), "");
  gateway_.Add(DrillTask(2, "loc", *check));
  gateway_.Add(DrillTask(3, "bucket", *check));
  auto local = gateway_.WaitTask(2);
  auto remote = gateway_.WaitTask(3);
  ASSERT_TRUE(local.has_value() && remote.has_value());
  EXPECT_EQ(remote->complete.error(), "");
  EXPECT_EQ(local->complete.drill().error(), "");
  EXPECT_EQ(local->complete.drill().mismatches(), 0u) << DrillShown(*local);
  EXPECT_GT(local->complete.drill().files(), 3u) << DrillShown(*local);
  EXPECT_GT(local->complete.drill().bytes(), 3u << 20);
  EXPECT_EQ(DrillShown(*remote), DrillShown(*local));

  // A file rewritten since the check (same size, other bytes), one gone:
  // two mismatches, the same from either location.
  const std::string point = tmp_ / "loc/acme/fs/2026-10-01";
  std::string big = vigil::testing::ReadFile(point + "/big.bin");
  big[big.size() / 3] ^= 0x40;
  W(point + "/big.bin", big);
  ASSERT_EQ(::unlink((point + "/docs/report.pdf").c_str()), 0);
  gateway_.Add(DrillTask(4, "loc", *check));
  gateway_.Add(DrillTask(5, "bucket", *check));
  local = gateway_.WaitTask(4);
  remote = gateway_.WaitTask(5);
  ASSERT_TRUE(local.has_value() && remote.has_value());
  EXPECT_EQ(local->complete.drill().mismatches(), 2u) << DrillShown(*local);
  EXPECT_EQ(DrillShown(*remote), DrillShown(*local));
  const std::string shown = DrillShown(*remote);
  EXPECT_NE(shown.find("big.bin"), std::string::npos) << shown;
  EXPECT_NE(shown.find("docs/report.pdf"), std::string::npos) << shown;

  // A store that cannot read a sampled file: the task's error naming it
  // and the store, no drill result claimed.
  {
    std::lock_guard lock(mu_);
    fail_prefix_ = "acme/fs/2026-10-01/etc/hosts";
  }
  gateway_.Add(DrillTask(6, "bucket", *check));
  auto failed = gateway_.WaitTask(6);
  ASSERT_TRUE(failed.has_value());
  EXPECT_NE(failed->complete.error().find("drill: cannot read 'acme/fs/2026-10-01/etc/hosts' "
                                          "from test://faulty-store"),
            std::string::npos)
      << failed->complete.error();
  EXPECT_FALSE(failed->complete.has_drill()) << failed->complete.DebugString();
}

// A plain set in a bucket of the loopback S3 server: checked, then drilled
// from the bucket (copied to the scratch, re-hashed): passes; an object
// rewritten in the bucket since the check: a mismatch naming it.
TEST_F(StoreCheckTest, ADrillOfAPlainSetInAnS3BucketPassesThenFindsARewrittenObject) {
  vigil::testing::S3Server server({"backups"});
  const std::string root = tmp_ / "loc";
  for (const auto& e : std::filesystem::recursive_directory_iterator(root + "/acme/fs")) {
    if (e.is_symlink() || !e.is_regular_file()) continue;
    const std::string key = std::filesystem::relative(e.path(), root).string();
    // S3 keys are UTF-8: the set's one name that is not stays out of the bucket.
    if (key.find('\xff') != std::string::npos) continue;
    ASSERT_TRUE(remote::PutS3ObjectForTest(server.Config("backups"),
                                           vigil::testing::S3Server::Credentials(), key,
                                           vigil::testing::ReadFile(e.path()))
                    .ok())
        << key;
  }
  s3_ = server.Config("backups");
  s3_policy_.attempts = 2;
  s3_policy_.timeout = std::chrono::milliseconds(5000);
  gateway_.Add(CheckTask(1, "bucket", "acme/fs", "dated-folders"));
  Start();
  auto check = gateway_.WaitTask(1);
  ASSERT_TRUE(check.has_value());
  ASSERT_EQ(check->complete.error(), "");
  gateway_.Add(DrillTask(2, "bucket", *check));
  auto drill = gateway_.WaitTask(2);
  ASSERT_TRUE(drill.has_value());
  EXPECT_EQ(drill->complete.error(), "");
  EXPECT_EQ(drill->complete.drill().error(), "");
  EXPECT_EQ(drill->complete.drill().mismatches(), 0u) << DrillShown(*drill);
  EXPECT_GT(drill->complete.drill().files(), 3u) << DrillShown(*drill);
  EXPECT_GT(drill->complete.drill().bytes(), 3u << 20);

  std::string big = vigil::testing::ReadFile(root + "/acme/fs/2026-10-01/big.bin");
  big[big.size() / 2] ^= 0x01;
  ASSERT_TRUE(remote::PutS3ObjectForTest(server.Config("backups"),
                                         vigil::testing::S3Server::Credentials(),
                                         "acme/fs/2026-10-01/big.bin", big)
                  .ok());
  gateway_.Add(DrillTask(3, "bucket", *check));
  auto bad = gateway_.WaitTask(3);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->complete.error(), "");
  EXPECT_EQ(bad->complete.drill().mismatches(), 1u) << DrillShown(*bad);
  ASSERT_EQ(bad->complete.drill().mismatch_paths_size(), 1);
  EXPECT_EQ(bad->complete.drill().mismatch_paths(0), "big.bin");
}

// A remote location's directories two levels down are surveyed for the
// scope finding as a filesystem location's are: the same names (hidden
// ones and symbolic links left out), from the store.
TEST_F(StoreCheckTest, ARemoteLocationIsSurveyedAsAFilesystemLocationIs) {
  std::filesystem::create_directories(tmp_ / "loc/other/unmanaged");
  std::filesystem::create_directories(tmp_ / "loc/.hidden/x");
  std::filesystem::create_directories(tmp_ / "loc/acme/.snapshot");
  ASSERT_EQ(::symlink("acme", (tmp_ / "loc/linked").c_str()), 0);
  gateway_.Add(CheckTask(1, "loc", "acme/fs", "dated-folders"));
  gateway_.Add(CheckTask(2, "bucket", "acme/fs", "dated-folders"));
  Start();
  auto local = gateway_.WaitTask(1);
  auto remote = gateway_.WaitTask(2);
  ASSERT_TRUE(local.has_value() && remote.has_value());
  const std::vector<std::string> want = {"acme/fs", "acme/mirror-empty", "other/unmanaged"};
  const auto& l = local->complete.location_dirs();
  const auto& r = remote->complete.location_dirs();
  EXPECT_EQ(std::vector<std::string>(l.begin(), l.end()), want);
  EXPECT_EQ(std::vector<std::string>(r.begin(), r.end()), want);
}

TEST_F(StoreCheckTest, ARemoteLocationTheWorkerCannotReadFailsNamingIt) {
  gateway_.Add(CheckTask(1, "bucket", "acme/fs", "dated-folders"));
  gateway_.Add(CheckTask(2, "unserved", "acme/fs", "dated-folders"));
  Start(/*hook=*/false);
  auto no_hook = gateway_.WaitTask(1);
  ASSERT_TRUE(no_hook.has_value());
  EXPECT_NE(no_hook->complete.error().find("location 'bucket' (s3): this worker cannot read s3"),
            std::string::npos)
      << no_hook->complete.error();
  EXPECT_TRUE(no_hook->observations.empty());
  auto unserved = gateway_.WaitTask(2);
  ASSERT_TRUE(unserved.has_value());
  EXPECT_NE(unserved->complete.error().find("location 'unserved' (s3) not served here"),
            std::string::npos)
      << unserved->complete.error();
}

TEST_F(StoreCheckTest, ALocationServedOtherwiseThanDeclaredIsNotGuessed) {
  gateway_.Add(CheckTask(1, "mounted", "acme/fs", "dated-folders"));
  gateway_.Add(CheckTask(2, "unrooted", "acme/fs", "dated-folders"));
  Start();
  auto mounted = gateway_.WaitTask(1);
  ASSERT_TRUE(mounted.has_value());
  EXPECT_NE(mounted->complete.error().find("location 'mounted' (s3) is served by this worker as "
                                           "the directory"),
            std::string::npos)
      << mounted->complete.error();
  EXPECT_TRUE(mounted->observations.empty());
  auto unrooted = gateway_.WaitTask(2);
  ASSERT_TRUE(unrooted.has_value());
  EXPECT_NE(unrooted->complete.error().find("location 'unrooted' is a filesystem location in the "
                                            "contract, but this worker serves it as a remote"),
            std::string::npos)
      << unrooted->complete.error();
  EXPECT_TRUE(unrooted->observations.empty());
}

}  // namespace
// What a store says goes with the completion of a check over it: a local
// directory (or an SFTP server) cannot tell versioning or Object Lock, and
// records no digest at upload; a check of a filesystem location sends none.
TEST_F(StoreCheckTest, AStoreThatCannotTellSaysSo) {
  gateway_.Add(CheckTask(1, "loc", "acme/fs", "dated-folders"));
  gateway_.Add(CheckTask(2, "bucket", "acme/fs", "dated-folders"));
  Start();
  auto local = gateway_.WaitTask(1);
  auto remote = gateway_.WaitTask(2);
  ASSERT_TRUE(local.has_value() && remote.has_value());
  EXPECT_FALSE(local->complete.has_store_evidence());
  ASSERT_TRUE(remote->complete.has_store_evidence());
  const v1::StoreEvidence& e = remote->complete.store_evidence();
  EXPECT_EQ(e.store(), tmp_ / "loc");
  EXPECT_GT(e.measured_ns(), 0);
  EXPECT_EQ(e.versioning(), "");
  EXPECT_EQ(e.versioning_unmeasured(), "the store cannot tell");
  EXPECT_EQ(e.object_lock(), "");
  EXPECT_EQ(e.object_lock_unmeasured(), "the store cannot tell");
  EXPECT_EQ(e.checksums_absent(), 8u);  // every regular file read: no record to compare
  EXPECT_EQ(e.checksums_agree() + e.checksums_disagree(), 0u);
  EXPECT_EQ(e.objects_retained() + e.objects_not_retained(), 0u);
}

// A real S3 server (s3rver: SigV4, MD5 ETags, no versioning or Object Lock
// API: it answers ?object-lock with 501 NotImplemented and ?versioning with
// a listing): the bucket's facts are "not measured" with the server's own answer;
// every object read equals its MD5 ETag; then a byte changed behind the
// store's record (its stored content, not its ETag) is a disagreement
// naming the object and both digests.
TEST_F(StoreCheckTest, AnS3StoreSaysWhatItRecordedAtUploadAndWhatItCannotTell) {
  vigil::testing::S3Server s3({"backups"});
  const auto cfg = s3.Config("backups");
  const auto creds = vigil::testing::S3Server::Credentials();
  const std::string big = vigil::testing::Bytes((3 << 20) + 7, 9);
  for (const auto& [key, body] : std::vector<std::pair<std::string, std::string>>{
           {"acme/fs/2026-10-01/etc/hosts", "127.0.0.1 localhost\n"},
           {"acme/fs/2026-10-01/big.bin", big},
           {"acme/fs/2026-10-01/empty", ""},
           {"acme/fs/2026-10-02/a.txt", "second point\n"}}) {
    ASSERT_TRUE(remote::PutS3ObjectForTest(cfg, creds, key, body).ok()) << key;
  }
  s3_ = s3.Config("backups");
  gateway_.Add(CheckTask(1, "bucket", "acme/fs", "dated-folders"));
  Start();
  auto t = gateway_.WaitTask(1);
  ASSERT_TRUE(t.has_value());
  ASSERT_EQ(t->complete.error(), "");
  EXPECT_EQ(t->observations.size(), 4u);
  ASSERT_TRUE(t->complete.has_store_evidence());
  const v1::StoreEvidence& e = t->complete.store_evidence();
  EXPECT_EQ(e.store(), "s3://127.0.0.1:" + std::to_string(s3.port()) + "/backups");
  EXPECT_EQ(e.versioning(), "");
  // s3rver does not know ?versioning and answers it with a listing: an
  // answer that does not decode says nothing.
  EXPECT_EQ(e.versioning_unmeasured(),
            e.store() +
                ": the answer does not decode: GetBucketVersioning: not a VersioningConfiguration "
                "(root element <ListBucketResult>) at byte 39");
  EXPECT_EQ(e.object_lock(), "");
  EXPECT_EQ(e.object_lock_unmeasured(),
            e.store() +
                ": the server does not implement GetObjectLockConfiguration: HTTP 501 "
                "NotImplemented: A parameter you provided implies functionality that is not "
                "implemented");
  EXPECT_EQ(e.checksums_agree(), 4u);  // single-part uploads: ETag = MD5 of the content
  EXPECT_EQ(e.checksums_disagree(), 0u);
  EXPECT_EQ(e.checksums_absent(), 0u);
  EXPECT_EQ(e.objects_retained() + e.objects_not_retained(), 0u);  // Object Lock not known on

  // A byte changed where the server keeps the content; its ETag (the MD5
  // recorded at upload) stays.
  const std::string file = s3.ObjectFileForTest("backups", "acme/fs/2026-10-01/big.bin");
  std::string damaged = vigil::testing::ReadFile(file);
  ASSERT_EQ(damaged, big);
  damaged[damaged.size() / 2] ^= 0x20;
  W(file, damaged);
  gateway_.Add(CheckTask(2, "bucket", "acme/fs", "dated-folders"));
  auto again = gateway_.WaitTask(2);
  ASSERT_TRUE(again.has_value());
  ASSERT_EQ(again->complete.error(), "");
  const v1::StoreEvidence& d = again->complete.store_evidence();
  EXPECT_EQ(d.checksums_agree(), 3u);
  EXPECT_EQ(d.checksums_disagree(), 1u);
  ASSERT_EQ(d.disagreeing_size(), 1);
  EXPECT_EQ(d.disagreeing(0), "2026-10-01/big.bin: the store recorded md5 " +
                                  storage::HashBytes(storage::HashAlgorithm::kMd5, big).Hex() +
                                  " at upload, the bytes read give " +
                                  storage::HashBytes(storage::HashAlgorithm::kMd5, damaged).Hex());
}

// A store with Object Lock on (through the seam: s3rver has none; the
// Ceph fixture tests the real thing): the bucket's configuration as it
// said it, each object read asked for its retention (a HEAD) and counted
// under retention now or not (a legal hold counts), and SHA-256 upload
// checksums compared before an ETag: equal ones agree, a wrong one is a
// disagreement naming the object.
TEST_F(StoreCheckTest, ObjectLockRetentionAndSha256ChecksumsAsTheStoreSaysThem) {
  W(tmp_ / "loc/acme/fs/2026-10-02/legal.txt", "on hold\n");
  W(tmp_ / "loc/acme/fs/2026-10-02/x.bad", "recorded otherwise\n");
  // Encrypted with SSE-KMS: its ETag is no MD5 of the content, and no
  // checksum was recorded: nothing to compare, not a disagreement.
  W(tmp_ / "loc/acme/fs/2026-10-02/y.kms", "encrypted at rest\n");
  saying_ = true;
  gateway_.Add(CheckTask(1, "bucket", "acme/fs", "dated-folders"));
  Start();
  auto t = gateway_.WaitTask(1);
  ASSERT_TRUE(t.has_value());
  ASSERT_EQ(t->complete.error(), "");
  const v1::StoreEvidence& e = t->complete.store_evidence();
  EXPECT_EQ(e.store(), "s3://saying.test/bucket");
  EXPECT_EQ(e.versioning(), "enabled");
  EXPECT_EQ(e.object_lock(), "on");
  EXPECT_EQ(e.default_retention_mode(), "COMPLIANCE");
  EXPECT_EQ(e.default_retention_days(), 30u);
  // 2026-10-01: 5 files retained until 2100; 2026-10-02: hosts, big.bin,
  // hosts.hardlink expired, legal.txt on hold, x.bad and y.kms expired.
  EXPECT_EQ(e.objects_retained(), 6u);
  EXPECT_EQ(e.objects_not_retained(), 5u);
  EXPECT_EQ(e.checksums_agree(), 9u);
  EXPECT_EQ(e.checksums_disagree(), 1u);
  EXPECT_EQ(e.checksums_absent(), 1u);
  ASSERT_EQ(e.disagreeing_size(), 1);
  EXPECT_EQ(e.disagreeing(0).rfind("2026-10-02/x.bad: the store recorded sha256 ", 0), 0u)
      << e.disagreeing(0);
  EXPECT_NE(e.disagreeing(0).find(
                ", the bytes read give " +
                storage::HashBytes(storage::HashAlgorithm::kSha256, "recorded otherwise\n").Hex()),
            std::string::npos)
      << e.disagreeing(0);
}

}  // namespace vigil::worker
