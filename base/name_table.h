// A two-way table between an enum and the words Vigil shows for it.
//
// Each enum that is printed (in the CLI, JSON, reports, logs) or parsed (from
// a contract, a flag) has one table of {value, name} rows; NameOf() and
// ValueOf() read it in both directions, so a name is written once and the
// printer and the parser cannot disagree.
//
//   constexpr NameRow<Colour> kColourNames[] = {
//       {Colour::kRed, "red"}, {Colour::kBlue, "blue"}};
//   static_assert(CoversEnum(kColourNames));   // rows in value order, 0..N-1
//   NameOf(kColourNames, Colour::kRed, "?");   // "red"
//   ValueOf(kColourNames, "blue");             // Colour::kBlue
//
// CoversEnum() stands in for part of the -Wswitch check a switch would get:
// it holds when the rows list the enum's values in order from the first (0
// unless given), so a row missing in the middle or out of order fails the
// build. A value appended at the end without a row is not caught: it prints
// the `unknown` word given to NameOf().
//
// Header-only, no dependencies; usable from storage/ and services/ alike.
// Tables are constexpr data: thread-safe.

#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace vigil {

template <typename E>
struct NameRow {
  E value;
  const char* name;
};

// The name of `value`, or `unknown` when no row has it.
template <typename E, size_t N>
constexpr const char* NameOf(const NameRow<E> (&table)[N], E value, const char* unknown) {
  for (const NameRow<E>& row : table) {
    if (row.value == value) return row.name;
  }
  return unknown;
}

// The value named `name` (exact match), or none.
template <typename E, size_t N>
constexpr std::optional<E> ValueOf(const NameRow<E> (&table)[N], std::string_view name) {
  for (const NameRow<E>& row : table) {
    if (name == row.name) return row.value;
  }
  return std::nullopt;
}

// True when the rows hold the values first, first+1, ..., first+N-1 in that
// order.
template <typename E, size_t N>
constexpr bool CoversEnum(const NameRow<E> (&table)[N], size_t first = 0) {
  for (size_t i = 0; i < N; ++i) {
    if (static_cast<size_t>(table[i].value) != first + i) return false;
  }
  return true;
}

}  // namespace vigil
