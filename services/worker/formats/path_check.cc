// Lexical path checks (path_check.h).
#include "services/worker/formats/path_check.h"

#include <utility>

namespace vigil::formats {

PathCheck CheckRelativePath(std::string_view path, bool reject_tilde) {
  PathCheck r;
  auto fail = [&](const char* code, const char* reason) {
    r.ok = false;
    r.code = code;
    r.reason = reason;
    return r;
  };
  if (path.empty()) return fail("path_invalid", "empty path");
  if (path.find('\0') != std::string_view::npos) return fail("path_invalid", "NUL byte in path");
  if (path[0] == '/') return fail("path_escapes", "absolute path");
  if (reject_tilde && path[0] == '~')
    return fail("path_escapes", "starts with '~' (home directory)");
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view comp = path.substr(start, slash - start);
    if (comp == "..") return fail("path_escapes", "'..' component");
    if (!comp.empty() && comp != ".") {
      if (!out.empty()) out.push_back('/');
      out.append(comp);
    }
    start = slash + 1;
  }
  if (out.empty()) return fail("path_invalid", "names the directory itself");
  r.ok = true;
  r.normalized = out != path;
  r.canonical = std::move(out);
  return r;
}

}  // namespace vigil::formats
