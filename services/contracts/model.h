// The contract model: what an MSP declares (locations), who its clients are
// (tenants), and what each client's contract covers and promises. Parsed from
// YAML by services/contracts/parse.h, judged by services/contracts/evaluate.h.
//
// Plain structs, no gRPC and no YAML here: this header is cheap to include.
//
// Units: times are int64 nanoseconds since the Unix epoch (UTC); durations
// are int64 nanoseconds; sizes are bytes. Calendar notions (periods, the
// retention ladder's days/weeks/months, maintenance windows) are taken in a
// named IANA time zone ("Europe/Paris"), the tenant's unless said otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::contracts {

inline constexpr int64_t kSecondNs = 1'000'000'000;
inline constexpr int64_t kMinuteNs = 60 * kSecondNs;
inline constexpr int64_t kHourNs = 60 * kMinuteNs;
inline constexpr int64_t kDayNs = 24 * kHourNs;

// The one rule for every name that becomes a key or a path on the
// coordinator (locations, sites, tenants, assets, backup sets, alert
// channels, secrets): 1 to 128 of A-Z a-z 0-9 . _ -, and not "." or "..".
// The YAML parser (parse.h) and every other way into the coordinator
// (structured Apply, Register, RunCheck, GetStatus, reports, offboarding)
// apply it.
bool IsValidName(std::string_view s);
// The rule in words, for error messages.
inline constexpr const char* kNameRule = "1 to 128 of A-Z a-z 0-9 . _ -, not '.' or '..'";

// Where the YAML text of a value was, for error messages after parsing
// (e.g. "unknown location" found when the whole file set is known).
struct SourcePos {
  std::string file{};
  int line = 0;                  // 1-based; 0 = unknown
  int column = 0;                // 1-based
  std::string ToString() const;  // "file:line:column"
};

// A weekly window in a time zone: `days` (bit 0 = Monday .. bit 6 = Sunday)
// from `start_minute` (minutes after local midnight, 0..1439) for
// `duration_ns`. A window may run past midnight into the next day.
struct WeeklyWindow {
  uint8_t days = 0x7f;
  int start_minute = 0;
  int64_t duration_ns = 0;
};

// `type: s3`: a prefix of an S3-compatible bucket (the `s3:` block;
// proto v1::S3Location). Credentials are never here: the worker's
// --secrets/LOCATION.s3.
struct S3Spec {
  std::string endpoint{};  // "https://host[:port]" or "http://host[:port]"
  std::string region = "us-east-1";
  std::string bucket{};
  std::string prefix{};       // "" or "a/b" (no leading/trailing '/')
  bool virtual_host = false;  // `addressing: virtual-host`; default path
  std::string ca_file{};      // on the worker's machine; "" = system CAs
};

// `type: sftp`: a directory on an SFTP server (the `sftp:` block; proto
// v1::SftpLocation). The private key is the worker's
// --secrets/LOCATION.ssh.
struct SftpSpec {
  std::string host{};
  int port = 22;
  std::string user{};
  std::string host_key{};  // "ssh-ed25519 AAAA..." (pinned; required)
  std::string path{};      // absolute directory on the server
};

// A storage endpoint the MSP owns. Declared by the MSP, never by a tenant:
// `offsite` and `immutable` are reported as declared, not measured.
struct Location {
  std::string name{};
  std::string site{};
  std::string kind = "filesystem";  // the contract's `type`: filesystem | s3 | sftp
  S3Spec s3{};                      // kind "s3"
  SftpSpec sftp{};                  // kind "sftp"
  bool offsite = false;
  bool immutable = false;
  // Read budget for checks at this location, bytes per second; 0 = none.
  uint64_t io_budget_bytes_per_s = 0;
  // `readBudget`: what checks and drills here may read in any 24 hours (a
  // cost, not a speed: docs/remote.md "Cost"); 0 = that measure unlimited.
  uint64_t read_bytes_per_day = 0;
  uint64_t read_requests_per_day = 0;
  // Windows in which the location is NOT read (its own backups run then).
  std::vector<WeeklyWindow> maintenance_windows{};
  // Time zone of the windows. Default "UTC".
  std::string timezone = "UTC";
  SourcePos pos{};
};

struct Tenant {
  std::string name{};
  std::string display_name{};  // empty = name
  // IANA zone of the tenant: periods, RPO ages and retention days are
  // counted in it. Required.
  std::string timezone{};
  // Language of the tenant's reports: "en" or "fr". Default "en".
  std::string language = "en";
  // Who at the client is told of failures (optional, free text e-mail).
  std::string contact{};
  // `alerts: {contact: true}`: alerts are also e-mailed to `contact`
  // (docs/alerts.md). Requires a contact.
  bool alert_contact = false;
  SourcePos pos{};
};

// An MSP channel for alerts (`kind: AlertChannel`; docs/alerts.md). Exactly
// one of webhook_url / email_to is set. Secrets are named here, never given:
// they are files in the coordinator's --secrets directory.
struct AlertChannel {
  std::string name{};
  std::string webhook_url{};  // http:// or https://
  std::string secret{};       // webhook: HMAC key file name (required)
  std::vector<std::string> email_to{};
  std::string smtp_url{};  // smtp:// or smtps://
  std::string from{};
  bool starttls = false;
  std::string smtp_user{};
  std::string password_secret{};  // required with smtp_user
  // Tenants served; empty = every tenant.
  std::vector<std::string> tenants{};
  SourcePos pos{};
};

// How restore points are laid out inside a backup set's directory.
enum class Layout {
  kMirror,           // one point updated in place (rsync mirror, Veeam .vbk)
  kDatedFolders,     // one sub-folder per point, ISO date in its name
  kRsnapshot,        // daily.N / weekly.N / monthly.N (renamed every run)
  kDatedFiles,       // one file per point, date in its name (or its mtime)
  kBagitBags,        // one BagIt bag (sub-folder) per point
  kResticSnapshots,  // restic snapshots (format "restic")
};
const char* LayoutName(Layout l);  // "mirror", "dated-folders", ...
// Inverse of LayoutName; "" is kMirror. nullopt for anything else.
std::optional<Layout> LayoutFromName(std::string_view name);

struct BackupSet {
  std::string name{};          // unique within the tenant
  std::string location{};      // a Location's name
  std::string path{};          // relative to the location's root
  std::string format = "dir";  // dir | bagit | sumfile | restic
  Layout layout = Layout::kMirror;
  // kDatedFiles: glob of the point files ("*.sql.gz"); empty = every file.
  std::string pattern{};
  // kDatedFolders / kDatedFiles: take the point's time from its mtime
  // when the name carries no date. Default false (a name without a date is
  // reported, not guessed).
  bool time_from_mtime = false;
  // Hash algorithm name for the catalogue ("xxh3-128" default, "sha256").
  std::string content_hash = "xxh3-128";
  // Mutable mirror: a change with a new mtime is an update, not an integrity
  // failure. Default: true for kMirror, false for every other layout.
  bool mutable_ = true;
  // kMirror only: a file inside the set's directory that the sync job
  // rewrites at every run (a sync log, a `.last-sync` stamp), relative to
  // the set's path. Its mtime proves when the mirror was last synced, so an
  // RPO breach can be a fail. Without it a mirror's freshness is only a
  // lower bound (its newest file's mtime, or the last change Vigil saw):
  // an age past the RPO is then unknown, never fail. Empty = none.
  std::string sync_marker{};
  SourcePos pos{};
};

struct Asset {
  std::string name{};
  std::string description{};
  std::vector<BackupSet> backup_sets{};
  SourcePos pos{};
};

enum class CommitmentKind { kRpo, kRetention, kCopies, kIntegrity, kRestoreDrill };
const char* CommitmentKindName(CommitmentKind k);  // "rpo", "retention", ...
// Its key in a contract's YAML: "rpo", "retention", "copies", "integrity",
// "restoreDrill"; and back (nullopt for any other key).
const char* CommitmentKindKey(CommitmentKind k);
std::optional<CommitmentKind> CommitmentKindFromKey(std::string_view key);

struct RpoSpec {
  int64_t max_age_ns = 0;  // newest good point must be younger than this
};
struct RetentionSpec {
  // Points to keep: the newest point of each of the last N local days,
  // ISO weeks, months, years (the usual grandfather-father-son ladder).
  int daily = 0;
  int weekly = 0;
  int monthly = 0;
  int yearly = 0;
};
struct CopiesSpec {
  int min = 1;      // backup sets holding a current copy
  int offsite = 0;  // of which on locations declared offsite
  // A failing copies commitment always makes the asset's readiness after
  // the loss of its primary site `not ready`; with this, its restore
  // readiness too (`gatesReadiness: true`). Default false.
  bool gates_readiness = false;
};
struct IntegritySpec {
  int64_t reverify_within_ns = 0;  // every entry re-read at least this often
  // Per-run limit: bytes read per run (0 = none) ...
  uint64_t budget_bytes = 0;
  // ... or a random sample of this many entries per run (0 = all).
  uint32_t sample = 0;
};
struct RestoreDrillSpec {
  int64_t every_ns = 0;       // a drill at least this often
  int64_t rto_ns = 0;         // projected full restore must fit in this
  uint32_t sample_files = 0;  // files copied per drill (0 = default 100)
  uint64_t sample_bytes = 0;  // or up to this many bytes (0 = no limit)
};

struct Commitment {
  CommitmentKind kind = CommitmentKind::kRpo;
  // Assets it applies to; empty = every asset of the contract.
  std::vector<std::string> assets{};
  RpoSpec rpo;
  RetentionSpec retention;
  CopiesSpec copies;
  IntegritySpec integrity;
  RestoreDrillSpec drill;
  SourcePos pos{};
};

// The first of `cs` of kind `k`, or nullptr.
const Commitment* FindKind(const std::vector<const Commitment*>& cs, CommitmentKind k);

struct OutOfScope {
  std::string item{};
  std::string reason{};
  SourcePos pos{};
};

// Thresholds of the ransomware signals of a contract's restore points
// (services/contracts/signals.h, docs/ransomware.md), the `ransomware:`
// block of a Contract; every field has the documented default below and may
// be overridden alone. They apply to every backup set of the contract.
struct RansomwareSpec {
  // false: no signal is computed and no verdict given (points stay "not
  // computed", never clean). Default true.
  bool enabled = true;
  // `renames`: files of the reference point gone and whose content (same
  // digest) is now under another name in the new point, at least this many
  // -> suspicious. Default 200.
  uint64_t renames = 200;
  // `extensionChanges`: x.docx gone and x.docx.SOMETHING or x.SOMETHING new
  // in the same directory, at least this many -> suspicious. Default 50.
  uint64_t extension_changes = 50;
  // `deletionsPerExtension: {count, fraction}`: per extension, the net loss
  // of files (gone minus new) at least `count` AND above `fraction` of that
  // extension's files in the reference -> suspicious. Default 100, 0.5.
  uint64_t deletions_count = 100;
  double deletions_fraction = 0.5;
  // `structuredEntropyBits`, `randomEntropyBits`: byte entropy (bits per
  // byte, 0..8) below which a sample with no matching format counts as
  // structured, and at or above which a sample whose format no longer
  // matches its extension counts as random. Default 7.0 and 7.5.
  double structured_entropy_bits = 7.0;
  double random_entropy_bits = 7.5;
  // `randomFiles: {suspicious, encrypted, fraction}`: files that became
  // random or no longer match their format. At least `suspicious` ->
  // suspicious; at least `encrypted`, or at least `suspicious` and at least
  // `fraction` of the new point's sampled files -> encrypted. Default 10,
  // 100, 0.25.
  uint64_t random_files_suspicious = 10;
  uint64_t random_files_encrypted = 100;
  double random_files_fraction = 0.25;
  // `noteDirectories`: one new note-like file name (.txt, .html, ..., at
  // most 64 KiB) appearing in at least this many directories that already
  // held files -> suspicious. Default 10.
  uint64_t note_directories = 10;
  // `changeRate: {sigma, files, fraction}`: changed files against the
  // previous point beyond mean + sigma standard deviations of the set's
  // last 14 points (at least 5), and at least `files` and `fraction` of the
  // point. Evidence only: it never flags a point alone. Default 3, 1000,
  // 0.05.
  double change_rate_sigma = 3;
  uint64_t change_rate_files = 1000;
  double change_rate_fraction = 0.05;

  friend bool operator==(const RansomwareSpec&, const RansomwareSpec&) = default;
};

struct Contract {
  std::string tenant{};
  // When this version takes effect (ns). Default: when it is applied. A
  // period is judged against the version in force at its start... and each
  // version only over the time it was in force.
  int64_t effective_from_ns = 0;
  // Free reference of the signed paper contract ("CTR-2026-014").
  std::string reference{};
  std::vector<Asset> assets{};
  std::vector<Commitment> commitments{};
  std::vector<OutOfScope> out_of_scope{};
  // Thresholds of the ransomware signals (defaults when the contract has no
  // `ransomware:` block).
  RansomwareSpec ransomware{};
  SourcePos pos{};
  // The contract's YAML document re-emitted in a canonical form (keys in a
  // fixed order, comments dropped): stored as the contract version, hashed
  // to identify it; re-parsing it gives the same Contract.
  std::string canonical_yaml{};

  // Commitments that apply to `asset`.
  std::vector<const Commitment*> CommitmentsFor(const std::string& asset) const;
};

// Everything one `vigil apply -f` file set declares.
struct Manifest {
  std::vector<Location> locations{};
  std::vector<Tenant> tenants{};
  std::vector<Contract> contracts{};
  std::vector<AlertChannel> alert_channels{};
};

}  // namespace vigil::contracts
