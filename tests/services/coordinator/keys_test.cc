// The coordinator's keys are its on-disk format: these byte strings are what
// a database written by an earlier build holds, so a change of any of them
// is a format change (keys.h), never a refactor.
#include "services/coordinator/keys.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil::coordinator::keys {
namespace {

using namespace std::string_literals;

// A name as the store orders it: its bytes (NUL escaped as 00 ff), then 00 01.
TEST(KeysTest, NamesAreTerminatedAndEscaped) {
  EXPECT_EQ(Tenant("acme"), "coord/tenant/acme\x00\x01"s);
  EXPECT_EQ(Location("a\0b"s),
            "coord/location/a\x00\xff"
            "b\x00\x01"s);
  EXPECT_EQ(BackupSet("acme", "fs"),
            "coord/bset/acme\x00\x01"
            "fs\x00\x01"s);
  EXPECT_EQ(BackupSetsOf("acme") + "fs\x00\x01"s, BackupSet("acme", "fs"));
  EXPECT_EQ(CatalogueHash("t", "s"), "coord/hashalg/t\x00\x01s\x00\x01"s);
  EXPECT_EQ(Verdict("t", "a", "rpo"),
            "coord/verdict/t\x00\x01"
            "a\x00\x01"
            "rpo\x00\x01"s);
}

// Times: big-endian with the sign bit flipped, so they sort as numbers.
TEST(KeysTest, TimesSortAsSignedNumbers) {
  EXPECT_EQ(Point("t", "s", 0x0102), "coord/point/t\x00\x01s\x00\x01\x80\0\0\0\0\0\x01\x02"s);
  EXPECT_EQ(Drill("t", "s", -1), "coord/drill/t\x00\x01s\x00\x01\x7f\xff\xff\xff\xff\xff\xff\xff"s);
  EXPECT_LT(Point("t", "s", -5), Point("t", "s", 3));
  EXPECT_EQ(Transition("t", 0, "a", "k"),
            "coord/transition/t\x00\x01\x80\0\0\0\0\0\0\0a\x00\x01k\x00\x01"s);
}

// Ids big-endian on 8 bytes, attempts and versions on 4.
TEST(KeysTest, IdsAndAttemptsAreBigEndian) {
  EXPECT_EQ(Task(0x0a0b), "T\0\0\0\0\0\0\x0a\x0b"s);
  EXPECT_EQ(Staged(1, 2, 3), "S\0\0\0\0\0\0\0\x01\0\0\0\x02\0\0\0\0\0\0\0\x03"s);
  EXPECT_EQ(StagedPrefix(1, 2), Staged(1, 2, 3).substr(0, 13));
  EXPECT_EQ(StagedPrefixOfTask(1), Staged(1, 2, 3).substr(0, 9));
  EXPECT_EQ(Acked(1, 2), "A\0\0\0\0\0\0\0\x01\0\0\0\x02"s);
  EXPECT_EQ(Merged(7, 1), "coord/merged/\0\0\0\0\0\0\0\x07\0\0\0\x01"s);
  EXPECT_EQ(ContractVersion("t", 9), "coord/contract/t\x00\x01\0\0\0\x09"s);
}

TEST(KeysTest, DeliveryKeysStartWithTheirQueue) {
  EXPECT_EQ(Delivery(kOutboxPrefix, 0, "id", "ch", "c"),
            "coord/outbox/\x80\0\0\0\0\0\0\0id\x00\x01"
            "ch\x00\x01"
            "c\x00\x01"s);
}

}  // namespace
}  // namespace vigil::coordinator::keys
