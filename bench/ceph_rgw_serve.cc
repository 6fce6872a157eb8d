// vigil_ceph_rgw_serve: the tests' one-node Ceph object gateway
// (tests/support/ceph_rgw.h: monitor, memstore OSD, radosgw on loopback,
// one S3 user) started for bench/remote/run, which cannot use s3rver for
// restic's own s3: backend. Bench-only; never run by ctest.
//
//   vigil_ceph_rgw_serve [--memstore-gib N] [--bucket B ...]
//
// Starts the cluster (the OSD's in-memory device N GiB, default 8: radosgw
// holds every object in the OSD's RAM), creates each --bucket, then prints
// and flushes, one per line:
//   endpoint http://127.0.0.1:PORT
//   access_key_id KEY
//   secret_access_key SECRET
//   dir DIR            (ceph.conf, the daemons' logs)
//   startup ...        (CephRgw::startup_report())
//   ready
// and waits for SIGTERM, SIGINT or SIGHUP; then kills the three daemons
// (by their PIDs) and removes DIR. The daemons die with it on any other end
// (setpriv --pdeathsig in the fixture). Exit 1 when start-up fails (the
// fixture's error and log tails on stderr), 2 for usage.
//
// Thread safety: single-threaded.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/support/ceph_rgw.h"

int main(int argc, char** argv) {
  vigil::testing::CephRgw::Options options;
  options.memstore_bytes = int64_t{8} << 30;
  std::vector<std::string> buckets;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--memstore-gib" && i + 1 < argc) {
      options.memstore_bytes = std::strtoll(argv[++i], nullptr, 10) << 30;
    } else if (a == "--bucket" && i + 1 < argc) {
      buckets.emplace_back(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: vigil_ceph_rgw_serve [--memstore-gib N] [--bucket B ...]\n");
      return 2;
    }
  }
  if (options.memstore_bytes <= 0) {
    std::fprintf(stderr, "vigil_ceph_rgw_serve: --memstore-gib must be positive\n");
    return 2;
  }
  // Blocked before any thread starts, so sigwait below takes them.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::string error;
  auto rgw = vigil::testing::CephRgw::Start(options, &error);
  if (rgw == nullptr) {
    std::fprintf(stderr, "vigil_ceph_rgw_serve: %s\n", error.c_str());
    return 1;
  }
  for (const std::string& b : buckets) {
    const vigil::storage::Status st = rgw->CreateBucket(b);
    if (!st.ok()) {
      std::fprintf(stderr, "vigil_ceph_rgw_serve: bucket %s: %s\n", b.c_str(),
                   st.ToString().c_str());
      return 1;
    }
  }
  std::printf("endpoint %s\naccess_key_id %s\nsecret_access_key %s\ndir %s\nstartup %s\nready\n",
              rgw->endpoint().c_str(), rgw->access_key_id().c_str(),
              rgw->secret_access_key().c_str(), rgw->dir().c_str(), rgw->startup_report().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  rgw->Kill();
  return 0;
}
