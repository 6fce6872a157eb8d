// storage/content_sample.h: which format a file name announces, which
// formats are random by nature, the magic numbers, byte entropy, and the
// sampler that takes the first and middle blocks from the hasher's reads
// (also through FileHasher on real files: storage/file_hasher.h).
#include "storage/content_sample.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "storage/file_hasher.h"
#include "tests/storage/test_util.h"
#include "tests/support/random_bytes.h"

namespace vigil::storage {
namespace {

TEST(ExpectedFormat, ByLastExtensionCaseInsensitive) {
  EXPECT_EQ(ExpectedFormat("clients/report.docx"), FileFormat::kZip);
  EXPECT_EQ(ExpectedFormat("SCAN.PDF"), FileFormat::kPdf);
  EXPECT_EQ(ExpectedFormat("a/b/photo.JpEg"), FileFormat::kJpeg);
  EXPECT_EQ(ExpectedFormat("mail/archive.pst"), FileFormat::kPst);
  // The last extension counts: an encrypted copy's added one is unknown.
  EXPECT_EQ(ExpectedFormat("report.docx.lockbit"), FileFormat::kUnknown);
  EXPECT_EQ(ExpectedFormat("archive.tar.gz"), FileFormat::kGzip);
}

TEST(ExpectedFormat, NoExtensionIsUnknown) {
  EXPECT_EQ(ExpectedFormat("Makefile"), FileFormat::kUnknown);
  EXPECT_EQ(ExpectedFormat(".bashrc"), FileFormat::kUnknown);
  EXPECT_EQ(ExpectedFormat("name."), FileFormat::kUnknown);
  EXPECT_EQ(ExpectedFormat("dir.pdf/notes"), FileFormat::kUnknown);
  EXPECT_EQ(ExpectedFormat(""), FileFormat::kUnknown);
}

TEST(RandomByNature, CompressedFormatsOnly) {
  EXPECT_TRUE(RandomByNature(FileFormat::kZip));
  EXPECT_TRUE(RandomByNature(FileFormat::kJpeg));
  EXPECT_TRUE(RandomByNature(FileFormat::k7z));
  EXPECT_FALSE(RandomByNature(FileFormat::kPdf));
  EXPECT_FALSE(RandomByNature(FileFormat::kSqlite));
  EXPECT_FALSE(RandomByNature(FileFormat::kUnknown));
  EXPECT_FALSE(RandomByNature(FileFormat::kNotSampled));
}

TEST(FileFormatName, EveryFormatHasAName) {
  EXPECT_EQ(FileFormatName(FileFormat::kNotSampled), "not-sampled");
  EXPECT_EQ(FileFormatName(FileFormat::kOle2), "ole2");
  EXPECT_EQ(FileFormatName(FileFormat::kXml), "xml");
}

using namespace std::string_view_literals;

TEST(DetectFormat, EveryMagicNumber) {
  struct Case {
    std::string_view head;
    FileFormat format;
  };
  const Case cases[] = {
      {"%PDF-1.7\n"sv, FileFormat::kPdf},
      {"PK\x03\x04\x14\x00"sv, FileFormat::kZip},
      {"PK\x05\x06"sv, FileFormat::kZip},
      {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00"sv, FileFormat::kOle2},
      {"\xFF\xD8\xFF\xE0"sv, FileFormat::kJpeg},
      {"\x89PNG\r\n\x1A\n\x00\x00"sv, FileFormat::kPng},
      {"GIF87a"sv, FileFormat::kGif},
      {"GIF89a\x01\x00"sv, FileFormat::kGif},
      {"SQLite format 3\0\x10\x00"sv, FileFormat::kSqlite},
      {"!BDN\x01\x02"sv, FileFormat::kPst},
      {"\x1F\x8B\x08"sv, FileFormat::kGzip},
      {"\x28\xB5\x2F\xFD\x00"sv, FileFormat::kZstd},
      {"\xFD"
       "7zXZ\0\x00"sv,
       FileFormat::kXz},
      {"7z\xBC\xAF\x27\x1C\x00\x04"sv, FileFormat::k7z},
      {"Rar!\x1A\x07\x01\x00"sv, FileFormat::kRar},
      {"BZh91AY"sv, FileFormat::kBzip2},
      {"\x7F"
       "ELF\x02\x01"sv,
       FileFormat::kElf},
      {"MZ\x90\x00"sv, FileFormat::kPe},
      {"\x00\x00\x00\x18"
       "ftypmp42"sv,
       FileFormat::kMp4},
      {"II*\0\x08\x00"sv, FileFormat::kTiff},
      {"MM\0*\x00\x00"sv, FileFormat::kTiff},
      {"{\\rtf1\\ansi"sv, FileFormat::kRtf},
      {"<?xml version=\"1.0\"?>"sv, FileFormat::kXml},
      {"\xEF\xBB\xBF<?xml version"sv, FileFormat::kXml},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DetectFormat(c.head), c.format) << FileFormatName(c.format);
  }
  // Every format but the two without a magic is detected by some case.
  for (int f = 2; f <= static_cast<int>(FileFormat::kXml); ++f) {
    bool seen = false;
    for (const Case& c : cases) seen = seen || c.format == static_cast<FileFormat>(f);
    EXPECT_TRUE(seen) << "no case for format " << f;
  }
}

TEST(DetectFormat, NoMagicOrTooShortIsUnknown) {
  EXPECT_EQ(DetectFormat(""), FileFormat::kUnknown);
  EXPECT_EQ(DetectFormat("hello, world\n"), FileFormat::kUnknown);
  EXPECT_EQ(DetectFormat(vigil::testing::Bytes(4096, 7).replace(0, 2, "\x01\x02")),
            FileFormat::kUnknown);
  // Shorter than the magic: a prefix of it is not the format.
  EXPECT_EQ(DetectFormat("%PDF"), FileFormat::kUnknown);
  EXPECT_EQ(DetectFormat("SQLite format 3"), FileFormat::kUnknown);  // no NUL yet
  EXPECT_EQ(DetectFormat("\x89PNG\r\n\x1A"sv), FileFormat::kUnknown);
  EXPECT_EQ(DetectFormat("\x00\x00\x00\x18"
                         "fty"sv),
            FileFormat::kUnknown);
  EXPECT_EQ(DetectFormat("GIF88a"), FileFormat::kUnknown);
  // Magic numbers count at their offset only.
  EXPECT_EQ(DetectFormat(" %PDF-1.4"), FileFormat::kUnknown);
  EXPECT_EQ(DetectFormat("ftypmp42"), FileFormat::kUnknown);
}

constexpr std::string_view kEnglish =
    "When ransomware reaches a client, its backups keep running: the next restore points "
    "faithfully hold encrypted files, renamed files and ransom notes, and every hash check "
    "passes. The question the provider and the client ask that morning is which point to "
    "restore. The catalogue already knows, per point, every path, size and digest, and the "
    "hash index knows where a digest went, so most signals are nearly free. ";

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  while (out.size() < n) out.append(s);
  out.resize(n);
  return out;
}

TEST(ByteEntropy, KnownDistributions) {
  EXPECT_EQ(ByteEntropy(""), 0);
  EXPECT_EQ(ByteEntropy(std::string(8192, '\0')), 0);
  EXPECT_EQ(ByteEntropy(std::string(4096, 'a') + std::string(4096, 'b')), 16);  // 1 bit
  std::string all;
  for (int i = 0; i < 32; ++i) {
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  }
  EXPECT_EQ(ByteEntropy(all), 128);  // every byte equally often: 8 bits
  EXPECT_GE(ByteEntropy(vigil::testing::Bytes(8192, 1)), 126);
  EXPECT_GE(ByteEntropy(vigil::testing::Bytes(4096, 2)), 126);
  const uint8_t text = ByteEntropy(Repeat(kEnglish, 4096));
  EXPECT_GE(text, 64);  // English: about 4 to 5 bits per byte
  EXPECT_LE(text, 80);
}

// Feeds `content` to a sampler in reads of `buffer` bytes, as FileHasher does.
ContentSampler SampleInReads(std::string_view content, uint64_t size, size_t buffer) {
  ContentSampler s;
  s.Start(size);
  for (size_t off = 0; off < content.size(); off += buffer) {
    std::string_view part = content.substr(off, buffer);
    s.Feed(off, {reinterpret_cast<const uint8_t*>(part.data()), part.size()});
  }
  return s;
}

constexpr size_t kBlock = ContentSampler::kBlockBytes;

// A file of `size` random bytes whose first block starts with "%PDF-" and is
// otherwise 'a', and whose block at size / 2 is 'b': a sampler that takes
// exactly these two blocks sees about one bit per byte.
std::string Marked(size_t size) {
  std::string c = vigil::testing::Bytes(size, size);
  const size_t first = std::min<size_t>(size, kBlock);
  c.replace(0, first, std::string(first, 'a'));
  c.replace(0, std::min<size_t>(size, 5),
            std::string_view("%PDF-").substr(0, std::min<size_t>(size, 5)));
  const size_t mid = std::max(size / 2, first);
  const size_t mid_end = std::min(size / 2 + kBlock, size);
  if (mid < mid_end) c.replace(mid, mid_end - mid, std::string(mid_end - mid, 'b'));
  return c;
}

TEST(ContentSampler, FirstAndMiddleBlockWhateverTheReadSize) {
  const size_t kMiB = 1 << 20;
  const std::string big = Marked(3 * kMiB);
  const std::string expected = big.substr(0, kBlock) + big.substr(3 * kMiB / 2, kBlock);
  for (size_t buffer : {kMiB, size_t{4096}, size_t{3000}, size_t{7}}) {
    ContentSampler s = SampleInReads(big, big.size(), buffer);
    EXPECT_EQ(s.sampled_bytes(), 2 * kBlock) << buffer;
    ContentSample got = s.Finish();
    EXPECT_EQ(got.format, FileFormat::kPdf) << buffer;
    EXPECT_EQ(got.entropy, ByteEntropy(expected)) << buffer;
    EXPECT_LE(got.entropy, 17) << buffer;  // 'a' and 'b': one bit, not the random rest
  }
}

TEST(ContentSampler, SmallFilesAreSampledWholeOnce) {
  // Under two blocks: the middle block starts where the first ends.
  const std::string small = Marked(kBlock + kBlock / 2);
  for (size_t buffer : {size_t{1} << 20, size_t{4096}, size_t{1000}}) {
    ContentSampler s = SampleInReads(small, small.size(), buffer);
    EXPECT_EQ(s.sampled_bytes(), small.size()) << buffer;
    EXPECT_EQ(s.Finish(), (ContentSample{FileFormat::kPdf, ByteEntropy(small)})) << buffer;
  }
  // 5 KiB: the first block and the one at 2.5 KiB.
  const std::string five = Marked(5 * 1024);
  for (size_t buffer : {size_t{1} << 20, size_t{4096}, size_t{1000}}) {
    ContentSampler s = SampleInReads(five, five.size(), buffer);
    EXPECT_EQ(s.sampled_bytes(), 2 * kBlock) << buffer;
    EXPECT_EQ(s.Finish(), (ContentSample{FileFormat::kPdf, ByteEntropy(five.substr(0, kBlock) +
                                                                       five.substr(2560, kBlock))}))
        << buffer;
  }
  const std::string tiny = "%PDF-1";
  EXPECT_EQ(SampleInReads(tiny, tiny.size(), 4096).Finish(),
            (ContentSample{FileFormat::kPdf, ByteEntropy(tiny)}));
  ContentSampler empty = SampleInReads("", 0, 4096);
  EXPECT_EQ(empty.sampled_bytes(), 0u);
  EXPECT_EQ(empty.Finish(), (ContentSample{FileFormat::kUnknown, 0}));
  EXPECT_TRUE(empty.Finish().sampled());
}

TEST(ContentSampler, UnknownSizeTakesTheFirstBlockOnly) {
  // fstat size 0 (not trusted, read to EOF): no middle to aim at.
  const std::string c = Marked(64 * 1024);
  ContentSampler s = SampleInReads(c, 0, 4096);
  EXPECT_EQ(s.sampled_bytes(), kBlock);
  EXPECT_EQ(s.Finish().entropy, ByteEntropy(c.substr(0, kBlock)));
}

// Through FileHasher on real files: the sample of what it read, from the
// same buffers, and not one byte more read than the file holds.
class HasherSampleTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

// Bytes this process has read with read(2) so far (/proc/self/io rchar),
// and the bytes the read of /proc/self/io itself then added.
bool ReadChars(uint64_t* rchar, uint64_t* own) {
  int fd = ::open("/proc/self/io", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  *own = static_cast<uint64_t>(n);
  return std::sscanf(buf, "rchar: %lu", rchar) == 1;
}

TEST_F(HasherSampleTest, SampleOfTheBytesReadAndNothingMoreRead) {
  const size_t kMiB = 1 << 20;
  struct Case {
    size_t size, buffer;
  };
  for (Case c : {Case{3 * kMiB, kMiB}, Case{3 * kMiB, 4096}, Case{3 * kMiB, 3000},
                 Case{5 * 1024, kMiB}, Case{1536, kMiB}, Case{0, kMiB}}) {
    SCOPED_TRACE(std::to_string(c.size) + " bytes, reads of " + std::to_string(c.buffer));
    const std::string content = Marked(c.size);
    const std::string path = dir_.path() + "/f" + std::to_string(c.size);
    testing::WriteFile(path, content);
    FileHasher hasher(HashAlgorithm::kXxh3_128, c.buffer);
    uint64_t before = 0, own = 0, after = 0, own2 = 0;
    const bool io = ReadChars(&before, &own);
    FileReading r = hasher.Read(AT_FDCWD, path.c_str(), c.size);
    ASSERT_TRUE(r.ok) << r.error_text;
    EXPECT_EQ(r.bytes, c.size);
    EXPECT_EQ(r.digest, HashBytes(HashAlgorithm::kXxh3_128, content));
    if (io && ReadChars(&after, &own2)) {
      // read(2) bytes between the two looks: the first look's own, then
      // the file's, exactly (a file of 0 bytes is read once to EOF).
      EXPECT_EQ(after - before, own + c.size);
    }
    const std::string expected =
        c.size >= 2 * kBlock ? content.substr(0, kBlock) + content.substr(c.size / 2, kBlock)
                             : content;
    EXPECT_EQ(r.sample, (ContentSample{c.size >= 5 ? FileFormat::kPdf : FileFormat::kUnknown,
                                       ByteEntropy(expected)}));
  }
}

TEST_F(HasherSampleTest, RandomFileIsHighPdfIsLow) {
  const std::string rnd = dir_.path() + "/random.bin";
  testing::WriteFile(rnd, vigil::testing::Bytes(1 << 20, 99));
  const std::string pdf = dir_.path() + "/a.pdf";
  testing::WriteFile(pdf, "%PDF-1.7\n" + Repeat(kEnglish, 20000));
  FileHasher hasher(HashAlgorithm::kXxh3_128);
  FileReading r = hasher.Read(AT_FDCWD, rnd.c_str(), 1 << 20);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.sample.format, FileFormat::kUnknown);
  EXPECT_GE(r.sample.entropy, 126);
  r = hasher.Read(AT_FDCWD, pdf.c_str(), 0);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.sample.format, FileFormat::kPdf);
  EXPECT_LE(r.sample.entropy, 80);
}

TEST_F(HasherSampleTest, NoSampleWithoutARead) {
  const std::string path = dir_.path() + "/linked";
  testing::WriteFile(path, "%PDF-1.4 content");
  ASSERT_EQ(::link(path.c_str(), (dir_.path() + "/other").c_str()), 0);
  FileHasher hasher(HashAlgorithm::kXxh3_128);
  FileReading r = hasher.Read(AT_FDCWD, path.c_str(), 16, false, /*skip_hard_linked=*/true);
  EXPECT_TRUE(r.skipped_hard_linked);
  EXPECT_FALSE(r.sample.sampled());
  r = hasher.Read(AT_FDCWD, (dir_.path() + "/absent").c_str(), 0);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.sample.sampled());
}

}  // namespace
}  // namespace vigil::storage
