// The HTML report in a real browser: Debian's headless Chromium renders the
// fixture report (English and French) to PNG and to PDF, and poppler's
// pdfinfo / pdftotext check the PDF: A4 pages, the key texts present, and
// every word inside the printable area (nothing cut off or spilling into
// the margins). The HTML, PNG and PDF are kept in
// build/tests/artifacts/reports/ for a human to look at.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "services/reports/html.h"
#include "tests/integration/test_util.h"

namespace vigil::reports {
namespace {

using nlohmann::json;
using vigil::testing::ReadFile;
using vigil::testing::RunProcess;
using vigil::testing::RunResult;
using vigil::testing::TempDir;
using vigil::testing::WriteFile;

constexpr double kPointsPerMm = 72.0 / 25.4;
constexpr int kTimeoutSeconds = 120;

// The absolute path of `name` found in $PATH, or "".
std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string Chromium() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    std::string p = FindInPath(name);
    if (!p.empty()) return p;
  }
  return "";
}

json Fixture() {
  return json::parse(ReadFile(std::string(VIGIL_SOURCE_DIR) +
                              "/tests/services/reports/testdata/report_martin.json"));
}

// Collapses every run of white space (including the no-break and narrow
// no-break spaces French numbers use) into one ASCII space.
std::string NormalizeSpaces(const std::string& text) {
  std::string s = text;
  for (const char* nbsp : {"\u00a0", "\u202f"}) {
    for (size_t at; (at = s.find(nbsp)) != std::string::npos;) s.replace(at, strlen(nbsp), " ");
  }
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string WithoutSpaces(const std::string& text) {
  std::string out;
  for (char c : NormalizeSpaces(text)) {
    if (c != ' ') out += c;
  }
  return out;
}

struct WordBox {
  double x0, y0, x1, y1;  // points, origin top left (pdftotext -bbox)
  std::string text;
  std::string Show() const {
    return "\"" + text + "\" at (" + std::to_string(x0) + ", " + std::to_string(y0) + ")-(" +
           std::to_string(x1) + ", " + std::to_string(y1) + ")\n";
  }
};

RunResult RunWithTimeout(std::vector<std::string> argv) {
  std::string timeout = FindInPath("timeout");
  EXPECT_FALSE(timeout.empty()) << "coreutils timeout not found";
  argv.insert(argv.begin(), {timeout, "-k", "10", std::to_string(kTimeoutSeconds)});
  return RunProcess(argv);
}

// Headless chromium with a profile of its own in `profile_dir`, then `args`.
std::vector<std::string> ChromiumArgs(const std::string& chromium, const std::string& profile_dir,
                                      const std::vector<std::string>& args) {
  std::vector<std::string> argv = {chromium,
                                   "--headless",
                                   "--no-sandbox",  // CI runs as root
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--no-default-browser-check",
                                   "--disable-extensions",
                                   "--user-data-dir=" + profile_dir};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

class ReportInChromium : public ::testing::TestWithParam<const char*> {};

TEST_P(ReportInChromium, RendersToA4WithNothingCutOff) {
  const std::string chromium = Chromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed (scripts/install-deps installs it): the HTML "
                    "report was not rendered in a browser";
  }
  const std::string pdfinfo = FindInPath("pdfinfo"), pdftotext = FindInPath("pdftotext");
  ASSERT_FALSE(pdfinfo.empty() || pdftotext.empty())
      << "poppler-utils (pdfinfo, pdftotext) missing: run scripts/install-deps";

  const std::string language = GetParam();
  json report = Fixture();
  report["tenant"]["language"] = language;
  absl::StatusOr<std::string> html = RenderReportHtml(report);
  ASSERT_TRUE(html.ok()) << html.status();

  const std::string artifacts = VIGIL_ARTIFACT_DIR;
  vigil::testing::MakeDirs(artifacts);
  const std::string base = artifacts + "/report_" + language;
  const std::string html_path = base + ".html", pdf = base + ".pdf", png = base + ".png";
  WriteFile(html_path, *html);
  unlink(pdf.c_str());
  unlink(png.c_str());

  TempDir tmp;  // a fresh profile for each run: no state from earlier runs
  RunResult r = RunWithTimeout(
      ChromiumArgs(chromium, tmp.path() + "/profile",
                   {"--no-pdf-header-footer", "--print-to-pdf=" + pdf, "file://" + html_path}));
  ASSERT_EQ(r.exit_code, 0) << "chromium --print-to-pdf failed (124 = timed out):\n" << r.err;
  r = RunWithTimeout(ChromiumArgs(chromium, tmp.path() + "/profile",
                                  {"--hide-scrollbars", "--window-size=1024,3000",
                                   "--screenshot=" + png, "file://" + html_path}));
  ASSERT_EQ(r.exit_code, 0) << "chromium --screenshot failed (124 = timed out):\n" << r.err;

  // The screenshot is a real PNG of the requested width.
  const std::string png_bytes = ReadFile(png);
  ASSERT_GT(png_bytes.size(), 24u);
  EXPECT_EQ(png_bytes.substr(0, 8), "\x89PNG\r\n\x1a\n");
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(png_bytes[at + i]);
    return v;
  };
  EXPECT_EQ(be32(16), 1024u);  // IHDR width
  EXPECT_GT(png_bytes.size(), 20000u) << "suspiciously small screenshot: blank page?";

  // Every page is A4 portrait: 210 x 297 mm = 595.3 x 841.9 pt.
  r = RunProcess({pdfinfo, "-box", "-f", "1", "-l", "1000", pdf});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::regex media_box(
      R"(Page\s+(\d+)\s+MediaBox:\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+))");
  int pages = 0;
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), media_box), end; it != end; ++it) {
    ++pages;
    double w = std::stod((*it)[4]) - std::stod((*it)[2]);
    double h = std::stod((*it)[5]) - std::stod((*it)[3]);
    EXPECT_EQ(std::lround(w), 595) << "page " << (*it)[1] << " width " << w;
    EXPECT_EQ(std::lround(h), 842) << "page " << (*it)[1] << " height " << h;
  }
  // The fixture is long enough to need several pages: repeated table
  // headers and unsplit rows are exercised.
  EXPECT_GE(pages, 2) << r.out;

  // The key texts, as a reader of the PDF sees them.
  r = RunProcess({pdftotext, "-enc", "UTF-8", pdf, "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = NormalizeSpaces(r.out), compact = WithoutSpaces(r.out);
  auto has = [&](const std::string& needle) {
    EXPECT_NE(text.find(NormalizeSpaces(needle)), std::string::npos)
        << "missing from the PDF text: " << needle;
  };
  has(report["tenant"]["display_name"].get<std::string>());
  has(language == "fr" ? "Capacité de restauration" : "Restore readiness");
  has("vigil proof verify");
  int failing = 0;
  for (const json& c : report["commitments"]) {
    if (c["verdict"] == "fail") {
      ++failing;
      has(c["summary"].get<std::string>());
    }
  }
  EXPECT_GT(failing, 0);
  // Hashes and unbreakable names may wrap, but no character may be lost.
  int roots = 0;
  for (const json& s : report["backup_sets"]) {
    EXPECT_NE(compact.find(WithoutSpaces(s["name"].get<std::string>())), std::string::npos)
        << "backup set name cut: " << s["name"];
    if (s["merkle"].is_null()) continue;
    ++roots;
    const std::string root = s["merkle"]["root"].get<std::string>();
    ASSERT_EQ(root.size(), 64u);
    EXPECT_NE(compact.find(root), std::string::npos) << "Merkle root not whole: " << root;
  }
  EXPECT_GT(roots, 0);
  EXPECT_NE(compact.find(report["contract"]["sha256"].get<std::string>()), std::string::npos);
  for (const json& f : report["scope_findings"]) {
    EXPECT_NE(compact.find(WithoutSpaces(f["subject"].get<std::string>())), std::string::npos)
        << "path cut: " << f["subject"];
  }

  // Nothing outside the printable area: every word box within the page
  // minus the @page margins (1 pt of tolerance for glyph overhang).
  const std::string bbox_path = tmp.path() + "/bbox.html";
  r = RunProcess({pdftotext, "-bbox-layout", "-enc", "UTF-8", pdf, bbox_path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string bbox = ReadFile(bbox_path);
  std::regex page_re(R"re(<page width="([\d.]+)" height="([\d.]+)">)re");
  std::regex word_re(
      R"re(<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">([^<]*)</word>)re");
  const double tol = 1.0;
  const double left = kPageMarginSideMm * kPointsPerMm - tol;
  const double top = kPageMarginTopMm * kPointsPerMm - tol;
  int words = 0, outside = 0, overlapping = 0, bbox_pages = 0;
  std::string offenders, overlaps;
  size_t pos = 0;
  while (true) {
    std::smatch pm;
    std::string rest = bbox.substr(pos);
    if (!std::regex_search(rest, pm, page_re)) break;
    ++bbox_pages;
    const double width = std::stod(pm[1]), height = std::stod(pm[2]);
    const double right = width - kPageMarginSideMm * kPointsPerMm + tol;
    const double bottom = height - kPageMarginBottomMm * kPointsPerMm + tol;
    size_t page_start = pos + pm.position(0) + pm.length(0);
    size_t page_end = bbox.find("</page>", page_start);
    ASSERT_NE(page_end, std::string::npos);
    std::string page = bbox.substr(page_start, page_end - page_start);
    std::vector<WordBox> boxes;
    for (std::sregex_iterator it(page.begin(), page.end(), word_re), end; it != end; ++it) {
      WordBox b{std::stod((*it)[1]), std::stod((*it)[2]), std::stod((*it)[3]), std::stod((*it)[4]),
                (*it)[5].str()};
      boxes.push_back(b);
      if (b.x0 < left || b.y0 < top || b.x1 > right || b.y1 > bottom) {
        if (++outside <= 10) offenders += "  page " + std::to_string(bbox_pages) + ": " + b.Show();
      }
    }
    words += static_cast<int>(boxes.size());
    // Text that overflows its table cell runs over its neighbour's: no two
    // words may overlap by more than 1 pt both ways.
    for (size_t i = 0; i < boxes.size(); ++i) {
      for (size_t j = i + 1; j < boxes.size(); ++j) {
        const WordBox &a = boxes[i], &b = boxes[j];
        double ox = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
        double oy = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
        if (ox > 1 && oy > 1 && ++overlapping <= 10) {
          overlaps +=
              "  page " + std::to_string(bbox_pages) + ": " + a.Show() + "    over " + b.Show();
        }
      }
    }
    pos = page_end;
  }
  EXPECT_EQ(bbox_pages, pages);
  EXPECT_GT(words, 300) << "too few words: did the page render?";
  EXPECT_EQ(outside, 0) << outside << " words outside the printable area, e.g.:\n" << offenders;
  EXPECT_EQ(overlapping, 0) << overlapping << " overlapping words, e.g.:\n" << overlaps;
}

// A backup-set table longer than a page: its header row is repeated on every
// page it spans, and no backup set is split from its Merkle root.
TEST_P(ReportInChromium, LongTablesRepeatHeadersAndKeepRowsWhole) {
  const std::string language = GetParam();
  const std::string chromium = Chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/install-deps)";
  const std::string pdftotext = FindInPath("pdftotext");
  ASSERT_FALSE(pdftotext.empty()) << "poppler-utils missing: run scripts/install-deps";

  json report = Fixture();
  report["tenant"]["language"] = language;
  const json model = report["backup_sets"][0];
  report["backup_sets"] = json::array();
  constexpr int kSets = 40;
  for (int i = 0; i < kSets; ++i) {
    json s = model;
    char name[16], quarter[17];
    std::snprintf(name, sizeof name, "set-%03d", i);
    std::snprintf(quarter, sizeof quarter, "%016x", 0x9e3779b9u * static_cast<unsigned>(i + 1));
    s["name"] = name;
    s["merkle"]["root"] = std::string(quarter) + quarter + quarter + quarter;
    report["backup_sets"].push_back(s);
  }
  absl::StatusOr<std::string> html = RenderReportHtml(report);
  ASSERT_TRUE(html.ok()) << html.status();

  const std::string artifacts = VIGIL_ARTIFACT_DIR;
  vigil::testing::MakeDirs(artifacts);
  const std::string html_path = artifacts + "/report_long_" + language + ".html",
                    pdf = artifacts + "/report_long_" + language + ".pdf";
  WriteFile(html_path, *html);
  unlink(pdf.c_str());
  TempDir tmp;
  RunResult r = RunWithTimeout(
      ChromiumArgs(chromium, tmp.path() + "/profile",
                   {"--no-pdf-header-footer", "--print-to-pdf=" + pdf, "file://" + html_path}));
  ASSERT_EQ(r.exit_code, 0) << "chromium --print-to-pdf failed (124 = timed out):\n" << r.err;
  r = RunProcess({pdftotext, "-enc", "UTF-8", pdf, "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  std::vector<std::string> pages;  // pdftotext ends each page with a form feed
  std::stringstream all(r.out);
  for (std::string page; std::getline(all, page, '\f');) pages.push_back(page);
  int pages_with_sets = 0, found = 0;
  for (size_t p = 0; p < pages.size(); ++p) {
    const std::string text = NormalizeSpaces(pages[p]), compact = WithoutSpaces(pages[p]);
    bool has_sets = false;
    for (const json& s : report["backup_sets"]) {
      const std::string name = s["name"].get<std::string>();
      if (text.find(name + " ") == std::string::npos) continue;
      has_sets = true;
      ++found;
      EXPECT_NE(compact.find(s["merkle"]["root"].get<std::string>()), std::string::npos)
          << name << " is on page " << p + 1 << " but its Merkle root is not";
    }
    if (!has_sets) continue;
    ++pages_with_sets;
    // Each heading whole (a word broken across lines would not match).
    const char* header = language == "fr"
                             ? "Jeu de sauvegarde Hors site Immuable Contenu Dernier inventaire "
                               "Dernière vérification"
                             : "Backup set Offsite Immutable Contents Last inventory Last verified";
    EXPECT_NE(text.find(header), std::string::npos)
        << "page " << p + 1 << " has backup sets but no table header";
  }
  EXPECT_EQ(found, kSets);
  EXPECT_GE(pages_with_sets, 3) << "the table should span several pages";
}

INSTANTIATE_TEST_SUITE_P(Languages, ReportInChromium, ::testing::Values("en", "fr"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

}  // namespace
}  // namespace vigil::reports
