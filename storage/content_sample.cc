#include "storage/content_sample.h"

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
