#include "services/proofs/check_log.h"

#include <algorithm>

#include "storage/hash.h"
#include "storage/hex.h"
#include "storage/key_codec.h"

namespace vigil::check_log {

namespace {

using storage::KvStore;
using storage::Space;
using storage::Status;
using storage::StatusOr;

constexpr std::string_view kLogPrefix = "log/";
constexpr std::string_view kHeadPrefix = "head/";
constexpr uint8_t kVersion = 1;

void PutBE(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

bool GetBE(std::string_view* in, int bytes, uint64_t* v) {
  if (in->size() < static_cast<size_t>(bytes)) return false;
  *v = 0;
  for (int i = 0; i < bytes; ++i) *v = *v << 8 | static_cast<uint8_t>((*in)[i]);
  in->remove_prefix(bytes);
  return true;
}

std::string TenantPrefix(std::string_view prefix, std::string_view tenant) {
  std::string k(prefix);
  storage::AppendString(&k, tenant);
  return k;
}

// Decodes one Str() from the front of *in (key_codec.h); false if malformed.
bool TakeString(std::string_view* in, std::string* out) {
  out->clear();
  for (size_t i = 0; i + 1 < in->size(); ++i) {
    if ((*in)[i] != '\0') {
      out->push_back((*in)[i]);
      continue;
    }
    char next = (*in)[i + 1];
    if (next == '\x01') {
      in->remove_prefix(i + 2);
      return true;
    }
    if (next != '\xff') return false;
    out->push_back('\0');
    ++i;
  }
  return false;
}

Status DecodeHead(std::string_view v, LogHead* h) {
  if (v.size() != 8 + 32 || !GetBE(&v, 8, &h->seq)) {
    return absl::DataLossError("check log head record has " + std::to_string(v.size()) +
                               " bytes, not 40");
  }
  std::copy(v.begin(), v.end(), h->hash.begin());
  return absl::OkStatus();
}

Status Broken(std::string_view tenant, uint64_t seq, const std::string& why) {
  return absl::DataLossError("check log of tenant " + std::string(tenant) + " broken at seq " +
                             std::to_string(seq) + ": " + why);
}

}  // namespace

std::string LogKey(std::string_view tenant, uint64_t seq) {
  std::string k = TenantPrefix(kLogPrefix, tenant);
  PutBE(&k, seq, 8);
  return k;
}

std::string HeadKey(std::string_view tenant) { return TenantPrefix(kHeadPrefix, tenant); }

std::string EncodeRecord(const LogRecord& r) {
  std::string out;
  out.reserve(1 + 4 + r.tenant.size() + 8 + 8 + 32 + 4 + r.payload.size());
  out.push_back(static_cast<char>(kVersion));
  PutBE(&out, r.tenant.size(), 4);
  out.append(r.tenant);
  PutBE(&out, r.seq, 8);
  PutBE(&out, static_cast<uint64_t>(r.at_ns), 8);
  out.append(reinterpret_cast<const char*>(r.prev_hash.data()), r.prev_hash.size());
  PutBE(&out, r.payload.size(), 4);
  out.append(r.payload);
  return out;
}

Status DecodeRecord(std::string_view in, LogRecord* r) {
  auto bad = [](const std::string& why) { return absl::DataLossError("check log record: " + why); };
  uint64_t version = 0, len = 0, at = 0;
  if (!GetBE(&in, 1, &version)) return bad("empty");
  if (version != kVersion) return bad("unknown version " + std::to_string(version));
  if (!GetBE(&in, 4, &len) || in.size() < len) return bad("truncated tenant");
  r->tenant.assign(in.substr(0, len));
  in.remove_prefix(len);
  if (!GetBE(&in, 8, &r->seq)) return bad("truncated seq");
  if (!GetBE(&in, 8, &at)) return bad("truncated time");
  r->at_ns = static_cast<int64_t>(at);
  if (in.size() < 32) return bad("truncated prev_hash");
  std::copy(in.begin(), in.begin() + 32, r->prev_hash.begin());
  in.remove_prefix(32);
  if (!GetBE(&in, 4, &len) || in.size() < len) return bad("truncated payload");
  r->payload.assign(in.substr(0, len));
  in.remove_prefix(len);
  if (!in.empty()) return bad(std::to_string(in.size()) + " trailing bytes");
  return absl::OkStatus();
}

std::string EncodeHead(const LogHead& head) {
  std::string out;
  PutBE(&out, head.seq, 8);
  out.append(reinterpret_cast<const char*>(head.hash.data()), head.hash.size());
  return out;
}

Hash RecordHash(std::string_view record_bytes) {
  storage::Digest d = storage::HashBytes(storage::HashAlgorithm::kSha256, record_bytes);
  Hash h{};
  std::copy(d.bytes().begin(), d.bytes().end(), h.begin());
  return h;
}

std::string HashHex(const Hash& h) {
  return storage::HexEncode({reinterpret_cast<const char*>(h.data()), h.size()});
}

StatusOr<LogHead> Head(KvStore& kv, std::string_view tenant) {
  std::string v;
  Status s = kv.Get(Space::kResults, HeadKey(tenant), &v);
  if (absl::IsNotFound(s)) return LogHead{};
  if (!s.ok()) return s;
  LogHead h;
  if (Status d = DecodeHead(v, &h); !d.ok()) return d;
  return h;
}

Status Scan(KvStore& kv, std::string_view tenant,
            const std::function<bool(const LogRecord&, const Hash&)>& fn, uint64_t first_seq) {
  std::string prefix = TenantPrefix(kLogPrefix, tenant);
  storage::ScanOptions so;
  so.upper_bound = storage::PrefixSuccessor(prefix);
  auto it = kv.NewIterator(Space::kResults, so);
  LogRecord r;
  for (it->Seek(LogKey(tenant, first_seq)); it->Valid(); it->Next()) {
    std::string_view v = it->value();
    if (v.size() < 32) return absl::DataLossError("check log record shorter than its hash");
    if (Status s = DecodeRecord(v.substr(0, v.size() - 32), &r); !s.ok()) return s;
    Hash h{};
    std::copy(v.end() - 32, v.end(), h.begin());
    if (!fn(r, h)) break;
  }
  return it->status();
}

Status Verify(KvStore& kv, std::string_view tenant, LogHead* head_out) {
  std::string prefix = TenantPrefix(kLogPrefix, tenant);
  storage::ScanOptions so;
  so.upper_bound = storage::PrefixSuccessor(prefix);
  so.bulk = true;
  auto it = kv.NewIterator(Space::kResults, so);
  uint64_t expected = 1;
  Hash prev{};
  LogRecord r;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    std::string_view key = it->key().substr(prefix.size());
    uint64_t seq = 0;
    if (key.size() != 8 || !GetBE(&key, 8, &seq)) {
      return Broken(tenant, expected, "malformed key after seq " + std::to_string(expected - 1));
    }
    if (seq != expected) {
      return Broken(
          tenant, expected,
          "gap in seq: record missing (the next record is seq " + std::to_string(seq) + ")");
    }
    std::string_view v = it->value();
    if (v.size() < 32) return Broken(tenant, seq, "record shorter than its hash");
    std::string_view bytes = v.substr(0, v.size() - 32);
    Hash stored{};
    std::copy(v.end() - 32, v.end(), stored.begin());
    Hash computed = RecordHash(bytes);
    if (computed != stored) {
      return Broken(tenant, seq,
                    "hash mismatch: the record was altered (stored " + HashHex(stored) +
                        ", recomputed " + HashHex(computed) + ")");
    }
    if (Status s = DecodeRecord(bytes, &r); !s.ok()) {
      return Broken(tenant, seq, std::string(s.message()));
    }
    if (r.prev_hash != prev) {
      return Broken(tenant, seq,
                    "prev link broken: the record's prev_hash " + HashHex(r.prev_hash) +
                        " is not the hash of seq " + std::to_string(seq - 1) + " (" +
                        HashHex(prev) + "): records reordered, replaced or re-chained");
    }
    if (r.seq != seq || r.tenant != tenant) {
      return Broken(tenant, seq,
                    "record moved: it says tenant " + r.tenant + " seq " + std::to_string(r.seq));
    }
    prev = stored;
    ++expected;
  }
  if (Status s = it->status(); !s.ok()) return s;
  uint64_t last = expected - 1;

  std::string hv;
  Status s = kv.Get(Space::kResults, HeadKey(tenant), &hv);
  LogHead head;
  if (absl::IsNotFound(s)) {
    if (last != 0) return Broken(tenant, last, "head record missing");
  } else if (!s.ok()) {
    return s;
  } else {
    if (Status d = DecodeHead(hv, &head); !d.ok()) return Broken(tenant, last, "bad head record");
    if (head.seq > last) {
      return Broken(tenant, last + 1,
                    "gap in seq: the head says seq " + std::to_string(head.seq) +
                        " but the log ends at seq " + std::to_string(last) +
                        " (records deleted from the end)");
    }
    if (head.seq < last) {
      return Broken(tenant, head.seq + 1,
                    "record beyond the head (seq " + std::to_string(head.seq) + ")");
    }
    if (head.hash != prev) {
      return Broken(tenant, last, "hash mismatch: the head's hash is not the last record's");
    }
  }
  if (head_out != nullptr) *head_out = LogHead{last, prev};
  return absl::OkStatus();
}

StatusOr<std::vector<std::string>> Tenants(KvStore& kv) {
  std::vector<std::string> out;
  std::string prefix(kHeadPrefix), log_prefix(kLogPrefix);
  // A tenant whose head was deleted still has records: list both.
  for (const std::string& p : {prefix, log_prefix}) {
    storage::ScanOptions so;
    so.upper_bound = storage::PrefixSuccessor(p);
    auto it = kv.NewIterator(Space::kResults, so);
    it->Seek(p);
    while (it->Valid()) {
      std::string_view k = it->key().substr(p.size());
      std::string tenant;
      if (!TakeString(&k, &tenant)) {
        return absl::DataLossError("malformed check log key in keyspace results");
      }
      out.push_back(tenant);
      it->Seek(storage::PrefixSuccessor(TenantPrefix(p, tenant)));
    }
    if (Status s = it->status(); !s.ok()) return s;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace vigil::check_log
