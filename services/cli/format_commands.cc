#include "services/cli/format_commands.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "services/common/text.h"
#include "services/worker/formats/bagit.h"
#include "services/worker/formats/sumfile.h"
#include "storage/hash.h"

namespace vigil::cli {

namespace {

using json = nlohmann::json;
using formats::Finding;

int UsageError(const std::string& msg) {
  std::fprintf(stderr, "vigil verify: %s\n", msg.c_str());
  return 2;
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

int RunBagit(const FormatArgs& args) {
  struct stat st;
  if (::stat(args.path.c_str(), &st) != 0) {
    return UsageError("cannot access '" + args.path + "': " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return UsageError("'" + args.path + "' is not a directory (a bag is a directory)");
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
  return r.valid() ? 0 : 1;
}

int RunSumfile(const FormatArgs& args) {
  struct stat st;
  if (::stat(args.path.c_str(), &st) != 0) {
    return UsageError("cannot access '" + args.path + "': " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    return UsageError("'" + args.path + "' is a directory: give the checksum file (SHA256SUMS)");
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
  return r.valid() ? 0 : 1;
}

}  // namespace

int RunFormatVerify(const FormatArgs& args) {
  if (!args.dir_only_options.empty()) {
    std::string list;
    for (const auto& o : args.dir_only_options) list += (list.empty() ? "" : ", ") + o;
    return UsageError(list + (args.dir_only_options.size() == 1 ? " applies" : " apply") +
                      " to --format dir only, not to --format " + args.format);
  }
  if (args.format == "bagit") return RunBagit(args);
  if (args.format == "sumfile") return RunSumfile(args);
  return UsageError("--format: unknown '" + args.format + "' (dir, bagit, sumfile)");
}

}  // namespace vigil::cli
