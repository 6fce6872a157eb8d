#include "services/cli/format_commands.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "services/cli/exit_codes.h"
#include "services/common/text.h"
#include "services/common/time.h"
#include "services/worker/formats/bagit.h"
#include "services/worker/formats/restic.h"
#include "services/worker/formats/restic_catalogue.h"
#include "services/worker/formats/safe_io.h"
#include "services/worker/formats/sumfile.h"
#include "storage/hash.h"

namespace vigil::cli {

namespace {

using json = nlohmann::json;
using formats::Finding;

int UsageError(const std::string& msg) {
  std::fprintf(stderr, "vigil verify: %s\n", msg.c_str());
  return kExitUsage;
}

void SetPath(json& obj, const char* key, const std::string& path) {
  if (IsValidUtf8(path)) {
    obj[key] = path;
  } else {
    obj[key] = EscapeForTerminal(path);
    obj[std::string(key) + "_base64"] = Base64Encode(path);
  }
}

json FindingJson(const Finding& f) {
  json j = {{"code", f.code}, {"message", f.message}, {"text", f.ToString()}};
  if (!f.file.empty()) SetPath(j, "file", f.file);
  if (f.line > 0) j["line"] = f.line;
  if (f.offset >= 0) j["offset"] = f.offset;
  if (!f.path.empty()) SetPath(j, "path", f.path);
  return j;
}

json FindingsJson(const std::vector<Finding>& list) {
  json a = json::array();
  for (const Finding& f : list) a.push_back(FindingJson(f));
  return a;
}

json AlgorithmsJson(const std::vector<storage::HashAlgorithm>& algs) {
  json a = json::array();
  for (auto alg : algs) a.push_back(std::string(storage::AlgorithmName(alg)));
  return a;
}

std::string AlgorithmList(const std::vector<storage::HashAlgorithm>& algs) {
  std::string s;
  for (auto alg : algs) {
    if (!s.empty()) s += ", ";
    s += storage::AlgorithmName(alg);
  }
  return s.empty() ? "none" : s;
}

void PrintDocument(const json& doc) {
  std::string s = doc.dump(-1, ' ', false, json::error_handler_t::replace);
  std::fputs(s.c_str(), stdout);
  std::fputc('\n', stdout);
}

// Warnings always go to stderr; errors to stdout in human mode.
void PrintFindings(const std::vector<Finding>& errors, const std::vector<Finding>& warnings,
                   bool json_mode) {
  for (const Finding& w : warnings) std::fprintf(stderr, "warning: %s\n", w.ToString().c_str());
  if (json_mode) return;
  for (const Finding& e : errors) std::printf("%s\n", e.ToString().c_str());
}

// "1 file", "2 files"; "entry" becomes "entries".
std::string Plural(uint64_t n, std::string what) {
  if (n != 1) {
    if (what.size() > 1 && what.back() == 'y') {
      what.back() = 'i';
      what += "es";
    } else {
      what += "s";
    }
  }
  return GroupDigits(n) + " " + what;
}

// kExitOk when PATH exists and is a directory (`want_dir`) or is not one;
// else a usage error, `wrong` saying what it should be.
int CheckPathKind(const std::string& path, bool want_dir, const std::string& wrong) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return UsageError("cannot access '" + path + "': " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode) != want_dir) return UsageError("'" + path + "' " + wrong);
  return kExitOk;
}

int RunBagit(const FormatArgs& args) {
  if (int rc = CheckPathKind(args.path, true, "is not a directory (a bag is a directory)");
      rc != kExitOk) {
    return rc;
  }
  formats::BagOptions options;
  options.threads = args.threads;
  auto t0 = std::chrono::steady_clock::now();
  formats::BagReport r = formats::ValidateBag(args.path, options);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  PrintFindings(r.errors, r.warnings, args.json);
  if (args.json) {
    json doc = {{"format", "bagit"}};
    SetPath(doc, "root", r.root);
    doc["valid"] = r.valid();
    doc["complete"] = r.complete();
    doc["version"] = r.version.empty() ? json(nullptr) : json(r.version);
    doc["tag_encoding"] = r.tag_encoding.empty() ? json(nullptr) : json(r.tag_encoding);
    doc["algorithms"] = AlgorithmsJson(r.algorithms);
    doc["tag_algorithms"] = AlgorithmsJson(r.tag_algorithms);
    doc["manifests"] = r.manifests;
    doc["tag_manifests"] = r.tag_manifests;
    doc["payload"] = {{"files", r.payload_files}, {"bytes", r.payload_bytes}};
    doc["payload_oxum"] = r.payload_oxum ? json{{"octets", r.payload_oxum->octets},
                                                {"streams", r.payload_oxum->streams}}
                                         : json(nullptr);
    doc["bagging_date"] = r.bagging_date.empty() ? json(nullptr) : json(r.bagging_date);
    doc["bagging_date_utc"] =
        r.bagging_date_ns ? json(FormatTimeUtc(*r.bagging_date_ns)) : json(nullptr);
    json info = json::array();
    for (const auto& f : r.bag_info) {
      info.push_back({{"label", f.label}, {"value", f.value}, {"line", f.line}});
    }
    doc["bag_info"] = info;
    doc["fetch"] = {{"entries", r.fetch_entries}, {"pending", r.fetch_pending}};
    doc["summary"] = {{"hashed", r.hashed},           {"files_read", r.files_hashed},
                      {"bytes_read", r.bytes_hashed}, {"seconds", secs},
                      {"errors", r.errors.size()},    {"warnings", r.warnings.size()}};
    doc["errors"] = FindingsJson(r.errors);
    doc["warnings"] = FindingsJson(r.warnings);
    PrintDocument(doc);
  } else {
    std::string head = "Bag " + EscapeForTerminal(r.root) + ": ";
    head += r.version.empty() ? std::string("no bag declaration")
                              : "BagIt " + EscapeForTerminal(r.version) + " (" +
                                    EscapeForTerminal(r.tag_encoding) + ")";
    head += ", manifests " + AlgorithmList(r.algorithms);
    if (!r.tag_algorithms.empty()) head += ", tag manifests " + AlgorithmList(r.tag_algorithms);
    std::printf("%s\n", head.c_str());
    std::string payload = "Payload: " + Plural(r.payload_files, "file") + ", " +
                          HumanBytes(static_cast<double>(r.payload_bytes));
    if (r.payload_oxum) {
      payload += "; Payload-Oxum " + std::to_string(r.payload_oxum->octets) + "." +
                 std::to_string(r.payload_oxum->streams);
    }
    if (!r.bagging_date.empty()) payload += "; Bagging-Date " + EscapeForTerminal(r.bagging_date);
    if (r.fetch_entries > 0) {
      payload += "; fetch.txt " + Plural(r.fetch_entries, "entry") + ", " +
                 GroupDigits(r.fetch_pending) + " pending";
    }
    std::printf("%s\n", payload.c_str());
    std::printf("Read %s, %s in %.2f s\n", Plural(r.files_hashed, "file").c_str(),
                HumanBytes(static_cast<double>(r.bytes_hashed)).c_str(), secs);
    if (r.valid()) {
      std::printf("Result: OK, valid bag%s%s\n",
                  r.fetch_pending > 0 ? " (incomplete: files pending in fetch.txt)" : "",
                  r.warnings.empty() ? "" : (", " + Plural(r.warnings.size(), "warning")).c_str());
    } else {
      std::printf("Result: INVALID, %s%s\n", Plural(r.errors.size(), "error").c_str(),
                  r.warnings.empty() ? "" : (", " + Plural(r.warnings.size(), "warning")).c_str());
    }
  }
  std::fflush(stdout);
  return r.valid() ? kExitOk : kExitProblems;
}

int RunSumfile(const FormatArgs& args) {
  if (int rc =
          CheckPathKind(args.path, false, "is a directory: give the checksum file (SHA256SUMS)");
      rc != kExitOk) {
    return rc;
  }
  formats::SumOptions options;
  options.threads = args.threads;
  auto t0 = std::chrono::steady_clock::now();
  formats::SumReport r = formats::VerifySumFile(args.path, options);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  PrintFindings(r.errors, r.warnings, args.json);
  if (args.json) {
    json doc = {{"format", "sumfile"}};
    SetPath(doc, "sum_file", r.sum_file);
    SetPath(doc, "directory", r.directory);
    doc["valid"] = r.valid();
    doc["algorithms"] = AlgorithmsJson(r.algorithms);
    doc["summary"] = {{"entries", r.entries},       {"ok", r.ok},
                      {"mismatched", r.mismatched}, {"missing", r.missing},
                      {"unreadable", r.unreadable}, {"rejected", r.rejected},
                      {"malformed", r.malformed},   {"files_read", r.files_read},
                      {"bytes_read", r.bytes_read}, {"seconds", secs},
                      {"errors", r.errors.size()},  {"warnings", r.warnings.size()}};
    doc["errors"] = FindingsJson(r.errors);
    doc["warnings"] = FindingsJson(r.warnings);
    PrintDocument(doc);
  } else {
    std::printf("%s: %s (%s): %s OK, %s mismatched, %s missing, %s unreadable, %s rejected, %s\n",
                EscapeForTerminal(r.sum_file).c_str(), Plural(r.entries, "entry").c_str(),
                AlgorithmList(r.algorithms).c_str(), GroupDigits(r.ok).c_str(),
                GroupDigits(r.mismatched).c_str(), GroupDigits(r.missing).c_str(),
                GroupDigits(r.unreadable).c_str(), GroupDigits(r.rejected).c_str(),
                Plural(r.malformed, "malformed line").c_str());
    std::printf("Read %s, %s in %.2f s\n", Plural(r.files_read, "file").c_str(),
                HumanBytes(static_cast<double>(r.bytes_read)).c_str(), secs);
    if (r.valid()) {
      std::printf("Result: OK%s\n",
                  r.warnings.empty() ? "" : (", " + Plural(r.warnings.size(), "warning")).c_str());
    } else {
      std::printf("Result: FAILED, %s\n", Plural(r.errors.size(), "error").c_str());
    }
  }
  std::fflush(stdout);
  return r.valid() ? kExitOk : kExitProblems;
}

// restic reads the password file whole and trims surrounding white space.
std::string TrimSpace(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n\v\f");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n\v\f");
  return s.substr(b, e - b + 1);
}

json SnapshotJson(const formats::restic::Snapshot& s) {
  json j = {{"id", s.id},
            {"time", s.time},
            {"tree", s.tree},
            {"paths", json::array()},
            {"tags", json::array()}};
  SetPath(j, "hostname", s.hostname);
  SetPath(j, "username", s.username);
  for (const auto& p : s.paths) {
    json one;
    SetPath(one, "path", p);
    j["paths"].push_back(one);
  }
  for (const auto& t : s.tags) j["tags"].push_back(IsValidUtf8(t) ? t : EscapeForTerminal(t));
  if (!s.parent.empty()) j["parent"] = s.parent;
  return j;
}

int RunRestic(const FormatArgs& args) {
  if (int rc = CheckPathKind(args.path, true, "is not a directory (a restic repository is one)");
      rc != kExitOk) {
    return rc;
  }
  formats::ResticOptions options;
  options.threads = args.threads;
  options.read_data = args.read_data;
  if (!args.password_file.empty()) {
    std::string raw;
    formats::OpenedFile pf = formats::ReadPath(args.password_file, 1 << 20, &raw);
    if (pf.error != 0) {
      return UsageError("--password-file: cannot read '" + args.password_file +
                        "': " + pf.error_text);
    }
    options.has_password = true;
    options.password = TrimSpace(raw);
  }
  std::unique_ptr<storage::Catalogue> cat;
  std::unordered_map<std::string, uint64_t> known_packs;
  std::string backup_set;
  if (!args.catalogue.empty()) {
    std::error_code ec;
    backup_set = std::filesystem::absolute(args.path, ec).lexically_normal().string();
    while (backup_set.size() > 1 && backup_set.back() == '/') backup_set.pop_back();
    std::filesystem::create_directories(args.catalogue, ec);
    if (ec) {
      return UsageError("cannot create catalogue directory '" + args.catalogue +
                        "': " + ec.message());
    }
    auto opened = storage::Catalogue::Open(args.catalogue);
    if (!opened.ok()) return UsageError(std::string(opened.status().message()));
    cat = std::move(*opened);
    storage::Status st = formats::LoadKnownPacks(cat.get(), backup_set, &known_packs);
    if (!st.ok()) return UsageError("catalogue: " + std::string(st.message()));
    options.known_packs = &known_packs;
  } else if (args.accept) {
    return UsageError("--accept with --format restic needs --catalogue DIR");
  }
  auto t0 = std::chrono::steady_clock::now();
  formats::ResticReport r = formats::VerifyRestic(args.path, options);
  if (!r.fatal.empty()) return UsageError(r.fatal);
  if (!r.store_error.empty()) return UsageError(r.store_error);  // could not read: no verdict
  if (!r.password_error.empty()) {
    return UsageError("--password-file: " + r.password_error + " of '" + args.path + "'");
  }
  formats::ResticBaseline baseline;
  if (cat) {
    storage::Status st =
        formats::ApplyResticBaseline(cat.get(), backup_set, args.accept, &r, &baseline);
    if (!st.ok()) return UsageError("catalogue: " + std::string(st.message()));
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  PrintFindings(r.errors, r.warnings, args.json);
  auto stats = [](const formats::ResticDirStats& d) {
    return json{{"files", d.files}, {"bytes", d.bytes}};
  };
  if (args.json) {
    json doc = {{"format", "restic"}};
    SetPath(doc, "root", r.root);
    doc["valid"] = r.valid();
    doc["decrypted"] = !r.key_file.empty();
    doc["read_data"] = args.read_data;
    doc["version"] = r.version > 0 ? json(r.version) : json(nullptr);
    doc["repository_id"] = r.repository_id.empty() ? json(nullptr) : json(r.repository_id);
    doc["key_file"] = r.key_file.empty() ? json(nullptr) : json(r.key_file);
    doc["layout"] = {{"data", stats(r.data)},
                     {"index", stats(r.index)},
                     {"snapshots", stats(r.snapshots_dir)},
                     {"keys", stats(r.keys)},
                     {"locks", stats(r.locks)}};
    json snaps = json::array();
    for (const auto& s : r.snapshots) snaps.push_back(SnapshotJson(s));
    doc["snapshots"] = snaps;
    doc["summary"] = {{"indexed_packs", r.indexed_packs}, {"indexed_blobs", r.indexed_blobs},
                      {"packs_read", r.packs_read},       {"blobs_checked", r.blobs_checked},
                      {"bytes_read", r.bytes_read},       {"seconds", secs},
                      {"errors", r.errors.size()},        {"warnings", r.warnings.size()}};
    doc["summary"]["packs_skipped"] = r.packs_skipped;
    doc["summary"]["trees_checked"] = r.trees_checked;
    doc["summary"]["data_refs_checked"] = r.data_refs_checked;
    doc["incomplete_snapshots"] = r.incomplete_snapshots;
    doc["catalogue"] = cat ? json{{"first_run", baseline.first_run},
                                  {"known_snapshots", baseline.known_snapshots},
                                  {"known_packs", baseline.known_packs},
                                  {"added", baseline.added},
                                  {"vanished", baseline.vanished},
                                  {"accepted", baseline.accepted}}
                           : json(nullptr);
    doc["errors"] = FindingsJson(r.errors);
    doc["warnings"] = FindingsJson(r.warnings);
    PrintDocument(doc);
  } else {
    std::string head = "restic repository " + EscapeForTerminal(r.root);
    if (r.version > 0) {
      head += ": version " + std::to_string(r.version) + ", id " +
              EscapeForTerminal(r.repository_id.substr(0, 10)) + ", opened with " + r.key_file;
    } else {
      head += args.password_file.empty() ? " (no password: names, layout and sizes only)" : "";
    }
    std::printf("%s\n", head.c_str());
    std::printf(
        "Layout: data %s, %s; index %s; snapshots %s; keys %s; locks %s\n",
        Plural(r.data.files, "pack").c_str(), HumanBytes(static_cast<double>(r.data.bytes)).c_str(),
        Plural(r.index.files, "file").c_str(), Plural(r.snapshots_dir.files, "file").c_str(),
        Plural(r.keys.files, "file").c_str(), Plural(r.locks.files, "file").c_str());
    if (!r.key_file.empty()) {
      std::printf("Index: %s, %s\n", Plural(r.indexed_packs, "pack").c_str(),
                  Plural(r.indexed_blobs, "blob").c_str());
      std::printf("Structure: %s walked, %s looked up, %s incomplete\n",
                  Plural(r.trees_checked, "tree").c_str(),
                  Plural(r.data_refs_checked, "data blob reference").c_str(),
                  Plural(r.incomplete_snapshots.size(), "snapshot").c_str());
      std::printf("Snapshots (%zu):\n", r.snapshots.size());
      for (const auto& s : r.snapshots) {
        std::string paths, tags;
        for (const auto& p : s.paths) paths += (paths.empty() ? "" : " ") + formats::ShowPath(p);
        for (const auto& t : s.tags) tags += (tags.empty() ? "" : ",") + EscapeForTerminal(t);
        std::printf("  %s  %s  %s  %s%s\n", s.id.substr(0, 8).c_str(),
                    EscapeForTerminal(s.time.substr(0, 19)).c_str(),
                    EscapeForTerminal(s.hostname).c_str(), paths.c_str(),
                    tags.empty() ? "" : ("  [" + tags + "]").c_str());
      }
    }
    if (cat) {
      std::printf("Catalogue: %s; %s not read again, %s recorded, %s gone%s\n",
                  baseline.first_run ? "first check, baseline recorded"
                                     : (Plural(baseline.known_snapshots, "snapshot") + " and " +
                                        Plural(baseline.known_packs, "pack") + " known")
                                           .c_str(),
                  Plural(r.packs_skipped, "pack").c_str(), GroupDigits(baseline.added).c_str(),
                  GroupDigits(baseline.vanished).c_str(),
                  baseline.accepted > 0
                      ? (", " + GroupDigits(baseline.accepted) + " forgotten (--accept)").c_str()
                      : "");
    }
    std::printf("Read %s%s in %.2f s\n", HumanBytes(static_cast<double>(r.bytes_read)).c_str(),
                args.read_data ? (", " + Plural(r.blobs_checked, "blob") + " checked").c_str() : "",
                secs);
    if (r.valid()) {
      std::printf("Result: OK%s\n",
                  r.warnings.empty() ? "" : (", " + Plural(r.warnings.size(), "warning")).c_str());
    } else {
      std::printf("Result: FAILED, %s\n", Plural(r.errors.size(), "error").c_str());
    }
  }
  std::fflush(stdout);
  return r.valid() ? kExitOk : kExitProblems;
}

}  // namespace

int RunFormatVerify(const FormatArgs& args) {
  if (!args.dir_only_options.empty()) {
    std::string list;
    for (const auto& o : args.dir_only_options) list += (list.empty() ? "" : ", ") + o;
    return UsageError(list + (args.dir_only_options.size() == 1 ? " applies" : " apply") +
                      " to --format dir only, not to --format " + args.format);
  }
  if (!args.restic_only_options.empty()) {
    std::string list;
    for (const auto& o : args.restic_only_options) list += (list.empty() ? "" : ", ") + o;
    return UsageError(list + (args.restic_only_options.size() == 1 ? " applies" : " apply") +
                      " to --format restic only, not to --format " + args.format);
  }
  if (args.format == "bagit") return RunBagit(args);
  if (args.format == "sumfile") return RunSumfile(args);
  if (args.format == "restic") return RunRestic(args);
  return UsageError("--format: unknown '" + args.format + "' (dir, bagit, sumfile, restic)");
}

}  // namespace vigil::cli
