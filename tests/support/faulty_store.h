// A test seam over storage::LocalStore: a store that cannot read some of
// its files. ReadAt of a path starting with `fail_prefix` fails with the
// code asked (Unavailable: a remote store still failing after its retries;
// PermissionDenied: credentials refused), naming the store and the path as
// a real store does; everything else is the LocalStore's answer. It also
// keeps what was read (requests, the largest range asked), so that a test
// can say how a reader used the store.
//
// Users: tests of readers over a Store that must tell a store that cannot
// be read (the check's own error) from damage in what it holds (a
// finding): tests/services/worker/restic_test.cc, store_check_test.cc.
// Header-only.
//
// Thread safety: as LocalStore (any thread); the counters are atomics and
// the failing prefix is set before the store is shared.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "storage/local_store.h"
#include "storage/store.h"

namespace vigil::testing {

class FaultyStore final : public storage::Store {
 public:
  // `fail_prefix` empty: nothing fails.
  FaultyStore(std::unique_ptr<storage::LocalStore> inner, std::string fail_prefix,
              absl::StatusCode code = absl::StatusCode::kUnavailable)
      : inner_(std::move(inner)), fail_prefix_(std::move(fail_prefix)), code_(code) {}

  // A FaultyStore over the directory `root`; null if it cannot be opened.
  static std::unique_ptr<FaultyStore> Open(const std::string& root, std::string fail_prefix,
                                           absl::StatusCode code = absl::StatusCode::kUnavailable) {
    auto s = storage::LocalStore::Open(root);
    if (!s.ok()) return nullptr;
    return std::make_unique<FaultyStore>(std::move(*s), std::move(fail_prefix), code);
  }

  std::string Describe() const override { return "test://faulty-store"; }
  storage::Status List(std::string_view dir,
                       const std::function<bool(storage::StoreEntry&&)>& each) override {
    return inner_->List(dir, each);
  }
  storage::StatusOr<storage::StoreEntry> Stat(std::string_view path) override {
    return inner_->Stat(path);
  }
  storage::StatusOr<size_t> ReadAt(std::string_view path, uint64_t offset, void* buf,
                                   size_t len) override {
    reads_.fetch_add(1, std::memory_order_relaxed);
    size_t seen = largest_read_.load(std::memory_order_relaxed);
    while (len > seen && !largest_read_.compare_exchange_weak(seen, len)) {
    }
    if (!fail_prefix_.empty() && path.substr(0, fail_prefix_.size()) == fail_prefix_) {
      failed_.fetch_add(1, std::memory_order_relaxed);
      return storage::Status(code_, Describe() + ": read '" + std::string(path) +
                                        "': injected failure (the test's store)");
    }
    return inner_->ReadAt(path, offset, buf, len);
  }
  void DropCached(std::string_view path) override { inner_->DropCached(path); }

  uint64_t reads() const { return reads_.load(); }
  uint64_t failed_reads() const { return failed_.load(); }
  size_t largest_read() const { return largest_read_.load(); }

 private:
  std::unique_ptr<storage::LocalStore> inner_;
  const std::string fail_prefix_;
  const absl::StatusCode code_;
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<size_t> largest_read_{0};
};

}  // namespace vigil::testing
