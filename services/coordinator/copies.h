// Do two copies of an asset hold the same content? Compared through the
// catalogue, never by re-reading the backups.
#pragma once

#include <string>

#include "services/contracts/evaluate.h"
#include "storage/catalogue.h"

namespace vigil::coordinator {

// Compares restore point `point_a` of backup set `a` (the primary) with
// `point_b` of `b` (a copy): a merge-join of the two points' entries in key
// order, then, for the entries of `a` whose path is not in `b`, a probe of
// the hash index for the same (algorithm, digest) anywhere in that point of
// `b` (a copy may be laid out differently). Bounded memory.
//
//   kDisagree        an entry with the same path, size and mtime on both
//                    sides, same algorithm, different digest: one side's
//                    bytes changed after they were written;
//   kAgree           every regular file of `a` found in `b` with an equal
//                    digest (by path or through the hash index);
//   kNotEstablished  otherwise, said why: the copies use different
//                    algorithms (only presence and size compared: digests
//                    of two algorithms are never compared, and an entry of
//                    `a` the hash index does not find in `b` under its
//                    algorithm is not called missing when `b` holds files
//                    under another), entries
//                    changed between the two backups (size or mtime differ),
//                    or entries of `a` are missing in `b`.
storage::StatusOr<contracts::CopyAgreement> CompareCopies(storage::Catalogue& cat,
                                                          const std::string& tenant,
                                                          const std::string& a, int64_t point_a,
                                                          const std::string& b, int64_t point_b);

}  // namespace vigil::coordinator
