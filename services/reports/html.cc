#include "services/reports/html.h"

#include <cstdio>
#include <string_view>

#include "nlohmann/json.hpp"
#include "services/common/time.h"
#include "services/reports/format.h"
#include "services/reports/messages.h"
#include "services/reports/report.h"

namespace vigil::reports {
namespace {

// Print rules: A4 with fixed margins, table headers repeated on each page
// (thead as a header group), rows and cards never split across pages, and
// every text allowed to wrap anywhere if it must (long paths, hashes, names
// without spaces) so nothing runs past the right margin.
constexpr const char* kCss = R"css(
@page { size: A4 portrait; margin: %TOP%mm %SIDE%mm %BOTTOM%mm %SIDE%mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif;
  font-size: 9.5pt; line-height: 1.4; color: #1c1c1e; background: #fff;
  max-width: 182mm; margin: 0 auto; padding: 10mm 4mm;
  overflow-wrap: anywhere; word-break: normal; }
@media print { body { max-width: none; padding: 0; } }
h1 { font-size: 19pt; margin: 0 0 1mm; line-height: 1.2; }
h2 { font-size: 13pt; margin: 7mm 0 2.5mm; padding-bottom: 1mm; border-bottom: 1.2pt solid #2b2b2e;
  break-after: avoid; page-break-after: avoid; }
h3 { font-size: 10.5pt; margin: 0; }
p { margin: 1mm 0 2mm; }
.msp { margin: 0; color: #555; font-size: 9pt; text-transform: uppercase; letter-spacing: .04em; }
.tenant { font-size: 15pt; font-weight: 700; margin: 1mm 0; }
.meta { color: #333; margin: .5mm 0; }
.intro { color: #444; }
.none { font-style: italic; color: #555; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; margin: 1.5mm 0 3mm; }
thead { display: table-header-group; }
tr, tbody.set, .card, .commitment, footer { break-inside: avoid; page-break-inside: avoid; }
th, td { border: .5pt solid #b9bcc2; padding: 1.1mm 1.5mm; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; }
th { background: #eceef2; font-weight: 700; font-size: 8.5pt; }
.num { text-align: right; }
.nw { white-space: nowrap; }
.mono, code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 8pt;
  word-break: break-all; overflow-wrap: anywhere; }
.small { font-size: 8pt; color: #444; }
.card { border: 1.5pt solid; border-left-width: 5mm; border-radius: 1.5mm; padding: 2.5mm 4mm;
  margin: 0 0 3mm; }
.card .state { font-size: 15pt; font-weight: 700; }
.card .asset { font-size: 14pt; font-weight: 700; }
.card ul { margin: 1.5mm 0 0; padding-left: 5mm; }
.ready { border-color: #1b7a3a; background: #e6f4ea; } .ready .state { color: #13612c; }
.at-risk { border-color: #b36b00; background: #fff2d6; } .at-risk .state { color: #7d4a00; }
.not-ready { border-color: #b3261e; background: #fbe5e3; } .not-ready .state { color: #8c1d17; }
.commitment { border: .75pt solid #b9bcc2; border-left: 3mm solid; border-radius: 1mm;
  padding: 2mm 3mm; margin: 0 0 3mm; }
.commitment.pass { border-left-color: #1b7a3a; }
.commitment.fail { border-left-color: #b3261e; }
.commitment.unknown { border-left-color: #b36b00; }
.commitment table { margin-bottom: 0; }
.verdict { display: inline-block; font-weight: 700; padding: .3mm 2mm; border: 1pt solid;
  border-radius: 1mm; white-space: nowrap; margin-right: 2mm; }
.verdict.pass { color: #13612c; background: #e6f4ea; border-color: #1b7a3a; }
.verdict.fail { color: #8c1d17; background: #fbe5e3; border-color: #b3261e; }
.verdict.unknown { color: #7d4a00; background: #fff2d6; border-color: #b36b00; }
.basis { display: inline-block; font-size: 7.5pt; padding: 0 1.2mm; border: .75pt solid;
  border-radius: 1mm; white-space: nowrap; text-transform: uppercase; letter-spacing: .03em; }
.basis.measured { color: #1d4d2b; border-color: #4f8a5f; }
.basis.contract { color: #0d3c78; border-color: #5577aa; }
.basis.declared { color: #6b4200; background: #fff0b8; border: .75pt dashed #6b4200;
  font-style: italic; }
tr.declared td { background: #fffbe8; }
.ongoing { color: #8c1d17; font-weight: 700; }
.resolved { color: #13612c; }
.legend { font-size: 8.5pt; color: #333; }
footer { margin-top: 7mm; padding-top: 2mm; border-top: 1pt solid #2b2b2e; font-size: 8.5pt;
  color: #333; }
)css";

std::string Css() {
  std::string css = kCss;
  auto replace = [&](std::string_view key, double mm) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", mm);
    for (size_t at; (at = css.find(key)) != std::string::npos;) css.replace(at, key.size(), buf);
  };
  replace("%TOP%", kPageMarginTopMm);
  replace("%SIDE%", kPageMarginSideMm);
  replace("%BOTTOM%", kPageMarginBottomMm);
  return css;
}

class Renderer {
 public:
  explicit Renderer(const Report& r) : r_(r), lang_(r.language) {}

  std::string Render() {
    Head();
    Title();
    Readiness();
    Contract();
    Commitments();
    Incidents();
    BackupSets();
    OutOfScope();
    ScopeFindings();
    Checks();
    Footer();
    out_ += "</body>\n</html>\n";
    return std::move(out_);
  }

 private:
  bool fr() const { return lang_ == Language::kFrench; }
  // Every label exists in both languages at the place it is used.
  const char* T(const char* en, const char* fr_text) const { return fr() ? fr_text : en; }
  static std::string E(std::string_view s) { return EscapeHtml(s); }
  std::string Int(uint64_t n) const { return FormatInteger(n, lang_); }
  std::string When(const ReportTime& t) const { return E(FormatDateTime(t.local, lang_)); }
  // Date and clock each kept on one line, for narrow table cells.
  std::string WhenShort(const ReportTime& t) const {
    return "<span class=\"nw\">" + E(FormatDateShort(t.local, lang_)) +
           "</span> <span class=\"nw\">" + E(FormatClockShort(t.local)) + "</span>";
  }
  // "1 file" / "2 files", "1 fichier" / "0 fichier" / "2 fichiers".
  std::string Plural(uint64_t n, const char* en_one, const char* en_many, const char* fr_one,
                     const char* fr_many) const {
    return Int(n) + " " + (Singular(n, lang_) ? T(en_one, fr_one) : T(en_many, fr_many));
  }
  // A sentence of the JSON, escaped: from its structured message in the
  // report's language when it has one this build knows; otherwise the
  // English sentence of record, marked as English in a French page (so a
  // reader's tools, and the tests' list of English words, see it).
  std::string Sentence(const std::string& text, const std::optional<ReportMessage>& m) const {
    if (m) {
      if (std::optional<std::string> s = RenderMessage(*m, lang_)) return E(*s);
    }
    if (fr()) return "<span lang=\"en\">" + E(text) + "</span>";
    return E(text);
  }
  // The i-th of `texts` with its message from `messages` (parallel, or
  // empty in older reports).
  std::string SentenceAt(const std::vector<std::string>& texts,
                         const std::vector<std::optional<ReportMessage>>& messages,
                         size_t i) const {
    return Sentence(texts[i], i < messages.size() ? messages[i] : std::nullopt);
  }
  void None(const char* en, const char* fr_text) {
    out_ += "<p class=\"none\">";
    out_ += T(en, fr_text);
    out_ += "</p>\n";
  }
  void Section(const char* id, const char* en, const char* fr_text) {
    out_ += "<section id=\"";
    out_ += id;
    out_ += "\">\n<h2>";
    out_ += T(en, fr_text);
    out_ += "</h2>\n";
  }
  void EndSection() { out_ += "</section>\n"; }

  std::string KindLabel(const std::string& kind) const {
    if (kind == "rpo")
      return T("Recovery point objective (RPO)", "Objectif de point de reprise (RPO)");
    if (kind == "retention") return T("Retention", "Conservation");
    if (kind == "copies") return T("Copies", "Copies");
    if (kind == "integrity") return T("Integrity", "Intégrité");
    if (kind == "restore_drill") return T("Restore drill", "Test de restauration");
    if (kind == "plausibility") return T("Plausibility", "Vraisemblance");
    if (kind == "ransomware") return T("Ransomware signals", "Signes de rançongiciel");
    if (kind == "rto")
      return T("Recovery time objective (RTO)", "Durée maximale de restauration (RTO)");
    return E(kind);
  }

  std::string VerdictBadge(const std::string& verdict) const {
    std::string text = verdict == "pass"   ? T("\u2714 PASS", "\u2714 CONFORME")
                       : verdict == "fail" ? T("\u2718 FAIL", "\u2718 NON CONFORME")
                                           : T("? UNKNOWN", "? INDÉTERMINÉ");
    return "<span class=\"verdict " + verdict + "\">" + text + "</span>";
  }

  std::string BasisTag(const std::string& basis) const {
    const char* text = basis == "declared"   ? T("declared", "déclaré")
                       : basis == "contract" ? T("contract", "contrat")
                                             : T("measured", "mesuré");
    return "<span class=\"basis " + basis + "\">" + text + "</span>";
  }

  std::string EvidenceLabel(const std::string& name) const {
    struct Entry {
      const char *name, *en, *fr;
    };
    static constexpr Entry kLabels[] = {
        {"newest_good_point", "Newest good restore point",
         "Point de restauration valide le plus récent"},
        {"worst_age_in_period", "Worst age in the period", "Âge maximal sur la période"},
        {"age_at_end", "Age at the end of the period", "Âge en fin de période"},
        {"rpo", "RPO", "RPO"},
        {"ladder", "Retention ladder", "Échelle de conservation"},
        {"required", "Required", "Exigé"},
        {"failure_began", "Failure began", "Début de la défaillance"},
        {"not_monitored_before", "Not monitored before", "Non surveillé avant"},
        {"not_judged_before", "Not judged before", "Non jugé avant"},
        {"rto", "RTO", "RTO"},
        {"last_inventory", "Last inventory", "Dernier inventaire"},
        {"daily", "Daily points", "Points quotidiens"},
        {"weekly", "Weekly points", "Points hebdomadaires"},
        {"monthly", "Monthly points", "Points mensuels"},
        {"yearly", "Yearly points", "Points annuels"},
        {"missing_slots", "Missing slots", "Emplacements manquants"},
        {"slots_held_only_by_bad_points", "Slots held only by damaged or implausible points",
         "Emplacements tenus seulement par des points endommagés ou invraisemblables"},
        {"required_slots_at_end", "Slots required at the end",
         "Emplacements requis en fin de période"},
        {"points_present_at_end", "Points present at the end", "Points présents en fin de période"},
        {"points_gone_in_period", "Points gone during the period",
         "Points disparus pendant la période"},
        {"current_copies", "Current copies", "Copies à jour"},
        {"current_offsite_copies", "Current offsite copies", "Copies à jour hors site"},
        {"offsite_locations", "Offsite locations", "Emplacements hors site"},
        {"coverage", "Coverage", "Couverture"},
        {"entries", "Entries", "Entrées"},
        {"failures", "Failures", "Défaillances"},
        {"oldest_verification", "Oldest verification", "Vérification la plus ancienne"},
        {"reverify_within", "Re-verify within", "Revérification sous"},
        {"last_run", "Last run", "Dernière exécution"},
        {"sample", "Sample", "Échantillon"},
        {"sampled_entries", "Sampled entries", "Entrées échantillonnées"},
        {"sample_faults", "Faults in the sample", "Défauts dans l'échantillon"},
        {"confidence", "Confidence", "Confiance"},
        {"last_drill", "Last drill", "Dernier test"},
        {"every", "Drill every", "Test tous les"},
        {"restore_point", "Restore point", "Point de restauration"},
        {"newer_points_skipped", "Newer points skipped (not good, or not clean)",
         "Points plus récents écartés (non valides, ou non sains)"},
        {"point_size", "Size of the point", "Taille du point"},
        {"throughput", "Throughput", "Débit"},
        {"projected_full_restore", "Projected full restore", "Restauration complète projetée"},
        {"assumptions", "Assumptions", "Hypothèses"},
    };
    for (const Entry& e : kLabels) {
      if (name == e.name) return T(e.en, e.fr);
    }
    // An item about one set or pair: "copy fileserver-nas", "agreement a vs
    // b", "damaged set/point", "mirror_freshness set".
    static constexpr Entry kPrefixes[] = {
        {"copy", "Copy", "Copie"},
        {"agreement", "Agreement", "Concordance"},
        {"damaged", "Damaged", "Point endommagé"},
        {"mirror_freshness", "Mirror freshness", "Fraîcheur du miroir"},
    };
    if (size_t space = name.find(' '); space != std::string::npos) {
      std::string subject = name.substr(space + 1);
      for (const Entry& e : kPrefixes) {
        if (name.compare(0, space, e.name) != 0) continue;
        if (std::string_view(e.name) == "agreement" && fr()) {
          if (size_t vs = subject.find(" vs "); vs != std::string::npos) {
            subject = subject.substr(0, vs) + " et " + subject.substr(vs + 4);
          }
        }
        return std::string(T(e.en, e.fr)) + " <span class=\"mono\">" + E(subject) + "</span>";
      }
    }
    // An evidence item this build does not know: its name, made readable.
    std::string text = name;
    for (char& c : text) {
      if (c == '_') c = ' ';
    }
    if (!text.empty() && text[0] >= 'a' && text[0] <= 'z')
      text[0] = static_cast<char>(text[0] - 32);
    return E(text);
  }

  void Head() {
    out_ += "<!DOCTYPE html>\n<html lang=\"";
    out_ += LanguageTag(lang_);
    out_ += "\">\n<head>\n<meta charset=\"utf-8\">\n";
    out_ += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out_ += "<meta name=\"generator\" content=\"vigil\">\n<title>";
    out_ += E(r_.tenant_display_name) + " \u2014 " + E(r_.period_label) + " \u2014 ";
    out_ += T("Backup compliance report", "Rapport de conformité des sauvegardes");
    out_ += "</title>\n<style>";
    out_ += Css();
    out_ += "</style>\n</head>\n<body>\n";
  }

  void Title() {
    out_ += "<header id=\"title\">\n";
    if (!r_.msp_name.empty()) out_ += "<p class=\"msp\">" + E(r_.msp_name) + "</p>\n";
    out_ += "<h1>";
    out_ += T("Backup compliance report", "Rapport de conformité des sauvegardes");
    out_ += "</h1>\n<p class=\"tenant\">" + E(r_.tenant_display_name) + "</p>\n";

    const LocalTime& start = r_.period_start.local;
    LocalTime end = r_.period_end.local;
    bool start_midnight = start.hour == 0 && start.minute == 0 && start.second == 0;
    bool end_midnight = end.hour == 0 && end.minute == 0 && end.second == 0;
    std::string from, to;
    if (start_midnight && end_midnight) {
      // [start, end) of whole days: show the last day included.
      from = FormatDate(start, lang_);
      to = FormatDate(PreviousDay(end), lang_);
    } else {
      from = FormatDateTime(start, lang_);
      to = FormatDateTime(end, lang_);
    }
    out_ += "<p class=\"meta\">";
    out_ += T("Period ", "Période ");
    out_ += "<strong>" + E(r_.period_label) + "</strong>";
    out_ += T(": ", " : ");
    out_ += T("from ", "du ");
    out_ += E(from);
    out_ += T(" to ", " au ");
    out_ += E(to);
    out_ += ".";
    if (r_.evaluated_until && r_.evaluated_until->text != r_.period_end.text) {
      out_ += " ";
      out_ += T("Evaluated until ", "Évaluée jusqu'au ");
      out_ += When(*r_.evaluated_until) + ".";
    }
    out_ += "</p>\n<p class=\"meta\">";
    out_ += T("Client: ", "Client : ");
    out_ += "<span class=\"mono\">" + E(r_.tenant_name) + "</span> \u00b7 ";
    out_ += T("time zone: ", "fuseau horaire : ");
    out_ += E(r_.time_zone) + "</p>\n</header>\n";
  }

  void Readiness() {
    Section("readiness", "Restore readiness", "Capacité de restauration");
    out_ += "<p class=\"intro\">";
    out_ += T("Could each asset be restored now, to a recent enough point, within the agreed time?",
              "Chaque élément pourrait-il être restauré maintenant, à un point assez récent, dans "
              "le délai convenu ?");
    out_ += "</p>\n";
    if (r_.readiness.empty()) {
      None("No asset is covered by the contract.", "Le contrat ne couvre aucun élément.");
    }
    for (const ReportReadiness& a : r_.readiness) {
      const char* cls = a.readiness == "ready"     ? "ready"
                        : a.readiness == "at risk" ? "at-risk"
                                                   : "not-ready";
      const char* state = a.readiness == "ready"     ? T("\u2714 Ready", "\u2714 Prêt")
                          : a.readiness == "at risk" ? T("\u26a0 At risk", "\u26a0 À risque")
                                                     : T("\u2718 Not ready", "\u2718 Non prêt");
      out_ += "<div class=\"card ";
      out_ += cls;
      out_ += "\">\n<div><span class=\"state\">";
      out_ += state;
      out_ += "</span> \u2014 <span class=\"asset\">" + E(a.asset) + "</span></div>\n";
      if (!a.reasons.empty()) {
        out_ += "<ul>\n";
        for (size_t i = 0; i < a.reasons.size(); ++i) {
          out_ += "<li>" + SentenceAt(a.reasons, a.reason_messages, i) + "</li>\n";
        }
        out_ += "</ul>\n";
      }
      if (a.last_clean) {
        out_ += "<p class=\"last-clean\">" +
                Sentence(a.last_clean->summary, a.last_clean->message) + "</p>\n";
      } else if (a.last_clean_known) {
        out_ += "<p class=\"last-clean\">";
        out_ += T("Last clean point: none", "Dernier point sain : aucun");
        out_ += "</p>\n";
      }
      if (a.site_loss) {
        out_ += "<p class=\"site-loss\">";
        out_ += T("If the primary site were lost: ", "Si le site principal était perdu : ");
        out_ += "<strong>";
        out_ += *a.site_loss == "ready"     ? T("ready", "prêt")
                : *a.site_loss == "at risk" ? T("at risk", "à risque")
                                            : T("not ready", "non prêt");
        out_ += "</strong></p>\n";
        if (!a.site_loss_reasons.empty()) {
          out_ += "<ul>\n";
          for (size_t i = 0; i < a.site_loss_reasons.size(); ++i) {
            out_ += "<li>" + SentenceAt(a.site_loss_reasons, a.site_loss_reason_messages, i) +
                    "</li>\n";
          }
          out_ += "</ul>\n";
        }
      }
      NotMonitoredBefore(a.monitored_from);
      out_ += "</div>\n";
    }
    EndSection();
  }

  // "Not monitored before ..." when monitoring began after the period's
  // start: the time before it is judged neither pass nor fail.
  void NotMonitoredBefore(const std::optional<ReportTime>& from) {
    if (!from) return;
    std::optional<int64_t> f = ToUnixNs(from->local), start = ToUnixNs(r_.period_start.local);
    if (!f || !start || *f <= *start) return;
    out_ += "<p class=\"not-monitored\">";
    out_ += T("Not monitored before ", "Non surveillé avant le ");
    out_ += "<strong>" + When(*from) + "</strong>";
    out_ += T(": that time is judged neither pass nor fail.",
              " : cette durée n'est jugée ni conforme ni en défaut.");
    out_ += "</p>\n";
  }

  void Contract() {
    Section("contract", "Contract", "Contrat");
    out_ += "<p>";
    out_ += T("Version ", "Version ");
    out_ += "<strong>" + std::to_string(r_.contract_version) + "</strong>";
    if (r_.contract_effective_from) {
      out_ += T(", in force since ", ", en vigueur depuis le ");
      out_ += When(*r_.contract_effective_from);
    }
    out_ += T(". SHA-256: ", ". SHA-256 : ");
    out_ += "<span class=\"mono\">" + E(r_.contract_sha256) + "</span></p>\n";

    out_ += "<h3>";
    out_ += T("Assets covered", "Éléments couverts");
    out_ += "</h3>\n";
    if (r_.contract_assets.empty()) {
      None("The contract covers no asset.", "Le contrat ne couvre aucun élément.");
    } else {
      TableHead({{24, "Asset", "Élément"},
                 {46, "Description", "Description"},
                 {30, "Backup sets", "Jeux de sauvegarde"}});
      for (const ReportContractAsset& a : r_.contract_assets) {
        out_ +=
            "<tr><td><strong>" + E(a.name) + "</strong></td><td>" + E(a.description) + "</td><td>";
        for (size_t i = 0; i < a.backup_sets.size(); ++i) {
          out_ += (i ? "<br>" : "") + std::string("<span class=\"mono\">") + E(a.backup_sets[i]) +
                  "</span>";
        }
        out_ += "</td></tr>\n";
      }
      TableEnd();
    }

    out_ += "<h3>";
    out_ += T("Commitments as written", "Engagements tels que rédigés");
    out_ += "</h3>\n";
    if (r_.contract_commitments.empty()) {
      None("The contract makes no commitment.", "Le contrat ne prend aucun engagement.");
    } else {
      TableHead(
          {{22, "Asset", "Élément"}, {28, "Commitment", "Engagement"}, {50, "Terms", "Termes"}});
      for (const ReportContractCommitment& c : r_.contract_commitments) {
        out_ += "<tr><td>" + E(c.asset) + "</td><td>" + KindLabel(c.kind) + "</td><td>" +
                Sentence(c.terms, c.terms_message) + "</td></tr>\n";
      }
      TableEnd();
    }
    EndSection();
  }

  void Commitments() {
    Section("commitments", "Commitments and verdicts", "Engagements et verdicts");
    size_t pass = 0, fail = 0, unknown = 0;
    for (const ReportCommitment& c : r_.commitments) {
      (c.verdict == "pass" ? pass : c.verdict == "fail" ? fail : unknown)++;
    }
    if (r_.commitments.empty()) {
      None("No commitment was evaluated.", "Aucun engagement n'a été évalué.");
      EndSection();
      return;
    }
    out_ += "<p>" + VerdictBadge("pass") + Int(pass) + " &nbsp; " + VerdictBadge("fail") +
            Int(fail) + " &nbsp; " + VerdictBadge("unknown") + Int(unknown) + "</p>\n";
    out_ += "<p class=\"legend\">";
    out_ += BasisTag("measured");
    out_ +=
        T(" what Vigil measured on the backups; ", " ce que Vigil a mesuré sur les sauvegardes ; ");
    out_ += BasisTag("declared");
    out_ += T(" what the provider declares, not verified by Vigil; ",
              " ce que le prestataire déclare, non vérifié par Vigil ; ");
    out_ += BasisTag("contract");
    out_ += T(" what the contract sets.", " ce que fixe le contrat.");
    out_ += "</p>\n";

    for (const ReportCommitment& c : r_.commitments) {
      out_ += "<div class=\"commitment " + c.verdict + "\">\n<h3>" + VerdictBadge(c.verdict) +
              E(c.asset) + " \u2014 " + KindLabel(c.kind) + "</h3>\n";
      out_ += "<p class=\"summary\">" + Sentence(c.summary, c.summary_message) + "</p>\n";
      if (c.failing_since) {
        out_ += "<p>";
        out_ += c.verdict == "fail" ? T("Failing since ", "En défaut depuis le ")
                                    : T("Failed from ", "En défaut à partir du ");
        out_ += "<strong>" + When(*c.failing_since) + "</strong>";
        if (c.began && c.began->text != c.failing_since->text) {
          out_ += T(" (began ", " (commencé le ") + When(*c.began) + ")";
        }
        out_ += ".</p>\n";
      }
      NotMonitoredBefore(c.monitored_from);
      if (c.evidence.empty()) {
        None("No evidence recorded.", "Aucun élément de preuve enregistré.");
      } else {
        TableHead({{32, "Evidence", "Élément de preuve"},
                   {52, "Value", "Valeur"},
                   {16, "Basis", "Origine"}});
        for (const ReportEvidence& e : c.evidence) {
          out_ += "<tr class=\"" + e.basis + "\"><td>" + EvidenceLabel(e.name) + "</td><td>" +
                  Sentence(e.value, e.message) + "</td><td>" + BasisTag(e.basis) + "</td></tr>\n";
        }
        TableEnd();
      }
      out_ += "</div>\n";
    }
    EndSection();
  }

  void Incidents() {
    Section("incidents", "Incidents", "Incidents");
    if (r_.incidents.empty()) {
      None("No incident in this period.", "Aucun incident sur la période.");
      EndSection();
      return;
    }
    TableHead({{15, "Asset", "Élément"},
               {15, "Commitment", "Engagement"},
               {36, "What failed", "Défaillance"},
               {17, "Detected", "Détecté le"},
               {17, "Back to pass", "Retour à la conformité"}});
    for (const ReportIncident& i : r_.incidents) {
      out_ += "<tr><td>" + E(i.asset) + "</td><td>" + KindLabel(i.kind) + "</td><td>" +
              Sentence(i.summary, i.summary_message) + "</td><td>" + WhenShort(i.detected_at);
      if (i.began_at && i.began_at->text != i.detected_at.text) {
        out_ += T(" (began ", " (commencé le ") + WhenShort(*i.began_at) + ")";
      }
      out_ += "</td><td>";
      if (i.resolved_at) {
        out_ += "<span class=\"resolved\">\u2714 " + WhenShort(*i.resolved_at) + "</span>";
      } else {
        out_ += "<span class=\"ongoing\">";
        out_ += T("\u2718 ongoing", "\u2718 en cours");
        out_ += "</span>";
      }
      out_ += "</td></tr>\n";
    }
    TableEnd();
    EndSection();
  }

  struct Column {
    int width_pct;
    const char* en;
    const char* fr;
  };
  // Opens a table: its column widths, its header row, and (`open_body`) its
  // <tbody>; rows and TableEnd() follow.
  void TableHead(std::initializer_list<Column> columns, bool open_body = true) {
    out_ += "<table>\n<colgroup>";
    for (const Column& c : columns) {
      out_ += "<col style=\"width:" + std::to_string(c.width_pct) + "%\">";
    }
    out_ += "</colgroup>\n<thead><tr>";
    for (const Column& c : columns) {
      out_ += "<th>";
      out_ += T(c.en, c.fr);
      out_ += "</th>";
    }
    out_ += "</tr></thead>\n";
    if (open_body) out_ += "<tbody>\n";
  }
  void TableEnd() { out_ += "</tbody>\n</table>\n"; }

  std::string FlagCell(const ReportFlag& f) const {
    return std::string(f.value ? T("Yes", "Oui") : T("No", "Non")) + "<br>" + BasisTag(f.basis);
  }

  void BackupSets() {
    Section("backup-sets", "Backup sets", "Jeux de sauvegarde");
    if (r_.backup_sets.empty()) {
      None("No backup set.", "Aucun jeu de sauvegarde.");
      EndSection();
      return;
    }
    // One <tbody> per set (its row and its Merkle row stay on one page).
    TableHead({{26, "Backup set", "Jeu de sauvegarde"},
               {11, "Offsite", "Hors site"},
               {13, "Immutable", "Immuable"},
               {20, "Contents", "Contenu"},
               {15, "Last inventory", "Dernier inventaire"},
               {15, "Last verified", "Dernière vérification"}},
              /*open_body=*/false);
    const char* never = T("never", "jamais");
    for (const ReportBackupSet& s : r_.backup_sets) {
      out_ += "<tbody class=\"set\">\n<tr><td><strong>" + E(s.name) +
              "</strong><br><span class=\"small\">" + E(s.asset) + " \u00b7 " + E(s.location) +
              " \u00b7 " + E(s.layout) + "</span></td><td>" + FlagCell(s.offsite) + "</td><td>" +
              FlagCell(s.immutable) + "</td><td>" +
              Plural(s.restore_points, "restore point", "restore points", "point de restauration",
                     "points de restauration") +
              "<br>" + Plural(s.files, "file", "files", "fichier", "fichiers") + "<br>" +
              E(FormatBytes(s.bytes, lang_)) + "</td><td>" +
              (s.last_inventory ? WhenShort(*s.last_inventory) : never) + "</td><td>" +
              (s.last_verified ? WhenShort(*s.last_verified) : never) + "</td></tr>\n";
      out_ += "<tr class=\"merkle\"><td colspan=\"6\"><span class=\"small\">";
      if (s.merkle) {
        out_ += T("Merkle root (SHA-256) of ", "Racine de Merkle (SHA-256) de ");
        out_ += Plural(s.merkle->tree_size, "entry", "entries", "entrée", "entrées");
        out_ += T(": ", " : ");
        out_ += "</span><span class=\"mono\">" + E(s.merkle->root) + "</span>";
      } else {
        out_ += T("No Merkle root: no verified catalogue in this period.",
                  "Pas de racine de Merkle : aucun catalogue vérifié sur la période.");
        out_ += "</span>";
      }
      out_ += "</td></tr>\n</tbody>\n";
    }
    out_ += "</table>\n";
    EndSection();
  }

  void TwoColumns(const char* h1_en, const char* h1_fr, const char* h2_en, const char* h2_fr) {
    TableHead({{35, h1_en, h1_fr}, {65, h2_en, h2_fr}});
  }

  void OutOfScope() {
    Section("out-of-scope", "Out of scope", "Hors du périmètre");
    out_ += "<p class=\"intro\">";
    out_ += T("What the contract explicitly does not cover: not checked, not promised.",
              "Ce que le contrat exclut explicitement : ni vérifié, ni garanti.");
    out_ += "</p>\n";
    if (r_.out_of_scope.empty()) {
      None("The contract excludes nothing explicitly.", "Le contrat n'exclut rien explicitement.");
    } else {
      TwoColumns("Item", "Élément", "Reason", "Motif");
      for (const Report::OutOfScope& o : r_.out_of_scope) {
        out_ += "<tr><td>" + E(o.item) + "</td><td>" + E(o.reason) + "</td></tr>\n";
      }
      TableEnd();
    }
    EndSection();
  }

  void ScopeFindings() {
    Section("scope-findings", "Backups found outside the scope", "Sauvegardes hors du périmètre");
    if (r_.scope_findings.empty()) {
      None("No backup was found outside the scope of the contract.",
           "Aucune sauvegarde n'a été trouvée hors du périmètre du contrat.");
    } else {
      TwoColumns("Subject", "Objet", "Finding", "Constat");
      for (const Report::ScopeFinding& f : r_.scope_findings) {
        out_ += "<tr><td class=\"mono\">" + E(f.subject) + "</td><td>" +
                Sentence(f.finding, f.finding_message) + "</td></tr>\n";
      }
      TableEnd();
    }
    EndSection();
  }

  void Checks() {
    Section("checks", "Checks", "Contrôles");
    out_ +=
        "<table>\n<colgroup><col style=\"width:50%\"><col style=\"width:50%\"></colgroup>\n"
        "<tbody>\n<tr><th>";
    out_ += T("Checks run", "Contrôles exécutés");
    out_ += "</th><td class=\"num\">" + Int(r_.checks_run) + "</td></tr>\n<tr><th>";
    out_ += T("Checks that found a problem", "Contrôles ayant relevé un problème");
    out_ += "</th><td class=\"num\">" + Int(r_.checks_failed) + "</td></tr>\n<tr><th>";
    out_ += T("Entries verified", "Entrées vérifiées");
    out_ += "</th><td class=\"num\">" + Int(r_.entries_verified) + "</td></tr>\n<tr><th>";
    out_ += T("Data verified", "Données vérifiées");
    if (r_.bytes_verified) {
      out_ += "</th><td class=\"num\">" + E(FormatBytes(*r_.bytes_verified, lang_)) + " (" +
              Plural(*r_.bytes_verified, "byte", "bytes", "octet", "octets") + ")</td></tr>\n";
    } else {
      out_ += std::string("</th><td>") + T("not measured", "non mesuré") + "</td></tr>\n";
    }
    TableEnd();
    EndSection();
  }

  void Footer() {
    out_ += "<footer>\n<p>";
    out_ += T("Generated on ", "Établi le ");
    out_ += When(r_.generated_at);
    if (!r_.msp_name.empty()) {
      out_ += T(" by ", " par ");
      out_ += E(r_.msp_name);
    }
    out_ += ".</p>\n<p>";
    out_ += T("Contract SHA-256: ", "SHA-256 du contrat : ");
    out_ += "<span class=\"mono\">" + E(r_.contract_sha256) + "</span></p>\n<p>";
    out_ += T("This report is accompanied by a signed proof; verify it with ",
              "Ce rapport est accompagné d'une preuve signée ; vérifiez-la avec ");
    out_ += "<code>vigil proof verify</code>.</p>\n</footer>\n";
  }

  const Report& r_;
  Language lang_;
  std::string out_;
};

}  // namespace

absl::StatusOr<std::string> RenderReportHtml(const nlohmann::json& report) {
  absl::StatusOr<Report> parsed = ParseReport(report);
  if (!parsed.ok()) return parsed.status();
  return Renderer(*parsed).Render();
}

}  // namespace vigil::reports
