// libFuzzer target: restic's decoders for untrusted repository content —
// pack headers, index / snapshot / tree / key / config JSON, the format-2
// "unpacked" framing (0x02 + zstd), base64 and decryption of garbage.
// Must never crash, hang or leak; a rejection always says why, and a
// reported offset lies inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "services/worker/formats/restic_crypto.h"
#include "services/worker/formats/restic_parse.h"

using namespace vigil::formats::restic;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view raw(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string error;
  size_t offset = 0;
  switch (data[0] % 8) {
    case 0: {
      std::vector<PackBlob> blobs;
      bool ok = ParsePackHeader(raw, &blobs, &error, &offset);
      if (!ok && (error.empty() || offset > raw.size())) std::abort();
      for (const auto& b : blobs) {
        if (b.id.size() != 32) std::abort();
      }
      break;
    }
    case 1: {
      std::vector<IndexPack> packs;
      if (!ParseIndex(raw, &packs, &error, &offset) && (error.empty() || offset > raw.size())) {
        std::abort();
      }
      break;
    }
    case 2: {
      Snapshot s;
      if (!ParseSnapshot(raw, &s, &error, &offset) && (error.empty() || offset > raw.size())) {
        std::abort();
      }
      break;
    }
    case 3: {
      KeyFile k;
      if (!ParseKeyFile(raw, &k, &error, &offset) && error.empty()) std::abort();
      break;
    }
    case 4: {
      Key k;
      if (!ParseMasterKey(raw, &k, &error, &offset) && error.empty()) std::abort();
      Config c;
      if (!ParseConfig(raw, &c, &error, &offset) && error.empty()) std::abort();
      break;
    }
    case 5: {
      std::vector<TreeNode> nodes;
      if (!ParseTree(raw, &nodes, &error, &offset) && (error.empty() || offset > raw.size())) {
        std::abort();
      }
      for (const auto& n : nodes) {
        if (n.type == "dir" && n.subtree.size() != 32) std::abort();
        for (const auto& id : n.content) {
          if (id.size() != 32) std::abort();
        }
      }
      std::string json;
      if (!DecodeUnpacked(raw, 1 << 20, &json, &error) && error.empty()) std::abort();
      if (json.size() > (1 << 20)) std::abort();
      break;
    }
    case 6: {
      auto decoded = Base64Decode(raw);
      if (decoded && decoded->size() > raw.size()) std::abort();
      break;
    }
    default: {
      Key k;  // all-zero key: garbage must fail the MAC, never decrypt
      std::string plain;
      if (Decrypt(k, raw, &plain, &error) && raw.size() < kOverhead) std::abort();
      break;
    }
  }
  return 0;
}
