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
