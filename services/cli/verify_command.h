// `vigil verify`: a local, one-shot check of a directory tree against its
// catalogue. No server involved.
#pragma once

#include <string>

namespace vigil::cli {

struct VerifyArgs {
  std::string path;
  std::string catalogue;  // empty = default under $XDG_STATE_HOME/vigil/
  std::string max_age;    // empty = re-read everything
  std::string algorithm = "xxh3-128";
  bool json = false;
  bool mutable_set = false;
  bool accept = false;
  bool progress = true;  // still only shown on a terminal
  int threads = 0;
  int list_limit = 50;  // human output: added/updated entries listed
};

// Exit codes: 0 verified, no problem; 1 integrity problems; 2 usage or input
// error (message on stderr).
int RunVerify(const VerifyArgs& args);

// Text for `vigil verify --help` after the option list.
extern const char kVerifyHelpFooter[];

}  // namespace vigil::cli
