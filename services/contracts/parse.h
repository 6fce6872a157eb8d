// YAML manifests (`vigil apply -f`, apiVersion vigil/v1) -> contracts::Manifest,
// with full validation.
//
// A file set is one or more multi-document YAML files; each document is one
// of four kinds (keys are camelCase; an unknown key is an error that lists
// the allowed ones, so a typo is never silently ignored):
//
//   apiVersion: vigil/v1
//   kind: Location
//   name: nas-office            # [A-Za-z0-9._-]{1,128}, not "." or ".."
//   site: office                # required; only workers of this site serve it
//   type: filesystem            # optional; only "filesystem"
//   offsite: false              # optional bool (true/false), declared
//   immutable: false            # optional bool, declared
//   ioBudget: 50MiB/s           # optional; "<number><unit>/s", units B, KB,
//                               # MB, GB, TB (1000) and KiB, MiB, GiB, TiB
//                               # (1024), or a plain integer (bytes/s)
//   readBudget:                 # optional; what may be read in any 24 h
//     bytesPerDay: 50GiB        # optional, > 0; a size (units as ioBudget)
//     requestsPerDay: 100000    # optional, an integer >= 1 (one of the two
//                               # is required)
//   timezone: Europe/Paris      # optional, default UTC; an IANA zone
//   maintenanceWindows:         # optional; the location is not read then
//     - days: [mon, tue]        # required: list of mon..sun, or "daily"
//       start: "22:00"          # required: HH:MM local time
//       duration: 4h            # required: > 0 and <= 7d
//   ---
//   apiVersion: vigil/v1
//   kind: Tenant
//   name: dupont-avocats        # same rule as a Location name
//   displayName: Dupont & Associés   # optional
//   timezone: Europe/Paris      # required
//   language: fr                # optional: en (default) or fr
//   contact: it@dupont.fr       # optional
//   alerts: {contact: true}     # optional: alerts also e-mailed to contact
//                               # (requires contact; docs/alerts.md)
//   ---
//   apiVersion: vigil/v1
//   kind: Contract
//   tenant: dupont-avocats      # a Tenant of the file set or already known
//   reference: CTR-2026-014     # optional
//   effectiveFrom: 2026-01-01   # optional: a date or an RFC 3339 timestamp
//   assets:                     # required, non-empty
//     - name: fileserver        # unique in the contract
//       description: FS01       # optional
//       backupSets:             # required, non-empty
//         - name: fileserver-nas     # unique in the contract
//           location: nas-office     # a Location of the file set or known
//           path: dupont/fs          # relative, no "..", "." or empty part
//           format: dir              # dir (default) | bagit | sumfile | restic
//           layout: rsnapshot        # see below; default from the format
//           pattern: "*.sql.gz"      # layout dated-files only
//           timeFromMtime: false     # layouts dated-folders/dated-files only
//           contentHash: sha256      # a storage/hash.h name; default xxh3-128
//           mutable: true            # true only with layout mirror;
//                                    # default: layout == mirror
//           syncMarker: .last-sync   # layout mirror only: a file the sync
//                                    # job rewrites at every run (relative
//                                    # to path); its mtime dates the mirror
//   commitments:                # optional list; each item has exactly one
//     - rpo: 24h                #   kind key, and optionally `assets: [..]`
//       assets: [fileserver]    #   (default: every asset of the contract)
//     - retention: {daily: 7, weekly: 4, monthly: 12, yearly: 1}
//     - copies: {min: 2, offsite: 1}   # gatesReadiness: true (optional)
//     - integrity: {reverifyWithin: 30d, budget: 200GiB}  # or sample: N
//     - restoreDrill: {every: 90d, rto: 8h, sampleFiles: 100, sampleBytes: 2GiB}
//   outOfScope:                 # optional list
//     - item: Accounting SaaS
//       reason: backed up by the vendor
//   ---
//   apiVersion: vigil/v1
//   kind: AlertChannel          # an MSP channel for alerts (docs/alerts.md)
//   name: msp-ops               # same rule as a Location name
//   webhook: https://hooks.example/vigil   # http(s)://; or email (below)
//   secret: msp-ops-hmac        # webhook: HMAC key file in --secrets (a name)
//   email: [ops@msp.example]    # email: non-empty list of plain addresses
//   smtp: smtp://mail:587       # email: required, smtp:// or smtps://
//   from: vigil@msp.example     # email: required, a plain address
//   starttls: true              # email: optional bool, default false
//   user: vigil                 # email: optional SMTP AUTH user ...
//   passwordSecret: smtp-pw     # ... with its password file in --secrets
//   tenants: [dupont-avocats]   # optional: only these tenants (default all)
// Exactly one of webhook and email per channel; webhook-only keys on an
// email channel (and the reverse) are errors.
//
// Layouts and the formats they go with: mirror, dated-folders, rsnapshot and
// dated-files need format dir or sumfile; bagit-bags needs bagit; restic-
// snapshots needs restic. The default layout is mirror for dir and sumfile,
// bagit-bags for bagit, restic-snapshots for restic.
//
// Commitments: rpo is a duration > 0. retention: non-negative integers, at
// least one > 0. copies: min >= 1 (required), 0 <= offsite <= min, and every
// asset it covers must have at least `min` backup sets; gatesReadiness
// (default false): a failing copies commitment also makes the restore
// readiness not ready (it always makes the readiness after site loss so). integrity:
// reverifyWithin (required, > 0) and at most one of budget (bytes, same
// units as ioBudget without "/s") and sample (entries, > 0). restoreDrill:
// every and rto (required, > 0), sampleFiles (> 0, default 100),
// sampleBytes (default 0 = no limit). An asset may be covered by at most one
// commitment of each kind (two `rpo` items that both cover an asset are an
// error, whether they list assets or not).
//
// Booleans are true/false (not yes/no/on/off); integers are plain (unquoted)
// decimal integers. Durations are ParseDuration()'s ("90s", "15m", "12h",
// "30d", "2w", "1d12h"), at most 36500d (kMaxDurationNs, below).
//
// effectiveFrom as a date means midnight in the tenant's time zone when the
// Tenant is in the same file set; when the tenant is only known to the
// coordinator (KnownNames) its zone is not known here, and the date is taken
// as midnight UTC. An RFC 3339 timestamp ("2026-01-01T00:00:00+01:00") is
// exact. Absent = 0 ("when applied").
//
// Contract::canonical_yaml is the contract re-emitted with keys in a fixed
// order, every value explicit (defaults included: format, layout,
// contentHash, mutable, and for the layouts they apply to pattern and
// timeFromMtime; restoreDrill.sampleFiles), durations in d/h/m/s, sizes in
// bytes, effectiveFrom as an RFC 3339 UTC timestamp (omitted when 0), and
// optional free texts (reference, description) omitted when empty. Parsing
// it again (with the tenant and locations known) gives an equal Contract.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "services/contracts/model.h"
#include "storage/status.h"

namespace vigil::contracts {

// One YAML file: `name` is used in error messages ("name:line:column").
struct SourceFile {
  std::string name;
  std::string text;
};

// Names that already exist on the coordinator: a contract may reference a
// location or tenant applied earlier. A Location or Tenant of the file set
// that is also known is an update, not a duplicate.
struct KnownNames {
  std::set<std::string> locations;
  std::set<std::string> tenants;
  // When true, a reference to a location or tenant that is neither in the
  // file set nor above is not an error (the CLI, which cannot know the
  // coordinator's names; the coordinator checks them again).
  bool allow_unknown_references = false;
};

// Limits on a file's YAML, checked in a dry run over its events before any
// node is built (so that a small file cannot make the parser, the
// coordinator or the records it stores do unbounded work). Each is an error
// "file:line:column: yaml: <which limit, its value>" at the event that
// broke it:
// - lists and maps nested at most kMaxNestingDepth deep (a manifest needs
//   five);
// - the text a file stands for once its aliases are expanded (every
//   scalar's bytes plus one per node, an alias counting as the whole node
//   it names) at most kMaxExpandedFactor times the file's size, and at
//   least kMinExpandedBudget: anchors may share a value, not multiply the
//   manifest;
// - no alias inside the node its anchor names (a recursive structure).
// Besides, walking the documents visits at most 10,000 + one value per
// byte of the file set (lists' items and maps' keys, aliases expanded).
inline constexpr int kMaxNestingDepth = 32;
inline constexpr uint64_t kMaxExpandedFactor = 4;
inline constexpr uint64_t kMinExpandedBudget = uint64_t{4} << 20;

// Durations of a manifest are at most this long (100 years): longer ones
// are "duration out of range" errors (times plus durations must stay
// within int64 nanoseconds).
inline constexpr int64_t kMaxDurationNs = 36500 * kDayNs;

// At most this many errors are listed; one more line then says how many
// were left out.
inline constexpr int kMaxReportedErrors = 50;

// Parses every multi-document YAML file of `files` and validates everything,
// across files too (duplicate names, references, one Contract per tenant).
// On success fills *out (replacing its content). On any error returns
// InvalidArgument whose message lists every error found (up to
// kMaxReportedErrors), one per line, sorted by file then position, each
//   "file:line:column: <field path>: <what is wrong and what is expected>"
// e.g. "a.yaml:12:19: Contract(dupont).assets[1].backupSets[0].location:
// unknown location 'nas-x'; ...", and leaves *out untouched. Lines and
// columns are 1-based. Never throws.
storage::Status ParseManifest(const std::vector<SourceFile>& files, const KnownNames& known,
                              Manifest* out);

// True if `name` is an IANA time zone (or link) of the system's tz database
// ("Europe/Paris", "UTC").
bool IsKnownTimeZone(const std::string& name);

// A duration as ParseDuration() reads it, in d/h/m/s ("1d12h", "90s"; "0s"
// for 0). Sub-second parts are dropped.
std::string FormatDuration(int64_t ns);

}  // namespace vigil::contracts
