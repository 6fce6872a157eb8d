// vigil_db_sizes DIR: what each keyspace of a closed Vigil database holds,
// one line per keyspace:
//   SPACE KEYS LIVE_BYTES SST_BYTES
// KEYS and LIVE_BYTES are RocksDB's estimates (keys counting deleted ones
// not compacted away yet; live data, unreliable while data sits in level 0),
// SST_BYTES the exact size of the keyspace's SST files (what it costs on
// disk, deleted data not yet compacted away included); and a line
// "catalogue_total KEYS LIVE_BYTES SST_BYTES" summing the keyspaces that hold the
// catalogue (catalogue, verified, hash_index, versions). bench/growth/run
// calls it after each check. Opens the database read-only with the keyspaces
// it has, through RocksDB itself, so that it reads a database of any format
// and changes nothing (storage/rocks_kv.h's store would add the keyspaces a
// format-1 database lacks, which the format-1 code then refuses to open).
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr, "usage: vigil_db_sizes DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  rocksdb::DBOptions db_options;
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, dir, &names);
  if (!s.ok()) {
    std::fprintf(stderr, "vigil_db_sizes: %s\n", s.ToString().c_str());
    return 1;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const std::string& n : names) descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(db_options, dir, descs, &handles, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "vigil_db_sizes: %s\n", s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  uint64_t keys = 0, live = 0, sst = 0;
  for (size_t i = 0; i < handles.size(); ++i) {
    uint64_t k = 0, b = 0, f = 0;
    db->GetIntProperty(handles[i], "rocksdb.estimate-num-keys", &k);
    db->GetIntProperty(handles[i], "rocksdb.estimate-live-data-size", &b);
    db->GetIntProperty(handles[i], "rocksdb.total-sst-files-size", &f);
    const std::string name = names[i] == rocksdb::kDefaultColumnFamilyName ? "meta" : names[i];
    std::printf("%s %llu %llu %llu\n", name.c_str(), static_cast<unsigned long long>(k),
                static_cast<unsigned long long>(b), static_cast<unsigned long long>(f));
    if (name == "catalogue" || name == "verified" || name == "hash_index" || name == "versions") {
      keys += k;
      live += b;
      sst += f;
    }
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  std::printf("catalogue_total %llu %llu %llu\n", static_cast<unsigned long long>(keys),
              static_cast<unsigned long long>(live), static_cast<unsigned long long>(sst));
  return 0;
}
