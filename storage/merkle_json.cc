// JSON form of inclusion proofs (see merkle.h). Kept apart from merkle.cc:
// nlohmann-json is slow to compile.
#include <nlohmann/json.hpp>

#include "storage/hex.h"
#include "storage/merkle.h"

namespace vigil::storage {

namespace {

Status Bad(const std::string& what) {
  return absl::InvalidArgumentError("inclusion proof JSON: " + what);
}

}  // namespace

std::string SerializeInclusionProof(const InclusionProofDoc& doc) {
  nlohmann::ordered_json j;
  if (!doc.tenant.empty()) j["tenant"] = doc.tenant;
  if (!doc.backup_set.empty()) j["backup_set"] = doc.backup_set;
  j["index"] = doc.index;
  j["tree_size"] = doc.tree_size;
  j["leaf"] = HexEncode(doc.leaf);
  j["path"] = nlohmann::ordered_json::array();
  for (const MerkleHash& h : doc.path) j["path"].push_back(MerkleHex(h));
  j["root"] = MerkleHex(doc.root);
  return j.dump();
}

StatusOr<InclusionProofDoc> ParseInclusionProof(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("not valid JSON");
  if (!j.is_object()) return Bad("not a JSON object");
  InclusionProofDoc doc;
  for (const char* key : {"tenant", "backup_set"}) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_string()) return Bad(std::string("\"") + key + "\" is not a string");
    (std::string_view(key) == "tenant" ? doc.tenant : doc.backup_set) = it->get<std::string>();
  }
  for (const char* key : {"index", "tree_size"}) {
    auto it = j.find(key);
    if (it == j.end()) return Bad(std::string("missing \"") + key + "\"");
    if (!it->is_number_unsigned()) {
      return Bad(std::string("\"") + key + "\" is not a non-negative integer");
    }
    (std::string_view(key) == "index" ? doc.index : doc.tree_size) = it->get<uint64_t>();
  }
  auto leaf = j.find("leaf");
  if (leaf == j.end()) return Bad("missing \"leaf\"");
  if (!leaf->is_string()) return Bad("\"leaf\" is not a hex string");
  auto leaf_bytes = HexDecode(leaf->get_ref<const std::string&>());
  if (!leaf_bytes) return Bad("\"leaf\" is not valid hex");
  doc.leaf = *std::move(leaf_bytes);

  auto root = j.find("root");
  if (root == j.end()) return Bad("missing \"root\"");
  if (!root->is_string()) return Bad("\"root\" is not a hex string");
  auto root_hash = MerkleFromHex(root->get_ref<const std::string&>());
  if (!root_hash) return Bad("\"root\" is not 64 hex digits");
  doc.root = *root_hash;

  auto path = j.find("path");
  if (path == j.end()) return Bad("missing \"path\"");
  if (!path->is_array()) return Bad("\"path\" is not an array");
  // A valid path has at most 64 hashes (the tree height); refuse more
  // before allocating for them.
  if (path->size() > 64) return Bad("\"path\" has more than 64 hashes");
  for (size_t i = 0; i < path->size(); ++i) {
    const auto& e = (*path)[i];
    std::optional<MerkleHash> h;
    if (e.is_string()) h = MerkleFromHex(e.get_ref<const std::string&>());
    if (!h) return Bad("\"path\"[" + std::to_string(i) + "] is not 64 hex digits");
    doc.path.push_back(*h);
  }
  if (doc.index >= doc.tree_size) {
    return Bad("\"index\" " + std::to_string(doc.index) + " is not below \"tree_size\" " +
               std::to_string(doc.tree_size));
  }
  return doc;
}

}  // namespace vigil::storage
