#include "storage/content_sample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "base/name_table.h"

namespace vigil::storage {

namespace {

constexpr NameRow<FileFormat> kFileFormatNames[] = {
    {FileFormat::kNotSampled, "not-sampled"},
    {FileFormat::kUnknown, "unknown"},
    {FileFormat::kPdf, "pdf"},
    {FileFormat::kZip, "zip"},
    {FileFormat::kOle2, "ole2"},
    {FileFormat::kJpeg, "jpeg"},
    {FileFormat::kPng, "png"},
    {FileFormat::kGif, "gif"},
    {FileFormat::kSqlite, "sqlite"},
    {FileFormat::kPst, "pst"},
    {FileFormat::kGzip, "gzip"},
    {FileFormat::kZstd, "zstd"},
    {FileFormat::kXz, "xz"},
    {FileFormat::k7z, "7z"},
    {FileFormat::kRar, "rar"},
    {FileFormat::kBzip2, "bzip2"},
    {FileFormat::kElf, "elf"},
    {FileFormat::kPe, "pe"},
    {FileFormat::kMp4, "mp4"},
    {FileFormat::kTiff, "tiff"},
    {FileFormat::kRtf, "rtf"},
    {FileFormat::kXml, "xml"},
};
static_assert(CoversEnum(kFileFormatNames));

struct ExtensionRow {
  const char* extension;  // lower case, without the dot
  FileFormat format;
};

constexpr ExtensionRow kExtensions[] = {
    {"pdf", FileFormat::kPdf},        {"zip", FileFormat::kZip},   {"docx", FileFormat::kZip},
    {"xlsx", FileFormat::kZip},       {"pptx", FileFormat::kZip},  {"docm", FileFormat::kZip},
    {"xlsm", FileFormat::kZip},       {"odt", FileFormat::kZip},   {"ods", FileFormat::kZip},
    {"odp", FileFormat::kZip},        {"jar", FileFormat::kZip},   {"epub", FileFormat::kZip},
    {"doc", FileFormat::kOle2},       {"xls", FileFormat::kOle2},  {"ppt", FileFormat::kOle2},
    {"msg", FileFormat::kOle2},       {"jpg", FileFormat::kJpeg},  {"jpeg", FileFormat::kJpeg},
    {"png", FileFormat::kPng},        {"gif", FileFormat::kGif},   {"sqlite", FileFormat::kSqlite},
    {"sqlite3", FileFormat::kSqlite}, {"db", FileFormat::kSqlite}, {"pst", FileFormat::kPst},
    {"ost", FileFormat::kPst},        {"gz", FileFormat::kGzip},   {"tgz", FileFormat::kGzip},
    {"zst", FileFormat::kZstd},       {"xz", FileFormat::kXz},     {"7z", FileFormat::k7z},
    {"rar", FileFormat::kRar},        {"bz2", FileFormat::kBzip2}, {"so", FileFormat::kElf},
    {"exe", FileFormat::kPe},         {"dll", FileFormat::kPe},    {"mp4", FileFormat::kMp4},
    {"mov", FileFormat::kMp4},        {"m4a", FileFormat::kMp4},   {"heic", FileFormat::kMp4},
    {"tif", FileFormat::kTiff},       {"tiff", FileFormat::kTiff}, {"rtf", FileFormat::kRtf},
    {"xml", FileFormat::kXml},
};

bool EqualsLower(std::string_view s, const char* lower) {
  size_t i = 0;
  for (; lower[i] != '\0'; ++i) {
    if (i >= s.size()) return false;
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return i == s.size();
}

// The magic numbers (content_sample.h), checked in order: the first that
// matches names the format.
struct MagicRow {
  size_t offset;
  std::string_view magic;
  FileFormat format;
};

using namespace std::string_view_literals;

constexpr MagicRow kMagics[] = {
    {0, "%PDF-"sv, FileFormat::kPdf},
    {0, "PK\x03\x04"sv, FileFormat::kZip},
    {0, "PK\x05\x06"sv, FileFormat::kZip},  // an empty archive
    {0, "PK\x07\x08"sv, FileFormat::kZip},  // a spanned archive
    {0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"sv, FileFormat::kOle2},
    {0, "\xFF\xD8\xFF"sv, FileFormat::kJpeg},
    {0, "\x89PNG\r\n\x1A\n"sv, FileFormat::kPng},
    {0, "GIF87a"sv, FileFormat::kGif},
    {0, "GIF89a"sv, FileFormat::kGif},
    {0, "SQLite format 3\0"sv, FileFormat::kSqlite},
    {0, "!BDN"sv, FileFormat::kPst},
    {0, "\x1F\x8B"sv, FileFormat::kGzip},
    {0, "\x28\xB5\x2F\xFD"sv, FileFormat::kZstd},
    {0,
     "\xFD"
     "7zXZ\0"sv,
     FileFormat::kXz},
    {0, "7z\xBC\xAF\x27\x1C"sv, FileFormat::k7z},
    {0, "Rar!\x1A\x07"sv, FileFormat::kRar},
    {0, "BZh"sv, FileFormat::kBzip2},
    {0,
     "\x7F"
     "ELF"sv,
     FileFormat::kElf},
    {0, "MZ"sv, FileFormat::kPe},
    {4, "ftyp"sv, FileFormat::kMp4},
    {0, "II*\0"sv, FileFormat::kTiff},
    {0, "MM\0*"sv, FileFormat::kTiff},
    {0, "{\\rtf"sv, FileFormat::kRtf},
    {0, "<?xml"sv, FileFormat::kXml},
    {0, "\xEF\xBB\xBF<?xml"sv, FileFormat::kXml},  // after a UTF-8 byte order mark
};
static_assert(std::all_of(std::begin(kMagics), std::end(kMagics), [](const MagicRow& m) {
  return m.offset + m.magic.size() <= kMagicBytes;
}));

// c * log2(c) for every count a sample can hold (at most two blocks), so
// that the entropy of a sample costs 256 look-ups, not 256 logarithms.
const std::array<float, 2 * ContentSampler::kBlockBytes + 1>& CLog2C() {
  static const auto table = [] {
    std::array<float, 2 * ContentSampler::kBlockBytes + 1> t{};
    for (size_t c = 1; c < t.size(); ++c) {
      t[c] = static_cast<float>(static_cast<double>(c) * std::log2(static_cast<double>(c)));
    }
    return t;
  }();
  return table;
}

// Shannon entropy of a histogram of `total` bytes, in 1/16 bit per byte:
// log2(n) - sum(c log2 c) / n.
uint8_t EntropyOfCounts(const uint32_t* counts, uint32_t total) {
  if (total == 0) return 0;
  double sum = 0;
  if (total < CLog2C().size()) {
    // Four sums in turn: no chain of 256 dependent additions.
    const auto& t = CLog2C();
    double s[4] = {0, 0, 0, 0};
    for (int i = 0; i < 256; i += 4) {
      s[0] += t[counts[i]];
      s[1] += t[counts[i + 1]];
      s[2] += t[counts[i + 2]];
      s[3] += t[counts[i + 3]];
    }
    sum = (s[0] + s[1]) + (s[2] + s[3]);
  } else {
    for (int i = 0; i < 256; ++i) {
      if (counts[i] != 0) sum += counts[i] * std::log2(static_cast<double>(counts[i]));
    }
  }
  const double n = total;
  const double bits = std::log2(n) - sum / n;
  const long units = std::lround(bits * 16);
  return static_cast<uint8_t>(std::clamp(units, 0L, 128L));
}

}  // namespace

std::string_view FileFormatName(FileFormat f) { return NameOf(kFileFormatNames, f, "unknown"); }

FileFormat ExpectedFormat(std::string_view path) {
  const size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) {
    return FileFormat::kUnknown;
  }
  const std::string_view ext = name.substr(dot + 1);
  for (const ExtensionRow& row : kExtensions) {
    if (EqualsLower(ext, row.extension)) return row.format;
  }
  return FileFormat::kUnknown;
}

FileFormat DetectFormat(std::string_view first) {
  for (const MagicRow& m : kMagics) {
    if (first.size() >= m.offset + m.magic.size() &&
        first.compare(m.offset, m.magic.size(), m.magic) == 0) {
      return m.format;
    }
  }
  return FileFormat::kUnknown;
}

uint8_t ByteEntropy(std::string_view bytes) {
  uint32_t counts[256] = {};
  for (char c : bytes) ++counts[static_cast<uint8_t>(c)];
  if (bytes.size() > UINT32_MAX) return 0;  // not a sample: never that large
  return EntropyOfCounts(counts, static_cast<uint32_t>(bytes.size()));
}

void ContentSampler::Start(uint64_t size) {
  first_end_ = size == 0 ? kBlockBytes : std::min(size, kBlockBytes);
  mid_begin_ = std::max(size / 2, first_end_);
  mid_end_ = std::max(mid_begin_, std::min(size / 2 + kBlockBytes, size));
  for (auto& c : counts_) c.fill(0);
  total_ = 0;
  head_size_ = 0;
}

void ContentSampler::Count(const uint8_t* p, size_t n) {
  total_ += static_cast<uint32_t>(n);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    ++counts_[0][p[i]];
    ++counts_[1][p[i + 1]];
    ++counts_[2][p[i + 2]];
    ++counts_[3][p[i + 3]];
  }
  for (; i < n; ++i) ++counts_[0][p[i]];
}

void ContentSampler::Feed(uint64_t offset, std::span<const uint8_t> bytes) {
  const uint64_t end = offset + bytes.size();
  if (offset < kMagicBytes && head_size_ == offset) {
    const size_t n = std::min<uint64_t>(kMagicBytes, end) - offset;
    std::memcpy(head_.data() + head_size_, bytes.data(), n);
    head_size_ += n;
  }
  // Each block's part inside [offset, end).
  for (auto [b, e] : {std::pair{uint64_t{0}, first_end_}, std::pair{mid_begin_, mid_end_}}) {
    const uint64_t from = std::max(b, offset), to = std::min(e, end);
    if (from < to) Count(bytes.data() + (from - offset), static_cast<size_t>(to - from));
  }
}

ContentSample ContentSampler::Finish() const {
  uint32_t counts[256];
  for (int i = 0; i < 256; ++i) {
    counts[i] = uint32_t{counts_[0][i]} + counts_[1][i] + counts_[2][i] + counts_[3][i];
  }
  ContentSample s;
  s.format = DetectFormat({reinterpret_cast<const char*>(head_.data()), head_size_});
  s.entropy = EntropyOfCounts(counts, total_);
  return s;
}

bool RandomByNature(FileFormat f) {
  switch (f) {
    case FileFormat::kZip:
    case FileFormat::kJpeg:
    case FileFormat::kPng:
    case FileFormat::kGif:
    case FileFormat::kGzip:
    case FileFormat::kZstd:
    case FileFormat::kXz:
    case FileFormat::k7z:
    case FileFormat::kRar:
    case FileFormat::kBzip2:
    case FileFormat::kMp4:
      return true;
    default:
      return false;
  }
}

}  // namespace vigil::storage
