// A structured message: a sentence kept as an id and typed arguments rather
// than as English text, so that each reader renders it in its own language
// and number formats (services/reports/messages.h holds the catalogue of
// ids with their English and French forms; docs/reports.md lists them).
//
// Who makes them: services/contracts/evaluate.cc (summaries, evidence,
// readiness reasons) and services/coordinator/report.cc (terms, incidents),
// each beside the English string it already writes, which stays the text of
// record for JSON consumers, status and alerts. Who reads them: the report
// JSON (services/coordinator/report.cc) and its HTML rendering.
//
// Plain values: no locking, safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/name_table.h"

namespace vigil {

struct Message;

// One argument of a message, with its type: the renderer formats it
// (digit groups, units, dates) in the reader's language.
struct MessageArg {
  enum class Kind {
    kCount,     // `count`: a number of things; it also chooses plurals
    kBytes,     // `count`: a size in bytes
    kRate,      // `count`: bytes per second
    kDuration,  // `ns`: a duration in nanoseconds (>= 0)
    kTime,      // `ns`: an instant (Unix ns), shown as date and time
    kDate,      // `ns`: an instant (Unix ns), shown as its date
    kPercent,   // `fraction`: 0.25 is 25 %
    kText,      // `text`: a name or a text shown as written (set names, paths, errors)
    kList,      // `items`: messages shown one after the other, separated by "; "
    kMessage,   // `items[0]`: a message inside this one
  };
  Kind kind = Kind::kText;
  uint64_t count = 0;
  int64_t ns = 0;
  double fraction = 0;
  std::string text{};
  std::vector<Message> items;
};

// The key of each kind of argument in the report JSON ({"count": 3}): the
// coordinator writes it (coordinator/report.cc), services/reports reads it
// (messages.cc); one table so that they cannot disagree.
inline constexpr NameRow<MessageArg::Kind> kMessageArgKeys[] = {
    {MessageArg::Kind::kCount, "count"},     {MessageArg::Kind::kBytes, "bytes"},
    {MessageArg::Kind::kRate, "rate"},       {MessageArg::Kind::kDuration, "duration"},
    {MessageArg::Kind::kTime, "time"},       {MessageArg::Kind::kDate, "date"},
    {MessageArg::Kind::kPercent, "percent"}, {MessageArg::Kind::kText, "text"},
    {MessageArg::Kind::kList, "list"},       {MessageArg::Kind::kMessage, "message"},
};
static_assert(CoversEnum(kMessageArgKeys));

struct Message {
  std::string id{};  // "rpo.pass", ...; empty: no structured form
  std::vector<MessageArg> args{};
  bool empty() const { return id.empty(); }
};

// Builders: Msg("rpo.pass", {msg::Duration(age), msg::Duration(rpo)}).
inline Message Msg(std::string id, std::vector<MessageArg> args = {}) {
  return Message{std::move(id), std::move(args)};
}

namespace msg {
inline MessageArg Count(uint64_t n) {
  MessageArg a;
  a.kind = MessageArg::Kind::kCount;
  a.count = n;
  return a;
}
inline MessageArg Bytes(uint64_t n) {
  MessageArg a = Count(n);
  a.kind = MessageArg::Kind::kBytes;
  return a;
}
inline MessageArg Rate(uint64_t bytes_per_second) {
  MessageArg a = Count(bytes_per_second);
  a.kind = MessageArg::Kind::kRate;
  return a;
}
inline MessageArg Duration(int64_t ns) {
  MessageArg a;
  a.kind = MessageArg::Kind::kDuration;
  a.ns = ns < 0 ? 0 : ns;
  return a;
}
inline MessageArg Time(int64_t unix_ns) {
  MessageArg a;
  a.kind = MessageArg::Kind::kTime;
  a.ns = unix_ns;
  return a;
}
inline MessageArg Date(int64_t unix_ns) {
  MessageArg a = Time(unix_ns);
  a.kind = MessageArg::Kind::kDate;
  return a;
}
inline MessageArg Percent(double fraction) {
  MessageArg a;
  a.kind = MessageArg::Kind::kPercent;
  a.fraction = fraction;
  return a;
}
inline MessageArg Text(std::string text) {
  MessageArg a;
  a.text = std::move(text);
  return a;
}
inline MessageArg List(std::vector<Message> items) {
  MessageArg a;
  a.kind = MessageArg::Kind::kList;
  a.items = std::move(items);
  return a;
}
inline MessageArg Nested(Message m) {
  MessageArg a;
  a.kind = MessageArg::Kind::kMessage;
  a.items.push_back(std::move(m));
  return a;
}
}  // namespace msg

}  // namespace vigil
