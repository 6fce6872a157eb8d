#include "storage/store.h"

#include <gtest/gtest.h>

namespace vigil::storage {
namespace {

TEST(StorePath, AcceptsRelativePathsAndRoot) {
  EXPECT_TRUE(CheckStorePath("", "path").ok());
  EXPECT_TRUE(CheckStorePath("a", "path").ok());
  EXPECT_TRUE(CheckStorePath("a/b.c/..d", "path").ok());
}

TEST(StorePath, RefusesEscapesAndEmptyComponentsNamingTheByte) {
  for (const char* bad : {"/a", "a/", "a//b", "..", "a/../b", "./a", "a/."}) {
    Status s = CheckStorePath(bad, "set path");
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << bad;
    EXPECT_NE(s.message().find("set path"), std::string_view::npos) << s;
  }
  EXPECT_NE(CheckStorePath("a/../b", "p").message().find("byte 2"), std::string_view::npos);
  EXPECT_FALSE(CheckStorePath(std::string_view("a\0b", 3), "p").ok());
}

TEST(StorePath, Joins) {
  EXPECT_EQ(JoinStorePath("", "a"), "a");
  EXPECT_EQ(JoinStorePath("d/e", "a"), "d/e/a");
}

TEST(Backoff, DoublesUpToTheCapWithJitterInItsHalfRange) {
  RetryPolicy p;
  p.first_backoff = std::chrono::milliseconds(100);
  p.max_backoff = std::chrono::milliseconds(1000);
  EXPECT_EQ(BackoffDelay(p, 1, 0.999999).count(), 99);
  EXPECT_EQ(BackoffDelay(p, 1, 0.0).count(), 50);
  EXPECT_EQ(BackoffDelay(p, 3, 0.0).count(), 200);
  EXPECT_EQ(BackoffDelay(p, 10, 0.0).count(), 500);  // capped at 1000 before jitter
  EXPECT_EQ(BackoffDelay(p, 60, 0.0).count(), 500);  // no overflow
}

}  // namespace
}  // namespace vigil::storage
