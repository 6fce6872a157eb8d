#include "services/common/listing_digest.h"

#include <cstdint>
#include <string_view>

namespace vigil {
namespace {

void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xff);
  out->append(b, sizeof b);  // (one append: this runs several times per entry)
}

void PutBytes(std::string* out, const std::string& s) {
  PutU64(out, s.size());
  out->append(s);
}

std::span<const uint8_t> Span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

ListingDigester::ListingDigester()
    : listing_(storage::NewHasher(storage::HashAlgorithm::kSha256)),
      content_(storage::NewHasher(storage::HashAlgorithm::kSha256)) {}

void ListingDigester::Add(const v1::Observation& o) {
  // listing: Bytes(path) U8(type) U64(size) U64(mtime) Bytes(link target)
  // U8(unreadable); content: the same, then U8(algorithm) Bytes(digest).
  buf_.clear();
  PutBytes(&buf_, o.path());
  buf_.push_back(static_cast<char>(o.type() & 0xff));
  PutU64(&buf_, o.size());
  PutU64(&buf_, static_cast<uint64_t>(o.mtime_ns()));
  PutBytes(&buf_, o.link_target());
  buf_.push_back(o.unreadable() ? 1 : 0);
  listing_->Update(Span(buf_));
  content_->Update(Span(buf_));
  buf_.clear();
  buf_.push_back(static_cast<char>(o.digest_algorithm() & 0xff));
  PutBytes(&buf_, o.digest());
  content_->Update(Span(buf_));
  ++entries_;
}

v1::ListingDigests ListingDigester::Finish(bool with_content) {
  v1::ListingDigests d;
  // The entry count closes the stream: a listing is not a prefix of another.
  buf_.clear();
  PutU64(&buf_, entries_);
  listing_->Update(Span(buf_));
  content_->Update(Span(buf_));
  d.set_listing(std::string(listing_->Finish().view()));
  storage::Digest c = content_->Finish();
  if (with_content) d.set_content(std::string(c.view()));
  listing_->Reset();
  content_->Reset();
  entries_ = 0;
  return d;
}

struct DirDigester::Frame {
  std::string name;
  std::unique_ptr<storage::Hasher> listing = storage::NewHasher(storage::HashAlgorithm::kSha256);
  std::unique_ptr<storage::Hasher> content = storage::NewHasher(storage::HashAlgorithm::kSha256);
  uint64_t items = 0, entries = 0, files = 0, bytes = 0;
  void Reset(std::string_view n) {
    name.assign(n);
    listing->Reset();
    content->Reset();
    items = entries = files = bytes = 0;
  }
};

DirDigester::DirDigester(std::function<void(Dir&&)> on_dir) : on_dir_(std::move(on_dir)) {
  frames_.push_back(std::make_unique<Frame>());  // the root
}

DirDigester::~DirDigester() = default;

void DirDigester::Push(std::string_view name) {
  ++depth_;
  if (frames_.size() <= depth_) frames_.push_back(std::make_unique<Frame>());
  frames_[depth_]->Reset(name);
  if (!cur_.empty()) cur_.push_back('/');
  cur_.append(name);
}

void DirDigester::Pop() {
  Frame& f = *frames_[depth_];
  // The item count closes a directory's stream (no listing is a prefix of
  // another).
  buf_.clear();
  PutU64(&buf_, f.items);
  f.listing->Update(Span(buf_));
  f.content->Update(Span(buf_));
  Dir d;
  d.path = cur_;
  d.digests.set_listing(std::string(f.listing->Finish().view()));
  d.digests.set_content(std::string(f.content->Finish().view()));
  d.entries = f.entries;
  d.files = f.files;
  d.bytes = f.bytes;
  --depth_;
  cur_.resize(depth_ == 0 ? 0 : cur_.size() - f.name.size() - 1);
  Frame& up = *frames_[depth_];
  // In the parent: U8('d') Bytes(name) Bytes(listing) | Bytes(content).
  buf_.clear();
  buf_.push_back('d');
  PutBytes(&buf_, f.name);
  PutBytes(&buf_, d.digests.listing());
  up.listing->Update(Span(buf_));
  PutBytes(&buf_, d.digests.content());
  up.content->Update(Span(buf_));
  ++up.items;
  up.entries += f.entries;
  up.files += f.files;
  up.bytes += f.bytes;
  on_dir_(std::move(d));
}

void DirDigester::Add(const v1::Observation& o) {
  const std::string& p = o.path();
  const size_t slash = p.rfind('/');
  const std::string_view parent =
      slash == std::string::npos ? std::string_view() : std::string_view(p).substr(0, slash);
  const std::string_view name =
      slash == std::string::npos ? std::string_view(p) : std::string_view(p).substr(slash + 1);
  if (parent != cur_) {
    // Leave the directories the entry is not beneath...
    while (
        depth_ > 0 && parent != cur_ &&
        !(parent.size() > cur_.size() && parent.starts_with(cur_) && parent[cur_.size()] == '/')) {
      Pop();
    }
    // ...and enter those between them and it.
    size_t at = cur_.empty() ? 0 : cur_.size() + 1;
    while (at < parent.size()) {
      size_t end = parent.find('/', at);
      if (end == std::string_view::npos) end = parent.size();
      Push(parent.substr(at, end - at));
      at = end + 1;
    }
  }
  Frame& f = *frames_[depth_];
  // U8('e') Bytes(name) U8(type) U64(size) U64(mtime) Bytes(link target)
  // U8(unreadable) | U8(algorithm) Bytes(digest).
  buf_.clear();
  buf_.push_back('e');
  PutU64(&buf_, name.size());
  buf_.append(name);
  buf_.push_back(static_cast<char>(o.type() & 0xff));
  PutU64(&buf_, o.size());
  PutU64(&buf_, static_cast<uint64_t>(o.mtime_ns()));
  PutBytes(&buf_, o.link_target());
  buf_.push_back(o.unreadable() ? 1 : 0);
  f.listing->Update(Span(buf_));
  buf_.push_back(static_cast<char>(o.digest_algorithm() & 0xff));
  PutBytes(&buf_, o.digest());
  f.content->Update(Span(buf_));
  ++f.items;
  ++f.entries;
  if (o.type() == v1::ENTRY_TYPE_FILE) {
    ++f.files;
    f.bytes += o.size();
  }
}

void DirDigester::Finish() {
  while (depth_ > 0) Pop();
  frames_[0]->Reset({});
}

namespace {

std::string Bind(std::string_view tag, const std::string& digest, uint64_t task, uint32_t attempt) {
  if (digest.empty()) return {};
  std::string in(tag);
  in.push_back('\0');
  PutU64(&in, task);
  PutU64(&in, attempt);
  PutBytes(&in, digest);
  return std::string(storage::HashBytes(storage::HashAlgorithm::kSha256, in).view());
}

v1::ListingDigests BindBoth(std::string_view tag, const v1::ListingDigests& d, uint64_t task,
                            uint32_t attempt) {
  v1::ListingDigests out;
  out.set_listing(Bind(tag, d.listing(), task, attempt));
  out.set_content(Bind(tag, d.content(), task, attempt));
  return out;
}

}  // namespace

v1::ListingDigests HeldOffer(const v1::ListingDigests& d, uint64_t task, uint32_t attempt) {
  return BindBoth("vigil held offer", d, task, attempt);
}

v1::ListingDigests HeldProof(const v1::ListingDigests& d, uint64_t task, uint32_t attempt) {
  return BindBoth("vigil held proof", d, task, attempt);
}

}  // namespace vigil
