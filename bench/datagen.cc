// vigil_datagen: deterministic benchmark data sets for bench/peers.sh.
//
//   vigil_datagen large DIR COUNT TOTAL_BYTES SEED
//       COUNT files of 256 KiB .. 8 MiB (log-uniform, scaled so that they
//       add up to about TOTAL_BYTES), 100 per directory: DIR/gNN/fNNNNN.bin
//   vigil_datagen small DIR COUNT SEED
//       COUNT files of 1 .. 8 KiB (uniform) in two levels of directories,
//       20 x 20 directories: DIR/dNN/sNN/fNNNNN.dat
//
// Content is a xoshiro256** stream seeded from (SEED, file index): the same
// arguments give the same bytes on every machine, at several GB/s, without
// any dependency. Incompressible, like most backup payloads.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

uint64_t SplitMix(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Xoshiro {
 public:
  explicit Xoshiro(uint64_t seed) {
    for (auto& w : s_) w = SplitMix(&seed);
  }
  uint64_t Next() {
    uint64_t r = Rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return r;
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "vigil_datagen: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

void MkDir(const std::string& d) {
  if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) Die("mkdir " + d);
}

void WriteFile(const std::string& path, uint64_t size, uint64_t seed, std::vector<uint64_t>* buf) {
  Xoshiro rng(seed);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Die("open " + path);
  uint64_t left = size;
  while (left > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf->size() * 8));
    for (size_t i = 0; i < (n + 7) / 8; ++i) (*buf)[i] = rng.Next();
    const char* p = reinterpret_cast<const char*>(buf->data());
    size_t off = 0;
    while (off < n) {
      ssize_t w = ::write(fd, p + off, n - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        Die("write " + path);
      }
      off += static_cast<size_t>(w);
    }
    left -= n;
  }
  if (::close(fd) != 0) Die("close " + path);
  // Fixed mtime: two generations of the same set are indistinguishable.
  struct timespec ts[2] = {{1700000000, 0}, {1700000000, 0}};
  if (::utimensat(AT_FDCWD, path.c_str(), ts, 0) != 0) Die("utimensat " + path);
}

int Usage() {
  std::fprintf(stderr,
               "usage: vigil_datagen large DIR COUNT TOTAL_BYTES SEED\n"
               "       vigil_datagen small DIR COUNT SEED\n");
  return 2;
}

// The large set: COUNT files of 256 KiB to 8 MiB (log-uniform, scaled to
// TOTAL bytes in all), 100 to a directory. Returns the bytes written.
uint64_t WriteLarge(const std::string& dir, uint64_t count, uint64_t total, uint64_t seed,
                    std::vector<uint64_t>* buf) {
  char name[64];
  const double lo = 256 << 10, hi = 8 << 20;
  Xoshiro sizes(seed ^ 0x51235123ull);
  std::vector<double> raw(count);
  double sum = 0;
  for (auto& r : raw) {
    r = lo * std::exp(sizes.Uniform() * std::log(hi / lo));
    sum += r;
  }
  double scale = static_cast<double>(total) / sum;
  MkDir(dir);
  uint64_t written = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t size = static_cast<uint64_t>(std::clamp(raw[i] * scale, lo, hi));
    std::snprintf(name, sizeof name, "/g%02llu", static_cast<unsigned long long>(i / 100));
    std::string d = dir + name;
    if (i % 100 == 0) MkDir(d);
    std::snprintf(name, sizeof name, "/f%05llu.bin", static_cast<unsigned long long>(i));
    WriteFile(d + name, size, seed * 1000003 + i, buf);
    written += size;
  }
  return written;
}

// The small set: COUNT files of 1 to 8 KiB spread over 20 x 20
// directories. Returns the bytes written.
uint64_t WriteSmall(const std::string& dir, uint64_t count, uint64_t seed,
                    std::vector<uint64_t>* buf) {
  char name[64];
  const uint64_t kTop = 20, kSub = 20;
  uint64_t per = (count + kTop * kSub - 1) / (kTop * kSub);
  Xoshiro sizes(seed ^ 0x77777777ull);
  MkDir(dir);
  uint64_t written = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t t = i / (per * kSub), s = (i / per) % kSub;
    std::snprintf(name, sizeof name, "/d%02llu", static_cast<unsigned long long>(t));
    std::string d = dir + name;
    if (i % (per * kSub) == 0) MkDir(d);
    std::snprintf(name, sizeof name, "/s%02llu", static_cast<unsigned long long>(s));
    d += name;
    if (i % per == 0) MkDir(d);
    uint64_t size = 1024 + sizes.Next() % (7 * 1024 + 1);
    std::snprintf(name, sizeof name, "/f%06llu.dat", static_cast<unsigned long long>(i));
    WriteFile(d + name, size, seed * 1000003 + i, buf);
    written += size;
  }
  return written;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string mode = argv[1];
  std::vector<uint64_t> buf(1 << 17);  // 1 MiB
  auto arg = [&](int i) { return std::strtoull(argv[i], nullptr, 10); };
  uint64_t count = 0, written = 0;
  if (mode == "large" && argc == 6) {
    count = arg(3);
    written = WriteLarge(argv[2], count, arg(4), arg(5), &buf);
  } else if (mode == "small" && argc == 5) {
    count = arg(3);
    written = WriteSmall(argv[2], count, arg(4), &buf);
  } else {
    return Usage();
  }
  std::printf("%llu files, %llu bytes\n", static_cast<unsigned long long>(count),
              static_cast<unsigned long long>(written));
  return 0;
}
