// ValidateBag() on fixture bags built at test time, one per rule, for BagIt
// 0.97 and 1.0.
#include "services/worker/formats/bagit.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/integration/test_util.h"
#include "tests/services/worker/bag_builder.h"
#include "tests/services/worker/findings_dump.h"
#include "tests/services/worker/open_watch.h"

namespace vigil::formats {
namespace {

using storage::HashAlgorithm;
using testing::BagBuilder;
using testing::DumpFindings;
using testing::OpenWatch;
using testing::ReadFile;
using testing::TagEncoding;
using testing::TempDir;
using testing::WriteFile;

// The finding with this code (and, if given, file, line and path), or null.
const Finding* Find(const std::vector<Finding>& list, const std::string& code,
                    const std::string& file = "", uint64_t line = 0, const std::string& path = "") {
  for (const auto& f : list) {
    if (f.code != code) continue;
    if (!file.empty() && f.file != file) continue;
    if (line != 0 && f.line != line) continue;
    if (!path.empty() && f.path != path) continue;
    return &f;
  }
  return nullptr;
}

size_t Count(const std::vector<Finding>& list, const std::string& code) {
  size_t n = 0;
  for (const auto& f : list) n += f.code == code;
  return n;
}

class BagTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    bag_.version = GetParam();
    bag_.payload["data/a.txt"] = "alpha\n";
    bag_.payload["data/sub/b.bin"] = std::string(3000, 'b');
    bag_.payload["data/empty"] = "";
  }
  BagReport Validate(BagOptions o = {}) {
    o.threads = 2;
    return ValidateBag(bag_.root, o);
  }
  bool V1() const { return std::string(GetParam()) == "1.0"; }
  // Line of `path` in the payload manifest (1-based; the builder sorts).
  uint64_t LineOf(const std::string& path) const {
    uint64_t n = 0;
    for (const auto& [p, c] : bag_.payload) {
      ++n;
      if (p == path) return n;
    }
    return 0;
  }

  TempDir dir_;
  BagBuilder bag_{dir_ / "bag"};
};

INSTANTIATE_TEST_SUITE_P(Versions, BagTest, ::testing::Values("0.97", "1.0"), [](const auto& info) {
  return std::string(info.param) == "1.0" ? "v1_0" : "v0_97";
});

TEST_P(BagTest, ValidBagLf) {
  bag_.Build();
  BagReport r = Validate();
  EXPECT_TRUE(r.valid()) << DumpFindings(r);
  EXPECT_TRUE(r.complete());
  EXPECT_TRUE(r.warnings.empty()) << DumpFindings(r);
  EXPECT_EQ(r.version, GetParam());
  EXPECT_EQ(r.tag_encoding, "UTF-8");
  EXPECT_EQ(r.payload_files, 3u);
  EXPECT_EQ(r.payload_bytes, 3006u);
  ASSERT_TRUE(r.payload_oxum);
  EXPECT_EQ(r.payload_oxum->octets, 3006u);
  EXPECT_EQ(r.payload_oxum->streams, 3u);
  EXPECT_EQ(r.algorithms,
            (std::vector<HashAlgorithm>{HashAlgorithm::kSha256, HashAlgorithm::kSha512}));
  EXPECT_EQ(r.tag_algorithms, std::vector<HashAlgorithm>{HashAlgorithm::kSha256});
  EXPECT_EQ(r.bagging_date, "2024-06-01");
  ASSERT_TRUE(r.bagging_date_ns);
  EXPECT_EQ(*r.bagging_date_ns, 1717200000LL * 1'000'000'000LL);
  EXPECT_TRUE(r.hashed);
  // Each payload file read once for both algorithms, plus the 4 tag files.
  EXPECT_EQ(r.files_hashed, 3u + 4u);
}

TEST_P(BagTest, ValidBagCrlfAndCr) {
  for (const char* eol : {"\r\n", "\r"}) {
    bag_.eol = eol;
    bag_.Build();
    BagReport r = Validate();
    EXPECT_TRUE(r.valid()) << (eol[1] ? "CRLF" : "CR") << "\n" << DumpFindings(r);
    EXPECT_TRUE(r.warnings.empty()) << DumpFindings(r);
    EXPECT_EQ(r.bagging_date, "2024-06-01");
  }
}

TEST_P(BagTest, Utf16WithByteOrderMark) {
  bag_.payload["data/caf\xC3\xA9.txt"] = "coffee";
  bag_.payload["data/\xE6\x97\xA5\xE6\x9C\xAC/\xF0\x9F\x93\xA6.bin"] =
      "box";  // 日本/📦 (surrogates)
  bag_.extra_info = {"Source-Organization: Caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC"};
  for (TagEncoding enc : {TagEncoding::kUtf16LeBom, TagEncoding::kUtf16BeBom}) {
    bag_.encoding_label = "UTF-16";
    bag_.encoding = enc;
    bag_.Build();
    BagReport r = Validate();
    EXPECT_TRUE(r.valid()) << DumpFindings(r);
    EXPECT_TRUE(r.warnings.empty()) << DumpFindings(r);
    EXPECT_EQ(r.payload_files, 5u);
    ASSERT_EQ(r.bag_info.size(), 3u);
    EXPECT_EQ(r.bag_info[2].value, "Caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC");
  }
}

TEST_P(BagTest, Iso88591TagFiles) {
  bag_.payload["data/caf\xC3\xA9.txt"] = "coffee";  // the name on disk is UTF-8
  bag_.extra_info = {"Contact-Name: Ren\xC3\xA9"};
  bag_.encoding_label = "ISO-8859-1";
  bag_.encoding = TagEncoding::kLatin1;
  bag_.Build();
  // The manifest holds the single byte 0xE9 for 'é'.
  EXPECT_NE(ReadFile(bag_.Path("manifest-sha256.txt")).find("caf\xE9.txt"), std::string::npos);
  BagReport r = Validate();
  EXPECT_TRUE(r.valid()) << DumpFindings(r);
  ASSERT_EQ(r.bag_info.size(), 3u);
  EXPECT_EQ(r.bag_info[2].value, "Ren\xC3\xA9");
}

TEST_P(BagTest, Utf8TagFileWithInvalidBytesNamesLineAndOffset) {
  bag_.Build();
  std::string m = ReadFile(bag_.Path("manifest-sha256.txt"));
  size_t second = m.find('\n') + 1;
  m.insert(second + 70, "\xFF");  // inside line 2's path
  WriteFile(bag_.Path("manifest-sha256.txt"), m);
  BagReport r = Validate();
  const Finding* f = Find(r.errors, "encoding", "manifest-sha256.txt", 2);
  ASSERT_NE(f, nullptr) << DumpFindings(r);
  EXPECT_EQ(f->offset, static_cast<int64_t>(second + 70));
  EXPECT_NE(f->ToString().find("manifest-sha256.txt:2: invalid UTF-8"), std::string::npos);
}

TEST_P(BagTest, PercentEncodedNames) {
  bag_.payload["data/line\nbreak.txt"] = "newline";
  bag_.payload["data/carriage\rreturn"] = "cr";
  bag_.payload["data/100%.txt"] = "percent";
  bag_.payload["data/a%20b.txt"] = "literal %20 in the name";
  bag_.Build();
  std::string m = ReadFile(bag_.Path("manifest-sha256.txt"));
  EXPECT_NE(m.find("data/line%0Abreak.txt"), std::string::npos);
  EXPECT_NE(m.find("data/100%25.txt"), std::string::npos);
  EXPECT_NE(m.find("data/a%2520b.txt"), std::string::npos);
  BagReport r = Validate();
  EXPECT_TRUE(r.valid()) << DumpFindings(r);
  EXPECT_EQ(r.payload_files, 7u);
}

TEST_P(BagTest, OnlyCrLfAndPercentAreDecoded) {
  bag_.payload["data/a b.txt"] = "space";
  bag_.Build();
  // A writer that encoded the space: %20 is not decoded, so the entry names
  // a file that does not exist and the real one is unlisted.
  std::string m = ReadFile(bag_.Path("manifest-sha256.txt"));
  m.replace(m.find("data/a b.txt"), 12, "data/a%20b.txt");
  WriteFile(bag_.Path("manifest-sha256.txt"), m);
  bag_.WriteTagManifests();
  BagReport r = Validate();
  EXPECT_NE(Find(r.errors, "missing", "manifest-sha256.txt", 0, "data/a%20b.txt"), nullptr)
      << DumpFindings(r);
  if (V1()) {
    EXPECT_NE(Find(r.errors, "not_in_manifest", "manifest-sha256.txt", 0, "data/a b.txt"), nullptr)
        << DumpFindings(r);
  } else {  // listed in manifest-sha512.txt: enough before 1.0
    EXPECT_NE(Find(r.warnings, "not_in_manifest", "manifest-sha256.txt", 0, "data/a b.txt"),
              nullptr)
        << DumpFindings(r);
  }
}

TEST_P(BagTest, MissingPayloadFile) {
  bag_.Build();
  ASSERT_EQ(::unlink(bag_.Path("data/a.txt").c_str()), 0);
  BagReport r = Validate();
  EXPECT_FALSE(r.valid());
  uint64_t line = LineOf("data/a.txt");
  const Finding* f = Find(r.errors, "missing", "manifest-sha256.txt", line, "data/a.txt");
  ASSERT_NE(f, nullptr) << DumpFindings(r);
  EXPECT_EQ(f->ToString(),
            "manifest-sha256.txt:" + std::to_string(line) + ": data/a.txt is missing");
  EXPECT_NE(Find(r.errors, "missing", "manifest-sha512.txt", line, "data/a.txt"), nullptr);
  EXPECT_NE(Find(r.errors, "oxum_mismatch", "bag-info.txt", 2), nullptr) << DumpFindings(r);
}

TEST_P(BagTest, ExtraPayloadFileNotInManifest) {
  bag_.Build();
  WriteFile(bag_.Path("data/sub/extra.txt"), "not listed");
  BagReport r = Validate();
  EXPECT_FALSE(r.valid());
  if (V1()) {
    EXPECT_NE(Find(r.errors, "not_in_manifest", "manifest-sha256.txt", 0, "data/sub/extra.txt"),
              nullptr)
        << DumpFindings(r);
    EXPECT_NE(Find(r.errors, "not_in_manifest", "manifest-sha512.txt", 0, "data/sub/extra.txt"),
              nullptr);
  } else {
    EXPECT_NE(Find(r.errors, "not_in_manifest", "", 0, "data/sub/extra.txt"), nullptr)
        << DumpFindings(r);
  }
  EXPECT_NE(Find(r.errors, "oxum_mismatch"), nullptr);
}

TEST_P(BagTest, ListedInOneManifestOnly) {
  bag_.Build();
  // Drop data/a.txt from manifest-sha512.txt only.
  std::vector<std::string> lines = bag_.ManifestLines(HashAlgorithm::kSha512);
  lines.erase(lines.begin() + static_cast<long>(LineOf("data/a.txt") - 1));
  bag_.WriteTag("manifest-sha512.txt", lines);
  bag_.WriteTagManifests();
  BagReport r = Validate();
  const auto& list = V1() ? r.errors : r.warnings;  // allowed before 1.0
  EXPECT_NE(Find(list, "not_in_manifest", "manifest-sha512.txt", 0, "data/a.txt"), nullptr)
      << DumpFindings(r);
  EXPECT_EQ(r.valid(), !V1()) << DumpFindings(r);
}

TEST_P(BagTest, DigestMismatch) {
  bag_.Build();
  WriteFile(bag_.Path("data/a.txt"), "alphA\n");  // same size: Payload-Oxum still matches
  BagReport r = Validate();
  EXPECT_FALSE(r.valid());
  uint64_t line = LineOf("data/a.txt");
  const Finding* f = Find(r.errors, "digest_mismatch", "manifest-sha256.txt", line, "data/a.txt");
  ASSERT_NE(f, nullptr) << DumpFindings(r);
  EXPECT_EQ(
      f->ToString().rfind(
          "manifest-sha256.txt:" + std::to_string(line) + ": digest mismatch for data/a.txt", 0),
      0u)
      << f->ToString();
  EXPECT_NE(Find(r.errors, "digest_mismatch", "manifest-sha512.txt", line), nullptr);
  EXPECT_EQ(r.errors.size(), 2u) << DumpFindings(r);
  EXPECT_EQ(Find(r.errors, "oxum_mismatch"), nullptr);
}

TEST_P(BagTest, FastModeChecksOxumButReadsNothing) {
  bag_.Build();
  WriteFile(bag_.Path("data/a.txt"), "alphA\n");
  BagOptions o;
  o.fast = true;
  BagReport r = Validate(o);
  EXPECT_TRUE(r.valid()) << DumpFindings(r);
  EXPECT_FALSE(r.hashed);
  WriteFile(bag_.Path("data/a.txt"), "longer content\n");
  r = Validate(o);
  EXPECT_NE(Find(r.errors, "oxum_mismatch"), nullptr) << DumpFindings(r);
}

TEST_P(BagTest, PayloadOxumMismatch) {
  bag_.write_oxum = false;
  bag_.extra_info = {"Payload-Oxum: 3007.3"};
  bag_.Build();
  BagReport r = Validate();
  ASSERT_EQ(r.errors.size(), 1u) << DumpFindings(r);
  EXPECT_EQ(r.errors[0].code, "oxum_mismatch");
  EXPECT_EQ(r.errors[0].ToString(),
            "bag-info.txt:2: Payload-Oxum 3007.3 does not match the payload: 3006 octets in 3 "
            "files");
}

TEST_P(BagTest, DuplicateManifestEntry) {
  bag_.Build();
  std::vector<std::string> lines = bag_.ManifestLines(HashAlgorithm::kSha256);
  lines.push_back(lines[0]);
  bag_.WriteTag("manifest-sha256.txt", lines);
  bag_.WriteTagManifests();
  BagReport r = Validate();
  const Finding* f = Find(r.errors, "duplicate_entry", "manifest-sha256.txt", 4);
  ASSERT_NE(f, nullptr) << DumpFindings(r);
  EXPECT_NE(f->message.find("first on line 1"), std::string::npos) << f->message;
}

// A manifest path that leaves the bag is rejected without being opened, even
// when the file it names exists and would match.
TEST_P(BagTest, EscapingPathsAreRejectedUnopened) {
  std::string outside = dir_ / "outside.txt";
  WriteFile(outside, "alpha\n");  // same content as data/a.txt
  ::setenv("HOME", dir_.path().c_str(), 1);
  bag_.Build();
  std::string hash = storage::HashBytes(HashAlgorithm::kSha256, "alpha\n").Hex();
  std::vector<std::string> lines = bag_.ManifestLines(HashAlgorithm::kSha256);
  lines.push_back(hash + "  data/../../outside.txt");
  lines.push_back(hash + "  " + outside);
  lines.push_back(hash + "  ~/outside.txt");
  lines.push_back(hash + "  data/%2E%2E/outside.txt");  // not decoded: a name, not ".."
  bag_.WriteTag("manifest-sha256.txt", lines);
  WriteFile(bag_.Path("fetch.txt"), "https://example.org/x 6 ../outside.txt\n");
  bag_.WriteTagManifests();
  std::string tm = ReadFile(bag_.Path("tagmanifest-sha256.txt"));
  tm += hash + "  ../outside.txt\n";
  WriteFile(bag_.Path("tagmanifest-sha256.txt"), tm);

  OpenWatch watch(outside);
  ASSERT_TRUE(watch.ok());
  BagReport r = Validate();
  EXPECT_FALSE(watch.Opened()) << "a path outside the bag was opened";

  EXPECT_NE(Find(r.errors, "path_escapes", "manifest-sha256.txt", 4), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "path_escapes", "manifest-sha256.txt", 5), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "path_escapes", "manifest-sha256.txt", 6), nullptr) << DumpFindings(r);
  // "%2E%2E" is a literal name inside data/: missing, not an escape.
  EXPECT_NE(Find(r.errors, "missing", "manifest-sha256.txt", 7), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "path_escapes", "fetch.txt", 1), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "path_escapes", "tagmanifest-sha256.txt", 6), nullptr)
      << DumpFindings(r);
  EXPECT_NE(
      Find(r.errors, "path_escapes", "manifest-sha256.txt", 4)
          ->ToString()
          .find("manifest-sha256.txt:4: path data/../../outside.txt rejected: '..' component"),
      std::string::npos);

  // The watch works: opening the file ourselves is seen.
  ReadFile(outside);
  EXPECT_TRUE(watch.Opened());
}

TEST_P(BagTest, SymlinksInPayloadAreNotFollowed) {
  bag_.Build();
  std::string outside = dir_ / "secret.txt";
  WriteFile(outside, "alpha\n");
  OpenWatch watch(outside);
  ASSERT_TRUE(watch.ok());
  ASSERT_EQ(::unlink(bag_.Path("data/a.txt").c_str()), 0);
  ASSERT_EQ(::symlink(outside.c_str(), bag_.Path("data/a.txt").c_str()), 0);
  ASSERT_EQ(::symlink("b.bin", bag_.Path("data/sub/inner-link").c_str()), 0);
  BagReport r = Validate();
  EXPECT_FALSE(watch.Opened());
  EXPECT_NE(Find(r.errors, "symlink", "", 0, "data/a.txt"), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "symlink", "", 0, "data/sub/inner-link"), nullptr) << DumpFindings(r);
  EXPECT_EQ(Find(r.errors, "missing"), nullptr) << DumpFindings(r);  // reported once, as a symlink
}

// Links out of the bag at every level inside it: a payload directory, the
// payload directory itself, a tag file. Each target is a real copy of what
// the link replaces (following it would find a valid part), watched by
// inotify: nothing outside is opened or listed, and each link is reported.
// (The bag's own directory being a link: the worker's CheckBag, in
// format_tasks_test.cc.)
TEST_P(BagTest, LinksOutOfTheBagAtEveryLevelAreNotFollowed) {
  bag_.Build();
  struct Case {
    std::string part;  // in the bag
    std::string code_path;
  };
  for (const Case& c :
       {Case{"data/sub", "data/sub"}, Case{"data", "data"},
        Case{"manifest-sha256.txt", "manifest-sha256.txt"}, Case{"bag-info.txt", "bag-info.txt"}}) {
    SCOPED_TRACE(c.part);
    TempDir w;
    const std::string copy = w / "bag";
    ASSERT_EQ(testing::RunProcess({"/bin/cp", "-a", bag_.root, copy}).exit_code, 0);
    const std::string target = w / "outside";
    ASSERT_EQ(::rename((copy + "/" + c.part).c_str(), target.c_str()), 0);
    ASSERT_EQ(::symlink(target.c_str(), (copy + "/" + c.part).c_str()), 0);
    std::vector<std::string> watched = {target};
    if (std::filesystem::is_directory(target)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(target)) {
        if (e.is_directory()) watched.push_back(e.path());
      }
    }
    OpenWatch watch;
    for (const auto& p : watched) watch.Add(p);
    ASSERT_TRUE(watch.ok());
    BagOptions o;
    o.threads = 2;
    BagReport r = ValidateBag(copy, o);
    EXPECT_FALSE(watch.Opened()) << "opened outside the bag:\n" << watch.what() << DumpFindings(r);
    EXPECT_FALSE(r.valid());
    EXPECT_NE(Find(r.errors, "symlink", "", 0, c.code_path), nullptr) << DumpFindings(r);
  }
}

TEST_P(BagTest, FetchEntries) {
  bag_.payload["data/remote.bin"] = std::string(100, 'r');
  bag_.Build();
  ASSERT_EQ(::unlink(bag_.Path("data/remote.bin").c_str()), 0);
  WriteFile(bag_.Path("fetch.txt"),
            "https://example.org/remote.bin 100 data/remote.bin\n"
            "https://example.org/a.txt - data/a.txt\n");
  bag_.WriteTagManifests();
  BagReport r = Validate();
  EXPECT_TRUE(r.valid()) << DumpFindings(r);
  EXPECT_FALSE(r.complete());
  EXPECT_EQ(r.fetch_entries, 2u);
  EXPECT_EQ(r.fetch_pending, 1u);
  const Finding* w = Find(r.warnings, "fetch_pending", "fetch.txt", 1, "data/remote.bin");
  ASSERT_NE(w, nullptr) << DumpFindings(r);
  EXPECT_EQ(Count(r.warnings, "fetch_pending"), 1u) << "once, not once per manifest";

  // A fetched file that is not in the manifests, a tag file, a bad line.
  WriteFile(bag_.Path("fetch.txt"),
            "https://example.org/remote.bin 100 data/remote.bin\n"
            "https://example.org/x 5 data/not-listed.bin\n"
            "https://example.org/y 5 bag-info.txt\n"
            "no-scheme 5 data/z\n"
            "https://example.org/w five data/w\n");
  bag_.WriteTagManifests();
  r = Validate();
  EXPECT_NE(Find(r.errors, "fetch_not_in_manifest", "fetch.txt", 2), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "fetch_tag_file", "fetch.txt", 3), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "fetch_malformed", "fetch.txt", 4), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "fetch_malformed", "fetch.txt", 5), nullptr) << DumpFindings(r);
}

TEST_P(BagTest, TagManifestMismatch) {
  bag_.Build();
  std::string info = ReadFile(bag_.Path("bag-info.txt"));
  WriteFile(bag_.Path("bag-info.txt"), info + "Edited-Later: yes\n");
  ::unlink(bag_.Path("manifest-sha512.txt").c_str());
  BagReport r = Validate();
  const Finding* f = Find(r.errors, "digest_mismatch", "tagmanifest-sha256.txt", 2, "bag-info.txt");
  ASSERT_NE(f, nullptr) << DumpFindings(r);
  EXPECT_EQ(f->ToString().rfind("tagmanifest-sha256.txt:2: digest mismatch for bag-info.txt", 0),
            0u);
  EXPECT_NE(Find(r.errors, "missing", "tagmanifest-sha256.txt", 4, "manifest-sha512.txt"), nullptr)
      << DumpFindings(r);
}

TEST_P(BagTest, BadBagitTxt) {
  bag_.Build();
  struct Case {
    std::string content;
    std::string code;
    uint64_t line;
  };
  std::string v = GetParam();
  std::vector<Case> cases = {
      {"Tag-File-Character-Encoding: UTF-8\nBagIt-Version: " + v + "\n", "bagit_txt_malformed", 1},
      {"BagIt-Version: " + v + "\nTag-File-Character-Encoding: UTF-8\nExtra: line\n",
       "bagit_txt_malformed", 3},
      {"bagit-version: " + v + "\nTag-File-Character-Encoding: UTF-8\n", "bagit_txt_malformed", 1},
      {"BagIt-Version:  " + v + "\nTag-File-Character-Encoding: UTF-8\n", "bagit_txt_malformed", 1},
      {"\xEF\xBB\xBF"
       "BagIt-Version: " +
           v + "\nTag-File-Character-Encoding: UTF-8\n",
       "bagit_txt_malformed", 1},
      {"BagIt-Version: " + v + "\n", "bagit_txt_malformed", 2},
      {"BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n", "unsupported_version", 1},
      {"BagIt-Version: one\nTag-File-Character-Encoding: UTF-8\n", "unsupported_version", 1},
      {"BagIt-Version: " + v + "\nTag-File-Character-Encoding: EBCDIC\n", "unsupported_encoding",
       2},
      {std::string("\x00\x01\xFF\xFEgarbage\n\n\n", 13), "encoding", 1},
      {"", "bagit_txt_malformed", 0},
  };
  for (const Case& c : cases) {
    WriteFile(bag_.Path("bagit.txt"), c.content);
    bag_.WriteTagManifests();
    BagReport r = Validate();
    EXPECT_NE(Find(r.errors, c.code, "bagit.txt", c.line), nullptr)
        << "bagit.txt: '" << c.content << "'\n"
        << DumpFindings(r);
  }
  ASSERT_EQ(::unlink(bag_.Path("bagit.txt").c_str()), 0);
  BagReport r = Validate();
  EXPECT_NE(Find(r.errors, "bagit_txt_missing", "bagit.txt"), nullptr) << DumpFindings(r);
}

TEST_P(BagTest, BagInfoIsLenient) {
  bag_.write_oxum = false;
  bag_.bagging_date = "";
  bag_.extra_info = {"payload-oxum: 3006.3",
                     "Contact-Name: A",
                     "CONTACT-NAME: B",
                     "External-Description: a long",
                     "  description over\tlines",
                     "\tand more",
                     "bagging-date: 2023-02-28T10:00:00Z"};
  bag_.Build();
  BagReport r = Validate();
  EXPECT_TRUE(r.valid()) << DumpFindings(r);
  EXPECT_TRUE(r.warnings.empty()) << DumpFindings(r);
  ASSERT_EQ(r.bag_info.size(), 5u);
  EXPECT_EQ(r.bag_info[3].value, "a long description over\tlines and more");
  ASSERT_TRUE(r.payload_oxum);
  EXPECT_EQ(r.payload_oxum->octets, 3006u);
  ASSERT_TRUE(r.bagging_date_ns);
  EXPECT_EQ(*r.bagging_date_ns, 1677542400LL * 1'000'000'000LL);
}

TEST_P(BagTest, BagInfoGarbage) {
  bag_.extra_info = {"no colon on this line", ": empty label", "Payload-Oxum: 12x.3",
                     "Bagging-Date: next tuesday"};
  bag_.Build();
  BagReport r = Validate();
  EXPECT_NE(Find(r.errors, "bag_info_malformed", "bag-info.txt", 3), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "bag_info_malformed", "bag-info.txt", 4), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "oxum_malformed", "bag-info.txt", 5), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.warnings, "repeated_label", "bag-info.txt", 6), nullptr) << DumpFindings(r);
}

TEST_P(BagTest, ManifestGarbage) {
  bag_.Build();
  std::vector<std::string> lines = bag_.ManifestLines(HashAlgorithm::kSha256);
  lines.push_back("nothex!  data/a.txt");
  lines.push_back("abcd  data/a.txt");  // wrong length for sha256
  lines.push_back(std::string(64, 'a'));
  lines.push_back(std::string(64, 'a') + "  bagit.txt");
  lines.push_back(std::string(64, 'a') + "  data/./sub//b.bin");
  bag_.WriteTag("manifest-sha256.txt", lines);
  bag_.WriteTagManifests();
  BagReport r = Validate();
  const Finding* f = Find(r.errors, "manifest_malformed", "manifest-sha256.txt", 4);
  ASSERT_NE(f, nullptr) << DumpFindings(r);
  EXPECT_GE(f->offset, 0);
  EXPECT_NE(Find(r.errors, "bad_digest", "manifest-sha256.txt", 5), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "manifest_malformed", "manifest-sha256.txt", 6), nullptr)
      << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "outside_payload", "manifest-sha256.txt", 7), nullptr)
      << DumpFindings(r);
  // Non-canonical duplicate of data/sub/b.bin.
  EXPECT_NE(Find(r.warnings, "path_not_canonical", "manifest-sha256.txt", 8), nullptr)
      << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "duplicate_entry", "manifest-sha256.txt", 8), nullptr)
      << DumpFindings(r);
}

TEST_P(BagTest, UnsupportedManifestAlgorithmIsAWarning) {
  bag_.Build();
  WriteFile(bag_.Path("manifest-blake2b.txt"), std::string(128, 'c') + "  data/a.txt\n");
  BagReport r = Validate();
  EXPECT_NE(Find(r.warnings, "unsupported_algorithm", "manifest-blake2b.txt"), nullptr)
      << DumpFindings(r);
  // Completeness still applies to it.
  if (V1()) {
    EXPECT_NE(Find(r.errors, "not_in_manifest", "manifest-blake2b.txt", 0, "data/empty"), nullptr)
        << DumpFindings(r);
  }
}

TEST_P(BagTest, NoPayloadManifestOrDataDir) {
  bag_.Build();
  ::unlink(bag_.Path("manifest-sha256.txt").c_str());
  ::unlink(bag_.Path("manifest-sha512.txt").c_str());
  std::filesystem::remove_all(bag_.Path("data"));
  BagReport r = Validate();
  EXPECT_NE(Find(r.errors, "no_payload_manifest"), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "data_missing"), nullptr) << DumpFindings(r);
}

TEST(BagOldVersionsTest, PackageInfoBefore096) {
  TempDir dir;
  BagBuilder bag(dir / "bag");
  bag.version = "0.95";
  bag.payload["data/x"] = "x";
  bag.Build();
  ASSERT_EQ(::rename(bag.Path("bag-info.txt").c_str(), bag.Path("package-info.txt").c_str()), 0);
  ::unlink(bag.Path("tagmanifest-sha256.txt").c_str());
  BagReport r = ValidateBag(bag.root);
  EXPECT_TRUE(r.valid()) << DumpFindings(r);
  EXPECT_EQ(r.bagging_date, "2024-06-01");
}

TEST(BagRootTest, NotADirectory) {
  BagReport r = ValidateBag("/nonexistent/vigil/bag");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].code, "not_a_bag");
}

// Unicode normalisation (docs/formats.md): "café" composed (NFC, U+00E9)
// and decomposed (NFD, "e" + U+0301) are different bytes for the file
// system; a manifest in one form names a file stored in the other.
constexpr char kNfc[] = "data/caf\xC3\xA9.txt";
constexpr char kNfd[] = "data/cafe\xCC\x81.txt";

TEST_P(BagTest, ManifestNameMatchesFileInOtherNormalisationFormWithWarning) {
  for (auto [listed, stored] : {std::pair{kNfc, kNfd}, std::pair{kNfd, kNfc}}) {
    TempDir d;
    BagBuilder bag(d / "bag");
    bag.version = GetParam();
    bag.payload["data/a.txt"] = "alpha\n";
    bag.payload[listed] = "accented\n";
    bag.Build();
    std::filesystem::rename(bag.Path(listed), bag.Path(stored));
    BagReport r = ValidateBag(bag.root, {.threads = 2});
    EXPECT_TRUE(r.valid()) << DumpFindings(r);
    // The manifest sorts "data/a.txt" first: the accented name is line 2.
    const Finding* w = Find(r.warnings, "unicode_normalization", "manifest-sha256.txt", 2, listed);
    ASSERT_NE(w, nullptr) << DumpFindings(r);
    EXPECT_EQ(Count(r.warnings, "unicode_normalization"), 2u)
        << DumpFindings(r);  // sha256 and sha512
    // Checked as that file: its content is hashed and compared.
    WriteFile(bag.Path(stored), "accenteD\n");
    r = ValidateBag(bag.root, {.threads = 2});
    EXPECT_FALSE(r.valid());
    EXPECT_NE(Find(r.errors, "digest_mismatch", "manifest-sha256.txt", 2), nullptr)
        << DumpFindings(r);
  }
}

TEST_P(BagTest, ExactNameWinsOverNormalisation) {
  // Both forms on disk, the manifest lists the NFC one: that one matches
  // byte for byte, the NFD file is an unlisted payload file.
  bag_.payload[kNfc] = "composed\n";
  bag_.write_oxum = false;  // the extra file would fail Payload-Oxum first
  bag_.Build();
  WriteFile(bag_.Path(kNfd), "decomposed\n");
  BagReport r = Validate();
  EXPECT_EQ(Find(r.warnings, "unicode_normalization"), nullptr) << DumpFindings(r);
  EXPECT_NE(Find(r.errors, "not_in_manifest", "", 0, kNfd), nullptr) << DumpFindings(r);
  EXPECT_EQ(Find(r.errors, "digest_mismatch"), nullptr) << DumpFindings(r);
}

}  // namespace
}  // namespace vigil::formats
