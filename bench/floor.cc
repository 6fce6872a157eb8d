// vigil_floor DIR [-j THREADS] [--sha256]: the floor `vigil verify` is
// compared with.
//
// Walks DIR (main thread) and feeds the regular files it finds to THREADS
// hashing threads (default 2) that read each file with 1 MiB reads and hash
// it with XXH3-128. No catalogue, no sorting, no per-entry bookkeeping: the
// least work that still reads and hashes every byte. Prints files, bytes and
// seconds (and an XOR of the digests, so nothing can be optimised away).
// --sha256 hashes with OpenSSL's SHA-256 instead (SHA-NI where the CPU has
// it): the bare pass a BagIt bag with a sha256 manifest is compared with.
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

class Queue {
 public:
  void Push(std::vector<std::string>&& batch) {
    std::unique_lock<std::mutex> l(mu_);
    not_full_.wait(l, [&] { return q_.size() < 64; });
    q_.push_back(std::move(batch));
    not_empty_.notify_one();
  }
  void Close() {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  bool Pop(std::vector<std::string>* batch) {
    std::unique_lock<std::mutex> l(mu_);
    not_empty_.wait(l, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return false;
    *batch = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<std::vector<std::string>> q_;
  bool closed_ = false;
};

struct Walker {
  Queue* queue;
  std::vector<std::string> batch;
  uint64_t errors = 0;

  void Emit(std::string path) {
    batch.push_back(std::move(path));
    if (batch.size() >= 128) Flush();
  }
  void Flush() {
    if (!batch.empty()) queue->Push(std::move(batch));
    batch = {};
  }
  void Walk(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      ++errors;
      return;
    }
    while (struct dirent* de = ::readdir(d)) {
      const char* n = de->d_name;
      if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
      std::string p = dir + "/" + n;
      unsigned char type = de->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st;
        if (::lstat(p.c_str(), &st) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
      }
      if (type == DT_DIR) {
        Walk(p);
      } else if (type == DT_REG) {
        Emit(std::move(p));
      }
    }
    ::closedir(d);
  }
};

struct Totals {
  std::atomic<uint64_t> files{0}, bytes{0}, errors{0}, digest_xor{0};
};

void HashLoop(Queue* queue, Totals* totals, bool sha256) {
  std::vector<unsigned char> buf(1 << 20);
  XXH3_state_t* state = XXH3_createState();
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_MD* sha = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  uint64_t files = 0, bytes = 0, errors = 0, x = 0;
  std::vector<std::string> batch;
  while (queue->Pop(&batch)) {
    for (const std::string& p : batch) {
      int fd = ::open(p.c_str(), O_RDONLY | O_NOATIME | O_CLOEXEC);
      if (fd < 0) fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        ++errors;
        continue;
      }
      ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
      if (sha256) {
        EVP_DigestInit_ex(md, sha, nullptr);
      } else {
        XXH3_128bits_reset(state);
      }
      bool ok = true;
      while (true) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) ok = false;
        if (n <= 0) break;
        if (sha256) {
          EVP_DigestUpdate(md, buf.data(), static_cast<size_t>(n));
        } else {
          XXH3_128bits_update(state, buf.data(), static_cast<size_t>(n));
        }
        bytes += static_cast<uint64_t>(n);
      }
      ::close(fd);
      if (!ok) {
        ++errors;
        continue;
      }
      if (sha256) {
        unsigned char d[32];
        unsigned int len = 0;
        EVP_DigestFinal_ex(md, d, &len);
        uint64_t w;
        std::memcpy(&w, d, sizeof w);
        x ^= w;
      } else {
        XXH128_hash_t h = XXH3_128bits_digest(state);
        x ^= h.low64 ^ h.high64;
      }
      ++files;
    }
  }
  XXH3_freeState(state);
  EVP_MD_free(sha);
  EVP_MD_CTX_free(md);
  totals->files += files;
  totals->bytes += bytes;
  totals->errors += errors;
  totals->digest_xor ^= x;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  int threads = 2;
  bool sha256 = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-j" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--sha256") {
      sha256 = true;
    } else if (dir.empty() && a[0] != '-') {
      dir = a;
    } else {
      dir.clear();
      break;
    }
  }
  if (dir.empty() || threads < 1) {
    std::fprintf(stderr, "usage: vigil_floor DIR [-j THREADS] [--sha256]\n");
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  Queue queue;
  Totals totals;
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back(HashLoop, &queue, &totals, sha256);
  Walker walker{&queue, {}, 0};
  walker.Walk(dir);
  walker.Flush();
  queue.Close();
  for (auto& t : pool) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t errors = totals.errors + walker.errors;
  std::printf(
      "files %llu bytes %llu seconds %.3f (%.1f MB/s, %.0f files/s) errors %llu xor %016llx\n",
      static_cast<unsigned long long>(totals.files.load()),
      static_cast<unsigned long long>(totals.bytes.load()), secs,
      static_cast<double>(totals.bytes) / secs / 1e6, static_cast<double>(totals.files) / secs,
      static_cast<unsigned long long>(errors),
      static_cast<unsigned long long>(totals.digest_xor.load()));
  return errors == 0 ? 0 : 1;
}
