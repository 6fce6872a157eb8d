// restic's file formats parsed (restic_parse.h): pack headers, index,
// snapshot, key and config JSON.
#include "services/worker/formats/restic_parse.h"

#include <cstring>
#include <exception>
#include <nlohmann/json.hpp>
#include <utility>

namespace vigil::formats::restic {

namespace {

using json = nlohmann::json;

// Parses JSON without letting an exception out; *offset is the byte where
// parsing failed.
bool ParseJson(std::string_view text, json* out, std::string* error, size_t* offset) {
  *offset = 0;
  try {
    *out = json::parse(text.begin(), text.end());
    return true;
  } catch (const json::parse_error& e) {
    *offset = e.byte > 0 ? e.byte - 1 : 0;
    *error = "not valid JSON";
  } catch (const std::exception& e) {
    *error = "not valid JSON";
  }
  return false;
}

bool GetString(const json& obj, const char* key, std::string* out, bool required,
               std::string* error) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) *error = std::string("field \"") + key + "\" missing";
    return !required;
  }
  if (!it->is_string()) {
    *error = std::string("field \"") + key + "\" is not a string";
    return false;
  }
  *out = it->get_ref<const std::string&>();
  return true;
}

bool GetUint(const json& obj, const char* key, uint64_t* out, bool required, std::string* error) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) *error = std::string("field \"") + key + "\" missing";
    return !required;
  }
  if (!it->is_number_unsigned()) {
    *error = std::string("field \"") + key + "\" is not a non-negative integer";
    return false;
  }
  *out = it->get<uint64_t>();
  return true;
}

bool GetStrings(const json& obj, const char* key, std::vector<std::string>* out,
                std::string* error) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (!it->is_array()) {
    *error = std::string("field \"") + key + "\" is not an array";
    return false;
  }
  for (const json& v : *it) {
    if (!v.is_string()) {
      *error = std::string("field \"") + key + "\" holds a non-string";
      return false;
    }
    out->push_back(v.get_ref<const std::string&>());
  }
  return true;
}

bool GetBase64(const json& obj, const char* key, std::string* out, std::string* error) {
  std::string text;
  if (!GetString(obj, key, &text, true, error)) return false;
  auto raw = Base64Decode(text);
  if (!raw) {
    *error = std::string("field \"") + key + "\" is not base64";
    return false;
  }
  *out = std::move(*raw);
  return true;
}

uint32_t LoadLe32(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return static_cast<uint32_t>(u[0]) | (static_cast<uint32_t>(u[1]) << 8) |
         (static_cast<uint32_t>(u[2]) << 16) | (static_cast<uint32_t>(u[3]) << 24);
}

}  // namespace

bool ParseId(std::string_view hex, std::string* raw) {
  if (hex.size() != 64) return false;
  raw->clear();
  for (size_t i = 0; i < 64; i += 2) {
    int v = 0;
    for (size_t j = i; j < i + 2; ++j) {
      char c = hex[j];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    raw->push_back(static_cast<char>(v));
  }
  return true;
}

bool ParsePackHeader(std::string_view plain, std::vector<PackBlob>* out, std::string* error,
                     size_t* offset) {
  out->clear();
  uint64_t blob_offset = 0;
  size_t pos = 0;
  while (pos < plain.size()) {
    *offset = pos;
    uint8_t type = static_cast<uint8_t>(plain[pos]);
    if (type > 3) {
      *error = "unknown blob type " + std::to_string(type) + " in pack header";
      return false;
    }
    PackBlob b;
    b.tree = (type & 1) != 0;
    b.compressed = type >= 2;
    size_t need = b.compressed ? 41 : 37;
    if (plain.size() - pos < need) {
      *error = "truncated pack header entry (" + std::to_string(plain.size() - pos) + " of " +
               std::to_string(need) + " bytes)";
      return false;
    }
    b.length = LoadLe32(plain.data() + pos + 1);
    size_t id_at = pos + 5;
    if (b.compressed) {
      b.uncompressed_length = LoadLe32(plain.data() + pos + 5);
      id_at += 4;
    }
    b.id.assign(plain.substr(id_at, 32));
    b.offset = blob_offset;
    blob_offset += b.length;
    out->push_back(std::move(b));
    pos += need;
  }
  *offset = pos;
  return true;
}

bool ParseIndex(std::string_view text, std::vector<IndexPack>* packs, std::string* error,
                size_t* offset) {
  packs->clear();
  json j;
  if (!ParseJson(text, &j, error, offset)) return false;
  const json* list = nullptr;
  if (j.is_object()) {
    auto it = j.find("packs");
    if (it == j.end() || !it->is_array()) {
      *error = "field \"packs\" missing or not an array";
      return false;
    }
    list = &*it;
    auto sup = j.find("supersedes");
    if (sup != j.end() && !sup->is_null() && !sup->is_array()) {
      *error = "field \"supersedes\" is not an array";
      return false;
    }
  } else if (j.is_array()) {
    list = &j;  // legacy index format: a bare list of packs
  } else {
    *error = "index is neither an object nor an array";
    return false;
  }
  size_t pi = 0;
  for (const json& p : *list) {
    std::string where = "packs[" + std::to_string(pi++) + "]";
    if (!p.is_object()) {
      *error = where + " is not an object";
      return false;
    }
    IndexPack pack;
    std::string hex;
    if (!GetString(p, "id", &hex, true, error)) {
      *error = where + ": " + *error;
      return false;
    }
    if (!ParseId(hex, &pack.id)) {
      *error = where + ": id is not 64 lower-case hex digits";
      return false;
    }
    auto bl = p.find("blobs");
    if (bl == p.end() || !bl->is_array()) {
      *error = where + ": field \"blobs\" missing or not an array";
      return false;
    }
    size_t bi = 0;
    for (const json& b : *bl) {
      std::string bwhere = where + ".blobs[" + std::to_string(bi++) + "]";
      if (!b.is_object()) {
        *error = bwhere + " is not an object";
        return false;
      }
      IndexBlob blob;
      std::string type;
      if (!GetString(b, "id", &hex, true, error) || !GetString(b, "type", &type, true, error) ||
          !GetUint(b, "offset", &blob.offset, true, error) ||
          !GetUint(b, "length", &blob.length, true, error) ||
          !GetUint(b, "uncompressed_length", &blob.uncompressed_length, false, error)) {
        *error = bwhere + ": " + *error;
        return false;
      }
      if (!ParseId(hex, &blob.id)) {
        *error = bwhere + ": id is not 64 lower-case hex digits";
        return false;
      }
      if (type == "tree") {
        blob.tree = true;
      } else if (type != "data") {
        *error = bwhere + ": unknown blob type \"" + type + "\"";
        return false;
      }
      if (blob.length > 0xffffffffu || blob.offset > (1ull << 62)) {
        *error = bwhere + ": offset or length out of range";
        return false;
      }
      pack.blobs.push_back(std::move(blob));
    }
    packs->push_back(std::move(pack));
  }
  return true;
}

bool ParseSnapshot(std::string_view text, Snapshot* out, std::string* error, size_t* offset) {
  json j;
  if (!ParseJson(text, &j, error, offset)) return false;
  if (!j.is_object()) {
    *error = "snapshot is not a JSON object";
    return false;
  }
  std::string raw;
  if (!GetString(j, "time", &out->time, true, error) ||
      !GetString(j, "tree", &out->tree, true, error) ||
      !GetString(j, "hostname", &out->hostname, false, error) ||
      !GetString(j, "username", &out->username, false, error) ||
      !GetString(j, "parent", &out->parent, false, error) ||
      !GetStrings(j, "paths", &out->paths, error) || !GetStrings(j, "tags", &out->tags, error)) {
    return false;
  }
  if (!ParseId(out->tree, &raw)) {
    *error = "field \"tree\" is not 64 lower-case hex digits";
    return false;
  }
  return true;
}

bool ParseKeyFile(std::string_view text, KeyFile* out, std::string* error, size_t* offset) {
  json j;
  if (!ParseJson(text, &j, error, offset)) return false;
  if (!j.is_object()) {
    *error = "key file is not a JSON object";
    return false;
  }
  if (!GetString(j, "kdf", &out->kdf, true, error) || !GetUint(j, "N", &out->n, true, error) ||
      !GetUint(j, "r", &out->r, true, error) || !GetUint(j, "p", &out->p, true, error) ||
      !GetBase64(j, "salt", &out->salt, error) || !GetBase64(j, "data", &out->data, error) ||
      !GetString(j, "username", &out->username, false, error) ||
      !GetString(j, "hostname", &out->hostname, false, error) ||
      !GetString(j, "created", &out->created, false, error)) {
    return false;
  }
  if (out->kdf != "scrypt") {
    *error = "unsupported kdf \"" + out->kdf + "\" (only scrypt)";
    return false;
  }
  return true;
}

bool ParseMasterKey(std::string_view text, Key* out, std::string* error, size_t* offset) {
  json j;
  if (!ParseJson(text, &j, error, offset)) return false;
  std::string k, r, e;
  if (!j.is_object() || !j.contains("mac") || !j["mac"].is_object()) {
    *error = "master key has no \"mac\" object";
    return false;
  }
  if (!GetBase64(j["mac"], "k", &k, error) || !GetBase64(j["mac"], "r", &r, error) ||
      !GetBase64(j, "encrypt", &e, error)) {
    return false;
  }
  if (k.size() != 16 || r.size() != 16 || e.size() != 32) {
    *error = "master key has wrong lengths (k " + std::to_string(k.size()) + ", r " +
             std::to_string(r.size()) + ", encrypt " + std::to_string(e.size()) + ")";
    return false;
  }
  std::copy(k.begin(), k.end(), out->mac_k);
  std::copy(r.begin(), r.end(), out->mac_r);
  std::copy(e.begin(), e.end(), out->encrypt);
  return true;
}

bool ParseConfig(std::string_view text, Config* out, std::string* error, size_t* offset) {
  json j;
  if (!ParseJson(text, &j, error, offset)) return false;
  if (!j.is_object()) {
    *error = "config is not a JSON object";
    return false;
  }
  uint64_t v = 0;
  if (!GetUint(j, "version", &v, true, error) || !GetString(j, "id", &out->id, true, error) ||
      !GetString(j, "chunker_polynomial", &out->chunker_polynomial, false, error)) {
    return false;
  }
  if (v != 1 && v != 2) {
    *error = "unsupported repository version " + std::to_string(v) + " (1 or 2)";
    return false;
  }
  out->version = static_cast<int>(v);
  return true;
}

bool ParseTree(std::string_view text, std::vector<TreeNode>* nodes, std::string* error,
               size_t* offset) {
  nodes->clear();
  json j;
  if (!ParseJson(text, &j, error, offset)) return false;
  if (!j.is_object()) {
    *error = "tree is not a JSON object";
    return false;
  }
  auto list = j.find("nodes");
  if (list == j.end() || list->is_null()) return true;
  if (!list->is_array()) {
    *error = "field \"nodes\" is not an array";
    return false;
  }
  size_t ni = 0;
  for (const json& n : *list) {
    const std::string where = "nodes[" + std::to_string(ni++) + "]";
    if (!n.is_object()) {
      *error = where + " is not an object";
      return false;
    }
    TreeNode node;
    std::string hex;
    if (!GetString(n, "name", &node.name, true, error) ||
        !GetString(n, "type", &node.type, true, error) ||
        !GetUint(n, "size", &node.size, false, error) ||
        !GetString(n, "subtree", &hex, false, error)) {
      *error = where + ": " + *error;
      return false;
    }
    if (node.type == "dir" && !ParseId(hex, &node.subtree)) {
      *error = where + ": directory without a valid \"subtree\" id";
      return false;
    }
    std::vector<std::string> content;
    if (!GetStrings(n, "content", &content, error)) {
      *error = where + ": " + *error;
      return false;
    }
    node.content.reserve(content.size());
    for (size_t i = 0; i < content.size(); ++i) {
      std::string raw;
      if (!ParseId(content[i], &raw)) {
        *error = where + ".content[" + std::to_string(i) + "] is not 64 lower-case hex digits";
        return false;
      }
      node.content.push_back(std::move(raw));
    }
    nodes->push_back(std::move(node));
  }
  return true;
}

KeyOpen OpenKeyFile(std::string_view json_text, std::string_view password,
                    uint64_t max_scrypt_memory, Key* master, std::string* error, size_t* offset) {
  *offset = 0;
  KeyFile kf;
  if (!ParseKeyFile(json_text, &kf, error, offset)) return KeyOpen::kMalformed;
  Key user;
  if (!DeriveKey(password, kf.salt, kf.n, kf.r, kf.p, max_scrypt_memory, &user, error)) {
    return KeyOpen::kNotTried;
  }
  std::string plain;
  if (!Decrypt(user, kf.data, &plain, error)) return KeyOpen::kWrongPassword;
  if (!ParseMasterKey(plain, master, error, offset)) {
    *error = "decrypted master key: " + *error;
    *offset = 0;
    return KeyOpen::kBadMasterKey;
  }
  return KeyOpen::kOpened;
}

}  // namespace vigil::formats::restic
