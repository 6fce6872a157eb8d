// Entry and verify records: round trips, and decoders that answer DataLoss
// (never crash, never accept) for truncated, padded or unknown input.
#include "storage/entry.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "storage/hash.h"
#include "tests/storage/test_util.h"

namespace vigil::storage {
namespace {

using testing::ToHex;

EntryRecord FileRecord() {
  EntryRecord r;
  r.type = EntryType::kFile;
  r.size = 123456789;
  r.mtime_ns = 1700000000123456789;
  r.digest = HashBytes(HashAlgorithm::kXxh3_128, "content");
  r.first_seen_ns = 1700000001000000000;
  return r;
}

EntryRecord SymlinkRecord() {
  EntryRecord r;
  r.type = EntryType::kSymlink;
  r.link_target = std::string("../target\0with\xffnul", 18);
  r.size = r.link_target.size();
  r.mtime_ns = -5;       // before the epoch
  r.first_seen_ns = 42;  // no digest: symlinks are compared by target
  return r;
}

EntryRecord OtherRecord() {
  EntryRecord r;
  r.type = EntryType::kOther;
  r.size = 0;
  r.mtime_ns = 1;
  r.first_seen_ns = 2;
  return r;  // no digest
}

VerifyRecord OkVerify() {
  VerifyRecord v;
  v.state = EntryState::kOk;
  v.last_verified_ns = 1700000002000000000;
  v.last_checked_ns = 1700000003000000000;
  return v;
}

VerifyRecord ModifiedVerify() {
  VerifyRecord v;
  v.state = EntryState::kModified;
  v.last_verified_ns = 10;
  v.last_checked_ns = 20;
  v.first_reading = HashBytes(HashAlgorithm::kSha256, "first");
  v.second_reading = HashBytes(HashAlgorithm::kSha256, "second");
  v.observed_size = 99;
  v.detail = "both readings differ";
  return v;
}

VerifyRecord UnreadableVerify() {
  VerifyRecord v;
  v.state = EntryState::kUnreadable;
  v.last_verified_ns = std::numeric_limits<int64_t>::min();
  v.last_checked_ns = std::numeric_limits<int64_t>::max();
  v.observed_size = std::numeric_limits<uint64_t>::max();
  v.detail = std::string("open: Permission denied\0\xff", 25);
  return v;
}

VerifyRecord MissingVerify() {
  VerifyRecord v;
  v.state = EntryState::kMissing;
  v.last_verified_ns = 1;
  v.last_checked_ns = 2;
  return v;
}

std::vector<EntryRecord> AllEntries() {
  std::vector<EntryRecord> out = {FileRecord(), SymlinkRecord(), OtherRecord()};
  // Every algorithm, and extreme integers.
  for (int a = 1; a <= 7; ++a) {
    EntryRecord r = FileRecord();
    r.digest = HashBytes(static_cast<HashAlgorithm>(a), "x");
    r.size = std::numeric_limits<uint64_t>::max();
    r.mtime_ns = a % 2 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
    r.first_seen_ns = -(r.mtime_ns / 2);
    out.push_back(r);
  }
  EntryRecord empty_file = FileRecord();
  empty_file.size = 0;
  empty_file.digest = HashBytes(HashAlgorithm::kXxh3_128, "");
  out.push_back(empty_file);
  EntryRecord empty_link = SymlinkRecord();
  empty_link.link_target.clear();
  empty_link.size = 0;
  out.push_back(empty_link);
  // Files with a content sample (version 2), at the ends of the ranges.
  EntryRecord sampled = FileRecord();
  sampled.sample = {FileFormat::kPdf, 75};
  out.push_back(sampled);
  sampled.sample = {FileFormat::kUnknown, 128};
  out.push_back(sampled);
  sampled.sample = {FileFormat::kXml, 0};
  out.push_back(sampled);
  return out;
}

std::vector<VerifyRecord> AllVerifies() {
  return {OkVerify(), ModifiedVerify(), UnreadableVerify(), MissingVerify(), VerifyRecord()};
}

// A record codec's refusals, for the entry and the verify record alike:
// every strict prefix of an encoding, and an encoding followed by any of
// `extras`, is DataLoss.
template <typename Record>
void ExpectEveryTruncationIsDataLoss(const std::vector<Record>& records,
                                     void (*encode)(const Record&, std::string*),
                                     Status (*decode)(std::string_view, Record*)) {
  for (const Record& r : records) {
    std::string enc;
    encode(r, &enc);
    for (size_t n = 0; n < enc.size(); ++n) {
      Record back;
      Status s = decode(std::string_view(enc).substr(0, n), &back);
      EXPECT_TRUE(absl::IsDataLoss(s)) << "prefix " << n << " of " << ToHex(enc) << ": " << s;
    }
  }
}

template <typename Record>
void ExpectTrailingBytesAreDataLoss(const std::vector<Record>& records,
                                    void (*encode)(const Record&, std::string*),
                                    Status (*decode)(std::string_view, Record*),
                                    std::initializer_list<std::string_view> extras) {
  for (const Record& r : records) {
    std::string enc;
    encode(r, &enc);
    for (std::string_view extra : extras) {
      Record back;
      Status s = decode(enc + std::string(extra), &back);
      EXPECT_TRUE(absl::IsDataLoss(s)) << ToHex(enc) << " + " << ToHex(extra) << ": " << s;
    }
  }
}

// `enc` with its byte at `at` replaced by each of `values` is DataLoss;
// `what` names that byte in a failure.
template <typename Record>
void ExpectByteRefused(const std::string& enc, size_t at, std::initializer_list<char> values,
                       Status (*decode)(std::string_view, Record*), const char* what) {
  for (char value : values) {
    std::string bad = enc;
    bad[at] = value;
    Record back;
    EXPECT_TRUE(absl::IsDataLoss(decode(bad, &back))) << what << " " << int(value);
  }
}

TEST(EntryRecordCodec, RoundTrips) {
  for (const EntryRecord& r : AllEntries()) {
    std::string enc;
    EncodeEntryRecord(r, &enc);
    EntryRecord back;
    back.link_target = "stale";  // the decoder must overwrite every field
    ASSERT_TRUE(DecodeEntryRecord(enc, &back).ok()) << ToHex(enc);
    EXPECT_EQ(back, r) << ToHex(enc);
  }
}

TEST(EntryRecordCodec, GoldenFileEncoding) {
  // version 1, type 1, size 300 = varint ac 02, mtime 1 -> zigzag 2,
  // first seen -1 -> zigzag 1, digest: algorithm 5 (md5) + 16 bytes.
  EntryRecord r;
  r.type = EntryType::kFile;
  r.size = 300;
  r.mtime_ns = 1;
  r.first_seen_ns = -1;
  r.digest = *Digest::FromHex(HashAlgorithm::kMd5, "900150983cd24fb0d6963f7d28e17f72");
  std::string enc;
  EncodeEntryRecord(r, &enc);
  EXPECT_EQ(ToHex(enc),
            "0101"
            "ac02"
            "02"
            "01"
            "05"
            "900150983cd24fb0d6963f7d28e17f72");
}

TEST(EntryRecordCodec, SampledFileGoldenEncoding) {
  // A file with a content sample is version 2, its format and entropy
  // bytes after the digest; the same file without one stays version 1.
  EntryRecord r;
  r.type = EntryType::kFile;
  r.size = 300;
  r.mtime_ns = 1;
  r.first_seen_ns = -1;
  r.digest = *Digest::FromHex(HashAlgorithm::kMd5, "900150983cd24fb0d6963f7d28e17f72");
  r.sample = {FileFormat::kPdf, 0x4b};
  std::string enc;
  EncodeEntryRecord(r, &enc);
  EXPECT_EQ(ToHex(enc),
            "0201"
            "ac02"
            "02"
            "01"
            "05"
            "900150983cd24fb0d6963f7d28e17f72"
            "024b");
  r.sample = {};
  EncodeEntryRecord(r, &enc);
  EXPECT_EQ(ToHex(enc).substr(0, 4), "0101");
}

TEST(EntryRecordCodec, SampleOfANonFileIsNeitherWrittenNorAccepted) {
  EntryRecord link = SymlinkRecord();
  link.sample = {FileFormat::kPdf, 10};
  std::string enc;
  EncodeEntryRecord(link, &enc);
  EXPECT_EQ(enc[0], '\x01');
  EntryRecord back;
  ASSERT_TRUE(DecodeEntryRecord(enc, &back).ok());
  EXPECT_FALSE(back.sample.sampled());
  enc[0] = '\x02';
  enc += "\x02\x0a";
  EXPECT_TRUE(absl::IsDataLoss(DecodeEntryRecord(enc, &back)));
}

TEST(EntryRecordCodec, SampleOutOfRangeIsDataLoss) {
  EntryRecord r = FileRecord();
  r.sample = {FileFormat::kPdf, 10};
  std::string enc;
  EncodeEntryRecord(r, &enc);
  EntryRecord back;
  ASSERT_TRUE(DecodeEntryRecord(enc, &back).ok());
  ExpectByteRefused(enc, enc.size() - 2, {'\0'}, DecodeEntryRecord, "sample format");
  ExpectByteRefused(enc, enc.size() - 1, {'\x81', '\xff'}, DecodeEntryRecord, "entropy");
}

TEST(EntryRecordCodec, EncodeClearsTheOutput) {
  std::string enc = "leftover";
  EncodeEntryRecord(OtherRecord(), &enc);
  EntryRecord back;
  EXPECT_TRUE(DecodeEntryRecord(enc, &back).ok());
}

TEST(EntryRecordCodec, SymlinkKeepsItsTargetBytes) {
  std::string enc;
  EncodeEntryRecord(SymlinkRecord(), &enc);
  EntryRecord back;
  ASSERT_TRUE(DecodeEntryRecord(enc, &back).ok());
  EXPECT_EQ(back.type, EntryType::kSymlink);
  EXPECT_EQ(back.link_target, std::string("../target\0with\xffnul", 18));
}

TEST(EntryRecordCodec, EveryTruncationIsDataLoss) {
  ExpectEveryTruncationIsDataLoss(AllEntries(), EncodeEntryRecord, DecodeEntryRecord);
}

TEST(EntryRecordCodec, TrailingBytesAreDataLoss) {
  ExpectTrailingBytesAreDataLoss(
      AllEntries(), EncodeEntryRecord, DecodeEntryRecord,
      {std::string_view("\0", 1), std::string_view("x"), std::string_view("\xff\xff")});
}

TEST(EntryRecordCodec, UnknownVersionTypeOrAlgorithmIsDataLoss) {
  std::string enc;
  EncodeEntryRecord(FileRecord(), &enc);
  EntryRecord back;
  ASSERT_TRUE(DecodeEntryRecord(enc, &back).ok());
  ExpectByteRefused(enc, 0, {'\0', '\x02', '\xff'}, DecodeEntryRecord, "version");
  ExpectByteRefused(enc, 1, {'\0', '\x04', '\x7f', '\xff'}, DecodeEntryRecord, "type");
  // The algorithm byte follows version, type and three varints. FileRecord's
  // varints: find the algorithm byte by encoding a record with known lengths.
  EntryRecord small = FileRecord();
  small.size = 1;
  small.mtime_ns = 0;
  small.first_seen_ns = 0;
  EncodeEntryRecord(small, &enc);
  ASSERT_EQ(enc[5], static_cast<char>(HashAlgorithm::kXxh3_128));
  ExpectByteRefused(enc, 5, {'\x08', '\x7f', '\xff'}, DecodeEntryRecord, "algorithm");
}

TEST(EntryRecordCodec, OverlongVarintIsDataLoss) {
  // size = eleven continuation bytes.
  std::string bad = std::string("\x01\x01", 2) + std::string(11, '\x80') + "\x00";
  EntryRecord back;
  EXPECT_TRUE(absl::IsDataLoss(DecodeEntryRecord(bad, &back)));
  // A tenth byte above 1 overflows 64 bits.
  bad = std::string("\x01\x01", 2) + std::string(9, '\xff') + "\x02" + std::string(3, '\0');
  EXPECT_TRUE(absl::IsDataLoss(DecodeEntryRecord(bad, &back)));
}

TEST(EntryRecordCodec, SymlinkLengthBeyondTheInputIsDataLoss) {
  std::string enc;
  EncodeEntryRecord(SymlinkRecord(), &enc);
  // The link target is last: its varint length is at enc.size() - 18 - 1.
  size_t len_at = enc.size() - 18 - 1;
  ASSERT_EQ(static_cast<uint8_t>(enc[len_at]), 18);
  std::string bad = enc;
  bad[len_at] = 19;
  EntryRecord back;
  EXPECT_TRUE(absl::IsDataLoss(DecodeEntryRecord(bad, &back)));
  bad[len_at] = '\x7f';
  EXPECT_TRUE(absl::IsDataLoss(DecodeEntryRecord(bad, &back)));
}

TEST(VerifyRecordCodec, RoundTrips) {
  for (const VerifyRecord& v : AllVerifies()) {
    std::string enc;
    EncodeVerifyRecord(v, &enc);
    VerifyRecord back = ModifiedVerify();  // must be overwritten
    ASSERT_TRUE(DecodeVerifyRecord(enc, &back).ok()) << ToHex(enc);
    EXPECT_EQ(back, v) << ToHex(enc);
  }
}

TEST(VerifyRecordCodec, HealthyRecordsAreTiny) {
  std::string enc;
  EncodeVerifyRecord(OkVerify(), &enc);
  EXPECT_LE(enc.size(), 2u + 2 * 10);
  VerifyRecord v;
  v.last_verified_ns = 1;
  v.last_checked_ns = -1;
  EncodeVerifyRecord(v, &enc);
  EXPECT_EQ(ToHex(enc),
            "0100"
            "02"
            "01");
}

TEST(VerifyRecordCodec, ProblemStatesKeepTheirEvidence) {
  std::string enc;
  EncodeVerifyRecord(ModifiedVerify(), &enc);
  VerifyRecord back;
  ASSERT_TRUE(DecodeVerifyRecord(enc, &back).ok());
  EXPECT_EQ(back.state, EntryState::kModified);
  EXPECT_EQ(back.first_reading, HashBytes(HashAlgorithm::kSha256, "first"));
  EXPECT_EQ(back.second_reading, HashBytes(HashAlgorithm::kSha256, "second"));
  EXPECT_EQ(back.observed_size, 99u);
  EXPECT_EQ(back.detail, "both readings differ");
}

TEST(VerifyRecordCodec, EveryTruncationIsDataLoss) {
  ExpectEveryTruncationIsDataLoss(AllVerifies(), EncodeVerifyRecord, DecodeVerifyRecord);
}

TEST(VerifyRecordCodec, TrailingBytesAreDataLoss) {
  ExpectTrailingBytesAreDataLoss(AllVerifies(), EncodeVerifyRecord, DecodeVerifyRecord,
                                 {std::string_view("\0", 1)});
}

TEST(VerifyRecordCodec, UnknownVersionStateOrAlgorithmIsDataLoss) {
  std::string enc;
  EncodeVerifyRecord(ModifiedVerify(), &enc);
  VerifyRecord back;
  ASSERT_TRUE(DecodeVerifyRecord(enc, &back).ok());
  ExpectByteRefused(enc, 0, {'\0', '\x02', '\xff'}, DecodeVerifyRecord, "version");
  ExpectByteRefused(enc, 1, {'\x04', '\x05', '\xff'}, DecodeVerifyRecord, "state");
  // last_verified 10 -> zigzag 20 (1 byte), last_checked 20 -> 40 (1 byte):
  // the first reading's algorithm byte is at offset 4.
  ASSERT_EQ(enc[4], static_cast<char>(HashAlgorithm::kSha256));
  ExpectByteRefused(enc, 4, {'\x08', '\x80', '\xff'}, DecodeVerifyRecord, "algorithm");
}

TEST(EntryNames, TypeAndStateNames) {
  EXPECT_EQ(EntryTypeName(EntryType::kFile), "file");
  EXPECT_EQ(EntryTypeName(EntryType::kSymlink), "symlink");
  EXPECT_EQ(EntryTypeName(EntryType::kOther), "other");
  EXPECT_EQ(EntryStateName(EntryState::kOk), "ok");
  EXPECT_EQ(EntryStateName(EntryState::kModified), "modified");
  EXPECT_EQ(EntryStateName(EntryState::kMissing), "missing");
  EXPECT_EQ(EntryStateName(EntryState::kUnreadable), "unreadable");
  // Persisted numbers.
  EXPECT_EQ(static_cast<int>(EntryType::kFile), 1);
  EXPECT_EQ(static_cast<int>(EntryType::kSymlink), 2);
  EXPECT_EQ(static_cast<int>(EntryType::kOther), 3);
  EXPECT_EQ(static_cast<int>(EntryState::kOk), 0);
  EXPECT_EQ(static_cast<int>(EntryState::kModified), 1);
  EXPECT_EQ(static_cast<int>(EntryState::kMissing), 2);
  EXPECT_EQ(static_cast<int>(EntryState::kUnreadable), 3);
}

}  // namespace
}  // namespace vigil::storage
