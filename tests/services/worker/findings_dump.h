// A format check's findings as text for a failed assertion's message
// (`EXPECT_... << DumpFindings(report)`): one line per error, then one per
// warning, each with its code, or "(no findings)".
//
// Used by the BagIt and checksum-file tests; works for any report with
// `errors` and `warnings` lists of formats::Finding. Header-only;
// thread-safe.
#pragma once

#include <string>

namespace vigil::testing {

template <typename Report>
std::string DumpFindings(const Report& r) {
  std::string s;
  for (const auto& e : r.errors) s += "  error [" + e.code + "] " + e.ToString() + "\n";
  for (const auto& w : r.warnings) s += "  warning [" + w.code + "] " + w.ToString() + "\n";
  return s.empty() ? "  (no findings)\n" : s;
}

}  // namespace vigil::testing
