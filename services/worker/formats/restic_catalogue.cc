#include "services/worker/formats/restic_catalogue.h"

#include <set>
#include <vector>

#include "services/common/time.h"

namespace vigil::formats {

namespace {

storage::Scope ScopeFor(const std::string& backup_set) {
  return storage::Scope{"local", backup_set, 0};
}

}  // namespace

storage::Status LoadKnownPacks(storage::Catalogue* cat, const std::string& backup_set,
                               std::unordered_map<std::string, uint64_t>* packs) {
  auto scan = cat->Scan(ScopeFor(backup_set));
  for (; scan->Valid(); scan->Next()) {
    std::string path = scan->path();
    if (path.rfind("data/", 0) != 0) continue;
    std::string raw;
    if (restic::ParseId(path.substr(5), &raw)) packs->emplace(raw, scan->entry().size);
  }
  return scan->status();
}

storage::Status ApplyResticBaseline(storage::Catalogue* cat, const std::string& backup_set,
                                    bool accept, ResticReport* report, ResticBaseline* out) {
  storage::Scope scope = ScopeFor(backup_set);
  std::set<std::string> present;
  for (const auto& s : report->snapshot_files) present.insert("snapshots/" + s.id);
  for (const auto& p : report->pack_files) present.insert("data/" + p.id);

  struct Known {
    std::string path;
    storage::EntryRecord entry;
  };
  std::vector<Known> vanished;
  std::set<std::string> known;
  auto scan = cat->Scan(scope);
  for (; scan->Valid(); scan->Next()) {
    std::string path = scan->path();
    known.insert(path);
    if (path.rfind("data/", 0) == 0) {
      ++out->known_packs;
    } else {
      ++out->known_snapshots;
    }
    if (!present.count(path)) vanished.push_back({path, scan->entry()});
  }
  if (storage::Status st = scan->status(); !st.ok()) return st;
  out->first_run = known.empty();

  storage::Catalogue::Writer w(cat, scope);
  for (const auto& v : vanished) {
    if (accept) {
      if (storage::Status st = w.DeleteEntry(v.path, v.entry); !st.ok()) return st;
      ++out->accepted;
      continue;
    }
    ++out->vanished;
    bool pack = v.path.rfind("data/", 0) == 0;
    std::string hex = v.path.substr(v.path.find('/') + 1);
    std::string rel = pack ? "data/" + hex.substr(0, 2) + "/" + hex : v.path;
    report->errors.push_back(Finding{
        pack ? "vanished_pack" : "vanished_snapshot", rel, 0, -1, rel,
        std::string(pack ? "pack" : "snapshot") + " of " + std::to_string(v.entry.size) +
            " bytes existed at the last check and is gone (--accept records the current state)"});
  }
  int64_t now = NowNs();
  auto record = [&](const std::string& path, const ResticFileState& f) -> storage::Status {
    if (!f.ok || known.count(path)) return storage::Status();
    storage::EntryRecord e;
    e.type = storage::EntryType::kFile;
    e.size = f.size;
    auto d = storage::Digest::FromHex(storage::HashAlgorithm::kSha256, f.id);
    if (d) e.digest = *d;
    e.first_seen_ns = now;
    ++out->added;
    return w.PutEntry(path, e);
  };
  for (const auto& s : report->snapshot_files) {
    if (storage::Status st = record("snapshots/" + s.id, s); !st.ok()) return st;
  }
  for (const auto& p : report->pack_files) {
    if (storage::Status st = record("data/" + p.id, p); !st.ok()) return st;
  }
  return w.Commit(/*sync=*/true);
}

}  // namespace vigil::formats
