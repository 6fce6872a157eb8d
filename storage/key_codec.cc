#include "storage/key_codec.h"

#include <cstring>

#include "storage/key_parts.h"

namespace vigil::storage {

void AppendString(std::string* out, std::string_view s) {
  for (char c : s) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  out->push_back('\0');
  out->push_back('\x01');
}

void AppendI64(std::string* out, int64_t v) {
  uint64_t u = static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(u & 0xFF);
    u >>= 8;
  }
  out->append(buf, 8);
}

bool IsValidRelativePath(std::string_view p) {
  if (p.empty() || p.front() == '/' || p.back() == '/') return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view comp = p.substr(start, end - start);
    if (comp.empty() || comp == "." || comp == "..") return false;
    if (comp.find('\0') != std::string_view::npos) return false;
    start = end + 1;
  }
  return true;
}

void AppendPath(std::string* out, std::string_view p) {
  size_t base = out->size();
  out->append(p);
  for (size_t i = base; i < out->size(); ++i) {
    if ((*out)[i] == '/') (*out)[i] = '\0';
  }
}

std::string EncodePath(std::string_view path) {
  std::string out;
  AppendPath(&out, path);
  return out;
}

std::string DecodePath(std::string_view encoded_path) {
  std::string out(encoded_path);
  for (char& c : out) {
    if (c == '\0') c = '/';
  }
  return out;
}

std::string BackupSetPrefix(std::string_view tenant, std::string_view backup_set) {
  std::string out;
  out.reserve(tenant.size() + backup_set.size() + 4);
  AppendString(&out, tenant);
  AppendString(&out, backup_set);
  return out;
}

std::string RestorePointPrefix(std::string_view tenant, std::string_view backup_set,
                               int64_t restore_point) {
  std::string out = BackupSetPrefix(tenant, backup_set);
  AppendI64(&out, restore_point);
  return out;
}

std::string EncodeEntryKey(const EntryKey& k) {
  std::string out = RestorePointPrefix(k.tenant, k.backup_set, k.restore_point);
  AppendPath(&out, k.path);
  return out;
}

// Consumes Str() from the front of *in into *out; false on malformed input.
bool ConsumeString(std::string_view* in, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < in->size()) {
    char c = (*in)[i];
    if (c != '\0') {
      out->push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= in->size()) return false;
    char next = (*in)[i + 1];
    if (next == '\xff') {
      out->push_back('\0');
      i += 2;
    } else if (next == '\x01') {
      in->remove_prefix(i + 2);
      return true;
    } else {
      return false;
    }
  }
  return false;
}

bool ConsumeI64(std::string_view* in, int64_t* v) {
  if (in->size() < 8) return false;
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>((*in)[i]);
  *v = static_cast<int64_t>(u ^ (uint64_t{1} << 63));
  in->remove_prefix(8);
  return true;
}

std::optional<EntryKey> DecodeEntryKey(std::string_view key) {
  EntryKey k;
  if (!ConsumeString(&key, &k.tenant)) return std::nullopt;
  if (!ConsumeString(&key, &k.backup_set)) return std::nullopt;
  if (!ConsumeI64(&key, &k.restore_point)) return std::nullopt;
  if (key.find('/') != std::string_view::npos) return std::nullopt;  // never encoded: malformed
  k.path = DecodePath(key);
  if (!IsValidRelativePath(k.path)) return std::nullopt;
  return k;
}

std::string HashIndexPrefix(const Digest& d) {
  std::string out;
  out.reserve(1 + d.size());
  out.push_back(static_cast<char>(d.algorithm()));
  out.append(d.view());
  return out;
}

std::string EncodeHashKey(const Digest& d, std::string_view entry_key) {
  std::string out = HashIndexPrefix(d);
  out.append(entry_key);
  return out;
}

std::optional<HashKey> DecodeHashKey(std::string_view key) {
  if (key.empty()) return std::nullopt;
  uint8_t a = static_cast<uint8_t>(key[0]);
  if (!IsKnownAlgorithm(a)) return std::nullopt;
  auto alg = static_cast<HashAlgorithm>(a);
  size_t n = DigestSize(alg);
  if (key.size() < 1 + n) return std::nullopt;
  HashKey hk;
  hk.digest = Digest(alg, {reinterpret_cast<const uint8_t*>(key.data() + 1), n});
  hk.entry_key = key.substr(1 + n);
  return hk;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(s.back());
    if (c != 0xFF) {
      ++c;
      return s;
    }
    s.pop_back();
  }
  return s;
}

}  // namespace vigil::storage
