#include "services/reports/html.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "services/common/text.h"
#include "services/reports/format.h"

namespace vigil::reports {
namespace {

using nlohmann::json;

json Fixture() {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) +
                   "/tests/services/reports/testdata/report_martin.json");
  EXPECT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

std::string Render(const json& report) {
  absl::StatusOr<std::string> html = RenderReportHtml(report);
  EXPECT_TRUE(html.ok()) << html.status();
  return html.ok() ? *html : std::string();
}

// The text of <section id="id"> ... </section>, or "" if absent.
std::string SectionOf(const std::string& html, const std::string& id) {
  size_t start = html.find("<section id=\"" + id + "\">");
  if (start == std::string::npos) return "";
  size_t end = html.find("</section>", start);
  return html.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

std::string ErrorOf(const json& report) {
  absl::StatusOr<std::string> html = RenderReportHtml(report);
  EXPECT_FALSE(html.ok());
  if (html.ok()) return "";
  EXPECT_EQ(html.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(html.status().message());
}

TEST(ReportHtml, FixtureRendersInFrench) {
  const json report = Fixture();
  ASSERT_EQ(report["tenant"]["language"], "fr");
  std::string html = Render(report);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"fr\">", 0), 0u);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(html.find("Capacité de restauration"), std::string::npos);
  EXPECT_NE(html.find("Rapport de conformité des sauvegardes"), std::string::npos);
  // The period [1 October, 1 November) shows its last day, in French.
  EXPECT_NE(html.find("du 1er octobre 2026 au 31 octobre 2026"), std::string::npos);
  // French digit grouping with a narrow no-break space.
  EXPECT_NE(html.find(FormatInteger(report["checks"]["entries_verified"].get<uint64_t>(),
                                    Language::kFrench)),
            std::string::npos);
  EXPECT_NE(html.find("1\u202f234\u202f567"), std::string::npos);
  EXPECT_NE(html.find("NON CONFORME"), std::string::npos);
  EXPECT_NE(html.find("en cours"), std::string::npos);
  EXPECT_NE(html.find("vigil proof verify"), std::string::npos);
  EXPECT_EQ(html.find("Restore readiness"), std::string::npos);
  EXPECT_TRUE(IsValidUtf8(html));
}

TEST(ReportHtml, FixtureRendersInEnglish) {
  json report = Fixture();
  report["tenant"]["language"] = "en";
  std::string html = Render(report);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u);
  EXPECT_NE(html.find("Restore readiness"), std::string::npos);
  EXPECT_NE(html.find("from 1 October 2026 to 31 October 2026"), std::string::npos);
  EXPECT_NE(html.find("1,234,567"), std::string::npos);
  EXPECT_NE(html.find("FAIL"), std::string::npos);
  EXPECT_NE(html.find("ongoing"), std::string::npos);
  EXPECT_NE(html.find("This report is accompanied by a signed proof"), std::string::npos);
  EXPECT_EQ(html.find("Capacité de restauration"), std::string::npos);
  EXPECT_EQ(html.find("octobre"), std::string::npos);
}

TEST(ReportHtml, UnknownOrMissingLanguageIsEnglish) {
  json report = Fixture();
  report["tenant"]["language"] = "de";
  EXPECT_NE(Render(report).find("<html lang=\"en\">"), std::string::npos);
  report["tenant"].erase("language");
  EXPECT_NE(Render(report).find("Restore readiness"), std::string::npos);
}

TEST(ReportHtml, LabelsDifferBetweenLanguages) {
  // Every fixed label is translated: the two renderings share no sentence
  // of the template's own beyond names and numbers. Checked on the section
  // headings, which must all differ (except "Incidents", the same word).
  json en = Fixture(), fr = Fixture();
  en["tenant"]["language"] = "en";
  std::string html_en = Render(en), html_fr = Render(fr);
  for (const char* id : {"readiness", "contract", "commitments", "backup-sets", "out-of-scope",
                         "scope-findings", "checks"}) {
    std::string a = SectionOf(html_en, id), b = SectionOf(html_fr, id);
    ASSERT_FALSE(a.empty()) << id;
    ASSERT_FALSE(b.empty()) << id;
    EXPECT_NE(a.substr(0, a.find("</h2>")), b.substr(0, b.find("</h2>"))) << id;
  }
}

TEST(ReportHtml, EverySectionPresentInOrderReadinessFirst) {
  // In English: the fixture's structured messages render as its sentences.
  json report = Fixture();
  report["tenant"]["language"] = "en";
  std::string html = Render(report);
  size_t last = 0;
  for (const char* marker :
       {"<header id=\"title\">", "<section id=\"readiness\">", "<section id=\"contract\">",
        "<section id=\"commitments\">", "<section id=\"incidents\">",
        "<section id=\"backup-sets\">", "<section id=\"out-of-scope\">",
        "<section id=\"scope-findings\">", "<section id=\"checks\">", "<footer>"}) {
    size_t at = html.find(marker);
    ASSERT_NE(at, std::string::npos) << marker;
    EXPECT_GT(at, last) << marker << " out of order";
    last = at;
  }
  // Every asset's readiness card precedes the first verdict of any commitment.
  size_t first_verdict = html.find("<div class=\"commitment ");
  ASSERT_NE(first_verdict, std::string::npos);
  std::string readiness = SectionOf(html, "readiness");
  for (const json& r : report["readiness"]) {
    std::string asset = EscapeHtml(r["asset"].get<std::string>());
    size_t card = html.find("<span class=\"asset\">" + asset + "</span>");
    ASSERT_NE(card, std::string::npos) << asset;
    EXPECT_LT(card, first_verdict) << asset;
    for (const json& reason : r["reasons"]) {
      EXPECT_NE(readiness.find(EscapeHtml(reason.get<std::string>())), std::string::npos);
    }
  }
}

TEST(ReportHtml, EveryFixtureItemIsShown) {
  // In English: the fixture's structured messages render as its sentences.
  json report = Fixture();
  report["tenant"]["language"] = "en";
  std::string html = Render(report);
  auto shown = [&](const json& s) {
    EXPECT_NE(html.find(EscapeHtml(s.get<std::string>())), std::string::npos) << s;
  };
  shown(report["tenant"]["display_name"]);
  shown(report["msp"]["name"]);
  shown(report["contract"]["sha256"]);
  for (const json& a : report["contract"]["assets"]) shown(a["description"]);
  for (const json& c : report["contract"]["commitments"]) shown(c["terms"]);
  for (const json& c : report["commitments"]) {
    shown(c["summary"]);
    for (const json& e : c["evidence"]) shown(e["value"]);
  }
  for (const json& i : report["incidents"]) shown(i["summary"]);
  for (const json& s : report["backup_sets"]) {
    shown(s["name"]);
    shown(s["location"]);
    if (!s["merkle"].is_null()) shown(s["merkle"]["root"]);
  }
  for (const json& o : report["out_of_scope"]) {
    shown(o["item"]);
    shown(o["reason"]);
  }
  for (const json& f : report["scope_findings"]) shown(f["subject"]);
}

TEST(ReportHtml, VerdictsHaveTextAndDeclaredEvidenceIsMarked) {
  json report = Fixture();
  report["tenant"]["language"] = "en";
  std::string html = Render(report);
  std::string section = SectionOf(html, "commitments");
  size_t fails = 0, declared = 0;
  for (const json& c : report["commitments"]) {
    fails += c["verdict"] == "fail";
    for (const json& e : c["evidence"]) declared += e["basis"] == "declared";
  }
  ASSERT_GT(fails, 0u);
  ASSERT_GT(declared, 0u);
  // One badge per failing commitment, plus the tally's.
  EXPECT_EQ(Count(section, "<span class=\"verdict fail\">\u2718 FAIL</span>"), fails + 1);
  EXPECT_EQ(Count(section, "<tr class=\"declared\">"), declared);
  // Offsite and immutable flags of every backup set carry their basis.
  std::string sets = SectionOf(html, "backup-sets");
  size_t declared_flags = 0;
  for (const json& s : report["backup_sets"]) {
    declared_flags +=
        (s["offsite"]["basis"] == "declared") + (s["immutable"]["basis"] == "declared");
  }
  EXPECT_EQ(Count(sets, "<span class=\"basis declared\">declared</span>"), declared_flags);
}

TEST(ReportHtml, IncidentsShowResolutionOrOngoing) {
  json report = Fixture();
  report["tenant"]["language"] = "en";
  std::string section = SectionOf(Render(report), "incidents");
  size_t ongoing = 0;
  for (const json& i : report["incidents"]) {
    if (i["resolved_at"].is_null()) {
      ++ongoing;
    } else {
      LocalTime t = *ParseRfc3339(i["resolved_at"].get<std::string>());
      size_t date = section.find(EscapeHtml(FormatDateShort(t, Language::kEnglish)));
      ASSERT_NE(date, std::string::npos);
      EXPECT_NE(section.find(EscapeHtml(FormatClockShort(t)), date), std::string::npos);
    }
  }
  ASSERT_GT(ongoing, 0u);
  EXPECT_EQ(Count(section, "ongoing</span>"), ongoing);
}

TEST(ReportHtml, UntrustedStringsComeOutInert) {
  json report = Fixture();
  const std::string evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
  report["tenant"]["display_name"] = evil;
  report["tenant"]["name"] = "\"><style>body{display:none}</style>";
  report["commitments"][0]["summary"] = evil;
  report["commitments"][0]["evidence"][0]["value"] = "</td></tr></table>" + evil;
  report["backup_sets"][0]["name"] = "a' onmouseover='alert(3)";
  report["scope_findings"][0]["subject"] = "<a href=\"https://evil.example/\">click</a>";
  std::string html = Render(report);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<a "), std::string::npos);
  EXPECT_EQ(Count(html, "<style>"), 1u);  // ours, in <head>
  EXPECT_EQ(html.find("onmouseover='"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(Count(html, "<table"), Count(Render(Fixture()), "<table"));
}

TEST(ReportHtml, SelfContained) {
  std::string html = Render(Fixture());
  for (const char* external : {"http:", "https:", "//", "src=", "<link", "@import", "url(",
                               "<script", "<iframe", "<object", "@font-face"}) {
    // "//" can only appear inside untrusted text, which the fixture does not
    // have with that sequence; the template itself must have none.
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  EXPECT_NE(html.find("@page { size: A4"), std::string::npos);
  EXPECT_NE(html.find("thead { display: table-header-group; }"), std::string::npos);
}

TEST(ReportHtml, InvalidUtf8InStringsStillGivesValidUtf8) {
  json report = Fixture();
  report["tenant"]["display_name"] = std::string("Soci\xe9t\xe9 \xff\xfe");  // Latin-1 bytes
  report["scope_findings"][0]["subject"] = std::string("dir/\x01\x80name");
  std::string html = Render(report);
  EXPECT_TRUE(IsValidUtf8(html));
  EXPECT_NE(html.find("Soci\uFFFDt\uFFFD"), std::string::npos);
}

TEST(ReportHtml, EmptyListsSayNoneInsteadOfEmptyTables) {
  json report = Fixture();
  for (const char* key :
       {"readiness", "commitments", "incidents", "backup_sets", "out_of_scope", "scope_findings"}) {
    report[key] = json::array();
  }
  report["contract"]["assets"] = json::array();
  report["contract"]["commitments"] = json::array();
  report["tenant"]["language"] = "en";
  std::string html = Render(report);
  for (const char* id : {"readiness", "contract", "commitments", "incidents", "backup-sets",
                         "out-of-scope", "scope-findings"}) {
    std::string section = SectionOf(html, id);
    ASSERT_FALSE(section.empty()) << id;
    EXPECT_EQ(section.find("<table"), std::string::npos) << id;
    EXPECT_NE(section.find("<p class=\"none\">"), std::string::npos) << id;
  }
  EXPECT_EQ(Count(SectionOf(html, "contract"), "<p class=\"none\">"), 2u);
  EXPECT_NE(html.find("No incident in this period."), std::string::npos);
  // The same in French.
  report["tenant"]["language"] = "fr";
  EXPECT_NE(Render(report).find("Aucun incident sur la période."), std::string::npos);
}

TEST(ReportHtml, NullOptionalsRender) {
  json report = Fixture();
  report.erase("msp");
  report["period"].erase("evaluated_until");
  report["contract"].erase("effective_from");
  report["contract"]["assets"][0].erase("description");
  report["contract"]["assets"][0].erase("backup_sets");
  report["tenant"].erase("display_name");
  report["readiness"][1].erase("reasons");
  report["readiness"][1].erase("reason_messages");
  for (json& s : report["backup_sets"]) {
    s["merkle"] = nullptr;
    s["last_inventory"] = nullptr;
    s.erase("last_verified");
  }
  report["tenant"]["language"] = "en";
  std::string html = Render(report);
  EXPECT_NE(html.find("<p class=\"tenant\">martin-associes</p>"), std::string::npos);
  EXPECT_EQ(Count(SectionOf(html, "backup-sets"), "No Merkle root"), report["backup_sets"].size());
  EXPECT_EQ(Count(SectionOf(html, "backup-sets"), ">never<"), 2 * report["backup_sets"].size());
}

TEST(ReportHtml, PartialPeriodShowsEvaluatedUntil) {
  json report = Fixture();
  report["tenant"]["language"] = "en";
  report["period"]["evaluated_until"] = "2026-10-15T10:30:00+02:00";
  EXPECT_NE(Render(report).find("Evaluated until 15 October 2026, 10:30 (UTC+02:00)"),
            std::string::npos);
}

TEST(ReportHtml, MissingRequiredFieldNamesItsPath) {
  struct Case {
    std::function<void(json&)> remove;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](json& r) { r["commitments"][2].erase("verdict"); }, "commitments[2].verdict: missing"},
      {[](json& r) { r["commitments"][2]["verdict"] = nullptr; },
       "commitments[2].verdict: missing"},
      {[](json& r) { r.erase("format"); }, "format: missing"},
      {[](json& r) { r["tenant"].erase("name"); }, "tenant.name: missing"},
      {[](json& r) { r["tenant"].erase("time_zone"); }, "tenant.time_zone: missing"},
      {[](json& r) { r["period"].erase("start"); }, "period.start: missing"},
      {[](json& r) { r.erase("generated_at"); }, "generated_at: missing"},
      {[](json& r) { r["contract"].erase("sha256"); }, "contract.sha256: missing"},
      {[](json& r) { r["contract"]["assets"][1].erase("name"); },
       "contract.assets[1].name: missing"},
      {[](json& r) { r["readiness"][1].erase("readiness"); }, "readiness[1].readiness: missing"},
      {[](json& r) { r["commitments"][5]["evidence"][1].erase("basis"); },
       "commitments[5].evidence[1].basis: missing"},
      {[](json& r) { r["commitments"][0].erase("evidence"); }, "commitments[0].evidence: missing"},
      {[](json& r) { r["incidents"][0].erase("detected_at"); },
       "incidents[0].detected_at: missing"},
      {[](json& r) { r.erase("incidents"); }, "incidents: missing"},
      {[](json& r) { r["backup_sets"][3].erase("bytes"); }, "backup_sets[3].bytes: missing"},
      {[](json& r) { r["backup_sets"][0]["offsite"].erase("basis"); },
       "backup_sets[0].offsite.basis: missing"},
      {[](json& r) { r["backup_sets"][0]["merkle"].erase("root"); },
       "backup_sets[0].merkle.root: missing"},
      {[](json& r) { r.erase("scope_findings"); }, "scope_findings: missing"},
      {[](json& r) { r["checks"].erase("run"); }, "checks.run: missing"},
      {[](json& r) { r.erase("checks"); }, "checks: missing"},
  };
  for (const Case& c : cases) {
    json report = Fixture();
    c.remove(report);
    EXPECT_EQ(ErrorOf(report), c.message);
  }
}

TEST(ReportHtml, WrongTypesAndValuesNameTheirPath) {
  struct Case {
    std::function<void(json&)> spoil;
    std::string message_prefix;
  };
  const std::vector<Case> cases = {
      {[](json& r) { r = json::array(); }, "(report): expected an object, got array"},
      {[](json& r) { r["format"] = "vigil.report/2"; }, "format: expected \"vigil.report/1\""},
      {[](json& r) { r["tenant"] = "acme"; }, "tenant: expected an object, got string"},
      {[](json& r) { r["tenant"]["name"] = 42; }, "tenant.name: expected a string, got number"},
      {[](json& r) { r["backup_sets"][0]["bytes"] = "lots"; },
       "backup_sets[0].bytes: expected an unsigned integer, got string"},
      {[](json& r) { r["backup_sets"][0]["bytes"] = -1; },
       "backup_sets[0].bytes: expected an unsigned integer, got a negative number"},
      {[](json& r) { r["checks"]["run"] = 1.5; },
       "checks.run: expected an unsigned integer, got a number with a fraction"},
      {[](json& r) { r["commitments"][1]["verdict"] = "maybe"; },
       "commitments[1].verdict: expected one of \"pass\", \"fail\", \"unknown\", got \"maybe\""},
      {[](json& r) { r["readiness"][0]["readiness"] = "READY"; },
       "readiness[0].readiness: expected one of"},
      {[](json& r) { r["readiness"][0]["last_clean_point"] = "fs-nas"; },
       "readiness[0].last_clean_point: expected an object, got string"},
      {[](json& r) {
         r["readiness"][0]["last_clean_point"] = {{"backup_set", "fs-nas"}, {"name", 3}};
       },
       "readiness[0].last_clean_point.name: expected a string, got number"},
      {[](json& r) { r["commitments"][0]["evidence"][0]["basis"] = "guessed"; },
       "commitments[0].evidence[0].basis: expected one of"},
      {[](json& r) { r["period"]["start"] = "yesterday"; }, "period.start: not an RFC 3339 time"},
      {[](json& r) { r["incidents"][1]["resolved_at"] = 0; },
       "incidents[1].resolved_at: expected a string, got number"},
      {[](json& r) { r["contract"]["sha256"] = "abc"; },
       "contract.sha256: expected 64 hexadecimal digits"},
      {[](json& r) { r["backup_sets"][1]["merkle"]["root"] = std::string(64, 'g'); },
       "backup_sets[1].merkle.root: expected 64 hexadecimal digits"},
      {[](json& r) { r["backup_sets"][1]["merkle"] = "none"; },
       "backup_sets[1].merkle: expected an object, got string"},
      {[](json& r) { r["backup_sets"][0]["offsite"] = true; },
       "backup_sets[0].offsite: expected an object, got boolean"},
      {[](json& r) { r["backup_sets"][0]["offsite"]["value"] = "yes"; },
       "backup_sets[0].offsite.value: expected true or false, got string"},
      {[](json& r) { r["commitments"] = json::object(); },
       "commitments: expected an array, got object"},
      {[](json& r) { r["commitments"][0]["evidence"][2] = "26 h"; },
       "commitments[0].evidence[2]: expected an object, got string"},
      {[](json& r) { r["readiness"][1]["reasons"][0] = json::array(); },
       "readiness[1].reasons[0]: expected a string, got array"},
      {[](json& r) { r["contract"]["assets"][0]["backup_sets"] = "fs-nas"; },
       "contract.assets[0].backup_sets: expected an array, got string"},
      {[](json& r) { r["msp"] = 3; }, "msp: expected an object, got number"},
  };
  for (const Case& c : cases) {
    json report = Fixture();
    c.spoil(report);
    std::string message = ErrorOf(report);
    EXPECT_EQ(message.rfind(c.message_prefix, 0), 0u)
        << "got: " << message << "\nwant prefix: " << c.message_prefix;
  }
}

// Replaces every value in the fixture, one at a time, by odd values of every
// JSON type: rendering never throws or crashes, and an error always names a
// path.
TEST(ReportHtml, NeverThrowsOnOddInput) {
  const json fixture = Fixture();
  const std::vector<json> odd = {nullptr,
                                 0,
                                 -1,
                                 1.5,
                                 "",
                                 "<b>x</b>",
                                 std::string("\xff\xfe"),
                                 true,
                                 json::array(),
                                 json::object(),
                                 json::array({1, "a", nullptr}),
                                 18446744073709551615ull};
  size_t renders = 0, errors = 0;
  std::function<void(const json::json_pointer&, const json&)> visit =
      [&](const json::json_pointer& at, const json& value) {
        for (const json& replacement : odd) {
          json report = fixture;
          report[at] = replacement;
          absl::StatusOr<std::string> html;
          EXPECT_NO_THROW(html = RenderReportHtml(report)) << at.to_string();
          ++renders;
          if (!html.ok()) {
            ++errors;
            EXPECT_EQ(html.status().code(), absl::StatusCode::kInvalidArgument);
            EXPECT_NE(html.status().message().find(": "), std::string_view::npos);
          } else {
            EXPECT_TRUE(IsValidUtf8(*html)) << at.to_string();
          }
        }
        if (value.is_object()) {
          for (auto it = value.begin(); it != value.end(); ++it) visit(at / it.key(), it.value());
        } else if (value.is_array()) {
          for (size_t i = 0; i < value.size(); ++i) visit(at / i, value[i]);
        }
      };
  for (auto it = fixture.begin(); it != fixture.end(); ++it)
    visit(json::json_pointer("/" + it.key()), it.value());
  EXPECT_GT(renders, 1000u);
  EXPECT_GT(errors, 0u);
  EXPECT_LT(errors, renders);
}

// The last clean point of an asset is shown under its readiness: named, or
// "none" when the report says it has none; nothing for an older report.
TEST(ReportHtml, LastCleanPointIsShown) {
  json r = Fixture();
  ASSERT_GE(r["readiness"].size(), 2u);
  EXPECT_EQ(Render(r).find("last-clean"), std::string::npos);  // an older report: nothing
  r["tenant"]["language"] = "en";
  r["readiness"][0]["last_clean_point"] = {
      {"backup_set", "fs-nas"},
      {"name", "2026-10-03"},
      {"time", "2026-10-03T02:00:00+02:00"},
      {"time_ns", 1'790'985'600'000'000'000},
      {"summary", "last clean point: fs-nas/2026-10-03 (taken 2026-10-03 02:00 CEST)"},
      {"message",
       {{"id", "ready.last_clean"},
        {"args", json::array({{{"text", "fs-nas/2026-10-03"}},
                              {{"time", "2026-10-03T02:00:00+02:00"}}})}}}};
  r["readiness"][1]["last_clean_point"] = nullptr;
  std::string html = SectionOf(Render(r), "readiness");
  EXPECT_NE(html.find("last clean point: fs-nas/2026-10-03 (taken 3 Oct 2026 02:00 UTC+2)"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("Last clean point: none"), std::string::npos) << html;
  r["tenant"]["language"] = "fr";
  html = SectionOf(Render(r), "readiness");
  EXPECT_NE(html.find("dernier point sain : fs-nas/2026-10-03 (pris le 3 oct. 2026 02:00 UTC+2)"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("Dernier point sain : aucun"), std::string::npos) << html;
}

TEST(ReportHtml, Deterministic) { EXPECT_EQ(Render(Fixture()), Render(Fixture())); }

}  // namespace
}  // namespace vigil::reports
