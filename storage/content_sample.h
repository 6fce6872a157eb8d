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

#include <cstdint>
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

}  // namespace vigil::storage
