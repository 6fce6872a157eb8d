#include "services/contracts/model.h"

#include <algorithm>

namespace vigil::contracts {

std::string SourcePos::ToString() const {
  std::string s = file.empty() ? "<input>" : file;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  return s;
}

bool IsValidName(std::string_view s) {
  if (s.empty() || s.size() > 128 || s == "." || s == "..") return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

const char* LayoutName(Layout l) {
  switch (l) {
    case Layout::kMirror:
      return "mirror";
    case Layout::kDatedFolders:
      return "dated-folders";
    case Layout::kRsnapshot:
      return "rsnapshot";
    case Layout::kDatedFiles:
      return "dated-files";
    case Layout::kBagitBags:
      return "bagit-bags";
    case Layout::kResticSnapshots:
      return "restic-snapshots";
  }
  return "?";
}

std::optional<Layout> LayoutFromName(std::string_view name) {
  if (name.empty()) return Layout::kMirror;
  for (Layout l : {Layout::kMirror, Layout::kDatedFolders, Layout::kRsnapshot, Layout::kDatedFiles,
                   Layout::kBagitBags, Layout::kResticSnapshots}) {
    if (name == LayoutName(l)) return l;
  }
  return std::nullopt;
}

const char* CommitmentKindName(CommitmentKind k) {
  switch (k) {
    case CommitmentKind::kRpo:
      return "rpo";
    case CommitmentKind::kRetention:
      return "retention";
    case CommitmentKind::kCopies:
      return "copies";
    case CommitmentKind::kIntegrity:
      return "integrity";
    case CommitmentKind::kRestoreDrill:
      return "restore_drill";
  }
  return "?";
}

const char* CommitmentKindKey(CommitmentKind k) {
  return k == CommitmentKind::kRestoreDrill ? "restoreDrill" : CommitmentKindName(k);
}

std::optional<CommitmentKind> CommitmentKindFromKey(std::string_view key) {
  for (CommitmentKind k :
       {CommitmentKind::kRpo, CommitmentKind::kRetention, CommitmentKind::kCopies,
        CommitmentKind::kIntegrity, CommitmentKind::kRestoreDrill}) {
    if (key == CommitmentKindKey(k)) return k;
  }
  return std::nullopt;
}

std::vector<const Commitment*> Contract::CommitmentsFor(const std::string& asset) const {
  std::vector<const Commitment*> out;
  for (const auto& c : commitments) {
    if (c.assets.empty() || std::find(c.assets.begin(), c.assets.end(), asset) != c.assets.end()) {
      out.push_back(&c);
    }
  }
  return out;
}

const Commitment* FindKind(const std::vector<const Commitment*>& cs, CommitmentKind k) {
  for (const Commitment* c : cs) {
    if (c->kind == k) return c;
  }
  return nullptr;
}

}  // namespace vigil::contracts
