// Restore-point discovery: which restore points a backup set's directory
// holds, and the time that identifies each of them.
//
// A restore point is identified by its TIME (ns since the epoch, UTC), never
// by its name: rsnapshot renames daily.0 -> daily.1 at every run, so the name
// of a point changes while the point does not. The time is the key of the
// point's entries in the catalogue (storage/key_codec.h, I64(restore_point)).
//
// Per layout (model.h Layout):
//   kMirror          one point, name "" (the set root), time 0 (the
//                    catalogue's convention for a set without dated points),
//                    time_source "none". The listing is not looked at.
//   kDatedFolders    each sub-directory with a date in its name; files and
//                    dateless folders are ignored with a warning (or timed by
//                    their mtime when set.time_from_mtime).
//   kRsnapshot       each sub-directory named <interval>.<N> ([a-z]+ "." digits:
//                    hourly.0, daily.3, ...), timed by its mtime (rsnapshot
//                    touches the snapshot root after each sync; the name is
//                    renamed every run). `.sync` and lock/pid files are
//                    ignored silently, anything else with a warning.
//   kDatedFiles      each regular file matching set.pattern (fnmatch glob,
//                    FNM_PERIOD; empty = every file) with a date in its name
//                    (or its mtime when set.time_from_mtime). Entries that do
//                    not match the pattern are not points and are ignored
//                    silently.
//   kBagitBags       each sub-directory that is a bag. The pure function
//                    takes every directory as a candidate; DiscoverRestorePointsAt
//                    keeps only those holding a regular `bagit.txt`. Time from
//                    the name's date, else (At only) bag-info.txt's
//                    Bagging-Date (local midnight in `tz`, time_source
//                    "bag-info"), else the directory's mtime.
//   kResticSnapshots not discovered here (the restic reader lists snapshots):
//                    no points and one warning.
//
// Times are unique: when two candidates have the same time, the first in
// name (byte) order is kept and a warning names both.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/contracts/model.h"
#include "storage/status.h"

namespace vigil::storage {
class Store;
}  // namespace vigil::storage

namespace vigil::contracts {

// One child of a backup set's root directory, as listed.
struct ListedChild {
  std::string name;
  bool is_dir = false;
  int64_t mtime_ns = 0;
  uint64_t size = 0;
};

struct DiscoveredPoint {
  std::string name;         // child name (relative path of the point inside the set)
  int64_t time_ns = 0;      // the point's time (UTC ns)
  std::string time_source;  // "name" | "mtime" | "bag-info" | "none" (kMirror)
};

struct Discovery {
  std::vector<DiscoveredPoint> points;  // sorted by time ascending, times unique
  // Human-readable, one per ignored child or collision, names escaped with
  // EscapeForTerminal: "daily.3: no date in name, ignored".
  std::vector<std::string> warnings;
};

// Pure: decides from a listing (any order). `tz` is the IANA zone in which
// names without an offset are read (backup tools write local time); empty
// means UTC. An unknown zone leaves local names undated (with a warning).
Discovery DiscoverRestorePoints(const BackupSet& set, const std::vector<ListedChild>& children,
                                const std::string& tz);

// Lists `set_root_dir` (lstat semantics: symbolic links are never followed,
// they are skipped with a warning, as are devices, FIFOs and sockets) and
// calls the above; for kBagitBags, keeps only directories holding a
// `bagit.txt` and reads bag-info.txt's Bagging-Date. Errors: NotFound if the
// root does not exist, FailedPrecondition if it is not a directory or is a
// symbolic link, Internal for other I/O errors.
storage::StatusOr<Discovery> DiscoverRestorePointsAt(const BackupSet& set,
                                                     const std::string& set_root_dir,
                                                     const std::string& tz);

// The same for the set's directory already open at `set_fd` (not closed;
// `shown` names it in errors), as the worker resolves it beneath its
// location (storage/open_beneath.h): every child is examined with
// fstatat(AT_SYMLINK_NOFOLLOW) and opened with openat(O_NOFOLLOW).
storage::StatusOr<Discovery> DiscoverRestorePointsAt(const BackupSet& set, int set_fd,
                                                     const std::string& shown,
                                                     const std::string& tz);

// The same for the directory `dir` of `store` (storage/store.h; "" is its
// root), as the worker reads a set in an S3 bucket or on an SFTP server:
// the same points and the same warnings as the descriptor version gives
// for the same tree (children in name order whatever order the store
// lists them in; a kSymlink or kOther child skipped with a warning; for
// kBagitBags a directory holding a regular `bagit.txt` is a bag, its
// bag-info.txt read through the store). `shown` names the directory in
// errors. Errors: the store's (NotFound when `dir` does not exist, ...),
// `shown` prefixed; FailedPrecondition when `dir` is not a directory.
storage::StatusOr<Discovery> DiscoverRestorePointsIn(const BackupSet& set, storage::Store& store,
                                                     std::string_view dir, const std::string& shown,
                                                     const std::string& tz);

// Parses the first date/time embedded in a file or folder name; nullopt if
// none. A date is YYYY-MM-DD (separator '-', '_' or '.', the same twice) or
// YYYYMMDD, not adjacent to other digits, year 1970..2199. It may be
// followed by a time after 'T', '_', '-' or ' ': HH:MM[:SS[.fraction]],
// HH-MM[-SS], HH_MM[_SS], HH.MM[.SS], HHMM or HHMMSS; YYYYMMDDHHMM[SS] in
// one run of digits is accepted too. After a time, 'Z' means UTC and
// +HH[:MM] / +HHMM (or '-' after a ':'-separated or 'T'-compact time) is an
// offset; otherwise the time is local in `tz` (empty = UTC), a date alone
// meaning local midnight. DST: a local time in a gap resolves to the instant
// of the transition, one in an overlap to its earliest instant
// (date::choose::earliest). Impossible dates and times (2026-02-30, month
// 13, hour 24, minute 60) are rejected; such a candidate is skipped and the
// scan goes on. Examples: "acct_20261031_2300.sql.gz",
// "backup-2026-10-31.tar.zst", "2026-10-31T23:00:00+01:00", "20261031T230000".
std::optional<int64_t> ParseDateInName(std::string_view name, const std::string& tz);

}  // namespace vigil::contracts
