// Parsers of restic's repository files (formats 1 and 2; docs/formats.md),
// each over the plaintext: a decrypted pack header, and the JSON of index,
// snapshot, key and config files (decrypted and decompressed by
// restic_crypto.h DecodeUnpacked, except key files, which are plain JSON).
// The Verifier (restic.h) uses them; tests/fuzz/fuzz_restic_parsers.cc
// feeds them garbage.
//
// Every parser rejects garbage with false, an error and, where it has one,
// the byte offset; nothing throws. Thread-safe (no state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "services/worker/formats/restic_crypto.h"

namespace vigil::formats::restic {

// One entry of a pack header, with its offset computed from the entries
// before it (blobs are stored back to back from byte 0).
struct PackBlob {
  bool tree = false;
  bool compressed = false;
  uint32_t length = 0;               // bytes in the pack (IV + ciphertext + MAC)
  uint32_t uncompressed_length = 0;  // compressed only: plaintext length
  std::string id;                    // 32 raw bytes
  uint64_t offset = 0;
};

// Decrypted pack header: entries of 37 bytes (type 0 data, 1 tree; u32 LE
// length; id) or 41 bytes (type 2 compressed data, 3 compressed tree; u32
// length; u32 uncompressed length; id). False with *error and *offset (in
// the plaintext header) on an unknown type or a truncated entry.
bool ParsePackHeader(std::string_view plain, std::vector<PackBlob>* out, std::string* error,
                     size_t* offset);

struct IndexBlob {
  std::string id;  // 32 raw bytes
  bool tree = false;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t uncompressed_length = 0;  // 0 = not compressed
};
struct IndexPack {
  std::string id;  // 32 raw bytes
  std::vector<IndexBlob> blobs;
};
// Index JSON ({"supersedes": [...], "packs": [{"id", "blobs": [...]}]}), and
// the legacy format (a bare array of packs). *offset is a byte offset in the
// JSON text when it does not parse, else 0.
bool ParseIndex(std::string_view json, std::vector<IndexPack>* packs, std::string* error,
                size_t* offset);

struct Snapshot {
  std::string id;    // hex, the file name
  std::string time;  // as written (RFC 3339 with nanoseconds)
  std::string hostname;
  std::string username;
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  std::string tree;  // hex
  std::string parent;
};
bool ParseSnapshot(std::string_view json, Snapshot* out, std::string* error, size_t* offset);

struct KeyFile {
  std::string kdf;
  uint64_t n = 0, r = 0, p = 0;
  std::string salt;  // decoded
  std::string data;  // decoded: the encrypted master key
  std::string username, hostname, created;
};
bool ParseKeyFile(std::string_view json, KeyFile* out, std::string* error, size_t* offset);
// The decrypted "data" of a key file: {"mac": {"k", "r"}, "encrypt"}.
bool ParseMasterKey(std::string_view json, Key* out, std::string* error, size_t* offset);

struct Config {
  int version = 0;
  std::string id;
  std::string chunker_polynomial;
};
bool ParseConfig(std::string_view json, Config* out, std::string* error, size_t* offset);

// One node of a tree blob: what the structure check and a restore need.
struct TreeNode {
  std::string name;                  // as stored; checked by whoever makes a path of it
  std::string type;                  // "file", "dir", "symlink", "dev", "chardev", "fifo", ...
  uint64_t size = 0;                 // "file": bytes, as the tree says
  std::vector<std::string> content;  // "file": data blob ids (32 raw bytes each), in order
  std::string subtree;               // "dir": tree blob id (32 raw bytes)
};
// Tree JSON ({"nodes": [...]}, null or absent nodes = an empty tree). A
// "dir" node must have a valid "subtree", every "content" id must be 64
// lower-case hex digits (a null content is an empty file); other fields are
// ignored.
bool ParseTree(std::string_view json, std::vector<TreeNode>* nodes, std::string* error,
               size_t* offset);

// What trying one key file with a password gave.
enum class KeyOpen {
  kOpened,         // *master holds the repository's master key
  kWrongPassword,  // the key file is well formed; the password does not open it
  kMalformed,      // the key file does not parse (*error, *offset in its JSON)
  kBadMasterKey,   // the password opens it, but the master key inside does not parse (*error)
  kNotTried,       // scrypt parameters out of range or above max_scrypt_memory (*error)
};
// Key file JSON -> scrypt(password) -> decrypted, parsed master key.
KeyOpen OpenKeyFile(std::string_view json, std::string_view password, uint64_t max_scrypt_memory,
                    Key* master, std::string* error, size_t* offset);

// 64 lower-case hex digits -> 32 bytes.
bool ParseId(std::string_view hex, std::string* raw);

}  // namespace vigil::formats::restic
