#include "services/common/signing.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/integration/test_util.h"

namespace vigil::signing {
namespace {

using vigil::testing::ReadFile;
using vigil::testing::TempDir;

TEST(SigningTest, SignVerify) {
  TempDir tmp;
  std::string dir = tmp.path() + "/keys";
  auto ring = KeyRing::Init(dir);
  ASSERT_TRUE(ring.ok()) << ring.status();
  std::string msg = "{\"tenant\":\"acme\",\"period\":\"2026-10\"}";
  auto sig = ring->Sign(msg);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->key_id, ring->current().key_id);
  EXPECT_EQ(sig->signature.size(), 64u);

  std::string pub_pem = ReadFile(dir + "/msp.pub");
  EXPECT_TRUE(Verify(msg, sig->signature, pub_pem).ok());
  EXPECT_TRUE(ring->Verify(msg, *sig).ok());

  // One flipped byte anywhere in the message or the signature fails.
  for (size_t i = 0; i < msg.size(); ++i) {
    std::string m = msg;
    m[i] ^= 0x01;
    EXPECT_EQ(Verify(m, sig->signature, pub_pem).code(), absl::StatusCode::kUnauthenticated) << i;
  }
  for (size_t i = 0; i < 64; ++i) {
    std::string s = sig->signature;
    s[i] ^= 0x80;
    EXPECT_FALSE(Verify(msg, s, pub_pem).ok()) << i;
  }
  EXPECT_FALSE(Verify(msg, sig->signature.substr(0, 63), pub_pem).ok());
  EXPECT_FALSE(Verify(msg + "x", sig->signature, pub_pem).ok());
  EXPECT_EQ(Verify(msg, sig->signature, "not a key").code(), absl::StatusCode::kInvalidArgument);
}

TEST(SigningTest, WrongKeyFails) {
  TempDir a, b;
  auto ra = KeyRing::Init(a.path() + "/k");
  auto rb = KeyRing::Init(b.path() + "/k");
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_NE(ra->current().key_id, rb->current().key_id);
  auto sig = ra->Sign("hello");
  ASSERT_TRUE(sig.ok());
  EXPECT_FALSE(Verify("hello", sig->signature, rb->current().pem).ok());
  // rb does not know ra's key id.
  EXPECT_EQ(rb->Verify("hello", *sig).code(), absl::StatusCode::kNotFound);
}

// The key id is computed independently here: SHA-256 over the last 32 bytes
// of the DER SubjectPublicKeyInfo (the raw key, RFC 8410), first 8 bytes hex.
TEST(SigningTest, KeyIdIsSha256OfRawPublicKey) {
  TempDir tmp;
  auto ring = KeyRing::Init(tmp.path() + "/k");
  ASSERT_TRUE(ring.ok());
  // Strip the PEM armour and base64-decode with OpenSSL's EVP_DecodeBlock.
  std::string pem = ReadFile(tmp.path() + "/k/msp.pub"), b64;
  std::istringstream lines(pem);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("-----", 0) != 0) b64 += line;
  }
  std::string der(b64.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(der.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  ASSERT_EQ(n, 45);  // 44 bytes of DER, padded to a multiple of 3
  std::string raw = der.substr(12, 32);
  EXPECT_EQ(raw, ring->current().raw);
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(raw.data(), raw.size(), md, &len, EVP_sha256(), nullptr);
  char hex[17];
  for (int i = 0; i < 8; ++i) std::snprintf(hex + 2 * i, 3, "%02x", md[i]);
  EXPECT_EQ(ring->current().key_id, std::string(hex));
  EXPECT_EQ(KeyIdOf(ring->current()), ring->current().key_id);
  auto loaded = LoadPublicKey(pem);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->key_id, ring->current().key_id);
}

TEST(SigningTest, RotateKeepsOldKeysVerifying) {
  TempDir tmp;
  std::string dir = tmp.path() + "/k";
  auto r1 = KeyRing::Init(dir);
  ASSERT_TRUE(r1.ok());
  auto old_sig = r1->Sign("october proof");
  ASSERT_TRUE(old_sig.ok());
  auto r2 = KeyRing::Rotate(dir);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_NE(r2->current().key_id, r1->current().key_id);
  EXPECT_EQ(r2->public_keys().size(), 2u);
  EXPECT_TRUE(r2->Verify("october proof", *old_sig).ok());
  auto new_sig = r2->Sign("november proof");
  ASSERT_TRUE(new_sig.ok());
  EXPECT_EQ(new_sig->key_id, r2->current().key_id);
  // Reopened from disk: both keys, the new one current.
  auto r3 = KeyRing::Open(dir);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->current().key_id, r2->current().key_id);
  EXPECT_TRUE(r3->Verify("october proof", *old_sig).ok());
  EXPECT_TRUE(r3->Verify("november proof", *new_sig).ok());
  EXPECT_FALSE(r3->Verify("november proof", {old_sig->key_id, new_sig->signature}).ok());
  std::string old_pub = ReadFile(dir + "/keys/" + r1->current().key_id + ".pub");
  EXPECT_TRUE(Verify("october proof", old_sig->signature, old_pub).ok());
  EXPECT_FALSE(Verify("november proof", new_sig->signature, old_pub).ok());
}

TEST(SigningTest, InitRefusesToOverwriteAndFilesHaveModes) {
  TempDir tmp;
  std::string dir = tmp.path() + "/k";
  ::umask(022);
  auto r1 = KeyRing::Init(dir);
  ASSERT_TRUE(r1.ok());
  struct stat st;
  ASSERT_EQ(::stat((dir + "/msp.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir + "/msp.pub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  std::string before = ReadFile(dir + "/msp.key");
  EXPECT_NE(before.find("BEGIN PRIVATE KEY"), std::string::npos);

  auto again = KeyRing::Init(dir);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find(dir + "/msp.key"), std::string::npos);
  EXPECT_EQ(ReadFile(dir + "/msp.key"), before);
  // Rotation keeps the mode.
  ASSERT_TRUE(KeyRing::Rotate(dir).ok());
  ASSERT_EQ(::stat((dir + "/msp.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(SigningTest, ClearErrors) {
  TempDir tmp;
  auto none = KeyRing::Open(tmp.path() + "/nothing");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find(tmp.path() + "/nothing/msp.key"), std::string::npos);
  EXPECT_FALSE(KeyRing::Rotate(tmp.path() + "/nothing").ok());

  std::string dir = tmp.path() + "/k";
  ASSERT_TRUE(KeyRing::Init(dir).ok());
  ASSERT_EQ(::chmod((dir + "/msp.key").c_str(), 0644), 0);
  auto open = KeyRing::Open(dir);
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("chmod 600"), std::string::npos) << open.status();
  ASSERT_EQ(::chmod((dir + "/msp.key").c_str(), 0600), 0);
  { std::ofstream(dir + "/msp.key") << "garbage"; }
  ASSERT_EQ(::chmod((dir + "/msp.key").c_str(), 0600), 0);
  auto bad = KeyRing::Open(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(dir + "/msp.key"), std::string::npos);
  EXPECT_FALSE(LoadPublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());
}

TEST(SigningTest, DefaultKeyDir) {
  ::setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
  EXPECT_EQ(DefaultKeyDir(), "/x/cfg/vigil/keys");
  ::unsetenv("XDG_CONFIG_HOME");
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(DefaultKeyDir(), "/home/u/.config/vigil/keys");
}

}  // namespace
}  // namespace vigil::signing
