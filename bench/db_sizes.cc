// vigil_db_sizes DIR: what each keyspace of a closed Vigil database holds,
// by RocksDB's own estimates (keys, counting deleted ones not compacted away
// yet; live data bytes in SST files), one line per keyspace:
//   SPACE KEYS LIVE_BYTES
// and a line "catalogue KEYS LIVE_BYTES" summing the keyspaces that hold the
// catalogue (catalogue, verified, hash_index, versions). bench/growth/run
// calls it after each check. Opens the database for writing (a format-1
// database gains the empty keyspaces of format 2, nothing else changes): do
// not point it at a database in use.
#include <cstdio>
#include <string>

#include "storage/kv.h"
#include "storage/rocks_kv.h"

int main(int argc, char** argv) {
  using namespace vigil::storage;
  if (argc != 2 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr, "usage: vigil_db_sizes DIR\n");
    return 2;
  }
  RocksKvOptions o;
  o.create_if_missing = false;
  auto kv = OpenRocksKv(argv[1], o);
  if (!kv.ok()) {
    std::fprintf(stderr, "vigil_db_sizes: %s\n", std::string(kv.status().message()).c_str());
    return 1;
  }
  uint64_t keys = 0, bytes = 0;
  for (int i = 0; i < kNumSpaces; ++i) {
    const auto space = static_cast<Space>(i);
    auto e = EstimateRocksKv(kv->get(), space);
    if (!e.ok()) {
      std::fprintf(stderr, "vigil_db_sizes: %s\n", std::string(e.status().message()).c_str());
      return 1;
    }
    std::printf("%s %llu %llu\n", std::string(SpaceName(space)).c_str(),
                static_cast<unsigned long long>(e->keys),
                static_cast<unsigned long long>(e->live_data_bytes));
    if (space == Space::kCatalogue || space == Space::kVerified || space == Space::kHashIndex ||
        space == Space::kVersions) {
      keys += e->keys;
      bytes += e->live_data_bytes;
    }
  }
  std::printf("catalogue %llu %llu\n", static_cast<unsigned long long>(keys),
              static_cast<unsigned long long>(bytes));
  return 0;
}
