#include "services/reports/report.h"

#include <initializer_list>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace vigil::reports {
namespace {

using nlohmann::json;

#define VIGIL_REPORT_TRY(expr)         \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (0)

absl::Status Error(const std::string& path, const std::string& message) {
  return absl::InvalidArgumentError((path.empty() ? std::string("(report)") : path) + ": " +
                                    message);
}

std::string Key(const std::string& path, const char* key) {
  return path.empty() ? std::string(key) : path + "." + key;
}

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// A short, quoted, printable rendering of an offending value for messages.
// dump() would throw on invalid UTF-8; `replace` keeps it total.
std::string Shown(const json& value) {
  std::string s = value.dump(-1, ' ', true, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string TypeOf(const json& value) {
  if (value.is_number_float()) return "a number with a fraction";
  if (value.is_number_integer() && !value.is_number_unsigned() && value.get<int64_t>() < 0) {
    return "a negative number";
  }
  return value.type_name();
}

const json* Find(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// Every reader takes the object holding the field, the object's path and the
// field's key. Req* fail on a missing or null field; Opt* leave the output
// untouched on a missing or null one. Both fail on a wrong type.

absl::Status Present(const json& object, const std::string& path, const char* key,
                     const json** out) {
  const json* v = Find(object, key);
  if (v == nullptr || v->is_null()) return Error(Key(path, key), "missing");
  *out = v;
  return absl::OkStatus();
}

absl::Status CheckString(const json& v, const std::string& path) {
  if (!v.is_string()) return Error(path, "expected a string, got " + TypeOf(v));
  return absl::OkStatus();
}

absl::Status ReqString(const json& object, const std::string& path, const char* key,
                       std::string* out) {
  const json* v;
  VIGIL_REPORT_TRY(Present(object, path, key, &v));
  VIGIL_REPORT_TRY(CheckString(*v, Key(path, key)));
  *out = v->get_ref<const std::string&>();
  return absl::OkStatus();
}

absl::Status OptString(const json& object, const std::string& path, const char* key,
                       std::string* out) {
  const json* v = Find(object, key);
  if (v == nullptr || v->is_null()) return absl::OkStatus();
  VIGIL_REPORT_TRY(CheckString(*v, Key(path, key)));
  *out = v->get_ref<const std::string&>();
  return absl::OkStatus();
}

// A structured message (messages.h) at `key`: missing or null leaves `out`
// empty.
absl::Status OptMessage(const json& object, const std::string& path, const char* key,
                        std::optional<ReportMessage>* out) {
  const json* v = Find(object, key);
  if (v == nullptr || v->is_null()) return absl::OkStatus();
  absl::StatusOr<ReportMessage> m = ParseMessage(*v, Key(path, key));
  if (!m.ok()) return m.status();
  *out = std::move(*m);
  return absl::OkStatus();
}

// An array of messages (or nulls) at `key`, one per sentence of an array
// of `count` sentences; missing or null leaves `out` empty.
absl::Status OptMessages(const json& object, const std::string& path, const char* key, size_t count,
                         std::vector<std::optional<ReportMessage>>* out) {
  const json* v = Find(object, key);
  if (v == nullptr || v->is_null()) return absl::OkStatus();
  const std::string p = Key(path, key);
  if (!v->is_array()) return Error(p, "expected an array, got " + TypeOf(*v));
  if (v->size() != count) {
    return Error(p, "expected " + std::to_string(count) + " messages (one per reason), got " +
                        std::to_string(v->size()));
  }
  for (size_t i = 0; i < v->size(); ++i) {
    std::optional<ReportMessage> m;
    if (!(*v)[i].is_null()) {
      absl::StatusOr<ReportMessage> parsed = ParseMessage((*v)[i], Index(p, i));
      if (!parsed.ok()) return parsed.status();
      m = std::move(*parsed);
    }
    out->push_back(std::move(m));
  }
  return absl::OkStatus();
}

absl::Status OneOf(const std::string& value, const std::string& path,
                   std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return absl::OkStatus();
    if (!list.empty()) list += ", ";
    list += std::string("\"") + a + "\"";
  }
  return Error(path, "expected one of " + list + ", got " + Shown(json(value)));
}

absl::Status ReqEnum(const json& object, const std::string& path, const char* key,
                     std::initializer_list<const char*> allowed, std::string* out) {
  VIGIL_REPORT_TRY(ReqString(object, path, key, out));
  return OneOf(*out, Key(path, key), allowed);
}

absl::Status ReqUint(const json& object, const std::string& path, const char* key, uint64_t* out) {
  const json* v;
  VIGIL_REPORT_TRY(Present(object, path, key, &v));
  if (v->is_number_unsigned()) {
    *out = v->get<uint64_t>();
  } else if (v->is_number_integer() && v->get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(v->get<int64_t>());
  } else {
    return Error(Key(path, key), "expected an unsigned integer, got " + TypeOf(*v));
  }
  return absl::OkStatus();
}

absl::Status ReqBool(const json& object, const std::string& path, const char* key, bool* out) {
  const json* v;
  VIGIL_REPORT_TRY(Present(object, path, key, &v));
  if (!v->is_boolean()) return Error(Key(path, key), "expected true or false, got " + TypeOf(*v));
  *out = v->get<bool>();
  return absl::OkStatus();
}

absl::Status TimeFrom(const json& v, const std::string& path, ReportTime* out) {
  VIGIL_REPORT_TRY(CheckString(v, path));
  const std::string& text = v.get_ref<const std::string&>();
  std::optional<LocalTime> t = ParseRfc3339(text);
  if (!t) return Error(path, "not an RFC 3339 time (2026-10-01T00:00:00+02:00): " + Shown(v));
  out->text = text;
  out->local = *t;
  return absl::OkStatus();
}

absl::Status ReqTime(const json& object, const std::string& path, const char* key,
                     ReportTime* out) {
  const json* v;
  VIGIL_REPORT_TRY(Present(object, path, key, &v));
  return TimeFrom(*v, Key(path, key), out);
}

absl::Status OptTime(const json& object, const std::string& path, const char* key,
                     std::optional<ReportTime>* out) {
  const json* v = Find(object, key);
  if (v == nullptr || v->is_null()) return absl::OkStatus();
  ReportTime t;
  VIGIL_REPORT_TRY(TimeFrom(*v, Key(path, key), &t));
  *out = std::move(t);
  return absl::OkStatus();
}

absl::Status ReqHex64(const json& object, const std::string& path, const char* key,
                      std::string* out) {
  VIGIL_REPORT_TRY(ReqString(object, path, key, out));
  bool hex = out->size() == 64;
  for (char c : *out) {
    hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
  }
  if (!hex) return Error(Key(path, key), "expected 64 hexadecimal digits, got " + Shown(*out));
  return absl::OkStatus();
}

absl::Status CheckObject(const json& v, const std::string& path) {
  if (!v.is_object()) return Error(path, "expected an object, got " + TypeOf(v));
  return absl::OkStatus();
}

absl::Status ReqObject(const json& object, const std::string& path, const char* key,
                       const json** out) {
  VIGIL_REPORT_TRY(Present(object, path, key, out));
  return CheckObject(**out, Key(path, key));
}

// Calls `each(element, element_path)` for every element of the array at
// `key`, after checking that each element is an object.
template <typename F>
absl::Status ReqArrayOfObjects(const json& object, const std::string& path, const char* key,
                               F each) {
  const json* v;
  VIGIL_REPORT_TRY(Present(object, path, key, &v));
  const std::string here = Key(path, key);
  if (!v->is_array()) return Error(here, "expected an array, got " + TypeOf(*v));
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    VIGIL_REPORT_TRY(CheckObject(e, Index(here, i)));
    VIGIL_REPORT_TRY(each(e, Index(here, i)));
  }
  return absl::OkStatus();
}

absl::Status StringArray(const json& object, const std::string& path, const char* key,
                         bool required, std::vector<std::string>* out) {
  const json* v = Find(object, key);
  if (v == nullptr || v->is_null()) {
    return required ? Error(Key(path, key), "missing") : absl::OkStatus();
  }
  const std::string here = Key(path, key);
  if (!v->is_array()) return Error(here, "expected an array, got " + TypeOf(*v));
  for (size_t i = 0; i < v->size(); ++i) {
    VIGIL_REPORT_TRY(CheckString((*v)[i], Index(here, i)));
    out->push_back((*v)[i].get<std::string>());
  }
  return absl::OkStatus();
}

absl::Status Flag(const json& object, const std::string& path, const char* key, ReportFlag* out) {
  const json* v;
  VIGIL_REPORT_TRY(ReqObject(object, path, key, &v));
  VIGIL_REPORT_TRY(ReqBool(*v, Key(path, key), "value", &out->value));
  return ReqEnum(*v, Key(path, key), "basis", {"measured", "declared", "contract"}, &out->basis);
}

absl::Status Parse(const json& j, Report* r) {
  VIGIL_REPORT_TRY(CheckObject(j, ""));
  std::string format;
  VIGIL_REPORT_TRY(ReqString(j, "", "format", &format));
  if (format != kReportFormat) {
    return Error("format",
                 std::string("expected \"") + kReportFormat + "\", got " + Shown(json(format)));
  }

  const json* tenant;
  VIGIL_REPORT_TRY(ReqObject(j, "", "tenant", &tenant));
  VIGIL_REPORT_TRY(ReqString(*tenant, "tenant", "name", &r->tenant_name));
  VIGIL_REPORT_TRY(OptString(*tenant, "tenant", "display_name", &r->tenant_display_name));
  if (r->tenant_display_name.empty()) r->tenant_display_name = r->tenant_name;
  VIGIL_REPORT_TRY(ReqString(*tenant, "tenant", "time_zone", &r->time_zone));
  std::string language;
  VIGIL_REPORT_TRY(OptString(*tenant, "tenant", "language", &language));
  r->language = LanguageFromTag(language);

  if (const json* msp = Find(j, "msp"); msp != nullptr && !msp->is_null()) {
    VIGIL_REPORT_TRY(CheckObject(*msp, "msp"));
    VIGIL_REPORT_TRY(ReqString(*msp, "msp", "name", &r->msp_name));
  }

  const json* period;
  VIGIL_REPORT_TRY(ReqObject(j, "", "period", &period));
  VIGIL_REPORT_TRY(ReqString(*period, "period", "label", &r->period_label));
  VIGIL_REPORT_TRY(ReqTime(*period, "period", "start", &r->period_start));
  VIGIL_REPORT_TRY(ReqTime(*period, "period", "end", &r->period_end));
  VIGIL_REPORT_TRY(OptTime(*period, "period", "evaluated_until", &r->evaluated_until));
  VIGIL_REPORT_TRY(ReqTime(j, "", "generated_at", &r->generated_at));

  const json* contract;
  VIGIL_REPORT_TRY(ReqObject(j, "", "contract", &contract));
  VIGIL_REPORT_TRY(ReqUint(*contract, "contract", "version", &r->contract_version));
  VIGIL_REPORT_TRY(ReqHex64(*contract, "contract", "sha256", &r->contract_sha256));
  VIGIL_REPORT_TRY(OptTime(*contract, "contract", "effective_from", &r->contract_effective_from));
  VIGIL_REPORT_TRY(
      ReqArrayOfObjects(*contract, "contract", "assets", [&](const json& e, const std::string& p) {
        ReportContractAsset a;
        VIGIL_REPORT_TRY(ReqString(e, p, "name", &a.name));
        VIGIL_REPORT_TRY(OptString(e, p, "description", &a.description));
        VIGIL_REPORT_TRY(StringArray(e, p, "backup_sets", false, &a.backup_sets));
        r->contract_assets.push_back(std::move(a));
        return absl::OkStatus();
      }));
  VIGIL_REPORT_TRY(ReqArrayOfObjects(
      *contract, "contract", "commitments", [&](const json& e, const std::string& p) {
        ReportContractCommitment c;
        VIGIL_REPORT_TRY(ReqString(e, p, "asset", &c.asset));
        VIGIL_REPORT_TRY(ReqString(e, p, "kind", &c.kind));
        VIGIL_REPORT_TRY(ReqString(e, p, "terms", &c.terms));
        VIGIL_REPORT_TRY(OptMessage(e, p, "terms_message", &c.terms_message));
        r->contract_commitments.push_back(std::move(c));
        return absl::OkStatus();
      }));

  VIGIL_REPORT_TRY(ReqArrayOfObjects(j, "", "readiness", [&](const json& e, const std::string& p) {
    ReportReadiness a;
    VIGIL_REPORT_TRY(ReqString(e, p, "asset", &a.asset));
    VIGIL_REPORT_TRY(ReqEnum(e, p, "readiness", {"ready", "at risk", "not ready"}, &a.readiness));
    VIGIL_REPORT_TRY(StringArray(e, p, "reasons", false, &a.reasons));
    VIGIL_REPORT_TRY(OptMessages(e, p, "reason_messages", a.reasons.size(), &a.reason_messages));
    if (const json* l = Find(e, "site_loss"); l != nullptr && !l->is_null()) {
      const std::string lp = Key(p, "site_loss");
      VIGIL_REPORT_TRY(CheckObject(*l, lp));
      std::string level;
      VIGIL_REPORT_TRY(ReqEnum(*l, lp, "readiness", {"ready", "at risk", "not ready"}, &level));
      VIGIL_REPORT_TRY(StringArray(*l, lp, "reasons", false, &a.site_loss_reasons));
      VIGIL_REPORT_TRY(OptMessages(*l, lp, "reason_messages", a.site_loss_reasons.size(),
                                   &a.site_loss_reason_messages));
      a.site_loss = std::move(level);
    }
    VIGIL_REPORT_TRY(OptTime(e, p, "monitored_from", &a.monitored_from));
    if (const json* c = Find(e, "last_clean_point"); c != nullptr) {
      a.last_clean_known = true;
      if (!c->is_null()) {
        const std::string cp = Key(p, "last_clean_point");
        VIGIL_REPORT_TRY(CheckObject(*c, cp));
        ReportReadiness::CleanPoint clean;
        VIGIL_REPORT_TRY(ReqString(*c, cp, "backup_set", &clean.backup_set));
        VIGIL_REPORT_TRY(ReqString(*c, cp, "name", &clean.name));
        VIGIL_REPORT_TRY(ReqTime(*c, cp, "time", &clean.time));
        VIGIL_REPORT_TRY(ReqString(*c, cp, "summary", &clean.summary));
        VIGIL_REPORT_TRY(OptMessage(*c, cp, "message", &clean.message));
        a.last_clean = std::move(clean);
      }
    }
    r->readiness.push_back(std::move(a));
    return absl::OkStatus();
  }));

  VIGIL_REPORT_TRY(
      ReqArrayOfObjects(j, "", "commitments", [&](const json& e, const std::string& p) {
        ReportCommitment c;
        VIGIL_REPORT_TRY(ReqString(e, p, "asset", &c.asset));
        VIGIL_REPORT_TRY(ReqString(e, p, "kind", &c.kind));
        VIGIL_REPORT_TRY(ReqEnum(e, p, "verdict", {"pass", "fail", "unknown"}, &c.verdict));
        VIGIL_REPORT_TRY(ReqString(e, p, "summary", &c.summary));
        VIGIL_REPORT_TRY(OptMessage(e, p, "message", &c.summary_message));
        VIGIL_REPORT_TRY(OptTime(e, p, "failing_since", &c.failing_since));
        VIGIL_REPORT_TRY(OptTime(e, p, "began", &c.began));
        VIGIL_REPORT_TRY(OptTime(e, p, "monitored_from", &c.monitored_from));
        VIGIL_REPORT_TRY(
            ReqArrayOfObjects(e, p, "evidence", [&](const json& ev, const std::string& q) {
              ReportEvidence x;
              VIGIL_REPORT_TRY(ReqString(ev, q, "name", &x.name));
              VIGIL_REPORT_TRY(ReqString(ev, q, "value", &x.value));
              VIGIL_REPORT_TRY(OptMessage(ev, q, "message", &x.message));
              VIGIL_REPORT_TRY(
                  ReqEnum(ev, q, "basis", {"measured", "declared", "contract"}, &x.basis));
              c.evidence.push_back(std::move(x));
              return absl::OkStatus();
            }));
        r->commitments.push_back(std::move(c));
        return absl::OkStatus();
      }));

  VIGIL_REPORT_TRY(ReqArrayOfObjects(j, "", "incidents", [&](const json& e, const std::string& p) {
    ReportIncident x;
    VIGIL_REPORT_TRY(ReqString(e, p, "asset", &x.asset));
    VIGIL_REPORT_TRY(ReqString(e, p, "kind", &x.kind));
    VIGIL_REPORT_TRY(OptTime(e, p, "began_at", &x.began_at));
    VIGIL_REPORT_TRY(ReqTime(e, p, "detected_at", &x.detected_at));
    VIGIL_REPORT_TRY(OptTime(e, p, "resolved_at", &x.resolved_at));
    VIGIL_REPORT_TRY(ReqString(e, p, "summary", &x.summary));
    VIGIL_REPORT_TRY(OptMessage(e, p, "message", &x.summary_message));
    r->incidents.push_back(std::move(x));
    return absl::OkStatus();
  }));

  VIGIL_REPORT_TRY(
      ReqArrayOfObjects(j, "", "backup_sets", [&](const json& e, const std::string& p) {
        ReportBackupSet s;
        VIGIL_REPORT_TRY(ReqString(e, p, "name", &s.name));
        VIGIL_REPORT_TRY(ReqString(e, p, "asset", &s.asset));
        VIGIL_REPORT_TRY(ReqString(e, p, "location", &s.location));
        VIGIL_REPORT_TRY(ReqString(e, p, "layout", &s.layout));
        VIGIL_REPORT_TRY(Flag(e, p, "offsite", &s.offsite));
        VIGIL_REPORT_TRY(Flag(e, p, "immutable", &s.immutable));
        VIGIL_REPORT_TRY(ReqUint(e, p, "restore_points", &s.restore_points));
        VIGIL_REPORT_TRY(ReqUint(e, p, "files", &s.files));
        VIGIL_REPORT_TRY(ReqUint(e, p, "bytes", &s.bytes));
        VIGIL_REPORT_TRY(OptTime(e, p, "last_inventory", &s.last_inventory));
        VIGIL_REPORT_TRY(OptTime(e, p, "last_verified", &s.last_verified));
        if (const json* m = Find(e, "merkle"); m != nullptr && !m->is_null()) {
          const std::string mp = Key(p, "merkle");
          VIGIL_REPORT_TRY(CheckObject(*m, mp));
          ReportMerkle merkle;
          VIGIL_REPORT_TRY(ReqUint(*m, mp, "tree_size", &merkle.tree_size));
          VIGIL_REPORT_TRY(ReqHex64(*m, mp, "root", &merkle.root));
          s.merkle = std::move(merkle);
        }
        r->backup_sets.push_back(std::move(s));
        return absl::OkStatus();
      }));

  VIGIL_REPORT_TRY(
      ReqArrayOfObjects(j, "", "out_of_scope", [&](const json& e, const std::string& p) {
        Report::OutOfScope o;
        VIGIL_REPORT_TRY(ReqString(e, p, "item", &o.item));
        VIGIL_REPORT_TRY(ReqString(e, p, "reason", &o.reason));
        r->out_of_scope.push_back(std::move(o));
        return absl::OkStatus();
      }));
  VIGIL_REPORT_TRY(
      ReqArrayOfObjects(j, "", "scope_findings", [&](const json& e, const std::string& p) {
        Report::ScopeFinding f;
        VIGIL_REPORT_TRY(ReqString(e, p, "subject", &f.subject));
        VIGIL_REPORT_TRY(ReqString(e, p, "finding", &f.finding));
        VIGIL_REPORT_TRY(OptMessage(e, p, "message", &f.finding_message));
        r->scope_findings.push_back(std::move(f));
        return absl::OkStatus();
      }));

  const json* checks;
  VIGIL_REPORT_TRY(ReqObject(j, "", "checks", &checks));
  VIGIL_REPORT_TRY(ReqUint(*checks, "checks", "run", &r->checks_run));
  VIGIL_REPORT_TRY(ReqUint(*checks, "checks", "failed", &r->checks_failed));
  VIGIL_REPORT_TRY(ReqUint(*checks, "checks", "entries_verified", &r->entries_verified));
  if (const json* b = Find(*checks, "bytes_verified"); b != nullptr && !b->is_null()) {
    uint64_t bytes = 0;
    VIGIL_REPORT_TRY(ReqUint(*checks, "checks", "bytes_verified", &bytes));
    r->bytes_verified = bytes;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Report> ParseReport(const json& j) {
  Report report;
  absl::Status status = Parse(j, &report);
  if (!status.ok()) return status;
  return report;
}

}  // namespace vigil::reports
