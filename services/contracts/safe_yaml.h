// Loading a manifest's YAML text into nodes without letting the text take
// the process down: a dry run over the parser's events comes first and
// refuses, with the position, a stream yaml-cpp would loop on, lists and
// maps nested deeper than kMaxNestingDepth, an alias inside its own
// anchor, and a text whose size once aliases are expanded passes the
// budget of parse.h (kMaxExpandedFactor, kMinExpandedBudget). Internal to
// the contracts library (parse.cc).
//
// Thread-safe (no shared state).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace vigil::contracts {

// A limit of parse.h broken by the text (nesting depth, size once aliases
// are expanded, an alias inside its own anchor), found by the dry run
// before any node is built.
struct LimitExceeded {
  YAML::Mark mark;
  std::string what;
};

// YAML::LoadAll(), after a dry run that throws, with the position, instead
// of looping when the stream holds a token no document consumes, and
// LimitExceeded when the text breaks a limit of parse.h. Throws
// YAML::Exception on a syntax error.
std::vector<YAML::Node> SafeLoadAll(const std::string& text);

}  // namespace vigil::contracts
