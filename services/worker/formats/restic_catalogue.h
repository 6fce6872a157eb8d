// What Vigil remembers of a restic repository between checks, in the
// catalogue (tenant "local" for `vigil verify`, backup set = the
// repository's absolute path, restore point 0): one entry per snapshot file
// ("snapshots/<id>") and per pack whose name check passed ("data/<id>"),
// with its size and SHA-256 (= its name).
//
// It lets a re-check skip packs already verified (immutable and
// content-named: an unchanged size and name mean the same bytes unless the
// disk rotted, which --read-data or a run without the catalogue finds), and
// notice what `restic check` cannot: a snapshot or pack that existed at the
// last check and is gone now (error `vanished_snapshot` / `vanished_pack`).
// The first check records a baseline; `accept` records the current state as
// the new baseline (after a legitimate `restic forget --prune`).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "services/worker/formats/restic.h"
#include "storage/catalogue.h"
#include "storage/status.h"

namespace vigil::formats {

struct ResticBaseline {
  bool first_run = false;  // nothing was recorded before
  uint64_t known_snapshots = 0;
  uint64_t known_packs = 0;
  uint64_t added = 0;     // entries recorded by this run
  uint64_t vanished = 0;  // gone since the last check
  uint64_t accepted = 0;  // vanished entries forgotten because of `accept`
};

// Packs recorded for `backup_set` (raw id -> size), for
// ResticOptions::known_packs.
storage::Status LoadKnownPacks(storage::Catalogue* cat, const std::string& backup_set,
                               std::unordered_map<std::string, uint64_t>* packs);

// Compares the report's snapshot files and packs with the catalogue, adds a
// `vanished_*` error per entry gone (unless `accept`, which forgets it), and
// records the present, name-checked files.
storage::Status ApplyResticBaseline(storage::Catalogue* cat, const std::string& backup_set,
                                    bool accept, ResticReport* report, ResticBaseline* out);

}  // namespace vigil::formats
