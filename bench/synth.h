// Synthetic catalogue content shared by the benchmarks: a deterministic tree
// of N entries "dir0042/sub07/file000123.dat" in catalogue key order (1000
// directories of 10 sub-directories of 100 files per million entries), each
// with a deterministic size, mtime and XXH3-128-sized digest.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "storage/catalogue.h"
#include "storage/diff.h"
#include "storage/entry.h"
#include "storage/hash.h"

namespace vigil::bench {

inline constexpr int64_t kBaseTimeNs = 1'700'000'000'000'000'000;

inline uint64_t Mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Path of entry i: 100 files per sub-directory, 10 sub-directories per
// directory. Increasing i gives increasing catalogue key order.
inline size_t FormatPath(uint64_t i, char* buf, size_t cap) {
  int n = std::snprintf(buf, cap, "dir%04llu/sub%02llu/file%06llu.dat",
                        static_cast<unsigned long long>(i / 1000),
                        static_cast<unsigned long long>((i / 100) % 10),
                        static_cast<unsigned long long>(i % 1000000));
  return static_cast<size_t>(n);
}
inline std::string PathOf(uint64_t i) {
  char buf[64];
  return std::string(buf, FormatPath(i, buf, sizeof buf));
}

// The digest entry i was recorded with; `variant` != 0 gives a different one
// (a modified file).
inline storage::Digest DigestOf(uint64_t i, uint64_t variant = 0) {
  uint64_t w[2] = {Mix(i * 2 + variant * 0x1234567), Mix(i * 2 + 1 + variant * 0x1234567)};
  return storage::Digest(storage::HashAlgorithm::kXxh3_128,
                         {reinterpret_cast<const uint8_t*>(w), sizeof w});
}

inline uint64_t SizeOf(uint64_t i) { return 1024 + Mix(~i) % (8 << 20); }

inline void FillRecord(uint64_t i, storage::EntryRecord* r) {
  r->type = storage::EntryType::kFile;
  r->size = SizeOf(i);
  r->mtime_ns = kBaseTimeNs - static_cast<int64_t>(i) * 1000;
  r->digest = DigestOf(i);
  r->first_seen_ns = kBaseTimeNs;
}

// Observation of entry i as a re-verification would see it; every
// `modified_every`-th entry (0 = none) has different content.
inline void FillObservation(uint64_t i, uint64_t modified_every, storage::Observation* o) {
  o->type = storage::EntryType::kFile;
  o->size = SizeOf(i);
  o->mtime_ns = kBaseTimeNs - static_cast<int64_t>(i) * 1000;
  bool modified = modified_every != 0 && i % modified_every == modified_every / 2;
  o->digest = DigestOf(i, modified ? 1 : 0);
}

inline storage::Scope BenchScope() { return {"bench-tenant", "bench-set", kBaseTimeNs}; }

// A fresh directory under $VIGIL_BENCH_TMP (default /var/tmp), removed on
// destruction.
class TempDir {
 public:
  explicit TempDir(const char* tag) {
    const char* base = std::getenv("VIGIL_BENCH_TMP");
    std::string templ = std::string(base ? base : "/var/tmp") + "/vigil-bench-" + tag + "-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      std::perror("mkdtemp");
      std::exit(1);
    }
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// User + system CPU seconds of the whole process (all threads, RocksDB's
// background threads included).
inline double ProcessCpuSeconds() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

}  // namespace vigil::bench
