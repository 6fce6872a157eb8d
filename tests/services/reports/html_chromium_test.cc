// The HTML report in a real browser: Debian's headless Chromium renders the
// fixture report (English and French) to PNG and to PDF, and poppler's
// pdfinfo / pdftotext check the PDF: A4 pages, the key texts present, and
// every word inside the printable area (nothing cut off or spilling into
// the margins). A report whose verdicts come from the real evaluation
// (every commitment kind, pass, fail and unknown, damaged files, drills,
// scope findings) is printed in French and searched for English words. The HTML, PNG and PDF are
// kept in build/tests/artifacts/reports/ for a human to look at.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "services/contracts/calendar.h"
#include "services/contracts/evaluate.h"
#include "services/coordinator/report.h"
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

// Writes `html` to the artifacts as NAME.html, prints it to NAME.pdf with
// headless `chromium` (a fresh profile) and returns the PDF's text as
// pdftotext gives it (pages end with a form feed); nullopt, with a test
// failure, when a tool fails.
std::optional<std::string> PrintedText(const std::string& chromium, const std::string& pdftotext,
                                       const std::string& html, const std::string& name) {
  const std::string artifacts = VIGIL_ARTIFACT_DIR;
  vigil::testing::MakeDirs(artifacts);
  const std::string html_path = artifacts + "/" + name + ".html",
                    pdf = artifacts + "/" + name + ".pdf";
  WriteFile(html_path, html);
  unlink(pdf.c_str());
  TempDir tmp;
  RunResult r = RunWithTimeout(
      ChromiumArgs(chromium, tmp.path() + "/profile",
                   {"--no-pdf-header-footer", "--print-to-pdf=" + pdf, "file://" + html_path}));
  if (r.exit_code != 0) {
    ADD_FAILURE() << "chromium --print-to-pdf failed (124 = timed out):\n" << r.err;
    return std::nullopt;
  }
  r = RunProcess({pdftotext, "-enc", "UTF-8", pdf, "-"});
  if (r.exit_code != 0) {
    ADD_FAILURE() << pdftotext << ": " << r.err;
    return std::nullopt;
  }
  return r.out;
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

  std::optional<std::string> printed =
      PrintedText(chromium, pdftotext, *html, "report_long_" + language);
  ASSERT_TRUE(printed);

  std::vector<std::string> pages;  // pdftotext ends each page with a form feed
  std::stringstream all(*printed);
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

// --- A report in one language only -----------------------------------------

constexpr int64_t kHourNs = 3600LL * 1'000'000'000LL;
constexpr int64_t kDayNs = 24 * kHourNs;

// October 2026 at a Paris client, judged by the real evaluation
// (services/contracts/evaluate.cc) and put into the report JSON by the
// coordinator's code (services/coordinator/report.h): every commitment kind;
// pass, fail and unknown; damaged files; restore drills passed and failed;
// a missing retention slot; copies short; a backup found outside the scope.
json EvaluatedReport(const std::string& language) {
  using namespace vigil::contracts;  // NOLINT: test scaffolding
  Tenant tenant;
  tenant.name = "martin";
  tenant.timezone = "Europe/Paris";
  Calendar cal(tenant.timezone);
  const int64_t oct1 = cal.LocalMidnight(2026, 10, 1), nov1 = cal.LocalMidnight(2026, 11, 1);
  std::map<std::string, Location> locations;
  locations["nas"] = Location{.name = "nas", .site = "cabinet"};
  Location coffre{.name = "coffre", .site = "prestataire"};
  coffre.offsite = true;
  locations["coffre"] = coffre;

  Contract contract;
  contract.tenant = tenant.name;
  contract.effective_from_ns = oct1 - 90 * kDayNs;
  auto asset = [&](const std::string& name, std::vector<std::pair<std::string, std::string>> sets) {
    Asset a;
    a.name = name;
    for (const auto& [set, location] : sets) {
      BackupSet s;
      s.name = set;
      s.location = location;
      s.layout = Layout::kDatedFolders;
      a.backup_sets.push_back(s);
    }
    contract.assets.push_back(a);
  };
  asset("serveur", {{"serveur-nas", "nas"}, {"serveur-coffre", "coffre"}});
  asset("compta", {{"compta-nas", "nas"}});
  asset("messagerie", {{"messagerie-nas", "nas"}});
  auto commit = [&](CommitmentKind kind, std::vector<std::string> assets) -> Commitment& {
    Commitment c;
    c.kind = kind;
    c.assets = std::move(assets);
    contract.commitments.push_back(c);
    return contract.commitments.back();
  };
  commit(CommitmentKind::kRpo, {}).rpo.max_age_ns = 26 * kHourNs;
  commit(CommitmentKind::kRetention, {"serveur"}).retention = {.daily = 7, .weekly = 4};
  commit(CommitmentKind::kCopies, {"serveur", "messagerie"}).copies = {.min = 2, .offsite = 1};
  commit(CommitmentKind::kIntegrity, {"serveur"}).integrity.reverify_within_ns = 30 * kDayNs;
  Commitment& sampled = commit(CommitmentKind::kIntegrity, {"compta", "messagerie"});
  sampled.integrity = {.reverify_within_ns = 30 * kDayNs, .sample = 500};
  Commitment& drill = commit(CommitmentKind::kRestoreDrill, {});
  drill.drill = {.every_ns = 30 * kDayNs, .rto_ns = 4 * kHourNs};
  contract.out_of_scope.push_back({.item = "ordinateurs portables", .reason = "choix du client"});

  TenantFacts facts;
  auto daily = [&](const std::string& set, int from, int to, int hour) {
    BackupSetFacts& f = facts.sets[set];
    f.name = set;
    f.first_inventory_ns = oct1 - 60 * kDayNs;
    f.last_inventory_ns = nov1 - kHourNs;
    for (int d = from; d <= to; ++d) {
      PointFact p;
      p.time_ns = oct1 + d * kDayNs + hour * kHourNs;
      p.name = "jour" + std::to_string(d + 1);
      p.first_seen_ns = p.time_ns + kHourNs;
      p.files = 1200;
      p.bytes = 3ULL << 30;
      f.points.push_back(p);
    }
    return &f;
  };
  BackupSetFacts* nas = daily("serveur-nas", -40, 30, 22);
  nas->points[40 + 27].gone_ns = oct1 + 28 * kDayNs;  // a daily slot still due: gone
  PointFact& damaged = nas->points[40 + 20];
  damaged.damaged_ns = oct1 + 21 * kDayNs;
  damaged.damage = "3 entries modified: docs/acte.pdf, docs/bail.pdf, compta/grand-livre.xlsx";
  nas->integrity = {.entries = 1200,
                    .verified_within = 1200,
                    .oldest_verified_ns = oct1 + 2 * kDayNs,
                    .failures = 3,
                    .last_run_ns = oct1 + 21 * kDayNs};
  nas->drills.push_back({.at_ns = oct1 + 15 * kDayNs,
                         .point_time_ns = oct1 + 14 * kDayNs + 22 * kHourNs,
                         .files = 1,
                         .bytes = 10286000,
                         .seconds = 2,
                         .point_bytes = 3ULL << 30});
  // The same day's copy gone too: that daily slot is empty (retention fails).
  BackupSetFacts* vault = daily("serveur-coffre", -40, 30, 23);
  vault->points[40 + 27].gone_ns = oct1 + 28 * kDayNs;
  // The server's points were examined for ransomware signals: clean, but
  // the last one of each set (October 31st) is encrypted. Its signals are
  // written as the signal module writes them.
  for (BackupSetFacts* f : {nas, vault}) {
    for (PointFact& p : f->points) p.verdict = PointVerdict::kClean;
    f->points.back().verdict = PointVerdict::kEncrypted;
    f->points.back().signals = {"entropy: 950/1000"};
  }
  BackupSetFacts* mail = daily("messagerie-nas", -40, 18, 21);  // stopped on day 19
  mail->integrity = {.entries = 800, .sampled = 500, .last_run_ns = oct1 + 10 * kDayNs};
  mail->drills.push_back({.at_ns = oct1 + 12 * kDayNs,
                          .point_time_ns = oct1 + 11 * kDayNs + 21 * kHourNs,
                          .files = 100,
                          .bytes = 50 << 20,
                          .seconds = 10,
                          .mismatches = 1,
                          .point_bytes = 2ULL << 30});
  facts.sets["compta-nas"].name = "compta-nas";  // never inventoried
  facts.unscoped.push_back("ancien-serveur");

  const Interval october{oct1, nov1};
  Evaluation ev = Evaluate(tenant, contract, locations, facts, october, nov1 + kHourNs);
  json parts = coordinator::EvaluationReportParts(contract, facts, ev, cal, october, nov1);

  json report = Fixture();
  report["tenant"]["language"] = language;
  report["period"] = {{"label", "2026-10"},
                      {"start", cal.Rfc3339(oct1)},
                      {"end", cal.Rfc3339(nov1)},
                      {"evaluated_until", cal.Rfc3339(nov1)}};
  report["contract"]["commitments"] = parts["terms"];
  for (const char* key :
       {"readiness", "commitments", "incidents", "out_of_scope", "scope_findings"}) {
    report[key] = parts[key];
  }
  return report;
}

// The words of `text`, lower-cased for ASCII: runs of letters; a run joined
// to others by '-', '_', '/' or '.' is a name (a set, a layout, a path:
// "dated-files", "docs/acte.pdf"), shown as written, and is skipped.
std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> words;
  std::string w;
  bool name = false;
  for (char c : text + " ") {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalpha(u) || u >= 0x80) {
      w += static_cast<char>(std::tolower(u));
    } else if (!w.empty() && (c == '-' || c == '_' || c == '/' || c == '.')) {
      name = true;
      w += c;
    } else {
      if (!w.empty() && !name && std::isalpha(static_cast<unsigned char>(w.back()))) {
        words.push_back(w);
      }
      w.clear();
      name = false;
    }
  }
  return words;
}

TEST(ReportInOneLanguage, FrenchReportHasNoEnglishWords) {
  const std::string chromium = Chromium(), pdftotext = FindInPath("pdftotext");
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/install-deps)";
  ASSERT_FALSE(pdftotext.empty()) << "poppler-utils missing: run scripts/install-deps";
  json report = EvaluatedReport("fr");
  // The report covers what it must: every kind and verdict, damaged files,
  // drills, incidents, a scope finding.
  std::set<std::string> kinds, verdicts;
  for (const json& c : report["commitments"]) {
    kinds.insert(c["kind"].get<std::string>());
    verdicts.insert(c["verdict"].get<std::string>());
  }
  EXPECT_EQ(kinds,
            (std::set<std::string>{"rpo", "retention", "copies", "integrity", "restore_drill"}));
  EXPECT_EQ(verdicts, (std::set<std::string>{"pass", "fail", "unknown"}));
  for (const json& c : report["commitments"]) {
    if (c["asset"] == "serveur" && c["kind"] == "retention") {
      EXPECT_EQ(c["verdict"], "fail");
    }
  }
  EXPECT_NE(report.dump().find("docs/acte.pdf"), std::string::npos);
  EXPECT_GE(report["incidents"].size(), 3u);
  EXPECT_FALSE(report["scope_findings"].empty());

  absl::StatusOr<std::string> html = RenderReportHtml(report);
  ASSERT_TRUE(html.ok()) << html.status();
  std::optional<std::string> printed =
      PrintedText(chromium, pdftotext, *html, "report_evaluated_fr");
  ASSERT_TRUE(printed);
  const std::string text = NormalizeSpaces(*printed);
  const std::string pdf = std::string(VIGIL_ARTIFACT_DIR) + "/report_evaluated_fr.pdf";

  // English words a French reader must not meet (French words that are
  // also English, "point", "copies", "restauration", are not listed).
  static const std::set<std::string> kEnglish = {
      "ladder",    "required",    "copy",      "newest",     "oldest",      "old",      "entry",
      "entries",   "day",         "days",      "hours",      "restore",     "restored", "drill",
      "drilled",   "missing",     "modified",  "unreadable", "current",     "offsite",  "within",
      "since",     "never",       "none",      "unknown",    "held",        "slot",     "slots",
      "aged",      "good",        "sampled",   "fault",      "faults",      "coverage", "verified",
      "inventory", "inventoried", "agreement", "declared",   "content",     "differs",  "differ",
      "failed",    "found",       "scope",     "check",      "file",        "files",    "bytes",
      "the",       "of",          "and",       "at",         "not",         "yet",      "every",
      "projected", "exceeds",     "worst",     "damaged",    "gone",        "daily",    "weekly",
      "monthly",   "yearly",      "keep",      "least",      "which",       "younger",  "than",
      "run",       "per",         "sample",    "throughput", "assumptions", "stream",   "worker",
      "scratch",   "reads",       "writes",    "cold",       "synced",      "full",     "rpo's",
      "failure",   "began",       "detected",  "monitored",  "before",      "risk",     "ready"};
  std::set<std::string> found;
  for (const std::string& w : Words(text)) {
    if (kEnglish.count(w)) found.insert(w);
  }
  std::string list;
  for (const std::string& w : found) list += " " + w;
  EXPECT_TRUE(found.empty()) << "English words in the French report:" << list << "\n"
                             << "see " << pdf;
  // English units and number formats: "30 d", "100.00 %", "9.81 MiB".
  std::smatch m;
  EXPECT_FALSE(std::regex_search(text, m, std::regex(R"(\b\d+ d\b)"))) << m.str(0);
  EXPECT_FALSE(std::regex_search(text, m, std::regex(R"(\d\.\d+ ?(%|[KMGT]i?B|o))"))) << m.str(0);
  EXPECT_FALSE(std::regex_search(text, m, std::regex(R"(\b[01] (entrées|fichiers|copies)\b)")))
      << m.str(0);
  // And the sentences are there, in French.
  for (const char* needle :
       {"3 entrées modifiées : docs/acte.pdf", "Échelle de conservation", "Copie serveur-coffre",
        "restauration complète projetée", "jamais inventorié",
        "dernier point sain : serveur-coffre/jour30 (pris le",
        "restaurer depuis serveur-coffre/jour30 (pris le", "jour31 est chiffré : entropy: 950/1000",
        "Signes de rançongiciel",
        "le point le plus récent n'a pas encore été examiné pour des signes de rançongiciel"}) {
    EXPECT_NE(text.find(NormalizeSpaces(needle)), std::string::npos) << needle;
  }
}

// The same report in English: plurals agree with their numbers, and no
// "(s)" stands in for them.
TEST(ReportInOneLanguage, EnglishReportPluralsAgree) {
  json report = EvaluatedReport("en");
  absl::StatusOr<std::string> html = RenderReportHtml(report);
  ASSERT_TRUE(html.ok()) << html.status();
  std::smatch m;
  const std::string& h = *html;
  EXPECT_FALSE(std::regex_search(h, m, std::regex(R"(\b1 (entries|files|copies|slots|points)\b)")))
      << m.str(0);
  EXPECT_FALSE(std::regex_search(h, m, std::regex(R"(\b([02-9]|\d\d+) (entry|file|copy|slot)\b)")))
      << m.str(0);
  EXPECT_EQ(h.find("(s)"), std::string::npos);
  EXPECT_NE(h.find("3 entries modified: docs/acte.pdf"), std::string::npos);
  EXPECT_EQ(h.find("<span lang=\"en\">"), std::string::npos);  // nothing marked apart
}

// The last clean point and the ransomware incidents, in the report JSON and
// its HTML in both languages (no browser needed).
TEST(ReportLastCleanPoint, JsonAndHtmlNameItAndTheIncidents) {
  json report = EvaluatedReport("en");
  const json* serveur = nullptr;
  const json* messagerie = nullptr;
  for (const json& r : report["readiness"]) {
    if (r["asset"] == "serveur") serveur = &r;
    if (r["asset"] == "messagerie") messagerie = &r;
  }
  ASSERT_NE(serveur, nullptr);
  ASSERT_NE(messagerie, nullptr);
  const json& clean = (*serveur)["last_clean_point"];
  EXPECT_EQ(clean["backup_set"], "serveur-coffre") << serveur->dump();
  EXPECT_EQ(clean["name"], "jour30");
  EXPECT_EQ(clean["time"], "2026-10-30T22:00:00+01:00");  // the tenant's zone
  EXPECT_EQ(clean["message"]["id"], "ready.last_clean");
  EXPECT_EQ((*serveur)["readiness"], "at risk");
  EXPECT_EQ((*serveur)["reasons"][0],
            "newest point serveur-coffre/jour31 is encrypted: entropy: 950/1000")
      << serveur->dump();
  EXPECT_EQ((*serveur)["reasons"][1],
            "restore from serveur-coffre/jour30 (taken 2026-10-30 22:00 CET)")
      << serveur->dump();
  // Never examined: no clean point, and its newest point is said not examined.
  EXPECT_TRUE((*messagerie)["last_clean_point"].is_null()) << messagerie->dump();
  int ransomware = 0;
  for (const json& i : report["incidents"]) {
    if (i["kind"] != "ransomware") continue;
    ++ransomware;
    EXPECT_EQ(i["signals"], json::array({"entropy: 950/1000"})) << i.dump();
    EXPECT_NE(i["summary"].get<std::string>().find(", restore point jour31: encrypted: entropy"),
              std::string::npos)
        << i.dump();
    EXPECT_TRUE(i["resolved_at"].is_null());
  }
  EXPECT_EQ(ransomware, 2) << report["incidents"].dump();

  absl::StatusOr<std::string> en = RenderReportHtml(report);
  ASSERT_TRUE(en.ok()) << en.status();
  for (const char* needle :
       {"last clean point: serveur-coffre/jour30 (taken", "Ransomware signals",
        "restore from serveur-coffre/jour30 (taken",
        "serveur-nas, restore point jour31: encrypted: entropy: 950/1000",
        "newest point not yet examined for ransomware signals", "Last clean point: none"}) {
    EXPECT_NE(en->find(needle), std::string::npos) << needle;
  }
  absl::StatusOr<std::string> fr = RenderReportHtml(EvaluatedReport("fr"));
  ASSERT_TRUE(fr.ok()) << fr.status();
  for (const char* needle :
       {"dernier point sain : serveur-coffre/jour30 (pris le", "Signes de rançongiciel",
        "serveur-nas, point de restauration jour31 : chiffré : entropy: 950/1000",
        "Dernier point sain : aucun"}) {
    EXPECT_NE(NormalizeSpaces(*fr).find(NormalizeSpaces(needle)), std::string::npos) << needle;
  }
}

INSTANTIATE_TEST_SUITE_P(Languages, ReportInChromium, ::testing::Values("en", "fr"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

}  // namespace
}  // namespace vigil::reports
