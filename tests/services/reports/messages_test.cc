// Unit tests of the report message catalogue (services/reports/messages.h):
// plurals, units and number formats in English and French, every catalogue
// entry well formed in both languages, and the JSON form read with errors
// naming their path.
#include "services/reports/messages.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "nlohmann/json.hpp"

namespace vigil::reports {
namespace {

using nlohmann::json;

constexpr Language kEn = Language::kEnglish;
constexpr Language kFr = Language::kFrench;
const std::string kNnbsp = "\u202f";  // narrow no-break space

std::string Render(const json& j, Language language) {
  absl::StatusOr<ReportMessage> m = ParseMessage(j, "m");
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return "<invalid>";
  std::optional<std::string> s = RenderMessage(*m, language);
  return s ? *s : "<unrendered>";
}

json Msg(const std::string& id, json args) { return {{"id", id}, {"args", std::move(args)}}; }

TEST(ReportMessagesTest, PluralsFollowEachLanguage) {
  EXPECT_TRUE(Singular(1, kEn));
  EXPECT_FALSE(Singular(0, kEn));
  EXPECT_FALSE(Singular(2, kEn));
  EXPECT_TRUE(Singular(0, kFr));  // "0 entrée": French singular for 0 and 1
  EXPECT_TRUE(Singular(1, kFr));
  EXPECT_FALSE(Singular(2, kFr));

  auto failures = [](uint64_t n) {
    return Msg("integrity.failures", json::array({{{"count", n}}}));
  };
  EXPECT_EQ(Render(failures(1), kEn), "1 entry modified, missing or unreadable");
  EXPECT_EQ(Render(failures(2), kEn), "2 entries modified, missing or unreadable");
  EXPECT_EQ(Render(failures(1), kFr), "1 entrée modifiée, manquante ou illisible");
  EXPECT_EQ(Render(failures(0), kFr), "0 entrée modifiée, manquante ou illisible");
  EXPECT_EQ(Render(failures(1234), kFr),
            "1" + kNnbsp + "234 entrées modifiées, manquantes ou illisibles");
  EXPECT_EQ(Render(failures(1234), kEn), "1,234 entries modified, missing or unreadable");
}

TEST(ReportMessagesTest, UnitsAndNumbersInBothLanguages) {
  EXPECT_EQ(FormatDuration(30 * 86400, kEn), "30 d");
  EXPECT_EQ(FormatDuration(30 * 86400, kFr), "30" + kNnbsp + "j");
  EXPECT_EQ(FormatDuration(86400 + 21 * 3600 + 59, kEn), "1 d 21 h");
  EXPECT_EQ(FormatDuration(86400 + 21 * 3600, kFr), "1" + kNnbsp + "j 21" + kNnbsp + "h");
  EXPECT_EQ(FormatDuration(7 * 3600 + 5 * 60, kFr), "7" + kNnbsp + "h 5" + kNnbsp + "min");
  EXPECT_EQ(FormatDuration(45 * 60, kEn), "45 min");
  EXPECT_EQ(FormatDuration(0.4, kEn), "0.4 s");
  EXPECT_EQ(FormatDuration(0.4, kFr), "0,4" + kNnbsp + "s");
  EXPECT_EQ(FormatPercent(1.0, kEn), "100.00 %");
  EXPECT_EQ(FormatPercent(1.0, kFr), "100,00" + kNnbsp + "%");
  EXPECT_EQ(FormatPercent(0.0075, kFr), "0,75" + kNnbsp + "%");

  json coverage =
      Msg("ev.coverage",
          json::array(
              {{{"percent", 0.5}}, {{"count", 1}}, {{"count", 2}}, {{"duration", 30 * 86400}}}));
  EXPECT_EQ(Render(coverage, kEn), "50.00 % (1 of 2 entries re-read within 30 d)");
  EXPECT_EQ(Render(coverage, kFr),
            "50,00" + kNnbsp + "% (1 entrée relue sur 2 en moins de 30" + kNnbsp + "j)");
  json sample = Msg("ev.files_bytes", json::array({{{"count", 1}}, {{"bytes", 10286000}}}));
  EXPECT_EQ(Render(sample, kEn), "1 file, 9.81 MiB");
  EXPECT_EQ(Render(sample, kFr), "1 fichier, 9,81" + kNnbsp + "Mio");
  EXPECT_EQ(Render(Msg("ev.rate", json::array({{{"rate", 2048}}})), kFr),
            "2,00" + kNnbsp + "Kio/s");
}

TEST(ReportMessagesTest, TimesNestedMessagesAndLists) {
  json pass = Msg(
      "rpo.pass",
      json::array({{{"duration", 50 * 60}}, {{"duration", 30 * 3600}}, {{"duration", 26 * 3600}}}));
  EXPECT_EQ(Render(pass, kEn), "newest good point 50 min old; worst 1 d 6 h (RPO 1 d 2 h)");
  EXPECT_EQ(Render(pass, kFr), "point valide le plus récent âgé de 50" + kNnbsp +
                                   "min ; âge maximal 1" + kNnbsp + "j 6" + kNnbsp + "h (RPO 1" +
                                   kNnbsp + "j 2" + kNnbsp + "h)");
  json joined = Msg("join.not_monitored_before",
                    json::array({{{"message", pass}}, {{"time", "2026-10-03T08:00:00+02:00"}}}));
  EXPECT_NE(Render(joined, kFr).find(" ; non surveillé avant le 3 oct. 2026 08:00 UTC+2"),
            std::string::npos)
      << Render(joined, kFr);
  json list = Msg("list", json::array({{{"list", json::array({Msg("slot.no_point", nullptr),
                                                              Msg("point.gone", nullptr)})}}}));
  EXPECT_EQ(Render(list, kEn), "no point; gone");
  EXPECT_EQ(Render(list, kFr), "aucun point ; disparu");
  json date = Msg("ready.drill_overdue", json::array({{{"date", "2026-10-01T00:00:00+02:00"}}}));
  EXPECT_EQ(Render(date, kEn), "last drill 1 Oct 2026 is overdue");
  EXPECT_EQ(Render(date, kFr), "le dernier test, du 1 oct. 2026, est en retard");
}

// Each id once, each template well formed, and the French form using the
// same arguments (and the same count arguments for its plurals) as the
// English one: a message renders in both or neither.
TEST(ReportMessagesTest, EveryCatalogueEntryIsWellFormedInBothLanguages) {
  std::set<std::string> ids;
  auto args_of = [](const std::string& t, std::set<int>* plain, std::set<int>* plural) {
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] == '}') return false;  // a brace outside a placeholder
      if (t[i] != '{') continue;
      size_t close = t.find('}', i);
      if (close == std::string::npos || close < i + 2 || t[i + 1] < '0' || t[i + 1] > '9') {
        return false;
      }
      std::string spec = t.substr(i + 2, close - i - 2);
      if (spec.empty()) {
        plain->insert(t[i + 1] - '0');
      } else {
        if (spec[0] != '|' || spec.find('|', 1) == std::string::npos) return false;
        plural->insert(t[i + 1] - '0');
      }
      i = close;
    }
    return true;
  };
  for (const CatalogueEntry& e : Catalogue()) {
    EXPECT_TRUE(ids.insert(e.id).second) << "duplicate id " << e.id;
    std::set<int> en_plain, en_plural, fr_plain, fr_plural;
    EXPECT_TRUE(args_of(e.en, &en_plain, &en_plural)) << e.id << ": " << e.en;
    EXPECT_TRUE(args_of(e.fr, &fr_plain, &fr_plural)) << e.id << ": " << e.fr;
    EXPECT_EQ(en_plain, fr_plain) << e.id;
    // A plural in one language must be chosen by an argument the message
    // has; each language places its own.
    for (int n : en_plural) EXPECT_TRUE(en_plain.count(n) || fr_plain.count(n)) << e.id;
    for (int n : fr_plural) EXPECT_TRUE(fr_plain.count(n) || en_plain.count(n)) << e.id;
    EXPECT_NE(std::string(e.fr), "") << e.id;
  }
}

TEST(ReportMessagesTest, UnknownIdsAndMismatchedArgumentsAreNotRendered) {
  absl::StatusOr<ReportMessage> m = ParseMessage(Msg("no.such.id", nullptr), "m");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(RenderMessage(*m, kFr));
  // Too few arguments, or a plural chosen by a text.
  m = ParseMessage(Msg("integrity.failures", json::array()), "m");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(RenderMessage(*m, kEn));
  m = ParseMessage(Msg("integrity.failures", json::array({{{"text", "3"}}})), "m");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(RenderMessage(*m, kFr));
}

TEST(ReportMessagesTest, BadJsonNamesItsPath) {
  auto error = [](const json& j) {
    absl::StatusOr<ReportMessage> m = ParseMessage(j, "commitments[0].message");
    return m.ok() ? std::string("ok") : std::string(m.status().message());
  };
  EXPECT_EQ(error("text"), "commitments[0].message: expected an object {\"id\", \"args\"}");
  EXPECT_EQ(error(json{{"args", json::array()}}),
            "commitments[0].message.id: expected a non-empty string");
  EXPECT_EQ(error(Msg("x", json::array({{{"count", -1}}}))),
            "commitments[0].message.args[0].count: expected an unsigned integer");
  EXPECT_EQ(error(Msg("x", json::array({{{"time", "yesterday"}}}))),
            "commitments[0].message.args[0].time: expected an RFC 3339 time");
  EXPECT_EQ(error(Msg("x", json::array({{{"colour", "red"}}}))),
            "commitments[0].message.args[0]: unknown argument type \"colour\"");
  EXPECT_EQ(error(Msg("x", json::array({{{"list", json::array({json{{"id", 3}}})}}}))),
            "commitments[0].message.args[0].list[0].id: expected a non-empty string");
  // Nesting deeper than Vigil writes is refused, not followed.
  json deep = Msg("list", nullptr);
  for (int i = 0; i < 20; ++i) deep = Msg("list", json::array({{{"message", deep}}}));
  EXPECT_NE(error(deep).find("nested too deeply"), std::string::npos);
}

}  // namespace
}  // namespace vigil::reports
