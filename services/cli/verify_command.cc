#include "services/cli/verify_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "services/cli/exit_codes.h"
#include "services/common/text.h"
#include "services/common/time.h"
#include "storage/catalogue.h"
#include "storage/hash.h"
#include "storage/verify_pass.h"

namespace vigil::cli {

const char kVerifyHelpFooter[] = R"(
With --format dir (the default), the first run on a PATH records a baseline in
its catalogue; later runs re-read every file and compare it with the record:
  modified    content or size differs from the record (integrity problem)
  missing     recorded but gone (integrity problem)
  unreadable  present but cannot be read: permission, I/O error (problem)
  added       new since the last run (listed, not a problem)
  updated     --mutable only: changed together with its mtime (not a problem)
A file whose mtime alone changed (same size and content) is never a problem.
A mismatch is re-read once from the device before it is reported; both
readings are shown. A problem stays reported on every run until the file is
restored or --accept records the current state as the new baseline.

The catalogue defaults to $XDG_STATE_HOME/vigil/verify/ (~/.local/state/vigil/
verify/ when XDG_STATE_HOME is unset), one per absolute PATH.

JSON output (--json) is one document on stdout:
  {"root", "catalogue", "baseline", "summary": {counts, bytes, seconds},
   "problems": [{"path", "kind": "modified"|"missing"|"unreadable", ...}],
   "added": [...], "updated": [...], "warnings": [...]}
Paths are bytes, not text. A path that is valid UTF-8 is a JSON string in
"path". One that is not also carries "path_base64", the exact bytes in base64
(RFC 4648), and "path" then holds a display form with \xNN escapes.

Other formats (--format): bagit validates a BagIt bag (RFC 8493, versions
0.93 to 1.0): bagit.txt, bag-info.txt and its Payload-Oxum, every payload and
tag manifest (md5, sha1, sha224, sha256, sha384, sha512), fetch.txt (checked,
never downloaded). sumfile checks a SHA256SUMS-style file (GNU or --tag
format); names are relative to its directory. No catalogue is used: errors
print as FILE:LINE: message on stdout, warnings on stderr, or --json prints one
document (see docs/formats.md). --catalogue, --max-age, --mutable, --accept,
--algorithm and --list apply to dir only.

Exit status (every format): 0 verified with no problem, 1 integrity problems
found, 2 usage or input error.

Examples:
  vigil verify /srv/backups/acme            # baseline, then full re-verify
  vigil verify --max-age 7d /srv/backups    # re-read only what is older than 7 days
  vigil verify --mutable /srv/mirror        # an rsync mirror updated in place
  vigil verify --json /srv/backups > report.json
  vigil verify --format bagit /srv/bags/acme-2024-06
  vigil verify --format sumfile /srv/isos/SHA256SUMS
)";

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using storage::DiffKind;
using storage::PassEvent;

int UsageError(const std::string& msg) {
  std::fprintf(stderr, "vigil verify: %s\n", msg.c_str());
  return kExitUsage;
}

// $XDG_STATE_HOME/vigil/verify/<slug>-<hash> for an absolute root.
std::string DefaultCatalogueDir(const std::string& abs_root, std::string* error) {
  std::string base;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x != nullptr && x[0] == '/') {
    base = x;
  } else if (const char* h = std::getenv("HOME"); h != nullptr && h[0] != '\0') {
    base = std::string(h) + "/.local/state";
  } else {
    *error = "neither XDG_STATE_HOME nor HOME is set: pass --catalogue DIR";
    return {};
  }
  std::string slug;
  for (char c : abs_root) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!slug.empty() || c != '/') slug.push_back(ok ? c : '-');
  }
  if (slug.size() > 60) slug = slug.substr(slug.size() - 60);
  std::string h =
      storage::HashBytes(storage::HashAlgorithm::kXxh3_128, abs_root).Hex().substr(0, 12);
  return base + "/vigil/verify/" + (slug.empty() ? "root" : slug) + "-" + h;
}

json PathJson(json& obj, std::string_view path) {
  if (IsValidUtf8(path)) {
    obj["path"] = std::string(path);
  } else {
    obj["path"] = EscapeForTerminal(path);
    obj["path_base64"] = Base64Encode(path);
  }
  return obj;
}

json DigestJson(const storage::Digest& d) {
  if (d.empty()) return nullptr;
  return d.ToString();
}

json EventJson(const PassEvent& ev) {
  json j = json::object();
  PathJson(j, ev.path);
  j["kind"] = std::string(storage::DiffKindName(ev.kind));
  j["type"] = std::string(storage::EntryTypeName(ev.type));
  if (ev.has_record) {
    json r = {{"size", ev.recorded.size},
              {"mtime", FormatTimeUtc(ev.recorded.mtime_ns)},
              {"digest", DigestJson(ev.recorded.digest)},
              {"first_seen", FormatTimeUtc(ev.recorded.first_seen_ns)}};
    if (ev.recorded.type == storage::EntryType::kSymlink) {
      json t = json::object();
      PathJson(t, ev.recorded.link_target);
      r["link_target"] = t["path"];
    }
    j["recorded"] = r;
  }
  if (ev.kind != DiffKind::kMissing && !(ev.kind == DiffKind::kUnreadable && ev.error.empty())) {
    json o = {{"size", ev.observed_size}};
    if (ev.observed_mtime_ns != 0) o["mtime"] = FormatTimeUtc(ev.observed_mtime_ns);
    if (!ev.first_reading.empty()) o["digest"] = DigestJson(ev.first_reading);
    if (!ev.second_reading.empty()) {
      o["first_reading"] = DigestJson(ev.first_reading);
      o["second_reading"] = DigestJson(ev.second_reading);
    }
    j["observed"] = o;
  }
  if (!ev.error.empty()) j["error"] = ev.error;
  if (ev.accepted) j["accepted"] = true;
  return j;
}

// A JSON array spooled to an unnamed temporary file: lists may hold millions
// of entries (a baseline's "added") and must not be held in memory.
class Spool {
 public:
  Spool() : f_(std::tmpfile()) {}
  ~Spool() {
    if (f_ != nullptr) std::fclose(f_);
  }
  bool ok() const { return f_ != nullptr; }
  void Add(const json& j) {
    std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
    if (count_++ > 0) std::fputc(',', f_);
    std::fwrite(s.data(), 1, s.size(), f_);
  }
  void CopyTo(FILE* out) {
    std::fputc('[', out);
    std::rewind(f_);
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f_)) > 0) std::fwrite(buf, 1, n, out);
    std::fputc(']', out);
  }
  uint64_t count() const { return count_; }

 private:
  FILE* f_;
  uint64_t count_ = 0;
};

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled), start_(Clock::now()) {}
  void Update(const storage::PassProgress& p) {
    if (!enabled_) return;
    double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    double rate = secs > 0 ? p.bytes_read / secs : 0;
    uint64_t total = std::max(p.bytes_expected, p.bytes_seen);
    char line[256];
    if (total > 0 && (p.walk_done || p.bytes_expected > 0)) {
      double frac = std::min(1.0, static_cast<double>(p.bytes_read) / static_cast<double>(total));
      int filled = static_cast<int>(frac * 24);
      std::string bar(static_cast<size_t>(filled), '#');
      bar.resize(24, '.');
      double eta = rate > 0 ? (static_cast<double>(total) - p.bytes_read) / rate : 0;
      std::snprintf(line, sizeof line, "\r[%s] %3.0f%% %s / %s  %s/s  ETA %ds  %s entries\x1b[K",
                    bar.c_str(), frac * 100, HumanBytes(p.bytes_read).c_str(),
                    HumanBytes(total).c_str(), HumanBytes(rate).c_str(),
                    static_cast<int>(std::max(0.0, eta)), GroupDigits(p.entries_done).c_str());
    } else {
      std::snprintf(line, sizeof line, "\r%s read  %s/s  %s entries\x1b[K",
                    HumanBytes(p.bytes_read).c_str(), HumanBytes(rate).c_str(),
                    GroupDigits(p.entries_done).c_str());
    }
    std::fputs(line, stderr);
    std::fflush(stderr);
    shown_ = true;
  }
  // Erases the bar so that a line can be printed.
  void Clear() {
    if (shown_) std::fputs("\r\x1b[K", stderr);
    shown_ = false;
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  bool shown_ = false;
  Clock::time_point start_;
};

std::string Describe(const PassEvent& ev) {
  std::string s;
  switch (ev.kind) {
    case DiffKind::kModified:
      s = "size " + std::to_string(ev.recorded.size) + " -> " + std::to_string(ev.observed_size);
      if (!ev.recorded.digest.empty() && !ev.first_reading.empty()) {
        s += ", recorded " + ev.recorded.digest.ToString() + ", read " + ev.first_reading.Hex();
        if (!ev.second_reading.empty()) s += ", re-read " + ev.second_reading.Hex();
      }
      if (ev.type == storage::EntryType::kSymlink) {
        s = "link target '" + EscapeForTerminal(ev.recorded.link_target) + "' changed";
      }
      break;
    case DiffKind::kMissing:
      s = "recorded " + std::string(storage::EntryTypeName(ev.recorded.type)) + ", " +
          std::to_string(ev.recorded.size) + " bytes, first seen " +
          FormatTimeUtc(ev.recorded.first_seen_ns).substr(0, 19) + "Z";
      break;
    case DiffKind::kUnreadable:
      s = ev.error;
      break;
    default:
      s = std::to_string(ev.observed_size) + " bytes";
  }
  if (ev.accepted) s += " [accepted as new baseline]";
  return s;
}

}  // namespace

int RunVerify(const VerifyArgs& args) {
  std::error_code ec;
  fs::path root = fs::absolute(args.path, ec);
  if (ec) return UsageError("bad path '" + args.path + "': " + ec.message());
  root = root.lexically_normal();
  std::string root_str = root.string();
  if (root_str.size() > 1 && root_str.back() == '/') root_str.pop_back();
  struct stat st;
  if (::stat(root_str.c_str(), &st) != 0) {
    return UsageError("cannot access '" + root_str + "': " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return UsageError("'" + root_str + "' is not a directory");

  auto alg = storage::ParseAlgorithm(args.algorithm);
  if (!alg) {
    return UsageError("--algorithm: unknown '" + args.algorithm +
                      "' (xxh3-128, sha256, sha512, sha1, md5)");
  }
  storage::PassOptions po;
  po.root = root_str;
  po.scope = {"local", root_str, 0};
  po.algorithm = *alg;
  po.diff.mutable_set = args.mutable_set;
  po.accept = args.accept;
  po.threads = args.threads;
  if (!args.max_age.empty()) {
    std::string err;
    auto d = ParseDuration(args.max_age, &err);
    if (!d) return UsageError("--max-age: " + err);
    po.max_age_ns = *d;
  }

  std::string cat_dir = args.catalogue;
  if (cat_dir.empty()) {
    std::string err;
    cat_dir = DefaultCatalogueDir(root_str, &err);
    if (cat_dir.empty()) return UsageError(err);
  }
  fs::create_directories(cat_dir, ec);
  if (ec) return UsageError("cannot create catalogue directory '" + cat_dir + "': " + ec.message());
  auto cat = storage::Catalogue::Open(cat_dir);
  if (!cat.ok()) return UsageError(std::string(cat.status().message()));

  ProgressBar bar(args.progress && ::isatty(STDERR_FILENO));
  Spool problems, added, updated, warnings;
  if (args.json && !(problems.ok() && added.ok() && updated.ok() && warnings.ok())) {
    return UsageError("cannot create a temporary file for the JSON output");
  }
  uint64_t listed_added = 0, listed_updated = 0;
  bool baseline_run = false;
  po.on_progress = [&](const storage::PassProgress& p) { bar.Update(p); };
  po.on_event = [&](const PassEvent& ev) {
    if (args.json) {
      json j = EventJson(ev);
      switch (ev.kind) {
        case DiffKind::kAdded:
          added.Add(j);
          break;
        case DiffKind::kUpdated:
          updated.Add(j);
          break;
        case DiffKind::kUnchanged:
          j["kind"] = "transient_mismatch";
          warnings.Add(j);
          break;
        default:
          problems.Add(j);
      }
      return;
    }
    const char* label = nullptr;
    switch (ev.kind) {
      case DiffKind::kModified:
        label = "MODIFIED  ";
        break;
      case DiffKind::kMissing:
        label = "MISSING   ";
        break;
      case DiffKind::kUnreadable:
        label = "UNREADABLE";
        break;
      case DiffKind::kAdded:
        if (baseline_run || listed_added++ >= static_cast<uint64_t>(args.list_limit)) return;
        label = "added     ";
        break;
      case DiffKind::kUpdated:
        if (listed_updated++ >= static_cast<uint64_t>(args.list_limit)) return;
        label = "updated   ";
        break;
      case DiffKind::kUnchanged:
        label = "warning   ";
        break;
      default:
        return;
    }
    bar.Clear();
    std::string line = std::string(label) + " " + EscapeForTerminal(ev.path);
    if (ev.kind == DiffKind::kUnchanged) {
      line += ": transient mismatch, first reading " + ev.first_reading.Hex() +
              " differed, re-read matched the record";
    } else {
      line += "  (" + Describe(ev) + ")";
    }
    std::printf("%s\n", line.c_str());
  };
  {
    // A baseline run lists no "added" lines in human output: everything is.
    auto probe = (*cat)->Scan(po.scope);
    baseline_run = !probe->Valid();
  }

  auto t0 = std::chrono::steady_clock::now();
  auto result = storage::RunVerifyPass(**cat, po);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  bar.Clear();
  if (!result.ok()) {
    std::fprintf(stderr, "vigil verify: %s\n", std::string(result.status().message()).c_str());
    return kExitUsage;
  }
  const storage::PassSummary& s = *result;
  const auto& c = s.counts;
  double rate = secs > 0 ? s.bytes_read / secs : 0;

  if (args.json) {
    json summary = {
        {"entries", s.entries},         {"unchanged", c.unchanged},
        {"modified", c.modified},       {"missing", c.missing},
        {"unreadable", c.unreadable},   {"added", c.added},
        {"updated", c.updated},         {"not_read", c.not_read},
        {"problems", s.problems()},     {"files_read", s.files_read},
        {"bytes_read", s.bytes_read},   {"hardlinks_reused", s.hardlinks_reused},
        {"rereads", s.rereads},         {"transient_mismatches", s.transient_mismatches},
        {"directories", s.directories}, {"seconds", secs},
        {"bytes_per_second", rate}};
    json head = {{"root", root_str},
                 {"catalogue", cat_dir},
                 {"baseline", s.baseline},
                 {"mode", args.mutable_set ? "mutable" : "immutable"},
                 {"algorithm", std::string(storage::AlgorithmName(*alg))},
                 {"started", FormatTimeUtc(s.started_ns)},
                 {"summary", summary}};
    std::string h = head.dump(-1, ' ', false, json::error_handler_t::replace);
    h.pop_back();  // reopen the object to append the spooled arrays
    std::fputs(h.c_str(), stdout);
    std::fputs(",\"problems\":", stdout);
    problems.CopyTo(stdout);
    std::fputs(",\"added\":", stdout);
    added.CopyTo(stdout);
    std::fputs(",\"updated\":", stdout);
    updated.CopyTo(stdout);
    std::fputs(",\"warnings\":", stdout);
    warnings.CopyTo(stdout);
    std::fputs("}\n", stdout);
  } else {
    if (listed_added > static_cast<uint64_t>(args.list_limit)) {
      std::printf("... and %s more added (see --json)\n",
                  GroupDigits(listed_added - static_cast<uint64_t>(args.list_limit)).c_str());
    }
    if (listed_updated > static_cast<uint64_t>(args.list_limit)) {
      std::printf("... and %s more updated (see --json)\n",
                  GroupDigits(listed_updated - static_cast<uint64_t>(args.list_limit)).c_str());
    }
    if (s.baseline) {
      std::printf("Baseline recorded for %s: %s entries, %s in %.2f s (%s/s)\n", root_str.c_str(),
                  GroupDigits(s.entries).c_str(), HumanBytes(s.bytes_read).c_str(), secs,
                  HumanBytes(rate).c_str());
    } else {
      std::printf(
          "%s: %s entries: %s unchanged, %s modified, %s missing, %s unreadable, %s added, %s "
          "updated, %s not re-read (--max-age)\n",
          root_str.c_str(), GroupDigits(s.entries + c.missing).c_str(),
          GroupDigits(c.unchanged).c_str(), GroupDigits(c.modified).c_str(),
          GroupDigits(c.missing).c_str(), GroupDigits(c.unreadable).c_str(),
          GroupDigits(c.added).c_str(), GroupDigits(c.updated).c_str(),
          GroupDigits(c.not_read).c_str());
      std::printf("Read %s in %.2f s (%s/s)\n", HumanBytes(s.bytes_read).c_str(), secs,
                  HumanBytes(rate).c_str());
    }
    if (s.problems() == 0) {
      std::printf("Result: OK, no integrity problem\n");
    } else {
      std::printf("Result: %s integrity problem%s%s\n", GroupDigits(s.problems()).c_str(),
                  s.problems() == 1 ? "" : "s",
                  args.accept ? " (accepted as the new baseline)" : "");
    }
  }
  std::fflush(stdout);
  // With --accept, modified and missing entries became the new baseline;
  // an unreadable entry can never be accepted.
  uint64_t open_problems = args.accept ? c.unreadable : s.problems();
  return open_problems > 0 ? kExitProblems : kExitOk;
}

}  // namespace vigil::cli
