#include "services/worker/format_tasks.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <unordered_map>

#include "services/common/files.h"
#include "services/common/text.h"
#include "services/common/time.h"
#include "services/worker/formats/file_source.h"
#include "services/worker/formats/restic.h"
#include "services/worker/formats/sumfile.h"
#include "storage/hash.h"
#include "storage/local_store.h"
#include "storage/open_beneath.h"

namespace vigil::worker {
namespace {

std::string Text(const formats::Finding& f) {
  std::string s = f.ToString();
  return IsValidUtf8(s) ? s : EscapeForTerminal(s);
}

}  // namespace

storage::StatusOr<std::string> ReadResticPassword(const std::string& secrets_dir,
                                                  const v1::BackupSet& set) {
  auto plain = [](const std::string& n) { return !n.empty() && n != "." && n != ".."; };
  std::vector<std::string> tried;
  if (!secrets_dir.empty() && plain(set.tenant()) && plain(set.name()) && plain(set.location())) {
    tried = {secrets_dir + "/" + set.tenant() + "/" + set.name() + ".password",
             secrets_dir + "/" + set.location() + ".password"};
  }
  for (const std::string& path : tried) {
    auto read = ReadWholeFile(path);
    if (absl::IsNotFound(read.status())) continue;  // try the next one
    if (!read.ok()) return read.status();           // names the file (unreadable, a directory)
    const std::string& s = *read;
    size_t b = s.find_first_not_of(" \t\r\n\v\f");
    if (b == std::string::npos) {
      return absl::InvalidArgumentError("restic password file '" + path + "' is empty");
    }
    size_t e = s.find_last_not_of(" \t\r\n\v\f");
    return s.substr(b, e - b + 1);
  }
  if (tried.empty()) {
    return absl::NotFoundError("no restic password for backup set '" + set.tenant() + "/" +
                               set.name() + "': the worker has no secrets directory (--secrets)");
  }
  return absl::NotFoundError("no restic password for backup set '" + set.tenant() + "/" +
                             set.name() + "': neither '" + tried[0] + "' nor '" + tried[1] +
                             "' exists on the worker");
}

std::optional<int64_t> ParseResticTime(std::string_view text) {
  std::optional<DateTime> t = ParseDateTime(text);
  // restic (Go's time.RFC3339Nano) writes a 'T': a space is not its format.
  if (!t || t->separator == ' ') return std::nullopt;
  return ToUnixNs(*t);
}

void AddFindings(const std::vector<formats::Finding>& errors,
                 const std::vector<formats::Finding>& warnings, v1::FormatVerdict* v) {
  v->set_error_count(v->error_count() + static_cast<uint32_t>(errors.size()));
  v->set_warning_count(v->warning_count() + static_cast<uint32_t>(warnings.size()));
  for (const auto& f : errors) {
    if (v->errors_size() >= kMaxVerdictTexts) break;
    v->add_errors(Text(f));
  }
  for (const auto& f : warnings) {
    if (v->warnings_size() >= kMaxVerdictTexts) break;
    v->add_warnings(Text(f));
  }
  v->set_valid(v->error_count() == 0);
}

namespace {

// A verdict of one error: what could not be opened.
v1::FormatVerdict Unopened(const char* format, const std::string& target, int64_t point_ns,
                           const storage::BeneathOpen& o, const std::string& what) {
  v1::FormatVerdict v;
  v.set_format(format);
  v.set_point_time_ns(point_ns);
  v.set_target(target);
  formats::Finding f;
  f.path = target;
  if (o.symlink()) {
    f.code = "symlink";
    f.message = "'" + EscapeForTerminal(o.link.empty() ? target : o.link) +
                "' is a symbolic link (not followed)";
  } else {
    f.code = "unreadable";
    f.message = "cannot open " + what + ": " + std::strerror(o.error);
  }
  AddFindings({f}, {}, &v);
  return v;
}

}  // namespace

namespace {

// The verdict of a bag's report.
v1::FormatVerdict BagVerdict(const formats::BagReport& r, const std::string& target,
                             int64_t point_ns) {
  v1::FormatVerdict v;
  v.set_format("bagit");
  v.set_point_time_ns(point_ns);
  v.set_target(target);
  AddFindings(r.errors, r.warnings, &v);
  v.set_files_read(r.files_hashed);
  v.set_bytes_read(r.bytes_hashed);
  return v;
}

// The verdicts of the checksum files directly in `src`'s directory.
std::vector<v1::FormatVerdict> SumVerdicts(formats::FileSource& src, const std::string& prefix,
                                           int64_t point_ns) {
  std::vector<formats::SourceName> listed;
  std::string ignored;  // not listable: no checksum file found ("no_sum_file")
  if (!src.List("", &listed, &ignored)) listed.clear();
  std::vector<std::string> names, links;  // checksum files; links named like one
  for (const formats::SourceName& e : listed) {
    if (!formats::SumFileNameHint(e.name).named) continue;
    if (e.type == storage::StoreEntryType::kFile) names.push_back(e.name);
    if (e.type == storage::StoreEntryType::kSymlink) links.push_back(e.name);
  }
  std::vector<v1::FormatVerdict> out;
  // A checksum file that is a symbolic link: reported, never followed.
  for (const std::string& n : links) {
    storage::BeneathOpen link;
    link.error = ELOOP;
    link.link = prefix + n;
    out.push_back(Unopened("sumfile", prefix + n, point_ns, link, "it"));
  }
  for (const std::string& n : names) {
    // Findings name the sum file relative to the set, not the worker's path.
    formats::SumReport r = formats::VerifySumFileFrom(src, n, prefix + n);
    v1::FormatVerdict v;
    v.set_format("sumfile");
    v.set_point_time_ns(point_ns);
    v.set_target(prefix + n);
    AddFindings(r.errors, r.warnings, &v);
    v.set_files_read(r.files_read);
    v.set_bytes_read(r.bytes_read);
    out.push_back(std::move(v));
  }
  if (out.empty()) {
    v1::FormatVerdict v;
    v.set_format("sumfile");
    v.set_point_time_ns(point_ns);
    v.set_target(prefix);
    formats::Finding f;
    f.code = "no_sum_file";
    f.message = "no checksum file (SHA256SUMS, MD5SUMS, *.sha256, ...) in " +
                (prefix.empty() ? std::string("the backup set's directory")
                                : "'" + EscapeForTerminal(prefix) + "'");
    AddFindings({f}, {}, &v);
    out.push_back(std::move(v));
  }
  return out;
}

// What a descriptor's OpenDirBeneath would say of the directory `path` of
// `store`: fd 0 (no descriptor: a store path) when it is one, else the
// refusal (a symbolic link, ENOENT, ENOTDIR); the store's error when it
// could not be asked.
storage::StatusOr<storage::BeneathOpen> StoreDir(storage::Store& store, const std::string& path) {
  storage::BeneathOpen o;
  auto st = store.Stat(path);
  if (absl::IsNotFound(st.status())) {
    o.error = ENOENT;
  } else if (!st.ok()) {
    return st.status();
  } else if (st->type == storage::StoreEntryType::kSymlink) {
    o.error = ELOOP;
  } else if (st->type != storage::StoreEntryType::kDirectory) {
    o.error = ENOTDIR;
  } else {
    o.fd = 0;
  }
  return o;
}

// The error of a check through a store that could not be read: its store
// error, naming the file and the store.
storage::Status StoreFailed(const char* format, const std::string& target,
                            const storage::Status& e) {
  return storage::Status(e.code(), std::string(format) + " '" + EscapeForTerminal(target) +
                                       "': " + std::string(e.message()));
}

std::string OpenedWhat(const std::string& dir) {
  return dir.empty() ? "the backup set's directory" : "'" + EscapeForTerminal(dir) + "'";
}

}  // namespace

v1::FormatVerdict CheckBag(int set_fd, const std::string& target, int64_t point_ns) {
  storage::BeneathOpen o = storage::OpenDirBeneath(set_fd, target);
  if (o.fd < 0) return Unopened("bagit", target, point_ns, o, OpenedWhat(target));
  formats::DirSource src(o.fd, formats::Symlinks::kRefuse);
  formats::BagReport r = formats::ValidateBagFrom(src, target.empty() ? "." : target);
  ::close(o.fd);
  return BagVerdict(r, target, point_ns);
}

storage::StatusOr<v1::FormatVerdict> CheckBag(storage::Store& store, const std::string& set_path,
                                              const std::string& target, int64_t point_ns) {
  const std::string path = target.empty() ? set_path : storage::JoinStorePath(set_path, target);
  auto o = StoreDir(store, path);
  if (!o.ok()) return StoreFailed("bag", target, o.status());
  if (o->fd < 0) return Unopened("bagit", target, point_ns, *o, OpenedWhat(target));
  formats::StoreSource src(store, path);
  formats::BagReport r = formats::ValidateBagFrom(src, target.empty() ? "." : target);
  if (storage::Status e = src.store_error(); !e.ok()) return StoreFailed("bag", target, e);
  return BagVerdict(r, target, point_ns);
}

std::vector<v1::FormatVerdict> CheckSumFiles(int set_fd, const std::string& dir,
                                             const std::string& prefix, int64_t point_ns) {
  storage::BeneathOpen o = storage::OpenDirBeneath(set_fd, dir);
  if (o.fd < 0) return {Unopened("sumfile", prefix, point_ns, o, OpenedWhat(dir))};
  formats::DirSource src(o.fd, formats::Symlinks::kRefuse);
  std::vector<v1::FormatVerdict> out = SumVerdicts(src, prefix, point_ns);
  ::close(o.fd);
  return out;
}

storage::StatusOr<std::vector<v1::FormatVerdict>> CheckSumFiles(storage::Store& store,
                                                                const std::string& set_path,
                                                                const std::string& dir,
                                                                const std::string& prefix,
                                                                int64_t point_ns) {
  const std::string path = dir.empty() ? set_path : storage::JoinStorePath(set_path, dir);
  auto o = StoreDir(store, path);
  if (!o.ok()) return StoreFailed("checksum files in", dir, o.status());
  if (o->fd < 0) {
    return std::vector<v1::FormatVerdict>{
        Unopened("sumfile", prefix, point_ns, *o, OpenedWhat(dir))};
  }
  formats::StoreSource src(store, path);
  std::vector<v1::FormatVerdict> out = SumVerdicts(src, prefix, point_ns);
  if (storage::Status e = src.store_error(); !e.ok()) {
    return StoreFailed("checksum files in", dir, e);
  }
  return out;
}

ResticTaskResult CheckResticRepository(int repo_fd, const std::string& repo,
                                       const std::string& password, const v1::Task& task) {
  auto store = storage::LocalStore::OpenAt(repo_fd, "", repo);
  if (!store.ok()) {
    ResticTaskResult out;
    out.error = "restic repository '" + EscapeForTerminal(repo) +
                "': " + std::string(store.status().message());
    return out;
  }
  return CheckResticRepository(**store, "", repo, password, task);
}

ResticTaskResult CheckResticRepository(storage::Store& store, const std::string& base,
                                       const std::string& repo, const std::string& password,
                                       const v1::Task& task) {
  ResticTaskResult out;
  std::unordered_map<std::string, uint64_t> known;
  for (const auto& p : task.restic_known_packs()) known[p.id()] = p.size();
  formats::ResticOptions o;
  o.has_password = true;
  o.password = password;
  o.read_data = true;
  o.known_packs = &known;
  o.skip_known_with_read_data = true;
  formats::ResticReport r = formats::VerifyResticIn(store, base, repo, o);
  if (!r.store_error.empty()) {  // could not read: no verdict, the task's error
    out.error = "restic repository '" + EscapeForTerminal(repo) + "': " + r.store_error;
    return out;
  }
  if (!r.fatal.empty()) {
    out.error = "restic repository '" + EscapeForTerminal(repo) + "': " + r.fatal;
    return out;
  }
  if (!r.password_error.empty()) {
    out.error = "restic repository '" + EscapeForTerminal(repo) + "': " + r.password_error;
    return out;
  }
  v1::FormatVerdict& v = out.verdict;
  v.set_format("restic");
  v.set_point_time_ns(0);
  std::vector<formats::Finding> errors = r.errors;
  // Snapshots as restore points, by time; the snapshot file's size.
  std::unordered_map<std::string, const formats::ResticFileState*> snapshot_file;
  for (const auto& f : r.snapshot_files) snapshot_file[f.id] = &f;
  struct Snap {
    int64_t ns;
    const formats::restic::Snapshot* s;
  };
  std::vector<Snap> snaps;
  for (const auto& s : r.snapshots) {
    std::optional<int64_t> ns = ParseResticTime(s.time);
    if (!ns) {
      formats::Finding f;
      f.code = "snapshot_time_invalid";
      f.file = "snapshots/" + s.id;
      f.message = "snapshot time '" + EscapeForTerminal(s.time) + "' is not RFC 3339";
      errors.push_back(std::move(f));
      continue;
    }
    snaps.push_back({*ns, &s});
  }
  std::stable_sort(snaps.begin(), snaps.end(),
                   [](const Snap& a, const Snap& b) { return a.ns < b.ns; });
  int64_t last = INT64_MIN;
  for (Snap& sn : snaps) {
    if (sn.ns <= last) sn.ns = last + 1;
    last = sn.ns;
    const std::string name = "snapshots/" + sn.s->id;
    v1::RestorePointSeen p;
    p.set_time_ns(sn.ns);
    p.set_name(name);
    p.set_time_source("snapshot");
    out.points.push_back(std::move(p));
    v1::Observation ob;
    ob.set_path(name);
    ob.set_type(v1::ENTRY_TYPE_FILE);
    ob.set_restore_point_ns(sn.ns);
    // Size and mtime as listed (lstat): the file is not looked up again.
    auto file = snapshot_file.find(sn.s->id);
    if (file != snapshot_file.end()) {
      ob.set_size(file->second->size);
      ob.set_mtime_ns(file->second->mtime_ns);
    }
    std::string raw;
    if (formats::restic::ParseId(sn.s->id, &raw)) {
      ob.set_digest_algorithm(static_cast<uint32_t>(storage::HashAlgorithm::kSha256));
      ob.set_digest(raw);
    } else {  // its name is not its SHA-256: nothing says what it holds
      ob.set_unreadable(true);
      ob.set_error("snapshot id '" + sn.s->id + "' is not a SHA-256 in hex");
    }
    out.observations.push_back(std::move(ob));
  }
  AddFindings(errors, r.warnings, &v);
  // The snapshots that cannot be restored, by point time: the coordinator
  // damages these alone (one broken snapshot leaves the others drillable).
  const std::set<std::string> incomplete(r.incomplete_snapshots.begin(),
                                         r.incomplete_snapshots.end());
  for (const Snap& sn : snaps) {
    if (incomplete.count(sn.s->id) != 0) v.add_damaged_points(sn.ns);
  }
  v.set_per_snapshot(true);
  v.set_snapshots(r.snapshots.size());
  v.set_packs_read(r.packs_read);
  v.set_packs_skipped(r.packs_skipped);
  v.set_bytes_read(r.bytes_read);
  v.set_files_read(r.packs_read + r.index.files + r.snapshots_dir.files + 1);
  // Packs: a pack any error names is bad (read, and something was wrong).
  std::set<std::string> named;
  for (const auto& f : errors) {
    if (!f.path.empty()) named.insert(f.path);
    if (!f.file.empty()) named.insert(f.file);
  }
  for (const auto& f : r.pack_files) {
    v1::ResticPack p;
    std::string raw;
    if (!formats::restic::ParseId(f.id, &raw)) continue;  // misnamed: an error already
    p.set_id(raw);
    p.set_size(f.size);
    const std::string rel = "data/" + f.id.substr(0, 2) + "/" + f.id;
    const bool bad = named.count(rel) != 0;
    p.set_bad(bad);
    // An unreferenced pack was not compared with any index: never
    // remembered as verified (an index naming it later gets it read).
    p.set_verified(!f.skipped && !bad && f.ok && f.referenced);
    out.packs.push_back(std::move(p));
  }
  return out;
}

}  // namespace vigil::worker
