#include "services/worker/state.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "services/common/files.h"

namespace vigil::worker {
namespace {

constexpr std::string_view kMagic = "vigil-worker-state";
constexpr std::string_view kVersion = "1";
constexpr size_t kCredentialHex = 64;  // RandomHex(32) on the coordinator
constexpr size_t kMaxIdBytes = 64;

bool IsCredential(std::string_view s) {
  if (s.size() != kCredentialHex) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsWorkerId(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdBytes) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
          c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

std::string StateFile(const std::string& dir) { return dir + "/" + kStateFileName; }

}  // namespace

storage::StatusOr<WorkerState> ParseWorkerState(std::string_view text, const std::string& file) {
  auto error = [&](size_t line, size_t byte, const std::string& what) {
    return absl::DataLossError("worker state '" + file + "': line " + std::to_string(line) +
                               " (byte " + std::to_string(byte) + "): " + what);
  };
  WorkerState st;
  bool header = false, have_id = false, have_credential = false;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    ++line_no;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    const size_t start = pos;
    pos = end + 1;
    for (size_t i = 0; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      if (c < 0x20 || c == 0x7f) {
        return error(line_no, start + i,
                     "control byte 0x" + std::string(1, "0123456789abcdef"[c >> 4]) +
                         std::string(1, "0123456789abcdef"[c & 15]) + " (corrupt file?)");
      }
    }
    if (line.empty() || line.front() == '#') continue;
    const size_t sp = line.find(' ');
    std::string_view key = line.substr(0, sp);
    std::string_view value = sp == std::string_view::npos ? "" : line.substr(sp + 1);
    const size_t value_byte = start + (sp == std::string_view::npos ? line.size() : sp + 1);
    if (!header) {
      if (key != kMagic) {
        return error(line_no, start,
                     "not a worker state file (expected '" + std::string(kMagic) + " " +
                         std::string(kVersion) + "')");
      }
      if (value != kVersion) {
        return absl::FailedPreconditionError(
            "worker state '" + file + "': line " + std::to_string(line_no) + " (byte " +
            std::to_string(value_byte) + "): format version '" + std::string(value) +
            "' is not known to this build (1)");
      }
      header = true;
      continue;
    }
    if (key == "worker_id") {
      if (have_id) return error(line_no, start, "field 'worker_id' given twice");
      if (!IsWorkerId(value)) {
        return error(line_no, value_byte,
                     "field 'worker_id': not 1..64 letters, digits, '-', '_' or '.'");
      }
      st.worker_id = std::string(value);
      have_id = true;
    } else if (key == "credential") {
      if (have_credential) return error(line_no, start, "field 'credential' given twice");
      if (!IsCredential(value)) {
        return error(line_no, value_byte, "field 'credential': not 64 lowercase hex digits");
      }
      st.credential = std::string(value);
      have_credential = true;
    } else {
      return error(line_no, start, "unknown field '" + std::string(key.substr(0, 40)) + "'");
    }
  }
  if (!header) return error(line_no + 1, text.size(), "empty file (no 'vigil-worker-state 1')");
  if (!have_id) return error(line_no + 1, text.size(), "field 'worker_id' is missing");
  if (!have_credential) return error(line_no + 1, text.size(), "field 'credential' is missing");
  return st;
}

std::string FormatWorkerState(const WorkerState& state) {
  std::string out =
      "# Vigil worker state: the identity the coordinator gave this worker. Secret.\n"
      "# Delete this file to enrol again (needs an enrolment token).\n";
  out += std::string(kMagic) + " " + std::string(kVersion) + "\n";
  out += "worker_id " + state.worker_id + "\n";
  out += "credential " + state.credential + "\n";
  return out;
}

storage::StatusOr<std::optional<WorkerState>> LoadWorkerState(const std::string& dir) {
  const std::string file = StateFile(dir);
  auto text = ReadWholeFile(file);
  if (absl::IsNotFound(text.status())) return std::optional<WorkerState>();
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        "worker state: " + std::string(text.status().message()));
  }
  auto st = ParseWorkerState(*text, file);
  if (!st.ok()) return st.status();
  return std::optional<WorkerState>(std::move(*st));
}

storage::Status SaveWorkerState(const std::string& dir, const WorkerState& state) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError("worker state: cannot create directory '" + dir +
                               "': " + std::strerror(errno));
  }
  if (!IsWorkerId(state.worker_id) || !IsCredential(state.credential)) {
    return absl::InvalidArgumentError(
        "worker state: the coordinator's worker id or credential "
        "has an unexpected form; not stored");
  }
  storage::Status s = WriteFileDurably(StateFile(dir), FormatWorkerState(state), 0600);
  if (!s.ok()) return absl::Status(s.code(), "worker state: " + std::string(s.message()));
  return absl::OkStatus();
}

}  // namespace vigil::worker
