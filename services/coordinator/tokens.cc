// Bearer tokens: issued, listed, rotated and revoked by an admin; stored as
// SHA-256 only (admin.proto, docs/coordinator.md "Tokens").
#include "services/common/proto_names.h"
#include "services/common/text.h"
#include "services/contracts/model.h"
#include "services/coordinator/coordinator.h"
#include "services/coordinator/keys.h"
#include "services/coordinator/records.h"
#include "storage/key_codec.h"

namespace vigil::coordinator {

using storage::Space;
using storage::Status;
using storage::StatusOr;

namespace {

constexpr size_t kIdBytes = 8;       // 16 hex characters
constexpr size_t kSecretBytes = 32;  // 64 hex characters

bool IsHexId(std::string_view s) {
  if (s.size() != 2 * kIdBytes) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

StatusOr<v1::TokenRecord> Coordinator::ValidToken(std::string_view token, v1::TokenKind kind,
                                                  bool* other_kind) {
  size_t dot = token.find('.');
  if (dot == std::string_view::npos || !IsHexId(token.substr(0, dot))) {
    return absl::UnauthenticatedError("not a Vigil token");
  }
  v1::TokenRecord r;
  Status s = ReadRecord(cat_->kv(), Space::kMeta, keys::Token(token.substr(0, dot)), "token", &r);
  if (absl::IsNotFound(s)) return absl::UnauthenticatedError("unknown token");
  if (!s.ok()) return s;
  if (!ConstantTimeEqual(TokenHash(token), r.sha256())) {
    return absl::UnauthenticatedError("wrong token");
  }
  if (r.kind() != kind) {
    // The caller holds a genuine token (the hash matched): naming its kind
    // tells them which file they took, and nothing they did not have.
    if (other_kind != nullptr) *other_kind = true;
    auto a_kind = [](v1::TokenKind k) {
      return std::string(k == v1::TOKEN_KIND_ADMIN || k == v1::TOKEN_KIND_ENROL ? "an " : "a ") +
             TokenKindName(k) + " token";
    };
    return absl::UnauthenticatedError(
        "expected " + a_kind(kind) + ", got " + a_kind(r.kind()) + " (id " + r.id() +
        (r.tenant().empty() ? "" : ", tenant '" + r.tenant() + "'") + ")");
  }
  const int64_t now = clock_->NowNs();
  if (r.revoked_ns() != 0) return absl::UnauthenticatedError("token " + r.id() + " was revoked");
  if (r.expires_ns() != 0 && now >= r.expires_ns()) {
    return absl::UnauthenticatedError("token " + r.id() + " expired");
  }
  if (kind == v1::TOKEN_KIND_ENROL && r.used_ns() != 0) {
    return absl::UnauthenticatedError("enrolment token " + r.id() + " was already used");
  }
  return r;
}

StatusOr<v1::IssueTokenResponse> Coordinator::IssueToken(const v1::IssueTokenRequest& req) {
  return IssueTokenReplacing(req, nullptr);
}

StatusOr<v1::IssueTokenResponse> Coordinator::IssueTokenReplacing(const v1::IssueTokenRequest& req,
                                                                  v1::TokenRecord* old) {
  if (req.kind() != v1::TOKEN_KIND_ADMIN && req.kind() != v1::TOKEN_KIND_TENANT &&
      req.kind() != v1::TOKEN_KIND_ENROL) {
    return absl::InvalidArgumentError("token: field 'kind' must be admin, tenant or enrol");
  }
  if (req.kind() == v1::TOKEN_KIND_TENANT) {
    if (req.tenant().empty()) {
      return absl::InvalidArgumentError("token: a tenant token needs field 'tenant'");
    }
    if (Status s = CheckName("token", "tenant", req.tenant()); !s.ok()) return s;
    std::string v;
    Status s = cat_->kv()->Get(Space::kMeta, keys::Tenant(req.tenant()), &v);
    if (absl::IsNotFound(s)) return absl::NotFoundError("unknown tenant '" + req.tenant() + "'");
    if (!s.ok()) return s;
  } else if (!req.tenant().empty()) {
    return absl::InvalidArgumentError(std::string("token: field 'tenant' is for tenant tokens, "
                                                  "not ") +
                                      TokenKindName(req.kind()) + " tokens");
  }
  if (!req.site().empty()) {
    if (req.kind() != v1::TOKEN_KIND_ENROL) {
      return absl::InvalidArgumentError(
          std::string("token: field 'site' is for enrol tokens, not ") + TokenKindName(req.kind()) +
          " tokens");
    }
    // A site name as Apply takes it (Location.site).
    if (!contracts::IsValidName(req.site())) {
      return absl::InvalidArgumentError(
          "token: field 'site' must be 1..128 characters of [A-Za-z0-9._-], got '" + req.site() +
          "'");
    }
  }
  if (req.expires_in_ns() < 0) {
    return absl::InvalidArgumentError("token: field 'expires_in_ns' is negative");
  }
  if (req.name().size() > 200 || !IsValidUtf8(req.name())) {
    return absl::InvalidArgumentError("token: field 'name' must be UTF-8, at most 200 bytes");
  }
  auto id = RandomHex(kIdBytes);
  if (!id.ok()) return id.status();
  auto secret = RandomHex(kSecretBytes);
  if (!secret.ok()) return secret.status();
  const int64_t now = clock_->NowNs();
  v1::IssueTokenResponse resp;
  resp.set_token(*id + "." + *secret);
  v1::TokenRecord* r = resp.mutable_record();
  r->set_id(*id);
  r->set_kind(req.kind());
  r->set_tenant(req.tenant());
  r->set_name(req.name());
  r->set_site(req.site());
  r->set_sha256(TokenHash(resp.token()));
  r->set_created_ns(now);
  if (req.expires_in_ns() > 0) r->set_expires_ns(now + req.expires_in_ns());
  storage::KvBatch b;
  if (old != nullptr) {  // rotation: the new token and the old one's end, atomically
    r->set_replaces(old->id());
    old->set_revoked_ns(now);
    b.Put(Space::kMeta, keys::Token(old->id()), old->SerializeAsString());
  }
  b.Put(Space::kMeta, keys::Token(*id), r->SerializeAsString());
  if (Status s = cat_->kv()->Write(b, {.sync = true}); !s.ok()) return s;
  r->clear_sha256();  // nothing secret-derived leaves the coordinator
  return resp;
}

StatusOr<v1::ListTokensResponse> Coordinator::ListTokens() {
  v1::ListTokensResponse resp;
  Status s = ForEachRecord<v1::TokenRecord>(cat_->kv(), Space::kMeta, keys::kTokenPrefix, "token",
                                            [&](v1::TokenRecord&& r) {
                                              r.clear_sha256();
                                              *resp.add_tokens() = std::move(r);
                                            });
  if (!s.ok()) return s;
  return resp;
}

Status Coordinator::RevokeToken(const std::string& id) {
  MutexLock lock(&tokens_mu_);
  v1::TokenRecord r;
  Status s = ReadRecord(cat_->kv(), Space::kMeta, keys::Token(id), "token", &r);
  if (absl::IsNotFound(s)) return absl::NotFoundError("unknown token '" + id + "'");
  if (!s.ok()) return s;
  if (r.revoked_ns() != 0) return absl::OkStatus();
  r.set_revoked_ns(clock_->NowNs());
  storage::KvBatch b;
  b.Put(Space::kMeta, keys::Token(id), r.SerializeAsString());
  return cat_->kv()->Write(b, {.sync = true});
}

StatusOr<v1::IssueTokenResponse> Coordinator::RotateToken(const std::string& id) {
  v1::TokenRecord old;
  Status s = ReadRecord(cat_->kv(), Space::kMeta, keys::Token(id), "token", &old);
  if (absl::IsNotFound(s)) return absl::NotFoundError("unknown token '" + id + "'");
  if (!s.ok()) return s;
  const int64_t now = clock_->NowNs();
  if (old.revoked_ns() != 0 || (old.expires_ns() != 0 && now >= old.expires_ns()) ||
      old.used_ns() != 0) {
    return absl::FailedPreconditionError("token " + id +
                                         " is revoked, expired or used: issue a new one");
  }
  v1::IssueTokenRequest req;
  req.set_kind(old.kind());
  req.set_tenant(old.tenant());
  req.set_name(old.name());
  req.set_site(old.site());
  if (old.expires_ns() != 0) req.set_expires_in_ns(old.expires_ns() - old.created_ns());
  return IssueTokenReplacing(req, &old);
}

StatusOr<std::optional<v1::IssueTokenResponse>> Coordinator::IssueFirstEnrolToken(
    const std::string& name) {
  MutexLock lock(&tokens_mu_);
  bool issued_before = false;
  Status s = ForEachRecord<v1::TokenRecord>(cat_->kv(), Space::kMeta, keys::kTokenPrefix, "token",
                                            [&](v1::TokenRecord&& r) {
                                              if (r.kind() == v1::TOKEN_KIND_ENROL)
                                                issued_before = true;
                                            });
  if (!s.ok()) return s;
  if (issued_before) return std::optional<v1::IssueTokenResponse>();
  v1::IssueTokenRequest req;
  req.set_kind(v1::TOKEN_KIND_ENROL);
  req.set_name(name);
  auto r = IssueTokenReplacing(req, nullptr);
  if (!r.ok()) return r.status();
  return std::optional<v1::IssueTokenResponse>(std::move(*r));
}

StatusOr<std::string> Coordinator::AuthenticateTenant(std::string_view bearer_token) {
  if (bearer_token.empty()) {
    return absl::UnauthenticatedError("tenant call without 'authorization: Bearer' token");
  }
  if (!options_.admin_token_sha256.empty() &&
      ConstantTimeEqual(TokenHash(bearer_token), options_.admin_token_sha256)) {
    return absl::UnauthenticatedError(
        "expected a tenant token, got the coordinator's admin token (DATA/admin.token)");
  }
  auto r = ValidToken(bearer_token, v1::TOKEN_KIND_TENANT);
  if (!r.ok()) return r.status();
  return r->tenant();
}

}  // namespace vigil::coordinator
