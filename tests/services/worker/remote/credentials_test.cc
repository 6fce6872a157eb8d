// A remote location's credentials from the worker's --secrets directory
// (services/worker/remote/credentials.h): the .s3 file's format and its
// errors (file:line, never a secret), the .ssh key checks (a real key from
// Debian's ssh-keygen), file modes, symbolic links and location names that
// would leave the directory.
#include "services/worker/remote/credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace vigil::worker::remote {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

void Write(const std::string& path, const std::string& text, mode_t mode = 0600) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  ASSERT_EQ(chmod(path.c_str(), mode), 0) << path;
}

TEST(S3CredentialsTest, ReadsTheAwsCredentialsFormat) {
  auto c = ParseS3Credentials(std::string("# Wasabi, bucket acme-offsite\n[default]\r\n"
                                          "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                                          "; a comment\n\n"
                                          "  aws_secret_access_key=") +
                                  kSecret + "  \r\naws_session_token = FwoGZXIvYXdz\n",
                              "vault.s3");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(c->secret_access_key, kSecret);
  EXPECT_EQ(c->session_token, "FwoGZXIvYXdz");
  // Without a section and a token (no trailing newline either).
  auto plain = ParseS3Credentials("aws_access_key_id=K\naws_secret_access_key=S", "vault.s3");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->session_token, "");
}

TEST(S3CredentialsTest, ErrorsNameTheFileAndLineAndNeverTheSecret) {
  const std::string id = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n";
  const std::string secret = std::string("aws_secret_access_key = ") + kSecret + "\n";
  struct Case {
    std::string text, where, what;
  };
  const Case cases[] = {
      {id + std::string(kSecret) + "\n", "v.s3:2: ", "expected 'key = value'"},
      {id + "aws_secret_key = " + kSecret + "\n", "v.s3:2: ", "unknown key; expected"},
      {id + secret + secret, "v.s3:3: ", "aws_secret_access_key given twice (first on line 2)"},
      {id + "aws_secret_access_key =\n", "v.s3:2: ", "aws_secret_access_key has no value"},
      {id + "aws_secret_access_key = wJalr XUtn" + kSecret + "\n",
       "v.s3:2: ", "aws_secret_access_key's value holds white space"},
      {"[profile backup]\n" + id + secret, "v.s3:1: ", "only a [default] section"},
      {id, "v.s3: ", "no aws_secret_access_key"},
      {secret, "v.s3: ", "no aws_access_key_id"},
      {"", "v.s3: ", "no aws_access_key_id"},
  };
  for (const Case& c : cases) {
    auto r = ParseS3Credentials(c.text, "v.s3");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    std::string m(r.status().message());
    EXPECT_EQ(m.rfind(c.where, 0), 0u) << m;
    EXPECT_THAT(m, HasSubstr(c.what));
    EXPECT_THAT(m, Not(HasSubstr("wJalr"))) << m;
    EXPECT_THAT(m, Not(HasSubstr("AKIA"))) << m;
  }
}

TEST(S3CredentialsTest, LoadsLocationDotS3FromTheSecretsDirectory) {
  testing::TempDir dir;
  Write(dir / "vault.s3",
        std::string("aws_access_key_id = AKIA1\naws_secret_access_key = ") + kSecret + "\n");
  auto c = LoadS3Credentials(dir.path(), "vault");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKIA1");
  EXPECT_EQ(c->secret_access_key, kSecret);
  // Parse errors name the file by its path.
  Write(dir / "bad.s3", "aws_access_key_id = AKIA1\nnonsense\n");
  auto bad = LoadS3Credentials(dir.path(), "bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr(dir / "bad.s3:2: expected 'key = value'"));
}

TEST(S3CredentialsTest, AFileOthersMayReadIsRefusedLikeSshDoes) {
  testing::TempDir dir;
  for (mode_t mode : {0644, 0640, 0604, 0620, 0602}) {
    Write(dir / "vault.s3",
          std::string("aws_access_key_id = A\naws_secret_access_key = ") + kSecret + "\n", mode);
    auto c = LoadS3Credentials(dir.path(), "vault");
    ASSERT_FALSE(c.ok()) << std::oct << mode;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(c.status().message(), HasSubstr("group or others may access it"));
    EXPECT_THAT(c.status().message(), HasSubstr("chmod 600"));
    EXPECT_THAT(c.status().message(), Not(HasSubstr("wJalr")));
  }
  Write(dir / "vault.s3", "aws_access_key_id = A\naws_secret_access_key = S\n", 0400);
  EXPECT_TRUE(LoadS3Credentials(dir.path(), "vault").ok());
}

TEST(S3CredentialsTest, MissingFilesLinksDirectoriesAndBadNames) {
  testing::TempDir dir;
  auto none = LoadS3Credentials(dir.path(), "vault");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr(dir / "vault.s3"));
  auto no_dir = LoadS3Credentials("", "vault");
  EXPECT_EQ(no_dir.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(no_dir.status().message(), HasSubstr("no secrets directory (--secrets"));

  Write(dir / "real", "aws_access_key_id = A\naws_secret_access_key = S\n");
  ASSERT_EQ(symlink((dir / "real").c_str(), (dir / "link.s3").c_str()), 0);
  auto link = LoadS3Credentials(dir.path(), "link");
  EXPECT_EQ(link.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(link.status().message(), HasSubstr("is a symbolic link"));

  ASSERT_EQ(mkdir((dir / "d.s3").c_str(), 0700), 0);
  auto d = LoadS3Credentials(dir.path(), "d");
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(d.status().message(), HasSubstr("is not a regular file"));

  // A name is a file name in the directory, never a path out of it.
  for (const char* name : {"../vault", "..", "a/b", ""}) {
    auto r = LoadS3Credentials(dir.path(), name);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(r.status().message(), HasSubstr("not a valid location name")) << name;
  }
}

// An ed25519 key from ssh-keygen at `path` (mode 0600), with `passphrase`.
void KeyGen(const std::string& path, const std::string& passphrase = "") {
  std::string cmd =
      "ssh-keygen -q -t ed25519 -C test -N '" + passphrase + "' -f '" + path + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(SshCredentialsTest, AnUnencryptedOpenSshKeyIsTakenByItsPath) {
  testing::TempDir dir;
  KeyGen(dir / "site2.ssh");
  auto c = LoadSshCredentials(dir.path(), "site2");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->private_key_file, dir / "site2.ssh");
  // A PEM key (ssh-keygen -m PEM) too.
  ASSERT_EQ(std::system(("ssh-keygen -q -t ecdsa -m PEM -N '' -f '" + (dir / "pem.ssh") +
                         "' >/dev/null 2>&1")
                            .c_str()),
            0);
  EXPECT_TRUE(LoadSshCredentials(dir.path(), "pem").ok());
}

TEST(SshCredentialsTest, RefusesWhatSshWouldNotUseAndNeverShowsTheKey) {
  testing::TempDir dir;
  KeyGen(dir / "open.ssh");
  ASSERT_EQ(chmod((dir / "open.ssh").c_str(), 0644), 0);
  auto open = LoadSshCredentials(dir.path(), "open");
  EXPECT_EQ(open.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(open.status().message(), HasSubstr("has mode 0644"));

  KeyGen(dir / "locked.ssh", "a passphrase");
  auto locked = LoadSshCredentials(dir.path(), "locked");
  EXPECT_EQ(locked.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(locked.status().message(), HasSubstr("is passphrase-protected"));

  // The public half, or anything else, is not a private key.
  Write(dir / "pub.ssh", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAEBAQEB test\n");
  auto pub = LoadSshCredentials(dir.path(), "pub");
  EXPECT_EQ(pub.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(pub.status().message(), HasSubstr("is not an OpenSSH private key"));
  EXPECT_THAT(pub.status().message(), Not(HasSubstr("AAAAC3")));

  Write(dir / "fake.ssh", "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n");
  auto fake = LoadSshCredentials(dir.path(), "fake");
  EXPECT_EQ(fake.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(fake.status().message(), HasSubstr("no OpenSSH key body"));

  KeyGen(dir / "target");
  ASSERT_EQ(symlink((dir / "target").c_str(), (dir / "link.ssh").c_str()), 0);
  EXPECT_THAT(LoadSshCredentials(dir.path(), "link").status().message(),
              HasSubstr("is a symbolic link"));
  EXPECT_EQ(LoadSshCredentials(dir.path(), "missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(LoadSshCredentials(dir.path(), "../target").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil::worker::remote
