// A small Prometheus metrics registry: counter and gauge families with
// label sets, rendered in the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
//   metrics::Registry r;
//   r.Describe("vigil_tasks", metrics::Type::kGauge, "Tasks by state.");
//   r.Set("vigil_tasks", {{"state", "queued"}}, 3);
//   std::string text = r.Render();
//
// Names follow Prometheus' rules and conventions: [a-zA-Z_:][a-zA-Z0-9_:]*,
// units in the name (`_bytes`, `_seconds`), counters end in `_total`.
// Label names are [a-zA-Z_][a-zA-Z0-9_]* and may not start with "__";
// label values are any UTF-8 text (escaped on rendering).
//
// Thread safety: every method is thread-safe (one mutex, held only to
// update a map or to render).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace vigil::metrics {

enum class Type { kCounter, kGauge };

// Label name -> value. Order does not matter: samples are rendered with
// their labels sorted by name.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  // Declares a family. InvalidArgument (naming the metric) if the name is
  // not a valid metric name, a counter's name does not end in `_total`, or
  // the name was already declared with another type. Declaring again with
  // the same type replaces the help text and keeps the samples.
  [[nodiscard]] absl::Status Describe(std::string_view name, Type type, std::string_view help);

  // Sets the sample `labels` of family `name` to `value` (for a counter:
  // its current total, e.g. recomputed from persisted records).
  // InvalidArgument if the family was not declared, a label name is
  // invalid or repeated, or a counter would get a negative value.
  [[nodiscard]] absl::Status Set(std::string_view name, const Labels& labels, double value);
  // Adds `delta` to a sample (created at 0). Counters: delta >= 0.
  [[nodiscard]] absl::Status Add(std::string_view name, const Labels& labels, double delta);

  // The exposition: for each family in name order, "# HELP", "# TYPE" and
  // its samples in label order. A family with no sample renders its HELP
  // and TYPE lines only.
  std::string Render() const;

 private:
  struct Family {
    Type type;
    std::string help;
    // Rendered label set ("{a=\"x\",b=\"y\"}" or "") -> value.
    std::map<std::string, double> samples;
  };
  absl::Status Update(std::string_view name, const Labels& labels, double value, bool add);

  mutable Mutex mu_;
  std::map<std::string, Family, std::less<>> families_ GUARDED_BY(mu_);
};

// Helpers, exposed for tests.
bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);
// Label value escaping of the text format: \ -> \\, " -> \", newline -> \n.
std::string EscapeLabelValue(std::string_view value);
// A sample value: integers without exponent or fraction, "NaN", "+Inf",
// "-Inf", other values with enough digits to round-trip.
std::string FormatValue(double value);

}  // namespace vigil::metrics
