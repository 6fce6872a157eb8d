#include "services/cli/apply_yaml.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "storage/key_codec.h"

namespace vigil::cli {
namespace {

class Parser {
 public:
  explicit Parser(const std::string& file) : file_(file) {}

  storage::Status Error(const YAML::Mark& m, const std::string& what) {
    return absl::InvalidArgumentError(file_ + ":" + std::to_string(m.line + 1) + ":" +
                                      std::to_string(m.column + 1) + ": " + what);
  }

  // Checks that `node` is a map with only `allowed` keys.
  storage::Status Fields(const YAML::Node& node, const std::string& what,
                         const std::set<std::string>& allowed) {
    if (!node.IsMap()) return Error(node.Mark(), what + " must be a mapping");
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) return Error(kv.first.Mark(), "keys must be plain strings");
      std::string key = kv.first.Scalar();
      if (allowed.count(key) == 0) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        return Error(kv.first.Mark(),
                     "unknown field '" + key + "' in " + what + " (expected one of: " + list + ")");
      }
    }
    return absl::OkStatus();
  }

  storage::Status String(const YAML::Node& map, const std::string& what, const std::string& key,
                         bool required, std::string* out) {
    YAML::Node v = map[key];
    if (!v) {
      if (required) return Error(map.Mark(), what + ": missing field '" + key + "'");
      return absl::OkStatus();
    }
    if (!v.IsScalar()) return Error(v.Mark(), what + ": field '" + key + "' must be a string");
    *out = v.Scalar();
    if (required && out->empty()) {
      return Error(v.Mark(), what + ": field '" + key + "' is empty");
    }
    return absl::OkStatus();
  }

  storage::Status Bool(const YAML::Node& map, const std::string& what, const std::string& key,
                       bool* out) {
    YAML::Node v = map[key];
    if (!v) return absl::OkStatus();
    if (!v.IsScalar() || !YAML::convert<bool>::decode(v, *out)) {
      return Error(v.Mark(), what + ": field '" + key + "' must be true or false");
    }
    return absl::OkStatus();
  }

  storage::Status Document(const YAML::Node& doc, v1::ApplyRequest* req) {
    if (doc.IsNull()) return absl::OkStatus();  // an empty document (trailing ---)
    if (!doc.IsMap()) return Error(doc.Mark(), "a document must be a mapping");
    std::string api, kind;
    if (auto s = String(doc, "document", "apiVersion", true, &api); !s.ok()) return s;
    if (api != "vigil/v1") {
      return Error(doc["apiVersion"].Mark(), "apiVersion must be 'vigil/v1', got '" + api + "'");
    }
    if (auto s = String(doc, "document", "kind", true, &kind); !s.ok()) return s;
    if (kind == "Location") {
      std::string what = "Location";
      if (auto s =
              Fields(doc, what, {"apiVersion", "kind", "name", "site", "offsite", "immutable"});
          !s.ok()) {
        return s;
      }
      v1::Location l;
      std::string v;
      if (auto s = String(doc, what, "name", true, &v); !s.ok()) return s;
      l.set_name(v);
      if (auto s = String(doc, what, "site", true, &v); !s.ok()) return s;
      l.set_site(v);
      bool b = false;
      if (auto s = Bool(doc, what, "offsite", &b); !s.ok()) return s;
      l.set_offsite(b);
      b = false;
      if (auto s = Bool(doc, what, "immutable", &b); !s.ok()) return s;
      l.set_immutable(b);
      *req->add_locations() = std::move(l);
      return absl::OkStatus();
    }
    if (kind == "Tenant") {
      std::string what = "Tenant";
      if (auto s = Fields(doc, what, {"apiVersion", "kind", "name", "displayName"}); !s.ok()) {
        return s;
      }
      v1::Tenant t;
      std::string v;
      if (auto s = String(doc, what, "name", true, &v); !s.ok()) return s;
      t.set_name(v);
      v.clear();
      if (auto s = String(doc, what, "displayName", false, &v); !s.ok()) return s;
      t.set_display_name(v);
      *req->add_tenants() = std::move(t);
      return absl::OkStatus();
    }
    if (kind == "Contract") {
      std::string what = "Contract";
      if (auto s = Fields(doc, what, {"apiVersion", "kind", "tenant", "assets"}); !s.ok()) {
        return s;
      }
      std::string tenant;
      if (auto s = String(doc, what, "tenant", true, &tenant); !s.ok()) return s;
      YAML::Node assets = doc["assets"];
      if (!assets || !assets.IsSequence()) {
        return Error(assets ? assets.Mark() : doc.Mark(), "Contract: 'assets' must be a list");
      }
      for (const auto& a : assets) {
        if (auto s = Fields(a, "asset", {"name", "backupSets"}); !s.ok()) return s;
        std::string asset;
        if (auto s = String(a, "asset", "name", true, &asset); !s.ok()) return s;
        std::string awhat = "asset '" + asset + "'";
        YAML::Node sets = a["backupSets"];
        if (!sets || !sets.IsSequence() || sets.size() == 0) {
          return Error(sets ? sets.Mark() : a.Mark(),
                       awhat + ": 'backupSets' must be a non-empty list");
        }
        for (const auto& b : sets) {
          if (auto s = Fields(b, "backup set", {"name", "location", "path", "format", "mutable"});
              !s.ok()) {
            return s;
          }
          v1::BackupSet bs;
          bs.set_tenant(tenant);
          bs.set_asset(asset);
          std::string v;
          if (auto s = String(b, awhat + " backup set", "name", true, &v); !s.ok()) return s;
          bs.set_name(v);
          std::string bwhat = "backup set '" + v + "'";
          if (auto s = String(b, bwhat, "location", true, &v); !s.ok()) return s;
          bs.set_location(v);
          if (auto s = String(b, bwhat, "path", true, &v); !s.ok()) return s;
          if (!storage::IsValidRelativePath(v)) {
            return Error(b["path"].Mark(), bwhat +
                                               ": 'path' must be relative to the location's "
                                               "root, with no '..', '.' or empty component");
          }
          bs.set_path(v);
          v.clear();
          if (auto s = String(b, bwhat, "format", false, &v); !s.ok()) return s;
          bs.set_format(v);
          bool m = false;
          if (auto s = Bool(b, bwhat, "mutable", &m); !s.ok()) return s;
          bs.set_mutable_(m);
          *req->add_backup_sets() = std::move(bs);
        }
      }
      return absl::OkStatus();
    }
    return Error(doc["kind"].Mark(),
                 "unknown kind '" + kind + "' (expected Location, Tenant or Contract)");
  }

 private:
  std::string file_;
};

}  // namespace

storage::Status ParseApplyYaml(const std::string& file, const std::string& text,
                               v1::ApplyRequest* req) {
  Parser p(file);
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    return p.Error(e.mark, e.msg);
  }
  try {
    for (const auto& d : docs) {
      if (auto s = p.Document(d, req); !s.ok()) return s;
    }
  } catch (const YAML::Exception& e) {
    return p.Error(e.mark, e.msg);
  }
  return absl::OkStatus();
}

}  // namespace vigil::cli
