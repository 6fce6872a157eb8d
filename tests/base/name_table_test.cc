#include "base/name_table.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

enum class Colour { kRed, kGreen, kBlue };
constexpr NameRow<Colour> kColours[] = {
    {Colour::kRed, "red"}, {Colour::kGreen, "green"}, {Colour::kBlue, "blue"}};
static_assert(CoversEnum(kColours));

TEST(NameTableTest, NamesAndValuesBothWays) {
  EXPECT_STREQ(NameOf(kColours, Colour::kGreen, "?"), "green");
  EXPECT_STREQ(NameOf(kColours, static_cast<Colour>(7), "?"), "?");
  EXPECT_EQ(ValueOf(kColours, "blue"), Colour::kBlue);
  EXPECT_EQ(ValueOf(kColours, "Blue"), std::nullopt);  // exact match only
  EXPECT_EQ(ValueOf(kColours, ""), std::nullopt);
}

TEST(NameTableTest, CoversEnumWantsEveryValueInOrder) {
  constexpr NameRow<Colour> kGap[] = {{Colour::kRed, "red"}, {Colour::kBlue, "blue"}};
  constexpr NameRow<Colour> kSwapped[] = {
      {Colour::kGreen, "green"}, {Colour::kRed, "red"}, {Colour::kBlue, "blue"}};
  constexpr NameRow<Colour> kFromOne[] = {{Colour::kGreen, "green"}, {Colour::kBlue, "blue"}};
  EXPECT_FALSE(CoversEnum(kGap));
  EXPECT_FALSE(CoversEnum(kSwapped));
  EXPECT_FALSE(CoversEnum(kFromOne));
  EXPECT_TRUE(CoversEnum(kFromOne, 1));
}

}  // namespace
}  // namespace vigil
