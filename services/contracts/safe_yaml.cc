#include "services/contracts/safe_yaml.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "services/common/text.h"
#include "services/contracts/parse.h"

namespace vigil::contracts {
namespace {

std::string GroupBytes(uint64_t n) { return GroupDigits(n) + " bytes"; }
// The dry run over a file's events, before YAML::LoadAll() builds anything:
//
// - yaml-cpp 0.7's LoadAll() loops forever, allocating, on a token that
//   cannot start a node outside a collection (a stray ',' : yaml-cpp issue
//   #1040, fixed upstream by PR #1319, after 0.7.0): the parser then
//   reports an empty document without consuming the token, again and
//   again. Each document's events are seen here so that the loop can
//   notice it.
// - Aliases: yaml-cpp shares an aliased node, but everything after it (our
//   walk, the model's strings, the canonical YAML, the stored records)
//   copies it once per alias: a 1 MB anchored string aliased 2,000 times
//   is 2 GB of work. The size of the text each node stands for once its
//   aliases are expanded (scalar bytes, plus one per node) is counted as
//   the events come, and the run stops at the first event past
//   kMaxExpandedFactor x the file's size (at least kMinExpandedBudget).
// - Nesting: deeper than kMaxNestingDepth lists and maps stops the run
//   (yaml-cpp's own guard, at 500 levels, says only "bad file").
class DocumentProbe : public YAML::EventHandler {
 public:
  explicit DocumentProbe(uint64_t budget) : budget_(budget) {}

  void OnDocumentStart(const YAML::Mark&) override { Reset(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Leaf(mark, anchor, 1, true);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchor_sizes_.find(anchor);
    if (it == anchor_sizes_.end()) {
      // yaml-cpp only reports aliases of anchors it has seen: this one's
      // node is still open.
      throw LimitExceeded{mark,
                          "an alias inside the node its anchor names (a recursive structure); "
                          "an alias must refer to a complete node"};
    }
    Leaf(mark, 0, it->second, false);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    Leaf(mark, anchor, value.size() + 1, false);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnMapEnd() override { Close(); }

  void Reset() {
    events_ = 0;
    only_null_ = true;
    open_.clear();
    anchor_sizes_.clear();  // anchors are per document
  }
  // True if the document was a lone null node at `mark`.
  bool LoneNullAt(YAML::Mark* mark) const {
    if (events_ != 1 || !only_null_) return false;
    *mark = first_;
    return true;
  }

 private:
  struct Frame {
    YAML::anchor_t anchor;
    uint64_t expanded_at_start;
  };
  void Event(const YAML::Mark& mark, bool null) {
    if (events_++ == 0) first_ = mark;
    only_null_ = only_null_ && null;
  }
  void Spend(const YAML::Mark& mark, uint64_t n) {
    // No overflow: expanded_ <= budget_ before, and n (an anchor's size)
    // was counted within the budget too.
    expanded_ += n;
    if (expanded_ <= budget_) return;
    throw LimitExceeded{mark,
                        "the manifest is too large once its aliases are expanded: more than " +
                            GroupBytes(budget_) +
                            " (the limit for this file: " + std::to_string(kMaxExpandedFactor) +
                            " times its size, at least " + GroupBytes(kMinExpandedBudget) +
                            "); anchors and aliases may not multiply the size of a manifest"};
  }
  void Leaf(const YAML::Mark& mark, YAML::anchor_t anchor, uint64_t size, bool null) {
    Event(mark, null);
    Spend(mark, size);
    if (anchor != 0) anchor_sizes_[anchor] = size;
  }
  void Open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    Event(mark, false);
    if (open_.size() >= static_cast<size_t>(kMaxNestingDepth)) {
      throw LimitExceeded{mark, "nested too deeply: more than " + std::to_string(kMaxNestingDepth) +
                                    " levels of lists and maps (the limit)"};
    }
    open_.push_back({anchor, expanded_});
    Spend(mark, 1);
  }
  void Close() {
    if (open_.empty()) return;
    if (open_.back().anchor != 0) {
      anchor_sizes_[open_.back().anchor] = expanded_ - open_.back().expanded_at_start;
    }
    open_.pop_back();
  }

  const uint64_t budget_;
  uint64_t expanded_ = 0;  // over the whole file
  std::vector<Frame> open_;
  std::map<YAML::anchor_t, uint64_t> anchor_sizes_;
  int events_ = 0;
  bool only_null_ = true;
  YAML::Mark first_;
};

}  // namespace

std::vector<YAML::Node> SafeLoadAll(const std::string& text) {
  {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentProbe probe(std::max<uint64_t>(kMaxExpandedFactor * text.size(), kMinExpandedBudget));
    bool have_previous = false;
    YAML::Mark previous;
    while (true) {
      probe.Reset();
      if (!parser.HandleNextDocument(probe)) break;
      YAML::Mark m;
      bool lone_null = probe.LoneNullAt(&m);
      if (lone_null && have_previous && m.pos == previous.pos) {
        throw YAML::ParserException(m, "unexpected token here (such as a ',' outside [ ] or { })");
      }
      have_previous = lone_null;
      previous = m;
    }
  }
  return YAML::LoadAll(text);
}

}  // namespace vigil::contracts
