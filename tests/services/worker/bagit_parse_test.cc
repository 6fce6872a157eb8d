// The BagIt parsers and their helpers on their own: line decoding, paths,
// percent-decoding, bagit.txt, bag-info.txt, manifest and fetch lines.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "services/worker/formats/bagit.h"
#include "services/worker/formats/safe_io.h"
#include "services/worker/formats/text_lines.h"
#include "tests/integration/test_util.h"

namespace vigil::formats {
namespace {

using namespace std::string_literals;
using storage::HashAlgorithm;

struct Collected {
  std::vector<std::string> lines;
  std::vector<uint64_t> offsets;
  std::vector<TextIssue> issues;
};

Collected Lines(std::string_view raw, TextEncoding enc, LineEndings endings = LineEndings::kAny,
                bool decode = true) {
  Collected c;
  DecodeOptions o;
  o.encoding = enc;
  o.endings = endings;
  o.decode = decode;
  ForEachLine(
      raw, o,
      [&](const TextLine& l) {
        c.lines.emplace_back(l.text);
        c.offsets.push_back(l.offset);
      },
      [&](const TextIssue& i) { c.issues.push_back(i); });
  return c;
}

TEST(TextLinesTest, LineEndings) {
  Collected c = Lines("a\nb\r\nc\rd", TextEncoding::kUtf8);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(c.offsets, (std::vector<uint64_t>{0, 2, 5, 7}));
  EXPECT_TRUE(c.issues.empty());
  EXPECT_TRUE(Lines("", TextEncoding::kUtf8).lines.empty());
  EXPECT_EQ(Lines("\n\n", TextEncoding::kUtf8).lines.size(), 2u);
  // LF only: a CR inside a line stays, one CR before the LF goes.
  c = Lines("a\rb\r\nc\n", TextEncoding::kUtf8, LineEndings::kLfOnly, false);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"a\rb", "c"}));
}

TEST(TextLinesTest, Utf8ByteOrderMarkAndInvalidBytes) {
  Collected c = Lines("\xEF\xBB\xBFok\nbad\xC3(\nnul\0x\nfine\n"s, TextEncoding::kUtf8);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"ok", "fine"}));
  ASSERT_EQ(c.issues.size(), 3u);
  EXPECT_FALSE(c.issues[0].error);  // the byte-order mark: a warning
  EXPECT_EQ(c.issues[1].line, 2u);
  EXPECT_EQ(c.issues[1].offset, 9u);  // 3 (BOM) + "ok\n" + "bad"
  EXPECT_TRUE(c.issues[1].error);
  EXPECT_EQ(c.issues[2].line, 3u);
  EXPECT_EQ(c.issues[2].offset, 15u);
  EXPECT_EQ(FindInvalidUtf8("\xC0\x80"), 0u);          // overlong
  EXPECT_EQ(FindInvalidUtf8("ab\xED\xA0\x80"), 2u);    // surrogate
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // > U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("caf\xC3\xA9 \xF0\x9F\x93\xA6"), std::nullopt);
  EXPECT_EQ(FindInvalidUtf8("\xE6\x97"), 0u);  // truncated
}

TEST(TextLinesTest, Utf16AndLatin1) {
  // "é\r\n😀" little-endian with a byte-order mark.
  std::string le = "\xFF\xFE\xE9\x00\r\x00\n\x00\x3D\xD8\x00\xDE"s;
  Collected c = Lines(le, TextEncoding::kUtf16);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"\xC3\xA9", "\xF0\x9F\x98\x80"}));
  EXPECT_TRUE(c.issues.empty());
  EXPECT_EQ(c.offsets[1], 8u);
  // Big-endian, an unpaired surrogate on line 2, an odd trailing byte.
  std::string be =
      "\xFE\xFF\x00"
      "a\x00\n\xD8\x00\x00"
      "b\x00\n\x00"s;
  c = Lines(be, TextEncoding::kUtf16);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"a"}));
  ASSERT_EQ(c.issues.size(), 2u);
  EXPECT_EQ(c.issues[0].line, 2u);
  EXPECT_EQ(c.issues[0].offset, 6u);
  EXPECT_NE(c.issues[1].message.find("odd"), std::string::npos);
  // No byte-order mark: big-endian, with a warning.
  c = Lines("\x00h\x00i"s, TextEncoding::kUtf16);
  EXPECT_EQ(c.lines, std::vector<std::string>{"hi"});
  ASSERT_EQ(c.issues.size(), 1u);
  EXPECT_FALSE(c.issues[0].error);
  c = Lines("caf\xE9\n", TextEncoding::kLatin1);
  EXPECT_EQ(c.lines, std::vector<std::string>{"caf\xC3\xA9"});
  EXPECT_EQ(ParseEncodingName("utf-8"), TextEncoding::kUtf8);
  EXPECT_EQ(ParseEncodingName("ISO-8859-1"), TextEncoding::kLatin1);
  EXPECT_EQ(ParseEncodingName("UTF-16"), TextEncoding::kUtf16);
  EXPECT_EQ(ParseEncodingName("EBCDIC"), std::nullopt);
}

TEST(PathTest, RelativePathRules) {
  EXPECT_TRUE(CheckRelativePath("data/a.txt", true).ok);
  EXPECT_EQ(CheckRelativePath("data/./a//b", true).canonical, "data/a/b");
  EXPECT_TRUE(CheckRelativePath("data/./a//b", true).normalized);
  EXPECT_TRUE(CheckRelativePath("data/..a/b..", true).ok);
  EXPECT_TRUE(CheckRelativePath("data/~a", true).ok);
  for (const char* bad : {"../x", "data/../../x", "data/..", "/etc/passwd", "~/x", "~root/x"}) {
    PathCheck pc = CheckRelativePath(bad, true);
    EXPECT_FALSE(pc.ok) << bad;
    EXPECT_EQ(pc.code, "path_escapes") << bad;
  }
  EXPECT_TRUE(CheckRelativePath("~x", false).ok);  // sum files: '~' is a name
  EXPECT_EQ(CheckRelativePath("", true).code, "path_invalid");
  EXPECT_EQ(CheckRelativePath("./", true).code, "path_invalid");
  EXPECT_EQ(CheckRelativePath("a\0b"s, true).code, "path_invalid");
}

// Both ways of opening beneath a directory: openat2(RESOLVE_BENEATH) and the
// component-by-component fallback.
class OpenBeneathTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    UseOpenat2ForTesting(GetParam());
    testing::WriteFile(dir_ / "in/d/file", "content");
    testing::WriteFile(dir_ / "outside", "secret");
    ASSERT_EQ(::symlink("file", (dir_ / "in/d/link").c_str()), 0);
    ASSERT_EQ(::symlink("d", (dir_ / "in/dlink").c_str()), 0);
    ASSERT_EQ(::symlink("../outside", (dir_ / "in/out").c_str()), 0);
    ASSERT_EQ(::mkfifo((dir_ / "in/fifo").c_str(), 0600), 0);
    fd_ = ::open((dir_ / "in").c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    ::close(fd_);
    UseOpenat2ForTesting(true);
  }
  OpenedFile Open(const char* rel, Symlinks s = Symlinks::kRefuse) {
    OpenedFile f = OpenBeneath(fd_, rel, s);
    if (f.fd >= 0) ::close(f.fd);
    return f;
  }

  testing::TempDir dir_;
  int fd_ = -1;
};

INSTANTIATE_TEST_SUITE_P(Modes, OpenBeneathTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "openat2" : "fallback"; });

TEST_P(OpenBeneathTest, RefusesWhatItMust) {
  OpenedFile f = Open("d/file");
  EXPECT_EQ(f.error, 0) << f.error_text;
  EXPECT_EQ(f.size, 7u);
  EXPECT_TRUE(Open("d/link").symlink);
  EXPECT_TRUE(Open("dlink/file").symlink);
  EXPECT_TRUE(Open("out").symlink);
  EXPECT_TRUE(Open("d/missing").not_found);
  EXPECT_TRUE(Open("d/file/x").not_found);
  OpenedFile fifo = Open("fifo");  // never blocks
  EXPECT_NE(fifo.error, 0);
  EXPECT_FALSE(fifo.not_found);
  EXPECT_NE(Open("d").error, 0);  // a directory
}

TEST_P(OpenBeneathTest, FollowsSymlinksOnlyBeneath) {
  if (!GetParam()) {  // without openat2, every symlink is refused
    EXPECT_TRUE(Open("d/link", Symlinks::kFollowBeneath).symlink);
    EXPECT_TRUE(Open("out", Symlinks::kFollowBeneath).symlink);
    return;
  }
  EXPECT_EQ(Open("d/link", Symlinks::kFollowBeneath).error, 0);
  EXPECT_EQ(Open("dlink/file", Symlinks::kFollowBeneath).error, 0);
  OpenedFile f = Open("out", Symlinks::kFollowBeneath);
  EXPECT_TRUE(f.escapes) << f.error_text;
}

TEST(PercentTest, OnlyCrLfAndPercent) {
  EXPECT_EQ(PercentDecodePath("a%0Ab%0dc%25d"), "a\nb\rc%d");
  EXPECT_EQ(PercentDecodePath("a%20b%2Fc%2e%2E"), "a%20b%2Fc%2e%2E");
  EXPECT_EQ(PercentDecodePath("%2525"), "%25");
  EXPECT_EQ(PercentDecodePath("%"), "%");
  EXPECT_EQ(PercentDecodePath("x%2"), "x%2");
  EXPECT_EQ(PercentDecodePath("%0"), "%0");
}

TEST(BagInfoValuesTest, OxumAndDates) {
  auto ox = ParsePayloadOxum("1234.5");
  ASSERT_TRUE(ox);
  EXPECT_EQ(ox->octets, 1234u);
  EXPECT_EQ(ox->streams, 5u);
  EXPECT_TRUE(ParsePayloadOxum("18446744073709551615.1"));
  for (const char* bad :
       {"", "12", "12.", ".3", "1.2.3", "-1.2", "1 .2", "18446744073709551616.1"}) {
    EXPECT_FALSE(ParsePayloadOxum(bad)) << bad;
  }
  EXPECT_EQ(ParseBaggingDate("1970-01-01"), 0);
  EXPECT_EQ(ParseBaggingDate("2024-02-29"), 1709164800LL * 1'000'000'000LL);
  EXPECT_EQ(ParseBaggingDate("2024-02-29T23:59:59Z"), 1709164800LL * 1'000'000'000LL);
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-00-10", "2024-1-1", "24-01-01",
                          "2024/01/01", "2024-01-01x", "9999-12-31"}) {
    EXPECT_FALSE(ParseBaggingDate(bad)) << bad;
  }
}

TEST(BagDeclarationTest, Strict) {
  Findings f;
  BagDeclaration d =
      ParseBagDeclaration("BagIt-Version: 0.97\r\nTag-File-Character-Encoding: UTF-16\r\n", &f);
  EXPECT_TRUE(f.errors.empty());
  EXPECT_EQ(d.version, "0.97");
  EXPECT_EQ(d.major, 0);
  EXPECT_EQ(d.minor, 97);
  EXPECT_TRUE(d.version_ok);
  EXPECT_EQ(d.encoding, TextEncoding::kUtf16);

  for (const char* v : {"0.93", "0.94", "0.95", "0.96", "0.97", "1.0"}) {
    Findings g;
    d = ParseBagDeclaration("BagIt-Version: "s + v + "\nTag-File-Character-Encoding: UTF-8", &g);
    EXPECT_TRUE(g.errors.empty()) << v;
    EXPECT_TRUE(d.version_ok) << v;
  }
  for (const char* v : {"0.92", "0.98", "1.1", "2.0", "1", "1.0.0", "x.y"}) {
    Findings g;
    ParseBagDeclaration("BagIt-Version: "s + v + "\nTag-File-Character-Encoding: UTF-8\n", &g);
    ASSERT_EQ(g.errors.size(), 1u) << v;
    EXPECT_EQ(g.errors[0].code, "unsupported_version") << v;
    EXPECT_EQ(g.errors[0].line, 1u);
  }
  Findings g;
  ParseBagDeclaration("BagIt-Version: 1.0 \nTag-File-Character-Encoding: UTF-8\n", &g);
  ASSERT_EQ(g.errors.size(), 1u);
  EXPECT_EQ(g.errors[0].ToString().rfind("bagit.txt:1: expected exactly one space", 0), 0u)
      << g.errors[0].ToString();
}

TEST(BagInfoTest, ContinuationsAndGarbage) {
  Findings f;
  BagInfo info =
      ParseBagInfo("Source-Organization: Acme\n  Corp\nPayload-Oxum: 10.2\n \tstray\n\nno colon\n",
                   TextEncoding::kUtf8, "bag-info.txt", &f);
  ASSERT_EQ(info.fields.size(), 2u);
  EXPECT_EQ(info.fields[0].value, "Acme Corp");
  // " \tstray" continues Payload-Oxum: its value is then not an Oxum.
  EXPECT_EQ(info.fields[1].value, "10.2 stray");
  ASSERT_EQ(f.errors.size(), 2u);
  EXPECT_EQ(f.errors[0].code, "bag_info_malformed");
  EXPECT_EQ(f.errors[0].line, 6u);
  EXPECT_EQ(f.errors[0].offset, 61);
  EXPECT_EQ(f.errors[1].code, "oxum_malformed");
  EXPECT_EQ(f.warnings.size(), 1u);  // the blank line

  Findings g;
  ParseBagInfo("  leading continuation\n", TextEncoding::kUtf8, "bag-info.txt", &g);
  ASSERT_EQ(g.errors.size(), 1u);
  EXPECT_EQ(g.errors[0].ToString(),
            "bag-info.txt:1: continuation line (starts with whitespace) without a label before it "
            "(byte offset 0)");
}

TEST(ManifestLineTest, Splits) {
  ManifestLine ml;
  std::string err;
  size_t col = 0;
  ASSERT_TRUE(ParseManifestLine("abc123  data/a b.txt", &ml, &err, &col));
  EXPECT_EQ(ml.digest, "abc123");
  EXPECT_EQ(ml.path, "data/a b.txt");
  EXPECT_EQ(ml.path_column, 8u);
  EXPECT_EQ(ml.separator, 2u);
  ASSERT_TRUE(ParseManifestLine("ABC\tdata/x ", &ml, &err, &col));
  EXPECT_EQ(ml.path, "data/x ");  // trailing space is part of the name
  EXPECT_FALSE(ParseManifestLine("abc", &ml, &err, &col));
  EXPECT_EQ(col, 3u);
  EXPECT_FALSE(ParseManifestLine("abq data/x", &ml, &err, &col));
  EXPECT_EQ(col, 2u);
  EXPECT_FALSE(ParseManifestLine("", &ml, &err, &col));
}

TEST(ManifestTest, ParsesAndRejects) {
  std::string h(64, 'a');
  std::string raw = h + "  data/a%0Ab\n" + h + " *data/bin\n" + h + "  ../x\n" + h +
                    "  data/a%0Ab\n" + h + "  tagfile\n" + h.substr(1) + "  data/c\n";
  Findings f;
  Manifest m = ParseManifest(raw, "manifest-sha256.txt", ManifestKind::kPayload,
                             HashAlgorithm::kSha256, TextEncoding::kUtf8, &f);
  ASSERT_EQ(m.entries.size(), 2u);
  EXPECT_EQ(m.entries[0].path, "data/a\nb");
  EXPECT_EQ(m.entries[1].path, "data/bin");
  EXPECT_EQ(m.entries[0].digest.Hex(), h);
  std::vector<std::string> codes;
  for (const auto& e : f.errors) codes.push_back(e.code + ":" + std::to_string(e.line));
  EXPECT_EQ(codes, (std::vector<std::string>{"path_escapes:3", "duplicate_entry:4",
                                             "outside_payload:5", "bad_digest:6"}));
  ASSERT_EQ(f.warnings.size(), 1u);
  EXPECT_EQ(f.warnings[0].code, "binary_marker");

  Findings g;
  Manifest t = ParseManifest(h + "  data/x\n" + h + " *bagit.txt\n", "tagmanifest-sha256.txt",
                             ManifestKind::kTag, HashAlgorithm::kSha256, TextEncoding::kUtf8, &g);
  ASSERT_EQ(t.entries.size(), 1u);
  EXPECT_EQ(t.entries[0].path, "bagit.txt");
  ASSERT_EQ(g.errors.size(), 1u);
  EXPECT_EQ(g.errors[0].code, "tag_lists_payload");
}

TEST(ManifestTest, FileNamesAndAlgorithms) {
  auto n = ManifestFileName("manifest-sha256.txt");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->first, ManifestKind::kPayload);
  EXPECT_EQ(n->second, "sha256");
  n = ManifestFileName("tagmanifest-md5.txt");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->first, ManifestKind::kTag);
  EXPECT_FALSE(ManifestFileName("manifest-.txt"));
  EXPECT_FALSE(ManifestFileName("manifest-sha256.txt~"));
  EXPECT_FALSE(ManifestFileName("bag-info.txt"));
  bool nonstandard = false;
  EXPECT_EQ(ManifestAlgorithm("sha512", &nonstandard), HashAlgorithm::kSha512);
  EXPECT_FALSE(nonstandard);
  EXPECT_EQ(ManifestAlgorithm("SHA256", &nonstandard), HashAlgorithm::kSha256);
  EXPECT_TRUE(nonstandard);
  EXPECT_FALSE(ManifestAlgorithm("blake2b", &nonstandard));
  EXPECT_FALSE(ManifestAlgorithm("xxh3-128", &nonstandard));
}

TEST(FetchTest, Lines) {
  Findings f;
  auto entries =
      ParseFetch("https://x.org/a%20b 12 data/a%20b\nftp://h/p - data/new%0Aline\nhttp://x 1\n",
                 TextEncoding::kUtf8, "fetch.txt", &f);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].url, "https://x.org/a%20b");
  EXPECT_EQ(entries[0].length, 12u);
  EXPECT_EQ(entries[0].path, "data/a%20b");
  EXPECT_FALSE(entries[1].length);
  EXPECT_EQ(entries[1].path, "data/new\nline");
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_EQ(f.errors[0].code, "fetch_malformed");
  EXPECT_EQ(f.errors[0].line, 3u);
}

// Random bytes through every parser: findings, never a crash.
TEST(GarbageTest, ParsersNeverCrash) {
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string raw(rng() % 300, '\0');
    for (auto& c : raw) {
      uint32_t r = rng();
      // Mostly structure characters, to reach deep into the parsers.
      static const char kAlphabet[] = "aZ09:. \t\r\n%/~*()=\\#-\xC3\xA9\xFF\xFE";
      c = (r & 3) == 0 ? static_cast<char>(r >> 8) : kAlphabet[(r >> 8) % (sizeof kAlphabet - 1)];
    }
    Findings f;
    auto enc = static_cast<TextEncoding>(rng() % 5);
    ParseBagDeclaration(raw, &f);
    ParseBagInfo(raw, enc, "bag-info.txt", &f);
    ParseManifest(raw, "manifest-md5.txt", ManifestKind::kPayload, HashAlgorithm::kMd5, enc, &f);
    ParseManifest(raw, "tagmanifest-x.txt", ManifestKind::kTag, std::nullopt, enc, &f);
    ParseFetch(raw, enc, "fetch.txt", &f);
    for (const auto& e : f.errors) {
      EXPECT_FALSE(e.file.empty());
      EXPECT_FALSE(e.message.empty());
    }
  }
}

}  // namespace
}  // namespace vigil::formats
