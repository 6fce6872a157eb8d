#include "services/common/listing_digest.h"

#include <cstdint>
#include <string_view>
#include <utility>

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
  if (!on_dir_) on_dir_ = [](Dir&&) {};
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
  AddChild(*frames_[depth_], f.name, d.digests, f.entries, f.files, f.bytes);
  on_dir_(std::move(d));
}

void DirDigester::AddChild(Frame& up, std::string_view name, const v1::ListingDigests& digests,
                           uint64_t entries, uint64_t files, uint64_t bytes) {
  // In the parent: U8('d') Bytes(name) Bytes(listing) | Bytes(content).
  buf_.clear();
  buf_.push_back('d');
  PutU64(&buf_, name.size());
  buf_.append(name);
  PutBytes(&buf_, digests.listing());
  up.listing->Update(Span(buf_));
  PutBytes(&buf_, digests.content());
  up.content->Update(Span(buf_));
  ++up.items;
  up.entries += entries;
  up.files += files;
  up.bytes += bytes;
}

namespace {

// Splits a relative path into its parent directory ("" at the root) and
// its name.
std::pair<std::string_view, std::string_view> SplitParent(std::string_view p) {
  const size_t slash = p.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view(), p};
  return {p.substr(0, slash), p.substr(slash + 1)};
}

}  // namespace

void DirDigester::AddDir(const Dir& d) {
  const auto [parent, name] = SplitParent(d.path);
  MoveTo(parent);
  AddChild(*frames_[depth_], name, d.digests, d.entries, d.files, d.bytes);
}

void DirDigester::MoveTo(std::string_view parent) {
  if (parent == cur_) return;
  // Leave the directories the entry is not beneath...
  while (depth_ > 0 && parent != cur_ &&
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

void DirDigester::Add(const v1::Observation& o) {
  const auto [parent, name] = SplitParent(o.path());
  MoveTo(parent);
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

v1::ListingDigests DirDigester::Finish() {
  while (depth_ > 0) Pop();
  Frame& root = *frames_[0];
  buf_.clear();
  PutU64(&buf_, root.items);
  root.listing->Update(Span(buf_));
  root.content->Update(Span(buf_));
  v1::ListingDigests d;
  d.set_listing(std::string(root.listing->Finish().view()));
  d.set_content(std::string(root.content->Finish().view()));
  root.Reset({});
  return d;
}

ListingDigester::ListingDigester(std::function<void(DirDigester::Dir&&)> on_dir)
    : dirs_(std::move(on_dir)) {}

void ListingDigester::Add(const v1::Observation& o) {
  dirs_.Add(o);
  ++entries_;
}

void ListingDigester::AddDir(const DirDigester::Dir& d) {
  dirs_.AddDir(d);
  entries_ += d.entries;
}

v1::ListingDigests ListingDigester::Finish(bool with_content) {
  v1::ListingDigests d = dirs_.Finish();
  if (!with_content) d.clear_content();
  entries_ = 0;
  return d;
}

namespace {

std::string Bind(std::string_view tag, const std::string& digest, uint64_t task, uint32_t attempt,
                 std::string_view context = {}) {
  if (digest.empty()) return {};
  std::string in(tag);
  in.push_back('\0');
  PutU64(&in, task);
  PutU64(&in, attempt);
  PutBytes(&in, digest);
  in.append(context);
  return std::string(storage::HashBytes(storage::HashAlgorithm::kSha256, in).view());
}

v1::ListingDigests BindBoth(std::string_view tag, const v1::ListingDigests& d, uint64_t task,
                            uint32_t attempt, std::string_view context = {}) {
  v1::ListingDigests out;
  out.set_listing(Bind(tag, d.listing(), task, attempt, context));
  out.set_content(Bind(tag, d.content(), task, attempt, context));
  return out;
}

// Bytes(path) U64(entries) U64(files) U64(bytes), then I64(point) for a
// proof.
std::string DirContext(const DirDigester::Dir& d, const int64_t* point_ns) {
  std::string c;
  PutU64(&c, d.path.size());
  c.append(d.path);
  PutU64(&c, d.entries);
  PutU64(&c, d.files);
  PutU64(&c, d.bytes);
  if (point_ns != nullptr) PutU64(&c, static_cast<uint64_t>(*point_ns));
  return c;
}

}  // namespace

v1::ListingDigests HeldOffer(const v1::ListingDigests& d, uint64_t task, uint32_t attempt) {
  return BindBoth("vigil held offer", d, task, attempt);
}

v1::ListingDigests HeldProof(const v1::ListingDigests& d, uint64_t task, uint32_t attempt) {
  return BindBoth("vigil held proof", d, task, attempt);
}

v1::ListingDigests HeldDirOffer(const DirDigester::Dir& d, uint64_t task, uint32_t attempt) {
  return BindBoth("vigil held dir offer", d.digests, task, attempt, DirContext(d, nullptr));
}

v1::ListingDigests HeldDirProof(const DirDigester::Dir& d, int64_t point_ns, uint64_t task,
                                uint32_t attempt) {
  return BindBoth("vigil held dir proof", d.digests, task, attempt, DirContext(d, &point_ns));
}

}  // namespace vigil
