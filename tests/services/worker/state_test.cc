// The worker's state file: parse, refuse corruption naming line, byte and
// field, and a durable 0600 round trip.
#include "services/worker/state.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace vigil::worker {
namespace {

const std::string kCred(64, 'a');

std::string Good() { return "vigil-worker-state 1\nworker_id w12\ncredential " + kCred + "\n"; }

TEST(WorkerStateTest, ParsesWhatItFormats) {
  WorkerState st{.worker_id = "w7", .credential = std::string(32, '0') + std::string(32, 'f')};
  auto back = ParseWorkerState(FormatWorkerState(st), "F");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->worker_id, "w7");
  EXPECT_EQ(back->credential, st.credential);
}

TEST(WorkerStateTest, SkipsCommentsAndBlankLinesAndNeedsNoFinalNewline) {
  std::string text = "# hello\n\n" + Good();
  text.pop_back();
  auto st = ParseWorkerState(text, "F");
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->worker_id, "w12");
}

// Each case: the text, and what the error must say.
TEST(WorkerStateTest, CorruptionNamesFileLineByteAndField) {
  struct Case {
    std::string text;
    std::string want;
  };
  const Case cases[] = {
      {"", "'F': line 1 (byte 0): empty file"},
      {"hello\n", "line 1 (byte 0): not a worker state file"},
      {"vigil-worker-state 1\nworker_id w1\n", "field 'credential' is missing"},
      {"vigil-worker-state 1\ncredential " + kCred + "\n", "field 'worker_id' is missing"},
      // Value starts at byte 21 + 11 = 32.
      {"vigil-worker-state 1\ncredential " + kCred.substr(1) + "\nworker_id w1\n",
       "line 2 (byte 32): field 'credential': not 64 lowercase hex digits"},
      {"vigil-worker-state 1\nworker_id w1\ncredential " + std::string(64, 'A') + "\n",
       "field 'credential': not 64 lowercase hex"},
      {"vigil-worker-state 1\nworker_id \n", "line 2 (byte 31): field 'worker_id'"},
      {"vigil-worker-state 1\nworker_id w/1\n", "field 'worker_id'"},
      {"vigil-worker-state 1\nworker_id w1\nworker_id w2\n",
       "line 3 (byte 34): field "
       "'worker_id' given twice"},
      {"vigil-worker-state 1\ncolour blue\n", "line 2 (byte 21): unknown field 'colour'"},
      {std::string("vigil-worker-state 1\nworker_id w1\0x\n", 36),
       "line 2 (byte 33): control byte 0x00"},
  };
  for (const Case& c : cases) {
    auto st = ParseWorkerState(c.text, "F");
    ASSERT_FALSE(st.ok()) << c.text;
    EXPECT_TRUE(absl::IsDataLoss(st.status())) << st.status();
    EXPECT_NE(st.status().message().find(c.want), std::string_view::npos)
        << st.status() << "\nwanted: " << c.want;
  }
}

TEST(WorkerStateTest, UnknownVersionIsAFailedPrecondition) {
  auto st = ParseWorkerState("vigil-worker-state 2\n", "F");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(st.status())) << st.status();
  EXPECT_NE(st.status().message().find("version '2'"), std::string_view::npos) << st.status();
}

class WorkerStateFileTest : public ::testing::Test {
 protected:
  vigil::testing::TempDir tmp_;
  // Not made yet: the worker makes its state directory.
  std::filesystem::path dir_ = tmp_ / "state";
};

TEST_F(WorkerStateFileTest, NoFileIsAFirstStart) {
  auto st = LoadWorkerState(dir_.string());
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_FALSE(st->has_value());
}

TEST_F(WorkerStateFileTest, SavesWithMode0600AndLoadsBack) {
  ASSERT_TRUE(SaveWorkerState(dir_.string(), {.worker_id = "w3", .credential = kCred}).ok());
  struct stat s {};
  ASSERT_EQ(stat((dir_ / kStateFileName).c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(dir_.c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 077, 0u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / (std::string(kStateFileName) + ".tmp")));
  auto st = LoadWorkerState(dir_.string());
  ASSERT_TRUE(st.ok()) << st.status();
  ASSERT_TRUE(st->has_value());
  EXPECT_EQ((*st)->worker_id, "w3");
  // Replacing keeps one file.
  ASSERT_TRUE(SaveWorkerState(dir_.string(), {.worker_id = "w4", .credential = kCred}).ok());
  st = LoadWorkerState(dir_.string());
  ASSERT_TRUE(st.ok() && st->has_value());
  EXPECT_EQ((*st)->worker_id, "w4");
}

TEST_F(WorkerStateFileTest, CorruptFileIsAnErrorNamingIt) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / kStateFileName) << "vigil-worker-state 1\nworker_id w1\ncredential 12\n";
  auto st = LoadWorkerState(dir_.string());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find((dir_ / kStateFileName).string() + "': line 3"),
            std::string_view::npos)
      << st.status();
}

TEST_F(WorkerStateFileTest, RefusesToStoreAnOddCredential) {
  EXPECT_FALSE(SaveWorkerState(dir_.string(), {.worker_id = "w1", .credential = "x"}).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ / kStateFileName));
}

}  // namespace
}  // namespace vigil::worker
