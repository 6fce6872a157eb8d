// The validator of a whole bag (bagit.h); the tag files' parsers are in
// bagit_parse.cc.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "services/worker/formats/bagit.h"
#include "services/worker/formats/file_source.h"
#include "services/worker/formats/safe_io.h"
#include "storage/tree_walker.h"

namespace vigil::formats {

namespace {

using storage::HashAlgorithm;

// bagit.txt is two short lines: more than this is not a declaration.
constexpr uint64_t kMaxDeclarationBytes = 64 << 10;

struct PayloadFile {
  uint64_t size = 0;
  bool regular = true;
};

// One file to read and the manifest lines that list it.
struct HashJob {
  struct Expect {
    size_t manifest;
    size_t entry;
  };
  std::vector<Expect> expects;
};

class Validator {
 public:
  // The bag is `src`'s directory; `path` names it.
  Validator(const std::string& path, FileSource& src, const BagOptions& options)
      : options_(options), src_(src) {
    report_.root = path;
  }

  BagReport Run() {
    ReadDeclaration();
    ReadBagInfo();
    ReadFetch();
    WalkPayload();
    CheckOxum();
    ReadManifests();
    ReconcileNormalisation();
    CheckCompleteness();
    if (!options_.fast) VerifyPayload();
    report_.hashed = !options_.fast;
    VerifyTagManifests();
    return Finish();
  }

 private:
  BagReport Finish() {
    report_.errors = std::move(f_.errors);
    report_.warnings = std::move(f_.warnings);
    if (storage::Status e = src_.store_error(); !e.ok())
      report_.store_error = std::string(e.message());
    return std::move(report_);
  }

  int Version() const { return VersionNumber(decl_.major, decl_.minor); }

  // Reads a tag file; false if absent (reported only if `required`) or
  // unreadable (always reported).
  bool ReadTag(const std::string& name, uint64_t max_bytes, bool required, std::string* content) {
    OpenedFile f = src_.Read(name, max_bytes, content);
    if (f.error == 0) return true;
    if (f.not_found) {
      if (required) f_.Error("missing", name, 0, "missing", name);
      return false;
    }
    f_.Error(f.symlink ? "symlink" : "unreadable", name, 0, "cannot read: " + f.error_text, name);
    return false;
  }

  bool Exists(const char* name) { return src_.Lstat(name).exists(); }

  void ReadDeclaration() {
    std::string raw;
    OpenedFile f = src_.Read(kBagitTxt, kMaxDeclarationBytes, &raw);
    if (f.error != 0) {
      if (f.not_found) {
        f_.Error("bagit_txt_missing", kBagitTxt, 0,
                 "missing: not a bag (the bag declaration bagit.txt is required)");
      } else {
        f_.Error(f.symlink ? "symlink" : "unreadable", kBagitTxt, 0,
                 "cannot read: " + f.error_text);
      }
      return;
    }
    decl_ = ParseBagDeclaration(raw, &f_);
    report_.version = decl_.version;
    report_.tag_encoding = decl_.encoding_name;
  }

  void ReadBagInfo() {
    std::string name = "bag-info.txt";
    if (Version() < 96 && !Exists("bag-info.txt") && Exists("package-info.txt")) {
      name = "package-info.txt";  // its name before BagIt 0.96
    }
    std::string raw;
    if (!ReadTag(name, options_.max_tag_file_bytes, false, &raw)) return;
    info_ = ParseBagInfo(raw, decl_.encoding, name, &f_);
    info_file_ = name;
    report_.payload_oxum = info_.oxum;
    report_.bagging_date = info_.bagging_date;
    report_.bagging_date_ns = info_.bagging_date_ns;
    report_.bag_info = info_.fields;
  }

  void ReadFetch() {
    std::string raw;
    if (!ReadTag(kFetchTxt, options_.max_tag_file_bytes, false, &raw)) return;
    fetch_ = ParseFetch(raw, decl_.encoding, kFetchTxt, &f_);
    for (size_t i = 0; i < fetch_.size(); ++i) fetch_index_.emplace(fetch_[i].path, i);
    report_.fetch_entries = fetch_.size();
  }

  void WalkPayload() {
    SourceEntry st = src_.Lstat("data");
    if (!st.exists()) {
      f_.Error("data_missing", "data/", 0, "missing (the payload directory is required)", "data");
      return;
    }
    if (st.type == storage::StoreEntryType::kSymlink) {
      f_.Error("symlink", "data/", 0, "the payload directory is a symbolic link, not followed",
               "data");
      return;
    }
    if (st.type != storage::StoreEntryType::kDirectory) {
      f_.Error("data_missing", "data/", 0, "not a directory", "data");
      return;
    }
    auto walker = src_.Walk("data", report_.root + "/data");
    if (!walker.ok()) {
      f_.Error("unreadable", "data/", 0, "cannot read: " + std::string(walker.status().message()),
               "data");
      return;
    }
    storage::WalkEntry e;
    while ((*walker)(&e)) {
      std::string rel = "data/" + e.path;
      if (e.is_directory) {
        f_.Error("unreadable", rel, 0, "cannot read this directory: " + e.error_text, rel);
        continue;
      }
      PayloadFile pf;
      if (e.type == storage::EntryType::kSymlink) {
        f_.Error("symlink", rel, 0,
                 "symbolic link (to " + ShowPath(e.link_target) + "), not followed", rel);
        pf.regular = false;
      } else if (e.type != storage::EntryType::kFile) {
        f_.Error("not_regular_file", rel, 0, "not a regular file (device, FIFO or socket)", rel);
        pf.regular = false;
      } else if (e.error != 0) {
        f_.Error("unreadable", rel, 0, "cannot examine: " + e.error_text, rel);
        pf.regular = false;
      } else {
        pf.size = e.size;
        ++report_.payload_files;
        report_.payload_bytes += e.size;
      }
      if (payload_.emplace(rel, pf).second) walk_order_.push_back(rel);
    }
    have_payload_dir_ = true;
  }

  void CheckOxum() {
    if (!info_.oxum || !have_payload_dir_) return;
    uint64_t streams = walk_order_.size();
    uint64_t octets = report_.payload_bytes;
    uint64_t pending = 0, unknown = 0;
    for (const FetchEntry& fe : fetch_) {
      if (payload_.count(fe.path) != 0) continue;
      ++pending;
      ++streams;
      if (fe.length) {
        octets += *fe.length;
      } else {
        ++unknown;
      }
    }
    report_.fetch_pending = pending;
    const PayloadOxum& ox = *info_.oxum;
    bool streams_ok = ox.streams == streams;
    bool octets_ok = unknown > 0 || ox.octets == octets;
    std::string declared = std::to_string(ox.octets) + "." + std::to_string(ox.streams);
    if (!streams_ok || !octets_ok) {
      std::string msg = "Payload-Oxum " + declared +
                        " does not match the payload: " + std::to_string(octets) + " octets in " +
                        std::to_string(streams) + " files";
      if (pending > 0) msg += " (counting " + std::to_string(pending) + " pending in fetch.txt)";
      f_.Error("oxum_mismatch", info_file_, info_.oxum_line, msg);
    }
    if (unknown > 0) {
      f_.Warning("oxum_partial", info_file_, info_.oxum_line,
                 "octet count of Payload-Oxum not checked: " + std::to_string(unknown) +
                     " files pending in fetch.txt have no length");
    }
  }

  void ReadManifests() {
    std::vector<SourceName> listed;
    std::string error;
    if (!src_.List("", &listed, &error)) {
      f_.Error("unreadable", "", 0, "cannot list the bag: " + error);
      return;
    }
    std::vector<std::string> names;
    for (const SourceName& n : listed) {
      if (ManifestFileName(n.name)) names.push_back(n.name);
    }
    std::vector<std::string> unsupported;
    for (const std::string& name : names) {
      auto [kind, alg_name] = *ManifestFileName(name);
      bool nonstandard = false;
      auto alg = ManifestAlgorithm(alg_name, &nonstandard);
      (kind == ManifestKind::kPayload ? report_.manifests : report_.tag_manifests).push_back(name);
      if (!alg) {
        f_.Warning("unsupported_algorithm", name, 0,
                   "algorithm " + Excerpt(alg_name) +
                       " is not supported (md5, sha1, sha224, sha256, sha384, sha512): its "
                       "digests are not verified");
        if (kind == ManifestKind::kPayload) unsupported.push_back(name);
      } else if (nonstandard) {
        f_.Warning("nonstandard_name", name, 0,
                   "algorithm name " + Excerpt(alg_name) + " read as " +
                       std::string(storage::AlgorithmName(*alg)) + " (RFC 8493 spells it " +
                       std::string(storage::AlgorithmName(*alg)) + ")");
      }
      std::string raw;
      if (!ReadTag(name, options_.max_tag_file_bytes, true, &raw)) continue;
      Manifest m = ParseManifest(raw, name, kind, alg, decl_.encoding, &f_);
      if (alg) {
        auto& algs = kind == ManifestKind::kPayload ? report_.algorithms : report_.tag_algorithms;
        if (std::find(algs.begin(), algs.end(), *alg) == algs.end()) algs.push_back(*alg);
      }
      if (kind == ManifestKind::kPayload) {
        payload_manifests_.push_back(std::move(m));
      } else {
        tag_manifests_.push_back(std::move(m));
      }
    }
    if (report_.manifests.empty()) {
      f_.Error("no_payload_manifest", "", 0,
               "no payload manifest (manifest-<algorithm>.txt) in the bag");
    } else if (report_.algorithms.empty() && !unsupported.empty()) {
      f_.Error("no_payload_manifest", "", 0,
               "no payload manifest in a supported algorithm (found " + unsupported.front() +
                   (unsupported.size() > 1 ? ", ..." : "") + ")");
    }
  }

  // Unicode normalisation: a payload manifest name and a payload file name
  // that differ only in their normalisation form (NFC against NFD: macOS
  // writes decomposed names, most tools composed ones) name the same file.
  // The entry is checked as that file, with the warning
  // "unicode_normalization" at its line. Only names that match nothing
  // byte for byte are compared, in NFC (utf8proc); a name that is not
  // UTF-8, or an NFC form two files share, is left alone (missing / not in
  // manifest, as before).
  void ReconcileNormalisation() {
    if (!have_payload_dir_ || payload_manifests_.empty()) return;
    auto ascii = [](const std::string& s) {
      return std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
    };
    auto listed = [&](const std::string& path) {
      for (const Manifest& m : payload_manifests_) {
        if (m.index.count(path) != 0) return true;
      }
      return false;
    };
    std::unordered_map<std::string, std::string> by_nfc;  // NFC -> name on disk
    std::set<std::string> shared;
    for (const std::string& path : walk_order_) {
      if (ascii(path) || listed(path)) continue;
      std::optional<std::string> n = Nfc(path);
      if (n && !by_nfc.emplace(*n, path).second) shared.insert(*n);
    }
    if (by_nfc.empty()) return;
    for (Manifest& m : payload_manifests_) {
      for (size_t i = 0; i < m.entries.size(); ++i) {
        ManifestEntry& e = m.entries[i];
        if (ascii(e.path) || payload_.count(e.path) != 0) continue;
        std::optional<std::string> n = Nfc(e.path);
        if (!n || shared.count(*n) != 0) continue;
        auto it = by_nfc.find(*n);
        if (it == by_nfc.end() || m.index.count(it->second) != 0) continue;
        f_.Warning("unicode_normalization", m.file, e.line,
                   ShowPath(e.path) + " names the payload file " + ShowPath(it->second) +
                       " only after Unicode normalisation (NFC and NFD forms differ): " +
                       "checked as that file",
                   e.path);
        auto idx = m.index.find(e.path);
        if (idx != m.index.end() && idx->second == i) m.index.erase(idx);
        e.path = it->second;
        m.index.emplace(e.path, i);
      }
    }
  }

  // NFC form of a UTF-8 string; nullopt if it is not valid UTF-8.
  static std::optional<std::string> Nfc(const std::string& s) {
    utf8proc_uint8_t* out = nullptr;
    utf8proc_ssize_t n =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                     static_cast<utf8proc_ssize_t>(s.size()), &out,
                     static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    if (n < 0) return std::nullopt;
    std::string r(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
    std::free(out);
    return r;
  }

  void CheckCompleteness() {
    const auto& pms = payload_manifests_;
    bool v1 = Version() >= 100;
    // Every payload file in every payload manifest (in one before 1.0).
    if (!pms.empty()) {
      for (const std::string& path : walk_order_) {
        if (!payload_.at(path).regular) continue;
        size_t listed = 0;
        const Manifest* listing = nullptr;
        for (const Manifest& m : pms) {
          if (m.index.count(path) != 0) {
            ++listed;
            if (listing == nullptr) listing = &m;
          }
        }
        if (listed == pms.size()) continue;
        if (!v1 && listed == 0) {
          f_.Error("not_in_manifest", pms.front().file, 0,
                   "payload file " + ShowPath(path) + " is not listed in any payload manifest",
                   path);
          continue;
        }
        for (const Manifest& m : pms) {
          if (m.index.count(path) != 0) continue;
          if (v1) {
            f_.Error("not_in_manifest", m.file, 0,
                     "payload file " + ShowPath(path) + " is not listed", path);
          } else {
            f_.Warning("not_in_manifest", m.file, 0,
                       "payload file " + ShowPath(path) + " is not listed (allowed before " +
                           "BagIt 1.0: " + listing->file + " lists it)",
                       path);
          }
        }
      }
    }
    // Every listed file present, unless fetch.txt says where to get it.
    std::set<std::string> pending_reported;
    for (const Manifest& m : pms) {
      for (const ManifestEntry& e : m.entries) {
        if (!have_payload_dir_ || payload_.count(e.path) != 0) continue;
        if (auto it = fetch_index_.find(e.path); it != fetch_index_.end()) {
          if (pending_reported.insert(e.path).second) {
            f_.Warning("fetch_pending", kFetchTxt, fetch_[it->second].line,
                       ShowPath(e.path) + " is absent: listed in fetch.txt, not fetched (" +
                           "vigil never downloads)",
                       e.path);
          }
          continue;
        }
        std::string msg = ShowPath(e.path) + " is missing";
        if (e.path.find('\\') != std::string::npos) {
          msg += " (a backslash is not a path separator in a manifest)";
        }
        f_.Error("missing", m.file, e.line, msg, e.path);
      }
    }
    report_.fetch_pending = 0;
    for (const FetchEntry& fe : fetch_) {
      auto present = payload_.find(fe.path);
      if (present == payload_.end()) ++report_.fetch_pending;
      size_t listed = 0;
      for (const Manifest& m : pms) listed += m.index.count(fe.path);
      for (const Manifest& m : pms) {
        if (m.index.count(fe.path) != 0 || (!v1 && listed > 0)) continue;
        f_.Error("fetch_not_in_manifest", kFetchTxt, fe.line,
                 ShowPath(fe.path) + " is not listed in " + m.file +
                     " (every file in fetch.txt must be)",
                 fe.path);
      }
      if (present != payload_.end() && present->second.regular && fe.length &&
          *fe.length != present->second.size) {
        f_.Warning("fetch_length", kFetchTxt, fe.line,
                   "length " + std::to_string(*fe.length) + " differs from the size " +
                       std::to_string(present->second.size) + " of the present file " +
                       ShowPath(fe.path),
                   fe.path);
      }
    }
  }

  // Adds manifest line (mi, ei) to the check of its file.
  static void Expect(std::vector<FileCheck>* checks, std::vector<HashJob>* jobs,
                     std::unordered_map<std::string, size_t>* by_path,
                     const std::vector<Manifest>& manifests, size_t mi, size_t ei) {
    const Manifest& m = manifests[mi];
    const ManifestEntry& e = m.entries[ei];
    auto [it, fresh] = by_path->emplace(e.path, checks->size());
    if (fresh) {
      checks->emplace_back();
      checks->back().path = e.path;
      jobs->emplace_back();
    }
    FileCheck& c = (*checks)[it->second];
    (*jobs)[it->second].expects.push_back({mi, ei});
    if (!m.algorithm) return;  // presence only
    c.expected.push_back(e.digest);
    if (std::find(c.algorithms.begin(), c.algorithms.end(), *m.algorithm) == c.algorithms.end()) {
      c.algorithms.push_back(*m.algorithm);
    }
  }

  void Evaluate(const std::vector<FileCheck>& checks, const std::vector<HashJob>& jobs,
                const std::vector<Manifest>& manifests, const char* what) {
    for (size_t i = 0; i < checks.size(); ++i) {
      const FileCheck& c = checks[i];
      const HashJob::Expect& first = jobs[i].expects.front();
      const Manifest& fm = manifests[first.manifest];
      const ManifestEntry& fe = fm.entries[first.entry];
      if (c.open.error != 0) {
        std::string code = c.open.not_found ? "missing" : c.open.symlink ? "symlink" : "unreadable";
        std::string msg = c.open.not_found
                              ? std::string(what) + " " + ShowPath(c.path) + " is missing"
                              : "cannot read " + ShowPath(c.path) + ": " + c.open.error_text;
        f_.Error(code, fm.file, fe.line, msg, c.path);
        continue;
      }
      if (c.algorithms.empty()) continue;  // presence only
      if (!c.first.ok) {
        f_.Error("unreadable", fm.file, fe.line,
                 "cannot read " + ShowPath(c.path) + ": " + c.first.error_text, c.path);
        continue;
      }
      ++report_.files_hashed;
      report_.bytes_hashed += c.first.bytes;
      for (const auto& x : jobs[i].expects) {
        const Manifest& m = manifests[x.manifest];
        if (!m.algorithm) continue;
        const ManifestEntry& e = m.entries[x.entry];
        storage::Digest got = c.First(*m.algorithm);
        if (got == e.digest) continue;
        storage::Digest again = c.Second(*m.algorithm);
        if (c.reread && again == e.digest) {
          f_.Warning("transient_mismatch", m.file, e.line,
                     ShowPath(e.path) + ": first reading " + got.Hex() +
                         " did not match; the re-read from the device matched",
                     e.path);
          continue;
        }
        std::string msg = "digest mismatch for " + ShowPath(e.path) + ": manifest " +
                          e.digest.Hex() + ", file " + got.Hex();
        if (c.reread && !(again == got)) msg += ", re-read " + again.Hex();
        f_.Error("digest_mismatch", m.file, e.line, msg, e.path);
      }
    }
  }

  void VerifyPayload() {
    std::vector<FileCheck> checks;
    std::vector<HashJob> jobs;
    std::unordered_map<std::string, size_t> by_path;
    // In walk order (directory by directory) for locality on disk.
    for (const std::string& path : walk_order_) {
      if (!payload_.at(path).regular) continue;
      for (size_t mi = 0; mi < payload_manifests_.size(); ++mi) {
        const Manifest& m = payload_manifests_[mi];
        if (!m.algorithm) continue;
        if (auto it = m.index.find(path); it != m.index.end()) {
          Expect(&checks, &jobs, &by_path, payload_manifests_, mi, it->second);
        }
      }
    }
    src_.RunFileChecks(&checks, options_.threads, options_.buffer_bytes);
    Evaluate(checks, jobs, payload_manifests_, "payload file");
  }

  void VerifyTagManifests() {
    std::vector<FileCheck> checks;
    std::vector<HashJob> jobs;
    std::unordered_map<std::string, size_t> by_path;
    for (size_t mi = 0; mi < tag_manifests_.size(); ++mi) {
      const Manifest& m = tag_manifests_[mi];
      for (size_t ei = 0; ei < m.entries.size(); ++ei) {
        if (m.entries[ei].path == m.file) {
          f_.Warning("self_listed", m.file, m.entries[ei].line,
                     "the tag manifest lists itself: that entry cannot be verified, skipped",
                     m.file);
          continue;
        }
        Expect(&checks, &jobs, &by_path, tag_manifests_, mi, ei);
      }
    }
    src_.RunFileChecks(&checks, options_.threads, options_.buffer_bytes);
    Evaluate(checks, jobs, tag_manifests_, "tag file");
  }

  BagOptions options_;
  BagReport report_;
  Findings f_;
  FileSource& src_;
  BagDeclaration decl_;
  BagInfo info_;
  std::string info_file_ = "bag-info.txt";
  std::vector<FetchEntry> fetch_;
  std::unordered_map<std::string, size_t> fetch_index_;
  std::unordered_map<std::string, PayloadFile> payload_;
  std::vector<std::string> walk_order_;
  bool have_payload_dir_ = false;
  std::vector<Manifest> payload_manifests_;
  std::vector<Manifest> tag_manifests_;
};

}  // namespace

BagReport ValidateBag(const std::string& path, const BagOptions& options) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    BagReport r;
    r.root = path;
    Findings f;
    f.Error("not_a_bag", "", 0,
            "cannot open bag directory " + ShowPath(path) + ": " + std::strerror(errno));
    r.errors = std::move(f.errors);
    return r;
  }
  BagReport r = ValidateBagAt(fd, path, options);
  ::close(fd);
  return r;
}

BagReport ValidateBagAt(int dir_fd, const std::string& shown, const BagOptions& options) {
  DirSource src(dir_fd, Symlinks::kRefuse);
  return ValidateBagFrom(src, shown, options);
}

BagReport ValidateBagFrom(FileSource& src, const std::string& shown, const BagOptions& options) {
  Validator v(shown, src, options);
  return v.Run();
}

}  // namespace vigil::formats
