// storage::OpenBeneath, the one path-resolution rule of every reader, in
// both of its ways (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, and the
// component-by-component O_NOFOLLOW walk), and TreeWalker::OpenAt built on
// it. Links lead to a directory outside, watched by inotify: nothing there
// may be opened or listed.
#include "storage/open_beneath.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "storage/tree_walker.h"
#include "tests/integration/test_util.h"
#include "tests/services/worker/open_watch.h"

namespace vigil::storage {
namespace {

using testing::MakeDirs;
using testing::OpenWatch;
using testing::TempDir;
using testing::WriteFile;

class OpenBeneathRule : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    UseOpenat2ForTesting(GetParam());
    WriteFile(t_ / "root/d/file", "content");
    WriteFile(t_ / "outside/secret", "not yours");
    MakeDirs(t_ / "outside/sub");
    ASSERT_EQ(::symlink((t_ / "outside/secret").c_str(), (t_ / "root/d/link").c_str()), 0);
    ASSERT_EQ(::symlink((t_ / "outside").c_str(), (t_ / "root/dlink").c_str()), 0);
    ASSERT_EQ(::symlink("d", (t_ / "root/inside").c_str()), 0);  // stays beneath
    fd_ = ::open((t_ / "root").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd_, 0);
    ASSERT_TRUE(watch_.Add(t_ / "outside"));
    ASSERT_TRUE(watch_.Add(t_ / "outside/sub"));
  }
  void TearDown() override {
    EXPECT_FALSE(watch_.Opened()) << "opened outside the root:\n" << watch_.what();
    ::close(fd_);
    UseOpenat2ForTesting(true);
  }
  BeneathOpen Open(const std::string& rel, int flags = O_RDONLY,
                   LinkPolicy p = LinkPolicy::kRefuse) {
    BeneathOpen o = OpenBeneath(fd_, rel, flags, p);
    if (o.fd >= 0) ::close(o.fd);
    return o;
  }

  TempDir t_;
  int fd_ = -1;
  OpenWatch watch_;
};

INSTANTIATE_TEST_SUITE_P(Modes, OpenBeneathRule, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "openat2" : "fallback"; });

TEST_P(OpenBeneathRule, OpensBeneathWithoutLinks) {
  EXPECT_EQ(Open("d/file").error, 0);
  EXPECT_EQ(Open("./d//file").error, 0);
  EXPECT_EQ(Open("d", O_RDONLY | O_DIRECTORY).error, 0);
  // "" and "." are the directory itself.
  BeneathOpen self = OpenBeneath(fd_, "", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(self.fd, 0);
  struct stat a, b;
  ASSERT_EQ(::fstat(self.fd, &a), 0);
  ASSERT_EQ(::fstat(fd_, &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  ::close(self.fd);
  EXPECT_EQ(OpenDirBeneath(fd_, ".").error, 0);
  EXPECT_EQ(Open("d/missing").error, ENOENT);
  BeneathOpen notdir = Open("d/file/x");
  EXPECT_EQ(notdir.error, ENOTDIR);
  EXPECT_FALSE(notdir.symlink());
}

TEST_P(OpenBeneathRule, EveryLinkIsRefusedAndNamed) {
  // A file that is a link.
  BeneathOpen f = Open("d/link");
  EXPECT_LT(f.fd, 0);
  EXPECT_TRUE(f.symlink());
  EXPECT_EQ(f.link, "d/link");
  // A directory component that is a link, for a file and for a directory.
  BeneathOpen via = Open("dlink/secret");
  EXPECT_TRUE(via.symlink());
  EXPECT_EQ(via.link, "dlink");
  BeneathOpen dir = OpenDirBeneath(fd_, "dlink");
  EXPECT_TRUE(dir.symlink());
  EXPECT_EQ(dir.link, "dlink");
  EXPECT_TRUE(OpenDirBeneath(fd_, "dlink/sub").symlink());
  // Even a link that stays beneath.
  BeneathOpen in = Open("inside/file");
  EXPECT_TRUE(in.symlink());
  EXPECT_EQ(in.link, "inside");
  // ".." and absolute paths never resolve.
  EXPECT_EQ(Open("../outside/secret").error, EXDEV);
  EXPECT_EQ(Open("d/../../outside/secret").error, EXDEV);
  EXPECT_EQ(Open((t_ / "outside/secret")).error, EXDEV);
}

TEST_P(OpenBeneathRule, FollowBeneathStaysBeneath) {
  BeneathOpen in = Open("inside/file", O_RDONLY, LinkPolicy::kFollowBeneath);
  BeneathOpen out = Open("dlink/secret", O_RDONLY, LinkPolicy::kFollowBeneath);
  EXPECT_LT(out.fd, 0);
  if (GetParam()) {
    EXPECT_EQ(in.error, 0);
    EXPECT_TRUE(out.escapes());
  } else {  // without openat2, every link is refused
    EXPECT_TRUE(in.symlink());
    EXPECT_TRUE(out.symlink());
  }
}

TEST_P(OpenBeneathRule, TreeWalkerOpenAtFollowsNoLink) {
  auto refused = TreeWalker::OpenAt(fd_, "dlink", "root/dlink");
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("symbolic link"), std::string::npos);
  EXPECT_FALSE(TreeWalker::OpenAt(fd_, "dlink/sub", "x").ok());
  EXPECT_TRUE(absl::IsNotFound(TreeWalker::OpenAt(fd_, "nope", "x").status()));
  // The root itself: links in it are entries, never descended into.
  auto w = TreeWalker::OpenAt(fd_, "", "root");
  ASSERT_TRUE(w.ok()) << w.status();
  WalkEntry e;
  std::string seen;
  while ((*w)->Next(&e)) {
    seen += e.path + (e.type == EntryType::kSymlink ? "@ " : " ");
  }
  EXPECT_EQ(seen, "d/file d/link@ dlink@ inside@ ");
}

}  // namespace
}  // namespace vigil::storage
