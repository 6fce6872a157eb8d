// The `vigil` binary: parses the command line and hands over to a command.
// CLI11 is slow to compile: keep it to this file.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "services/cli/format_commands.h"
#include "services/cli/verify_command.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "dev"
#endif

int main(int argc, char** argv) {
  CLI::App app{
      "Vigil verifies the backups an MSP keeps for its clients, checks them against each "
      "client's contract, and issues signed proofs the client can check offline.",
      "vigil"};
  app.set_version_flag("--version", std::string("vigil ") + VIGIL_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'vigil COMMAND --help' for the options of a command.");

  vigil::cli::VerifyArgs va;
  CLI::App* verify = app.add_subcommand(
      "verify",
      "Check a directory tree of backups against its catalogue, locally (no server). The "
      "first run records a baseline; later runs re-read and compare.");
  std::string format = "dir";
  verify->add_option("PATH", va.path, "Directory to verify (the bag, or the checksum file)")
      ->required();
  verify
      ->add_option("--format", format,
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
  verify->add_flag("!--no-progress", va.progress, "Never show the progress bar");
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
  std::string password_file;
  bool read_data = false;
  verify->add_option("--password-file", password_file,
                     "--format restic: read the repository password from FILE (without it, "
                     "only file names, layout and sizes are checked)");
  verify->add_flag("--read-data", read_data,
                   "--format restic: decrypt and hash every blob of every pack");
  verify->footer(vigil::cli::kVerifyHelpFooter);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;  // usage error, whatever CLI11's own code
  }

  if (verify->parsed() && format != "dir") {
    vigil::cli::FormatArgs fa;
    fa.format = format;
    fa.path = va.path;
    fa.json = va.json;
    fa.threads = va.threads;
    for (const char* opt :
         {"--catalogue", "--max-age", "--mutable", "--accept", "--algorithm", "--list"}) {
      if (verify->count(opt) == 0) continue;
      std::string o = opt;
      if (format == "restic" && (o == "--catalogue" || o == "--accept")) continue;
      fa.dir_only_options.push_back(opt);
    }
    fa.password_file = password_file;
    fa.catalogue = va.catalogue;
    fa.accept = va.accept;
    fa.read_data = read_data;
    for (const char* opt : {"--password-file", "--read-data"}) {
      if (verify->count(opt) > 0 && format != "restic") fa.restic_only_options.push_back(opt);
    }
    return vigil::cli::RunFormatVerify(fa);
  }
  if (verify->parsed() && verify->count("--password-file") + verify->count("--read-data") > 0) {
    std::fprintf(stderr,
                 "vigil verify: --password-file and --read-data apply to --format restic only\n");
    return 2;
  }
  if (verify->parsed()) return vigil::cli::RunVerify(va);
  return 2;
}
