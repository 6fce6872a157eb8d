// The parsers of a bag's tag files (bagit_parse.h).
#include "services/worker/formats/bagit_parse.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "services/worker/formats/path_check.h"

namespace vigil::formats {

namespace {

using storage::HashAlgorithm;

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsBlank(std::string_view s) { return Trim(s).empty(); }

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<uint64_t> ParseU64(std::string_view s) {
  if (!IsDigits(s) || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    auto d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Byte offset of a column of a decoded line: exact for UTF-8, the line's
// start for the other encodings (their decoded columns do not map to bytes).
int64_t OffsetOf(const TextLine& l, size_t column, TextEncoding enc) {
  return static_cast<int64_t>(l.offset + (enc == TextEncoding::kUtf8 ? column : 0));
}

void ReportIssue(const TextIssue& i, const std::string& file, Findings* out) {
  if (i.error) {
    out->Error("encoding", file, i.line, i.message, {}, static_cast<int64_t>(i.offset));
  } else {
    out->Warning("encoding", file, i.line, i.message, {}, static_cast<int64_t>(i.offset));
  }
}

// Checks a decoded manifest or fetch path; on success returns the canonical
// form. `what` names the listing for messages.
std::optional<std::string> CheckListedPath(std::string_view decoded, const std::string& file,
                                           const TextLine& l, Findings* out) {
  PathCheck pc = CheckRelativePath(decoded, /*reject_tilde=*/true);
  if (!pc.ok) {
    std::string msg = "path " + ShowPath(decoded) + " rejected: " + pc.reason;
    if (pc.code == "path_escapes") msg += " (would leave the bag; not opened)";
    out->Error(pc.code, file, l.number, msg, std::string(decoded));
    return std::nullopt;
  }
  if (pc.normalized) {
    out->Warning("path_not_canonical", file, l.number,
                 "path " + ShowPath(decoded) + " has '.' or empty components; read as " +
                     ShowPath(pc.canonical),
                 pc.canonical);
  }
  return pc.canonical;
}

}  // namespace

// ---- bagit.txt ----------------------------------------------------------

BagDeclaration ParseBagDeclaration(std::string_view raw, Findings* out) {
  BagDeclaration d;
  const std::string file = kBagitTxt;
  uint64_t base = 0;
  if (StartsWith(raw, "\xEF\xBB\xBF")) {
    out->Error("bagit_txt_malformed", file, 1,
               "byte-order mark: bagit.txt must be UTF-8 without one", {}, 0);
    raw.remove_prefix(3);
    base = 3;
  }
  struct Line {
    uint64_t number = 0;
    uint64_t offset = 0;
    std::string text;
  };
  std::vector<Line> lines;
  uint64_t last_line = 0;
  DecodeOptions o;
  ForEachLine(
      raw, o,
      [&](const TextLine& l) {
        last_line = l.number;
        if (lines.size() < 3) lines.push_back({l.number, l.offset + base, std::string(l.text)});
      },
      [&](const TextIssue& i) {
        last_line = std::max(last_line, i.line);
        TextIssue j = i;
        j.offset += base;
        ReportIssue(j, file, out);
      });
  if (raw.empty()) {
    out->Error("bagit_txt_malformed", file, 0,
               "empty: expected 'BagIt-Version: M.N' and 'Tag-File-Character-Encoding: ENCODING'");
  }

  static constexpr std::string_view kLabels[2] = {"BagIt-Version", "Tag-File-Character-Encoding"};
  std::optional<std::string> values[2];
  uint64_t value_line[2] = {0, 0};
  for (int want = 0; want < 2; ++want) {
    uint64_t number = static_cast<uint64_t>(want) + 1;
    const Line* l = nullptr;
    for (const auto& x : lines) {
      if (x.number == number) l = &x;
    }
    if (l == nullptr) {
      if (last_line < number && !raw.empty()) {
        out->Error("bagit_txt_malformed", file, number,
                   "missing line: expected '" + std::string(kLabels[want]) + ": ...'");
      }
      continue;  // a line that did not decode was reported already
    }
    std::string_view text = l->text;
    size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
      out->Error("bagit_txt_malformed", file, number,
                 "expected '" + std::string(kLabels[want]) + ": ...', found " + Excerpt(text), {},
                 static_cast<int64_t>(l->offset));
      continue;
    }
    std::string_view label = text.substr(0, colon);
    int slot = want;
    if (label == kLabels[want]) {
      // as required
    } else if (IEquals(Trim(label), kLabels[want])) {
      out->Error(
          "bagit_txt_malformed", file, number,
          "label must be written '" + std::string(kLabels[want]) + "', found " + Excerpt(label), {},
          static_cast<int64_t>(l->offset));
    } else if (IEquals(Trim(label), kLabels[1 - want])) {
      out->Error("bagit_txt_malformed", file, number,
                 "found '" + std::string(kLabels[1 - want]) +
                     "' here: the two lines are in the wrong order (BagIt-Version comes first)",
                 {}, static_cast<int64_t>(l->offset));
      slot = 1 - want;
    } else {
      out->Error("bagit_txt_malformed", file, number,
                 "expected '" + std::string(kLabels[want]) + ": ...', found " + Excerpt(text), {},
                 static_cast<int64_t>(l->offset));
      continue;
    }
    std::string_view rest = text.substr(colon + 1);
    std::string_view value = Trim(rest);
    if (value.empty()) {
      out->Error("bagit_txt_malformed", file, number,
                 "empty value for '" + std::string(kLabels[slot]) + "'", {},
                 static_cast<int64_t>(l->offset + colon + 1));
      continue;
    }
    if (rest.size() < 2 || rest[0] != ' ' || IsSpace(rest[1]) || IsSpace(rest.back())) {
      out->Error(
          "bagit_txt_malformed", file, number,
          "expected exactly one space after ':' and no trailing whitespace, found " + Excerpt(text),
          {}, static_cast<int64_t>(l->offset + colon + 1));
    }
    if (!values[slot]) {
      values[slot] = std::string(value);
      value_line[slot] = number;
    }
  }
  if (last_line > 2) {
    out->Error("bagit_txt_malformed", file, 3,
               "unexpected line: bagit.txt has exactly two lines (found " +
                   std::to_string(last_line) + ")");
  }

  if (values[0]) {
    d.version = *values[0];
    std::string_view v = d.version;
    size_t dot = v.find('.');
    auto major = dot == std::string_view::npos ? std::nullopt : ParseU64(v.substr(0, dot));
    auto minor = dot == std::string_view::npos ? std::nullopt : ParseU64(v.substr(dot + 1));
    if (!major || !minor || *major > 99 || *minor > 99) {
      out->Error("unsupported_version", file, value_line[0],
                 "BagIt-Version " + Excerpt(v) + " is not M.N");
    } else {
      d.major = static_cast<int>(*major);
      d.minor = static_cast<int>(*minor);
      int n = VersionNumber(d.major, d.minor);
      d.version_ok = (n >= 93 && n <= 97) || n == 100;
      if (!d.version_ok) {
        out->Error("unsupported_version", file, value_line[0],
                   "unsupported BagIt-Version " + Excerpt(v) + " (supported: 0.93 to 0.97, 1.0)");
        if (n > 100) {
          d.major = 1;  // read on as the newest version known
          d.minor = 0;
        }
      }
    }
  }
  if (values[1]) {
    d.encoding_name = *values[1];
    if (auto enc = ParseEncodingName(d.encoding_name)) {
      d.encoding = *enc;
      d.encoding_ok = true;
    } else {
      out->Error("unsupported_encoding", file, value_line[1],
                 "unsupported Tag-File-Character-Encoding " + Excerpt(d.encoding_name) +
                     " (supported: UTF-8, UTF-16, UTF-16LE, UTF-16BE, ISO-8859-1); tag files "
                     "read as UTF-8");
    }
  }
  return d;
}

// ---- bag-info.txt -------------------------------------------------------

std::optional<PayloadOxum> ParsePayloadOxum(std::string_view value) {
  size_t dot = value.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto octets = ParseU64(value.substr(0, dot));
  auto streams = ParseU64(value.substr(dot + 1));
  if (!octets || !streams) return std::nullopt;
  return PayloadOxum{*octets, *streams};
}

std::optional<int64_t> ParseBaggingDate(std::string_view v) {
  if (v.size() < 10 || v[4] != '-' || v[7] != '-') return std::nullopt;
  if (v.size() > 10 && v[10] != 'T' && v[10] != 't' && v[10] != ' ') return std::nullopt;
  auto y = ParseU64(v.substr(0, 4));
  auto m = ParseU64(v.substr(5, 2));
  auto d = ParseU64(v.substr(8, 2));
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1) return std::nullopt;
  bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  uint64_t dim = static_cast<uint64_t>(kDays[*m - 1]) + ((*m == 2 && leap) ? 1 : 0);
  if (*d > dim) return std::nullopt;
  // Days from civil (H. Hinnant's algorithm), proleptic Gregorian calendar.
  int64_t yy = static_cast<int64_t>(*y) - (*m <= 2 ? 1 : 0);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t mp = (static_cast<int64_t>(*m) + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + static_cast<int64_t>(*d) - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  constexpr int64_t kNsPerDay = 86400LL * 1'000'000'000LL;
  if (days > INT64_MAX / kNsPerDay || days < INT64_MIN / kNsPerDay) return std::nullopt;
  return days * kNsPerDay;
}

BagInfo ParseBagInfo(std::string_view raw, TextEncoding encoding, const std::string& file,
                     Findings* out) {
  BagInfo info;
  std::optional<size_t> current;
  DecodeOptions o;
  o.encoding = encoding;
  ForEachLine(
      raw, o,
      [&](const TextLine& l) {
        std::string_view text = l.text;
        if (IsBlank(text)) {
          out->Warning("blank_line", file, l.number, "blank line ignored");
          current.reset();
          return;
        }
        if (IsSpace(text[0])) {
          if (!current) {
            out->Error("bag_info_malformed", file, l.number,
                       "continuation line (starts with whitespace) without a label before it", {},
                       OffsetOf(l, 0, encoding));
            return;
          }
          BagInfoField& f = info.fields[*current];
          f.value += " ";
          f.value += Trim(text);
          return;
        }
        size_t colon = text.find(':');
        if (colon == std::string_view::npos) {
          out->Error("bag_info_malformed", file, l.number,
                     "no ':' between label and value in " + Excerpt(text), {},
                     OffsetOf(l, 0, encoding));
          current.reset();
          return;
        }
        std::string_view label = Trim(text.substr(0, colon));
        if (label.empty()) {
          out->Error("bag_info_malformed", file, l.number, "empty label in " + Excerpt(text), {},
                     OffsetOf(l, 0, encoding));
          current.reset();
          return;
        }
        info.fields.push_back(
            {std::string(label), std::string(Trim(text.substr(colon + 1))), l.number});
        current = info.fields.size() - 1;
      },
      [&](const TextIssue& i) {
        ReportIssue(i, file, out);
        current.reset();
      });

  for (const BagInfoField& f : info.fields) {
    if (IEquals(f.label, "Payload-Oxum")) {
      auto ox = ParsePayloadOxum(f.value);
      if (!ox) {
        out->Error("oxum_malformed", file, f.line,
                   "Payload-Oxum " + Excerpt(f.value) + " is not OctetCount.StreamCount");
      } else if (!info.oxum) {
        info.oxum = ox;
        info.oxum_line = f.line;
      } else if (ox->octets == info.oxum->octets && ox->streams == info.oxum->streams) {
        out->Warning(
            "repeated_label", file, f.line,
            "Payload-Oxum repeated (first on line " + std::to_string(info.oxum_line) + ")");
      } else {
        out->Error("oxum_malformed", file, f.line,
                   "Payload-Oxum repeated with a different value " + Excerpt(f.value) +
                       " (first on line " + std::to_string(info.oxum_line) + ")");
      }
    } else if (IEquals(f.label, "Bagging-Date")) {
      if (info.bagging_date_line == 0) {
        info.bagging_date = f.value;
        info.bagging_date_line = f.line;
        info.bagging_date_ns = ParseBaggingDate(f.value);
        if (!info.bagging_date_ns) {
          out->Warning("bagging_date_unparsed", file, f.line,
                       "Bagging-Date " + Excerpt(f.value) + " is not YYYY-MM-DD");
        }
      } else if (f.value != info.bagging_date) {
        out->Warning("repeated_label", file, f.line,
                     "Bagging-Date repeated with a different value " + Excerpt(f.value) +
                         "; the first (line " + std::to_string(info.bagging_date_line) +
                         ") is used");
      }
    }
  }
  return info;
}

// ---- manifests ----------------------------------------------------------

bool ParseManifestLine(std::string_view line, ManifestLine* out, std::string* error,
                       size_t* column) {
  size_t i = 0;
  while (i < line.size() && IsSpace(line[i])) ++i;
  size_t ds = i;
  while (i < line.size() && !IsSpace(line[i])) ++i;
  if (i == ds) {
    *error = "no digest";
    *column = ds;
    return false;
  }
  std::string_view digest = line.substr(ds, i - ds);
  for (size_t k = 0; k < digest.size(); ++k) {
    if (!IsHex(digest[k])) {
      *error = "digest " + Excerpt(digest) + " is not hexadecimal";
      *column = ds + k;
      return false;
    }
  }
  size_t ss = i;
  while (i < line.size() && IsSpace(line[i])) ++i;
  if (i == line.size()) {
    *error = "no path after the digest";
    *column = i;
    return false;
  }
  out->digest = digest;
  out->path = line.substr(i);
  out->path_column = i;
  out->separator = i - ss;
  return true;
}

std::string PercentDecodePath(std::string_view p) {
  std::string out;
  out.reserve(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '%' && i + 2 < p.size()) {
      char a = p[i + 1], b = LowerAscii(p[i + 2]);
      if (a == '0' && b == 'a') {
        out.push_back('\n');
        i += 2;
        continue;
      }
      if (a == '0' && b == 'd') {
        out.push_back('\r');
        i += 2;
        continue;
      }
      if (a == '2' && b == '5') {
        out.push_back('%');
        i += 2;
        continue;
      }
    }
    out.push_back(p[i]);
  }
  return out;
}

std::optional<std::pair<ManifestKind, std::string>> ManifestFileName(std::string_view name) {
  constexpr std::string_view kSuffix = ".txt";
  if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  std::string_view stem = name.substr(0, name.size() - kSuffix.size());
  for (auto [prefix, kind] : {std::pair{std::string_view("manifest-"), ManifestKind::kPayload},
                              std::pair{std::string_view("tagmanifest-"), ManifestKind::kTag}}) {
    if (stem.size() > prefix.size() && StartsWith(stem, prefix)) {
      return std::pair{kind, std::string(stem.substr(prefix.size()))};
    }
  }
  return std::nullopt;
}

std::optional<HashAlgorithm> ManifestAlgorithm(std::string_view name, bool* nonstandard) {
  *nonstandard = false;
  static constexpr std::pair<std::string_view, HashAlgorithm> kNames[] = {
      {"md5", HashAlgorithm::kMd5},       {"sha1", HashAlgorithm::kSha1},
      {"sha224", HashAlgorithm::kSha224}, {"sha256", HashAlgorithm::kSha256},
      {"sha384", HashAlgorithm::kSha384}, {"sha512", HashAlgorithm::kSha512}};
  for (auto [n, alg] : kNames) {
    if (name == n) return alg;
  }
  auto alg = storage::ParseAlgorithm(name);
  if (!alg || *alg == HashAlgorithm::kXxh3_128) return std::nullopt;
  *nonstandard = true;
  return alg;
}

Manifest ParseManifest(std::string_view raw, const std::string& file, ManifestKind kind,
                       std::optional<HashAlgorithm> algorithm, TextEncoding encoding,
                       Findings* out) {
  Manifest m;
  m.file = file;
  m.kind = kind;
  m.algorithm = algorithm;
  if (auto fn = ManifestFileName(file)) m.algorithm_name = fn->second;
  size_t want_hex = algorithm ? 2 * storage::DigestSize(*algorithm) : 0;
  DecodeOptions o;
  o.encoding = encoding;
  ForEachLine(
      raw, o,
      [&](const TextLine& l) {
        if (IsBlank(l.text)) {
          out->Warning("blank_line", file, l.number, "blank line ignored");
          return;
        }
        ManifestLine ml;
        std::string err;
        size_t col = 0;
        if (!ParseManifestLine(l.text, &ml, &err, &col)) {
          out->Error("manifest_malformed", file, l.number, "malformed line: " + err, {},
                     OffsetOf(l, col, encoding));
          return;
        }
        if (algorithm && ml.digest.size() != want_hex) {
          out->Error("bad_digest", file, l.number,
                     std::string(storage::AlgorithmName(*algorithm)) + " digest must be " +
                         std::to_string(want_hex) + " hex digits, found " +
                         std::to_string(ml.digest.size()),
                     {}, OffsetOf(l, ml.path_column - ml.separator - ml.digest.size(), encoding));
          return;
        }
        if (!algorithm && (ml.digest.size() % 2 != 0 || ml.digest.size() > 2 * 64)) {
          out->Error("bad_digest", file, l.number,
                     "digest of " + std::to_string(ml.digest.size()) +
                         " hex digits is not a whole number of bytes up to 64",
                     {}, OffsetOf(l, 0, encoding));
          return;
        }
        std::string raw_path(ml.path);
        bool star = kind == ManifestKind::kPayload
                        ? StartsWith(raw_path, "*data/")
                        : (ml.separator == 1 && raw_path.size() > 1 && raw_path[0] == '*');
        if (star) {
          raw_path.erase(0, 1);
          out->Warning("binary_marker", file, l.number,
                       "leading '*' (md5sum binary-mode marker) dropped from the path", {},
                       OffsetOf(l, ml.path_column, encoding));
        }
        std::string decoded = PercentDecodePath(raw_path);
        auto canonical = CheckListedPath(decoded, file, l, out);
        if (!canonical) return;
        bool under_data = StartsWith(*canonical, "data/");
        if (kind == ManifestKind::kPayload && !under_data) {
          out->Error(
              "outside_payload", file, l.number,
              "payload manifest lists " + ShowPath(*canonical) + ", which is not under data/",
              *canonical);
          return;
        }
        if (kind == ManifestKind::kTag && (under_data || *canonical == "data")) {
          out->Error("tag_lists_payload", file, l.number,
                     "tag manifest lists " + ShowPath(*canonical) +
                         ", a payload path (tag manifests list tag files only)",
                     *canonical);
          return;
        }
        if (auto it = m.index.find(*canonical); it != m.index.end()) {
          out->Error("duplicate_entry", file, l.number,
                     "duplicate entry for " + ShowPath(*canonical) + " (first on line " +
                         std::to_string(m.entries[it->second].line) + ")",
                     *canonical);
          return;
        }
        ManifestEntry e;
        e.path = *canonical;
        e.digest_hex = std::string(ml.digest);
        for (char& c : e.digest_hex) c = LowerAscii(c);
        if (algorithm) {
          if (auto d = storage::Digest::FromHex(*algorithm, e.digest_hex)) e.digest = *d;
        }
        e.line = l.number;
        m.index.emplace(e.path, m.entries.size());
        m.entries.push_back(std::move(e));
      },
      [&](const TextIssue& i) { ReportIssue(i, file, out); });
  return m;
}

// ---- fetch.txt ----------------------------------------------------------

std::vector<FetchEntry> ParseFetch(std::string_view raw, TextEncoding encoding,
                                   const std::string& file, Findings* out) {
  std::vector<FetchEntry> entries;
  std::unordered_map<std::string, uint64_t> seen;
  DecodeOptions o;
  o.encoding = encoding;
  ForEachLine(
      raw, o,
      [&](const TextLine& l) {
        std::string_view t = l.text;
        if (IsBlank(t)) {
          out->Warning("blank_line", file, l.number, "blank line ignored");
          return;
        }
        size_t i = 0;
        auto token = [&](size_t* start) {
          while (i < t.size() && IsSpace(t[i])) ++i;
          *start = i;
          while (i < t.size() && !IsSpace(t[i])) ++i;
          return t.substr(*start, i - *start);
        };
        size_t us = 0, ls = 0;
        std::string_view url = token(&us);
        std::string_view len = token(&ls);
        while (i < t.size() && IsSpace(t[i])) ++i;
        if (url.empty() || len.empty() || i == t.size()) {
          out->Error("fetch_malformed", file, l.number,
                     "expected 'URL LENGTH PATH', found " + Excerpt(t), {},
                     OffsetOf(l, 0, encoding));
          return;
        }
        size_t colon = url.find(':');
        bool scheme_ok = colon != std::string_view::npos && colon > 0 &&
                         ((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z'));
        for (size_t k = 1; scheme_ok && k < colon; ++k) {
          char c = url[k];
          scheme_ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '+' || c == '-' || c == '.';
        }
        if (!scheme_ok) {
          out->Error("fetch_malformed", file, l.number,
                     "URL " + Excerpt(url) + " has no scheme (such as https:)", {},
                     OffsetOf(l, us, encoding));
          return;
        }
        FetchEntry e;
        e.url = std::string(url);
        if (len != "-") {
          e.length = ParseU64(len);
          if (!e.length) {
            out->Error("fetch_malformed", file, l.number,
                       "length " + Excerpt(len) + " is neither a number of octets nor '-'", {},
                       OffsetOf(l, ls, encoding));
            return;
          }
        }
        std::string decoded = PercentDecodePath(t.substr(i));
        auto canonical = CheckListedPath(decoded, file, l, out);
        if (!canonical) return;
        if (!StartsWith(*canonical, "data/")) {
          out->Error("fetch_tag_file", file, l.number,
                     "lists " + ShowPath(*canonical) +
                         ", which is not under data/ (fetch.txt lists payload files only)",
                     *canonical);
          return;
        }
        if (auto it = seen.find(*canonical); it != seen.end()) {
          out->Error("duplicate_entry", file, l.number,
                     "duplicate entry for " + ShowPath(*canonical) + " (first on line " +
                         std::to_string(it->second) + ")",
                     *canonical);
          return;
        }
        seen.emplace(*canonical, l.number);
        e.path = *canonical;
        e.line = l.number;
        entries.push_back(std::move(e));
      },
      [&](const TextIssue& i) { ReportIssue(i, file, out); });
  return entries;
}

}  // namespace vigil::formats
