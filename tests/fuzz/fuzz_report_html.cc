// libFuzzer target: vigil::reports::RenderReportHtml on arbitrary JSON text
// (seeded with the test fixture report). Whatever the input, rendering must
// not crash or throw, must either refuse with InvalidArgument naming a path
// or give an HTML page in valid UTF-8 in which no input string became markup.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "services/common/text.h"
#include "services/reports/html.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  nlohmann::json report = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded()) return 0;
  absl::StatusOr<std::string> html = vigil::reports::RenderReportHtml(report);
  if (!html.ok()) {
    if (html.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    if (html.status().message().find(": ") == std::string_view::npos) std::abort();
    return 0;
  }
  if (html->rfind("<!DOCTYPE html>", 0) != 0) std::abort();
  if (!vigil::IsValidUtf8(*html)) std::abort();
  // The template has no script, image or link: any would come from input.
  for (const char* tag : {"<script", "<img", "<a ", "<link", "<iframe"}) {
    if (html->find(tag) != std::string::npos) std::abort();
  }
  return 0;
}
