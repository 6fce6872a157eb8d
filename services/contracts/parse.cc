#include "services/contracts/parse.h"

#include <date/tz.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "services/common/text.h"
#include "services/common/time.h"
#include "services/contracts/calendar.h"
#include "services/contracts/canonical.h"
#include "services/contracts/location_address.h"
#include "services/contracts/parse_scalars.h"
#include "services/contracts/safe_yaml.h"
#include "storage/hash.h"
#include "storage/key_codec.h"

namespace vigil::contracts {
namespace {

constexpr int kMaxCollectedErrors = 10000;

struct Error {
  size_t file = 0;
  int line = 0;
  int column = 0;
  std::string text;
};

// One key of a YAML map with its value.
struct Field {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// How a node is described in "expected X, got Y".
std::string Describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return n.Tag() == "!" ? "the quoted string " + Quote(n.Scalar()) : Quote(n.Scalar());
    default:
      return "nothing";
  }
}

bool IsPlain(const YAML::Node& n) { return n.IsScalar() && n.Tag() != "!"; }

std::string JoinNames(const std::vector<std::string_view>& v) {
  std::string s;
  for (auto x : v) s += (s.empty() ? "" : ", ") + std::string(x);
  return s;
}

constexpr std::pair<std::string_view, Layout> kLayouts[] = {
    {"mirror", Layout::kMirror},        {"dated-folders", Layout::kDatedFolders},
    {"rsnapshot", Layout::kRsnapshot},  {"dated-files", Layout::kDatedFiles},
    {"bagit-bags", Layout::kBagitBags}, {"restic-snapshots", Layout::kResticSnapshots},
};

Layout DefaultLayout(const std::string& format) {
  if (format == "bagit") return Layout::kBagitBags;
  if (format == "restic") return Layout::kResticSnapshots;
  return Layout::kMirror;
}

// The formats a layout goes with, for messages; empty if `format` fits.
std::string LayoutFormatMismatch(Layout l, const std::string& format) {
  switch (l) {
    case Layout::kBagitBags:
      return format == "bagit" ? "" : "bagit";
    case Layout::kResticSnapshots:
      return format == "restic" ? "" : "restic";
    default:
      return format == "dir" || format == "sumfile" ? "" : "dir or sumfile";
  }
}

constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

// Where in the text a name (location, tenant) was referenced.
struct Ref {
  std::string name;
  size_t file;
  SourcePos pos;
  std::string path;
};

class Parser;

// A YAML map checked against its allowed keys.
class Map {
 public:
  Map(Parser* p, const YAML::Node& node, std::string path, std::vector<std::string_view> allowed,
      const SourcePos& fallback);
  bool ok() const { return ok_; }
  const Field* Get(std::string_view key) const {
    for (const auto& f : fields_) {
      if (f.key == key) return &f;
    }
    return nullptr;
  }
  const std::vector<Field>& fields() const { return fields_; }
  const std::string& path() const { return path_; }
  std::string Sub(std::string_view key) const { return path_ + "." + std::string(key); }
  const SourcePos& pos() const { return pos_; }

 private:
  bool ok_ = false;
  std::string path_;
  SourcePos pos_;
  std::vector<Field> fields_;
};

class Parser {
 public:
  Parser(const KnownNames& known, int64_t budget)
      : known_(known), limit_(static_cast<uint64_t>(budget)), budget_(budget) {}

  // Counts `n` more YAML values walked. Aliases let a small text stand for
  // a huge tree (a list of aliases of lists of aliases...): past the budget
  // (about one value per byte of text) one error is reported and every
  // further map and list is skipped.
  bool Spend(size_t n, const SourcePos& pos) {
    if (budget_ < 0) return false;
    budget_ -= static_cast<int64_t>(n);
    if (budget_ >= 0) return true;
    Err(pos, "yaml",
        "too many values once aliases are expanded: more than " + GroupDigits(limit_) +
            " (the limit: 10,000 plus one per byte of the files); anchors and aliases may not "
            "multiply the size of a manifest");
    return false;
  }

  void File(size_t index, const SourceFile& f);
  void CrossChecks();
  Manifest& manifest() { return m_; }
  std::vector<Error>& errors() { return errors_; }
  int64_t dropped() const { return dropped_; }

  SourcePos PosOf(const YAML::Node& n, const SourcePos& fallback) const {
    YAML::Mark m = n.Mark();
    if (m.line < 0 || m.column < 0) return fallback;
    return SourcePos{file_, m.line + 1, m.column + 1};
  }
  void Err(const SourcePos& pos, const std::string& path, const std::string& what) {
    ErrAt(file_index_, pos, path, what);
  }
  void ErrAt(size_t file, const SourcePos& pos, const std::string& path, const std::string& what) {
    if (errors_.size() >= kMaxCollectedErrors) {
      ++dropped_;
      return;
    }
    int line = std::max(pos.line, 1), col = std::max(pos.column, 1);
    errors_.push_back({file, line, col,
                       pos.file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " +
                           path + ": " + what});
  }

  // --- typed values; each reports its own errors and returns false on one.
  SourcePos ValuePos(const Field& f, const Map& m) const {
    return PosOf(f.value, PosOf(f.key_node, m.pos()));
  }
  bool Scalar(const Field& f, const Map& m, const std::string& expected) {
    if (f.value.IsScalar()) return true;
    Err(ValuePos(f, m), m.Sub(f.key), "expected " + expected + ", got " + Describe(f.value));
    return false;
  }
  // Reports a missing required field.
  const Field* Need(const Map& m, std::string_view key) {
    const Field* f = m.Get(key);
    if (f == nullptr) Err(m.pos(), m.Sub(key), "missing required field");
    return f;
  }
  bool String(const Map& m, std::string_view key, bool required, std::string* out) {
    const Field* f = required ? Need(m, key) : m.Get(key);
    if (f == nullptr) return !required;
    if (!Scalar(*f, m, "a string")) return false;
    if (required && f->value.Scalar().empty()) {
      Err(ValuePos(*f, m), m.Sub(key), "must not be empty");
      return false;
    }
    *out = f->value.Scalar();
    return true;
  }
  bool Name(const Map& m, std::string_view key, std::string* out) {
    if (!String(m, key, true, out)) return false;
    if (!IsValidName(*out)) {
      Err(ValuePos(*m.Get(key), m), m.Sub(key),
          "invalid name " + Quote(*out) + "; expected " + kNameRule);
      return false;
    }
    return true;
  }
  bool Bool(const Map& m, std::string_view key, bool* out) {
    const Field* f = m.Get(key);
    if (f == nullptr) return true;
    const std::string& s = f->value.IsScalar() ? f->value.Scalar() : std::string();
    if (IsPlain(f->value) && (s == "true" || s == "True" || s == "TRUE")) {
      *out = true;
      return true;
    }
    if (IsPlain(f->value) && (s == "false" || s == "False" || s == "FALSE")) {
      *out = false;
      return true;
    }
    Err(ValuePos(*f, m), m.Sub(key), "expected true or false, got " + Describe(f->value));
    return false;
  }
  bool Int(const Map& m, std::string_view key, bool required, int64_t min, int64_t max,
           int64_t* out) {
    const Field* f = required ? Need(m, key) : m.Get(key);
    if (f == nullptr) return !required;
    SourcePos pos = ValuePos(*f, m);
    std::string range =
        max == INT64_MAX ? "an integer >= " + std::to_string(min)
                         : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (!IsPlain(f->value)) {
      Err(pos, m.Sub(key), "expected " + range + ", got " + Describe(f->value));
      return false;
    }
    const std::string& s = f->value.Scalar();
    auto v = ParseDecimal(s);
    if (!v) {
      std::string why = LooksNumeric(s) && s.find_first_of(".eE") != std::string::npos
                            ? " (not a whole number)"
                            : "";
      Err(pos, m.Sub(key), "expected " + range + ", got " + Quote(s) + why);
      return false;
    }
    if (*v < min || *v > max) {
      Err(pos, m.Sub(key), "expected " + range + ", got " + std::to_string(*v));
      return false;
    }
    *out = *v;
    return true;
  }
  // A plain decimal number ("7.5", "3", "0.25") from min to max.
  bool Number(const Map& m, std::string_view key, double min, double max, double* out) {
    const Field* f = m.Get(key);
    if (f == nullptr) return true;
    const std::string range = "a number from " + FormatNumber(min) + " to " + FormatNumber(max);
    const std::string s = IsPlain(f->value) ? f->value.Scalar() : std::string();
    std::optional<double> v = ParsePlainNumber(s);
    if (!IsPlain(f->value) || !v) {
      Err(ValuePos(*f, m), m.Sub(key),
          "expected " + range + ", got " +
              (IsPlain(f->value) ? Quote(s) : std::string(Describe(f->value))));
      return false;
    }
    if (*v < min || *v > max) {
      Err(ValuePos(*f, m), m.Sub(key), "expected " + range + ", got " + s);
      return false;
    }
    *out = *v;
    return true;
  }
  // A duration > 0 and at most `max` (0 = kMaxDurationNs).
  bool Duration(const Map& m, std::string_view key, bool required, int64_t max, int64_t* out) {
    const Field* f = required ? Need(m, key) : m.Get(key);
    if (f == nullptr) return !required;
    constexpr const char* kExpected = "a duration like 90s, 15m, 12h, 30d, 2w or 1d12h";
    if (!Scalar(*f, m, kExpected)) return false;
    const std::string& text = f->value.Scalar();
    const int64_t limit = max > 0 ? max : kMaxDurationNs;
    const std::string out_of_range =
        "duration out of range: must be at most " + FormatDuration(limit) +
        (limit == kMaxDurationNs ? " (100 years)" : "") + ", got " + Quote(text);
    std::string error;
    auto d = ParseDuration(text, &error);
    if (!d) {
      // Well-formed but past int64 nanoseconds: out of range, not a typo.
      Err(ValuePos(*f, m), m.Sub(key),
          LooksLikeDuration(text) ? out_of_range
                                  : "expected " + std::string(kExpected) + ", got " + Quote(text));
      return false;
    }
    if (*d <= 0) {
      Err(ValuePos(*f, m), m.Sub(key), "must be longer than 0");
      return false;
    }
    if (*d > limit) {
      Err(ValuePos(*f, m), m.Sub(key), out_of_range);
      return false;
    }
    *out = *d;
    return true;
  }
  bool Size(const Map& m, std::string_view key, bool per_second, uint64_t* out) {
    const Field* f = m.Get(key);
    if (f == nullptr) return true;
    std::string expected =
        per_second ? "bytes per second like 50MiB/s or 20MB/s (units B, KB, MB, GB, TB, KiB, "
                     "MiB, GiB, TiB), or a plain integer"
                   : "a size like 200GiB or 500MB (units B, KB, MB, GB, TB, KiB, MiB, GiB, "
                     "TiB), or a plain integer of bytes";
    if (!Scalar(*f, m, expected)) return false;
    std::string error;
    auto v = ParseSize(f->value.Scalar(), per_second, &error);
    if (!v) {
      Err(ValuePos(*f, m), m.Sub(key),
          "expected " + expected + ", got " + Quote(f->value.Scalar()) + " (" + error + ")");
      return false;
    }
    *out = *v;
    return true;
  }
  bool TimeZone(const Map& m, std::string_view key, bool required, std::string* out) {
    std::string tz;
    if (!String(m, key, required, &tz)) return false;
    if (m.Get(key) == nullptr) return true;
    if (!IsKnownTimeZone(tz)) {
      Err(ValuePos(*m.Get(key), m), m.Sub(key),
          "unknown time zone " + Quote(tz) + "; expected an IANA zone like Europe/Paris or UTC");
      return false;
    }
    *out = tz;
    return true;
  }
  // A list field: returns false (after reporting) if present and not a list.
  // A missing or null optional list is an empty list.
  bool List(const Map& m, std::string_view key, bool required_non_empty, YAML::Node* out) {
    const Field* f = required_non_empty ? Need(m, key) : m.Get(key);
    if (f == nullptr) return !required_non_empty;
    if (!required_non_empty && f->value.IsNull()) return true;
    if (!f->value.IsSequence()) {
      Err(ValuePos(*f, m), m.Sub(key), "expected a list, got " + Describe(f->value));
      return false;
    }
    if (required_non_empty && f->value.size() == 0) {
      Err(ValuePos(*f, m), m.Sub(key), "must not be empty");
      return false;
    }
    if (!Spend(f->value.size(), ValuePos(*f, m))) return false;
    *out = f->value;
    return true;
  }

  const std::string& file() const { return file_; }

 private:
  void Document(const YAML::Node& doc, size_t index);
  void ParseLocation(const YAML::Node& doc, const std::string& label);
  // The `s3:` / `sftp:` block of a location of type l->kind.
  void ParseLocationAddress(const Map& m, Location* l);
  // `readBudget: {bytesPerDay, requestsPerDay}` of a Location.
  void ParseReadBudget(const Map& m, Location* l);
  void ParseTenant(const YAML::Node& doc, const std::string& label);
  void ParseContract(const YAML::Node& doc, const std::string& label);
  void ParseAlertChannel(const YAML::Node& doc, const std::string& label);
  void ParseWindow(const YAML::Node& n, const std::string& path, const SourcePos& fallback,
                   WeeklyWindow* w, bool* ok);
  void ParseAsset(const YAML::Node& n, const std::string& path, const SourcePos& fallback, Asset* a,
                  std::map<std::string, SourcePos>* set_names, bool* ok);
  void ParseCommitment(const YAML::Node& n, const std::string& path, const SourcePos& fallback,
                       const Contract& c, Commitment* out, bool* ok);
  void ParseRansomware(const Map& m, RansomwareSpec* out);

  const KnownNames& known_;
  const uint64_t limit_;
  int64_t budget_;
  Manifest m_;
  std::vector<Error> errors_;
  int64_t dropped_ = 0;
  size_t file_index_ = 0;
  std::string file_;
  // Cross-document state, kept for documents with errors too (so that a
  // Location with a bad field does not also make its users "unknown").
  std::vector<Ref> location_decls_;  // pos: the document's
  std::vector<Ref> tenant_decls_;
  std::vector<Ref> channel_decls_;
  std::vector<Ref> location_refs_;
  std::vector<std::pair<Ref, SourcePos>> contract_tenants_;  // tenant ref, contract pos
  // Contracts whose effectiveFrom is a date, to resolve in the tenant's zone.
  std::vector<std::pair<size_t, ParsedTime>> dated_contracts_;
};

Map::Map(Parser* p, const YAML::Node& node, std::string path, std::vector<std::string_view> allowed,
         const SourcePos& fallback)
    : path_(std::move(path)), pos_(p->PosOf(node, fallback)) {
  if (!node.IsMap()) {
    p->Err(pos_, path_, "expected a map, got " + Describe(node));
    return;
  }
  if (!p->Spend(node.size(), pos_)) return;
  ok_ = true;
  for (auto it = node.begin(); it != node.end(); ++it) {
    Field f{"", it->first, it->second};
    SourcePos kpos = p->PosOf(f.key_node, pos_);
    if (!f.key_node.IsScalar()) {
      p->Err(kpos, path_, "a key must be a plain string, got " + Describe(f.key_node));
      continue;
    }
    f.key = f.key_node.Scalar();
    if (std::find(allowed.begin(), allowed.end(), f.key) == allowed.end()) {
      p->Err(kpos, Sub(f.key),
             "unknown field " + Quote(f.key) + "; expected one of: " + JoinNames(allowed));
      continue;
    }
    if (const Field* first = Get(f.key)) {
      SourcePos fp = p->PosOf(first->key_node, pos_);
      p->Err(kpos, Sub(f.key), "duplicate key (first at line " + std::to_string(fp.line) + ")");
      continue;
    }
    fields_.push_back(std::move(f));
  }
}

// The name a document is known by in field paths: Kind(name), Kind(?) if
// the name is missing or not a string.
std::string Label(const YAML::Node& doc, const char* kind, const char* name_key) {
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == name_key && it->second.IsScalar() &&
        !it->second.Scalar().empty()) {
      std::string n = it->second.Scalar();
      if (n.size() > 128) n = n.substr(0, 128) + "...";
      return std::string(kind) + "(" + n + ")";
    }
  }
  return std::string(kind) + "(?)";
}

void Parser::File(size_t index, const SourceFile& f) {
  file_index_ = index;
  file_ = f.name;
  SourcePos start{file_, 1, 1};
  std::vector<YAML::Node> docs;
  try {
    docs = SafeLoadAll(f.text);
  } catch (const LimitExceeded& e) {
    SourcePos pos = start;
    if (e.mark.line >= 0 && e.mark.column >= 0) pos = {file_, e.mark.line + 1, e.mark.column + 1};
    Err(pos, "yaml", e.what);
    return;
  } catch (const YAML::DeepRecursion& e) {
    // Not reached with kMaxNestingDepth below yaml-cpp's own limit; kept
    // so that its "bad file" never shows.
    SourcePos pos = start;
    if (e.mark.line >= 0 && e.mark.column >= 0) pos = {file_, e.mark.line + 1, e.mark.column + 1};
    Err(pos, "yaml", "nested too deeply: more than " + std::to_string(e.depth() - 1) + " levels");
    return;
  } catch (const YAML::Exception& e) {
    SourcePos pos = start;
    if (e.mark.line >= 0 && e.mark.column >= 0) pos = {file_, e.mark.line + 1, e.mark.column + 1};
    Err(pos, "yaml", "syntax error: " + e.msg);
    return;
  }
  size_t n = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (docs[i].IsNull()) continue;  // an empty document (a trailing ---)
    ++n;
    Document(docs[i], i);
  }
  if (n == 0)
    Err(start, "file",
        "no documents; expected Location, Tenant, Contract or AlertChannel documents");
}

void Parser::Document(const YAML::Node& doc, size_t index) {
  std::string path = "document[" + std::to_string(index) + "]";
  SourcePos start{file_, 1, 1};
  SourcePos pos = PosOf(doc, start);
  if (!doc.IsMap()) {
    Err(pos, path, "expected a map with apiVersion and kind, got " + Describe(doc));
    return;
  }
  YAML::Node api, kind;
  bool has_api = false, has_kind = false;
  SourcePos api_pos = pos, kind_pos = pos;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    if (it->first.Scalar() == "apiVersion") {
      api = it->second;
      has_api = true;
      api_pos = PosOf(api, PosOf(it->first, pos));
    } else if (it->first.Scalar() == "kind") {
      kind = it->second;
      has_kind = true;
      kind_pos = PosOf(kind, PosOf(it->first, pos));
    }
  }
  bool ok = true;
  if (!has_api) {
    Err(pos, path + ".apiVersion", "missing required field; expected apiVersion: vigil/v1");
    ok = false;
  } else if (!api.IsScalar() || api.Scalar() != "vigil/v1") {
    Err(api_pos, path + ".apiVersion", "expected 'vigil/v1', got " + Describe(api));
    ok = false;
  }
  if (!has_kind) {
    Err(pos, path + ".kind",
        "missing required field; expected Location, Tenant, Contract or AlertChannel");
    return;
  }
  std::string k = kind.IsScalar() ? kind.Scalar() : "";
  if (k != "Location" && k != "Tenant" && k != "Contract" && k != "AlertChannel") {
    Err(kind_pos, path + ".kind",
        "unknown kind " + Describe(kind) + "; expected Location, Tenant, Contract or AlertChannel");
    return;
  }
  if (!ok) return;
  if (k == "Location") {
    ParseLocation(doc, Label(doc, "Location", "name"));
  } else if (k == "Tenant") {
    ParseTenant(doc, Label(doc, "Tenant", "name"));
  } else if (k == "AlertChannel") {
    ParseAlertChannel(doc, Label(doc, "AlertChannel", "name"));
  } else {
    ParseContract(doc, Label(doc, "Contract", "tenant"));
  }
}

void Parser::ParseLocation(const YAML::Node& doc, const std::string& label) {
  Map m(this, doc, label,
        {"apiVersion", "kind", "name", "site", "type", "s3", "sftp", "offsite", "immutable",
         "ioBudget", "readBudget", "timezone", "maintenanceWindows"},
        SourcePos{file_, 1, 1});
  size_t before = errors_.size();
  Location l;
  l.pos = m.pos();
  if (Name(m, "name", &l.name)) {
    location_decls_.push_back(Ref{l.name, file_index_, m.pos(), m.Sub("name")});
  }
  String(m, "site", true, &l.site);
  if (String(m, "type", false, &l.kind) && l.kind != "filesystem" && l.kind != "s3" &&
      l.kind != "sftp") {
    Err(ValuePos(*m.Get("type"), m), m.Sub("type"),
        "unknown location type " + Quote(l.kind) + "; expected filesystem, s3 or sftp");
  } else {
    ParseLocationAddress(m, &l);
  }
  Bool(m, "offsite", &l.offsite);
  Bool(m, "immutable", &l.immutable);
  Size(m, "ioBudget", true, &l.io_budget_bytes_per_s);
  ParseReadBudget(m, &l);
  TimeZone(m, "timezone", false, &l.timezone);
  YAML::Node windows;
  if (List(m, "maintenanceWindows", false, &windows) && windows) {
    for (size_t i = 0; i < windows.size(); ++i) {
      WeeklyWindow w;
      bool ok = true;
      ParseWindow(windows[i], m.Sub("maintenanceWindows") + "[" + std::to_string(i) + "]", m.pos(),
                  &w, &ok);
      l.maintenance_windows.push_back(w);
    }
  }
  if (errors_.size() != before || !m.ok()) return;
  m_.locations.push_back(std::move(l));
}

void Parser::ParseLocationAddress(const Map& m, Location* l) {
  for (const char* block : {"s3", "sftp"}) {
    const Field* f = m.Get(block);
    if (f == nullptr || l->kind == block) continue;
    Err(PosOf(f->key_node, m.pos()), m.Sub(block),
        std::string("applies to type: ") + block + " only (this location's type is " + l->kind +
            ")");
  }
  if (l->kind == "filesystem") return;
  const Field* f = m.Get(l->kind);
  if (f == nullptr) {
    Err(m.pos(), m.Sub(l->kind),
        "missing required field: a location of type " + l->kind + " needs its " + l->kind +
            " block");
    return;
  }
  // A string checked by one of location_address.h's rules.
  auto checked = [&](const Map& sub, std::string_view key, bool required,
                     std::string (*problem)(std::string_view), std::string* out) {
    std::string v;
    if (!String(sub, key, required, &v) || sub.Get(key) == nullptr) return;
    if (std::string why = problem(v); !why.empty()) {
      Err(ValuePos(*sub.Get(key), sub), sub.Sub(key), why);
      return;
    }
    *out = v;
  };
  const SourcePos at = ValuePos(*f, m);
  if (l->kind == "s3") {
    Map s(this, f->value, m.Sub("s3"),
          {"endpoint", "region", "bucket", "prefix", "addressing", "caFile"}, at);
    if (!s.ok()) return;
    checked(s, "endpoint", true, S3EndpointProblem, &l->s3.endpoint);
    checked(s, "region", false, S3RegionProblem, &l->s3.region);
    checked(s, "bucket", true, S3BucketProblem, &l->s3.bucket);
    checked(s, "prefix", false, S3PrefixProblem, &l->s3.prefix);
    std::string addressing = "path";
    checked(s, "addressing", false, S3AddressingProblem, &addressing);
    l->s3.virtual_host = addressing == "virtual-host";
    checked(s, "caFile", false, AbsoluteFileProblem, &l->s3.ca_file);
    return;
  }
  Map s(this, f->value, m.Sub("sftp"), {"host", "port", "user", "hostKey", "path"}, at);
  if (!s.ok()) return;
  checked(s, "host", true, SftpHostProblem, &l->sftp.host);
  int64_t port = l->sftp.port;
  if (Int(s, "port", false, 1, 65535, &port)) l->sftp.port = static_cast<int>(port);
  checked(s, "user", true, SftpUserProblem, &l->sftp.user);
  checked(s, "hostKey", true, SshHostKeyProblem, &l->sftp.host_key);
  checked(s, "path", true, SftpPathProblem, &l->sftp.path);
}

void Parser::ParseReadBudget(const Map& m, Location* l) {
  const Field* f = m.Get("readBudget");
  if (f == nullptr) return;
  Map b(this, f->value, m.Sub("readBudget"), {"bytesPerDay", "requestsPerDay"}, ValuePos(*f, m));
  if (!b.ok()) return;
  if (b.Get("bytesPerDay") == nullptr && b.Get("requestsPerDay") == nullptr) {
    Err(ValuePos(*f, m), m.Sub("readBudget"),
        "expected bytesPerDay, requestsPerDay or both (a budget that limits nothing)");
    return;
  }
  if (Size(b, "bytesPerDay", false, &l->read_bytes_per_day) && b.Get("bytesPerDay") != nullptr &&
      l->read_bytes_per_day == 0) {
    Err(ValuePos(*b.Get("bytesPerDay"), b), b.Sub("bytesPerDay"),
        "must be more than 0 (a location that may not be read is not monitored; leave it out "
        "of the contracts instead)");
  }
  int64_t requests = 0;
  if (Int(b, "requestsPerDay", false, 1, INT64_MAX, &requests)) {
    l->read_requests_per_day = static_cast<uint64_t>(requests);
  }
}

void Parser::ParseWindow(const YAML::Node& n, const std::string& path, const SourcePos& fallback,
                         WeeklyWindow* w, bool* ok) {
  Map m(this, n, path, {"days", "start", "duration"}, fallback);
  if (!m.ok()) {
    *ok = false;
    return;
  }
  if (const Field* f = Need(m, "days")) {
    SourcePos pos = ValuePos(*f, m);
    const char* expected = "expected \"daily\" or a list of mon, tue, wed, thu, fri, sat, sun";
    if (f->value.IsScalar()) {
      if (f->value.Scalar() == "daily") {
        w->days = 0x7f;
      } else {
        Err(pos, m.Sub("days"), std::string(expected) + ", got " + Describe(f->value));
        *ok = false;
      }
    } else if (f->value.IsSequence() && f->value.size() > 0) {
      if (!Spend(f->value.size(), pos)) {
        *ok = false;
        return;
      }
      w->days = 0;
      for (size_t i = 0; i < f->value.size(); ++i) {
        const YAML::Node d = f->value[i];
        std::string p = m.Sub("days") + "[" + std::to_string(i) + "]";
        auto it = d.IsScalar() ? std::find(std::begin(kDays), std::end(kDays), d.Scalar())
                               : std::end(kDays);
        if (it == std::end(kDays)) {
          Err(PosOf(d, pos), p,
              "expected a day name (mon, tue, wed, thu, fri, sat, sun), got " + Describe(d));
          *ok = false;
          continue;
        }
        uint8_t bit = static_cast<uint8_t>(1u << (it - std::begin(kDays)));
        if (w->days & bit) {
          Err(PosOf(d, pos), p, "day " + Quote(d.Scalar()) + " listed twice");
          *ok = false;
        }
        w->days |= bit;
      }
    } else {
      Err(pos, m.Sub("days"), std::string(expected) + ", got " + Describe(f->value));
      *ok = false;
    }
  } else {
    *ok = false;
  }
  std::string start;
  if (String(m, "start", true, &start)) {
    if (std::optional<int> minute = ParseClockMinutes(start)) {
      w->start_minute = *minute;
    } else {
      Err(ValuePos(*m.Get("start"), m), m.Sub("start"),
          "expected a local time HH:MM from 00:00 to 23:59, got " + Quote(start));
      *ok = false;
    }
  } else {
    *ok = false;
  }
  if (!Duration(m, "duration", true, 7 * kDayNs, &w->duration_ns)) *ok = false;
}

void Parser::ParseTenant(const YAML::Node& doc, const std::string& label) {
  Map m(this, doc, label,
        {"apiVersion", "kind", "name", "displayName", "timezone", "language", "contact", "alerts"},
        SourcePos{file_, 1, 1});
  size_t before = errors_.size();
  Tenant t;
  t.pos = m.pos();
  if (Name(m, "name", &t.name)) {
    tenant_decls_.push_back(Ref{t.name, file_index_, m.pos(), m.Sub("name")});
  }
  String(m, "displayName", false, &t.display_name);
  TimeZone(m, "timezone", true, &t.timezone);
  if (String(m, "language", false, &t.language) && t.language != "en" && t.language != "fr") {
    Err(ValuePos(*m.Get("language"), m), m.Sub("language"),
        "unknown language " + Quote(t.language) + "; expected en or fr");
  }
  String(m, "contact", false, &t.contact);
  if (const Field* f = m.Get("alerts")) {
    Map a(this, f->value, m.Sub("alerts"), {"contact"}, ValuePos(*f, m));
    if (a.ok() && Bool(a, "contact", &t.alert_contact) && t.alert_contact && t.contact.empty()) {
      Err(ValuePos(*a.Get("contact"), a), a.Sub("contact"),
          "alerts to the client's contact need a contact (e.g. contact: it@client.example)");
    }
  }
  if (errors_.size() != before || !m.ok()) return;
  m_.tenants.push_back(std::move(t));
}

void Parser::ParseAlertChannel(const YAML::Node& doc, const std::string& label) {
  Map m(this, doc, label,
        {"apiVersion", "kind", "name", "webhook", "secret", "email", "smtp", "from", "starttls",
         "user", "passwordSecret", "tenants"},
        SourcePos{file_, 1, 1});
  size_t before = errors_.size();
  AlertChannel c;
  c.pos = m.pos();
  if (Name(m, "name", &c.name)) {
    channel_decls_.push_back(Ref{c.name, file_index_, m.pos(), m.Sub("name")});
  }
  // A secret is a file name in the coordinator's --secrets directory.
  auto secret = [&](std::string_view key, std::string* out) {
    if (String(m, key, true, out) && !IsValidName(*out)) {
      Err(ValuePos(*m.Get(key), m), m.Sub(key),
          "invalid secret name " + Quote(*out) +
              "; expected the name of a file in the coordinator's --secrets directory (" +
              kNameRule + ")");
    }
  };
  auto url = [&](std::string_view key, std::vector<std::string> schemes, std::string* out) {
    if (!String(m, key, true, out)) return;
    for (const auto& sch : schemes) {
      if (out->rfind(sch + "://", 0) == 0 && out->size() > sch.size() + 3) return;
    }
    std::string want;
    for (const auto& sch : schemes) want += (want.empty() ? "" : " or ") + sch + "://";
    Err(ValuePos(*m.Get(key), m), m.Sub(key), "expected a URL starting with " + want);
  };
  auto strings = [&](std::string_view key, bool required, std::vector<std::string>* out) {
    YAML::Node list;
    if (!List(m, key, required, &list) || !list) return;
    for (size_t i = 0; i < list.size(); ++i) {
      std::string path = m.Sub(key) + "[" + std::to_string(i) + "]";
      if (!list[i].IsScalar() || list[i].Scalar().empty()) {
        Err(PosOf(list[i], m.pos()), path, "expected a non-empty string, got " + Describe(list[i]));
        continue;
      }
      out->push_back(list[i].Scalar());
    }
  };
  const bool webhook = m.Get("webhook") != nullptr, email = m.Get("email") != nullptr;
  if (webhook == email) {
    Err(m.pos(), label, "expected exactly one of webhook (a URL) and email (a list of addresses)");
  } else if (webhook) {
    url("webhook", {"http", "https"}, &c.webhook_url);
    secret("secret", &c.secret);
    for (const char* k : {"smtp", "from", "starttls", "user", "passwordSecret"}) {
      if (const Field* f = m.Get(k)) {
        Err(PosOf(f->key_node, m.pos()), m.Sub(k), "applies to email channels only");
      }
    }
  } else {
    strings("email", true, &c.email_to);
    for (const auto& a : c.email_to) {
      if (a.find('@') == std::string::npos || a.find_first_of(" <>\r\n,") != std::string::npos) {
        Err(ValuePos(*m.Get("email"), m), m.Sub("email"),
            "expected plain e-mail addresses like ops@msp.example, got " + Quote(a));
      }
    }
    url("smtp", {"smtp", "smtps"}, &c.smtp_url);
    if (String(m, "from", true, &c.from) &&
        (c.from.find('@') == std::string::npos ||
         c.from.find_first_of(" <>\r\n,") != std::string::npos)) {
      Err(ValuePos(*m.Get("from"), m), m.Sub("from"),
          "expected a plain e-mail address like vigil@msp.example, got " + Quote(c.from));
    }
    Bool(m, "starttls", &c.starttls);
    String(m, "user", false, &c.smtp_user);
    if (!c.smtp_user.empty() || m.Get("passwordSecret") != nullptr) {
      secret("passwordSecret", &c.password_secret);
      if (c.smtp_user.empty()) Need(m, "user");
    }
    if (const Field* f = m.Get("secret")) {
      Err(PosOf(f->key_node, m.pos()), m.Sub("secret"), "applies to webhook channels only");
    }
  }
  strings("tenants", false, &c.tenants);
  if (errors_.size() != before || !m.ok()) return;
  m_.alert_channels.push_back(std::move(c));
}

void Parser::ParseContract(const YAML::Node& doc, const std::string& label) {
  Map m(this, doc, label,
        {"apiVersion", "kind", "tenant", "reference", "effectiveFrom", "assets", "commitments",
         "outOfScope", "ransomware"},
        SourcePos{file_, 1, 1});
  if (!m.ok()) return;
  size_t before = errors_.size();
  Contract c;
  c.pos = m.pos();
  if (Name(m, "tenant", &c.tenant)) {
    contract_tenants_.emplace_back(
        Ref{c.tenant, file_index_, ValuePos(*m.Get("tenant"), m), m.Sub("tenant")}, c.pos);
  }
  String(m, "reference", false, &c.reference);
  std::optional<ParsedTime> date_only;
  if (const Field* f = m.Get("effectiveFrom")) {
    if (Scalar(*f, m, "a date (2026-01-01) or an RFC 3339 timestamp")) {
      auto t = ParseTime(f->value.Scalar());
      if (!t) {
        Err(ValuePos(*f, m), m.Sub("effectiveFrom"),
            "expected a date like 2026-01-01 or an RFC 3339 timestamp like "
            "2026-01-01T00:00:00+01:00 (years 1970 to 2261), got " +
                Quote(f->value.Scalar()));
      } else {
        c.effective_from_ns = t->ns;
        if (t->date_only) date_only = t;
      }
    }
  }
  // Assets and their backup sets.
  YAML::Node assets;
  std::map<std::string, SourcePos> asset_names, set_names;
  if (List(m, "assets", true, &assets)) {
    for (size_t i = 0; i < assets.size(); ++i) {
      std::string path = m.Sub("assets") + "[" + std::to_string(i) + "]";
      Asset a;
      bool ok = true;
      ParseAsset(assets[i], path, m.pos(), &a, &set_names, &ok);
      if (!a.name.empty()) {
        auto [it, inserted] = asset_names.emplace(a.name, a.pos);
        if (!inserted) {
          Err(a.pos, path + ".name",
              "duplicate asset " + Quote(a.name) + " (first at " + it->second.ToString() +
                  "); asset names are unique in a contract");
        }
      }
      c.assets.push_back(std::move(a));
    }
  }
  // Commitments.
  YAML::Node commitments;
  if (List(m, "commitments", false, &commitments) && commitments) {
    for (size_t i = 0; i < commitments.size(); ++i) {
      std::string path = m.Sub("commitments") + "[" + std::to_string(i) + "]";
      Commitment cm;
      bool ok = true;
      ParseCommitment(commitments[i], path, m.pos(), c, &cm, &ok);
      if (!ok) continue;
      // At most one commitment of each kind per asset.
      auto covers = [&](const Commitment& x, const std::string& asset) {
        return x.assets.empty() ||
               std::find(x.assets.begin(), x.assets.end(), asset) != x.assets.end();
      };
      for (size_t j = 0; j < c.commitments.size(); ++j) {
        const Commitment& other = c.commitments[j];
        if (other.kind != cm.kind) continue;
        const Asset* overlap = nullptr;
        for (const auto& a : c.assets) {
          if (covers(cm, a.name) && covers(other, a.name)) {
            overlap = &a;
            break;
          }
        }
        if (overlap != nullptr) {
          Err(cm.pos, path + "." + std::string(CommitmentKindKey(cm.kind)),
              "a second " + std::string(CommitmentKindKey(cm.kind)) + " commitment for asset " +
                  Quote(overlap->name) + " (the first is at " + other.pos.ToString() +
                  "); an asset has at most one commitment of each kind");
          break;
        }
      }
      c.commitments.push_back(std::move(cm));
    }
  }
  // Out of scope.
  YAML::Node oos;
  if (List(m, "outOfScope", false, &oos) && oos) {
    for (size_t i = 0; i < oos.size(); ++i) {
      std::string path = m.Sub("outOfScope") + "[" + std::to_string(i) + "]";
      Map om(this, oos[i], path, {"item", "reason"}, m.pos());
      if (!om.ok()) continue;
      OutOfScope o;
      o.pos = om.pos();
      String(om, "item", true, &o.item);
      String(om, "reason", true, &o.reason);
      c.out_of_scope.push_back(std::move(o));
    }
  }
  ParseRansomware(m, &c.ransomware);
  if (errors_.size() != before) return;
  if (date_only) dated_contracts_.emplace_back(m_.contracts.size(), *date_only);
  m_.contracts.push_back(std::move(c));
}

// The `ransomware:` block of a Contract (model.h, RansomwareSpec).
void Parser::ParseRansomware(const Map& contract, RansomwareSpec* out) {
  const Field* f = contract.Get("ransomware");
  if (f == nullptr) return;
  const std::string path = contract.Sub("ransomware");
  const SourcePos pos = ValuePos(*f, contract);
  Map m(this, f->value, path,
        {"enabled", "renames", "extensionChanges", "deletionsPerExtension", "randomFiles",
         "structuredEntropyBits", "randomEntropyBits", "noteDirectories", "changeRate"},
        pos);
  if (!m.ok()) return;
  constexpr int64_t kMaxCount = 1'000'000'000;
  auto count = [&](const Map& in, std::string_view key, uint64_t* v) {
    int64_t x = static_cast<int64_t>(*v);
    if (Int(in, key, false, 1, kMaxCount, &x)) *v = static_cast<uint64_t>(x);
  };
  // A nested map of counts and fractions: {count: 100, fraction: 0.5}.
  auto nested = [&](std::string_view key,
                    std::vector<std::string_view> keys) -> std::optional<Map> {
    const Field* g = m.Get(key);
    if (g == nullptr) return std::nullopt;
    Map n(this, g->value, m.Sub(key), std::move(keys), ValuePos(*g, m));
    if (!n.ok()) return std::nullopt;
    return n;
  };
  Bool(m, "enabled", &out->enabled);
  count(m, "renames", &out->renames);
  count(m, "extensionChanges", &out->extension_changes);
  count(m, "noteDirectories", &out->note_directories);
  if (auto d = nested("deletionsPerExtension", {"count", "fraction"})) {
    count(*d, "count", &out->deletions_count);
    Number(*d, "fraction", 0, 1, &out->deletions_fraction);
  }
  if (auto r = nested("randomFiles", {"suspicious", "encrypted", "fraction"})) {
    count(*r, "suspicious", &out->random_files_suspicious);
    count(*r, "encrypted", &out->random_files_encrypted);
    Number(*r, "fraction", 0, 1, &out->random_files_fraction);
    if (out->random_files_encrypted < out->random_files_suspicious) {
      Err(r->pos(), r->path(),
          "encrypted (" + std::to_string(out->random_files_encrypted) +
              ") must be at least suspicious (" + std::to_string(out->random_files_suspicious) +
              ")");
    }
  }
  if (auto c = nested("changeRate", {"sigma", "files", "fraction"})) {
    Number(*c, "sigma", 0, 100, &out->change_rate_sigma);
    count(*c, "files", &out->change_rate_files);
    Number(*c, "fraction", 0, 1, &out->change_rate_fraction);
  }
  const bool s_ok = Number(m, "structuredEntropyBits", 0, 8, &out->structured_entropy_bits);
  const bool r_ok = Number(m, "randomEntropyBits", 0, 8, &out->random_entropy_bits);
  if (s_ok && r_ok && out->structured_entropy_bits > out->random_entropy_bits) {
    const Field* g = m.Get("randomEntropyBits");
    Err(g != nullptr ? ValuePos(*g, m) : m.pos(), m.Sub("randomEntropyBits"),
        "must be at least structuredEntropyBits (" + FormatNumber(out->structured_entropy_bits) +
            "), got " + FormatNumber(out->random_entropy_bits));
  }
}

void Parser::ParseAsset(const YAML::Node& n, const std::string& path, const SourcePos& fallback,
                        Asset* a, std::map<std::string, SourcePos>* set_names, bool* ok) {
  Map m(this, n, path, {"name", "description", "backupSets"}, fallback);
  if (!m.ok()) {
    *ok = false;
    return;
  }
  a->pos = m.pos();
  Name(m, "name", &a->name);
  String(m, "description", false, &a->description);
  YAML::Node sets;
  if (!List(m, "backupSets", true, &sets)) return;
  for (size_t i = 0; i < sets.size(); ++i) {
    std::string bpath = m.Sub("backupSets") + "[" + std::to_string(i) + "]";
    Map b(this, sets[i], bpath,
          {"name", "location", "path", "format", "layout", "pattern", "timeFromMtime",
           "contentHash", "mutable", "syncMarker"},
          m.pos());
    if (!b.ok()) continue;
    BackupSet s;
    s.pos = b.pos();
    if (Name(b, "name", &s.name)) {
      auto [it, inserted] = set_names->emplace(s.name, PosOf(b.Get("name")->value, b.pos()));
      if (!inserted) {
        Err(ValuePos(*b.Get("name"), b), b.Sub("name"),
            "duplicate backup set " + Quote(s.name) + " (first at " + it->second.ToString() +
                "); backup set names are unique in a contract");
      }
    }
    if (Name(b, "location", &s.location)) {
      location_refs_.push_back(
          Ref{s.location, file_index_, ValuePos(*b.Get("location"), b), b.Sub("location")});
    }
    if (String(b, "path", true, &s.path) && b.Get("path") != nullptr) {
      SourcePos pp = ValuePos(*b.Get("path"), b);
      if (s.path.front() == '/') {
        Err(pp, b.Sub("path"),
            "absolute path " + Quote(s.path) + "; expected a path relative to the location's root");
      } else if (!storage::IsValidRelativePath(s.path)) {
        Err(pp, b.Sub("path"),
            "invalid path " + Quote(s.path) +
                "; expected a relative path with no '..', '.' or empty component");
      }
    }
    bool format_ok = String(b, "format", false, &s.format);
    if (format_ok && s.format != "dir" && s.format != "bagit" && s.format != "sumfile" &&
        s.format != "restic") {
      Err(ValuePos(*b.Get("format"), b), b.Sub("format"),
          "unknown format " + Quote(s.format) + "; expected dir, bagit, sumfile or restic");
      format_ok = false;
    }
    s.layout = DefaultLayout(s.format);
    if (const Field* f = b.Get("layout")) {
      if (Scalar(*f, b, "a layout")) {
        const std::string& name = f->value.Scalar();
        auto it = std::find_if(std::begin(kLayouts), std::end(kLayouts),
                               [&](const auto& p) { return p.first == name; });
        if (it == std::end(kLayouts)) {
          Err(ValuePos(*f, b), b.Sub("layout"),
              "unknown layout " + Quote(name) +
                  "; expected mirror, dated-folders, rsnapshot, dated-files, bagit-bags or "
                  "restic-snapshots");
        } else {
          s.layout = it->second;
          std::string need = LayoutFormatMismatch(s.layout, s.format);
          if (format_ok && !need.empty()) {
            Err(ValuePos(*f, b), b.Sub("layout"),
                "layout " + Quote(name) + " needs format " + need + ", but format is " +
                    Quote(s.format));
          }
        }
      }
    }
    if (const Field* f = b.Get("pattern")) {
      if (s.layout != Layout::kDatedFiles) {
        Err(PosOf(f->key_node, b.pos()), b.Sub("pattern"),
            "only allowed with layout dated-files (layout is " + Quote(LayoutName(s.layout)) + ")");
      } else {
        String(b, "pattern", false, &s.pattern);
      }
    }
    if (const Field* f = b.Get("timeFromMtime")) {
      if (s.layout != Layout::kDatedFiles && s.layout != Layout::kDatedFolders) {
        Err(PosOf(f->key_node, b.pos()), b.Sub("timeFromMtime"),
            "only allowed with layouts dated-folders and dated-files (layout is " +
                Quote(LayoutName(s.layout)) + ")");
      } else {
        Bool(b, "timeFromMtime", &s.time_from_mtime);
      }
    }
    if (const Field* f = b.Get("contentHash")) {
      if (Scalar(*f, b, "a hash algorithm name")) {
        auto alg = storage::ParseAlgorithm(f->value.Scalar());
        if (!alg) {
          Err(ValuePos(*f, b), b.Sub("contentHash"),
              "unknown hash algorithm " + Quote(f->value.Scalar()) +
                  "; expected xxh3-128, sha256, sha512, sha1, md5, sha224 or sha384");
        } else {
          s.content_hash = std::string(storage::AlgorithmName(*alg));
        }
      }
    }
    s.mutable_ = s.layout == Layout::kMirror;
    bool mut = s.mutable_;
    if (Bool(b, "mutable", &mut)) {
      if (mut && s.layout != Layout::kMirror) {
        Err(ValuePos(*b.Get("mutable"), b), b.Sub("mutable"),
            "mutable: true is only allowed with layout mirror (layout is " +
                Quote(LayoutName(s.layout)) + ")");
      } else {
        s.mutable_ = mut;
      }
    }
    if (const Field* f = b.Get("syncMarker")) {
      if (s.layout != Layout::kMirror) {
        Err(PosOf(f->key_node, b.pos()), b.Sub("syncMarker"),
            "only allowed with layout mirror (layout is " + Quote(LayoutName(s.layout)) + ")");
      } else if (String(b, "syncMarker", false, &s.sync_marker) &&
                 !storage::IsValidRelativePath(s.sync_marker)) {
        Err(ValuePos(*f, b), b.Sub("syncMarker"),
            "invalid path " + Quote(s.sync_marker) +
                "; expected a file's path relative to the backup set's path, with no '..', '.' "
                "or empty component");
        s.sync_marker.clear();
      }
    }
    a->backup_sets.push_back(std::move(s));
  }
}

void Parser::ParseCommitment(const YAML::Node& n, const std::string& path,
                             const SourcePos& fallback, const Contract& c, Commitment* out,
                             bool* ok) {
  size_t before = errors_.size();
  Map m(this, n, path, {"rpo", "retention", "copies", "integrity", "restoreDrill", "assets"},
        fallback);
  if (!m.ok()) {
    *ok = false;
    return;
  }
  out->pos = m.pos();
  const Field* kind_field = nullptr;
  for (const auto& f : m.fields()) {
    if (f.key == "assets") continue;
    if (kind_field != nullptr) {
      Err(PosOf(f.key_node, m.pos()), m.Sub(f.key),
          "a commitment has exactly one kind, found both " + Quote(kind_field->key) + " and " +
              Quote(f.key) + "; write one list item per kind");
      *ok = false;
      return;
    }
    kind_field = &f;
  }
  if (kind_field == nullptr) {
    Err(m.pos(), path,
        "missing the commitment kind; expected exactly one of rpo, retention, copies, "
        "integrity, restoreDrill");
    *ok = false;
    return;
  }
  if (std::optional<CommitmentKind> kind = CommitmentKindFromKey(kind_field->key)) {
    out->kind = *kind;
  }
  // The assets it applies to.
  if (const Field* f = m.Get("assets")) {
    SourcePos pos = ValuePos(*f, m);
    if (!f->value.IsSequence() || f->value.size() == 0) {
      Err(pos, m.Sub("assets"),
          "expected a non-empty list of asset names (omit it for every asset), got " +
              Describe(f->value));
    } else if (Spend(f->value.size(), pos)) {
      for (size_t i = 0; i < f->value.size(); ++i) {
        const YAML::Node an = f->value[i];
        std::string p = m.Sub("assets") + "[" + std::to_string(i) + "]";
        if (!an.IsScalar()) {
          Err(PosOf(an, pos), p, "expected an asset name, got " + Describe(an));
          continue;
        }
        const std::string& name = an.Scalar();
        bool known = std::any_of(c.assets.begin(), c.assets.end(),
                                 [&](const Asset& a) { return a.name == name; });
        if (!known) {
          std::string names;
          for (const auto& a : c.assets) names += (names.empty() ? "" : ", ") + a.name;
          Err(PosOf(an, pos), p,
              "unknown asset " + Quote(name) + "; expected an asset of this contract (" + names +
                  ")");
        } else if (std::find(out->assets.begin(), out->assets.end(), name) != out->assets.end()) {
          Err(PosOf(an, pos), p, "asset " + Quote(name) + " listed twice");
        } else {
          out->assets.push_back(name);
        }
      }
    }
  }
  const std::string kpath = m.Sub(kind_field->key);
  SourcePos kpos = ValuePos(*kind_field, m);
  switch (out->kind) {
    case CommitmentKind::kRpo:
      Duration(m, "rpo", true, 0, &out->rpo.max_age_ns);
      break;
    case CommitmentKind::kRetention: {
      Map r(this, kind_field->value, kpath, {"daily", "weekly", "monthly", "yearly"}, kpos);
      if (!r.ok()) break;
      int64_t v[4] = {0, 0, 0, 0};
      const char* keys[4] = {"daily", "weekly", "monthly", "yearly"};
      bool all_ok = true;
      for (int i = 0; i < 4; ++i) all_ok &= Int(r, keys[i], false, 0, 100000, &v[i]);
      out->retention = {static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]),
                        static_cast<int>(v[3])};
      if (all_ok && v[0] + v[1] + v[2] + v[3] == 0) {
        Err(r.pos(), kpath,
            "keeps nothing; expected at least one of daily, weekly, monthly, yearly > 0");
      }
      break;
    }
    case CommitmentKind::kCopies: {
      Map r(this, kind_field->value, kpath, {"min", "offsite", "gatesReadiness"}, kpos);
      if (!r.ok()) break;
      int64_t min = 1, offsite = 0;
      bool gates = false;
      Bool(r, "gatesReadiness", &gates);
      bool min_ok = Int(r, "min", true, 1, 1000, &min);
      if (Int(r, "offsite", false, 0, 1000, &offsite) && min_ok && offsite > min) {
        Err(ValuePos(*r.Get("offsite"), r), r.Sub("offsite"),
            "expected at most min (" + std::to_string(min) + "), got " + std::to_string(offsite));
      }
      out->copies = {static_cast<int>(min), static_cast<int>(offsite), gates};
      if (min_ok && errors_.size() == before) {
        for (const auto& a : c.assets) {
          if (!out->assets.empty() &&
              std::find(out->assets.begin(), out->assets.end(), a.name) == out->assets.end()) {
            continue;
          }
          if (static_cast<int64_t>(a.backup_sets.size()) < min) {
            Err(ValuePos(*r.Get("min"), r), r.Sub("min"),
                std::to_string(min) + " copies but asset " + Quote(a.name) + " has only " +
                    std::to_string(a.backup_sets.size()) +
                    " backup set(s); add backup sets or restrict the commitment with assets: "
                    "[..]");
            break;
          }
        }
      }
      break;
    }
    case CommitmentKind::kIntegrity: {
      Map r(this, kind_field->value, kpath, {"reverifyWithin", "budget", "sample"}, kpos);
      if (!r.ok()) break;
      Duration(r, "reverifyWithin", true, 0, &out->integrity.reverify_within_ns);
      Size(r, "budget", false, &out->integrity.budget_bytes);
      int64_t sample = 0;
      if (Int(r, "sample", false, 1, UINT32_MAX, &sample)) {
        out->integrity.sample = static_cast<uint32_t>(sample);
      }
      if (r.Get("budget") != nullptr && r.Get("sample") != nullptr) {
        Err(PosOf(r.Get("sample")->key_node, r.pos()), r.Sub("sample"),
            "budget and sample are exclusive; give a byte budget or a sample size, not both");
      } else if (r.Get("budget") != nullptr && out->integrity.budget_bytes == 0 &&
                 errors_.size() == before) {
        Err(ValuePos(*r.Get("budget"), r), r.Sub("budget"),
            "must be more than 0 bytes (omit it for no limit)");
      }
      break;
    }
    case CommitmentKind::kRestoreDrill: {
      Map r(this, kind_field->value, kpath, {"every", "rto", "sampleFiles", "sampleBytes"}, kpos);
      if (!r.ok()) break;
      Duration(r, "every", true, 0, &out->drill.every_ns);
      Duration(r, "rto", true, 0, &out->drill.rto_ns);
      int64_t files = 100;
      if (Int(r, "sampleFiles", false, 1, UINT32_MAX, &files)) {
        out->drill.sample_files = static_cast<uint32_t>(files);
      }
      Size(r, "sampleBytes", false, &out->drill.sample_bytes);
      break;
    }
  }
  if (errors_.size() != before) *ok = false;
}

void Parser::CrossChecks() {
  // Duplicate locations and tenants within the file set.
  auto duplicates = [&](const std::vector<Ref>& decls, const char* kind) {
    std::map<std::string, const Ref*> seen;
    for (const auto& d : decls) {
      auto [it, inserted] = seen.emplace(d.name, &d);
      if (!inserted) {
        ErrAt(d.file, d.pos, d.path,
              "duplicate " + std::string(kind) + " " + Quote(d.name) + " (also declared at " +
                  it->second->pos.ToString() + ")");
      }
    }
  };
  duplicates(location_decls_, "Location");
  duplicates(tenant_decls_, "Tenant");
  duplicates(channel_decls_, "AlertChannel");
  std::set<std::string> declared_locations, declared_tenants;
  for (const auto& d : location_decls_) declared_locations.insert(d.name);
  for (const auto& d : tenant_decls_) declared_tenants.insert(d.name);
  // References.
  if (!known_.allow_unknown_references) {
    for (const auto& r : location_refs_) {
      if (declared_locations.count(r.name) == 0 && known_.locations.count(r.name) == 0) {
        ErrAt(r.file, r.pos, r.path,
              "unknown location " + Quote(r.name) +
                  "; expected a Location declared in these files or already applied");
      }
    }
    for (const auto& [r, cpos] : contract_tenants_) {
      if (declared_tenants.count(r.name) == 0 && known_.tenants.count(r.name) == 0) {
        ErrAt(r.file, r.pos, r.path,
              "unknown tenant " + Quote(r.name) +
                  "; expected a Tenant declared in these files or already applied");
      }
    }
  }
  // One contract per tenant.
  std::map<std::string, SourcePos> contract_of;
  for (const auto& [r, cpos] : contract_tenants_) {
    auto [it, inserted] = contract_of.emplace(r.name, cpos);
    if (!inserted) {
      ErrAt(r.file, r.pos, r.path,
            "a second Contract for tenant " + Quote(r.name) + " (the first is at " +
                it->second.ToString() + "); one Contract per tenant");
    }
  }
  // effectiveFrom dates: midnight in the tenant's zone if the tenant is here.
  for (const auto& [index, t] : dated_contracts_) {
    Contract& c = m_.contracts[index];
    for (const auto& tenant : m_.tenants) {
      if (tenant.name != c.tenant) continue;
      Calendar cal(tenant.timezone);
      if (cal.ok()) {
        c.effective_from_ns =
            cal.LocalMidnight(static_cast<int>(t.date.year), static_cast<unsigned>(t.date.month),
                              static_cast<unsigned>(t.date.day));
      }
    }
    // Otherwise kept as UTC midnight (documented in parse.h).
  }
}

}  // namespace

bool IsKnownTimeZone(const std::string& name) {
  if (name.empty()) return false;
  try {
    return date::locate_zone(name) != nullptr;
  } catch (...) {
    return false;
  }
}

storage::Status ParseManifest(const std::vector<SourceFile>& files, const KnownNames& known,
                              Manifest* out) {
  try {
    int64_t budget = 10000;
    for (const auto& f : files) budget += static_cast<int64_t>(f.text.size());
    Parser p(known, budget);
    for (size_t i = 0; i < files.size(); ++i) p.File(i, files[i]);
    if (files.empty()) return absl::InvalidArgumentError("no files");
    p.CrossChecks();
    if (!p.errors().empty()) {
      auto& errs = p.errors();
      std::stable_sort(errs.begin(), errs.end(), [](const Error& a, const Error& b) {
        return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
      });
      std::string msg;
      size_t shown = std::min(errs.size(), static_cast<size_t>(kMaxReportedErrors));
      for (size_t i = 0; i < shown; ++i) msg += (i ? "\n" : "") + errs[i].text;
      int64_t more = static_cast<int64_t>(errs.size() - shown) + p.dropped();
      if (more > 0) msg += "\n... and " + std::to_string(more) + " more error(s)";
      return absl::InvalidArgumentError(msg);
    }
    Manifest& m = p.manifest();
    for (auto& c : m.contracts) c.canonical_yaml = CanonicalYaml(c);
    *out = std::move(m);
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(std::string("cannot parse the manifest: ") + e.what());
  } catch (...) {
    return absl::InvalidArgumentError("cannot parse the manifest");
  }
}

}  // namespace vigil::contracts
