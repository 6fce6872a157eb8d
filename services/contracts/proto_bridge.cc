#include "services/contracts/proto_bridge.h"

#include <algorithm>

namespace vigil::contracts {

void ToProto(const Location& l, v1::Location* out) {
  out->set_name(l.name);
  out->set_site(l.site);
  // kind "filesystem" is sent as the proto's default (""): the stored
  // record of a filesystem location is byte for byte what it was before
  // remote kinds existed (Apply compares records to report changes).
  if (l.kind == "s3") {
    out->set_kind("s3");
    v1::S3Location* s = out->mutable_s3();
    s->set_endpoint(l.s3.endpoint);
    s->set_region(l.s3.region);
    s->set_bucket(l.s3.bucket);
    s->set_prefix(l.s3.prefix);
    s->set_virtual_host(l.s3.virtual_host);
    s->set_ca_file(l.s3.ca_file);
  } else if (l.kind == "sftp") {
    out->set_kind("sftp");
    v1::SftpLocation* s = out->mutable_sftp();
    s->set_host(l.sftp.host);
    s->set_port(static_cast<uint32_t>(l.sftp.port));
    s->set_user(l.sftp.user);
    s->set_host_key(l.sftp.host_key);
    s->set_path(l.sftp.path);
  } else if (l.kind != "filesystem") {
    out->set_kind(l.kind);  // refused by the coordinator's Apply
  }
  out->set_offsite(l.offsite);
  out->set_immutable(l.immutable);
  out->set_io_budget_bytes_per_s(l.io_budget_bytes_per_s);
  if (l.read_bytes_per_day > 0 || l.read_requests_per_day > 0) {
    out->mutable_read_budget()->set_bytes_per_day(l.read_bytes_per_day);
    out->mutable_read_budget()->set_requests_per_day(l.read_requests_per_day);
  }
  for (const WeeklyWindow& w : l.maintenance_windows) {
    v1::WeeklyWindow* p = out->add_maintenance_windows();
    p->set_days(w.days);
    p->set_start_minute(static_cast<uint32_t>(w.start_minute));
    p->set_duration_ns(w.duration_ns);
  }
  out->set_timezone(l.timezone == "UTC" ? "" : l.timezone);
}

void ToProto(const Tenant& t, v1::Tenant* out) {
  out->set_name(t.name);
  out->set_display_name(t.display_name);
  out->set_timezone(t.timezone);
  out->set_language(t.language == "en" ? "" : t.language);
  out->set_contact(t.contact);
  out->set_alert_contact(t.alert_contact);
}

void ToProto(const AlertChannel& c, v1::AlertChannel* out) {
  out->set_name(c.name);
  out->set_webhook_url(c.webhook_url);
  out->set_secret(c.secret);
  for (const auto& a : c.email_to) out->add_email_to(a);
  out->set_smtp_url(c.smtp_url);
  out->set_from(c.from);
  out->set_starttls(c.starttls);
  out->set_smtp_user(c.smtp_user);
  out->set_password_secret(c.password_secret);
  for (const auto& t : c.tenants) out->add_tenants(t);
}

void ToProto(const std::string& tenant, const std::string& asset, const BackupSet& b,
             v1::BackupSet* out) {
  out->set_tenant(tenant);
  out->set_asset(asset);
  out->set_name(b.name);
  out->set_location(b.location);
  out->set_path(b.path);
  out->set_format(b.format);
  out->set_mutable_(b.mutable_);
  out->set_layout(b.layout == Layout::kMirror ? "" : LayoutName(b.layout));
  out->set_pattern(b.pattern);
  out->set_time_from_mtime(b.time_from_mtime);
  out->set_content_hash(b.content_hash == "xxh3-128" ? "" : b.content_hash);
}

Location FromProto(const v1::Location& l) {
  Location m;
  m.name = l.name();
  m.site = l.site();
  if (!l.kind().empty()) m.kind = l.kind();
  if (l.has_s3()) {
    const v1::S3Location& s = l.s3();
    m.s3.endpoint = s.endpoint();
    if (!s.region().empty()) m.s3.region = s.region();
    m.s3.bucket = s.bucket();
    m.s3.prefix = s.prefix();
    m.s3.virtual_host = s.virtual_host();
    m.s3.ca_file = s.ca_file();
  }
  if (l.has_sftp()) {
    const v1::SftpLocation& s = l.sftp();
    m.sftp.host = s.host();
    m.sftp.port = s.port() == 0 ? 22 : static_cast<int>(std::min<uint32_t>(s.port(), 1u << 20));
    m.sftp.user = s.user();
    m.sftp.host_key = s.host_key();
    m.sftp.path = s.path();
  }
  m.offsite = l.offsite();
  m.immutable = l.immutable();
  m.io_budget_bytes_per_s = l.io_budget_bytes_per_s();
  m.read_bytes_per_day = l.read_budget().bytes_per_day();
  m.read_requests_per_day = l.read_budget().requests_per_day();
  for (const auto& w : l.maintenance_windows()) {
    m.maintenance_windows.push_back({static_cast<uint8_t>(w.days() & 0x7f),
                                     static_cast<int>(w.start_minute()), w.duration_ns()});
  }
  if (!l.timezone().empty()) m.timezone = l.timezone();
  return m;
}

Tenant FromProto(const v1::Tenant& t) {
  Tenant m;
  m.name = t.name();
  m.display_name = t.display_name();
  m.timezone = t.timezone().empty() ? "UTC" : t.timezone();
  if (!t.language().empty()) m.language = t.language();
  m.contact = t.contact();
  m.alert_contact = t.alert_contact();
  return m;
}

BackupSet FromProto(const v1::BackupSet& b) {
  BackupSet m;
  m.name = b.name();
  m.location = b.location();
  m.path = b.path();
  m.format = b.format().empty() ? "dir" : b.format();
  m.layout = LayoutFromName(b.layout()).value_or(Layout::kMirror);
  m.pattern = b.pattern();
  m.time_from_mtime = b.time_from_mtime();
  if (!b.content_hash().empty()) m.content_hash = b.content_hash();
  m.mutable_ = b.mutable_();
  return m;
}

storage::StatusOr<storage::HashAlgorithm> ContentHashOf(const v1::BackupSet& b) {
  if (b.format() == "restic") return storage::HashAlgorithm::kSha256;
  if (b.content_hash().empty()) return storage::HashAlgorithm::kXxh3_128;
  auto alg = storage::ParseAlgorithm(b.content_hash());
  if (!alg) {
    return absl::InvalidArgumentError("backup set '" + b.name() + "': unknown contentHash '" +
                                      b.content_hash() + "'");
  }
  return *alg;
}

StoreSaid FromProto(const v1::StoreEvidence& e) {
  StoreSaid s;
  s.store = e.store();
  s.measured_ns = e.measured_ns();
  s.versioning = e.versioning();
  s.versioning_unmeasured = e.versioning_unmeasured();
  s.object_lock = e.object_lock();
  s.object_lock_unmeasured = e.object_lock_unmeasured();
  s.default_mode = e.default_retention_mode();
  s.default_days = e.default_retention_days();
  s.default_years = e.default_retention_years();
  s.retained = e.objects_retained();
  s.not_retained = e.objects_not_retained();
  s.agree = e.checksums_agree();
  s.disagree = e.checksums_disagree();
  s.absent = e.checksums_absent();
  s.disagreeing.assign(e.disagreeing().begin(), e.disagreeing().end());
  return s;
}

}  // namespace vigil::contracts
