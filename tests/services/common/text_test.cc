#include "services/common/text.h"

#include <gtest/gtest.h>

#include "services/common/connect_errors.h"

namespace vigil {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TEST(ParseDurationTest, UnitsAndSums) {
  std::string err;
  EXPECT_EQ(ParseDuration("90s", &err), 90 * kSec);
  EXPECT_EQ(ParseDuration("15m", &err), 15 * 60 * kSec);
  EXPECT_EQ(ParseDuration("12h", &err), 12 * 3600 * kSec);
  EXPECT_EQ(ParseDuration("7d", &err), 7 * 86400 * kSec);
  EXPECT_EQ(ParseDuration("2w", &err), 14 * 86400 * kSec);
  EXPECT_EQ(ParseDuration("1d12h", &err), 36 * 3600 * kSec);
}

TEST(ParseDurationTest, RejectsGarbageNamingTheByte) {
  std::string err;
  EXPECT_FALSE(ParseDuration("", &err));
  EXPECT_FALSE(ParseDuration("12", &err));
  EXPECT_NE(err.find("byte 2"), std::string::npos) << err;
  EXPECT_FALSE(ParseDuration("3x", &err));
  EXPECT_NE(err.find("byte 1"), std::string::npos) << err;
  EXPECT_FALSE(ParseDuration("d", &err));
  EXPECT_FALSE(ParseDuration("-5s", &err));
  EXPECT_FALSE(ParseDuration("99999999999999999999w", &err));
  EXPECT_NE(err.find("too large"), std::string::npos) << err;
  EXPECT_FALSE(ParseDuration("9999999999999w", &err));
  // One past INT64_MAX in the digits alone (found by fuzz_parse_duration).
  EXPECT_FALSE(ParseDuration("9223372036854775808s", &err));
  EXPECT_FALSE(ParseDuration("9223372036854775809s", &err));
  EXPECT_NE(err.find("too large"), std::string::npos) << err;
}

TEST(TextTest, HumanBytesAndDigits) {
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(3.0 * (1 << 30)), "3.0 GiB");
  EXPECT_EQ(GroupDigits(0), "0");
  EXPECT_EQ(GroupDigits(999), "999");
  EXPECT_EQ(GroupDigits(1000), "1,000");
  EXPECT_EQ(GroupDigits(1234567), "1,234,567");
}

TEST(TextTest, HumanDuration) {
  constexpr int64_t kS = 1'000'000'000;
  EXPECT_EQ(HumanDuration(400'000'000), "0.4 s");
  EXPECT_EQ(HumanDuration(12 * kS), "12 s");
  EXPECT_EQ(HumanDuration(45 * 60 * kS), "45 min");
  EXPECT_EQ(HumanDuration((31 * 3600 + 5 * 60) * kS), "1 d 7 h");
  EXPECT_EQ(HumanDuration((3 * 86400 + 4 * 3600 + 59) * kS), "3 d 4 h");
  EXPECT_EQ(HumanDuration(3 * 86400 * kS + 5 * 60 * kS), "3 d");
  EXPECT_EQ(HumanDuration((2 * 3600 + 30 * 60) * kS), "2 h 30 min");
  EXPECT_EQ(HumanDuration(-90 * 60 * kS), "-1 h 30 min");
}

TEST(TextTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("caf\xe9"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
}

TEST(TextTest, Utf8SequenceLengthAtEachPosition) {
  const std::string_view s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x80";
  EXPECT_EQ(Utf8SequenceLength(s, 0), 1u);
  EXPECT_EQ(Utf8SequenceLength(s, 1), 2u);
  EXPECT_EQ(Utf8SequenceLength(s, 3), 3u);
  EXPECT_EQ(Utf8SequenceLength(s, 6), 4u);
  EXPECT_EQ(Utf8SequenceLength(s, 10), 0u);                  // a stray continuation byte
  EXPECT_EQ(Utf8SequenceLength("\xc1\xbf", 0), 0u);          // overlong
  EXPECT_EQ(Utf8SequenceLength("\xe0\x80\x80", 0), 0u);      // overlong
  EXPECT_EQ(Utf8SequenceLength("\xf5\x80\x80\x80", 0), 0u);  // above U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x98", 0), 0u);      // cut short
}

TEST(TextTest, EscapeForTerminalIsInjective) {
  EXPECT_EQ(EscapeForTerminal("a b"), "a b");
  EXPECT_EQ(EscapeForTerminal("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(EscapeForTerminal("caf\xe9"), "caf\\xe9");
  EXPECT_EQ(EscapeForTerminal("a\nb\tc"), "a\\nb\\tc");
  EXPECT_EQ(EscapeForTerminal("\x1b[2J"), "\\x1b[2J");
  // A literal backslash is escaped too, so "\xe9" typed by hand differs.
  EXPECT_EQ(EscapeForTerminal("caf\\xe9"), "caf\\\\xe9");
}

TEST(TextTest, BearerTokenSchemeIsCaseInsensitive) {
  EXPECT_EQ(BearerToken("Bearer vgl_abc"), "vgl_abc");
  EXPECT_EQ(BearerToken("bearer vgl_abc"), "vgl_abc");
  EXPECT_EQ(BearerToken("BEARER vgl_abc"), "vgl_abc");
  EXPECT_EQ(BearerToken("bEaReR \t vgl_abc  "), "vgl_abc");
  EXPECT_EQ(BearerToken(""), "");
  EXPECT_EQ(BearerToken("Bearer"), "");
  EXPECT_EQ(BearerToken("Bearer "), "");
  EXPECT_EQ(BearerToken("Bearer    "), "");
  EXPECT_EQ(BearerToken("Bearervgl_abc"), "");
  EXPECT_EQ(BearerToken("Basic dXNlcjpwdw=="), "");
  EXPECT_EQ(BearerToken("vgl_abc"), "");
}

// Messages as gRPC 1.51 reports them (captured against a real coordinator).
TEST(ConnectErrorsTest, NamesTheLikelyCauseOfAHandshakeRefusal) {
  const std::string closed =
      "failed to connect to all addresses; last error: UNAVAILABLE: ipv4:127.0.0.1:38673: Socket "
      "closed";
  const std::string verify =
      "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:38673: Ssl "
      "handshake failed: SSL_ERROR_SSL: error:0A000086:SSL routines::certificate verify failed";
  const std::string plain =
      "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:42013: Ssl "
      "handshake failed: SSL_ERROR_SSL: error:0A00010B:SSL routines::wrong version number";
  const std::string refused =
      "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Failed to "
      "connect to remote host: Connection refused";
  const std::string http1 =
      "failed to connect to all addresses; last error: INTERNAL: ipv4:127.0.0.1:34835: Trying to "
      "connect an http1.x server";
  const ClientTls mtls{true, true, true}, tls_only{true, true, false}, none{};

  ConnectFailure f = DescribeConnectFailure("coord:7400", closed, mtls);
  EXPECT_TRUE(f.handshake);
  EXPECT_EQ(f.text,
            "TLS handshake with coord:7400 failed: the coordinator closed the connection: it "
            "probably refused the client certificate (--tls-cert); the coordinator's "
            "--tls-client-ca must be the CA that signed this client's --tls-cert (gRPC: " +
                closed + ")");
  f = DescribeConnectFailure("coord:7400", closed, tls_only);
  EXPECT_TRUE(f.handshake);
  EXPECT_NE(f.text.find("it probably requires a client certificate (--tls-cert/--tls-key) signed "
                        "by its --tls-client-ca"),
            std::string::npos)
      << f.text;
  f = DescribeConnectFailure("coord:7400", closed, none);
  EXPECT_TRUE(f.handshake);
  EXPECT_NE(f.text.find("closed the connection at once: it probably expects TLS (give --tls-ca"),
            std::string::npos)
      << f.text;
  f = DescribeConnectFailure("coord:7400", verify, mtls);
  EXPECT_TRUE(f.handshake);
  EXPECT_NE(f.text.find("TLS handshake with coord:7400 failed: the coordinator's certificate is "
                        "not signed by the CA of --tls-ca"),
            std::string::npos)
      << f.text;
  f = DescribeConnectFailure("coord:7400", plain, tls_only);
  EXPECT_NE(f.text.find("no TLS on this port: the coordinator was started without --tls-cert"),
            std::string::npos)
      << f.text;
  EXPECT_NE(f.text.find("or this is its plain HTTP port (--http-listen)"), std::string::npos)
      << f.text;
  // Plaintext to the HTTP (dashboard) port.
  f = DescribeConnectFailure("coord:7401", http1, none);
  EXPECT_TRUE(f.handshake);
  EXPECT_NE(f.text.find("coord:7401 answers HTTP/1.1, not gRPC: it looks like the coordinator's "
                        "HTTP port (--http-listen"),
            std::string::npos)
      << f.text;
  // Not a handshake (a retry may do): a coordinator that is down, named.
  f = DescribeConnectFailure("coord:7400", refused, mtls);
  EXPECT_FALSE(f.handshake);
  EXPECT_EQ(f.cause, ConnectFailure::Cause::kRefused);
  EXPECT_EQ(f.text.rfind("nothing accepts connections at coord:7400 (connection refused)", 0), 0u)
      << f.text;
  // An error the coordinator answered is its own.
  f = DescribeConnectFailure("coord:7400", "not ready: database writes failing", mtls);
  EXPECT_FALSE(f.handshake);
  EXPECT_EQ(f.text, "");
}

TEST(TextTest, Base64MatchesRfc4648Vectors) {
  // Test vectors from RFC 4648 section 10.
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace vigil
