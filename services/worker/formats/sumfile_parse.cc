// Checksum files parsed (sumfile.h): lines, labels, names, whole files.
#include <algorithm>
#include <unordered_map>

#include "services/worker/formats/path_check.h"
#include "services/worker/formats/sumfile.h"
#include "services/worker/formats/text_lines.h"

namespace vigil::formats {

namespace {

using storage::HashAlgorithm;

bool IsWhite(char c) { return c == ' ' || c == '\t'; }

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsLabelChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '/';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// coreutils filename_unescape(): \\, \n and \r; anything else is malformed.
bool Unescape(std::string_view in, std::string* out, size_t* bad) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 1 == in.size()) {
      *bad = i;
      return false;
    }
    char c = in[++i];
    if (c == '\\') {
      out->push_back('\\');
    } else if (c == 'n') {
      out->push_back('\n');
    } else if (c == 'r') {
      out->push_back('\r');
    } else {
      *bad = i - 1;
      return false;
    }
  }
  return true;
}

std::string HexLengths() { return "md5 32, sha1 40, sha224 56, sha256 64, sha384 96, sha512 128"; }

}  // namespace

bool ParseSumLine(std::string_view s, int* reversed_state, SumLine* out, std::string* error,
                  size_t* column) {
  *out = SumLine();
  if (!s.empty() && s[0] == '#') {
    out->kind = SumLine::Kind::kComment;
    return true;
  }
  size_t i = 0;
  while (i < s.size() && IsWhite(s[i])) ++i;
  if (i == s.size()) {
    out->kind = SumLine::Kind::kBlank;
    return true;
  }
  if (s[i] == '\\') {
    out->escaped = true;
    ++i;
  }
  auto fail = [&](std::string msg, size_t col) {
    *error = std::move(msg);
    *column = col;
    return false;
  };
  auto unescape = [&](std::string_view name, size_t name_col) {
    if (!out->escaped) {
      out->name = std::string(name);
      return true;
    }
    size_t bad = 0;
    if (!Unescape(name, &out->name, &bad)) {
      *error = "bad escape in the file name (only \\\\, \\n and \\r are allowed)";
      *column = name_col + bad;
      return false;
    }
    return true;
  };

  // BSD / --tag form: LABEL (name) = HASH, with LABEL not all hex digits.
  size_t j = i;
  bool all_hex = true;
  while (j < s.size() && IsLabelChar(s[j])) {
    if (!IsHex(s[j])) all_hex = false;
    ++j;
  }
  size_t paren = j;
  if (paren < s.size() && s[paren] == ' ') ++paren;
  if (j > i && !all_hex && paren < s.size() && s[paren] == '(') {
    out->tagged = true;
    out->label = std::string(s.substr(i, j - i));
    size_t name_start = paren + 1;
    size_t close = s.rfind(')');
    if (close == std::string_view::npos || close < name_start) {
      return fail("no ')' after the file name of '" + out->label + " (name) = HASH'", s.size());
    }
    if (close == name_start) return fail("empty file name", name_start);
    if (!unescape(s.substr(name_start, close - name_start), name_start)) return false;
    size_t k = close + 1;
    while (k < s.size() && IsWhite(s[k])) ++k;
    if (k == s.size() || s[k] != '=') return fail("expected '=' after the file name", k);
    ++k;
    while (k < s.size() && IsWhite(s[k])) ++k;
    if (k == s.size()) return fail("no digest after '='", k);
    for (size_t h = k; h < s.size(); ++h) {
      if (!IsHex(s[h])) return fail("digest is not hexadecimal", h);
    }
    out->hex = std::string(s.substr(k));
    return true;
  }

  // GNU form: HASH, one blank, then ' ' or '*' and the name.
  size_t ds = i;
  while (i < s.size() && !IsWhite(s[i])) {
    if (!IsHex(s[i])) {
      return fail(
          "expected a hex digest or 'ALGORITHM (name) = digest', found " + Excerpt(s.substr(ds)),
          i);
    }
    ++i;
  }
  out->hex = std::string(s.substr(ds, i - ds));
  if (i == s.size()) return fail("no file name after the digest", i);
  ++i;  // the one blank after the digest
  if (i == s.size()) return fail("no file name after the digest", i);
  if (s.size() - i == 1 || (s[i] != ' ' && s[i] != '*')) {
    // "HASH name": allowed only if no "HASH  name" line came before.
    if (*reversed_state == 0) {
      return fail(
          "'HASH NAME' (one space) after 'HASH  NAME' lines: the two forms are not mixed "
          "(as with coreutils)",
          i);
    }
    *reversed_state = 1;
    out->reversed = true;
  } else if (*reversed_state != 1) {
    *reversed_state = 0;
    out->binary = s[i] == '*';
    ++i;
  }
  if (i == s.size()) return fail("empty file name", i);
  return unescape(s.substr(i), i);
}

std::optional<HashAlgorithm> SumLabelAlgorithm(std::string_view label) {
  std::string l = Lower(label);
  l.erase(std::remove(l.begin(), l.end(), '_'), l.end());
  if (l == "xxh128") return HashAlgorithm::kXxh3_128;
  if (l.rfind("sha2-", 0) == 0 && l.size() > 5) l = "sha" + l.substr(5);
  l.erase(std::remove(l.begin(), l.end(), '-'), l.end());
  static constexpr std::pair<std::string_view, HashAlgorithm> kLabels[] = {
      {"md5", HashAlgorithm::kMd5},       {"sha1", HashAlgorithm::kSha1},
      {"sha224", HashAlgorithm::kSha224}, {"sha256", HashAlgorithm::kSha256},
      {"sha384", HashAlgorithm::kSha384}, {"sha512", HashAlgorithm::kSha512}};
  for (auto [n, alg] : kLabels) {
    if (l == n) return alg;
  }
  return std::nullopt;
}

SumNameHint SumFileNameHint(std::string_view file_name) {
  std::string n = Lower(file_name);
  struct Token {
    std::string_view text;
    std::optional<HashAlgorithm> alg;
    std::string_view name;
  };
  static const Token kTokens[] = {
      {"sha512", HashAlgorithm::kSha512, "sha512"},
      {"sha384", HashAlgorithm::kSha384, "sha384"},
      {"sha256", HashAlgorithm::kSha256, "sha256"},
      {"sha224", HashAlgorithm::kSha224, "sha224"},
      {"sha1", HashAlgorithm::kSha1, "sha1"},
      {"md5", HashAlgorithm::kMd5, "md5"},
      {"xxh128", HashAlgorithm::kXxh3_128, "xxh128"},
      {"b2sum", std::nullopt, "BLAKE2"},
      {"blake", std::nullopt, "BLAKE2/BLAKE3"},
      {"b3sum", std::nullopt, "BLAKE3"},
      {"xxh64", std::nullopt, "XXH64"},
      {"xxh32", std::nullopt, "XXH32"},
      {"sm3", std::nullopt, "SM3"},
  };
  std::vector<const Token*> hits;
  for (const Token& t : kTokens) {
    if (n.find(t.text) != std::string::npos) hits.push_back(&t);
  }
  // "sha3" (SHA-3) but not the start of "sha384".
  static const Token kSha3{"sha3", std::nullopt, "SHA-3"};
  for (size_t p = n.find("sha3"); p != std::string::npos; p = n.find("sha3", p + 1)) {
    if (n.compare(p, 6, "sha384") != 0) {
      hits.push_back(&kSha3);
      break;
    }
  }
  // "B2SUMS", "x.b2": BLAKE2 under its short name.
  if (n == "b2sums" || (n.size() > 3 && n.compare(n.size() - 3, 3, ".b2") == 0)) {
    static const Token kB2{"b2", std::nullopt, "BLAKE2"};
    hits.push_back(&kB2);
  }
  SumNameHint h;
  if (hits.empty()) return h;
  for (const Token* t : hits) {
    if (t->name != hits.front()->name) return h;  // names several: no hint
  }
  h.named = true;
  h.algorithm = hits.front()->alg;
  h.algorithm_name = std::string(hits.front()->name);
  return h;
}

std::optional<HashAlgorithm> AlgorithmForHexLength(size_t hex_digits) {
  switch (hex_digits) {
    case 32:
      return HashAlgorithm::kMd5;
    case 40:
      return HashAlgorithm::kSha1;
    case 56:
      return HashAlgorithm::kSha224;
    case 64:
      return HashAlgorithm::kSha256;
    case 96:
      return HashAlgorithm::kSha384;
    case 128:
      return HashAlgorithm::kSha512;
    default:
      return std::nullopt;
  }
}

std::vector<SumEntry> ParseSumFile(std::string_view raw, const std::string& file,
                                   std::string_view file_name, Findings* out) {
  std::vector<SumEntry> entries;
  SumNameHint hint = SumFileNameHint(file_name);
  int reversed_state = -1;
  std::unordered_map<std::string, uint64_t> seen;
  DecodeOptions o;
  o.decode = false;
  o.endings = LineEndings::kLfOnly;
  ForEachLine(
      raw, o,
      [&](const TextLine& l) {
        auto at = [&](size_t col) { return static_cast<int64_t>(l.offset + col); };
        SumLine sl;
        std::string err;
        size_t col = 0;
        if (!ParseSumLine(l.text, &reversed_state, &sl, &err, &col)) {
          out->Error("sum_malformed", file, l.number, "malformed line: " + err, {}, at(col));
          return;
        }
        if (sl.kind == SumLine::Kind::kComment) return;
        if (sl.kind == SumLine::Kind::kBlank) {
          out->Warning("blank_line", file, l.number, "blank line ignored");
          return;
        }
        std::optional<HashAlgorithm> alg;
        if (sl.tagged) {
          alg = SumLabelAlgorithm(sl.label);
          if (!alg) {
            out->Error("unsupported_algorithm", file, l.number,
                       "algorithm " + Excerpt(sl.label) +
                           " is not supported (MD5, SHA1, SHA224, SHA256, SHA384, SHA512, XXH128)",
                       sl.name, at(0));
            return;
          }
        } else if (hint.named) {
          if (!hint.algorithm) {
            out->Error("unsupported_algorithm", file, l.number,
                       "the file name says the digests are " + hint.algorithm_name +
                           ", which is not supported",
                       sl.name, at(0));
            return;
          }
          if (sl.hex.size() != 2 * storage::DigestSize(*hint.algorithm)) {
            out->Error("ambiguous_algorithm", file, l.number,
                       "a digest of " + std::to_string(sl.hex.size()) +
                           " hex digits does not fit the file name, which says " +
                           hint.algorithm_name + " (" +
                           std::to_string(2 * storage::DigestSize(*hint.algorithm)) +
                           " hex digits)",
                       sl.name, at(0));
            return;
          }
          alg = hint.algorithm;
        } else {
          alg = AlgorithmForHexLength(sl.hex.size());
          if (!alg) {
            out->Error("ambiguous_algorithm", file, l.number,
                       "cannot tell the algorithm of a digest of " + std::to_string(sl.hex.size()) +
                           " hex digits (" + HexLengths() + "; or use the --tag form)",
                       sl.name, at(0));
            return;
          }
        }
        auto expected = storage::Digest::FromHex(*alg, sl.hex);
        if (!expected) {
          out->Error("bad_digest", file, l.number,
                     std::string(storage::AlgorithmName(*alg)) + " digest must be " +
                         std::to_string(2 * storage::DigestSize(*alg)) + " hex digits, found " +
                         std::to_string(sl.hex.size()),
                     sl.name, at(0));
          return;
        }
        PathCheck pc = CheckRelativePath(sl.name, /*reject_tilde=*/false);
        if (!pc.ok) {
          std::string msg = "name " + ShowPath(sl.name) + " rejected: " + pc.reason;
          if (pc.code == "path_escapes") msg += " (would leave the directory; not opened)";
          out->Error(pc.code, file, l.number, msg, sl.name);
          return;
        }
        if (auto [it, fresh] = seen.emplace(pc.canonical, l.number); !fresh) {
          out->Warning("duplicate_entry", file, l.number,
                       ShowPath(sl.name) + " listed again (first on line " +
                           std::to_string(it->second) + "): both lines are checked",
                       sl.name);
        }
        entries.push_back({l.number, sl.name, pc.canonical, *expected});
      },
      [&](const TextIssue& i) {
        if (i.error) {
          out->Error("encoding", file, i.line, i.message, {}, static_cast<int64_t>(i.offset));
        } else {
          out->Warning("encoding", file, i.line, i.message, {}, static_cast<int64_t>(i.offset));
        }
      });
  return entries;
}

}  // namespace vigil::formats
