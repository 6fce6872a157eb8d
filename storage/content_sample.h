// What a worker saw of a file's content while hashing it: the format its
// first bytes announce (magic number) and how random a sample of its bytes
// looks (byte entropy). Ransomware signals (services/contracts/signals.h)
// compare them between restore points: a file whose previous version was
// structured (its extension's format, or low entropy) and whose new version
// is random is what in-place encryption leaves behind.
//
// The sample rides on the read the hasher does anyway (FileHasher): the
// first block and a block from the middle of the file, never an extra read.
// A record without a sample (kNotSampled: written before samples existed,
// a restic snapshot file, a metadata-only listing) is simply not judged on
// content.
//
// Plain values and constexpr tables: thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace vigil::storage {

// Persisted (catalogue entry records, Observation.sample.format): append
// only, never renumber.
enum class FileFormat : uint8_t {
  kNotSampled = 0,  // no sample taken
  kUnknown = 1,     // sampled; the first bytes match no known magic number
  kPdf = 2,         // "%PDF-"
  kZip = 3,         // "PK\3\4": zip, and Office Open XML (docx, xlsx, pptx), odt, jar
  kOle2 = 4,        // D0 CF 11 E0 A1 B1 1A E1: legacy Office (doc, xls, ppt), msg
  kJpeg = 5,        // FF D8 FF
  kPng = 6,         // 89 "PNG" 0D 0A 1A 0A
  kGif = 7,         // "GIF87a" / "GIF89a"
  kSqlite = 8,      // "SQLite format 3\0"
  kPst = 9,         // "!BDN": Outlook pst/ost
  kGzip = 10,       // 1F 8B
  kZstd = 11,       // 28 B5 2F FD
  kXz = 12,         // FD "7zXZ" 00
  k7z = 13,         // "7z" BC AF 27 1C
  kRar = 14,        // "Rar!" 1A 07
  kBzip2 = 15,      // "BZh"
  kElf = 16,        // 7F "ELF"
  kPe = 17,         // "MZ": Windows executables and DLLs
  kMp4 = 18,        // "ftyp" at offset 4: mp4, mov, m4a, heic
  kTiff = 19,       // "II*\0" / "MM\0*"
  kRtf = 20,        // "{\rtf"
  kXml = 21,        // "<?xml"
};

// "not-sampled", "unknown", "pdf", "zip", ...
std::string_view FileFormatName(FileFormat f);

// The format a file of this name should hold, by its last extension
// (case-insensitive): "report.docx" -> kZip, "a.pdf" -> kPdf. kUnknown when
// the extension is not in the table (or there is none): such a file is
// judged by entropy alone.
FileFormat ExpectedFormat(std::string_view path);

// Formats whose content is compressed or encrypted by nature (zip, jpeg,
// png, gzip, 7z ...): a high entropy there is normal and says nothing.
bool RandomByNature(FileFormat f);

// The sample of one file's content. `entropy` is the Shannon entropy of the
// sampled bytes in 1/16 bit per byte (0..128; 128 = 8 bits per byte,
// uniformly random); meaningful only when format != kNotSampled.
struct ContentSample {
  FileFormat format = FileFormat::kNotSampled;
  uint8_t entropy = 0;

  bool sampled() const { return format != FileFormat::kNotSampled; }
  friend bool operator==(const ContentSample&, const ContentSample&) = default;
};

// The format the first bytes of a file announce (its magic number, above):
// kUnknown when none matches, and for a file shorter than the magic.
FileFormat DetectFormat(std::string_view first_bytes);

// How many first bytes DetectFormat looks at, at most.
inline constexpr size_t kMagicBytes = 16;

// The Shannon entropy of `bytes` in ContentSample units (1/16 bit per byte,
// rounded, 0..128); 0 for no bytes. A small sample of random bytes reads a
// little below 128 (n bytes: about 128 - 2943 / n; 122 at 512 bytes, 125
// at 1 KiB, 127 at 2 KiB, 128 from about 6 KiB).
uint8_t ByteEntropy(std::string_view bytes);

// Takes a file's sample from the reads that hash it (FileHasher): the first
// block (kBlockBytes, or the whole file if smaller) and the block at
// size / 2, each from whichever read buffer covers it; no read of its own.
// The two blocks never overlap: for a file under 2 blocks the middle one
// starts where the first ends, so a small file is sampled whole, once.
// Costs one 256-entry histogram over at most 2 blocks per file: about
// 0.25 ns per byte counted plus 0.2 us per file, hot. A block is 1 KiB, not
// 4: a re-verify of 200,000 files of 1-8 KiB spends about 12 us of CPU per
// file, and the sample still adds about 13 % (docs/BENCHMARKS.md,
// "Issue 19").
//
//   sampler.Start(size);
//   for each read: sampler.Feed(offset, buffer);   // offsets ascending
//   ContentSample s = sampler.Finish();
//
// Not thread-safe: one per hashing thread (FileHasher owns one).
class ContentSampler {
 public:
  static constexpr uint64_t kBlockBytes = 1024;

  // A new file of `size` bytes (its fstat size). 0 is not trusted as
  // empty (FileHasher reads such a file to EOF): the first block only.
  void Start(uint64_t size);
  // The `bytes` read at `offset`, in ascending offsets, no gap; bytes
  // outside the two blocks are ignored.
  void Feed(uint64_t offset, std::span<const uint8_t> bytes);
  // The sample of what was fed (format from the first bytes, entropy over
  // both blocks); a file that was shorter than its size is sampled as far
  // as it was read.
  ContentSample Finish() const;
  // Bytes counted so far (at most 2 blocks).
  uint32_t sampled_bytes() const { return total_; }

 private:
  void Count(const uint8_t* p, size_t n);

  uint64_t first_end_ = 0;  // [0, first_end_)
  uint64_t mid_begin_ = 0, mid_end_ = 0;
  // Four histograms counted in turn (no store-to-load dependency between
  // consecutive equal bytes), summed by Finish. uint16_t: at most 2 blocks.
  std::array<std::array<uint16_t, 256>, 4> counts_{};
  uint32_t total_ = 0;
  std::array<uint8_t, kMagicBytes> head_{};
  size_t head_size_ = 0;
};

}  // namespace vigil::storage
