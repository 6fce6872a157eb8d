// Checksum files verified against the files they list (sumfile.h); the
// parsers are in sumfile_parse.cc.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "services/worker/formats/file_source.h"
#include "services/worker/formats/safe_io.h"
#include "services/worker/formats/sumfile.h"

namespace vigil::formats {

namespace {

using storage::HashAlgorithm;

// Checks the entries of the sum file `path` (content `raw`, last component
// `base`) against the files of `src` (its directory).
SumReport CheckEntries(const std::string& raw, FileSource& src, const std::string& path,
                       const std::string& base, const SumOptions& options, SumReport r,
                       Findings f) {
  auto finish = [&]() {
    r.errors = std::move(f.errors);
    r.warnings = std::move(f.warnings);
    if (storage::Status e = src.store_error(); !e.ok()) r.store_error = std::string(e.message());
    return std::move(r);
  };

  std::vector<SumEntry> entries = ParseSumFile(raw, path, base, &f);
  for (const Finding& e : f.errors) {
    if (e.code == "path_escapes" || e.code == "path_invalid") {
      ++r.rejected;
    } else {
      ++r.malformed;
    }
  }
  r.entries = entries.size();
  if (entries.empty()) {
    f.Error("no_entries", path, 0, "no properly formatted checksum lines found");
  }

  // One read per file, for every algorithm that lists it.
  std::vector<FileCheck> checks;
  std::vector<std::vector<size_t>> listed;  // per check: indexes into entries
  std::unordered_map<std::string, size_t> by_path;
  for (size_t i = 0; i < entries.size(); ++i) {
    const SumEntry& e = entries[i];
    HashAlgorithm alg = e.expected.algorithm();
    if (std::find(r.algorithms.begin(), r.algorithms.end(), alg) == r.algorithms.end()) {
      r.algorithms.push_back(alg);
    }
    auto [it, fresh] = by_path.emplace(e.path, checks.size());
    if (fresh) {
      checks.emplace_back();
      checks.back().path = e.path;
      listed.emplace_back();
    }
    FileCheck& c = checks[it->second];
    listed[it->second].push_back(i);
    c.expected.push_back(e.expected);
    if (std::find(c.algorithms.begin(), c.algorithms.end(), alg) == c.algorithms.end()) {
      c.algorithms.push_back(alg);
    }
  }
  src.RunFileChecks(&checks, options.threads, options.buffer_bytes);

  // Findings in line order.
  struct Outcome {
    size_t check;
    size_t entry;
  };
  std::vector<Outcome> order;
  for (size_t c = 0; c < checks.size(); ++c) {
    for (size_t e : listed[c]) order.push_back({c, e});
    if (checks[c].open.error == 0 && checks[c].first.ok) {
      ++r.files_read;
      r.bytes_read += checks[c].first.bytes;
    }
  }
  std::sort(order.begin(), order.end(),
            [](const Outcome& a, const Outcome& b) { return a.entry < b.entry; });
  for (const Outcome& o : order) {
    const FileCheck& c = checks[o.check];
    const SumEntry& e = entries[o.entry];
    if (c.open.error != 0) {
      if (c.open.not_found) {
        ++r.missing;
        f.Error("missing", path, e.line, ShowPath(e.name) + " is missing", e.name);
      } else {
        ++r.unreadable;
        f.Error(c.open.symlink ? "symlink" : "unreadable", path, e.line,
                "cannot read " + ShowPath(e.name) + ": " + c.open.error_text, e.name);
      }
      continue;
    }
    if (!c.first.ok) {
      ++r.unreadable;
      f.Error("unreadable", path, e.line,
              "cannot read " + ShowPath(e.name) + ": " + c.first.error_text, e.name);
      continue;
    }
    storage::Digest got = c.First(e.expected.algorithm());
    if (got == e.expected) {
      ++r.ok;
      continue;
    }
    storage::Digest again = c.Second(e.expected.algorithm());
    if (c.reread && again == e.expected) {
      ++r.ok;
      f.Warning("transient_mismatch", path, e.line,
                ShowPath(e.name) + ": first reading " + got.Hex() +
                    " did not match; the re-read from the device matched",
                e.name);
      continue;
    }
    ++r.mismatched;
    std::string msg = "digest mismatch for " + ShowPath(e.name) + ": listed " + e.expected.Hex() +
                      ", file " + got.Hex();
    if (c.reread && !(again == got)) msg += ", re-read " + again.Hex();
    f.Error("digest_mismatch", path, e.line, msg, e.name);
  }
  return finish();
}

}  // namespace

SumReport VerifySumFile(const std::string& path, const SumOptions& options) {
  SumReport r;
  Findings f;
  r.sum_file = path;
  size_t slash = path.rfind('/');
  r.directory = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);

  auto finish = [&]() {
    r.errors = std::move(f.errors);
    r.warnings = std::move(f.warnings);
    return std::move(r);
  };

  // The sum file and its directory, named by the operator, are opened by
  // their paths; the files listed are opened beneath the directory.
  std::string raw;
  OpenedFile sf = ReadPath(path, options.max_sum_file_bytes, &raw);
  if (sf.error != 0) {
    f.Error(sf.not_found ? "missing" : "unreadable", path, 0, "cannot read: " + sf.error_text);
    return finish();
  }
  int dir_fd = ::open(r.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    f.Error("unreadable", path, 0,
            "cannot open its directory " + ShowPath(r.directory) + ": " + std::strerror(errno));
    return finish();
  }
  DirSource src(dir_fd, Symlinks::kFollowBeneath);
  SumReport out = CheckEntries(raw, src, path, base, options, std::move(r), std::move(f));
  ::close(dir_fd);
  return out;
}

SumReport VerifySumFileAt(int dir_fd, const std::string& name, const std::string& shown,
                          const SumOptions& options) {
  DirSource src(dir_fd, Symlinks::kRefuse);
  return VerifySumFileFrom(src, name, shown, options);
}

SumReport VerifySumFileFrom(FileSource& src, const std::string& name, const std::string& shown,
                            const SumOptions& options) {
  SumReport r;
  Findings f;
  r.sum_file = shown;
  size_t slash = shown.rfind('/');
  r.directory = slash == std::string::npos ? "." : shown.substr(0, slash);
  std::string raw;
  OpenedFile sf = src.Read(name, options.max_sum_file_bytes, &raw);
  if (sf.error != 0) {
    f.Error(sf.not_found ? "missing"
            : sf.symlink ? "symlink"
                         : "unreadable",
            shown, 0, "cannot read: " + sf.error_text);
    r.errors = std::move(f.errors);
    if (storage::Status e = src.store_error(); !e.ok()) r.store_error = std::string(e.message());
    return r;
  }
  return CheckEntries(raw, src, shown, name, options, std::move(r), std::move(f));
}

}  // namespace vigil::formats
