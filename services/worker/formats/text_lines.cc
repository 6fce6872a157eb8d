#include "services/worker/formats/text_lines.h"

#include <cstdio>

#include "base/name_table.h"

namespace vigil::formats {

namespace {

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '_' || c == ' ') continue;
    out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string HexByte(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", b);
  return buf;
}

// Byte-oriented encodings (UTF-8, ISO-8859-1, undecoded bytes).
void ByteLines(std::string_view raw, size_t start, const DecodeOptions& o,
               const std::function<void(const TextLine&)>& on_line,
               const std::function<void(const TextIssue&)>& on_issue) {
  std::string scratch;
  uint64_t number = 0;
  size_t pos = start;
  while (pos < raw.size()) {
    size_t end = pos;
    while (end < raw.size() && raw[end] != '\n' &&
           !(o.endings == LineEndings::kAny && raw[end] == '\r')) {
      ++end;
    }
    size_t next = end;
    bool terminated = end < raw.size();
    size_t text_end = end;
    if (terminated) {
      if (raw[end] == '\r' && end + 1 < raw.size() && raw[end + 1] == '\n') {
        next = end + 2;
      } else {
        next = end + 1;
      }
      if (o.endings == LineEndings::kLfOnly && text_end > pos && raw[text_end - 1] == '\r') {
        --text_end;
      }
    }
    ++number;
    std::string_view text = raw.substr(pos, text_end - pos);
    TextLine line{number, pos, text, terminated};
    bool ok = true;
    if (o.decode) {
      if (o.encoding == TextEncoding::kLatin1) {
        scratch.clear();
        for (size_t i = 0; i < text.size(); ++i) {
          auto b = static_cast<unsigned char>(text[i]);
          if (b == 0) {
            on_issue({number, pos + i, "NUL character", true});
            ok = false;
            break;
          }
          AppendUtf8(&scratch, b);
        }
        line.text = scratch;
      } else {
        if (auto bad = FindInvalidUtf8(text)) {
          on_issue({number, pos + *bad,
                    "invalid UTF-8: byte " + HexByte(static_cast<unsigned char>(text[*bad])),
                    true});
          ok = false;
        } else if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
          on_issue({number, pos + nul, "NUL character", true});
          ok = false;
        }
      }
    }
    if (ok) on_line(line);
    pos = next;
  }
}

void Utf16Lines(std::string_view raw, size_t start, bool big_endian,
                const std::function<void(const TextLine&)>& on_line,
                const std::function<void(const TextIssue&)>& on_issue) {
  auto unit = [&](size_t at) -> uint32_t {
    auto b0 = static_cast<unsigned char>(raw[at]);
    auto b1 = static_cast<unsigned char>(raw[at + 1]);
    return big_endian ? (uint32_t{b0} << 8 | b1) : (uint32_t{b1} << 8 | b0);
  };
  size_t usable = start + ((raw.size() - start) & ~size_t{1});
  std::string scratch;
  uint64_t number = 0;
  size_t pos = start;
  while (pos < usable) {
    size_t end = pos;
    while (end < usable && unit(end) != 0x0A && unit(end) != 0x0D) end += 2;
    bool terminated = end < usable;
    size_t next = end;
    if (terminated) {
      next = end + 2;
      if (unit(end) == 0x0D && next < usable && unit(next) == 0x0A) next += 2;
    }
    ++number;
    scratch.clear();
    bool ok = true;
    for (size_t i = pos; i < end; i += 2) {
      uint32_t u = unit(i);
      if (u >= 0xD800 && u <= 0xDBFF) {
        if (i + 2 < end && unit(i + 2) >= 0xDC00 && unit(i + 2) <= 0xDFFF) {
          uint32_t cp = 0x10000 + ((u - 0xD800) << 10) + (unit(i + 2) - 0xDC00);
          AppendUtf8(&scratch, cp);
          i += 2;
          continue;
        }
        on_issue({number, i, "invalid UTF-16: unpaired high surrogate", true});
        ok = false;
        break;
      }
      if (u >= 0xDC00 && u <= 0xDFFF) {
        on_issue({number, i, "invalid UTF-16: unpaired low surrogate", true});
        ok = false;
        break;
      }
      if (u == 0) {
        on_issue({number, i, "NUL character", true});
        ok = false;
        break;
      }
      AppendUtf8(&scratch, u);
    }
    if (ok) on_line({number, pos, scratch, terminated});
    pos = next;
  }
  if (usable < raw.size()) {
    on_issue({number == 0 ? 1 : number, usable,
              "invalid UTF-16: odd number of bytes, last byte ignored", true});
  }
}

// The names an encoding is declared by, as Lower() leaves them.
constexpr NameRow<TextEncoding> kEncodingAliases[] = {
    {TextEncoding::kUtf8, "utf8"},       {TextEncoding::kUtf8, "usascii"},
    {TextEncoding::kUtf8, "ascii"},      {TextEncoding::kUtf16, "utf16"},
    {TextEncoding::kUtf16Le, "utf16le"}, {TextEncoding::kUtf16Be, "utf16be"},
    {TextEncoding::kLatin1, "iso88591"}, {TextEncoding::kLatin1, "latin1"},
    {TextEncoding::kLatin1, "l1"},       {TextEncoding::kLatin1, "iso885911987"},
    {TextEncoding::kLatin1, "cp819"},    {TextEncoding::kLatin1, "ibm819"}};

// The canonical (IANA) names, for messages.
constexpr NameRow<TextEncoding> kEncodingNames[] = {{TextEncoding::kUtf8, "UTF-8"},
                                                    {TextEncoding::kUtf16, "UTF-16"},
                                                    {TextEncoding::kUtf16Le, "UTF-16LE"},
                                                    {TextEncoding::kUtf16Be, "UTF-16BE"},
                                                    {TextEncoding::kLatin1, "ISO-8859-1"}};
static_assert(CoversEnum(kEncodingNames));

}  // namespace

std::optional<TextEncoding> ParseEncodingName(std::string_view name) {
  return ValueOf(kEncodingAliases, Lower(name));
}

std::string_view EncodingName(TextEncoding enc) { return NameOf(kEncodingNames, enc, "?"); }

std::optional<size_t> FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return i;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += n + 1;
  }
  return std::nullopt;
}

void ForEachLine(std::string_view raw, const DecodeOptions& o,
                 const std::function<void(const TextLine&)>& on_line,
                 const std::function<void(const TextIssue&)>& on_issue) {
  bool utf8_bom = raw.size() >= 3 && raw.substr(0, 3) == "\xEF\xBB\xBF";
  if (!o.decode || o.encoding == TextEncoding::kUtf8) {
    size_t start = 0;
    if (utf8_bom) {
      on_issue({1, 0, "UTF-8 byte-order mark skipped", false});
      start = 3;
    }
    ByteLines(raw, start, o, on_line, on_issue);
    return;
  }
  if (o.encoding == TextEncoding::kLatin1) {
    if (utf8_bom) {
      on_issue(
          {1, 0, "file starts with a UTF-8 byte-order mark but is declared ISO-8859-1", false});
    }
    ByteLines(raw, 0, o, on_line, on_issue);
    return;
  }
  bool be_bom = raw.size() >= 2 && raw[0] == '\xFE' && raw[1] == '\xFF';
  bool le_bom = raw.size() >= 2 && raw[0] == '\xFF' && raw[1] == '\xFE';
  bool big_endian = true;
  size_t start = 0;
  switch (o.encoding) {
    case TextEncoding::kUtf16:
      if (be_bom || le_bom) {
        big_endian = be_bom;
        start = 2;
      } else if (!raw.empty()) {
        on_issue({1, 0, "UTF-16 without a byte-order mark: read as big-endian", false});
      }
      break;
    case TextEncoding::kUtf16Le:
    case TextEncoding::kUtf16Be:
      big_endian = o.encoding == TextEncoding::kUtf16Be;
      if ((big_endian && be_bom) || (!big_endian && le_bom)) {
        on_issue({1, 0, "byte-order mark skipped", false});
        start = 2;
      } else if (be_bom || le_bom) {
        on_issue(
            {1, 0,
             "byte-order mark contradicts the declared " + std::string(EncodingName(o.encoding)),
             true});
        start = 2;
      }
      break;
    default:
      break;
  }
  Utf16Lines(raw, start, big_endian, on_line, on_issue);
}

}  // namespace vigil::formats
