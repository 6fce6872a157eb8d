#include "services/common/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace vigil::metrics {
namespace {

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The exposition format's escapes: backslash and newline always, the
// double quote in label values only (HELP text keeps its quotes).
std::string Escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty() || !(IsAlpha(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsAlpha(c) || IsDigit(c) || c == ':'; });
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || !IsAlpha(name[0]) || name.substr(0, 2) == "__") return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsAlpha(c) || IsDigit(c); });
}

std::string EscapeLabelValue(std::string_view value) { return Escape(value, true); }

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (value == std::trunc(value) && std::fabs(value) < 9.007199254740992e15) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", value);
  }
  return buf;
}

absl::Status Registry::Describe(std::string_view name, Type type, std::string_view help) {
  if (!IsValidMetricName(name)) {
    return absl::InvalidArgumentError("metric '" + std::string(name) + "': not a valid name");
  }
  if (type == Type::kCounter && (name.size() < 6 || name.substr(name.size() - 6) != "_total")) {
    return absl::InvalidArgumentError("metric '" + std::string(name) +
                                      "': a counter's name must end in _total");
  }
  MutexLock lock(&mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    families_.emplace(std::string(name), Family{type, std::string(help), {}});
    return absl::OkStatus();
  }
  if (it->second.type != type) {
    return absl::InvalidArgumentError("metric '" + std::string(name) +
                                      "': already declared with another type");
  }
  it->second.help = std::string(help);
  return absl::OkStatus();
}

absl::Status Registry::Set(std::string_view name, const Labels& labels, double value) {
  return Update(name, labels, value, false);
}

absl::Status Registry::Add(std::string_view name, const Labels& labels, double delta) {
  return Update(name, labels, delta, true);
}

absl::Status Registry::Update(std::string_view name, const Labels& labels, double value, bool add) {
  const std::string where = "metric '" + std::string(name) + "'";
  Labels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  std::string key;
  for (size_t i = 0; i < sorted.size(); ++i) {
    const auto& [k, v] = sorted[i];
    if (!IsValidLabelName(k)) {
      return absl::InvalidArgumentError(where + ": label '" + k + "' is not a valid label name");
    }
    if (i > 0 && sorted[i - 1].first == k) {
      return absl::InvalidArgumentError(where + ": label '" + k + "' given twice");
    }
    key += (i == 0 ? "{" : ",") + k + "=\"" + EscapeLabelValue(v) + "\"";
  }
  if (!key.empty()) key += "}";
  MutexLock lock(&mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return absl::InvalidArgumentError(where + ": not declared");
  Family& f = it->second;
  auto sample = f.samples.find(key);
  double current = sample == f.samples.end() ? 0 : sample->second;
  double next = add ? current + value : value;
  if (f.type == Type::kCounter && (next < 0 || (add && value < 0) || std::isnan(next))) {
    return absl::InvalidArgumentError(where + ": a counter cannot decrease or be negative");
  }
  f.samples[key] = next;
  return absl::OkStatus();
}

std::string Registry::Render() const {
  MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + Escape(f.help, false) + "\n";
    out += "# TYPE " + name + (f.type == Type::kCounter ? " counter\n" : " gauge\n");
    for (const auto& [labels, value] : f.samples) {
      out += name + labels + " " + FormatValue(value) + "\n";
    }
  }
  return out;
}

}  // namespace vigil::metrics
