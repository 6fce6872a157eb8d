// Depth-first walk of a Store subtree (store_walker.h).
#include "storage/store_walker.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace vigil::storage {
namespace {

// The errno a listing failure stands for in WalkEntry::error.
int ErrnoOf(const Status& s) {
  if (absl::IsPermissionDenied(s)) return EACCES;
  if (absl::IsNotFound(s)) return ENOENT;
  if (absl::IsFailedPrecondition(s)) return ENOTDIR;
  return EIO;
}

}  // namespace

StatusOr<std::unique_ptr<StoreWalker>> StoreWalker::Open(Store& store, std::string_view root,
                                                         const std::string& shown) {
  auto w = std::unique_ptr<StoreWalker>(new StoreWalker(store, std::string(root)));
  Frame f;
  if (Status s = w->ListSorted(w->root_, &f.children); !s.ok()) {
    return Status(s.code(), "cannot read directory '" + shown + "': " + std::string(s.message()));
  }
  w->stack_.push_back(std::move(f));
  w->directories_ = 1;
  return w;
}

Status StoreWalker::ListSorted(const std::string& dir, std::vector<StoreEntry>* out) {
  out->clear();
  Status s = store_.List(dir, [out](StoreEntry&& e) {
    out->push_back(std::move(e));
    return true;
  });
  if (!s.ok()) return s;
  std::sort(out->begin(), out->end(),
            [](const StoreEntry& a, const StoreEntry& b) { return a.name < b.name; });
  return s;
}

bool StoreWalker::Next(WalkEntry* e) {
  while (!stack_.empty()) {
    Frame& f = stack_.back();
    if (f.next >= f.children.size()) {
      stack_.pop_back();
      continue;
    }
    StoreEntry c = std::move(f.children[f.next++]);
    *e = WalkEntry();
    e->path = f.prefix + c.name;
    e->nlink = 0;  // no inodes in a store
    e->mtime_ns = c.mtime_ns;
    if (c.type == StoreEntryType::kDirectory) {
      Frame child;
      Status s = ListSorted(JoinStorePath(root_, e->path), &child.children);
      if (!s.ok()) {
        if (absl::IsNotFound(s)) continue;  // vanished since it was listed
        e->is_directory = true;
        e->error = ErrnoOf(s);
        // The words of TreeWalker for the same failure; the store's own
        // message when it is not an errno's.
        e->error_text = std::string("cannot read directory: ") + std::strerror(e->error);
        if (e->error == EIO) e->error_text += " (" + std::string(s.message()) + ")";
        e->name = std::move(c.name);
        return true;
      }
      ++directories_;
      child.prefix = e->path + "/";
      stack_.push_back(std::move(child));  // invalidates f
      continue;
    }
    e->name = std::move(c.name);
    switch (c.type) {
      case StoreEntryType::kFile:
        e->type = EntryType::kFile;
        e->size = c.size;
        e->etag = std::move(c.etag);
        e->checksum_sha256 = std::move(c.checksum_sha256);
        break;
      case StoreEntryType::kSymlink:
        e->type = EntryType::kSymlink;
        e->link_target = std::move(c.link_target);
        e->size = e->link_target.size();
        break;
      default:
        e->type = EntryType::kOther;
        e->size = 0;
        break;
    }
    return true;
  }
  return false;
}

}  // namespace vigil::storage
