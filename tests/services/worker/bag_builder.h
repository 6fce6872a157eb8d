// Builds BagIt fixture bags by hand at test time (Debian ships no reference
// BagIt tool): payload files, bagit.txt, bag-info.txt, payload and tag
// manifests, in a chosen version, tag-file encoding and line ending. Tests
// then damage one thing and check the validator names it.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "storage/hash.h"
#include "tests/integration/test_util.h"

namespace vigil::testing {

enum class TagEncoding { kUtf8, kUtf16LeBom, kUtf16BeBom, kLatin1 };

// UTF-8 -> the tag encoding (code points above U+00FF are not allowed in
// ISO-8859-1 fixtures).
inline std::string EncodeTagText(const std::string& utf8, TagEncoding enc) {
  if (enc == TagEncoding::kUtf8) return utf8;
  std::vector<uint32_t> cps;
  for (size_t i = 0; i < utf8.size();) {
    auto c = static_cast<unsigned char>(utf8[i]);
    uint32_t cp;
    size_t n;
    if (c < 0x80) {
      cp = c;
      n = 1;
    } else if ((c >> 5) == 6) {
      cp = c & 0x1F;
      n = 2;
    } else if ((c >> 4) == 14) {
      cp = c & 0x0F;
      n = 3;
    } else {
      cp = c & 0x07;
      n = 4;
    }
    for (size_t k = 1; k < n; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    cps.push_back(cp);
    i += n;
  }
  std::string out;
  if (enc == TagEncoding::kLatin1) {
    for (uint32_t cp : cps) {
      if (cp > 0xFF) throw std::runtime_error("not representable in ISO-8859-1");
      out.push_back(static_cast<char>(cp));
    }
    return out;
  }
  bool be = enc == TagEncoding::kUtf16BeBom;
  auto unit = [&](uint32_t u) {
    char hi = static_cast<char>(u >> 8), lo = static_cast<char>(u & 0xFF);
    out.push_back(be ? hi : lo);
    out.push_back(be ? lo : hi);
  };
  unit(0xFEFF);
  for (uint32_t cp : cps) {
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xD800 + (cp >> 10));
      unit(0xDC00 + (cp & 0x3FF));
    } else {
      unit(cp);
    }
  }
  return out;
}

// RFC 8493 §2.1.3: only CR, LF and '%' are percent-encoded in manifest paths.
inline std::string PercentEncode(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '\n') {
      out += "%0A";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '%') {
      out += "%25";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

struct BagBuilder {
  std::string root;
  std::string version = "1.0";
  std::string encoding_label = "UTF-8";
  TagEncoding encoding = TagEncoding::kUtf8;
  std::string eol = "\n";
  std::vector<storage::HashAlgorithm> algorithms = {storage::HashAlgorithm::kSha256,
                                                    storage::HashAlgorithm::kSha512};
  std::vector<storage::HashAlgorithm> tag_algorithms = {storage::HashAlgorithm::kSha256};
  std::map<std::string, std::string> payload;  // path under the bag ("data/a.txt") -> content
  std::vector<std::string> extra_info;         // more bag-info.txt lines (UTF-8)
  bool write_oxum = true;
  bool write_bag_info = true;
  std::string bagging_date = "2024-06-01";

  explicit BagBuilder(std::string r) : root(std::move(r)) {}

  std::string Path(const std::string& rel) const { return root + "/" + rel; }

  // Writes a tag file from UTF-8 lines, in the bag's encoding and line ending.
  void WriteTag(const std::string& name, const std::vector<std::string>& lines) const {
    std::string text;
    for (const auto& l : lines) text += l + eol;
    WriteFile(Path(name), EncodeTagText(text, encoding));
  }

  std::vector<std::string> ManifestLines(storage::HashAlgorithm alg) const {
    std::vector<std::string> lines;
    for (const auto& [path, content] : payload) {
      lines.push_back(storage::HashBytes(alg, content).Hex() + "  " + PercentEncode(path));
    }
    return lines;
  }

  static std::string ManifestName(storage::HashAlgorithm alg, bool tag = false) {
    return std::string(tag ? "tagmanifest-" : "manifest-") +
           std::string(storage::AlgorithmName(alg)) + ".txt";
  }

  void Build() {
    MakeDirs(Path("data"));
    uint64_t bytes = 0;
    for (const auto& [path, content] : payload) {
      WriteFile(Path(path), content);
      bytes += content.size();
    }
    WriteFile(Path("bagit.txt"), "BagIt-Version: " + version + eol +
                                     "Tag-File-Character-Encoding: " + encoding_label + eol);
    if (write_bag_info) {
      std::vector<std::string> info;
      if (!bagging_date.empty()) info.push_back("Bagging-Date: " + bagging_date);
      if (write_oxum) {
        info.push_back("Payload-Oxum: " + std::to_string(bytes) + "." +
                       std::to_string(payload.size()));
      }
      info.insert(info.end(), extra_info.begin(), extra_info.end());
      WriteTag("bag-info.txt", info);
    }
    for (auto alg : algorithms) WriteTag(ManifestName(alg), ManifestLines(alg));
    WriteTagManifests();
  }

  // (Re)computes every tag manifest over the tag files now in the bag.
  void WriteTagManifests() const {
    std::vector<std::string> tag_files = {"bagit.txt"};
    if (write_bag_info) tag_files.push_back("bag-info.txt");
    for (auto alg : algorithms) tag_files.push_back(ManifestName(alg));
    struct stat st;
    if (::stat(Path("fetch.txt").c_str(), &st) == 0) tag_files.push_back("fetch.txt");
    for (auto alg : tag_algorithms) {
      std::vector<std::string> lines;
      for (const auto& f : tag_files) {
        lines.push_back(storage::HashBytes(alg, ReadFile(Path(f))).Hex() + "  " + f);
      }
      WriteTag(ManifestName(alg, true), lines);
    }
  }
};

}  // namespace vigil::testing
