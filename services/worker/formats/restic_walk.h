// The structure check of a restic repository: what `restic check` does in
// "check snapshots, trees and blobs". Every snapshot's tree graph is walked
// from its root tree; each tree blob is read (MAC, decompression, SHA-256 =
// id) and decoded once, however many snapshots share it; its file nodes'
// data blobs are looked up in the index, its directories followed.
//
// Errors (Findings; `file` = "snapshots/<id>" of the first snapshot that
// needs it, `path` = the path in that snapshot, "/" for its root tree):
//   missing_tree      a tree blob in no index
//   tree_unavailable  a tree blob indexed only in packs that are missing or
//                     damaged (BlobIndex::Unusable says why)
//   tree_unreadable   a tree blob that does not read, decrypt, decompress or
//                     hash to its id
//   bad_tree          a tree blob that reads but is not a valid tree
//   missing_blob      a file whose data blobs (some) are in no index
//   blob_unavailable  a file whose data blobs (some) are only in packs that
//                     are missing or damaged
//   snapshot_incomplete  a snapshot that needs a tree found incomplete while
//                     walking an earlier snapshot (each affected snapshot
//                     is named, once)
// As restic check does, a file's size is not compared with its blobs' (see
// restic issue #1887); restore drills do compare them.
//
// Memory: a mark per distinct tree (its id and state), the decoded tree
// being looked at, and the subdirectory ids of the trees on the current
// path. Not a byte per file.
//
// Users: restic_verify.cc (VerifyRestic with a password). Thread safety:
// one call at a time per PackReader; the BlobIndex is only read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "services/worker/formats/finding.h"
#include "services/worker/formats/restic_parse.h"
#include "services/worker/formats/restic_repo.h"

namespace vigil::formats {

struct ResticWalkStats {
  uint64_t trees = 0;      // distinct trees decoded
  uint64_t files = 0;      // file nodes in them
  uint64_t data_refs = 0;  // data blob references looked up
  // Snapshots (hex ids, in the order walked) that cannot be fully restored:
  // some tree or data blob they need is missing, unavailable or unreadable.
  std::vector<std::string> incomplete_snapshots;
};

// `index_complete`: every index file was decoded (otherwise "in no index"
// reads "in no readable index").
void WalkResticSnapshots(const std::vector<restic::Snapshot>& snapshots,
                         const restic::BlobIndex& index, restic::PackReader* reader,
                         bool index_complete, Findings* out, ResticWalkStats* stats);

}  // namespace vigil::formats
