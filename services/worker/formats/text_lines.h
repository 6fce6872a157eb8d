// Line splitting and decoding of text files written by other tools: BagIt tag
// files (UTF-8, UTF-16 or ISO-8859-1, any of LF, CRLF and CR line endings) and
// checksum files (bytes, LF or CRLF).
//
// Decoding never throws and never fails as a whole: a line that does not
// decode is reported with the raw byte offset of the first bad byte and
// skipped; the other lines are still delivered.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::formats {

enum class TextEncoding {
  kUtf8,
  kUtf16,    // byte-order mark decides; big-endian without one (RFC 2781)
  kUtf16Le,  // no byte-order mark expected (one is skipped)
  kUtf16Be,
  kLatin1,  // ISO-8859-1: every byte is the code point of the same value
};

// "UTF-8", "utf8", "UTF-16", "UTF-16LE", "UTF-16BE", "ISO-8859-1", "latin1"
// ... (case-insensitive). nullopt for anything else.
std::optional<TextEncoding> ParseEncodingName(std::string_view name);
std::string_view EncodingName(TextEncoding enc);

enum class LineEndings {
  kAny,     // LF, CRLF and a lone CR all end a line (BagIt tag files)
  kLfOnly,  // LF ends a line; one CR before it is dropped (checksum files)
};

struct TextLine {
  uint64_t number = 0;     // 1-based
  uint64_t offset = 0;     // raw byte offset of the line's first byte
  std::string_view text;   // decoded UTF-8 (or raw bytes for kBytes), no terminator
  bool terminated = true;  // false for a last line without a terminator
};

struct TextIssue {
  uint64_t line = 0;
  uint64_t offset = 0;  // raw byte offset
  std::string message;
  bool error = true;  // false: a warning (byte-order mark, ...)
};

struct DecodeOptions {
  TextEncoding encoding = TextEncoding::kUtf8;
  LineEndings endings = LineEndings::kAny;
  // false: bytes are passed through undecoded (checksum files); UTF-8 is not
  // validated and NUL is allowed.
  bool decode = true;
};

// Calls `on_line` for every line of `raw` that decodes, `on_issue` for every
// problem (a line that does not decode is reported there and not delivered).
// An empty file has no lines; "a\n" has one line.
void ForEachLine(std::string_view raw, const DecodeOptions& options,
                 const std::function<void(const TextLine&)>& on_line,
                 const std::function<void(const TextIssue&)>& on_issue);

// Offset of the first byte that is not valid UTF-8 (overlongs, surrogates and
// code points above U+10FFFF are invalid), or nullopt.
std::optional<size_t> FindInvalidUtf8(std::string_view s);

}  // namespace vigil::formats
