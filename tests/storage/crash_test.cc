// kill -9 during ingest. A child process (this binary, re-executed with
// --crash-child) ingests a deterministic stream of operations through a
// Catalogue::Writer with small batches and reports each flushed batch on a
// pipe; the parent SIGKILLs it at varying moments, reopens the catalogue and
// checks that
//   - the catalogue holds exactly the state after some whole number of
//     batches (never a partial batch), at least every batch the child saw
//     acknowledged;
//   - every entry has exactly its hash-index key, and every hash-index key
//     points to an existing entry with that digest.
// The child is a fresh process (fork + exec), so no thread state of the test
// process leaks into it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/catalogue.h"
#include "storage/hash.h"
#include "storage/key_codec.h"
#include "storage/kv.h"
#include "storage/versions.h"
#include "tests/storage/test_util.h"

namespace vigil::storage {
namespace {

const Scope kScope{"tenant", "set", 1700000000000000000};
constexpr size_t kBatchBytes = 8 << 10;

// --- The deterministic operation stream ---------------------------------------
// Operation i (0-based):
//   i % 4 != 3: put a new entry "d<i%13>/e<i>" with content "v0-<i>";
//   i % 4 == 3: replace the entry of operation j = i / 2 (rounded down to a
//               put) with content "v<i>-<j>", passing its previous record,
//               or delete it when i % 8 == 7.
// The parent replays a prefix of the same stream to know the expected state.

struct Op {
  enum Kind { kPut, kReplace, kDelete } kind;
  std::string path;
  std::string content;
};

std::string PathOf(uint64_t i) { return "d" + std::to_string(i % 13) + "/e" + std::to_string(i); }

EntryRecord RecordFor(const std::string& content, uint64_t i) {
  EntryRecord r;
  r.type = EntryType::kFile;
  r.size = content.size();
  r.mtime_ns = static_cast<int64_t>(i);
  r.first_seen_ns = static_cast<int64_t>(i) * 10;
  r.digest = HashBytes(HashAlgorithm::kXxh3_128, content);
  return r;
}

// The model: path -> (content, op index that wrote it).
using Model = std::map<std::string, std::pair<std::string, uint64_t>>;

Op OpAt(uint64_t i) {
  if (i % 4 != 3) return {Op::kPut, PathOf(i), "v0-" + std::to_string(i)};
  uint64_t j = i / 2;
  while (j % 4 == 3) --j;  // a put, hence an existing (or deleted) path
  if (i % 8 == 7) return {Op::kDelete, PathOf(j), ""};
  return {Op::kReplace, PathOf(j), "v" + std::to_string(i) + "-" + std::to_string(j)};
}

// Applies op i through `w` (child) and/or to `model` (both sides).
Status Apply(uint64_t i, Model* model, Catalogue::Writer* w) {
  Op op = OpAt(i);
  auto it = model->find(op.path);
  switch (op.kind) {
    case Op::kPut: {
      EntryRecord r = RecordFor(op.content, i);
      (*model)[op.path] = {op.content, i};
      return w != nullptr ? w->PutEntry(op.path, r) : absl::OkStatus();
    }
    case Op::kReplace: {
      if (it == model->end()) return absl::OkStatus();  // deleted earlier: skip
      EntryRecord prev = RecordFor(it->second.first, it->second.second);
      EntryRecord r = RecordFor(op.content, i);
      it->second = {op.content, i};
      return w != nullptr ? w->PutEntry(op.path, r, &prev) : absl::OkStatus();
    }
    case Op::kDelete: {
      if (it == model->end()) return absl::OkStatus();
      EntryRecord prev = RecordFor(it->second.first, it->second.second);
      model->erase(it);
      return w != nullptr ? w->DeleteEntry(op.path, prev) : absl::OkStatus();
    }
  }
  return absl::InternalError("unreachable");
}

// --- Child --------------------------------------------------------------------

// Ingests forever; after each flushed batch writes the number of operations
// it contains so far (uint64_t) to `fd`. Never returns normally.
[[noreturn]] void RunChild(const char* db, int fd) {
  auto cat = Catalogue::Open(db);
  if (!cat.ok()) {
    std::fprintf(stderr, "child: %s\n", std::string(cat.status().message()).c_str());
    _exit(2);
  }
  Catalogue::Writer w(cat->get(), kScope, {.batch_bytes = kBatchBytes});
  Model model;
  uint64_t flushed = 0;
  for (uint64_t i = 0;; ++i) {
    if (Status s = Apply(i, &model, &w); !s.ok()) {
      std::fprintf(stderr, "child: op %llu: %s\n", static_cast<unsigned long long>(i),
                   std::string(s.message()).c_str());
      _exit(3);
    }
    if (w.flushed_batches() != flushed) {
      flushed = w.flushed_batches();
      uint64_t ops = i + 1;
      if (::write(fd, &ops, sizeof ops) != sizeof ops) _exit(4);
    }
  }
}

// --- Parent -------------------------------------------------------------------

// Operation counts after each of the first batches the Writer flushes: the
// same stream through a Writer on a catalogue of its own (the Writer reads
// what is stored to decide what to write, so its batches are those of a
// real store), deterministic.
std::vector<uint64_t> BatchBoundaries(uint64_t max_ops) {
  testing::TempDir dir;
  auto cat = Catalogue::Open(dir / "boundaries");
  EXPECT_TRUE(cat.ok()) << cat.status();
  if (!cat.ok()) return {0};
  Catalogue::Writer w(cat->get(), kScope, {.batch_bytes = kBatchBytes});
  Model model;
  std::vector<uint64_t> out = {0};
  for (uint64_t i = 0; i < max_ops; ++i) {
    EXPECT_TRUE(Apply(i, &model, &w).ok());
    if (w.flushed_batches() != out.size() - 1) out.push_back(i + 1);
  }
  return out;
}

struct Observed {
  std::map<std::string, EntryRecord> entries;
  std::set<std::string> hash_keys;
};

Observed ReadCatalogue(Catalogue& cat) {
  Observed o;
  auto scan = cat.Scan(kScope);
  for (; scan->Valid(); scan->Next()) o.entries[scan->path()] = scan->entry();
  EXPECT_TRUE(scan->status().ok()) << scan->status();
  auto it = cat.kv()->NewIterator(Space::kHashIndex, {});
  for (it->Seek(""); it->Valid(); it->Next()) o.hash_keys.emplace(it->key());
  EXPECT_TRUE(it->status().ok()) << it->status();
  return o;
}

// Every entry has exactly its hash-index key, and no key names anything
// else. The stream writes one restore point, so each entry is one version
// born at it (storage/versions.h).
void CheckHashIndexConsistency(Catalogue&, const Observed& o) {
  std::set<std::string> expected_keys;
  for (const auto& [path, e] : o.entries) {
    const std::string version =
        Versions::VersionKey(kScope.tenant, kScope.backup_set, path, kScope.restore_point);
    expected_keys.insert(std::string("\0\0", 2) + EncodeHashKey(e.digest, version));
  }
  for (const auto& k : expected_keys) {
    EXPECT_EQ(o.hash_keys.count(k), 1u) << "entry without its hash-index key";
  }
  for (const auto& k : o.hash_keys) {
    EXPECT_EQ(expected_keys.count(k), 1u) << "stale hash-index key";
  }
  EXPECT_EQ(o.hash_keys.size(), o.entries.size());
}

// Reads exactly sizeof(uint64_t) bytes; false at EOF.
bool ReadCount(int fd, uint64_t* v) {
  size_t got = 0;
  auto* p = reinterpret_cast<char*>(v);
  while (got < sizeof *v) {
    ssize_t n = ::read(fd, p + got, sizeof *v - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

TEST(CatalogueCrash, KillNineDuringIngestLeavesWholeBatches) {
  testing::TempDir dir;
  const std::string db = dir / "db";
  std::mt19937 rng(20261122);
  // Kill after this many acknowledged batches (cumulative across restarts:
  // each child starts the stream from operation 0 again over the same
  // catalogue, rewriting the same keys, so the same invariants hold).
  const int kKillAfter[] = {1, 3, 17, 40, 90};
  for (int round = 0; round < 5; ++round) {
    // The catalogue starts empty each round, so the expected state is a
    // replay of a prefix of the stream.
    std::filesystem::remove_all(db);
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      std::string fd = std::to_string(fds[1]);
      const char* argv[] = {"crash_test", "--crash-child", db.c_str(), fd.c_str(), nullptr};
      ::execv("/proc/self/exe", const_cast<char* const*>(argv));
      _exit(127);
    }
    ::close(fds[1]);
    uint64_t acked = 0, v = 0;
    int batches = 0;
    while (batches < kKillAfter[round] && ReadCount(fds[0], &v)) {
      acked = v;
      ++batches;
    }
    ASSERT_EQ(batches, kKillAfter[round]) << "child died early";
    // Land somewhere inside the next batches, not always right after a flush.
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, 3000)(rng)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child exited on its own, status " << status;
    while (ReadCount(fds[0], &v)) acked = v;  // batches acknowledged before the kill
    ::close(fds[0]);

    auto cat = Catalogue::Open(db);
    ASSERT_TRUE(cat.ok()) << cat.status();
    Observed o = ReadCatalogue(**cat);
    CheckHashIndexConsistency(**cat, o);

    // Which whole-batch prefix is it? Replay the stream batch by batch.
    std::vector<uint64_t> bounds = BatchBoundaries(acked + 100000);
    Model model;
    uint64_t applied = 0;
    bool matched = false;
    uint64_t matched_ops = 0;
    for (uint64_t b : bounds) {
      for (; applied < b; ++applied) ASSERT_TRUE(Apply(applied, &model, nullptr).ok());
      if (model.size() != o.entries.size()) continue;
      bool same = true;
      for (const auto& [path, cv] : model) {
        auto it = o.entries.find(path);
        if (it == o.entries.end() || !(it->second == RecordFor(cv.first, cv.second))) {
          same = false;
          break;
        }
      }
      if (same) {
        matched = true;
        matched_ops = b;
        break;
      }
    }
    EXPECT_TRUE(matched) << "round " << round << ": " << o.entries.size()
                         << " entries are not the state after any whole batch";
    EXPECT_GE(matched_ops, acked) << "round " << round << ": an acknowledged batch was lost";
    EXPECT_GT(o.entries.size(), 0u);
    std::printf(
        "round %d: killed after %llu acknowledged operations; catalogue holds the "
        "state after %llu operations (%zu entries)\n",
        round, static_cast<unsigned long long>(acked), static_cast<unsigned long long>(matched_ops),
        o.entries.size());
  }
}

}  // namespace
}  // namespace vigil::storage

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--crash-child") == 0) {
    vigil::storage::RunChild(argv[2], std::atoi(argv[3]));
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
