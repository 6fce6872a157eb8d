// `vigil verify --format bagit|sumfile|restic`: one-shot checks of a BagIt
// bag, a checksum file or a restic repository, no catalogue and no server (the `dir` format is
// verify_command.h). CLI11 stays in verify_cli.cc: this takes parsed arguments.
#pragma once

#include <string>
#include <vector>

namespace vigil::cli {

struct FormatArgs {
  std::string format;  // "bagit", "sumfile" or "restic"
  std::string path;    // the bag directory, the checksum file or the repository
  bool json = false;
  int threads = 0;  // hashing threads; 0 = one per core
  // Options given on the command line that only apply to --format dir
  // ("--catalogue", ...): a usage error.
  std::vector<std::string> dir_only_options;
  // restic only ("--password-file", "--read-data"); given with another
  // format: a usage error.
  std::string password_file;  // empty: no password (name checks only)
  bool read_data = false;
  // restic: remember snapshots and packs in this catalogue directory (empty:
  // none); `accept` re-baselines after a legitimate forget/prune.
  std::string catalogue;
  bool accept = false;
  std::vector<std::string> restic_only_options;
};

// Prints errors on stdout ("manifest-sha256.txt:12: digest mismatch for
// data/a.txt") and warnings on stderr, or with --json one document on stdout
// (warnings still echoed on stderr).
// Exit codes: 0 valid (warnings allowed); 1 invalid (any error); 2 usage or
// input error: PATH missing or of the wrong kind, options of another format.
// restic: a password file that cannot be read, or a password that opens no
// key in keys/, is an input error too (exit 2), not a verdict on the
// repository.
int RunFormatVerify(const FormatArgs& args);

}  // namespace vigil::cli
