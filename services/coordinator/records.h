// Reading the coordinator's protobuf records out of its key-value store:
// one place for the prefix scan and the "does not decode" error.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/key_codec.h"
#include "storage/kv.h"
#include "storage/status.h"

namespace vigil::coordinator {

// Reads the record at `key` in `space` into *m. NotFound as the store says
// it (callers name what is unknown); DataLoss (naming `what`) if it does not
// decode.
template <typename Msg>
storage::Status ReadRecord(storage::KvStore* kv, storage::Space space, const std::string& key,
                           std::string_view what, Msg* m) {
  std::string v;
  storage::Status s = kv->Get(space, key, &v);
  if (!s.ok()) return s;
  if (!m->ParseFromString(v)) {
    return absl::DataLossError(std::string(what) + " record does not decode");
  }
  return absl::OkStatus();
}

// Calls fn with every record stored under `prefix` in `space`, parsed as
// Msg, in key order. DataLoss (naming `what`) if one does not decode.
template <typename Msg>
storage::Status ForEachRecord(storage::KvStore* kv, storage::Space space, std::string_view prefix,
                              std::string_view what, const std::function<void(Msg&&)>& fn) {
  std::string p(prefix);
  auto it = kv->NewIterator(space, {.upper_bound = storage::PrefixSuccessor(p)});
  for (it->Seek(p); it->Valid(); it->Next()) {
    Msg m;
    if (!m.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(std::string(what) + " record does not decode");
    }
    fn(std::move(m));
  }
  return it->status();
}

// Every record under `prefix` in `meta`, in key order.
template <typename Msg>
storage::StatusOr<std::vector<Msg>> LoadRecords(storage::KvStore* kv, std::string_view prefix,
                                                std::string_view what) {
  std::vector<Msg> out;
  storage::Status s = ForEachRecord<Msg>(kv, storage::Space::kMeta, prefix, what,
                                         [&](Msg&& m) { out.push_back(std::move(m)); });
  if (!s.ok()) return s;
  return out;
}

}  // namespace vigil::coordinator
