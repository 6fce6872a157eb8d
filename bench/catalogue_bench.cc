// Micro-benchmarks of the integrity core (storage/): key codec, record
// codec, ingest through Catalogue::Writer, catalogue scan, and the
// merge-join diff. Run by hand (not part of ctest), on quiet cores:
//
//   build/bin/vigil_catalogue_bench                      # everything
//   build/bin/vigil_catalogue_bench --benchmark_filter=Diff
//
// Catalogues live in fresh directories under $VIGIL_BENCH_TMP (default
// /var/tmp), on disk like a real catalogue. Figures to compare with the
// targets (see docs/BENCHMARKS.md): items_per_second of BM_Ingest (>= 1M
// entries/s) and of BM_Diff (>= 2M entries/s). `cpu_ns_per_item` counts the
// CPU time of the whole process (RocksDB background flushes and compactions
// included), so 1e9 / cpu_ns_per_item is the rate per core.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/synth.h"
#include "storage/catalogue.h"
#include "storage/content_sample.h"
#include "storage/diff.h"
#include "storage/entry.h"
#include "storage/key_codec.h"

namespace vigil::bench {
namespace {

using storage::Catalogue;

void Check(const storage::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

std::unique_ptr<Catalogue> OpenCatalogue(const std::string& dir) {
  auto cat = Catalogue::Open(dir);
  Check(cat.status(), "open catalogue");
  return std::move(*cat);
}

// Paths of entries [0, n), built once per n.
const std::vector<std::string>& Paths(uint64_t n) {
  static std::map<uint64_t, std::vector<std::string>> cache;
  auto& v = cache[n];
  if (v.empty()) {
    v.reserve(n);
    for (uint64_t i = 0; i < n; ++i) v.push_back(PathOf(i));
  }
  return v;
}

// Ingests entries [0, n) (and, if `verified`, a VerifyRecord for each, as
// after a first re-verification) into the catalogue.
void Populate(Catalogue* cat, uint64_t n, bool verified) {
  const auto& paths = Paths(n);
  Catalogue::Writer w(cat, BenchScope());
  storage::EntryRecord r;
  for (uint64_t i = 0; i < n; ++i) {
    FillRecord(i, &r);
    Check(w.PutEntry(paths[i], r), "PutEntry");
  }
  if (verified) {
    storage::VerifyRecord v;
    v.last_verified_ns = v.last_checked_ns = kBaseTimeNs + 1;
    for (uint64_t i = 0; i < n; ++i) Check(w.PutVerify(paths[i], v), "PutVerify");
  }
  Check(w.Commit(true), "Commit");
}

// A populated catalogue, built once per (n, verified) and reopened (so that
// its memtables are flushed to SST files, as for a catalogue opened by a new
// `vigil verify` run). Closed and removed by main() after the benchmarks:
// not by a static destructor, which could run after RocksDB's own.
struct Populated {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<Catalogue> cat;
};
std::map<std::pair<uint64_t, bool>, Populated>& Fixtures() {
  static auto* fixtures = new std::map<std::pair<uint64_t, bool>, Populated>();
  return *fixtures;
}
Catalogue& PopulatedCatalogue(uint64_t n, bool verified) {
  Populated& p = Fixtures()[{n, verified}];
  if (!p.cat) {
    p.dir = std::make_unique<TempDir>("fixture");
    p.cat = OpenCatalogue(p.dir->path());
    Populate(p.cat.get(), n, verified);
    p.cat.reset();
    p.cat = OpenCatalogue(p.dir->path());
  }
  return *p.cat;
}

void SetCpuCounter(benchmark::State& state, double cpu_seconds, uint64_t items) {
  state.counters["cpu_ns_per_item"] = cpu_seconds * 1e9 / static_cast<double>(items);
}

// --- key codec ---------------------------------------------------------------

std::vector<storage::EntryKey> SampleKeys() {
  std::vector<storage::EntryKey> keys;
  for (uint64_t i = 0; i < 4096; ++i) {
    keys.push_back({"bench-tenant", "bench-set", kBaseTimeNs, PathOf(i * 241)});
  }
  return keys;
}

void BM_EncodeEntryKey(benchmark::State& state) {
  auto keys = SampleKeys();
  size_t j = 0;
  for (auto _ : state) {
    std::string k = storage::EncodeEntryKey(keys[j++ & 4095]);
    benchmark::DoNotOptimize(k.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeEntryKey);

void BM_DecodeEntryKey(benchmark::State& state) {
  std::vector<std::string> encoded;
  for (const auto& k : SampleKeys()) encoded.push_back(storage::EncodeEntryKey(k));
  size_t j = 0;
  for (auto _ : state) {
    auto k = storage::DecodeEntryKey(encoded[j++ & 4095]);
    benchmark::DoNotOptimize(k->path.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeEntryKey);

// Neighbouring paths of a sorted listing, as the merge-join compares them:
// long common prefixes.
void BM_ComparePathOrder(benchmark::State& state) {
  const auto& paths = Paths(4097);
  size_t j = 0;
  for (auto _ : state) {
    size_t k = j++ & 4095;
    benchmark::DoNotOptimize(storage::ComparePathOrder(paths[k], paths[k + 1]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ComparePathOrder);

// What Scanner::path() does for every entry of a scan.
void BM_DecodePath(benchmark::State& state) {
  std::vector<std::string> encoded;
  for (const auto& k : SampleKeys()) encoded.push_back(storage::EncodePath(k.path));
  size_t j = 0;
  for (auto _ : state) {
    std::string p = storage::DecodePath(encoded[j++ & 4095]);
    benchmark::DoNotOptimize(p.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodePath);

// --- record codec ------------------------------------------------------------

void BM_EncodeEntryRecord(benchmark::State& state) {
  storage::EntryRecord r;
  FillRecord(42, &r);
  std::string out;
  for (auto _ : state) {
    storage::EncodeEntryRecord(r, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeEntryRecord);

void BM_DecodeEntryRecord(benchmark::State& state) {
  storage::EntryRecord r;
  FillRecord(42, &r);
  std::string in;
  storage::EncodeEntryRecord(r, &in);
  for (auto _ : state) {
    Check(storage::DecodeEntryRecord(in, &r), "decode");
    benchmark::DoNotOptimize(r.size);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeEntryRecord);

// --- content sample (issue 19) -----------------------------------------------

// The content sample's CPU per file, as FileHasher takes it: Start, one Feed
// of the file's read buffer (arg 0: file bytes; files of set B are 1-8 KiB,
// a file over 8 KiB costs what 8 KiB costs), Finish. Random bytes: every
// histogram entry in use, the worst case for the entropy sum.
void BM_ContentSample(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> data(size);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (auto& b : data) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<uint8_t>(x >> 24);
  }
  storage::ContentSampler sampler;
  for (auto _ : state) {
    sampler.Start(size);
    sampler.Feed(0, data);
    storage::ContentSample s = sampler.Finish();
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * std::min<size_t>(size, 8192)));
}
BENCHMARK(BM_ContentSample)->Arg(1024)->Arg(4608)->Arg(8192)->Arg(1 << 20);

// --- ingest ------------------------------------------------------------------

// Entries/s through Catalogue::Writer::PutEntry into a fresh catalogue, in
// key order (as a baseline pass writes them), including the final
// Commit(sync). Arg 1: 1 = also close the catalogue (flushes the memtables
// to SST files) inside the timing.
void BM_Ingest(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const bool include_close = state.range(1) != 0;
  const auto& paths = Paths(n);
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto dir = std::make_unique<TempDir>("ingest");
    auto cat = OpenCatalogue(dir->path());
    storage::EntryRecord r;
    double c0 = ProcessCpuSeconds();
    state.ResumeTiming();
    {
      Catalogue::Writer w(cat.get(), BenchScope());
      for (uint64_t i = 0; i < n; ++i) {
        FillRecord(i, &r);
        Check(w.PutEntry(paths[i], r), "PutEntry");
      }
      Check(w.Commit(true), "Commit");
    }
    if (include_close) cat.reset();
    state.PauseTiming();
    cpu += ProcessCpuSeconds() - c0;
    cat.reset();
    dir.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  SetCpuCounter(state, cpu, state.iterations() * n);
}
BENCHMARK(BM_Ingest)
    ->ArgNames({"entries", "close"})
    ->Args({1'000'000, 0})
    ->Args({1'000'000, 1})
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// --- scan ----------------------------------------------------------------------

// Raw ordered iteration of the `versions` keyspace of one backup set (its
// one restore point's versions, with the set's point and index records):
// the KV store's share of a scan.
void BM_KvIterate(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  Catalogue& cat = PopulatedCatalogue(n, false);
  auto s = BenchScope();
  std::string prefix = storage::BackupSetPrefix(s.tenant, s.backup_set);
  for (auto _ : state) {
    auto it = cat.kv()->NewIterator(
        storage::Space::kVersions, {.upper_bound = storage::PrefixSuccessor(prefix), .bulk = true});
    uint64_t count = 0;
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      benchmark::DoNotOptimize(it->value().data());
      ++count;
    }
    Check(it->status(), "iterate");
    if (count < n) std::abort();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_KvIterate)
    ->ArgNames({"entries"})
    ->Arg(1'000'000)
    ->MinTime(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Catalogue::Scan of a restore point. Args: entries; verified (1 = every
// entry has a VerifyRecord, as after the first re-verification; 0 = fresh
// baseline); path (1 = also call Scanner::path(), as DiffRestorePoint does).
void BM_Scan(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const bool verified = state.range(1) != 0, with_path = state.range(2) != 0;
  Catalogue& cat = PopulatedCatalogue(n, verified);
  for (auto _ : state) {
    auto scan = cat.Scan(BenchScope());
    uint64_t count = 0;
    for (; scan->Valid(); scan->Next()) {
      benchmark::DoNotOptimize(scan->entry().size);
      if (with_path) {
        std::string p = scan->path();
        benchmark::DoNotOptimize(p.data());
      }
      ++count;
    }
    Check(scan->status(), "scan");
    if (count != n) std::abort();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_Scan)
    ->ArgNames({"entries", "verified", "path"})
    ->Args({1'000'000, 0, 0})
    ->Args({1'000'000, 0, 1})
    ->Args({1'000'000, 1, 0})
    ->Args({1'000'000, 1, 1})
    ->MinTime(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// --- diff ----------------------------------------------------------------------

// The observation source alone (what BM_Diff spends outside storage/).
void BM_ObservationSource(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const auto& paths = Paths(n);
  storage::Observation obs;
  for (auto _ : state) {
    uint64_t i = 0;
    storage::ObservationSource source = [&](storage::Observation* o) {
      if (i >= n) return false;
      o->path = paths[i];
      FillObservation(i, 0, o);
      ++i;
      return true;
    };
    while (source(&obs)) benchmark::DoNotOptimize(obs.path.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_ObservationSource)
    ->ArgNames({"entries"})
    ->Arg(1'000'000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// DiffRestorePoint of n observed entries against an n-entry catalogue.
// Args: entries; modified_every (0 = all unchanged, 100 = 1% modified);
// verified (as BM_Scan).
void BM_Diff(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const uint64_t modified_every = static_cast<uint64_t>(state.range(1));
  const bool verified = state.range(2) != 0;
  Catalogue& cat = PopulatedCatalogue(n, verified);
  const auto& paths = Paths(n);
  storage::DiffCounts counts;
  uint64_t events = 0;
  double cpu = 0;
  for (auto _ : state) {
    double c0 = ProcessCpuSeconds();
    uint64_t i = 0;
    storage::ObservationSource source = [&](storage::Observation* o) {
      if (i >= n) return false;
      o->path = paths[i];
      FillObservation(i, modified_every, o);
      ++i;
      return true;
    };
    counts = {};
    Check(storage::DiffRestorePoint(
              cat, BenchScope(), source, {},
              [&](const storage::DiffEvent& e) {
                if (e.kind != storage::DiffKind::kUnchanged) ++events;
                return storage::Status();
              },
              &counts),
          "diff");
    cpu += ProcessCpuSeconds() - c0;
  }
  uint64_t want_modified = modified_every ? n / modified_every : 0;
  if (counts.modified != want_modified || counts.unchanged != n - want_modified) {
    std::fprintf(stderr, "unexpected diff counts: %llu unchanged, %llu modified\n",
                 static_cast<unsigned long long>(counts.unchanged),
                 static_cast<unsigned long long>(counts.modified));
    std::exit(1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  SetCpuCounter(state, cpu, state.iterations() * n);
}
BENCHMARK(BM_Diff)
    ->ArgNames({"entries", "modified_every", "verified"})
    ->Args({1'000'000, 0, 0})
    ->Args({1'000'000, 100, 0})
    ->Args({1'000'000, 0, 1})
    ->Args({1'000'000, 100, 1})
    ->MinTime(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

void RemoveFixtures() {
  for (auto& [key, p] : Fixtures()) {
    p.cat.reset();
    p.dir.reset();
  }
  Fixtures().clear();
}

}  // namespace vigil::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  vigil::bench::RemoveFixtures();
  return 0;
}
