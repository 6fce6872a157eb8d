// Checksum files: the line parser, algorithm detection, and verdicts
// compared with the real coreutils (`sha256sum -c`, `md5sum -c`, ... on the
// same damaged files, run through a shell).
#include "services/worker/formats/sumfile.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/test_util.h"
#include "tests/services/worker/findings_dump.h"
#include "tests/services/worker/open_watch.h"

namespace vigil::formats {
namespace {

using namespace std::string_literals;
using storage::HashAlgorithm;
using testing::DumpFindings;
using testing::OpenWatch;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

const Finding* Find(const std::vector<Finding>& list, const std::string& code, uint64_t line = 0) {
  for (const auto& f : list) {
    if (f.code == code && (line == 0 || f.line == line)) return &f;
  }
  return nullptr;
}

// Single-quoted for sh.
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

// Runs a shell command, returns its stdout.
std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// Names coreutils `-c` reports as failing ("NAME: FAILED", "NAME: FAILED open
// or read"); a line starting with '\' has an escaped name.
std::set<std::string> CoreutilsFailures(const std::string& output) {
  std::set<std::string> names;
  size_t pos = 0;
  while (pos < output.size()) {
    size_t nl = output.find('\n', pos);
    if (nl == std::string::npos) nl = output.size();
    std::string line = output.substr(pos, nl - pos);
    pos = nl + 1;
    bool escaped = !line.empty() && line[0] == '\\';
    if (escaped) line.erase(0, 1);
    std::string name;
    for (const char* suffix : {": FAILED open or read", ": FAILED"}) {
      std::string sfx = suffix;
      if (line.size() > sfx.size() &&
          line.compare(line.size() - sfx.size(), sfx.size(), sfx) == 0) {
        name = line.substr(0, line.size() - sfx.size());
        break;
      }
    }
    if (name.empty()) continue;
    if (escaped) {
      std::string u;
      for (size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '\\' && i + 1 < name.size()) {
          char c = name[++i];
          u.push_back(c == 'n' ? '\n' : c == 'r' ? '\r' : c);
        } else {
          u.push_back(name[i]);
        }
      }
      name = u;
    }
    names.insert(name);
  }
  return names;
}

std::set<std::string> OurFailures(const SumReport& r) {
  std::set<std::string> names;
  for (const auto& e : r.errors) {
    if (e.code == "digest_mismatch" || e.code == "missing" || e.code == "unreadable" ||
        e.code == "symlink") {
      names.insert(e.path);
    }
  }
  return names;
}

std::string Show(const std::set<std::string>& s) {
  std::string out;
  for (const auto& n : s) out += " [" + n + "]";
  return out;
}

// ---- the line parser ------------------------------------------------------

TEST(SumLineTest, GnuForms) {
  int state = -1;
  SumLine s;
  std::string err;
  size_t col = 0;
  ASSERT_TRUE(ParseSumLine("abc123  name with  spaces ", &state, &s, &err, &col));
  EXPECT_EQ(s.hex, "abc123");
  EXPECT_EQ(s.name, "name with  spaces ");
  EXPECT_FALSE(s.binary);
  EXPECT_FALSE(s.tagged);
  ASSERT_TRUE(ParseSumLine("abc123 *bin", &state, &s, &err, &col));
  EXPECT_TRUE(s.binary);
  EXPECT_EQ(s.name, "bin");
  ASSERT_TRUE(ParseSumLine("\\abc123  a\\\\b\\nc\\rd", &state, &s, &err, &col));
  EXPECT_TRUE(s.escaped);
  EXPECT_EQ(s.name, "a\\b\nc\rd");
  ASSERT_TRUE(ParseSumLine("abc123  lit\\eral", &state, &s, &err, &col));
  EXPECT_EQ(s.name, "lit\\eral");  // no leading backslash: no escapes
  ASSERT_TRUE(ParseSumLine("  \tabc123\t name", &state, &s, &err, &col));
  EXPECT_EQ(s.name, "name");
  // One space after two-space lines: refused, as coreutils does.
  EXPECT_FALSE(ParseSumLine("abc123 name", &state, &s, &err, &col));
  EXPECT_EQ(col, 7u);
  ASSERT_TRUE(ParseSumLine("# comment", &state, &s, &err, &col));
  EXPECT_EQ(s.kind, SumLine::Kind::kComment);
  ASSERT_TRUE(ParseSumLine(" \t", &state, &s, &err, &col));
  EXPECT_EQ(s.kind, SumLine::Kind::kBlank);
}

TEST(SumLineTest, ReversedForm) {
  int state = -1;
  SumLine s;
  std::string err;
  size_t col = 0;
  ASSERT_TRUE(ParseSumLine("abc123 name", &state, &s, &err, &col));
  EXPECT_TRUE(s.reversed);
  EXPECT_EQ(s.name, "name");
  EXPECT_EQ(state, 1);
  // Once reversed, a second blank belongs to the name (coreutils).
  ASSERT_TRUE(ParseSumLine("abc123  name", &state, &s, &err, &col));
  EXPECT_EQ(s.name, " name");
}

TEST(SumLineTest, TaggedForm) {
  int state = -1;
  SumLine s;
  std::string err;
  size_t col = 0;
  ASSERT_TRUE(ParseSumLine("SHA256 (a (1).txt) = ABCdef", &state, &s, &err, &col));
  EXPECT_TRUE(s.tagged);
  EXPECT_EQ(s.label, "SHA256");
  EXPECT_EQ(s.name, "a (1).txt");
  EXPECT_EQ(s.hex, "ABCdef");
  ASSERT_TRUE(ParseSumLine("\\MD5 (n\\nl) = 00", &state, &s, &err, &col));
  EXPECT_EQ(s.name, "n\nl");
  ASSERT_TRUE(ParseSumLine("SHA2-256(x)=00", &state, &s, &err, &col));
  EXPECT_EQ(s.name, "x");
  EXPECT_FALSE(ParseSumLine("SHA256 (x) 00", &state, &s, &err, &col));
  EXPECT_FALSE(ParseSumLine("SHA256 (x = 00", &state, &s, &err, &col));
  EXPECT_FALSE(ParseSumLine("SHA256 () = 00", &state, &s, &err, &col));
  EXPECT_FALSE(ParseSumLine("SHA256 (x) = 00 ", &state, &s, &err, &col));
  EXPECT_FALSE(ParseSumLine("\\SHA256 (a\\tb) = 00", &state, &s, &err, &col));
}

TEST(SumLineTest, Garbage) {
  int state = -1;
  SumLine s;
  std::string err;
  size_t col = 0;
  for (const char* bad : {"xyz  a", "abc", "abc ", "\\abc  a\\", "\\abc  a\\x"}) {
    EXPECT_FALSE(ParseSumLine(bad, &state, &s, &err, &col)) << bad;
    EXPECT_FALSE(err.empty());
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string line(rng() % 80, '\0');
    static const char kAlphabet[] = "abcdef0123 *\\()=#\tSHAMD5nrx";
    for (auto& c : line) c = kAlphabet[rng() % (sizeof kAlphabet - 1)];
    int st = static_cast<int>(rng() % 3) - 1;
    if (!ParseSumLine(line, &st, &s, &err, &col)) {
      EXPECT_LE(col, line.size()) << line;
    }
  }
}

TEST(SumAlgorithmTest, LabelsNamesLengths) {
  EXPECT_EQ(SumLabelAlgorithm("SHA256"), HashAlgorithm::kSha256);
  EXPECT_EQ(SumLabelAlgorithm("md5"), HashAlgorithm::kMd5);
  EXPECT_EQ(SumLabelAlgorithm("SHA2-512"), HashAlgorithm::kSha512);
  EXPECT_EQ(SumLabelAlgorithm("XXH128"), HashAlgorithm::kXxh3_128);
  EXPECT_FALSE(SumLabelAlgorithm("BLAKE2b"));
  EXPECT_FALSE(SumLabelAlgorithm("SHA3-256"));
  EXPECT_FALSE(SumLabelAlgorithm("XXH3"));  // xxhsum's 64-bit XXH3

  EXPECT_EQ(SumFileNameHint("SHA256SUMS").algorithm, HashAlgorithm::kSha256);
  EXPECT_EQ(SumFileNameHint("MD5SUMS").algorithm, HashAlgorithm::kMd5);
  EXPECT_EQ(SumFileNameHint("backup.tar.sha512").algorithm, HashAlgorithm::kSha512);
  EXPECT_EQ(SumFileNameHint("SHA384SUMS").algorithm, HashAlgorithm::kSha384);
  EXPECT_TRUE(SumFileNameHint("B2SUMS").named);
  EXPECT_FALSE(SumFileNameHint("B2SUMS").algorithm);
  EXPECT_TRUE(SumFileNameHint("SHA3-256SUMS").named);
  EXPECT_FALSE(SumFileNameHint("SHA3-256SUMS").algorithm);
  EXPECT_FALSE(SumFileNameHint("CHECKSUMS").named);
  EXPECT_FALSE(SumFileNameHint("md5-and-sha1.txt").named);  // names two: no hint

  EXPECT_EQ(AlgorithmForHexLength(32), HashAlgorithm::kMd5);
  EXPECT_EQ(AlgorithmForHexLength(128), HashAlgorithm::kSha512);
  EXPECT_FALSE(AlgorithmForHexLength(48));
}

// ---- whole files ------------------------------------------------------------

class SumFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(1);
    std::string big(200 << 10, '\0');
    for (auto& c : big) c = static_cast<char>(rng());
    files_ = {{"a.txt", "alpha\n"},
              {"b.bin", big},
              {"sub/c.txt", "gamma\n"},
              {"name with spaces.txt", "spaces\n"},
              {"back\\slash.txt", "backslash\n"},
              {"new\nline.txt", "newline\n"},
              {"empty", ""}};
    for (const auto& [name, content] : files_) WriteFile(dir_ / name, content);
  }

  // Writes DIR/sums with `tool` (e.g. "sha256sum --tag") over every file.
  std::string MakeSums(const std::string& tool, const std::string& sums = "SUMS") {
    std::string cmd = "cd " + Quote(dir_.path()) + " && " + tool + " --";
    for (const auto& [name, content] : files_) cmd += " " + Quote(name);
    cmd += " > " + Quote(sums);
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return dir_ / sums;
  }

  void Damage() {
    std::string b = ReadFile(dir_ / "b.bin");
    b[100000] ^= 1;
    WriteFile(dir_ / "b.bin", b);
    WriteFile(dir_ / "new\nline.txt", "changed\n");
    ASSERT_EQ(::unlink((dir_ / "sub/c.txt").c_str()), 0);
    ASSERT_EQ(::unlink((dir_ / "back\\slash.txt").c_str()), 0);
  }

  std::set<std::string> Coreutils(const std::string& checker, const std::string& sums = "SUMS") {
    return CoreutilsFailures(Shell("cd " + Quote(dir_.path()) + " && " + checker + " -c " +
                                   Quote(sums) + " 2>/dev/null"));
  }

  TempDir dir_;
  std::vector<std::pair<std::string, std::string>> files_;
};

TEST_F(SumFileTest, IntactFilesVerify) {
  for (const char* tool : {"md5sum", "sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum",
                           "sha256sum --tag", "md5sum --tag", "sha512sum -b"}) {
    std::string sums = MakeSums(tool);
    SumReport r = VerifySumFile(sums);
    EXPECT_TRUE(r.valid()) << tool << "\n" << DumpFindings(r);
    EXPECT_TRUE(r.warnings.empty()) << tool << "\n" << DumpFindings(r);
    EXPECT_EQ(r.entries, files_.size()) << tool;
    EXPECT_EQ(r.ok, files_.size()) << tool;
    EXPECT_EQ(r.files_read, files_.size()) << tool;
  }
}

// The same damaged files: coreutils and VerifySumFile fail the same names.
TEST_F(SumFileTest, SameVerdictsAsCoreutils) {
  struct Case {
    const char* maker;
    const char* checker;
  };
  const Case cases[] = {
      {"sha256sum", "sha256sum"},    {"md5sum", "md5sum"},       {"sha256sum --tag", "sha256sum"},
      {"md5sum --tag", "md5sum"},    {"sha1sum", "sha1sum"},     {"sha512sum --tag", "sha512sum"},
      {"sha224sum -b", "sha224sum"}, {"sha384sum", "sha384sum"},
  };
  const std::set<std::string> expected = {"b.bin", "new\nline.txt", "sub/c.txt", "back\\slash.txt"};
  for (const Case& c : cases) {
    SetUp();  // restore the files
    std::string sums = MakeSums(c.maker);
    Damage();
    std::set<std::string> theirs = Coreutils(c.checker);
    SumReport r = VerifySumFile(sums);
    std::set<std::string> ours = OurFailures(r);
    EXPECT_EQ(theirs, expected) << c.maker << ": coreutils says" << Show(theirs);
    EXPECT_EQ(ours, theirs) << c.maker << ":\n" << DumpFindings(r);
    EXPECT_EQ(r.mismatched, 2u) << c.maker;
    EXPECT_EQ(r.missing, 2u) << c.maker;
    EXPECT_EQ(r.ok, files_.size() - 4) << c.maker;
  }
}

TEST_F(SumFileTest, SameVerdictsOnHandWrittenFiles) {
  std::string a = Shell("cd " + Quote(dir_.path()) + " && sha256sum a.txt b.bin empty");
  Damage();
  // "HASH name" with one space (BSD md5 -r style), CRLF line endings,
  // comments, a malformed line (coreutils skips it; we report it).
  std::string reversed;
  for (size_t pos = 0; pos < a.size();) {
    size_t nl = a.find('\n', pos);
    std::string line = a.substr(pos, nl - pos);
    reversed += "# a comment\r\n" + line.substr(0, 64) + " " + line.substr(66) + "\r\n";
    pos = nl + 1;
  }
  reversed += "not a checksum line\r\n";
  reversed += std::string(64, '0') + " gone.txt\r\n";
  WriteFile(dir_ / "HAND", reversed);
  std::set<std::string> theirs = Coreutils("sha256sum", "HAND");
  SumReport r = VerifySumFile(dir_ / "HAND");
  EXPECT_EQ(theirs, (std::set<std::string>{"b.bin", "gone.txt"}));
  EXPECT_EQ(OurFailures(r), theirs) << DumpFindings(r);
  const Finding* m = Find(r.errors, "sum_malformed", 7);
  ASSERT_NE(m, nullptr) << DumpFindings(r);
  EXPECT_EQ(m->ToString().rfind(dir_ / "HAND:7: malformed line: expected a hex digest", 0), 0u)
      << m->ToString();
}

TEST_F(SumFileTest, MixedAlgorithmsReadEachFileOnce) {
  std::string md5 = Shell("cd " + Quote(dir_.path()) + " && md5sum --tag a.txt b.bin");
  std::string sha = Shell("cd " + Quote(dir_.path()) + " && sha512sum --tag a.txt b.bin");
  WriteFile(dir_ / "CHECKSUMS", md5 + sha);
  SumReport r = VerifySumFile(dir_ / "CHECKSUMS");
  EXPECT_TRUE(r.valid()) << DumpFindings(r);
  EXPECT_EQ(r.entries, 4u);
  EXPECT_EQ(r.files_read, 2u);
  EXPECT_EQ(r.algorithms,
            (std::vector<HashAlgorithm>{HashAlgorithm::kMd5, HashAlgorithm::kSha512}));
}

TEST_F(SumFileTest, AlgorithmFromTheFileName) {
  std::string sha = Shell("cd " + Quote(dir_.path()) + " && sha256sum a.txt");
  WriteFile(dir_ / "SHA1SUMS", sha);  // 64 hex digits in a file named for SHA-1
  SumReport r = VerifySumFile(dir_ / "SHA1SUMS");
  EXPECT_NE(Find(r.errors, "ambiguous_algorithm", 1), nullptr) << DumpFindings(r);
  WriteFile(dir_ / "B2SUMS", sha);
  r = VerifySumFile(dir_ / "B2SUMS");
  EXPECT_NE(Find(r.errors, "unsupported_algorithm", 1), nullptr) << DumpFindings(r);
  WriteFile(dir_ / "sums.txt", "0123456789abcdef0123456789abcdef01234567abcdefab  a.txt\n");
  r = VerifySumFile(dir_ / "sums.txt");
  EXPECT_NE(Find(r.errors, "ambiguous_algorithm", 1), nullptr) << DumpFindings(r);
  WriteFile(dir_ / "SHA256SUMS", sha);
  r = VerifySumFile(dir_ / "SHA256SUMS");
  EXPECT_TRUE(r.valid()) << DumpFindings(r);
  WriteFile(dir_ / "x.sums", "BLAKE2b (a.txt) = 00\n");
  r = VerifySumFile(dir_ / "x.sums");
  EXPECT_NE(Find(r.errors, "unsupported_algorithm", 1), nullptr) << DumpFindings(r);
}

TEST_F(SumFileTest, PathsLeavingTheDirectoryAreRejectedUnopened) {
  TempDir other;
  std::string outside = other / "outside.txt";
  WriteFile(outside, "alpha\n");
  std::string hash = storage::HashBytes(HashAlgorithm::kSha256, "alpha\n").Hex();
  std::string rel_outside =
      "../" + std::filesystem::path(other.path()).filename().string() + "/outside.txt";
  WriteFile(dir_ / "SHA256SUMS", hash + "  a.txt\n" + hash + "  " + rel_outside + "\n" + hash +
                                     "  " + outside + "\n" + hash + "  sub/../../x\n" + hash +
                                     "  link-out\n" + hash + "  link-in\n");
  ASSERT_EQ(::symlink(outside.c_str(), (dir_ / "link-out").c_str()), 0);
  ASSERT_EQ(::symlink("a.txt", (dir_ / "link-in").c_str()), 0);
  OpenWatch watch(outside);
  ASSERT_TRUE(watch.ok());
  SumReport r = VerifySumFile(dir_ / "SHA256SUMS");
  EXPECT_FALSE(watch.Opened()) << "a path outside the directory was opened";
  EXPECT_NE(Find(r.errors, "path_escapes", 2), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "path_escapes", 3), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "path_escapes", 4), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "symlink", 5), nullptr) << DumpFindings(r);
  EXPECT_EQ(r.ok, 2u) << DumpFindings(r);  // a.txt, and link-in followed inside the directory
  EXPECT_EQ(r.rejected, 3u);
  EXPECT_EQ(r.unreadable, 1u);
  ReadFile(outside);
  EXPECT_TRUE(watch.Opened());
}

TEST_F(SumFileTest, EmptyBlankAndDuplicate) {
  WriteFile(dir_ / "EMPTY", "");
  SumReport r = VerifySumFile(dir_ / "EMPTY");
  EXPECT_NE(Find(r.errors, "no_entries"), nullptr) << DumpFindings(r);
  std::string sha = Shell("cd " + Quote(dir_.path()) + " && sha256sum a.txt");
  WriteFile(dir_ / "DUP", sha + "\n" + sha);
  r = VerifySumFile(dir_ / "DUP");
  EXPECT_TRUE(r.valid()) << DumpFindings(r);
  EXPECT_NE(Find(r.warnings, "blank_line", 2), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.warnings, "duplicate_entry", 3), nullptr) << DumpFindings(r);
  EXPECT_EQ(r.files_read, 1u);
  r = VerifySumFile(dir_ / "does-not-exist");
  EXPECT_NE(Find(r.errors, "missing"), nullptr) << DumpFindings(r);
}

TEST_F(SumFileTest, BinaryGarbageIsReportedNotFatal) {
  std::mt19937 rng(3);
  std::string junk(5000, '\0');
  for (auto& c : junk) c = static_cast<char>(rng());
  WriteFile(dir_ / "JUNK", junk);
  SumReport r = VerifySumFile(dir_ / "JUNK");
  EXPECT_FALSE(r.valid());
  for (const auto& e : r.errors) {
    EXPECT_TRUE(e.line > 0 || e.code == "no_entries") << e.ToString();
    EXPECT_EQ(e.file, dir_ / "JUNK");
  }
}

}  // namespace
}  // namespace vigil::formats
