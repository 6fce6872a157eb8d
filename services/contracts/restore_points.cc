#include "services/contracts/restore_points.h"

#include <date/date.h>
#include <date/tz.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <map>
#include <utility>

#include "services/common/text.h"
#include "storage/dir_names.h"
#include "storage/store.h"

namespace vigil::contracts {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Length of the run of ASCII digits starting at s[i] (0 past the end).
size_t DigitRun(std::string_view s, size_t i) {
  size_t j = i;
  while (j < s.size() && IsDigit(s[j])) ++j;
  return j - i;
}

int Num(std::string_view s, size_t i, size_t n) {
  int v = 0;
  for (size_t k = 0; k < n; ++k) v = v * 10 + (s[i + k] - '0');
  return v;
}

struct DateTime {
  int year = 0, month = 0, day = 0;
  int hour = 0, minute = 0, second = 0;
  int64_t fraction_ns = 0;
  bool has_offset = false;
  int offset_s = 0;  // east of UTC
};

enum class Match { kNone, kInvalid, kOk };

// Tries a date(-time) starting at s[i], a digit not preceded by a digit.
// kNone: not shaped like a date; kInvalid: shaped like one, impossible.
Match TryDateAt(std::string_view s, size_t i, DateTime* dt) {
  const size_t run = DigitRun(s, i);
  size_t pos = 0;
  bool has_time = false;
  char time_sep = 0;  // ':' '-' '_' '.' between time fields, 0 = compact
  char date_sep = 0;  // between date and time ('T', '_', ...), 0 = none
  if (run == 4 && i + 4 < s.size() && (s[i + 4] == '-' || s[i + 4] == '_' || s[i + 4] == '.')) {
    const char sep = s[i + 4];
    if (DigitRun(s, i + 5) != 2 || i + 7 >= s.size() || s[i + 7] != sep ||
        DigitRun(s, i + 8) != 2) {
      return Match::kNone;
    }
    dt->year = Num(s, i, 4);
    dt->month = Num(s, i + 5, 2);
    dt->day = Num(s, i + 8, 2);
    pos = i + 10;
  } else if (run == 8 || run == 12 || run == 14) {
    dt->year = Num(s, i, 4);
    dt->month = Num(s, i + 4, 2);
    dt->day = Num(s, i + 6, 2);
    pos = i + 8;
    if (run >= 12) {
      dt->hour = Num(s, i + 8, 2);
      dt->minute = Num(s, i + 10, 2);
      if (run == 14) dt->second = Num(s, i + 12, 2);
      pos = i + run;
      has_time = true;
    }
  } else {
    return Match::kNone;
  }
  if (dt->year < 1970 || dt->year > 2199) return Match::kNone;

  if (!has_time && pos < s.size()) {
    const char c = s[pos];
    if (c == 'T' || c == 't' || c == '_' || c == '-' || c == ' ') {
      const size_t q = pos + 1;
      const size_t k = DigitRun(s, q);
      if (k == 4 || k == 6) {
        dt->hour = Num(s, q, 2);
        dt->minute = Num(s, q + 2, 2);
        if (k == 6) dt->second = Num(s, q + 4, 2);
        pos = q + k;
        has_time = true;
        date_sep = c;
      } else if (k == 2 && q + 2 < s.size()) {
        const char ts = s[q + 2];
        if ((ts == ':' || ts == '-' || ts == '_' || ts == '.') && DigitRun(s, q + 3) == 2) {
          dt->hour = Num(s, q, 2);
          dt->minute = Num(s, q + 3, 2);
          pos = q + 5;
          has_time = true;
          time_sep = ts;
          date_sep = c;
          if (pos < s.size() && s[pos] == ts && DigitRun(s, pos + 1) == 2) {
            dt->second = Num(s, pos + 1, 2);
            pos += 3;
            if (ts == ':' && pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
              const size_t f = DigitRun(s, pos + 1);
              if (f >= 1 && f <= 9) {
                int64_t frac = Num(s, pos + 1, f);
                for (size_t z = f; z < 9; ++z) frac *= 10;
                dt->fraction_ns = frac;
                pos += 1 + f;
              }
            }
          }
        }
      }
    }
  }

  if (has_time && pos < s.size()) {
    const char c = s[pos];
    const bool compact_t = time_sep == 0 && (date_sep == 'T' || date_sep == 't');
    if (c == 'Z' || c == 'z') {
      dt->has_offset = true;
      dt->offset_s = 0;
    } else if (c == '+' || (c == '-' && (time_sep == ':' || compact_t))) {
      size_t q = pos + 1;
      const size_t k = DigitRun(s, q);
      int oh = -1, om = 0;
      if (k == 4) {
        oh = Num(s, q, 2);
        om = Num(s, q + 2, 2);
      } else if (k == 2) {
        oh = Num(s, q, 2);
        q += 2;
        if (q < s.size() && s[q] == ':' && DigitRun(s, q + 1) == 2) om = Num(s, q + 1, 2);
      }
      if (oh >= 0) {
        if (oh > 14 || om > 59) return Match::kInvalid;
        dt->has_offset = true;
        dt->offset_s = (c == '-' ? -1 : 1) * (oh * 3600 + om * 60);
      }
    }
  }

  const date::year_month_day ymd{date::year{dt->year},
                                 date::month{static_cast<unsigned>(dt->month)},
                                 date::day{static_cast<unsigned>(dt->day)}};
  if (!ymd.ok() || dt->hour > 23 || dt->minute > 59 || dt->second > 59) return Match::kInvalid;
  return Match::kOk;
}

// nullptr for UTC (empty or "UTC"); throws std::runtime_error on unknown zones.
const date::time_zone* ZoneOrUtc(const std::string& tz) {
  if (tz.empty() || tz == "UTC" || tz == "Etc/UTC") return nullptr;
  return date::locate_zone(tz);
}

std::optional<int64_t> ToNs(const DateTime& dt, const std::string& tz) {
  using std::chrono::hours;
  using std::chrono::minutes;
  using std::chrono::seconds;
  const date::year_month_day ymd{date::year{dt.year}, date::month{static_cast<unsigned>(dt.month)},
                                 date::day{static_cast<unsigned>(dt.day)}};
  const seconds tod = hours{dt.hour} + minutes{dt.minute} + seconds{dt.second};
  date::sys_seconds t;
  if (dt.has_offset) {
    t = date::sys_days(ymd) + tod - seconds{dt.offset_s};
  } else {
    const date::time_zone* zone = nullptr;
    try {
      zone = ZoneOrUtc(tz);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (zone == nullptr) {
      t = date::sys_days(ymd) + tod;
    } else {
      // Nonexistent (DST gap): the instant of the transition; ambiguous
      // (overlap): the earlier of the two instants.
      t = zone->to_sys(date::local_days(ymd) + tod, date::choose::earliest);
    }
  }
  return int64_t{t.time_since_epoch().count()} * 1'000'000'000 + dt.fraction_ns;
}

bool TzKnown(const std::string& tz) {
  try {
    ZoneOrUtc(tz);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// [a-z]+ "." [0-9]+
bool IsRsnapshotName(std::string_view n) {
  size_t i = 0;
  while (i < n.size() && n[i] >= 'a' && n[i] <= 'z') ++i;
  if (i == 0 || i >= n.size() || n[i] != '.') return false;
  return DigitRun(n, i + 1) >= 1 && i + 1 + DigitRun(n, i + 1) == n.size();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsLockFile(std::string_view n) {
  return n == "lock" || EndsWith(n, ".pid") || EndsWith(n, ".lock") || EndsWith(n, ".lck");
}

bool ByteLess(const std::string& a, const std::string& b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  return c != 0 ? c < 0 : a.size() < b.size();
}

Discovery Discover(const BackupSet& set, std::vector<ListedChild> children, const std::string& tz,
                   const std::map<std::string, int64_t>* bag_dates,
                   std::vector<std::string> warnings) {
  Discovery out;
  out.warnings = std::move(warnings);
  if (set.layout == Layout::kMirror) {
    out.points.push_back({"", 0, "none"});
    return out;
  }
  if (set.layout == Layout::kResticSnapshots) {
    out.warnings.push_back(
        "restic snapshots are listed by the restic reader, not discovered from a directory "
        "listing: no restore points");
    return out;
  }
  std::sort(children.begin(), children.end(),
            [](const ListedChild& a, const ListedChild& b) { return ByteLess(a.name, b.name); });
  const bool names_dated = set.layout == Layout::kDatedFolders ||
                           set.layout == Layout::kDatedFiles || set.layout == Layout::kBagitBags;
  if (names_dated && !TzKnown(tz)) {
    out.warnings.push_back("time zone \"" + EscapeForTerminal(tz) +
                           "\" unknown: names without a UTC offset are not dated");
  }

  std::vector<DiscoveredPoint> candidates;
  auto warn = [&](const ListedChild& c, const std::string& why) {
    out.warnings.push_back(EscapeForTerminal(c.name) + ": " + why);
  };
  for (const ListedChild& c : children) {
    switch (set.layout) {
      case Layout::kDatedFolders:
      case Layout::kBagitBags: {
        if (!c.is_dir) {
          warn(c, "not a directory, ignored");
          break;
        }
        if (auto t = ParseDateInName(c.name, tz)) {
          candidates.push_back({c.name, *t, "name"});
        } else if (set.layout == Layout::kBagitBags && bag_dates != nullptr &&
                   bag_dates->count(c.name) != 0) {
          candidates.push_back({c.name, bag_dates->at(c.name), "bag-info"});
        } else if (set.layout == Layout::kBagitBags || set.time_from_mtime) {
          candidates.push_back({c.name, c.mtime_ns, "mtime"});
        } else {
          warn(c, "no date in name, ignored");
        }
        break;
      }
      case Layout::kRsnapshot: {
        if (c.name == ".sync" || (!c.is_dir && IsLockFile(c.name))) break;
        if (!c.is_dir) {
          warn(c, "not a directory, ignored");
        } else if (!IsRsnapshotName(c.name)) {
          warn(c, "not an rsnapshot <interval>.<N> directory, ignored");
        } else {
          candidates.push_back({c.name, c.mtime_ns, "mtime"});
        }
        break;
      }
      case Layout::kDatedFiles: {
        const bool matches =
            set.pattern.empty() || ::fnmatch(set.pattern.c_str(), c.name.c_str(), FNM_PERIOD) == 0;
        if (!matches) break;
        if (c.is_dir) {
          warn(c, "is a directory, not a backup file, ignored");
        } else if (auto t = ParseDateInName(c.name, tz)) {
          candidates.push_back({c.name, *t, "name"});
        } else if (set.time_from_mtime) {
          candidates.push_back({c.name, c.mtime_ns, "mtime"});
        } else {
          warn(c, "no date in name, ignored");
        }
        break;
      }
      case Layout::kMirror:
      case Layout::kResticSnapshots:
        break;
    }
  }

  // Unique times: the first in name order wins.
  std::map<int64_t, size_t> by_time;
  for (DiscoveredPoint& p : candidates) {
    auto [it, inserted] = by_time.emplace(p.time_ns, out.points.size());
    if (!inserted) {
      out.warnings.push_back(EscapeForTerminal(out.points[it->second].name) + " and " +
                             EscapeForTerminal(p.name) + ": same time, kept the first");
      continue;
    }
    out.points.push_back(std::move(p));
  }
  std::sort(
      out.points.begin(), out.points.end(),
      [](const DiscoveredPoint& a, const DiscoveredPoint& b) { return a.time_ns < b.time_ns; });
  return out;
}

std::string ErrnoText(int err) { return std::strerror(err); }

// bag-info.txt is small: its first 64 KiB are read, no more.
constexpr size_t kBagInfoBytes = 64 * 1024;

// The Bagging-Date (YYYY-MM-DD) in the text of a bag-info.txt.
std::optional<int64_t> ParseBaggingDate(std::string_view rest, const std::string& tz) {
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view label = line.substr(0, colon);
    while (!label.empty() && (label.back() == ' ' || label.back() == '\t')) label.remove_suffix(1);
    static constexpr std::string_view kLabel = "bagging-date";
    if (label.size() != kLabel.size()) continue;
    bool same = true;
    for (size_t i = 0; i < label.size(); ++i) {
      char c = label[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != kLabel[i]) same = false;
    }
    if (!same) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) {
      value.remove_suffix(1);
    }
    if (value.size() != 10 || value[4] != '-' || value[7] != '-') return std::nullopt;
    return ParseDateInName(value, tz);
  }
  return std::nullopt;
}

// Reads bag-info.txt's Bagging-Date (YYYY-MM-DD) of the bag open at `bag_fd`.
std::optional<int64_t> ReadBaggingDate(int bag_fd, const std::string& tz) {
  // O_NONBLOCK: a FIFO in its place does not hang the open.
  int fd = ::openat(bag_fd, "bag-info.txt", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::nullopt;
  }
  std::string text(kBagInfoBytes, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  return ParseBaggingDate(text, tz);
}

// The same for the bag at `bag` of a store.
std::optional<int64_t> ReadBaggingDate(storage::Store& store, const std::string& bag,
                                       const std::string& tz) {
  const std::string path = storage::JoinStorePath(bag, "bag-info.txt");
  auto st = store.Stat(path);
  if (!st.ok() || st->type != storage::StoreEntryType::kFile) return std::nullopt;
  std::string text(static_cast<size_t>(std::min<uint64_t>(st->size, kBagInfoBytes)), '\0');
  size_t got = 0;
  while (got < text.size()) {
    auto n = store.ReadAt(path, got, text.data() + got, text.size() - got);
    if (!n.ok() || *n == 0) break;
    got += *n;
  }
  text.resize(got);
  return ParseBaggingDate(text, tz);
}

// What a child of a set's directory is, as listed (no link followed).
enum class ChildKind { kDir, kFile, kSymlink, kOther };

// The child as discovery takes it, or nullopt with a warning: symbolic
// links and special files are never candidates.
std::optional<ListedChild> Admit(const std::string& name, ChildKind kind, int64_t mtime_ns,
                                 uint64_t size, std::vector<std::string>* warnings) {
  if (kind == ChildKind::kSymlink) {
    warnings->push_back(EscapeForTerminal(name) + ": symbolic link, not followed, ignored");
    return std::nullopt;
  }
  if (kind == ChildKind::kOther) {
    warnings->push_back(EscapeForTerminal(name) + ": not a regular file or directory, ignored");
    return std::nullopt;
  }
  ListedChild c;
  c.name = name;
  c.is_dir = kind == ChildKind::kDir;
  c.mtime_ns = mtime_ns;
  c.size = size;
  return c;
}

}  // namespace

std::optional<int64_t> ParseDateInName(std::string_view name, const std::string& tz) {
  size_t i = 0;
  while (i < name.size()) {
    if (!IsDigit(name[i])) {
      ++i;
      continue;
    }
    DateTime dt;
    if (TryDateAt(name, i, &dt) == Match::kOk) return ToNs(dt, tz);
    i += DigitRun(name, i);
  }
  return std::nullopt;
}

Discovery DiscoverRestorePoints(const BackupSet& set, const std::vector<ListedChild>& children,
                                const std::string& tz) {
  return Discover(set, children, tz, nullptr, {});
}

storage::StatusOr<Discovery> DiscoverRestorePointsAt(const BackupSet& set,
                                                     const std::string& set_root_dir,
                                                     const std::string& tz) {
  struct stat root;
  if (::lstat(set_root_dir.c_str(), &root) != 0) {
    const int err = errno;
    if (err == ENOENT) return absl::NotFoundError(set_root_dir + ": no such directory");
    return absl::InternalError(set_root_dir + ": " + ErrnoText(err));
  }
  if (S_ISLNK(root.st_mode)) {
    return absl::FailedPreconditionError(set_root_dir + ": is a symbolic link, not followed");
  }
  if (!S_ISDIR(root.st_mode)) {
    return absl::FailedPreconditionError(set_root_dir + ": not a directory");
  }
  if (set.layout == Layout::kMirror || set.layout == Layout::kResticSnapshots) {
    return Discover(set, {}, tz, nullptr, {});
  }
  int fd = ::open(set_root_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(set_root_dir + ": is a symbolic link, not followed");
    }
    return absl::InternalError(set_root_dir + ": " + ErrnoText(errno));
  }
  auto out = DiscoverRestorePointsAt(set, fd, set_root_dir, tz);
  ::close(fd);
  return out;
}

storage::StatusOr<Discovery> DiscoverRestorePointsAt(const BackupSet& set, int set_fd,
                                                     const std::string& set_root_dir,
                                                     const std::string& tz) {
  struct stat root;
  if (::fstat(set_fd, &root) != 0)
    return absl::InternalError(set_root_dir + ": " + ErrnoText(errno));
  if (!S_ISDIR(root.st_mode)) {
    return absl::FailedPreconditionError(set_root_dir + ": not a directory");
  }
  if (set.layout == Layout::kMirror || set.layout == Layout::kResticSnapshots) {
    return Discover(set, {}, tz, nullptr, {});
  }
  std::vector<storage::DirName> names;
  if (int err = storage::ReadDirNames(set_fd, &names); err != 0) {
    return absl::InternalError(set_root_dir + ": reading the directory: " + ErrnoText(err));
  }
  std::vector<ListedChild> children;
  std::vector<std::string> warnings;
  std::map<std::string, int64_t> bag_dates;
  for (const storage::DirName& entry : names) {
    const std::string& name = entry.name;
    struct stat st;
    if (::fstatat(set_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      warnings.push_back(EscapeForTerminal(name) + ": " + ErrnoText(errno) + ", ignored");
      continue;
    }
    const ChildKind kind = S_ISDIR(st.st_mode)   ? ChildKind::kDir
                           : S_ISREG(st.st_mode) ? ChildKind::kFile
                           : S_ISLNK(st.st_mode) ? ChildKind::kSymlink
                                                 : ChildKind::kOther;
    std::optional<ListedChild> admitted =
        Admit(name, kind, int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
              static_cast<uint64_t>(st.st_size), &warnings);
    if (!admitted) continue;
    ListedChild& c = *admitted;
    if (set.layout == Layout::kBagitBags && c.is_dir) {
      int bag = ::openat(set_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (bag < 0) {
        warnings.push_back(EscapeForTerminal(name) + ": " + ErrnoText(errno) + ", ignored");
        continue;
      }
      struct stat decl;
      const bool is_bag =
          ::fstatat(bag, "bagit.txt", &decl, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(decl.st_mode);
      if (is_bag) {
        if (auto t = ReadBaggingDate(bag, tz)) bag_dates[name] = *t;
      }
      ::close(bag);
      if (!is_bag) {
        warnings.push_back(EscapeForTerminal(name) + ": no bagit.txt, not a bag, ignored");
        continue;
      }
    }
    children.push_back(std::move(c));
  }
  return Discover(set, std::move(children), tz, &bag_dates, std::move(warnings));
}

storage::StatusOr<Discovery> DiscoverRestorePointsIn(const BackupSet& set, storage::Store& store,
                                                     std::string_view dir, const std::string& shown,
                                                     const std::string& tz) {
  if (!dir.empty()) {  // a store's root is always a directory
    auto root = store.Stat(dir);
    if (!root.ok()) {
      return storage::Status(root.status().code(),
                             shown + ": " + std::string(root.status().message()));
    }
    if (root->type == storage::StoreEntryType::kSymlink) {
      return absl::FailedPreconditionError(shown + ": is a symbolic link, not followed");
    }
    if (root->type != storage::StoreEntryType::kDirectory) {
      return absl::FailedPreconditionError(shown + ": not a directory");
    }
  }
  if (set.layout == Layout::kMirror || set.layout == Layout::kResticSnapshots) {
    return Discover(set, {}, tz, nullptr, {});
  }
  // The listing comes in no promised order: sorted, the warnings come in
  // the order the descriptor version gives them.
  std::vector<storage::StoreEntry> entries;
  storage::Status listed = store.List(dir, [&](storage::StoreEntry&& e) {
    entries.push_back(std::move(e));
    return true;
  });
  if (!listed.ok()) {
    return storage::Status(listed.code(),
                           shown + ": reading the directory: " + std::string(listed.message()));
  }
  std::sort(entries.begin(), entries.end(),
            [](const storage::StoreEntry& a, const storage::StoreEntry& b) {
              return ByteLess(a.name, b.name);
            });
  std::vector<ListedChild> children;
  std::vector<std::string> warnings;
  std::map<std::string, int64_t> bag_dates;
  for (const storage::StoreEntry& e : entries) {
    const ChildKind kind = e.type == storage::StoreEntryType::kDirectory ? ChildKind::kDir
                           : e.type == storage::StoreEntryType::kFile    ? ChildKind::kFile
                           : e.type == storage::StoreEntryType::kSymlink ? ChildKind::kSymlink
                                                                         : ChildKind::kOther;
    std::optional<ListedChild> c = Admit(e.name, kind, e.mtime_ns, e.size, &warnings);
    if (!c) continue;
    if (set.layout == Layout::kBagitBags && c->is_dir) {
      const std::string bag = storage::JoinStorePath(dir, e.name);
      auto decl = store.Stat(storage::JoinStorePath(bag, "bagit.txt"));
      if (!decl.ok() && !absl::IsNotFound(decl.status())) {
        warnings.push_back(EscapeForTerminal(e.name) + ": " + std::string(decl.status().message()) +
                           ", ignored");
        continue;
      }
      if (!decl.ok() || decl->type != storage::StoreEntryType::kFile) {
        warnings.push_back(EscapeForTerminal(e.name) + ": no bagit.txt, not a bag, ignored");
        continue;
      }
      if (auto t = ReadBaggingDate(store, bag, tz)) bag_dates[e.name] = *t;
    }
    children.push_back(std::move(*c));
  }
  return Discover(set, std::move(children), tz, &bag_dates, std::move(warnings));
}

}  // namespace vigil::contracts
