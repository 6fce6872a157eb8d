// The one temporary-directory type of the tests: a fresh directory under
// $TMPDIR (or /tmp), removed with its content when the object goes.
//
// Used by the unit tests (tests/storage, tests/services) and the process
// tests (tests/integration/test_util.h names it). Header-only.
//
// Thread safety: none needed; one owner, usually a test or its fixture.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace vigil::testing {

class TempDir {
 public:
  // Throws std::runtime_error if the directory cannot be made (gtest
  // reports it as the test's failure).
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/vigil-test.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + tmpl);
    path_ = tmpl;
  }
  // Gives back the permissions a test may have taken away, then deletes
  // everything; errors are ignored.
  ~TempDir() {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(
             path_, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_symlink()) {
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
      }
    }
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The directory, absolute.
  const std::string& path() const { return path_; }
  // path() + "/" + rel; nothing is created.
  std::string operator/(std::string_view rel) const { return path_ + "/" + std::string(rel); }

 private:
  std::string path_;
};

}  // namespace vigil::testing
