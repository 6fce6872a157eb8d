#include "services/cli/report_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "services/cli/client.h"
#include "services/cli/exit_codes.h"
#include "services/common/files.h"
#include "services/common/text.h"
#include "services/common/time.h"
#include "services/proofs/proof_verify.h"
#include "services/reports/html.h"
#include "vigil/v1/admin.grpc.pb.h"
#include "vigil/v1/tenant.grpc.pb.h"

namespace vigil::cli {
namespace {

using nlohmann::json;

// Deadline of calls that build a report and its Merkle roots: they scan the
// tenant's catalogue.
constexpr int kReportDeadlineS = 3600;

int WriteOut(const std::string& path, std::string_view bytes) {
  if (storage::Status s = WriteFileDurably(path, bytes); !s.ok()) {
    std::fprintf(stderr, "vigil: %s\n", std::string(s.message()).c_str());
    return kExitUsage;
  }
  return kExitOk;
}

// "acme/x" -> "acme_x": a name safe as one file name component.
std::string FileSafe(std::string s) {
  for (char& c : s) {
    if (c == '/' || c == '\0' || c == '\\' || c == ' ') c = '_';
  }
  if (s.empty() || s == "." || s == "..") s = "_";
  return s;
}

std::string StripExtension(const std::string& path) {
  size_t slash = path.rfind('/');
  size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return path;
  return path.substr(0, dot);
}

// The report inside a proof statement.
bool ReportOf(const std::string& statement, json* report) {
  json st = json::parse(statement, nullptr, false);
  if (!st.is_object() || !st.contains("report") || !st["report"].is_object()) {
    std::fprintf(stderr, "vigil: the proof statement holds no report\n");
    return false;
  }
  *report = st["report"];
  return true;
}

// Renders the report as `format` ("html" | "json").
bool RenderReport(const json& report, const std::string& format, std::string* out) {
  if (format == "json") {
    *out = report.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
    return true;
  }
  auto html = reports::RenderReportHtml(report);
  if (!html.ok()) {
    std::fprintf(stderr, "vigil: cannot render the report: %s\n",
                 std::string(html.status().message()).c_str());
    return false;
  }
  *out = std::move(*html);
  return true;
}

// Writes the proof statement and its detached signature. A file already
// holding another statement is never replaced: it is a proof too.
int WriteProof(const v1::ProofFile& p, const std::string& path) {
  if (auto old = ReadWholeFile(path); old.ok() && *old != p.statement()) {
    std::fprintf(stderr,
                 "vigil: '%s' already holds another proof; not replacing it. Proof %llu is kept "
                 "on the coordinator: fetch it into another file with `vigil proof get TENANT "
                 "--seq %llu -o FILE`\n",
                 path.c_str(), static_cast<unsigned long long>(p.seq()),
                 static_cast<unsigned long long>(p.seq()));
    return kExitUsage;
  }
  if (int rc = WriteOut(path, p.statement()); rc != kExitOk) return rc;
  return WriteOut(path + ".sig", p.signature());
}

// "html", "json" or "html,json" (either order) -> the formats, each once.
bool ParseFormats(const std::string& text, std::vector<std::string>* formats) {
  formats->clear();
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string f = text.substr(start, comma - start);
    if (f != "html" && f != "json") {
      std::fprintf(stderr,
                   "vigil report: --format: '%s' is not a format (html, json or html,json)\n",
                   f.c_str());
      return false;
    }
    if (std::find(formats->begin(), formats->end(), f) == formats->end()) formats->push_back(f);
    start = comma + 1;
  }
  return true;
}

// "r.proof.json" -> "r"; "r.json" -> "r".
std::string ProofStem(const std::string& path) {
  constexpr std::string_view kSuffix = ".proof.json";
  if (path.size() > kSuffix.size() &&
      path.compare(path.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
    return path.substr(0, path.size() - kSuffix.size());
  }
  return StripExtension(path);
}

// The report files: with one format, `output` itself (default STEM.FORMAT);
// with several, STEM.FORMAT each, STEM being `output` without its extension.
std::vector<std::pair<std::string, std::string>> ReportFiles(
    const std::vector<std::string>& formats, const std::string& output,
    const std::string& default_stem) {
  std::vector<std::pair<std::string, std::string>> files;  // (format, path)
  if (formats.size() == 1 && !output.empty()) return {{formats[0], output}};
  const std::string stem = output.empty() ? default_stem : StripExtension(output);
  for (const std::string& f : formats) files.emplace_back(f, stem + "." + f);
  return files;
}

// Renders `report` into each of `files`; prints one line per file.
int WriteRenderings(const json& report,
                    const std::vector<std::pair<std::string, std::string>>& files) {
  for (const auto& [format, path] : files) {
    std::string rendered;
    if (!RenderReport(report, format, &rendered)) return kExitUsage;
    if (int rc = WriteOut(path, rendered); rc != kExitOk) return rc;
    std::printf("report    %s  (%s)\n", path.c_str(), format.c_str());
  }
  return kExitOk;
}

// `vigil report --from PROOF`: renders a proof already issued, offline.
int RenderFromProof(const ReportArgs& args, const std::vector<std::string>& formats) {
  auto statement = ReadWholeFile(args.from);
  if (!statement.ok()) {
    std::fprintf(stderr, "vigil report: --from: %s\n",
                 std::string(statement.status().message()).c_str());
    return kExitUsage;
  }
  json report;
  if (!ReportOf(*statement, &report)) return kExitUsage;
  auto files = ReportFiles(formats, args.output, ProofStem(args.from));
  for (const auto& [format, path] : files) {
    if (path == args.from) {
      std::fprintf(stderr, "vigil report: '%s' is the proof itself: choose another -o\n",
                   path.c_str());
      return kExitUsage;
    }
  }
  if (int rc = WriteRenderings(report, files); rc != kExitOk) return rc;
  std::printf(
      "rendered from %s (no new proof issued; check it with: vigil proof verify %s --key "
      "msp.pub)\n",
      args.from.c_str(), args.from.c_str());
  return kExitOk;
}

}  // namespace

int RunReport(const ReportArgs& args) {
  std::vector<std::string> formats;
  if (!ParseFormats(args.format, &formats)) return kExitUsage;
  if (!args.from.empty()) {
    if (!args.tenant.empty() || !args.period.empty() || !args.proof.empty() ||
        args.allow_unmonitored) {
      std::fprintf(stderr,
                   "vigil report: --from PROOF renders a proof already issued: it takes no "
                   "TENANT, --period, --proof or --allow-unmonitored\n");
      return kExitUsage;
    }
    return RenderFromProof(args, formats);
  }
  if (args.tenant.empty()) {
    std::fprintf(stderr,
                 "vigil report: name the TENANT (or render a proof you have with --from "
                 "PROOF); see vigil report --help\n");
    return kExitUsage;
  }
  // The names are known before the call when the period or the files are
  // given: a proof file already there is refused before a new proof is issued.
  auto proof_path_for = [&](const std::string& period) {
    if (!args.proof.empty()) return args.proof;
    const std::string stem = args.output.empty() ? FileSafe(args.tenant) + "-" + FileSafe(period)
                                                 : StripExtension(args.output);
    return stem + ".proof.json";
  };
  if (!args.period.empty() || !args.output.empty() || !args.proof.empty()) {
    const std::string planned = proof_path_for(args.period);
    if (access(planned.c_str(), F_OK) == 0) {
      std::fprintf(stderr,
                   "vigil report: '%s' already holds a proof; not issuing another over it.\n"
                   "  To render that proof in another format without issuing a new one:\n"
                   "    vigil report --from %s --format FORMAT [-o FILE]\n"
                   "  To issue a new proof, choose other names (-o FILE or --proof FILE) or move "
                   "the old files away.\n",
                   planned.c_str(), planned.c_str());
      return kExitUsage;
    }
  }
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  v1::MakeReportRequest req;
  req.set_tenant(args.tenant);
  req.set_period(args.period);
  req.set_allow_unmonitored(args.allow_unmonitored);
  v1::ProofFile proof;
  if (int rc = c.Call(&AdminStub::MakeReport, req, &proof, kReportDeadlineS); rc != kExitOk) {
    return rc;
  }
  const std::string proof_path = proof_path_for(proof.period());
  // The proof is issued and stored on the coordinator: written first, so a
  // report that cannot be rendered does not leave the client without it.
  if (int rc = WriteProof(proof, proof_path); rc != kExitOk) return rc;
  json report;
  if (!ReportOf(proof.statement(), &report)) return kExitFailure;
  auto files =
      ReportFiles(formats, args.output, FileSafe(args.tenant) + "-" + FileSafe(proof.period()));
  if (int rc = WriteRenderings(report, files); rc != kExitOk) return rc;
  std::printf("proof     %s  (proof %llu, period %s)\nsignature %s.sig\n", proof_path.c_str(),
              static_cast<unsigned long long>(proof.seq()), proof.period().c_str(),
              proof_path.c_str());
  std::printf("The client checks it offline: vigil proof verify %s --key msp.pub\n",
              proof_path.c_str());
  return kExitOk;
}

int RunProofInclude(const ProofFetchArgs& args) {
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  v1::GetInclusionProofRequest req;
  req.set_tenant(args.tenant);
  req.set_backup_set(args.backup_set);
  req.set_path(args.path);
  req.set_seq(args.seq);
  v1::GetInclusionProofResponse resp;
  if (int rc = c.Call(&AdminStub::GetInclusionProof, req, &resp, kReportDeadlineS); rc != kExitOk) {
    return rc;
  }
  if (args.output.empty() || args.output == "-") {
    std::printf("%s\n", resp.inclusion_json().c_str());
    return kExitOk;
  }
  if (int rc = WriteOut(args.output, resp.inclusion_json() + "\n"); rc != kExitOk) return rc;
  std::printf("inclusion proof written to %s\n", args.output.c_str());
  return kExitOk;
}

int RunProofList(const ProofFetchArgs& args) {
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  v1::ListProofsRequest req;
  req.set_tenant(args.tenant);
  v1::ListProofsResponse resp;
  if (int rc = c.Call(&AdminStub::ListProofs, req, &resp); rc != kExitOk) return rc;
  if (args.json) {
    json a = json::array();
    for (const auto& p : resp.proofs()) {
      a.push_back({{"seq", p.seq()}, {"period", p.period()}, {"issued_ns", p.issued_ns()}});
    }
    std::printf("%s\n", json{{"proofs", a}}.dump(2).c_str());
    return kExitOk;
  }
  if (resp.proofs_size() == 0) std::printf("no proof issued for %s yet\n", args.tenant.c_str());
  for (const auto& p : resp.proofs()) {
    std::printf("%6llu  %-24s issued %s\n", static_cast<unsigned long long>(p.seq()),
                p.period().c_str(), FormatTimeUtc(p.issued_ns()).c_str());
  }
  return kExitOk;
}

int RunProofGet(const ProofFetchArgs& args) {
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  v1::GetProofRequest req;
  req.set_tenant(args.tenant);
  req.set_seq(args.seq);
  req.set_period(args.period);
  v1::ProofFile proof;
  if (int rc = c.Call(&AdminStub::GetProof, req, &proof); rc != kExitOk) return rc;
  const std::string out =
      args.output.empty() ? FileSafe(args.tenant) + "-" + FileSafe(proof.period()) + ".proof.json"
                          : args.output;
  if (int rc = WriteProof(proof, out); rc != kExitOk) return rc;
  std::printf("proof %llu (period %s) written to %s and %s.sig\n",
              static_cast<unsigned long long>(proof.seq()), proof.period().c_str(), out.c_str(),
              out.c_str());
  return kExitOk;
}

int RunPortalReports(const PortalReportArgs& args) {
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  v1::ListProofsResponse resp;
  if (int rc = c.Call(&PortalStub::ListReports, v1::ListReportsRequest(), &resp); rc != kExitOk) {
    return rc;
  }
  if (args.json) {
    json a = json::array();
    for (const auto& p : resp.proofs()) {
      a.push_back({{"seq", p.seq()}, {"period", p.period()}, {"issued_ns", p.issued_ns()}});
    }
    std::printf("%s\n", json{{"reports", a}}.dump(2).c_str());
    return kExitOk;
  }
  if (resp.proofs_size() == 0) std::printf("no report yet\n");
  for (const auto& p : resp.proofs()) {
    std::printf("%6llu  %-24s issued %s\n", static_cast<unsigned long long>(p.seq()),
                p.period().c_str(), FormatTimeUtc(p.issued_ns()).c_str());
  }
  return kExitOk;
}

namespace {

// Writes DIR/NAME.proof.json (+ .sig), NAME.json and NAME.html. Returns the files written.
int WriteReportFiles(const v1::ProofFile& proof, const std::string& dir, const std::string& name,
                     std::vector<std::string>* written) {
  json report;
  if (!ReportOf(proof.statement(), &report)) return kExitFailure;
  const std::string base = dir + "/" + name;
  if (int rc = WriteProof(proof, base + ".proof.json"); rc != kExitOk) return rc;
  written->push_back(base + ".proof.json");
  written->push_back(base + ".proof.json.sig");
  std::string rendered;
  if (!RenderReport(report, "json", &rendered)) return kExitUsage;
  if (int rc = WriteOut(base + ".json", rendered); rc != kExitOk) return rc;
  written->push_back(base + ".json");
  if (!RenderReport(report, "html", &rendered)) return kExitUsage;
  if (int rc = WriteOut(base + ".html", rendered); rc != kExitOk) return rc;
  written->push_back(base + ".html");
  return kExitOk;
}

int MakeDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "vigil: cannot create directory '%s'\n", dir.c_str());
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

int RunPortalReport(const PortalReportArgs& args) {
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  v1::GetReportRequest req;
  req.set_period(args.period);
  req.set_seq(args.seq);
  v1::ProofFile proof;
  if (int rc = c.Call(&PortalStub::GetReport, req, &proof); rc != kExitOk) return rc;
  if (int rc = MakeDir(args.dir); rc != kExitOk) return rc;
  std::vector<std::string> written;
  json st = json::parse(proof.statement(), nullptr, false);
  std::string tenant = st.is_object() ? st.value("tenant", "report") : "report";
  if (int rc = WriteReportFiles(proof, args.dir, FileSafe(tenant) + "-" + FileSafe(proof.period()),
                                &written);
      rc != kExitOk) {
    return rc;
  }
  for (const auto& w : written) std::printf("%s\n", w.c_str());
  return kExitOk;
}

int RunTenantOffboard(const OffboardArgs& args) {
  Client c;
  if (!c.Init(args.client)) return kExitUsage;
  if (args.export_dir.empty()) {
    std::fprintf(stderr, "vigil tenant offboard: --export DIR is required\n");
    return kExitUsage;
  }
  if (int rc = MakeDir(args.export_dir); rc != kExitOk) return rc;
  // 1. Export every proof (with its report) and check it was written.
  v1::ListProofsRequest lreq;
  lreq.set_tenant(args.tenant);
  v1::ListProofsResponse list;
  if (int rc = c.Call(&AdminStub::ListProofs, lreq, &list); rc != kExitOk) return rc;
  std::string latest_sha;
  json manifest = json::array();
  std::vector<std::string> written;
  for (const auto& summary : list.proofs()) {
    v1::GetProofRequest req;
    req.set_tenant(args.tenant);
    req.set_seq(summary.seq());
    v1::ProofFile proof;
    if (int rc = c.Call(&AdminStub::GetProof, req, &proof); rc != kExitOk) return rc;
    char seq[32];
    std::snprintf(seq, sizeof seq, "%06llu", static_cast<unsigned long long>(proof.seq()));
    std::string name = std::string(seq) + "-" + FileSafe(proof.period());
    if (int rc = WriteReportFiles(proof, args.export_dir, name, &written); rc != kExitOk) return rc;
    // Read back what was written: the erasure must not rest on a bad copy.
    auto back = ReadWholeFile(args.export_dir + "/" + name + ".proof.json");
    if (!back.ok() || *back != proof.statement()) {
      std::fprintf(stderr, "vigil tenant offboard: export of proof %s did not read back intact\n",
                   seq);
      return kExitProblems;
    }
    latest_sha = proofs::StatementSha256Hex(proof.statement());
    manifest.push_back({{"seq", proof.seq()},
                        {"period", proof.period()},
                        {"statement_sha256", latest_sha},
                        {"file", name + ".proof.json"}});
  }
  if (int rc = WriteOut(args.export_dir + "/manifest.json",
                        json{{"tenant", args.tenant}, {"proofs", manifest}}.dump(2) + "\n");
      rc != kExitOk) {
    return rc;
  }
  std::printf("exported %d proofs of %s to %s (%zu files)\n", list.proofs_size(),
              args.tenant.c_str(), args.export_dir.c_str(), written.size() + 1);
  if (!args.yes) {
    std::printf(
        "nothing erased: check the export, then run again with --yes to erase the "
        "tenant's data from the coordinator\n");
    return kExitOk;
  }
  // 2. Erase, against the exported latest proof.
  v1::OffboardTenantRequest req;
  req.set_tenant(args.tenant);
  req.set_latest_proof_sha256(latest_sha);
  v1::OffboardTenantResponse resp;
  if (int rc = c.Call(&AdminStub::OffboardTenant, req, &resp, kReportDeadlineS); rc != kExitOk) {
    return rc;
  }
  const std::string record = args.export_dir + "/erasure.json";
  if (int rc = WriteOut(record, resp.statement()); rc != kExitOk) return rc;
  if (int rc = WriteOut(record + ".sig", resp.signature()); rc != kExitOk) return rc;
  std::printf("erased tenant %s; signed erasure record: %s (+ .sig)\n", args.tenant.c_str(),
              record.c_str());
  return kExitOk;
}

}  // namespace vigil::cli
