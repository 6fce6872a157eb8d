#include "services/contracts/model.h"

#include <algorithm>

#include "base/name_table.h"

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

namespace {

constexpr NameRow<Layout> kLayoutNames[] = {
    {Layout::kMirror, "mirror"},        {Layout::kDatedFolders, "dated-folders"},
    {Layout::kRsnapshot, "rsnapshot"},  {Layout::kDatedFiles, "dated-files"},
    {Layout::kBagitBags, "bagit-bags"}, {Layout::kResticSnapshots, "restic-snapshots"}};
static_assert(CoversEnum(kLayoutNames));

// Keys in a contract's YAML; the names in reports and logs are the same
// but "restore_drill".
constexpr NameRow<CommitmentKind> kCommitmentKindKeys[] = {
    {CommitmentKind::kRpo, "rpo"},
    {CommitmentKind::kRetention, "retention"},
    {CommitmentKind::kCopies, "copies"},
    {CommitmentKind::kIntegrity, "integrity"},
    {CommitmentKind::kRestoreDrill, "restoreDrill"}};
static_assert(CoversEnum(kCommitmentKindKeys));

}  // namespace

const char* LayoutName(Layout l) { return NameOf(kLayoutNames, l, "?"); }

std::optional<Layout> LayoutFromName(std::string_view name) {
  if (name.empty()) return Layout::kMirror;
  return ValueOf(kLayoutNames, name);
}

const char* CommitmentKindName(CommitmentKind k) {
  return k == CommitmentKind::kRestoreDrill ? "restore_drill" : CommitmentKindKey(k);
}

const char* CommitmentKindKey(CommitmentKind k) { return NameOf(kCommitmentKindKeys, k, "?"); }

std::optional<CommitmentKind> CommitmentKindFromKey(std::string_view key) {
  return ValueOf(kCommitmentKindKeys, key);
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
