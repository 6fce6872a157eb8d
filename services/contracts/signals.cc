#include "services/contracts/signals.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <unordered_map>

#include "services/common/text.h"
#include "storage/content_sample.h"
#include "storage/entry.h"
#include "storage/varint.h"
#include "storage/versions.h"

namespace vigil::contracts {
namespace {

using storage::ContentSample;
using storage::EntryRecord;
using storage::FileFormat;

// Caps of the bounded state of one scan (SignalScan::untracked_*).
constexpr size_t kMaxExtensions = 1024;          // distinct reference extensions
constexpr size_t kMaxExtensionLength = 16;       // longer: not an extension
constexpr size_t kMaxNoteNames = 10'000;         // distinct new note-like names
constexpr size_t kMaxNotesPerDir = 64;           // new note-like files per directory
constexpr size_t kMaxUnpairedDigests = 100'000;  // per side, for renames
constexpr size_t kExtensionWindow = 8;           // recent gone / new files kept to pair
constexpr uint64_t kNoteMaxBytes = 64 << 10;     // a ransom note is small
// An emptied point is judged only against a reference of this many files.
constexpr uint64_t kEmptiedMinFiles = 20;

std::string_view BaseName(std::string_view p) {
  const size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

std::string_view DirName(std::string_view p) {
  const size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : p.substr(0, slash);
}

// `a` strictly contains `d` ("" is the root, above every other directory).
bool IsAncestor(std::string_view a, std::string_view d) {
  if (a.empty()) return !d.empty();
  return d.size() > a.size() && d.substr(0, a.size()) == a && d[a.size()] == '/';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The lowercased last extension of a file name, "" when it has none (or the
// name starts with its only dot: ".bashrc"); nullopt when it is too long to
// be one (SignalScan::untracked_extensions).
std::optional<std::string> ExtensionOf(std::string_view name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return std::string();
  if (name.size() - dot - 1 > kMaxExtensionLength) return std::nullopt;
  return Lower(name.substr(dot + 1));
}

uint8_t Sixteenths(double bits) {
  return static_cast<uint8_t>(std::clamp<long>(std::lround(bits * 16), 0, 128));
}

std::string Bits(double bits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f", bits);
  return buf;
}

std::string Percent(double fraction) { return std::to_string(std::lround(fraction * 100)) + "%"; }

// Structured: its extension's format, or (no matching format) a low
// entropy. Random: no known magic at all and a high entropy; a file that
// holds another known format (a JPEG re-encoded, a document saved with a
// password as OLE2) is a different file, not an encrypted one.
bool Structured(const ContentSample& s, FileFormat expected, uint8_t max_entropy) {
  if (!s.sampled()) return false;
  if (expected != FileFormat::kUnknown && s.format == expected) return true;
  return s.entropy < max_entropy;
}
bool Random(const ContentSample& s, uint8_t min_entropy) {
  return s.sampled() && s.format == FileFormat::kUnknown && s.entropy >= min_entropy;
}

// `to` is `from` with an extension appended (x.docx -> x.docx.lockbit) or
// its last extension replaced (x.docx -> x.lockbit), and the new last
// extension is no known format's: gzip'ing x.csv into x.csv.gz or saving
// x.doc as x.docx is not what ransomware does.
bool IsExtensionChange(std::string_view from, std::string_view to) {
  if (from == to || storage::ExpectedFormat(to) != FileFormat::kUnknown) return false;
  if (to.size() > from.size() + 1 && to.substr(0, from.size()) == from && to[from.size()] == '.') {
    return true;
  }
  const size_t dot = from.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  const std::string_view stem = from.substr(0, dot + 1);  // "x."
  return to.size() > stem.size() && to.substr(0, stem.size()) == stem &&
         to.substr(stem.size()).find('.') == std::string_view::npos;
}

// Collects a SignalScan step by step (see ScanSignals).
class Collector {
 public:
  Collector(bool has_reference, const RansomwareSpec& spec, SignalScan* out)
      : ref_(has_reference),
        spec_(spec),
        structured_max_(Sixteenths(spec.structured_entropy_bits)),
        random_min_(Sixteenths(spec.random_entropy_bits)),
        out_(*out) {}

  void Step(const EntryRecord* old, const EntryRecord* neu, const std::string& path) {
    if (ref_) AddToComparison(old, neu, &out_.versus_reference);
    const std::string_view dir = DirName(path);
    const std::string_view name = BaseName(path);
    const std::optional<std::string> ext = ExtensionOf(name);  // (the same on both sides)
    if (old != nullptr && !from_tally_) TallyAdd(&ref_tally_, &ref_tally_over_, *old, ext);
    if (neu != nullptr) TallyAdd(&new_tally_, &new_tally_over_, *neu, ext);
    EnterDir(dir);
    if (neu != nullptr && neu->sample.sampled()) ++out_.sampled_files;
    if (old != nullptr) {
      dirs_.back().in_reference = true;
      CountExtension(name, neu == nullptr ? &path : nullptr);
    }
    if (old != nullptr && neu != nullptr) {
      if (ContentDiffers(*old, *neu)) JudgeChange(old->sample, path, neu->sample, path);
    } else if (old != nullptr) {
      Gone(*old, path);
    } else {
      New(*neu, path, dir, name);
    }
  }

  // Starts from the reference's tally: the state after stepping every file
  // of the reference as unchanged (the same record in the new point). Each
  // changed path is then Undone and Stepped (ScanSignals). REQUIRES: a
  // reference, nothing stepped yet.
  void StartFrom(const PointTally& t, std::function<bool(std::string_view dir)> held_files_in) {
    from_tally_ = true;
    held_files_in_ = std::move(held_files_in);
    PointComparison& c = out_.versus_reference;
    c = UnchangedComparison({0, t.files, t.bytes, t.zero_length_files}, c.prev.time_ns,
                            c.cur.time_ns);
    out_.sampled_files = t.sampled_files;
    out_.untracked_extensions = t.long_extension_files;
    for (const auto& [ext, n] : t.extensions) extensions_[ext].ref = n;
    new_tally_ = t;
  }

  // Takes back the unchanged step StartFrom assumed for the reference's
  // file `old` at `path`. False when the tally does not hold it (a count
  // would fall below zero): the caller then drops this scan and reads the
  // points whole.
  bool Undo(const EntryRecord& old, const std::string& path) {
    const bool sampled = old.sample.sampled();
    if (sampled && out_.sampled_files == 0) return false;
    const std::string_view name = BaseName(path);
    const std::optional<std::string> ext = ExtensionOf(name);
    ExtensionCount* e = nullptr;
    if (!ext) {
      if (out_.untracked_extensions == 0) return false;
    } else {
      auto it = extensions_.find(*ext);
      if (it == extensions_.end() || it->second.ref == 0) return false;
      e = &it->second;
    }
    if (!TakeBackUnchanged(old, &out_.versus_reference)) return false;
    if (!TallyRemove(&new_tally_, old, ext)) return false;
    if (sampled) --out_.sampled_files;
    if (e != nullptr) {
      --e->ref;
    } else {
      --out_.untracked_extensions;
    }
    return true;
  }

  void Finish() {
    while (!dirs_.empty()) LeaveDir();
    if (!new_tally_over_) out_.new_tally = std::move(new_tally_);
    if (ref_ && !from_tally_ && !ref_tally_over_) out_.reference_tally = std::move(ref_tally_);
    out_.read_changes_only = from_tally_;
    for (auto& [name, n] : names_) {
      if (n.directories >= spec_.note_directories) {
        out_.repeated_names.push_back({name, n.directories, std::move(n.examples)});
      }
    }
    for (auto& [ext, e] : extensions_) {
      const uint64_t net = e.gone > e.added ? e.gone - e.added : 0;
      if (net >= spec_.deletions_count &&
          static_cast<double>(net) > spec_.deletions_fraction * static_cast<double>(e.ref)) {
        out_.deletions.push_back({ext, e.ref, e.gone, e.added, std::move(e.examples)});
      }
    }
  }

 private:
  struct Dir {
    std::string dir;
    bool in_reference = false;              // held a file in the reference
    std::vector<std::string> note_names{};  // new note-like files
  };
  struct Recent {
    std::string dir, name, path;
    ContentSample sample;
  };
  struct ExtensionCount {
    uint64_t ref = 0, gone = 0, added = 0;
    std::vector<std::string> examples;
  };
  struct NameCount {
    uint64_t directories = 0;
    std::vector<std::string> examples;
  };

  void EnterDir(std::string_view dir) {
    while (!dirs_.empty() && dirs_.back().dir != dir && !IsAncestor(dirs_.back().dir, dir)) {
      LeaveDir();
    }
    if (dirs_.empty() || dirs_.back().dir != dir) dirs_.push_back({std::string(dir)});
  }

  // A directory is left for good (depth-first order): its new note-like
  // names count if it held files in the reference (a new folder of an
  // upgrade or an import has new names everywhere; a note lands among the
  // files it took).
  void LeaveDir() {
    Dir d = std::move(dirs_.back());
    dirs_.pop_back();
    // From a tally, only the changed reference files were stepped: the
    // others are asked for, when it matters.
    if (!d.in_reference && !d.note_names.empty() && held_files_in_) {
      d.in_reference = held_files_in_(d.dir);
    }
    if (!d.in_reference) return;
    for (const std::string& n : d.note_names) {
      auto it = names_.find(n);
      if (it == names_.end()) {
        if (names_.size() >= kMaxNoteNames) {
          ++out_.untracked_names;
          continue;
        }
        it = names_.emplace(n, NameCount{}).first;
      }
      ++it->second.directories;
      if (it->second.examples.size() < kMaxSignalExamples) {
        it->second.examples.push_back(d.dir.empty() ? n : d.dir + "/" + n);
      }
    }
  }

  // Reference side of the per-extension deletions (gone: the path, when the
  // file is not in the new point).
  void CountExtension(std::string_view name, const std::string* gone) {
    ExtensionCount* e = ExtensionEntry(name);
    if (e == nullptr) return;
    ++e->ref;
    if (gone != nullptr) {
      ++e->gone;
      if (e->examples.size() < kMaxSignalExamples) e->examples.push_back(*gone);
    }
  }

  // The counts of the name's extension (either side: new files may come
  // first in key order); nullptr, counted untracked, past the caps.
  ExtensionCount* ExtensionEntry(std::string_view name) {
    std::optional<std::string> ext = ExtensionOf(name);
    if (!ext) {
      ++out_.untracked_extensions;
      return nullptr;
    }
    auto it = extensions_.find(*ext);
    if (it == extensions_.end()) {
      if (extensions_.size() >= kMaxExtensions) {
        ++out_.untracked_extensions;
        return nullptr;
      }
      it = extensions_.emplace(std::move(*ext), ExtensionCount{}).first;
    }
    return &it->second;
  }

  // A changed or new file whose content cannot be judged (no sample).
  void NotJudged(const std::string& path) {
    ++out_.not_judged;
    if (out_.not_judged_examples.size() < kMaxSignalExamples) {
      out_.not_judged_examples.push_back(path);
    }
  }

  // A changed file: the same path, or an extension-change pair.
  void JudgeChange(const ContentSample& before, const std::string& old_path,
                   const ContentSample& after, const std::string& new_path) {
    if (!before.sampled() || !after.sampled()) {
      NotJudged(new_path);
      return;
    }
    const FileFormat expected = storage::ExpectedFormat(old_path);
    bool random = false;
    if (Structured(before, expected, structured_max_) && Random(after, random_min_)) {
      out_.became_random.Add(new_path);
      random = true;
    }
    if (expected != FileFormat::kUnknown && before.format == expected &&
        after.format == FileFormat::kUnknown) {
      out_.format_mismatch.Add(new_path);
      random = true;
    }
    if (random) ++out_.random_files;
  }

  void Gone(const EntryRecord& old, const std::string& path) {
    const std::string_view dir = DirName(path);
    const std::string_view name = BaseName(path);
    MatchRename(old, path, /*gone=*/true);
    for (auto it = new_.begin(); it != new_.end(); ++it) {
      if (it->dir == dir && IsExtensionChange(name, it->name)) {
        Pair(old.sample, path, it->sample, it->path);
        new_.erase(it);
        return;
      }
    }
    Remember(&gone_, {std::string(dir), std::string(name), path, old.sample});
  }

  void New(const EntryRecord& neu, const std::string& path, std::string_view dir,
           std::string_view name) {
    if (ExtensionCount* e = ExtensionEntry(name)) ++e->added;
    if (LooksLikeRansomNote(name)) out_.known_notes.Add(path);
    // A file of the reference renamed here is not a note.
    const bool renamed = MatchRename(neu, path, /*gone=*/false);
    if (ref_ && !renamed && NoteLike(name) && neu.size <= kNoteMaxBytes &&
        dirs_.back().note_names.size() < kMaxNotesPerDir) {
      dirs_.back().note_names.emplace_back(name);
    }
    const FileFormat expected = storage::ExpectedFormat(path);
    if (expected != FileFormat::kUnknown) {
      if (!neu.sample.sampled()) {
        NotJudged(path);
      } else if (Random(neu.sample, random_min_)) {
        out_.format_mismatch.Add(path);
        ++out_.random_files;
      }
    }
    for (auto it = gone_.begin(); it != gone_.end(); ++it) {
      if (it->dir == dir && IsExtensionChange(it->name, name)) {
        Pair(it->sample, it->path, neu.sample, path);
        gone_.erase(it);
        return;
      }
    }
    Remember(&new_, {std::string(dir), std::string(name), path, neu.sample});
  }

  void Pair(const ContentSample& before, const std::string& old_path, const ContentSample& after,
            const std::string& new_path) {
    out_.extension_changes.Add(old_path + " -> " + std::string(BaseName(new_path)));
    JudgeChange(before, old_path, after, new_path);
  }

  // Pairs a file gone from the reference with a new file of the same content
  // (either may come first in key order): a rename when the name changed,
  // a move (a folder renamed) when only the directory did. Unpaired files
  // wait in a bounded map. True when `e` was paired.
  bool MatchRename(const EntryRecord& e, const std::string& path, bool gone) {
    if (!ref_ || e.size == 0 || e.digest.empty()) return false;
    std::string key(1, static_cast<char>(e.digest.algorithm()));
    key += e.digest.view();
    auto& other = gone ? new_digests_ : gone_digests_;
    auto it = other.find(key);
    if (it == other.end()) {
      auto& mine = gone ? gone_digests_ : new_digests_;
      if (mine.size() >= kMaxUnpairedDigests) {
        ++out_.untracked_renames;
      } else {
        mine.emplace(std::move(key), path);
      }
      return false;
    }
    const std::string from = gone ? path : it->second;
    const std::string to = gone ? it->second : path;
    other.erase(it);
    if (BaseName(from) == BaseName(to)) return true;  // moved, name kept
    out_.renames.Add(from + " -> " + to);
    if (gone && DirName(to) == dirs_.back().dir) {  // the new file was taken for a note
      auto& notes = dirs_.back().note_names;
      notes.erase(std::remove(notes.begin(), notes.end(), BaseName(to)), notes.end());
    }
    return true;
  }

  // Counts a file into a tally; past kMaxTallyExtensions, *over.
  // `ext`: ExtensionOf the file's name.
  static void TallyAdd(PointTally* t, bool* over, const EntryRecord& e,
                       const std::optional<std::string>& ext) {
    ++t->files;
    t->bytes += e.size;
    if (e.size == 0) ++t->zero_length_files;
    if (e.sample.sampled()) ++t->sampled_files;
    if (!ext) {
      ++t->long_extension_files;
      return;
    }
    auto it = t->extensions.find(*ext);
    if (it != t->extensions.end()) {
      ++it->second;
    } else if (t->extensions.size() < kMaxTallyExtensions) {
      t->extensions.emplace(*ext, 1);
    } else {
      *over = true;
    }
  }

  // Takes a file out of a tally; false (nothing changed) when the tally
  // does not hold it.
  static bool TallyRemove(PointTally* t, const EntryRecord& e,
                          const std::optional<std::string>& ext) {
    const bool zero = e.size == 0, sampled = e.sample.sampled();
    auto it = ext ? t->extensions.find(*ext) : t->extensions.end();
    if (t->files == 0 || t->bytes < e.size || (zero && t->zero_length_files == 0) ||
        (sampled && t->sampled_files == 0) || (!ext && t->long_extension_files == 0) ||
        (ext && it == t->extensions.end())) {
      return false;
    }
    --t->files;
    t->bytes -= e.size;
    if (zero) --t->zero_length_files;
    if (sampled) --t->sampled_files;
    if (!ext) {
      --t->long_extension_files;
    } else if (--it->second == 0) {
      t->extensions.erase(it);
    }
    return true;
  }

  static void Remember(std::deque<Recent>* w, Recent r) {
    if (w->size() >= kExtensionWindow) w->pop_front();
    w->push_back(std::move(r));
  }

  const bool ref_;  // a reference point: files are gone, new or common
  const RansomwareSpec& spec_;
  const uint8_t structured_max_, random_min_;
  SignalScan& out_;
  std::vector<Dir> dirs_;  // the current directory and its ancestors seen
  std::deque<Recent> gone_, new_;
  std::map<std::string, ExtensionCount> extensions_;
  std::map<std::string, NameCount> names_;
  // Unpaired digests (algorithm byte + digest) of gone and new files.
  std::unordered_multimap<std::string, std::string> gone_digests_, new_digests_;
  // The points' tallies (the reference's only when read whole).
  PointTally ref_tally_, new_tally_;
  bool ref_tally_over_ = false, new_tally_over_ = false;
  bool from_tally_ = false;  // StartFrom
  std::function<bool(std::string_view dir)> held_files_in_;
};

// Ransom-note names (lowercased, '-', ' ', '+' and '.' read as '_'):
// fragments that alone make a note, and fragments that do with "decrypt".
constexpr std::string_view kNoteFragments[] = {
    "how_to_decrypt",
    "how_to_recover_files",
    "how_to_restore_files",
    "decrypt_instruction",
    "decryption_instruction",
    "restore_files",
    "recover_files",
    "restore_my_files",
    "recover_my_files",
    "your_files_are_encrypted",
    "files_encrypted",
    "_recover_",
    "!!!read_me!!!",
    "!!!readme!!!",
    "ryukreadme",
    "help_decrypt",
    "help_your_files",
};
constexpr std::string_view kDecryptCompanions[] = {"readme", "read_me", "how",     "instruction",
                                                   "help",   "files",   "restore", "recover"};
constexpr std::string_view kNoteExtensions[] = {"txt", "html", "htm", "hta", "rtf", "url", "mht"};

}  // namespace

void Tally::Add(std::string_view path) {
  ++count;
  if (examples.size() < kMaxSignalExamples) examples.emplace_back(path);
}

// Format: 0x01, varints files bytes zero_length_files sampled_files
// long_extension_files, the number of extensions, then each as varint
// length, bytes, varint count (in order, counts > 0).
std::string EncodePointTally(const PointTally& t) {
  std::string out(1, '\x01');
  for (uint64_t v : {t.files, t.bytes, t.zero_length_files, t.sampled_files, t.long_extension_files,
                     static_cast<uint64_t>(t.extensions.size())}) {
    storage::internal::PutVarint64(&out, v);
  }
  for (const auto& [ext, n] : t.extensions) {
    storage::internal::PutVarint64(&out, ext.size());
    out.append(ext);
    storage::internal::PutVarint64(&out, n);
  }
  return out;
}

std::optional<PointTally> DecodePointTally(std::string_view in) {
  using storage::internal::GetVarint64;
  if (in.empty() || in[0] != '\x01') return std::nullopt;
  in.remove_prefix(1);
  PointTally t;
  uint64_t n = 0;
  for (uint64_t* v :
       {&t.files, &t.bytes, &t.zero_length_files, &t.sampled_files, &t.long_extension_files, &n}) {
    if (!GetVarint64(&in, v)) return std::nullopt;
  }
  if (n > kMaxTallyExtensions) return std::nullopt;
  uint64_t sum = t.long_extension_files;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t len = 0, count = 0;
    if (!GetVarint64(&in, &len) || len > kMaxExtensionLength || in.size() < len) {
      return std::nullopt;
    }
    std::string ext(in.substr(0, len));
    in.remove_prefix(len);
    if (!GetVarint64(&in, &count) || count == 0 ||
        (!t.extensions.empty() && ext <= t.extensions.rbegin()->first)) {
      return std::nullopt;
    }
    sum += count;
    t.extensions.emplace(std::move(ext), count);
  }
  // Every file has one extension (or a long one); the other counts are of
  // files too.
  if (!in.empty() || sum != t.files || t.zero_length_files > t.files || t.sampled_files > t.files) {
    return std::nullopt;
  }
  return t;
}

bool NoteLike(std::string_view name) {
  std::optional<std::string> ext = ExtensionOf(name);
  return ext && std::find(std::begin(kNoteExtensions), std::end(kNoteExtensions), *ext) !=
                    std::end(kNoteExtensions);
}

bool LooksLikeRansomNote(std::string_view name) {
  if (!NoteLike(name)) return false;
  std::string n = Lower(name);
  if (n == "_readme.txt") return true;  // STOP/Djvu
  for (char& c : n) {
    if (c == '-' || c == ' ' || c == '+' || c == '.') c = '_';
  }
  auto has = [&](std::string_view f) { return n.find(f) != std::string::npos; };
  if (std::any_of(std::begin(kNoteFragments), std::end(kNoteFragments), has)) return true;
  if (has("decrypt") &&
      std::any_of(std::begin(kDecryptCompanions), std::end(kDecryptCompanions), has)) {
    return true;
  }
  // "readme" with what a note asks for: README_TO_RESTORE.txt, readme-unlock.txt.
  return has("readme") && (has("restore") || has("recover") || has("unlock"));
}

namespace {

// ScanSignals from the reference's tally: nullopt when the tally does not
// add up with the changes (or a point is not recorded), to be read whole.
storage::StatusOr<std::optional<SignalScan>> ScanChanges(storage::Catalogue& cat,
                                                         const std::string& tenant,
                                                         const std::string& backup_set,
                                                         int64_t reference_ns, int64_t new_point_ns,
                                                         const RansomwareSpec& spec,
                                                         const PointTally& tally) {
  auto readable = ChangesReadable(cat, tenant, backup_set, reference_ns, new_point_ns);
  if (!readable.ok()) return readable.status();
  if (!*readable) return std::optional<SignalScan>();
  storage::Versions versions(cat.kv());
  SignalScan out;
  out.reference_ns = reference_ns;
  out.versus_reference.prev.time_ns = reference_ns;
  out.versus_reference.cur.time_ns = new_point_ns;
  Collector c(/*has_reference=*/true, spec, &out);
  storage::Status lookup;
  c.StartFrom(tally, [&](std::string_view dir) {
    auto held = versions.HoldsFileIn(tenant, backup_set, reference_ns, dir);
    if (!held.ok() && lookup.ok()) lookup = held.status();
    return held.ok() && *held;
  });
  bool adds_up = true;
  std::string p;
  storage::Status s = versions.Diff(
      tenant, backup_set, reference_ns, new_point_ns,
      [&](std::string_view path, const EntryRecord* a, const EntryRecord* b) -> storage::Status {
        const EntryRecord* old = FileOrNull(a);
        const EntryRecord* neu = FileOrNull(b);
        if (old == nullptr && neu == nullptr) return absl::OkStatus();
        p.assign(path);
        if (old != nullptr && !c.Undo(*old, p)) {
          adds_up = false;
          return absl::AbortedError("the reference's tally does not hold " + p);
        }
        c.Step(old, neu, p);
        return absl::OkStatus();
      },
      /*every_version=*/true, kMaxChangedPaths);
  // More change than it is worth holding: read whole, in bounded memory.
  if (!adds_up || absl::IsResourceExhausted(s)) return std::optional<SignalScan>();
  if (!s.ok()) return s;
  c.Finish();
  if (!lookup.ok()) return lookup;
  return std::optional<SignalScan>(std::move(out));
}

}  // namespace

storage::StatusOr<SignalScan> ScanSignals(storage::Catalogue& cat, const std::string& tenant,
                                          const std::string& backup_set,
                                          std::optional<int64_t> reference_ns, int64_t new_point_ns,
                                          const RansomwareSpec& spec,
                                          const PointTally* reference_tally) {
  if (reference_ns && reference_tally != nullptr) {
    auto changes =
        ScanChanges(cat, tenant, backup_set, *reference_ns, new_point_ns, spec, *reference_tally);
    if (!changes.ok()) return changes.status();
    if (*changes) return std::move(**changes);
  }
  SignalScan out;
  out.reference_ns = reference_ns;
  if (reference_ns) {
    out.versus_reference.prev.time_ns = *reference_ns;
    out.versus_reference.cur.time_ns = new_point_ns;
  }
  Collector c(reference_ns.has_value(), spec, &out);
  FileJoin j(cat, tenant, backup_set, reference_ns, new_point_ns);
  for (; j.Valid(); j.Next()) {
    c.Step(j.old_entry(), j.new_entry(), j.path());
  }
  if (storage::Status s = j.status(); !s.ok()) return s;
  c.Finish();
  return out;
}

std::optional<Signal> ChangeRateSignal(const ChangeRate& rate, const RansomwareSpec& spec) {
  const size_t n = std::min(rate.history.size(), kChangeRateHistory);
  if (n < kChangeRateMinHistory) return std::nullopt;
  double mean = 0, var = 0;
  for (size_t i = rate.history.size() - n; i < rate.history.size(); ++i) {
    mean += static_cast<double>(rate.history[i]);
  }
  mean /= static_cast<double>(n);
  for (size_t i = rate.history.size() - n; i < rate.history.size(); ++i) {
    const double d = static_cast<double>(rate.history[i]) - mean;
    var += d * d;
  }
  const double limit = mean + spec.change_rate_sigma * std::sqrt(var / static_cast<double>(n));
  const double changed = static_cast<double>(rate.changed_files);
  if (changed <= limit || rate.changed_files < spec.change_rate_files ||
      changed < spec.change_rate_fraction * static_cast<double>(rate.files)) {
    return std::nullopt;
  }
  Signal s;
  s.kind = kSignalChangeRate;
  s.count = rate.changed_files;
  s.threshold = static_cast<uint64_t>(
      std::max({std::floor(limit) + 1, static_cast<double>(spec.change_rate_files),
                std::ceil(spec.change_rate_fraction * static_cast<double>(rate.files))}));
  s.message = GroupDigits(rate.changed_files) +
              " files changed or added since the previous point (" +
              HumanBytes(static_cast<double>(rate.changed_bytes)) + "), beyond the set's usual " +
              GroupDigits(static_cast<uint64_t>(std::lround(mean))) + " (mean of the last " +
              std::to_string(n) + " points + " + Bits(spec.change_rate_sigma) +
              " standard deviations = " + GroupDigits(static_cast<uint64_t>(std::lround(limit))) +
              "; floor " + GroupDigits(spec.change_rate_files) + " files and " +
              Percent(spec.change_rate_fraction) + " of the point)";
  return s;
}

namespace {

// What a scan's counts were taken against, for the signals' messages.
std::string Against(const SignalScan& scan) {
  if (!scan.reference_ns) return "in the set's first judged point";
  return scan.reference_not_judged
             ? "against the last point with no signal (its content not judged)"
             : "against the last clean point";
}

}  // namespace

std::optional<Signal> ContentNotJudged(const SignalScan& scan, const RansomwareSpec& spec) {
  if (scan.not_judged < spec.random_files_suspicious) return std::nullopt;
  return Signal{std::string(kSignalContentNotJudged),
                GroupDigits(scan.not_judged) + " changed or new files " + Against(scan) +
                    " had no content sample (" + GroupDigits(scan.sampled_files) +
                    " files of the point sampled): encryption is not ruled out (a point is "
                    "clean with fewer than " +
                    GroupDigits(spec.random_files_suspicious) +
                    " such files); renames, deletions and ransom notes were checked",
                scan.not_judged, spec.random_files_suspicious, scan.not_judged_examples};
}

PointJudgement Judge(const SignalScan& scan, const ChangeRate& rate, const RansomwareSpec& spec) {
  PointJudgement j;
  bool suspicious = false;
  auto add = [&](std::string_view kind, const Tally& t, uint64_t threshold, std::string message) {
    j.signals.push_back({std::string(kind), std::move(message), t.count, threshold, t.examples});
    suspicious = true;
  };
  const std::string against = Against(scan);
  const std::string not_judged =
      scan.not_judged == 0 ? ""
                           : "; " + GroupDigits(scan.not_judged) +
                                 " changed or new files had no content sample and were not judged";
  if (scan.renames.count >= spec.renames) {
    add(kSignalRenames, scan.renames, spec.renames,
        GroupDigits(scan.renames.count) +
            " files renamed (same content under a new name, old name gone) " + against +
            ", threshold " + GroupDigits(spec.renames));
  }
  if (scan.extension_changes.count >= spec.extension_changes) {
    add(kSignalExtensionChanges, scan.extension_changes, spec.extension_changes,
        GroupDigits(scan.extension_changes.count) +
            " files replaced by the same name with a new extension " + against + ", threshold " +
            GroupDigits(spec.extension_changes));
  }
  // Deletions: per extension, or the point emptied against the reference.
  {
    Tally t;
    std::string what;
    for (const auto& d : scan.deletions) {
      const uint64_t net = d.gone - d.added;
      t.count += net;
      for (const auto& e : d.examples) {
        if (t.examples.size() < kMaxSignalExamples) t.examples.push_back(e);
      }
      what += (what.empty() ? "" : ", ") + GroupDigits(net) + " of " +
              GroupDigits(d.reference_files) + " " +
              (d.extension.empty() ? std::string("files without extension")
                                   : "." + d.extension + " files");
    }
    if (!scan.deletions.empty()) {
      what += " deleted " + against +
              " (threshold per extension: " + GroupDigits(spec.deletions_count) +
              " files and over " + Percent(spec.deletions_fraction) + " of the extension's files)";
    }
    const PointComparison& c = scan.versus_reference;
    if (scan.reference_ns && c.prev.files >= kEmptiedMinFiles) {
      std::vector<PlausibilityFinding> f = CheckPlausibility(c);
      auto has = [&](FindingKind k) {
        return std::any_of(f.begin(), f.end(), [&](const auto& x) { return x.kind == k; });
      };
      for (const auto& x : f) {
        const bool emptied = x.kind == FindingKind::kFilesDrop ||
                             (x.kind == FindingKind::kBytesDrop && has(FindingKind::kZeroLength));
        if (!emptied) continue;
        what += (what.empty() ? "" : "; ") + x.message + " " + against;
        if (x.kind == FindingKind::kFilesDrop && c.prev.files > c.cur.files && t.count == 0) {
          t.count = c.prev.files - c.cur.files;
        }
      }
    }
    if (!what.empty()) add(kSignalDeletions, t, spec.deletions_count, what);
  }
  // Content: became random, or lost its format's magic.
  const bool content = scan.random_files >= spec.random_files_suspicious;
  const double fraction = scan.sampled_files == 0 ? 0
                                                  : static_cast<double>(scan.random_files) /
                                                        static_cast<double>(scan.sampled_files);
  const bool encrypted = scan.random_files >= spec.random_files_encrypted ||
                         (content && fraction >= spec.random_files_fraction);
  const std::string scale = " (" + GroupDigits(scan.random_files) + " files in all, " +
                            Percent(fraction) + " of " + GroupDigits(scan.sampled_files) +
                            " sampled files; suspicious from " +
                            GroupDigits(spec.random_files_suspicious) + ", encrypted from " +
                            GroupDigits(spec.random_files_encrypted) + " or " +
                            Percent(spec.random_files_fraction) + ")" + not_judged;
  if (content && scan.became_random.count > 0) {
    add(kSignalBecameRandom, scan.became_random, spec.random_files_suspicious,
        GroupDigits(scan.became_random.count) + " files were structured " + against +
            " and are now random (entropy >= " + Bits(spec.random_entropy_bits) +
            " bits per byte, no known format)" + scale);
  }
  if (content && scan.format_mismatch.count > 0) {
    add(kSignalFormatMismatch, scan.format_mismatch, spec.random_files_suspicious,
        GroupDigits(scan.format_mismatch.count) +
            " files no longer start like their extension's format" + scale);
  }
  // Ransom notes.
  {
    Tally t = scan.known_notes;
    std::string what;
    if (t.count > 0) what = GroupDigits(t.count) + " new files named like a known ransom note";
    for (const auto& r : scan.repeated_names) {
      what += (what.empty() ? "" : "; ") + std::string("new file ") + r.name + " in " +
              GroupDigits(r.directories) + " directories (threshold " +
              GroupDigits(spec.note_directories) + ")";
      t.count += r.directories;
      for (const auto& e : r.examples) {
        if (t.examples.size() < kMaxSignalExamples) t.examples.push_back(e);
      }
    }
    if (!what.empty()) {
      add(kSignalRansomNotes, t, scan.known_notes.count > 0 ? 1 : spec.note_directories, what);
    }
  }
  if (!suspicious) {
    // Nothing found, but as many files as would have flagged the point
    // were not judged on content: not clean (docs/ransomware.md).
    if (std::optional<Signal> s = ContentNotJudged(scan, spec)) {
      j.verdict = PointVerdict::kContentNotJudged;
      j.signals.push_back(std::move(*s));
    }
    return j;
  }
  j.verdict = encrypted ? PointVerdict::kEncrypted : PointVerdict::kSuspicious;
  if (std::optional<Signal> s = ChangeRateSignal(rate, spec)) j.signals.push_back(std::move(*s));
  return j;
}

}  // namespace vigil::contracts
