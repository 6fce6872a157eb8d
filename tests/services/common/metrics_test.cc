#include "services/common/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace vigil::metrics {
namespace {

TEST(MetricsTest, RendersHelpTypeAndSortedSamples) {
  Registry r;
  ASSERT_TRUE(r.Describe("vigil_tasks", Type::kGauge, "Tasks by state.").ok());
  ASSERT_TRUE(r.Describe("vigil_a_total", Type::kCounter, "First.").ok());
  ASSERT_TRUE(r.Set("vigil_tasks", {{"state", "queued"}, {"kind", "check"}}, 3).ok());
  ASSERT_TRUE(r.Set("vigil_tasks", {{"kind", "check"}, {"state", "done"}}, 2).ok());
  ASSERT_TRUE(r.Add("vigil_a_total", {}, 1.5).ok());
  ASSERT_TRUE(r.Add("vigil_a_total", {}, 1).ok());
  EXPECT_EQ(r.Render(),
            "# HELP vigil_a_total First.\n"
            "# TYPE vigil_a_total counter\n"
            "vigil_a_total 2.5\n"
            "# HELP vigil_tasks Tasks by state.\n"
            "# TYPE vigil_tasks gauge\n"
            "vigil_tasks{kind=\"check\",state=\"done\"} 2\n"
            "vigil_tasks{kind=\"check\",state=\"queued\"} 3\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  Registry r;
  ASSERT_TRUE(r.Describe("m", Type::kGauge, "line\none \\ \"q\"").ok());
  ASSERT_TRUE(r.Set("m", {{"tenant", "Dupont \"&\" fils\n"}}, 1).ok());
  EXPECT_EQ(
      r.Render(),
      "# HELP m line\\none \\\\ \"q\"\n# TYPE m gauge\nm{tenant=\"Dupont \\\"&\\\" fils\\n\"} "
      "1\n");
}

TEST(MetricsTest, FormatsSpecialValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(1e12), "1000000000000");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatValue(0.0 / 0.0), "NaN");
  EXPECT_EQ(std::stod(FormatValue(0.1)), 0.1);  // round-trips
}

TEST(MetricsTest, RefusesBadNamesAndChangesNothing) {
  Registry r;
  EXPECT_FALSE(r.Describe("1abc", Type::kGauge, "").ok());
  EXPECT_FALSE(r.Describe("a-b", Type::kGauge, "").ok());
  EXPECT_FALSE(r.Describe("vigil_checks", Type::kCounter, "no _total").ok());
  ASSERT_TRUE(r.Describe("g", Type::kGauge, "").ok());
  EXPECT_FALSE(r.Describe("g", Type::kCounter, "").ok());
  absl::Status s = r.Set("undeclared", {}, 1);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("undeclared"), std::string_view::npos);
  EXPECT_FALSE(r.Set("g", {{"__reserved", "x"}}, 1).ok());
  EXPECT_FALSE(r.Set("g", {{"bad-label", "x"}}, 1).ok());
  EXPECT_FALSE(r.Set("g", {{"a", "x"}, {"a", "y"}}, 1).ok());
  ASSERT_TRUE(r.Describe("c_total", Type::kCounter, "").ok());
  EXPECT_FALSE(r.Add("c_total", {}, -1).ok());
  EXPECT_FALSE(r.Set("c_total", {{"x", "1"}}, -5).ok());
  // Nothing was recorded by the refused calls.
  EXPECT_EQ(r.Render(), "# HELP c_total \n# TYPE c_total counter\n# HELP g \n# TYPE g gauge\n");
  EXPECT_TRUE(IsValidMetricName("vigil:rate_5m"));
  EXPECT_TRUE(IsValidLabelName("_x1"));
}

TEST(MetricsTest, ConcurrentAddsAreAllCounted) {
  Registry r;
  ASSERT_TRUE(r.Describe("n_total", Type::kCounter, "").ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) (void)r.Add("n_total", {{"l", "v"}}, 1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_NE(r.Render().find("n_total{l=\"v\"} 4000\n"), std::string::npos);
}

}  // namespace
}  // namespace vigil::metrics
