// The format readers (services/worker/formats/) as worker tasks: what a
// CHECK task of a "bagit", "sumfile" or "restic" backup set runs besides (or,
// for restic, instead of) the tree walk, turned into the protocol's messages
// (vigil.v1.FormatVerdict, ResticPack, restore points and observations).
// Hashes and metadata only, never contents; passwords never leave the
// worker.
//
// No gRPC here (check_task.cc calls these and streams the results): this is
// testable on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/worker/formats/bagit.h"
#include "services/worker/formats/finding.h"
#include "storage/status.h"
#include "storage/store.h"
#include "vigil/v1/types.pb.h"

namespace vigil::worker {

// Most errors (and, separately, warnings) a verdict carries as text; the
// counts are always complete.
inline constexpr int kMaxVerdictTexts = 20;

// The restic password of a backup set, from the worker's secrets directory
// (`vigil worker --secrets DIR`): the first of
//   DIR/<tenant>/<backup set>.password
//   DIR/<location>.password          (one password for a location's repos)
// that exists, read whole and trimmed of surrounding white space as restic
// reads --password-file. NotFound naming both paths when neither exists
// (or `secrets_dir` is empty); InvalidArgument for an empty file.
storage::StatusOr<std::string> ReadResticPassword(const std::string& secrets_dir,
                                                  const v1::BackupSet& set);

// A restic snapshot time (RFC 3339 as restic writes it:
// "2026-11-23T00:45:12.123456789+01:00", or with "Z") in ns since the
// epoch; nullopt if it does not parse (services/common/time.h's
// ParseDateTime, with a 'T' between date and time), or falls outside int64
// nanoseconds.
std::optional<int64_t> ParseResticTime(std::string_view text);

// Fills the verdict's findings (counts, the first kMaxVerdictTexts of each
// as valid UTF-8 text).
void AddFindings(const std::vector<formats::Finding>& errors,
                 const std::vector<formats::Finding>& warnings, v1::FormatVerdict* v);

// Everything here is read beneath the backup set's directory, open at
// `set_fd` (resolved beneath its location by the worker), by the rule of
// storage/open_beneath.h: no symbolic link is followed in any component; a
// link is reported (finding "symlink"), never opened or listed.

// Validates the bag `target` (a restore point of a "bagit" set: its path
// relative to the set's directory, "" for that directory itself).
v1::FormatVerdict CheckBag(int set_fd, const std::string& target, int64_t point_ns);

// Verifies every checksum file directly in the directory `dir` (relative to
// the set's directory, "" for itself): a regular file whose name names an
// algorithm (SHA256SUMS, MD5SUMS, *.sha256, ...; see formats/sumfile.h
// SumFileNameHint), one verdict each, `target` = `prefix` + its name; a
// symbolic link with such a name is an invalid verdict ("symlink"), never
// followed. No checksum file at all: one invalid verdict with the error
// "no_sum_file" (a "sumfile" set without one is misconfigured or lost it).
std::vector<v1::FormatVerdict> CheckSumFiles(int set_fd, const std::string& dir,
                                             const std::string& prefix, int64_t point_ns);

// The same two for a set in a store (a remote location, or a LocalStore):
// the set's directory is `set_path` (a store path); everything is read
// through the store (formats/file_source.h's StoreSource) by the same
// readers, with the same verdicts. A store that could not be read
// (credentials refused, unavailable after its retries: storage/store.h)
// is no verdict: the error, naming the bag or directory, the file and the
// store.
storage::StatusOr<v1::FormatVerdict> CheckBag(storage::Store& store, const std::string& set_path,
                                              const std::string& target, int64_t point_ns);
storage::StatusOr<std::vector<v1::FormatVerdict>> CheckSumFiles(storage::Store& store,
                                                                const std::string& set_path,
                                                                const std::string& dir,
                                                                const std::string& prefix,
                                                                int64_t point_ns);

// What a restic CHECK task found.
struct ResticTaskResult {
  // Non-empty: the repository could not be used at all (not a repository,
  // no key opens with the password) or its store could not be read during
  // the check (formats::ResticReport::store_error: the file and the store
  // named, no verdict): the task fails with this error.
  std::string error;
  // The snapshots as restore points (ascending, unique times: a snapshot
  // sharing its time to the nanosecond with the previous one is listed 1 ns
  // later), name "snapshots/<id>", time_source "snapshot".
  std::vector<v1::RestorePointSeen> points;
  // One per point: its snapshot file (path "snapshots/<id>", size, mtime,
  // SHA-256 = its name).
  std::vector<v1::Observation> observations;
  v1::FormatVerdict verdict;
  // Every pack present, read (verified or bad) or skipped as known.
  std::vector<v1::ResticPack> packs;
};

// Verifies the repository in `store` beneath `base` (its directory, a
// store path; `repo` names it in errors) with `password`, blob by blob,
// skipping the task's known packs of unchanged size
// (Task.restic_known_packs). The same check whatever the store: a local
// directory (storage::LocalStore), an S3 bucket, an SFTP server.
ResticTaskResult CheckResticRepository(storage::Store& store, const std::string& base,
                                       const std::string& repo, const std::string& password,
                                       const v1::Task& task);

// The same for the repository open at `repo_fd` (through a LocalStore).
ResticTaskResult CheckResticRepository(int repo_fd, const std::string& repo,
                                       const std::string& password, const v1::Task& task);

}  // namespace vigil::worker
