// `vigil verify`: registers the command and its options, and dispatches on
// --format to the directory verifier (verify_command.h) or to the BagIt,
// checksum-file and restic verifiers (format_commands.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "services/cli/commands.h"
#include "services/cli/exit_codes.h"
#include "services/cli/format_commands.h"
#include "services/cli/verify_command.h"

namespace vigil::cli {
namespace {

// What `vigil verify` parses: the arguments of --format dir, and the format
// and the options only --format restic takes.
struct VerifyOptions {
  VerifyArgs va;
  std::string format = "dir";
  std::string password_file;
  bool read_data = false;
  // --no-progress: va.progress = false (a flag of its own: CLI11 shows a
  // negated flag as "--no-progress{false}").
  bool no_progress = false;
};

// --format bagit|sumfile|restic. The options of another format given on the
// command line are passed by name, for RunFormatVerify to refuse.
int RunOtherFormat(const VerifyOptions& o, const CLI::App& verify) {
  const VerifyArgs& va = o.va;
  const std::string& format = o.format;
  FormatArgs fa;
  fa.format = format;
  fa.path = va.path;
  fa.json = va.json;
  fa.threads = va.threads;
  for (const char* opt :
       {"--catalogue", "--max-age", "--mutable", "--accept", "--algorithm", "--list"}) {
    if (verify.count(opt) == 0) continue;
    std::string op = opt;
    if (format == "restic" && (op == "--catalogue" || op == "--accept")) continue;
    fa.dir_only_options.push_back(opt);
  }
  fa.password_file = o.password_file;
  fa.catalogue = va.catalogue;
  fa.accept = va.accept;
  fa.read_data = o.read_data;
  for (const char* opt : {"--password-file", "--read-data"}) {
    if (verify.count(opt) > 0 && format != "restic") fa.restic_only_options.push_back(opt);
  }
  return RunFormatVerify(fa);
}

int RunVerifyCommand(const VerifyOptions& o, const CLI::App& verify) {
  if (o.format != "dir") return RunOtherFormat(o, verify);
  if (verify.count("--password-file") + verify.count("--read-data") > 0) {
    std::fprintf(stderr,
                 "vigil verify: --password-file and --read-data apply to --format restic only\n");
    return kExitUsage;
  }
  return RunVerify(o.va);
}

}  // namespace

void AddVerifyCommands(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<VerifyOptions>();
  VerifyArgs& va = o->va;
  CLI::App* verify = app.add_subcommand(
      "verify",
      "Check a directory tree of backups against its catalogue, locally (no server). The "
      "first run records a baseline; later runs re-read and compare.");
  verify->add_option("PATH", va.path, "Directory to verify (the bag, or the checksum file)")
      ->required();
  verify
      ->add_option("--format", o->format,
                   "What PATH is: dir (a tree of backups, checked against its catalogue), bagit "
                   "(a BagIt bag, RFC 8493), sumfile (a SHA256SUMS-style checksum file) or restic "
                   "(a restic repository)")
      ->check(CLI::IsMember({"dir", "bagit", "sumfile", "restic"}))
      ->capture_default_str();
  verify->add_option("--catalogue", va.catalogue,
                     "Catalogue directory (default: one per PATH under "
                     "$XDG_STATE_HOME/vigil/verify/; --format restic: none unless given, "
                     "then known packs are not re-read and vanished ones are reported)");
  verify->add_option("--max-age", va.max_age,
                     "Incremental: do not re-read entries verified within DURATION "
                     "(e.g. 12h, 7d, 2w) whose size and mtime are unchanged");
  verify->add_flag("--mutable", va.mutable_set,
                   "PATH is a mirror updated in place: a change with a new mtime is an update, "
                   "not a problem");
  verify->add_flag("--accept", va.accept,
                   "Record modified and missing entries as the new baseline (after a "
                   "legitimate change; --format restic: forget vanished snapshots and packs)");
  verify->add_flag("--json", va.json, "Print one JSON document on stdout (see below)");
  verify->add_flag("--no-progress", o->no_progress, "Never show the progress bar");
  verify
      ->add_option("--algorithm", va.algorithm,
                   "Digest for new entries: xxh3-128 (default), sha256, sha512, sha1, md5")
      ->capture_default_str();
  verify->add_option("-j,--threads", va.threads, "Hashing threads (default: one per core)")
      ->check(CLI::Range(0, 256));
  verify
      ->add_option("--list", va.list_limit, "Human output: at most N added/updated entries listed")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  verify->add_option("--password-file", o->password_file,
                     "--format restic: read the repository password from FILE (without it, "
                     "only file names, layout and sizes are checked)");
  verify->add_flag("--read-data", o->read_data,
                   "--format restic: decrypt and hash every blob of every pack");
  verify->footer(kVerifyHelpFooter);
  verify->callback([o, verify, &exit_code] {
    if (o->no_progress) o->va.progress = false;
    exit_code = RunVerifyCommand(*o, *verify);
  });
}

}  // namespace vigil::cli
