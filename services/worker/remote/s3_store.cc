#include "services/worker/remote/s3_store.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "services/worker/remote/s3_xml.h"
#include "services/worker/remote/sigv4.h"

namespace vigil::worker::remote {
namespace {

using storage::Status;
using storage::StatusOr;
using storage::StoreEntry;
using storage::StoreEntryType;

constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr size_t kMaxIdleHandles = 8;
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void CurlGlobalInit() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

std::string AmzDateNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

double Jitter01() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Quote(std::string_view s) { return "'" + std::string(s.substr(0, 300)) + "'"; }

// What a response told, beyond its body.
struct Response {
  long code = 0;
  std::string error_body;  // a non-2xx body, capped
  std::string content_length, last_modified, etag, checksum_sha256, content_range;
  std::string lock_mode, lock_until, legal_hold;  // x-amz-object-lock-*
  bool etag_not_md5 = false;  // SSE-KMS or SSE-C (x-amz-server-side-encryption*)
  // A 206 whose Content-Range starts at or past the object's size ("bytes
  // 0-0/0" for an empty object, where S3 answers 416): nothing to read.
  bool range_past_end = false;
};

// Where a 2xx body goes.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // A new attempt begins: forget what the last one delivered.
  virtual void Reset() = 0;
  // The next chunk of a body with HTTP status `code`; `*enough` = true stops
  // the transfer (counted a success). An error aborts without retry.
  virtual Status Take(long code, std::string_view data, bool* enough) = 0;
};

struct Transfer {
  CURL* h = nullptr;
  BodySink* sink = nullptr;
  Response resp;
  uint64_t content_bytes = 0;
  bool enough = false;
  Status sink_error;
};

size_t OnWrite(char* p, size_t size, size_t n, void* ud) {
  auto* t = static_cast<Transfer*>(ud);
  const size_t len = size * n;
  long code = 0;
  curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 200 && code < 300) {
    t->content_bytes += len;
    if (t->sink == nullptr) return len;
    bool enough = false;
    Status s = t->sink->Take(code, std::string_view(p, len), &enough);
    if (!s.ok()) {
      t->sink_error = std::move(s);
      return 0;  // != len: CURLE_WRITE_ERROR
    }
    if (enough) {
      t->enough = true;
      return 0;
    }
    return len;
  }
  if (t->resp.error_body.size() < kMaxErrorBody) {
    t->resp.error_body.append(p, std::min(len, kMaxErrorBody - t->resp.error_body.size()));
  }
  return len;
}

size_t OnHeader(char* p, size_t size, size_t n, void* ud) {
  auto* t = static_cast<Transfer*>(ud);
  const size_t len = size * n;
  std::string_view line(p, len);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after 100 Continue)
    t->resp = Response{};
    return len;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  const std::string name = Lower(line.substr(0, colon));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (name == "content-length") t->resp.content_length = value;
  if (name == "last-modified") t->resp.last_modified = value;
  if (name == "etag") t->resp.etag = value;
  if (name == "x-amz-checksum-sha256") t->resp.checksum_sha256 = value;
  if (name == "x-amz-object-lock-mode") t->resp.lock_mode = value;
  if (name == "x-amz-object-lock-retain-until-date") t->resp.lock_until = value;
  if (name == "x-amz-object-lock-legal-hold") t->resp.legal_hold = value;
  if ((name == "x-amz-server-side-encryption" && value.substr(0, 7) == "aws:kms") ||
      name == "x-amz-server-side-encryption-customer-algorithm") {
    t->resp.etag_not_md5 = true;
  }
  if (name == "content-range") {
    t->resp.content_range = value;
    unsigned long long first = 0, last = 0, total = 0;
    if (std::sscanf(t->resp.content_range.c_str(), "bytes %llu-%llu/%llu", &first, &last, &total) ==
            3 &&
        first >= total) {
      // Some servers promise a byte of an empty object and never send it:
      // stop here rather than wait for the stall timeout.
      t->resp.range_past_end = true;
      t->enough = true;
      return 0;
    }
  }
  return len;
}

bool TransientCurl(CURLcode rc) {
  switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_OUT_OF_MEMORY:
      return false;
    default:
      return true;
  }
}

bool TransientHttp(long code, std::string_view s3_code) {
  return code == 429 || code == 500 || code == 502 || code == 503 || code == 504 ||
         s3_code == "SlowDown";
}

struct Request {
  const char* method = "GET";
  std::string key;           // raw object key (unless bucket_only)
  bool bucket_only = false;  // a request to the bucket itself (a listing)
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, signed
  std::string_view body;                                     // PUT
  std::string what;  // for messages: "HEAD 'a/b'", "ListObjectsV2 of 'a/'"
};

// The ListObjectsV2 body goes straight into the parser: one page decoded.
class ListSink : public BodySink {
 public:
  void Reset() override { parser_ = std::make_unique<S3ListPageParser>(); }
  Status Take(long, std::string_view data, bool*) override { return parser_->Feed(data); }
  S3ListPageParser& parser() { return *parser_; }

 private:
  std::unique_ptr<S3ListPageParser> parser_ = std::make_unique<S3ListPageParser>();
};

// A small answer (a bucket's configuration) kept whole, up to 64 KiB
// (more: the parser refuses it).
class StringSink : public BodySink {
 public:
  void Reset() override { body_.clear(); }
  Status Take(long, std::string_view data, bool*) override {
    if (body_.size() + data.size() > 64 * 1024 + 1) {
      return absl::DataLossError("an answer of more than 64 KiB");
    }
    body_.append(data);
    return absl::OkStatus();
  }
  const std::string& body() const { return body_; }

 private:
  std::string body_;
};

// A ranged GET's body goes straight into the caller's buffer.
class BufferSink : public BodySink {
 public:
  BufferSink(uint64_t offset, char* buf, size_t len) : offset_(offset), buf_(buf), len_(len) {}
  void Reset() override {
    got_ = 0;
    skipped_ = 0;
  }
  Status Take(long code, std::string_view data, bool* enough) override {
    if (code != 206) {
      // The server ignored Range and sends the whole object: skip to the
      // offset, take what was asked, stop.
      const uint64_t skip = std::min<uint64_t>(offset_ - skipped_, data.size());
      skipped_ += skip;
      data.remove_prefix(static_cast<size_t>(skip));
      const size_t take = std::min(data.size(), len_ - got_);
      std::copy_n(data.data(), take, buf_ + got_);
      got_ += take;
      *enough = got_ == len_;
      return absl::OkStatus();
    }
    if (data.size() > len_ - got_) {
      return absl::DataLossError("the server sent more bytes than the range asked (" +
                                 std::to_string(got_ + data.size()) + " > " + std::to_string(len_) +
                                 ")");
    }
    std::copy_n(data.data(), data.size(), buf_ + got_);
    got_ += data.size();
    return absl::OkStatus();
  }
  size_t got() const { return got_; }

 private:
  uint64_t offset_;
  char* buf_;
  size_t len_;
  size_t got_ = 0;
  uint64_t skipped_ = 0;
};

class HandlePool {
 public:
  ~HandlePool() {
    MutexLock lock(&mu_);
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }
  CURL* Get() {
    {
      MutexLock lock(&mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void Put(CURL* h) {
    {
      MutexLock lock(&mu_);
      if (idle_.size() < kMaxIdleHandles) {
        idle_.push_back(h);
        return;
      }
    }
    curl_easy_cleanup(h);
  }

 private:
  Mutex mu_;
  std::vector<CURL*> idle_ GUARDED_BY(mu_);
};

class S3Store : public storage::Store {
 public:
  S3Store(S3Config config, S3Credentials creds, storage::RetryPolicy policy,
          S3StoreOptionsForTest options, std::string scheme, std::string authority)
      : config_(std::move(config)),
        creds_(std::move(creds)),
        policy_(policy),
        options_(options),
        scheme_(std::move(scheme)),
        authority_(std::move(authority)) {}

  std::string Describe() const override {
    std::string d = "s3://" + authority_ + "/" + config_.bucket;
    if (!config_.prefix.empty()) d += "/" + config_.prefix;
    return d;
  }

  Status List(std::string_view dir, const std::function<bool(StoreEntry&&)>& each) override;
  StatusOr<StoreEntry> Stat(std::string_view path) override;
  StatusOr<size_t> ReadAt(std::string_view path, uint64_t offset, void* buf, size_t len) override;
  Status Put(std::string_view key, std::string_view body);
  storage::StoreFacts Facts() override;
  StatusOr<long> Raw(const S3TestRequest& r, std::string* error_body) {
    Request req;
    req.method = r.method == "PUT" ? "PUT" : r.method == "HEAD" ? "HEAD" : "GET";
    req.key = r.key;
    req.bucket_only = r.key.empty();
    req.query = r.query;
    req.headers = r.headers;
    req.body = r.body;
    req.what = r.method + " " + Quote(r.key);
    auto resp = Send(req, nullptr);
    if (!resp.ok()) return resp.status();
    if (error_body != nullptr) *error_body = resp->error_body;
    return resp->code;
  }

 private:
  // GET /?`sub` of the bucket: the 200 body, or why the store did not say
  // (an error after retries, or its HTTP answer); `*absent` set when it
  // answered 404 with S3 code `absent_code`.
  std::string GetBucketSub(const std::string& sub, const std::string& api,
                           const std::string& absent_code, std::string* body, bool* absent);
  std::string KeyOf(std::string_view path) const {
    if (config_.prefix.empty()) return std::string(path);
    if (path.empty()) return config_.prefix;
    return config_.prefix + "/" + std::string(path);
  }
  std::string DirPrefix(std::string_view dir) const {
    const std::string k = KeyOf(dir);
    return k.empty() ? k : k + "/";
  }

  // One request, retried on transient errors. Returns the final response
  // (any non-transient HTTP status: the caller maps it) or the transport
  // error after the retries.
  StatusOr<Response> Send(const Request& req, BodySink* sink);
  Status HttpError(const Response& r, const Request& req) const;
  // One page of ListObjectsV2 under `prefix` into `sink`.
  StatusOr<Response> ListPage(const std::string& prefix, bool delimit, int max_keys,
                              const std::string& token, int page_no, ListSink* sink);

  const S3Config config_;
  const S3Credentials creds_;
  const storage::RetryPolicy policy_;
  const S3StoreOptionsForTest options_;
  const std::string scheme_;
  const std::string authority_;  // host[:port] of the endpoint
  HandlePool pool_;
};

StatusOr<Response> S3Store::Send(const Request& req, BodySink* sink) {
  // Virtual-host style: bucket.host/key (the bucket itself: bucket.host/);
  // path style: host/bucket/key (the bucket itself: host/bucket).
  const std::string host = config_.virtual_host ? config_.bucket + "." + authority_ : authority_;
  std::string path = config_.virtual_host ? "" : "/" + config_.bucket;
  if (!req.bucket_only) path += "/" + req.key;
  if (path.empty()) path = "/";
  std::string url = scheme_ + "://" + host + CanonicalUri(path);
  if (!req.query.empty()) url += "?" + CanonicalQuery(req.query);
  const std::string payload_hash =
      req.body.empty() ? std::string(kEmptySha256) : Sha256Hex(req.body);

  const long timeout_ms = std::max<long>(1, static_cast<long>(policy_.timeout.count()));
  const int attempts = std::max(1, policy_.attempts);
  CURL* h = pool_.Get();
  if (h == nullptr) return absl::ResourceExhaustedError(Describe() + ": curl_easy_init failed");
  struct Return {
    HandlePool* pool;
    CURL* h;
    ~Return() { pool->Put(h); }
  } give_back{&pool_, h};

  for (int attempt = 1;; ++attempt) {
    counters_.requests.fetch_add(1, std::memory_order_relaxed);
    if (sink != nullptr) sink->Reset();

    SigV4Request sreq;
    sreq.method = req.method;
    sreq.path = path;
    sreq.query = req.query;
    sreq.payload_hash = payload_hash;
    const std::string amz_date = AmzDateNow();
    sreq.headers = {
        {"host", host}, {"x-amz-date", amz_date}, {"x-amz-content-sha256", payload_hash}};
    if (!creds_.session_token.empty()) {
      sreq.headers.emplace_back("x-amz-security-token", creds_.session_token);
    }
    for (const auto& hv : req.headers) sreq.headers.push_back(hv);
    const std::string auth =
        Authorization(sreq, SigV4Credentials{creds_.access_key_id, creds_.secret_access_key},
                      SigV4Scope{amz_date, config_.region, "s3"});

    curl_slist* headers = nullptr;
    for (const auto& [name, value] : sreq.headers) {
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    headers = curl_slist_append(headers, ("Authorization: " + auth).c_str());
    headers = curl_slist_append(headers, "Expect:");
    headers = curl_slist_append(headers, "Accept:");

    Transfer t;
    t.h = h;
    t.sink = sink;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnWrite);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    // A transfer that moves less than a byte a second for `timeout` is
    // stalled (waiting for the answer included).
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, std::max<long>(1, (timeout_ms + 999) / 1000));
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!config_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, config_.ca_file.c_str());
    if (std::string_view(req.method) == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (std::string_view(req.method) == "PUT") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
      curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    } else {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    const CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t.resp.code);
    counters_.bytes_read.fetch_add(t.content_bytes, std::memory_order_relaxed);

    if (!t.sink_error.ok()) {
      return Status(t.sink_error.code(),
                    Describe() + ": " + req.what + ": " + std::string(t.sink_error.message()));
    }
    Status transient;
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t.enough)) {
      const std::string detail = std::string(curl_easy_strerror(rc)) +
                                 (errbuf[0] != '\0' ? std::string(": ") + errbuf : "");
      if (!TransientCurl(rc)) {
        const bool tls = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
                         rc == CURLE_SSL_CERTPROBLEM;
        return Status(
            tls ? absl::StatusCode::kFailedPrecondition : absl::StatusCode::kInvalidArgument,
            Describe() + ": " + req.what + ": " + detail);
      }
      transient = absl::UnavailableError(Describe() + ": " + req.what + ": " + detail);
    } else {
      const S3ErrorDoc doc = t.resp.code >= 300 ? ParseS3Error(t.resp.error_body) : S3ErrorDoc{};
      if (!TransientHttp(t.resp.code, doc.code)) return std::move(t.resp);
      transient = absl::UnavailableError(Describe() + ": " + req.what + ": HTTP " +
                                         std::to_string(t.resp.code) +
                                         (doc.code.empty() ? "" : " " + doc.code) +
                                         (doc.message.empty() ? "" : ": " + doc.message));
    }
    if (attempt >= attempts) {
      return absl::UnavailableError(std::string(transient.message()) + " (after " +
                                    std::to_string(attempts) + " attempts)");
    }
    counters_.retries.fetch_add(1, std::memory_order_relaxed);
    std::this_thread::sleep_for(storage::BackoffDelay(policy_, attempt, Jitter01()));
  }
}

Status S3Store::HttpError(const Response& r, const Request& req) const {
  const S3ErrorDoc doc = ParseS3Error(r.error_body);
  const std::string detail = "HTTP " + std::to_string(r.code) +
                             (doc.code.empty() ? "" : " " + doc.code) +
                             (doc.message.empty() ? "" : ": " + doc.message);
  if (doc.code == "NoSuchBucket") {
    return absl::FailedPreconditionError(Describe() + ": bucket " + config_.bucket +
                                         " does not exist at " + config_.endpoint + " (" +
                                         req.what + ": " + detail + ")");
  }
  if (r.code == 403) {
    return absl::PermissionDeniedError(Describe() + ": " + req.what + " refused: " + detail);
  }
  if (r.code == 404) return absl::NotFoundError(Describe() + ": " + req.what + ": not found");
  if (r.code == 400)
    return absl::InvalidArgumentError(Describe() + ": " + req.what + ": " + detail);
  return absl::FailedPreconditionError(Describe() + ": " + req.what + ": " + detail);
}

StatusOr<Response> S3Store::ListPage(const std::string& prefix, bool delimit, int max_keys,
                                     const std::string& token, int page_no, ListSink* sink) {
  Request req;
  req.bucket_only = true;
  req.what = "ListObjectsV2 of prefix " + Quote(prefix) + " (page " + std::to_string(page_no) + ")";
  req.query = {{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}};
  if (!prefix.empty()) req.query.emplace_back("prefix", prefix);
  if (delimit) req.query.emplace_back("delimiter", "/");
  if (!token.empty()) req.query.emplace_back("continuation-token", token);
  auto resp = Send(req, sink);
  if (!resp.ok()) return resp.status();
  if (resp->code != 200) return HttpError(*resp, req);
  if (Status s = sink->parser().Finish(); !s.ok()) {
    return Status(s.code(), Describe() + ": " + req.what + ": " + std::string(s.message()));
  }
  return resp;
}

Status S3Store::List(std::string_view dir, const std::function<bool(StoreEntry&&)>& each) {
  if (Status s = storage::CheckStorePath(dir, Describe() + ": List"); !s.ok()) return s;
  const std::string prefix = DirPrefix(dir);
  std::string token;
  bool any = false;
  for (int page_no = 1;; ++page_no) {
    ListSink sink;
    auto resp = ListPage(prefix, /*delimit=*/true, options_.max_keys, token, page_no, &sink);
    if (!resp.ok()) return resp.status();
    S3ListPage& page = sink.parser().page();
    if (options_.peak_page_entries != nullptr) {
      const size_t held = page.objects.size() + page.common_prefixes.size();
      size_t peak = options_.peak_page_entries->load();
      while (held > peak && !options_.peak_page_entries->compare_exchange_weak(peak, held)) {
      }
    }
    for (S3ListedObject& o : page.objects) {
      if (o.key.size() < prefix.size() || o.key.compare(0, prefix.size(), prefix) != 0) continue;
      any = true;
      std::string name = o.key.substr(prefix.size());
      // The directory's own marker ("dir/"), or a key with an empty
      // component, is no child.
      if (name.empty() || name.find('/') != std::string::npos) continue;
      StoreEntry e;
      e.name = std::move(name);
      e.type = StoreEntryType::kFile;
      e.size = o.size;
      e.mtime_ns = o.last_modified_ns;
      e.etag = std::move(o.etag);
      e.checksum_sha256 = std::move(o.checksum_sha256);
      if (!each(std::move(e))) return absl::OkStatus();
    }
    for (std::string& cp : page.common_prefixes) {
      if (cp.size() <= prefix.size() || cp.compare(0, prefix.size(), prefix) != 0) continue;
      any = true;
      std::string name = cp.substr(prefix.size());
      if (!name.empty() && name.back() == '/') name.pop_back();
      if (name.empty() || name.find('/') != std::string::npos) continue;
      StoreEntry e;
      e.name = std::move(name);
      e.type = StoreEntryType::kDirectory;
      if (!each(std::move(e))) return absl::OkStatus();
    }
    if (!page.is_truncated) break;
    if (page.next_continuation_token.empty()) {
      return absl::DataLossError(Describe() + ": ListObjectsV2 of prefix " + Quote(prefix) +
                                 " (page " + std::to_string(page_no) +
                                 "): truncated without a NextContinuationToken");
    }
    token = std::move(page.next_continuation_token);
  }
  if (!any && !dir.empty()) {
    // An object of that name is a file, not a directory.
    Request head;
    head.method = "HEAD";
    head.key = KeyOf(dir);
    head.what = "HEAD " + Quote(head.key);
    auto resp = Send(head, nullptr);
    if (resp.ok() && resp->code == 200) {
      return absl::FailedPreconditionError(Describe() + ": List " + Quote(dir) +
                                           ": a file, not a directory");
    }
    return absl::NotFoundError(Describe() + ": directory " + Quote(dir) +
                               " not found (no key under " + Quote(prefix) + ")");
  }
  return absl::OkStatus();
}

StatusOr<StoreEntry> S3Store::Stat(std::string_view path) {
  if (Status s = storage::CheckStorePath(path, Describe() + ": Stat"); !s.ok()) return s;
  StoreEntry dir_entry;
  dir_entry.name = std::string(path);
  dir_entry.type = StoreEntryType::kDirectory;
  if (path.empty()) {
    // The root is always a directory; one listing request shows the bucket
    // is there and the credentials are taken.
    ListSink sink;
    auto resp = ListPage(DirPrefix(""), false, 1, "", 1, &sink);
    if (!resp.ok()) return resp.status();
    return dir_entry;
  }
  Request req;
  req.method = "HEAD";
  req.key = KeyOf(path);
  req.what = "HEAD " + Quote(req.key);
  req.headers = {{"x-amz-checksum-mode", "ENABLED"}};
  auto resp = Send(req, nullptr);
  if (!resp.ok()) return resp.status();
  if (resp->code == 200) {
    StoreEntry e;
    e.name = std::string(path);
    e.type = StoreEntryType::kFile;
    const std::string& cl = resp->content_length;
    e.size = cl.empty() ? 0 : std::strtoull(cl.c_str(), nullptr, 10);
    if (!resp->last_modified.empty()) {
      const time_t t = curl_getdate(resp->last_modified.c_str(), nullptr);
      if (t > 0 && t < 9223372036) e.mtime_ns = static_cast<int64_t>(t) * 1000000000;
    }
    std::string_view etag = resp->etag;
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
      etag = etag.substr(1, etag.size() - 2);
    }
    e.etag = std::string(etag);
    e.checksum_sha256 = DecodeChecksumSha256(resp->checksum_sha256);
    e.etag_not_md5 = resp->etag_not_md5;
    // A HEAD answers for the object's lock: no header, no retention.
    e.lock_known = true;
    if (resp->lock_mode == "GOVERNANCE" || resp->lock_mode == "COMPLIANCE") {
      e.lock_mode = resp->lock_mode;
    }
    int64_t until = 0;
    if (!resp->lock_until.empty() && ParseIso8601Ns(resp->lock_until, &until)) {
      e.lock_until_ns = until;
    }
    e.legal_hold = resp->legal_hold == "ON";
    return e;
  }
  if (resp->code != 404 && resp->code != 403) return HttpError(*resp, req);
  // No object (or not allowed to see it): a directory if a key is under
  // PATH/. The listing also tells a missing bucket and S3's error code,
  // which a HEAD answer has no body for.
  ListSink sink;
  auto listed = ListPage(DirPrefix(path), false, 1, "", 1, &sink);
  if (!listed.ok()) return listed.status();
  const S3ListPage& page = sink.parser().page();
  if (!page.objects.empty() || !page.common_prefixes.empty()) return dir_entry;
  if (resp->code == 403) return HttpError(*resp, req);
  return absl::NotFoundError(Describe() + ": " + Quote(path) + " not found (no object " +
                             Quote(req.key) + ", no key under it)");
}

StatusOr<size_t> S3Store::ReadAt(std::string_view path, uint64_t offset, void* buf, size_t len) {
  if (Status s = storage::CheckStorePath(path, Describe() + ": ReadAt"); !s.ok()) return s;
  if (path.empty()) {
    return absl::InvalidArgumentError(Describe() + ": ReadAt: the root is a directory");
  }
  if (len == 0) return size_t{0};
  Request req;
  req.key = KeyOf(path);
  req.what = "GET " + Quote(req.key) + " bytes " + std::to_string(offset) + "-" +
             std::to_string(offset + len - 1);
  req.headers = {
      {"range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + len - 1)}};
  BufferSink sink(offset, static_cast<char*>(buf), len);
  auto resp = Send(req, &sink);
  if (!resp.ok()) return resp.status();
  if (resp->code == 416 || resp->range_past_end) return size_t{0};
  if (resp->code != 200 && resp->code != 206) return HttpError(*resp, req);
  if (resp->code == 206) {
    // "bytes FIRST-LAST/TOTAL": the server promised LAST-FIRST+1 bytes.
    unsigned long long first = 0, last = 0;
    if (std::sscanf(resp->content_range.c_str(), "bytes %llu-%llu", &first, &last) == 2 &&
        last >= first && sink.got() < last - first + 1) {
      return absl::DataLossError(Describe() + ": " + req.what + ": " + std::to_string(sink.got()) +
                                 " bytes of the " + std::to_string(last - first + 1) + " promised");
    }
  }
  return sink.got();
}

std::string S3Store::GetBucketSub(const std::string& sub, const std::string& api,
                                  const std::string& absent_code, std::string* body, bool* absent) {
  Request req;
  req.bucket_only = true;
  req.query = {{sub, ""}};
  req.what = api + " (GET /?" + sub + ")";
  StringSink sink;
  auto resp = Send(req, &sink);
  if (!resp.ok()) return std::string(resp.status().message());
  if (resp->code == 200) {
    *body = sink.body();
    return "";
  }
  const S3ErrorDoc doc = ParseS3Error(resp->error_body);
  if (resp->code == 404 && !absent_code.empty() && doc.code == absent_code) {
    *absent = true;
    return "";
  }
  std::string why = api + ": HTTP " + std::to_string(resp->code) +
                    (doc.code.empty() ? "" : " " + doc.code) +
                    (doc.message.empty() ? "" : ": " + doc.message);
  if (resp->code == 501 || doc.code == "NotImplemented") {
    why = "the server does not implement " + why;
  } else if (resp->code == 403) {
    why = "not allowed to ask (" + why + ")";
  }
  return why;
}

storage::StoreFacts S3Store::Facts() {
  storage::StoreFacts f;
  std::string body;
  bool absent = false;
  std::string why = GetBucketSub("versioning", "GetBucketVersioning", "", &body, &absent);
  if (why.empty()) {
    auto v = ParseVersioningConfiguration(body);
    if (!v.ok()) {
      why = "the answer does not decode: " + std::string(v.status().message());
    } else {
      f.versioning = v->status == "Enabled" ? storage::StoreFact::kOn : storage::StoreFact::kOff;
      f.versioning_status = v->status;
    }
  }
  if (!why.empty()) f.versioning_unknown = Describe() + ": " + why;
  body.clear();
  why = GetBucketSub("object-lock", "GetObjectLockConfiguration",
                     "ObjectLockConfigurationNotFoundError", &body, &absent);
  if (why.empty() && absent) {
    f.object_lock = storage::StoreFact::kOff;  // the store says: no configuration
  } else if (why.empty()) {
    auto l = ParseObjectLockConfiguration(body);
    if (!l.ok()) {
      why = "the answer does not decode: " + std::string(l.status().message());
    } else {
      f.object_lock = l->enabled ? storage::StoreFact::kOn : storage::StoreFact::kOff;
      f.default_mode = l->mode;
      f.default_days = l->days;
      f.default_years = l->years;
    }
  }
  if (!why.empty()) f.object_lock_unknown = Describe() + ": " + why;
  return f;
}

Status S3Store::Put(std::string_view key, std::string_view body) {
  Request req;
  req.method = "PUT";
  req.key = std::string(key);
  req.body = body;
  req.what = "PUT " + Quote(key);
  auto resp = Send(req, nullptr);
  if (!resp.ok()) return resp.status();
  if (resp->code != 200) return HttpError(*resp, req);
  return absl::OkStatus();
}

StatusOr<std::unique_ptr<S3Store>> Open(const S3Config& config, const S3Credentials& creds,
                                        const storage::RetryPolicy& policy,
                                        const S3StoreOptionsForTest& options) {
  std::string_view ep = config.endpoint;
  std::string scheme;
  if (ep.rfind("https://", 0) == 0) {
    scheme = "https";
    ep.remove_prefix(8);
  } else if (ep.rfind("http://", 0) == 0) {
    scheme = "http";
    ep.remove_prefix(7);
  } else {
    return absl::InvalidArgumentError("S3 endpoint " + Quote(config.endpoint) +
                                      ": not http://host[:port] or https://host[:port]");
  }
  while (!ep.empty() && ep.back() == '/') ep.remove_suffix(1);
  if (ep.empty() || ep.find_first_of("/?#@ ") != std::string_view::npos) {
    return absl::InvalidArgumentError("S3 endpoint " + Quote(config.endpoint) +
                                      ": not http(s)://host[:port] (no path, no user)");
  }
  if (config.bucket.empty() || config.bucket.find('/') != std::string::npos) {
    return absl::InvalidArgumentError("S3 bucket " + Quote(config.bucket) + " at " +
                                      config.endpoint + ": not a bucket name");
  }
  if (config.region.empty()) {
    return absl::InvalidArgumentError("S3 location s3://" + std::string(ep) + "/" + config.bucket +
                                      ": no region");
  }
  if (Status s = storage::CheckStorePath(config.prefix, "S3 prefix"); !s.ok()) return s;
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return absl::InvalidArgumentError("S3 credentials for s3://" + std::string(ep) + "/" +
                                      config.bucket + ": no access key id or no secret");
  }
  if (options.max_keys < 1 || options.max_keys > 1000) {
    return absl::InvalidArgumentError("S3 max-keys must be 1..1000");
  }
  CurlGlobalInit();
  return std::make_unique<S3Store>(config, creds, policy, options, std::move(scheme),
                                   std::string(ep));
}

}  // namespace

StatusOr<std::unique_ptr<storage::Store>> OpenS3Store(const S3Config& config,
                                                      const S3Credentials& creds,
                                                      const storage::RetryPolicy& policy) {
  return OpenS3StoreForTest(config, creds, policy, S3StoreOptionsForTest{});
}

StatusOr<std::unique_ptr<storage::Store>> OpenS3StoreForTest(const S3Config& config,
                                                             const S3Credentials& creds,
                                                             const storage::RetryPolicy& policy,
                                                             const S3StoreOptionsForTest& options) {
  auto s = Open(config, creds, policy, options);
  if (!s.ok()) return s.status();
  return std::unique_ptr<storage::Store>(std::move(*s));
}

Status PutS3ObjectForTest(const S3Config& config, const S3Credentials& creds, std::string_view key,
                          std::string_view body) {
  auto s = Open(config, creds, storage::RetryPolicy{}, S3StoreOptionsForTest{});
  if (!s.ok()) return s.status();
  return (*s)->Put(key, body);
}

StatusOr<long> S3RequestForTest(const S3Config& config, const S3Credentials& creds,
                                const S3TestRequest& request, std::string* error_body) {
  auto s = Open(config, creds, storage::RetryPolicy{}, S3StoreOptionsForTest{});
  if (!s.ok()) return s.status();
  return (*s)->Raw(request, error_body);
}

}  // namespace vigil::worker::remote
