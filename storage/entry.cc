#include "storage/entry.h"

#include "base/name_table.h"
#include "storage/varint.h"

namespace vigil::storage {

using internal::GetBytes;
using internal::GetVarint64;
using internal::PutBytes;
using internal::PutVarint64;
using internal::UnZigZag;
using internal::ZigZag;

namespace {
constexpr NameRow<EntryType> kEntryTypeNames[] = {
    {EntryType::kFile, "file"}, {EntryType::kSymlink, "symlink"}, {EntryType::kOther, "other"}};
static_assert(CoversEnum(kEntryTypeNames, 1));
constexpr NameRow<EntryState> kEntryStateNames[] = {{EntryState::kOk, "ok"},
                                                    {EntryState::kModified, "modified"},
                                                    {EntryState::kMissing, "missing"},
                                                    {EntryState::kUnreadable, "unreadable"}};
static_assert(CoversEnum(kEntryStateNames));
}  // namespace

std::string_view EntryTypeName(EntryType t) { return NameOf(kEntryTypeNames, t, "unknown"); }

std::string_view EntryStateName(EntryState s) { return NameOf(kEntryStateNames, s, "unknown"); }

namespace {

// Version 1: no content sample. Version 2: a file whose record carries a
// sample, its two bytes (format, entropy) after the digest. Records without
// a sample are still written as version 1, so older readers of a catalogue
// whose files were never sampled see nothing new.
constexpr char kEntryVersion = 1;
constexpr char kEntryVersionSampled = 2;
constexpr char kVerifyVersion = 1;

void PutDigest(std::string* out, const Digest& d) {
  if (d.empty()) {
    out->push_back('\0');
    return;
  }
  out->push_back(static_cast<char>(d.algorithm()));
  out->append(d.view());
}

bool GetDigest(std::string_view* in, Digest* d) {
  if (in->empty()) return false;
  uint8_t a = static_cast<uint8_t>(in->front());
  in->remove_prefix(1);
  if (a == 0) {
    *d = Digest();
    return true;
  }
  if (!IsKnownAlgorithm(a)) return false;
  auto alg = static_cast<HashAlgorithm>(a);
  size_t n = DigestSize(alg);
  if (in->size() < n) return false;
  *d = Digest(alg, {reinterpret_cast<const uint8_t*>(in->data()), n});
  in->remove_prefix(n);
  return true;
}

Status Corrupt(std::string_view what) {
  return absl::DataLossError(std::string("corrupt ") + std::string(what) + " record");
}

}  // namespace

void EncodeEntryRecord(const EntryRecord& r, std::string* out) {
  out->clear();
  const bool sampled = r.type == EntryType::kFile && r.sample.sampled();
  out->push_back(sampled ? kEntryVersionSampled : kEntryVersion);
  out->push_back(static_cast<char>(r.type));
  PutVarint64(out, r.size);
  PutVarint64(out, ZigZag(r.mtime_ns));
  PutVarint64(out, ZigZag(r.first_seen_ns));
  PutDigest(out, r.digest);
  if (r.type == EntryType::kSymlink) PutBytes(out, r.link_target);
  if (sampled) {
    out->push_back(static_cast<char>(r.sample.format));
    out->push_back(static_cast<char>(r.sample.entropy));
  }
}

Status DecodeEntryRecord(std::string_view in, EntryRecord* r) {
  if (in.size() < 2 || (in[0] != kEntryVersion && in[0] != kEntryVersionSampled)) {
    return Corrupt("entry (version)");
  }
  const bool sampled = in[0] == kEntryVersionSampled;
  uint8_t t = static_cast<uint8_t>(in[1]);
  if (t < 1 || t > 3) return Corrupt("entry (type)");
  if (sampled && t != static_cast<uint8_t>(EntryType::kFile)) return Corrupt("entry (sample)");
  in.remove_prefix(2);
  r->type = static_cast<EntryType>(t);
  uint64_t mt, fs;
  if (!GetVarint64(&in, &r->size) || !GetVarint64(&in, &mt) || !GetVarint64(&in, &fs) ||
      !GetDigest(&in, &r->digest)) {
    return Corrupt("entry");
  }
  r->mtime_ns = UnZigZag(mt);
  r->first_seen_ns = UnZigZag(fs);
  r->link_target.clear();
  if (r->type == EntryType::kSymlink) {
    std::string_view target;
    if (!GetBytes(&in, &target)) return Corrupt("entry (link)");
    r->link_target.assign(target);
  }
  r->sample = ContentSample();
  if (sampled) {
    if (in.size() < 2) return Corrupt("entry (sample)");
    const uint8_t format = static_cast<uint8_t>(in[0]);
    const uint8_t entropy = static_cast<uint8_t>(in[1]);
    // A sampled record names a format (not kNotSampled); entropy <= 128.
    if (format == 0 || entropy > 128) return Corrupt("entry (sample)");
    r->sample.format = static_cast<FileFormat>(format);
    r->sample.entropy = entropy;
    in.remove_prefix(2);
  }
  if (!in.empty()) return Corrupt("entry (trailing bytes)");
  return absl::OkStatus();
}

void EncodeVerifyRecord(const VerifyRecord& r, std::string* out) {
  out->clear();
  out->push_back(kVerifyVersion);
  out->push_back(static_cast<char>(r.state));
  PutVarint64(out, ZigZag(r.last_verified_ns));
  PutVarint64(out, ZigZag(r.last_checked_ns));
  if (r.state == EntryState::kOk) return;  // healthy entries stay tiny
  PutDigest(out, r.first_reading);
  PutDigest(out, r.second_reading);
  PutVarint64(out, r.observed_size);
  PutBytes(out, r.detail);
}

Status DecodeVerifyRecord(std::string_view in, VerifyRecord* r) {
  if (in.size() < 2 || in[0] != kVerifyVersion) return Corrupt("verify (version)");
  uint8_t s = static_cast<uint8_t>(in[1]);
  if (s > 3) return Corrupt("verify (state)");
  in.remove_prefix(2);
  *r = VerifyRecord();
  r->state = static_cast<EntryState>(s);
  uint64_t lv, lc;
  if (!GetVarint64(&in, &lv) || !GetVarint64(&in, &lc)) return Corrupt("verify");
  r->last_verified_ns = UnZigZag(lv);
  r->last_checked_ns = UnZigZag(lc);
  if (r->state != EntryState::kOk) {
    std::string_view detail;
    if (!GetDigest(&in, &r->first_reading) || !GetDigest(&in, &r->second_reading) ||
        !GetVarint64(&in, &r->observed_size) || !GetBytes(&in, &detail)) {
      return Corrupt("verify (evidence)");
    }
    r->detail.assign(detail);
  }
  if (!in.empty()) return Corrupt("verify (trailing bytes)");
  return absl::OkStatus();
}

}  // namespace vigil::storage
