#include "services/coordinator/copies.h"

#include "services/common/text.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using storage::Status;
using storage::StatusOr;

StatusOr<contracts::CopyAgreement> CompareCopies(storage::Catalogue& cat, const std::string& tenant,
                                                 const std::string& a, int64_t point_a,
                                                 const std::string& b, int64_t point_b) {
  contracts::CopyAgreement out;
  out.a = a;
  out.b = b;
  uint64_t other_alg = 0, changed = 0;
  std::string first_differing;
  // Files of `a` with no path in `b`: probed in the hash index afterwards
  // (a second pass over `a`, keeping memory bounded).
  bool any_unmatched_path = false;
  // The digest algorithms of b's files (bit per storage::HashAlgorithm):
  // an entry of a that the hash index does not find in b under a's
  // algorithm may be there under another (the sets' contentHash differ).
  uint32_t b_algs = 0;
  auto note_b = [&](const storage::EntryRecord& e) {
    if (e.type == storage::EntryType::kFile && !e.digest.empty()) {
      b_algs |= 1u << static_cast<uint8_t>(e.digest.algorithm());
    }
  };
  auto sa = cat.Scan({tenant, a, point_a});
  auto sb = cat.Scan({tenant, b, point_b});
  while (sa->Valid()) {
    const storage::EntryRecord& ea = sa->entry();
    if (ea.type != storage::EntryType::kFile || ea.digest.empty()) {
      sa->Next();
      continue;
    }
    // Encoded paths compare bytewise in key order.
    int c = sb->Valid() ? sb->encoded_path().compare(sa->encoded_path()) : 1;
    if (c < 0) {  // only in b
      note_b(sb->entry());
      sb->Next();
      continue;
    }
    if (c > 0) {  // only in a
      any_unmatched_path = true;
      sa->Next();
      continue;
    }
    const storage::EntryRecord& eb = sb->entry();
    note_b(eb);
    if (eb.digest.algorithm() != ea.digest.algorithm() || eb.digest.empty()) {
      ++other_alg;
      if (eb.size != ea.size) ++changed;
    } else if (eb.digest == ea.digest) {
      ++out.matched;
    } else if (eb.size == ea.size && eb.mtime_ns == ea.mtime_ns) {
      ++out.differing;
      if (first_differing.empty()) first_differing = sa->path();
    } else {
      ++changed;  // a newer version on one side: not a disagreement
    }
    sa->Next();
    sb->Next();
  }
  if (!sa->status().ok()) return sa->status();
  if (any_unmatched_path) {
    for (; sb->Valid(); sb->Next()) note_b(sb->entry());
  }
  if (!sb->status().ok()) return sb->status();

  if (any_unmatched_path) {
    const std::string want = storage::RestorePointPrefix(tenant, b, point_b);
    auto again = cat.Scan({tenant, a, point_a});
    auto sb2 = cat.Scan({tenant, b, point_b});
    for (; again->Valid(); again->Next()) {
      const storage::EntryRecord& ea = again->entry();
      if (ea.type != storage::EntryType::kFile || ea.digest.empty()) continue;
      while (sb2->Valid() && sb2->encoded_path().compare(again->encoded_path()) < 0) {
        sb2->Next();
      }
      if (sb2->Valid() && sb2->encoded_path().compare(again->encoded_path()) == 0) {
        continue;  // counted in the first pass
      }
      bool found = false;
      Status s = cat.ForEachHolder(ea.digest, [&](const storage::EntryKey& k) {
        if (k.tenant == tenant && k.backup_set == b && k.restore_point == point_b) found = true;
        return !found;
      });
      if (!s.ok()) return s;
      if (found) {
        ++out.matched;
      } else if ((b_algs & ~(1u << static_cast<uint8_t>(ea.digest.algorithm()))) != 0) {
        ++other_alg;  // b holds files under another algorithm: not comparable
      } else {
        ++out.missing_in_b;
      }
    }
    if (!again->status().ok()) return again->status();
  }

  if (out.differing > 0) {
    out.state = contracts::CopyAgreement::State::kDisagree;
    out.detail = "first: " + EscapeForTerminal(first_differing) + " (same size and mtime)";
  } else if (other_alg > 0) {
    out.state = contracts::CopyAgreement::State::kNotEstablished;
    out.detail = GroupDigits(other_alg) +
                 " entries hashed with different algorithms (the sets' contentHash differ): "
                 "presence and size only, content not compared" +
                 (changed > 0 ? ", " + GroupDigits(changed) + " sizes differ" : "") +
                 (out.missing_in_b > 0 ? "; " + GroupDigits(out.missing_in_b) + " entries of " + a +
                                             " not found in " + b
                                       : "");
  } else if (changed > 0 || out.missing_in_b > 0) {
    out.state = contracts::CopyAgreement::State::kNotEstablished;
    std::string d;
    if (changed > 0) d = GroupDigits(changed) + " entries changed between the two backups";
    if (out.missing_in_b > 0) {
      d += (d.empty() ? "" : "; ") + GroupDigits(out.missing_in_b) + " entries of " + a +
           " not found in " + b;
    }
    out.detail = d;
  } else if (out.matched == 0) {
    out.state = contracts::CopyAgreement::State::kNotEstablished;
    out.detail = "nothing to compare";
  } else {
    out.state = contracts::CopyAgreement::State::kAgree;
  }
  return out;
}

}  // namespace vigil::coordinator
