#include "tests/support/ceph_rgw.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "services/worker/remote/sigv4.h"
#include "tests/integration/test_util.h"

namespace vigil::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kStartTimeoutMs = 120000;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string Fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string RandomString(size_t n, std::string_view alphabet) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
  }
  return s;
}

int RandomPort() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_int_distribution<int>(20000, 60999)(rng);
}

// A daemon's argv under setpriv(1) --pdeathsig KILL: the kernel kills it
// when the test process dies without running the destructor (a crash, a
// ctest timeout), so no daemon outlives its test.
std::vector<std::string> Daemon(std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"});
  return argv;
}

std::string Uuid() {
  std::string s = ReadFile("/proc/sys/kernel/random/uuid");
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Alive and not a zombie (a child that exited but is not reaped yet).
bool Alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return false;
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

std::string Tail(const std::string& path, size_t lines) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return "";
  const std::string text = ReadFile(path);
  // The start of the last `lines` lines (a final newline ends the last).
  size_t start = text.size();
  for (size_t n = 0; n <= lines; ++n) {
    if (start == 0) return text;
    const size_t nl = text.rfind('\n', start - 1);
    if (nl == std::string::npos) return text;
    start = nl;
  }
  return text.substr(start + 1);
}

std::string Base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

std::string ContentMd5(const std::string& body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(body.data(), body.size(), md, &len, EVP_md5(), nullptr);
  return Base64(md, len);
}

std::string AmzDateNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

size_t OnBody(char* p, size_t size, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, size * n);
  return size * n;
}

size_t OnHeader(char* p, size_t size, size_t n, void* ud) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(ud);
  const std::string line(p, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.pop_back();
    }
    (*headers)[name] = value;
  }
  return size * n;
}

storage::Status Expect200(const CephRgw::Reply& r, const std::string& what) {
  if (r.code == 200) return storage::Status();
  return absl::InternalError(what + ": HTTP " + std::to_string(r.code) + " " + r.body);
}

constexpr char kXmlns[] = "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";

}  // namespace

std::unique_ptr<CephRgw> CephRgw::Start(const Options& options, std::string* error) {
  std::unique_ptr<CephRgw> c(new CephRgw());
  c->memstore_bytes_ = options.memstore_bytes;
  const Clock::time_point t0 = Clock::now();
  c->conf_ = c->dir_ / "ceph.conf";
  c->fsid_ = Uuid();
  for (const char* d : {"log", "run", "mon.a", "osd.0"}) MakeDirs(c->dir_ / d);
  std::string report;
  auto stage = [&](const char* name, bool (CephRgw::*step)(std::string*)) {
    const Clock::time_point t = Clock::now();
    if (!(c.get()->*step)(error)) {
      *error = std::string(name) + ": " + *error + "\n--- logs (" + c->dir() + ")\n" + c->Logs();
      return false;
    }
    report += std::string(report.empty() ? "" : ", ") + name + " " + Fixed1(SecondsSince(t)) + " s";
    return true;
  };
  if (!stage("mon", &CephRgw::StartMon) || !stage("osd", &CephRgw::StartOsd) ||
      !stage("rgw", &CephRgw::StartRgw) || !stage("user", &CephRgw::CreateUser)) {
    return nullptr;
  }
  c->startup_seconds_ = SecondsSince(t0);
  c->startup_report_ = report + "; total " + Fixed1(c->startup_seconds_) + " s";
  return c;
}

void CephRgw::WriteConfig() {
  const std::string d = dir_.path();
  // auth none: no keyrings; radosgw (a daemon) defaults to msgr2 "secure"
  // mode towards the monitor, which auth none cannot give: crc allowed.
  // The monitor's free-space checks are off (a test machine's disk may be
  // nearly full; the data is in memory anyway).
  // The monitor commits a map change every 50 ms instead of every second:
  // radosgw creates its pools one by one, each waiting for a commit (start-up
  // 15 s -> 5 s).
  WriteFile(conf_,
            "[global]\n"
            "fsid = " +
                fsid_ +
                "\n"
                "mon host = v2:127.0.0.1:" +
                std::to_string(mon_port_) +
                "\n"
                "public addr = 127.0.0.1\n"
                "ms bind msgr1 = false\n"
                "ms bind ipv6 = false\n"
                "ms bind retry count = 1\n"
                "ms bind retry delay = 1\n"
                "ms mon client mode = crc secure\n"
                "auth cluster required = none\n"
                "auth service required = none\n"
                "auth client required = none\n"
                "auth allow insecure global id reclaim = false\n"
                "run dir = " +
                d +
                "/run\n"
                "pid file = " +
                d +
                "/run/$name.pid\n"
                "crash dir = " +
                d +
                "/crash\n"
                "log file = " +
                d +
                "/log/$name.log\n"
                "log to stderr = false\n"
                "err to stderr = true\n"
                "mon cluster log file = " +
                d +
                "/log/cluster.log\n"
                "keyring = " +
                d +
                "/keyring\n"
                "mon data = " +
                d +
                "/$name\n"
                "mon data avail warn = 1\n"
                "mon data avail crit = 0\n"
                "mon allow pool size one = true\n"
                "mon warn on pool no redundancy = false\n"
                "mon max pg per osd = 1000\n"
                "paxos propose interval = 0.05\n"
                "osd data = " +
                d +
                "/$name\n"
                "osd objectstore = memstore\n"
                "memstore device bytes = " +
                std::to_string(memstore_bytes_) +
                "\n"
                "osd pool default size = 1\n"
                "osd pool default min size = 1\n"
                "osd pool default pg num = 4\n"
                "osd pool default pgp num = 4\n"
                "osd pool default pg autoscale mode = off\n"
                "osd crush chooseleaf type = 0\n"
                "[mon]\n"
                "admin socket = " +
                d +
                "/run/$name.asok\n"
                "[osd]\n"
                "admin socket = " +
                d +
                "/run/$name.asok\n"
                "[client.rgw]\n"
                "admin socket = " +
                d +
                "/run/$name.asok\n"
                "rgw thread pool size = 32\n"
                "rgw enable usage log = false\n"
                "rgw dynamic resharding = false\n");
}

bool CephRgw::Run(const std::vector<std::string>& args, std::string* out, std::string* error,
                  int timeout_s) const {
  std::vector<std::string> argv = {
      "/usr/bin/timeout", "-s", "KILL", std::to_string(timeout_s), args[0], "-c", conf_};
  argv.insert(argv.end(), args.begin() + 1, args.end());
  RunResult r = RunProcess(argv);
  if (out != nullptr) *out = r.out;
  if (r.exit_code == 0) return true;
  std::string cmd;
  for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + a;
  *error = "`" + cmd + "` exited " + std::to_string(r.exit_code) +
           (r.exit_code == 137 ? " (killed after " + std::to_string(timeout_s) + " s)" : "") +
           ": " + r.err + r.out;
  return false;
}

bool CephRgw::StartMon(std::string* error) {
  const std::string d = dir_.path();
  for (int attempt = 0; attempt < 10; ++attempt) {
    mon_port_ = RandomPort();
    WriteConfig();
    std::error_code ec;
    std::filesystem::remove_all(d + "/mon.a", ec);
    MakeDirs(d + "/mon.a");
    const RunResult m =
        RunProcess({"/usr/bin/monmaptool", "--create", "--clobber", "--add", "a",
                    "v2:127.0.0.1:" + std::to_string(mon_port_), "--fsid", fsid_, d + "/monmap"});
    if (m.exit_code != 0) {
      *error = "monmaptool: " + m.err + m.out;
      return false;
    }
    if (!Run({"ceph-mon", "-i", "a", "--mkfs", "--monmap", d + "/monmap"}, nullptr, error)) {
      return false;
    }
    mon_ = std::make_unique<BackgroundProcess>(
        Daemon({"/usr/bin/ceph-mon", "-c", conf_, "-i", "a", "-f"}),
        d + "/mon." + std::to_string(attempt));
    const std::string log = d + "/log/mon.a.log";
    // The log file is appended to by each attempt: count leader lines.
    const size_t leaders_before = CountOf(ReadFile(log), "is new leader");
    bool up = false;
    WaitFor(
        [&] {
          up = CountOf(ReadFile(log), "is new leader") > leaders_before;
          return up || !Alive(mon_->pid());
        },
        std::chrono::milliseconds(30000), std::chrono::milliseconds(50));
    if (up) return true;
    const std::string err = mon_->err();
    mon_->Signal(SIGKILL);
    mon_->Wait();
    mon_.reset();
    if (err.find("Address already in use") == std::string::npos) {
      *error = "ceph-mon did not become leader on 127.0.0.1:" + std::to_string(mon_port_) +
               " within 30 s: " + err;
      return false;
    }
  }
  *error = "ceph-mon: 10 ports in use";
  return false;
}

bool CephRgw::StartOsd(std::string* error) {
  const std::string d = dir_.path();
  const std::string uuid = Uuid();
  std::string id;
  if (!Run({"ceph", "--connect-timeout", "30", "osd", "new", uuid}, &id, error)) return false;
  if (id.rfind("0", 0) != 0) {
    *error = "`ceph osd new` gave id '" + id + "', expected 0";
    return false;
  }
  if (!Run({"ceph-osd", "-i", "0", "--mkfs", "--osd-uuid", uuid}, nullptr, error)) return false;
  osd_ = std::make_unique<BackgroundProcess>(
      Daemon({"/usr/bin/ceph-osd", "-c", conf_, "-i", "0", "-f"}), d + "/osd");
  const std::string log = d + "/log/osd.0.log";
  bool up = false;
  WaitFor(
      [&] {
        up = ReadFile(log).find("state: booting -> active") != std::string::npos;
        return up || !Alive(osd_->pid());
      },
      std::chrono::milliseconds(60000), std::chrono::milliseconds(50));
  if (!up) *error = "ceph-osd did not become active within 60 s: " + osd_->err();
  return up;
}

bool CephRgw::StartRgw(std::string* error) {
  const std::string d = dir_.path();
  CURL* h = curl_easy_init();
  for (int attempt = 0; attempt < 10; ++attempt) {
    rgw_port_ = RandomPort();
    const std::string frontend = "beast endpoint=127.0.0.1:" + std::to_string(rgw_port_);
    rgw_ = std::make_unique<BackgroundProcess>(
        Daemon({"/usr/bin/radosgw", "-c", conf_, "-n", "client.rgw", "-f", "--rgw-frontends",
                frontend}),
        d + "/rgw." + std::to_string(attempt));
    // Ready: GET / answers 200 (an anonymous ListBuckets). Radosgw opens
    // its port only once its pools exist.
    const std::string url = endpoint() + "/";
    bool up = false;
    WaitFor(
        [&] {
          std::string body;
          curl_easy_reset(h);
          curl_easy_setopt(h, CURLOPT_URL, url.c_str());
          curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
          curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
          curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
          curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
          long code = 0;
          if (curl_easy_perform(h) == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
          }
          up = code == 200 && body.find("ListAllMyBucketsResult") != std::string::npos;
          return up || !Alive(rgw_->pid());
        },
        std::chrono::milliseconds(kStartTimeoutMs), std::chrono::milliseconds(100));
    if (up) {
      curl_easy_cleanup(h);
      return true;
    }
    const std::string log = ReadFile(d + "/log/client.rgw.log") + rgw_->err();
    rgw_->Signal(SIGKILL);
    rgw_->Wait();
    rgw_.reset();
    if (log.find("Address already in use") == std::string::npos) {
      curl_easy_cleanup(h);
      *error = "radosgw did not answer on " + endpoint() + " within " +
               std::to_string(kStartTimeoutMs / 1000) + " s";
      return false;
    }
    // The log is appended to by the next attempt: start it afresh.
    std::error_code ec;
    std::filesystem::rename(d + "/log/client.rgw.log",
                            d + "/log/client.rgw.log." + std::to_string(attempt), ec);
  }
  curl_easy_cleanup(h);
  *error = "radosgw: 10 ports in use";
  return false;
}

bool CephRgw::CreateUser(std::string* error) {
  access_key_id_ = RandomString(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
  secret_access_key_ =
      RandomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
  return Run(
      {"radosgw-admin", "-n", "client.admin", "user", "create", "--uid=vigil",
       "--display-name=vigil", "--access-key=" + access_key_id_, "--secret=" + secret_access_key_},
      nullptr, error);
}

worker::remote::S3Credentials CephRgw::Credentials() const {
  worker::remote::S3Credentials c;
  c.access_key_id = access_key_id_;
  c.secret_access_key = secret_access_key_;
  return c;
}

worker::remote::S3Config CephRgw::Config(const std::string& bucket,
                                         const std::string& prefix) const {
  worker::remote::S3Config c;
  c.endpoint = endpoint();
  c.region = "us-east-1";
  c.bucket = bucket;
  c.prefix = prefix;
  return c;
}

std::string CephRgw::Logs() const {
  const std::string d = dir_.path();
  std::string out;
  for (const char* f : {"log/mon.a.log", "log/osd.0.log", "log/client.rgw.log"}) {
    out += "--- " + d + "/" + f + " (last 40 lines)\n" + Tail(d + "/" + f, 40);
  }
  for (const auto& e : std::filesystem::directory_iterator(d)) {
    if (e.path().extension() != ".err") continue;
    const std::string tail = Tail(e.path().string(), 20);
    if (!tail.empty()) out += "--- " + e.path().string() + "\n" + tail;
  }
  return out;
}

CephRgw::Reply CephRgw::Send(const Request& req) const { return Send(req, Credentials()); }

CephRgw::Reply CephRgw::Send(const Request& req, const worker::remote::S3Credentials& creds) const {
  namespace r = worker::remote;
  const std::string host = "127.0.0.1:" + std::to_string(rgw_port_);
  const std::string path = "/" + req.bucket + (req.key.empty() ? "" : "/" + req.key);
  r::SigV4Request s;
  s.method = req.method;
  s.path = path;
  s.query = req.query;
  s.payload_hash = r::Sha256Hex(req.body);
  const std::string amz_date = AmzDateNow();
  s.headers = {{"host", host}, {"x-amz-date", amz_date}, {"x-amz-content-sha256", s.payload_hash}};
  if (!req.body.empty()) s.headers.emplace_back("content-md5", ContentMd5(req.body));
  s.headers.insert(s.headers.end(), req.headers.begin(), req.headers.end());
  const std::string auth =
      r::Authorization(s, r::SigV4Credentials{creds.access_key_id, creds.secret_access_key},
                       r::SigV4Scope{amz_date, "us-east-1", "s3"});
  std::string url = endpoint() + r::CanonicalUri(path);
  if (!req.query.empty()) url += "?" + r::CanonicalQuery(req.query);

  Reply reply;
  CURL* h = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& [k, v] : s.headers) {
    if (k != "host") list = curl_slist_append(list, (k + ": " + v).c_str());
  }
  list = curl_slist_append(list, ("Authorization: " + auth).c_str());
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  if (req.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (req.method == "PUT" || req.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &reply.headers);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.code);
  } else {
    reply.body = curl_easy_strerror(rc);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(h);
  return reply;
}

storage::Status CephRgw::CreateBucket(const std::string& bucket,
                                      const BucketOptions& options) const {
  Request req{.method = "PUT", .bucket = bucket};
  if (options.object_lock) req.headers.emplace_back("x-amz-bucket-object-lock-enabled", "true");
  if (auto s = Expect200(Send(req), "CreateBucket " + bucket); !s.ok()) return s;
  if (!options.versioned) return storage::Status();
  return Expect200(Send({.method = "PUT",
                         .bucket = bucket,
                         .query = {{"versioning", ""}},
                         .body = std::string("<VersioningConfiguration ") + kXmlns +
                                 "><Status>Enabled</Status></VersioningConfiguration>"}),
                   "PutBucketVersioning " + bucket);
}

storage::Status CephRgw::PutObjectLockConfiguration(const std::string& bucket,
                                                    const std::string& mode, int days) const {
  std::string body = std::string("<ObjectLockConfiguration ") + kXmlns +
                     "><ObjectLockEnabled>Enabled</ObjectLockEnabled>";
  if (!mode.empty()) {
    body += "<Rule><DefaultRetention><Mode>" + mode + "</Mode><Days>" + std::to_string(days) +
            "</Days></DefaultRetention></Rule>";
  }
  body += "</ObjectLockConfiguration>";
  return Expect200(
      Send({.method = "PUT", .bucket = bucket, .query = {{"object-lock", ""}}, .body = body}),
      "PutObjectLockConfiguration " + bucket);
}

storage::Status CephRgw::PutObject(const std::string& bucket, const std::string& key,
                                   const std::string& body, const ObjectOptions& options,
                                   std::string* version_id) const {
  Request req{.method = "PUT", .bucket = bucket, .key = key, .body = body};
  if (!options.lock_mode.empty()) {
    req.headers.emplace_back("x-amz-object-lock-mode", options.lock_mode);
    req.headers.emplace_back("x-amz-object-lock-retain-until-date", options.retain_until);
  }
  const Reply r = Send(req);
  if (version_id != nullptr) {
    auto it = r.headers.find("x-amz-version-id");
    *version_id = it == r.headers.end() ? "" : it->second;
  }
  return Expect200(r, "PutObject " + bucket + "/" + key);
}

storage::Status CephRgw::PutObjectRetention(const std::string& bucket, const std::string& key,
                                            const std::string& mode,
                                            const std::string& retain_until,
                                            const std::string& version_id) const {
  Request req{.method = "PUT",
              .bucket = bucket,
              .key = key,
              .query = {{"retention", ""}},
              .body = std::string("<Retention ") + kXmlns + "><Mode>" + mode +
                      "</Mode><RetainUntilDate>" + retain_until + "</RetainUntilDate></Retention>"};
  if (!version_id.empty()) req.query.emplace_back("versionId", version_id);
  return Expect200(Send(req), "PutObjectRetention " + bucket + "/" + key);
}

void CephRgw::Stop() {
  for (auto* p : {&rgw_, &osd_, &mon_}) {
    if (*p != nullptr) (*p)->Signal(SIGTERM);
  }
  for (auto* p : {&rgw_, &osd_, &mon_}) {
    if (*p == nullptr) continue;
    (*p)->Wait(10000);  // SIGKILL after 10 s
    p->reset();
  }
}

void CephRgw::Kill() {
  for (auto* p : {&rgw_, &osd_, &mon_}) {
    if (*p == nullptr) continue;
    (*p)->Signal(SIGKILL);
    (*p)->Wait();
    p->reset();
  }
}

CephRgw::~CephRgw() { Kill(); }

}  // namespace vigil::testing
