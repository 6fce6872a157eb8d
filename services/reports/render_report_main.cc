// vigil_render_report: renders a vigil.report/1 JSON file as HTML.
//
//   vigil_render_report REPORT.json [OUT.html]
//
// Without OUT.html, the page goes to stdout. Exit status: 0 written, 1 the
// JSON is not a valid report (the message names the field), 2 usage or I/O
// error. A development and test tool: `vigil report --format html` is the
// way for operators.
#include <fstream>
#include <iostream>
#include <sstream>

#include "nlohmann/json.hpp"
#include "services/reports/html.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: vigil_render_report REPORT.json [OUT.html]\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "vigil_render_report: cannot read " << argv[1] << "\n";
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json report = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded()) {
    std::cerr << "vigil_render_report: " << argv[1] << ": not valid JSON\n";
    return 1;
  }
  absl::StatusOr<std::string> html = vigil::reports::RenderReportHtml(report);
  if (!html.ok()) {
    std::cerr << "vigil_render_report: " << argv[1] << ": " << html.status().message() << "\n";
    return 1;
  }
  if (argc == 3) {
    std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
    out << *html;
    out.close();
    if (!out) {
      std::cerr << "vigil_render_report: cannot write " << argv[2] << "\n";
      return 2;
    }
  } else {
    std::cout << *html;
  }
  return 0;
}
