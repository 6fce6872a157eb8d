// libFuzzer target: the coordinator's intake of a worker's observations
// (services/coordinator/ingest.h). Any bytes parsed as a v1::ObservationBatch
// (the Observe stream's message) go through ValidateBatch, then, as seq 1 of
// a new task, through StageBatches and MergeStaged into a real catalogue
// (RocksDB in a temporary directory, one per process). Nothing may crash;
// staging refuses with InvalidArgument, OutOfRange or FailedPrecondition
// (what the RPC answers) and stages nothing ValidateBatch refused, and what it staged
// merges, or is refused, without data loss (a staged batch that no longer
// decodes) or an internal error. Held markers (Observation.held) and held
// directory markers (Observation.held_dir) are refused here unless they
// prove digests the catalogue holds, which a fuzzer cannot forge: their
// checks are what this covers.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "services/coordinator/ingest.h"
#include "services/coordinator/keys.h"
#include "storage/catalogue.h"
#include "vigil/v1/worker.pb.h"

namespace {

using namespace vigil;

bool Refusal(const absl::Status& s) {
  return absl::IsInvalidArgument(s) || absl::IsOutOfRange(s) || absl::IsFailedPrecondition(s);
}

bool Broken(const absl::Status& s) {
  return absl::IsDataLoss(s) || absl::IsInternal(s) || absl::IsUnknown(s);
}

storage::Catalogue& Cat() {
  static storage::Catalogue* cat = [] {
    char dir[] = "/tmp/vigil-fuzz-batch-XXXXXX";
    if (::mkdtemp(dir) == nullptr) std::abort();
    auto c = storage::Catalogue::Open(std::string(dir) + "/db");
    if (!c.ok()) std::abort();
    return c->release();
  }();
  return *cat;
}

// How many inputs parsed, staged and merged: printed at exit when
// VIGIL_FUZZ_STATS is set (whether the corpus reaches the merge at all).
struct Stats {
  uint64_t parsed = 0, staged = 0, merged = 0;
  ~Stats() {
    if (std::getenv("VIGIL_FUZZ_STATS") != nullptr) {
      std::fprintf(stderr, "fuzz_observation_batch: %llu parsed, %llu staged, %llu merged\n",
                   static_cast<unsigned long long>(parsed), static_cast<unsigned long long>(staged),
                   static_cast<unsigned long long>(merged));
    }
  }
} stats;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  v1::ObservationBatch batch;
  if (!batch.ParseFromArray(data, static_cast<int>(size))) return 0;
  ++stats.parsed;
  static uint64_t task = 0;
  ++task;
  batch.set_task_id(task);
  batch.set_attempt(1);
  batch.set_seq(1);
  absl::Status valid = coordinator::ValidateBatch(batch);
  if (!valid.ok() && !Refusal(valid)) std::abort();
  v1::BackupSet set;
  set.set_tenant("t");
  set.set_name("s");
  set.set_layout(task % 2 == 0 ? "dated-folders" : "mirror");
  storage::Catalogue& cat = Cat();
  coordinator::StageResult staged = coordinator::StageBatches(cat.kv(), set, {&batch});
  if (!staged.status.ok() && !Refusal(staged.status)) std::abort();
  if (staged.acked == 1) {
    if (!valid.ok()) std::abort();  // staged what ValidateBatch refused
    ++stats.staged;
    auto merged = coordinator::MergeStaged(cat, set, task, 1, 1'767'225'600'000'000'000,
                                           coordinator::keys::Merged(task, 1));
    if (!merged.ok() && Broken(merged.status())) std::abort();
    if (merged.ok()) ++stats.merged;
  }
  storage::KvBatch b;
  if (!coordinator::DropStaged(cat.kv(), &b, task).ok()) std::abort();
  if (!cat.kv()->Write(b, {}).ok()) std::abort();
  return 0;
}
