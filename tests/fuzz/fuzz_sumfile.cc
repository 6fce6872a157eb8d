// libFuzzer target: checksum files (GNU coreutils and BSD --tag formats):
// the line parser and the whole-file parser with its algorithm detection.
// Must never crash, hang or leak; accepted names never leave the directory.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "services/worker/formats/path_check.h"
#include "services/worker/formats/sumfile.h"

using namespace vigil::formats;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr std::string_view kNames[] = {"SHA256SUMS", "MD5SUMS",  "B2SUMS",    "sums.txt",
                                                "x.sha512",   "SHA1SUMS", "CHECKSUMS", "a.xxh128"};
  std::string_view name = kNames[data[0] % 8];
  std::string_view raw(reinterpret_cast<const char*>(data + 1), size - 1);

  Findings findings;
  auto entries = ParseSumFile(raw, "SUMS", name, &findings);
  for (const auto& e : entries) {
    PathCheck pc = CheckRelativePath(e.path, false);
    if (!pc.ok || pc.canonical != e.path || e.expected.empty() || e.line == 0) std::abort();
  }
  for (const auto& f : findings.errors) {
    if (f.file.empty() || f.message.empty()) std::abort();
  }

  int state = static_cast<int>(data[0] % 3) - 1;
  SumLine line;
  std::string error;
  size_t column = 0;
  if (!ParseSumLine(raw, &state, &line, &error, &column) && column > raw.size()) std::abort();
  (void)SumFileNameHint(raw);
  return 0;
}
