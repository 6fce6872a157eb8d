// Parsers of a BagIt bag's tag files (RFC 8493 and the drafts from 0.93 to
// 0.97; docs/formats.md): bagit.txt (strictly), bag-info.txt (leniently),
// payload and tag manifests, fetch.txt. Each takes the file's raw bytes and
// reports problems as findings naming the file, line and byte offset; the
// result is always usable to go on. The validator of a whole bag (bagit.h)
// uses them; tests/fuzz/fuzz_bagit_*.cc feed them garbage.
//
// Nothing here touches the file system or throws. Thread-safe (no state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "services/worker/formats/finding.h"
#include "services/worker/formats/text_lines.h"
#include "storage/hash.h"

namespace vigil::formats {

// The tag files of a bag that have one name.
inline constexpr char kBagitTxt[] = "bagit.txt";
inline constexpr char kFetchTxt[] = "fetch.txt";

// A BagIt version as a number that orders versions: 1.0 -> 100, 0.97 -> 97.
inline int VersionNumber(int major, int minor) { return major * 100 + minor; }

// ---- bagit.txt ----------------------------------------------------------

struct BagDeclaration {
  std::string version;  // as declared, "1.0"; empty if unreadable
  int major = 1, minor = 0;
  bool version_ok = false;  // a supported version (0.93 to 1.0)
  std::string encoding_name;
  TextEncoding encoding = TextEncoding::kUtf8;
  bool encoding_ok = false;
};

// Parses the raw bytes of bagit.txt. Problems go to *out (file "bagit.txt");
// the result is always usable to go on (1.0 and UTF-8 when unreadable).
BagDeclaration ParseBagDeclaration(std::string_view raw, Findings* out);

// ---- bag-info.txt -------------------------------------------------------

struct PayloadOxum {
  uint64_t octets = 0;
  uint64_t streams = 0;
};
// "OctetCount.StreamCount", decimal digits only.
std::optional<PayloadOxum> ParsePayloadOxum(std::string_view value);
// "YYYY-MM-DD", optionally followed by 'T' or ' ' and a time (ignored):
// midnight UTC of that day, in nanoseconds since the epoch.
std::optional<int64_t> ParseBaggingDate(std::string_view value);

struct BagInfoField {
  std::string label;
  std::string value;  // continuation lines joined with one space
  uint64_t line = 0;
};

struct BagInfo {
  std::vector<BagInfoField> fields;  // in file order, repeated labels kept
  std::optional<PayloadOxum> oxum;
  uint64_t oxum_line = 0;
  std::string bagging_date;  // as written
  uint64_t bagging_date_line = 0;
  std::optional<int64_t> bagging_date_ns;
};

// Parses bag-info.txt in the declared encoding. Problems go to *out.
BagInfo ParseBagInfo(std::string_view raw, TextEncoding encoding, const std::string& file,
                     Findings* out);

// ---- manifests ----------------------------------------------------------

struct ManifestLine {
  std::string_view digest;
  std::string_view path;  // still percent-encoded
  size_t path_column = 0;
  size_t separator = 0;  // length of the whitespace between digest and path
};

// Splits one decoded manifest line into its digest and path. On failure
// returns false with *error and *column (0-based, in the decoded line).
bool ParseManifestLine(std::string_view line, ManifestLine* out, std::string* error,
                       size_t* column);

// Decodes %0A, %0D and %25 (hex digits in either case) and nothing else.
std::string PercentDecodePath(std::string_view path);

enum class ManifestKind { kPayload, kTag };

struct ManifestEntry {
  std::string path;  // decoded, canonical: "data/a.txt"
  std::string digest_hex;
  storage::Digest digest;  // empty for an unsupported algorithm
  uint64_t line = 0;
};

struct Manifest {
  std::string file;  // "manifest-sha256.txt"
  ManifestKind kind = ManifestKind::kPayload;
  std::string algorithm_name;                       // from the file name
  std::optional<storage::HashAlgorithm> algorithm;  // nullopt: not supported
  std::vector<ManifestEntry> entries;
  std::unordered_map<std::string, size_t> index;  // path -> entries[i]
};

// "manifest-sha256.txt" -> kPayload, "sha256"; nullopt for other names.
std::optional<std::pair<ManifestKind, std::string>> ManifestFileName(std::string_view name);
// Algorithm for a manifest file name's <alg>: the RFC names md5, sha1,
// sha224, sha256, sha384, sha512 (and, with a warning, other spellings such
// as SHA256 or sha-256). nullopt: not supported.
std::optional<storage::HashAlgorithm> ManifestAlgorithm(std::string_view name, bool* nonstandard);

// Parses a manifest's raw bytes: decoding, line syntax, digest length, path
// rules (escaping paths rejected, payload paths under data/, tag paths not),
// duplicate entries. Bad lines are reported in *out and left out.
Manifest ParseManifest(std::string_view raw, const std::string& file, ManifestKind kind,
                       std::optional<storage::HashAlgorithm> algorithm, TextEncoding encoding,
                       Findings* out);

// ---- fetch.txt ----------------------------------------------------------

struct FetchEntry {
  std::string url;
  std::optional<uint64_t> length;  // nullopt for "-"
  std::string path;                // decoded, canonical
  uint64_t line = 0;
};

// Parses fetch.txt ("URL LENGTH PATH" lines). Bad lines go to *out.
std::vector<FetchEntry> ParseFetch(std::string_view raw, TextEncoding encoding,
                                   const std::string& file, Findings* out);

}  // namespace vigil::formats
