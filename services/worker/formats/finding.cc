#include "services/worker/formats/finding.h"

#include "services/common/text.h"

namespace vigil::formats {

std::string Finding::ToString() const {
  std::string s;
  if (!file.empty()) {
    s = EscapeForTerminal(file);
    if (line > 0) s += ":" + std::to_string(line);
    s += ": ";
  }
  s += message;
  if (offset >= 0) s += " (byte offset " + std::to_string(offset) + ")";
  return s;
}

Finding& Findings::Error(std::string code, std::string file, uint64_t line, std::string message,
                         std::string path, int64_t offset) {
  errors.push_back(
      {std::move(code), std::move(file), line, offset, std::move(path), std::move(message)});
  return errors.back();
}

Finding& Findings::Warning(std::string code, std::string file, uint64_t line, std::string message,
                           std::string path, int64_t offset) {
  warnings.push_back(
      {std::move(code), std::move(file), line, offset, std::move(path), std::move(message)});
  return warnings.back();
}

std::string ShowPath(std::string_view path) {
  std::string s = EscapeForTerminal(path);
  if (s.empty() || s.find(' ') != std::string::npos) return "'" + s + "'";
  return s;
}

std::string Excerpt(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string e = EscapeForTerminal(s.substr(0, kMax));
  if (s.size() > kMax) e += "...";
  return "'" + e + "'";
}

}  // namespace vigil::formats
