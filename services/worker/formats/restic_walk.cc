// The tree walk of the restic structure check (restic_walk.h).
#include "services/worker/formats/restic_walk.h"

#include <unordered_map>
#include <utility>

namespace vigil::formats {

namespace {

using restic::Hex;

enum State : uint8_t { kPending = 0, kVisiting = 1, kComplete = 2, kIncomplete = 3 };

struct Mark {
  State state = kVisiting;
  uint32_t snapshot = 0;  // the first snapshot that reached it
};

// A tree being walked: its subdirectories still to visit.
struct Frame {
  std::string id;
  std::vector<std::pair<std::string, std::string>> subdirs;  // raw id, path
  size_t next = 0;
  bool incomplete = false;
};

std::string Child(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

class Walker {
 public:
  Walker(const std::vector<restic::Snapshot>& snaps, const restic::BlobIndex& index,
         restic::PackReader* reader, bool index_complete, Findings* out, ResticWalkStats* stats)
      : snaps_(snaps),
        index_(index),
        reader_(reader),
        no_index_(index_complete ? "in no index" : "in no readable index (an index file failed)"),
        out_(out),
        stats_(stats) {}

  void Run() {
    for (uint32_t si = 0; si < snaps_.size(); ++si) {
      const restic::Snapshot& s = snaps_[si];
      std::string root;
      if (!restic::ParseId(s.tree, &root)) continue;  // ParseSnapshot refuses it
      si_ = si;
      file_ = "snapshots/" + s.id;
      attributed_ = false;
      const State st = Walk(root);
      if (st == kIncomplete) stats_->incomplete_snapshots.push_back(s.id);
    }
  }

 private:
  void Error(const char* code, const std::string& path, const std::string& message) {
    out_->Error(code, file_, 0, message, path);
    attributed_ = true;
  }

  // The whole graph below `root`, depth first, without recursion.
  State Walk(const std::string& root) {
    State st = Visit(root, "/");
    if (st != kPending) return st;
    while (!stack_.empty()) {
      const size_t top = stack_.size() - 1;
      if (stack_[top].next < stack_[top].subdirs.size()) {
        auto [id, path] = stack_[top].subdirs[stack_[top].next++];
        if (Visit(id, path) == kIncomplete) stack_[top].incomplete = true;
        continue;
      }
      st = stack_[top].incomplete ? kIncomplete : kComplete;
      trees_[stack_[top].id].state = st;
      stack_.pop_back();
      if (!stack_.empty() && st == kIncomplete) stack_.back().incomplete = true;
    }
    return st;
  }

  State Done(const std::string& id, State st) {
    trees_[id] = {st, si_};
    return st;
  }

  // Decodes tree `id` (at `path`) unless done before: kPending when pushed
  // on the stack, else its final state.
  State Visit(const std::string& id, const std::string& path) {
    if (auto it = trees_.find(id); it != trees_.end()) {
      if (it->second.state == kIncomplete && !attributed_) {
        Error("snapshot_incomplete", path,
              "snapshot " + snaps_[si_].id.substr(0, 8) + " needs directory " + ShowPath(path) +
                  " (tree " + Hex(id) + "), which cannot be fully restored: see snapshots/" +
                  snaps_[it->second.snapshot].id);
      }
      // kVisiting: a tree that contains itself cannot be stored (its id
      // would be its own hash); a forged one is not walked twice.
      return it->second.state == kIncomplete ? kIncomplete : kComplete;
    }
    const std::string what = "tree " + Hex(id) + " of " + ShowPath(path);
    auto locations = index_.Find(id, /*tree=*/true);
    if (locations.empty()) {
      Error("missing_tree", path, what + " is " + no_index_);
      return Done(id, kIncomplete);
    }
    bool any_usable = false;
    for (const auto& e : locations) any_usable |= index_.Unusable(e.at).empty();
    std::string err;
    if (!reader_->ReadAny(id, /*tree=*/true, /*cold=*/false, &plain_, &err)) {
      Error(any_usable ? "tree_unreadable" : "tree_unavailable", path,
            what +
                (any_usable ? " cannot be read: "
                            : " is only in packs that are missing or "
                              "damaged: ") +
                err);
      return Done(id, kIncomplete);
    }
    size_t off = 0;
    if (!restic::ParseTree(plain_, &nodes_, &err, &off)) {
      Error("bad_tree", path,
            what + ": " + err + " (decrypted JSON, byte offset " + std::to_string(off) + ")");
      return Done(id, kIncomplete);
    }
    ++stats_->trees;
    Frame f;
    f.id = id;
    for (const restic::TreeNode& n : nodes_) {
      if (n.type == "dir") {
        f.subdirs.emplace_back(n.subtree, Child(path, n.name));
      } else if (n.type == "file") {
        ++stats_->files;
        if (!CheckFile(n, Child(path, n.name))) f.incomplete = true;
      }
    }
    trees_[id] = {kVisiting, si_};
    stack_.push_back(std::move(f));
    return kPending;
  }

  // Every data blob of file node `n` is indexed in a usable pack.
  bool CheckFile(const restic::TreeNode& n, const std::string& path) {
    size_t missing = 0, unavailable = 0, first_missing = 0, first_unavailable = 0;
    std::string why;
    for (size_t i = 0; i < n.content.size(); ++i) {
      ++stats_->data_refs;
      auto locations = index_.Find(n.content[i], /*tree=*/false);
      if (locations.empty()) {
        if (missing++ == 0) first_missing = i;
        continue;
      }
      std::string_view bad;
      for (const auto& e : locations) {
        bad = index_.Unusable(e.at);
        if (bad.empty()) break;
      }
      if (!bad.empty() && unavailable++ == 0) {
        first_unavailable = i;
        why = restic::PackPath(index_.pack_id(locations.front().at.pack)) + ": " + std::string(bad);
      }
    }
    const std::string of = " of " + std::to_string(n.content.size()) + " data blobs";
    if (missing > 0) {
      Error("missing_blob", path,
            "file " + ShowPath(path) + ": " + std::to_string(missing) + of + " are " + no_index_ +
                " (first: blob " + std::to_string(first_missing) + ", " +
                Hex(n.content[first_missing]) + ")");
    }
    if (unavailable > 0) {
      Error("blob_unavailable", path,
            "file " + ShowPath(path) + ": " + std::to_string(unavailable) + of +
                " are only in packs that are missing or damaged (first: blob " +
                std::to_string(first_unavailable) + ", " + Hex(n.content[first_unavailable]) +
                " in " + why + ")");
    }
    return missing == 0 && unavailable == 0;
  }

  const std::vector<restic::Snapshot>& snaps_;
  const restic::BlobIndex& index_;
  restic::PackReader* reader_;
  const std::string no_index_;
  Findings* out_;
  ResticWalkStats* stats_;
  std::unordered_map<std::string, Mark> trees_;  // raw tree id -> state
  std::vector<Frame> stack_;
  uint32_t si_ = 0;
  std::string file_;
  bool attributed_ = false;  // the snapshot being walked has a finding naming it
  std::string plain_;
  std::vector<restic::TreeNode> nodes_;
};

}  // namespace

void WalkResticSnapshots(const std::vector<restic::Snapshot>& snapshots,
                         const restic::BlobIndex& index, restic::PackReader* reader,
                         bool index_complete, Findings* out, ResticWalkStats* stats) {
  Walker(snapshots, index, reader, index_complete, out, stats).Run();
}

}  // namespace vigil::formats
