#include "services/worker/remote/s3_xml.h"

#include <expat.h>
#include <openssl/evp.h>

#include <charconv>
#include <optional>

#include "services/common/time.h"

namespace vigil::worker::remote {
namespace {

// Why expat refused a body, and where. Expat reports byte -1 when it
// refused before consuming a byte (an empty body, with 2.5.0-1+deb12u1):
// that is byte 0.
storage::Status NotXml(XML_Parser xml) {
  const XML_Index at = XML_GetCurrentByteIndex(xml);
  return absl::DataLossError("not XML at byte " + std::to_string(at < 0 ? 0 : at) + ": " +
                             XML_ErrorString(XML_GetErrorCode(xml)));
}

// Longest text of one element kept (S3 keys are at most 1024 bytes): a
// server sending more is refused rather than buffered.
constexpr size_t kMaxText = 64 * 1024;

}  // namespace

struct S3ListPageParser::State {
  XML_Parser xml = nullptr;
  S3ListPage* page = nullptr;
  size_t max_entries = 0;
  std::vector<std::string> path;  // element names from the root
  std::string text;
  S3ListedObject cur;
  storage::Status error;  // set by a handler that stops the parser
  bool finished = false;

  void Fail(std::string what) {
    if (!error.ok()) return;
    error = absl::DataLossError(what + " at byte " + std::to_string(XML_GetCurrentByteIndex(xml)));
    XML_StopParser(xml, XML_FALSE);
  }

  static void Start(void* ud, const XML_Char* name, const XML_Char** /*attrs*/) {
    auto* s = static_cast<State*>(ud);
    if (s->path.empty() && std::string_view(name) != "ListBucketResult") {
      s->Fail("not a ListBucketResult (root element <" + std::string(name).substr(0, 64) + ">)");
      return;
    }
    s->path.emplace_back(name);
    s->text.clear();
    if (s->path.size() == 2 && s->path[1] == "Contents") s->cur = S3ListedObject{};
  }

  static void End(void* ud, const XML_Char* /*name*/) {
    auto* s = static_cast<State*>(ud);
    if (s->path.empty()) return;
    const size_t depth = s->path.size();
    if (depth == 2) {
      const std::string& n = s->path[1];
      if (n == "Contents") {
        if (s->page->objects.size() + s->page->common_prefixes.size() >= s->max_entries) {
          s->Fail("a page of more than " + std::to_string(s->max_entries) + " entries");
          return;
        }
        s->page->objects.push_back(std::move(s->cur));
        s->cur = S3ListedObject{};
      } else if (n == "IsTruncated") {
        s->page->is_truncated = s->text == "true";
      } else if (n == "NextContinuationToken") {
        s->page->next_continuation_token = s->text;
      }
    } else if (depth == 3 && s->path[1] == "Contents") {
      const std::string& n = s->path[2];
      if (n == "Key") {
        s->cur.key = s->text;
      } else if (n == "Size") {
        const char* b = s->text.data();
        const char* e = b + s->text.size();
        auto [p, ec] = std::from_chars(b, e, s->cur.size);
        if (ec != std::errc() || p != e) {
          s->Fail("<Size> '" + s->text.substr(0, 40) + "' is not a number");
          return;
        }
      } else if (n == "LastModified") {
        int64_t ns = 0;
        if (ParseIso8601Ns(s->text, &ns)) s->cur.last_modified_ns = ns;
      } else if (n == "ETag") {
        std::string_view v = s->text;
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        s->cur.etag = std::string(v);
      } else if (n == "ChecksumSHA256") {
        s->cur.checksum_sha256 = DecodeChecksumSha256(s->text);
      }
    } else if (depth == 3 && s->path[1] == "CommonPrefixes" && s->path[2] == "Prefix") {
      if (s->page->objects.size() + s->page->common_prefixes.size() >= s->max_entries) {
        s->Fail("a page of more than " + std::to_string(s->max_entries) + " entries");
        return;
      }
      s->page->common_prefixes.push_back(s->text);
    }
    s->path.pop_back();
    s->text.clear();
  }

  static void Text(void* ud, const XML_Char* t, int len) {
    auto* s = static_cast<State*>(ud);
    if (s->path.size() < 2) return;  // whitespace between the root's children
    if (s->text.size() + static_cast<size_t>(len) > kMaxText) {
      s->Fail("an element's text longer than " + std::to_string(kMaxText) + " bytes");
      return;
    }
    s->text.append(t, static_cast<size_t>(len));
  }

  // A DTD could declare entities that expand without bound: none is taken.
  static void Doctype(void* ud, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    static_cast<State*>(ud)->Fail("a DTD (refused)");
  }
};

S3ListPageParser::S3ListPageParser(size_t max_entries) : st_(std::make_unique<State>()) {
  st_->xml = XML_ParserCreate(nullptr);
  st_->page = &page_;
  st_->max_entries = max_entries;
  XML_SetUserData(st_->xml, st_.get());
  XML_SetElementHandler(st_->xml, &State::Start, &State::End);
  XML_SetCharacterDataHandler(st_->xml, &State::Text);
  XML_SetStartDoctypeDeclHandler(st_->xml, &State::Doctype);
}

S3ListPageParser::~S3ListPageParser() {
  if (st_->xml != nullptr) XML_ParserFree(st_->xml);
}

storage::Status S3ListPageParser::Feed(std::string_view chunk) {
  if (!st_->error.ok()) return st_->error;
  if (st_->finished) return absl::FailedPreconditionError("S3 listing parser: fed after Finish");
  // Expat takes an int length: feed a huge chunk in slices.
  while (true) {
    const size_t n = std::min<size_t>(chunk.size(), 1 << 30);
    if (XML_Parse(st_->xml, chunk.data(), static_cast<int>(n), XML_FALSE) != XML_STATUS_OK) {
      if (st_->error.ok()) {
        st_->error = NotXml(st_->xml);
      }
      return st_->error;
    }
    chunk.remove_prefix(n);
    if (chunk.empty()) return absl::OkStatus();
  }
}

storage::Status S3ListPageParser::Finish() {
  if (!st_->error.ok()) return st_->error;
  st_->finished = true;
  if (XML_Parse(st_->xml, "", 0, XML_TRUE) != XML_STATUS_OK) {
    if (st_->error.ok()) {
      st_->error = NotXml(st_->xml);
    }
    return st_->error;
  }
  return absl::OkStatus();
}

S3ErrorDoc ParseS3Error(std::string_view body) {
  struct Ctx {
    std::vector<std::string> path;
    std::string text;
    S3ErrorDoc doc;
    bool is_error = false;
  } ctx;
  XML_Parser p = XML_ParserCreate(nullptr);
  XML_SetUserData(p, &ctx);
  XML_SetElementHandler(
      p,
      [](void* ud, const XML_Char* name, const XML_Char**) {
        auto* c = static_cast<Ctx*>(ud);
        if (c->path.empty()) c->is_error = std::string_view(name) == "Error";
        c->path.emplace_back(name);
        c->text.clear();
      },
      [](void* ud, const XML_Char*) {
        auto* c = static_cast<Ctx*>(ud);
        if (c->is_error && c->path.size() == 2) {
          if (c->path[1] == "Code") c->doc.code = c->text;
          if (c->path[1] == "Message") c->doc.message = c->text;
        }
        c->path.pop_back();
        c->text.clear();
      });
  XML_SetCharacterDataHandler(p, [](void* ud, const XML_Char* t, int len) {
    auto* c = static_cast<Ctx*>(ud);
    if (c->text.size() < 4096) c->text.append(t, static_cast<size_t>(len));
  });
  XML_SetStartDoctypeDeclHandler(
      p, [](void* ud, const XML_Char*, const XML_Char*, const XML_Char*, int) { (void)ud; });
  const size_t n = std::min<size_t>(body.size(), 1 << 20);
  const bool ok = XML_Parse(p, body.data(), static_cast<int>(n), XML_TRUE) == XML_STATUS_OK;
  XML_ParserFree(p);
  if (!ctx.is_error) return {};
  if (!ok && ctx.doc.code.empty()) return {};
  return ctx.doc;
}

namespace {

// A small answer (a bucket's configuration) read whole: the text of every
// element two levels or more below a root named `root`, by its path from
// the root's child ("Status", "Rule/DefaultRetention/Mode"), to `take`.
// DataLoss on a body over 64 KiB, a DTD, XML that does not parse, another
// root, or a `take` that returns an error.
template <typename Take>
storage::Status ParseSmallXml(std::string_view body, std::string_view root, std::string_view what,
                              Take take) {
  constexpr size_t kMaxBody = 64 * 1024;
  if (body.size() > kMaxBody) {
    return absl::DataLossError(std::string(what) + ": an answer of more than 64 KiB");
  }
  struct Ctx {
    XML_Parser xml = nullptr;
    std::string_view root;
    std::vector<std::string> path;
    std::string text;
    Take* take = nullptr;
    storage::Status error;
    void Fail(std::string why) {
      if (!error.ok()) return;
      error = absl::DataLossError(why + " at byte " + std::to_string(XML_GetCurrentByteIndex(xml)));
      XML_StopParser(xml, XML_FALSE);
    }
  } ctx;
  ctx.xml = XML_ParserCreate(nullptr);
  ctx.root = root;
  ctx.take = &take;
  XML_SetUserData(ctx.xml, &ctx);
  XML_SetElementHandler(
      ctx.xml,
      [](void* ud, const XML_Char* name, const XML_Char**) {
        auto* c = static_cast<Ctx*>(ud);
        if (c->path.empty() && std::string_view(name) != c->root) {
          c->Fail("not a " + std::string(c->root) + " (root element <" +
                  std::string(name).substr(0, 64) + ">)");
          return;
        }
        if (c->path.size() >= 16) {
          c->Fail("elements nested more than 16 deep");
          return;
        }
        c->path.emplace_back(name);
        c->text.clear();
      },
      [](void* ud, const XML_Char*) {
        auto* c = static_cast<Ctx*>(ud);
        if (c->path.empty()) return;
        if (c->path.size() >= 2) {
          std::string p;
          for (size_t i = 1; i < c->path.size(); ++i) p += (i > 1 ? "/" : "") + c->path[i];
          if (storage::Status s = (*c->take)(p, c->text); !s.ok()) {
            c->Fail(std::string(s.message()));
            return;
          }
        }
        c->path.pop_back();
        c->text.clear();
      });
  XML_SetCharacterDataHandler(ctx.xml, [](void* ud, const XML_Char* t, int len) {
    auto* c = static_cast<Ctx*>(ud);
    if (c->path.size() >= 2 && c->text.size() < 4096) c->text.append(t, static_cast<size_t>(len));
  });
  XML_SetStartDoctypeDeclHandler(
      ctx.xml, [](void* ud, const XML_Char*, const XML_Char*, const XML_Char*, int) {
        static_cast<Ctx*>(ud)->Fail("a DTD (refused)");
      });
  const bool ok =
      XML_Parse(ctx.xml, body.data(), static_cast<int>(body.size()), XML_TRUE) == XML_STATUS_OK;
  if (!ok && ctx.error.ok()) {
    ctx.error = NotXml(ctx.xml);
  }
  XML_ParserFree(ctx.xml);
  if (!ctx.error.ok()) {
    return absl::DataLossError(std::string(what) + ": " + std::string(ctx.error.message()));
  }
  return absl::OkStatus();
}

std::string Shown(std::string_view v) { return "'" + std::string(v.substr(0, 40)) + "'"; }

}  // namespace

storage::StatusOr<S3Versioning> ParseVersioningConfiguration(std::string_view body) {
  S3Versioning out;
  storage::Status s = ParseSmallXml(
      body, "VersioningConfiguration", "GetBucketVersioning",
      [&](const std::string& path, const std::string& text) -> storage::Status {
        if (path != "Status") return absl::OkStatus();  // MfaDelete and others: not used
        if (text != "Enabled" && text != "Suspended") {
          return absl::DataLossError("<Status> " + Shown(text) + " is not Enabled or Suspended");
        }
        out.status = text;
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

storage::StatusOr<S3ObjectLock> ParseObjectLockConfiguration(std::string_view body) {
  S3ObjectLock out;
  auto number = [](const std::string& text, uint32_t* v) {
    const char* b = text.data();
    const char* e = b + text.size();
    auto [p, ec] = std::from_chars(b, e, *v);
    return ec == std::errc() && p == e && *v >= 1 && *v <= 1000000;
  };
  storage::Status s = ParseSmallXml(
      body, "ObjectLockConfiguration", "GetObjectLockConfiguration",
      [&](const std::string& path, const std::string& text) -> storage::Status {
        if (path == "ObjectLockEnabled") {
          if (text != "Enabled") {
            return absl::DataLossError("<ObjectLockEnabled> " + Shown(text) + " is not Enabled");
          }
          out.enabled = true;
        } else if (path == "Rule/DefaultRetention/Mode") {
          if (text != "GOVERNANCE" && text != "COMPLIANCE") {
            return absl::DataLossError("<Mode> " + Shown(text) +
                                       " is not GOVERNANCE or COMPLIANCE");
          }
          out.mode = text;
        } else if (path == "Rule/DefaultRetention/Days") {
          if (!number(text, &out.days)) {
            return absl::DataLossError("<Days> " + Shown(text) + " is not a number of days");
          }
        } else if (path == "Rule/DefaultRetention/Years") {
          if (!number(text, &out.years)) {
            return absl::DataLossError("<Years> " + Shown(text) + " is not a number of years");
          }
        }
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

bool ParseIso8601Ns(std::string_view s, int64_t* ns) {
  const std::optional<vigil::DateTime> dt = vigil::ParseDateTime(s);
  if (!dt) return false;
  const std::optional<int64_t> v = vigil::ToUnixNs(*dt);
  if (!v) return false;  // outside int64 nanoseconds (1677..2262)
  *ns = *v;
  return true;
}

bool DecodeBase64(std::string_view in, std::string* out) {
  if (in.size() % 4 != 0) return false;
  out->assign(in.size() / 4 * 3, '\0');
  if (in.empty()) return true;
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return false;
  size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  out->resize(static_cast<size_t>(n) - pad);
  return true;
}

std::string DecodeChecksumSha256(std::string_view b64) {
  if (b64.find('-') != std::string_view::npos) return "";  // composite (multipart)
  std::string raw;
  if (!DecodeBase64(b64, &raw) || raw.size() != 32) return "";
  return raw;
}

}  // namespace vigil::worker::remote
