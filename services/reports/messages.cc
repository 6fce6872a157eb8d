#include "services/reports/messages.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "nlohmann/json.hpp"
#include "services/common/text.h"

namespace vigil::reports {
namespace {

using nlohmann::json;

// U+202F NARROW NO-BREAK SPACE: between a French number and its unit.
constexpr const char* kThinSpace = "\u202f";

// The catalogue. Templates: "{N}" is argument N formatted for the language;
// "{N|one|other}" the singular or plural form chosen by count argument N.
// Keep ids stable: they are in signed reports (docs/reports.md lists them).
const std::vector<CatalogueEntry> kCatalogue = {
    // Words and plain values.
    {"never", "never", "jamais"},
    {"none", "none", "aucun"},
    {"unknown", "unknown", "inconnu"},
    {"list", "{0}", "{0}"},
    {"more", "+{0} more", "+{0} {0|autre|autres}"},
    {"ev.duration", "{0}", "{0}"},
    {"ev.count", "{0}", "{0}"},
    {"ev.time", "{0}", "{0}"},
    {"ev.text", "{0}", "{0}"},
    {"ev.bytes", "{0}", "{0}"},
    {"ev.rate", "{0}", "{0}"},
    {"ev.point", "{0} ({1})", "{0} ({1})"},
    {"ev.with_basis", "{0} ({1})", "{0} ({1})"},
    {"ev.duration_at", "{0} at {1}", "{0} le {1}"},
    {"ev.began_detected", "{0}, detected {1}", "{0}, détectée le {1}"},
    {"ev.files_bytes", "{0} {0|file|files}, {1}", "{0} {0|fichier|fichiers}, {1}"},
    {"kind.integrity", "integrity", "intégrité"},
    {"kind.retention", "retention", "conservation"},
    {"kind.copies", "copies", "copies"},
    {"reason.kind", "{0}: {1}", "{0} : {1}"},
    // Shared by several commitments.
    {"no_inventory_yet", "no inventory of its backup sets yet",
     "aucun inventaire de ses jeux de sauvegarde pour l'instant"},
    {"no_good_point", "no good restore point", "aucun point de restauration valide"},
    {"not_inventoried_since", "not inventoried since {0}", "pas d'inventaire depuis le {0}"},
    {"join.not_monitored_before", "{0}; not monitored before {1}",
     "{0} ; non surveillé avant le {1}"},
    // RPO.
    {"rpo.not_monitored_in_period", "not monitored in the period: monitoring began {0}",
     "non surveillé sur la période : la surveillance a commencé le {0}"},
    {"rpo.fail", "no good restore point for {0} (RPO {1}), from {2}",
     "aucun point de restauration valide pendant {0} (RPO {1}), à partir du {2}"},
    {"rpo.mirror_unproven",
     "no evidence of a sync of mirror {0} since monitoring began ({1}): unchanged data and a "
     "stopped sync look alike; declare a syncMarker",
     "aucune preuve d'une synchronisation du miroir {0} depuis le début de la surveillance "
     "({1}) : des données inchangées et une synchronisation arrêtée se ressemblent ; déclarez "
     "un syncMarker"},
    {"rpo.mirror_unproven_since",
     "no evidence of a sync of mirror {0} since {1} ({2}): unchanged data and a stopped sync "
     "look alike; declare a syncMarker",
     "aucune preuve d'une synchronisation du miroir {0} depuis le {1} ({2}) : des données "
     "inchangées et une synchronisation arrêtée se ressemblent ; déclarez un syncMarker"},
    {"rpo.pass_no_point",
     "no good restore point, but within the RPO of {0} since monitoring began at {1}",
     "aucun point de restauration valide, mais dans le RPO de {0} depuis le début de la "
     "surveillance le {1}"},
    {"rpo.pass", "newest good point {0} old; worst {1} (RPO {2})",
     "point valide le plus récent âgé de {0} ; âge maximal {1} (RPO {2})"},
    {"ev.not_judged_before", "{0} (a mirror's earlier states are not recorded)",
     "{0} (les états antérieurs d'un miroir ne sont pas enregistrés)"},
    {"join.not_judged_before",
     "{0}; not judged before {1} (a mirror's earlier states are not recorded)",
     "{0} ; non jugé avant le {1} (les états antérieurs d'un miroir ne sont pas enregistrés)"},
    // Retention.
    {"ev.ladder", "daily {0}, weekly {1}, monthly {2}, yearly {3}",
     "quotidiens {0}, hebdomadaires {1}, mensuels {2}, annuels {3}"},
    {"rung.daily", "daily", "quotidien"},
    {"rung.weekly", "weekly", "hebdomadaire"},
    {"rung.monthly", "monthly", "mensuel"},
    {"rung.yearly", "yearly", "annuel"},
    {"slot.entry", "{0} {1}: {2}", "{0} {1} : {2}"},
    {"slot.held_only_by", "held only by {0}", "tenu seulement par {0}"},
    {"slot.deleted", "deleted while it must still be kept",
     "supprimé alors qu'il devait être conservé"},
    {"slot.no_point", "no point", "aucun point"},
    {"point.not_good", "{0} {1}", "{0} {1}"},
    {"point.not_yet_taken", "not yet taken", "pas encore pris"},
    {"point.gone", "gone", "disparu"},
    {"point.damaged", "damaged", "endommagé"},
    {"point.damaged_why", "damaged: {0}", "endommagé : {0}"},
    {"point.implausible", "implausible: {0}", "invraisemblable : {0}"},
    // Ransomware verdicts of a point (docs/ransomware.md); {0} its signals.
    {"point.suspicious", "suspicious", "suspect"},
    {"point.encrypted", "encrypted", "chiffré"},
    {"point.suspicious_why", "suspicious: {0}", "suspect : {0}"},
    {"point.encrypted_why", "encrypted: {0}", "chiffré : {0}"},
    {"retention.pass",
     "{0} required {0|slot|slots} held; {1} {1|point|points} aged out as expected",
     "{0} {0|emplacement requis tenu|emplacements requis tenus} ; {1} {1|point sorti|points "
     "sortis} de la conservation comme prévu"},
    {"retention.fail", "{0} required {0|slot|slots} missing since {1}: {2}",
     "{0} {0|emplacement requis manquant|emplacements requis manquants} depuis le {1} : {2}"},
    // Copies.
    {"ev.copies_required", "{0} {0|copy|copies}, {1} offsite",
     "{0} {0|copie|copies}, dont {1} hors site"},
    {"ev.copy", "{0}: {1}", "{0} : {1}"},
    {"ev.copy_offsite", "{0} (offsite): {1}", "{0} (hors site) : {1}"},
    {"copy.no_good_point", "no good point", "aucun point valide"},
    {"copy.current", "current, newest {0}", "à jour, le plus récent du {0}"},
    {"copy.stale", "stale, newest {0}", "périmée, le plus récent du {0}"},
    {"ev.offsite_declared", "offsite flags as declared by the MSP",
     "emplacements hors site tels que déclarés par le prestataire"},
    // What a remote location's store says (docs/remote.md).
    {"ev.offsite_cannot_tell", "declared offsite; the store cannot tell",
     "déclaré hors site ; le stockage ne peut pas le dire"},
    {"ev.not_offsite_cannot_tell", "declared not offsite; the store cannot tell",
     "déclaré sur site ; le stockage ne peut pas le dire"},
    {"ev.immutable_declared", "declared immutable", "déclaré immuable"},
    {"ev.not_immutable_declared", "declared not immutable", "déclaré non immuable"},
    {"store.not_measured", "not measured: {0}", "non mesuré : {0}"},
    {"store.never_asked", "not measured: no check has asked the store yet",
     "non mesuré : aucune vérification n'a encore interrogé le stockage"},
    {"store.lock_off", "the store says: Object Lock off ({0})",
     "le stockage indique : Object Lock désactivé ({0})"},
    {"store.lock_on", "the store says: Object Lock on, no default retention ({0})",
     "le stockage indique : Object Lock activé, sans rétention par défaut ({0})"},
    {"store.lock_on_days",
     "the store says: Object Lock on, default retention {1} {2} {2|day|days} ({0})",
     "le stockage indique : Object Lock activé, rétention par défaut {1} {2} {2|jour|jours} ({0})"},
    {"store.lock_on_years",
     "the store says: Object Lock on, default retention {1} {2} {2|year|years} ({0})",
     "le stockage indique : Object Lock activé, rétention par défaut {1} {2} {2|an|ans} ({0})"},
    {"store.retained", "{0} of {1} {1|object|objects} read under retention at {2}",
     "{0} sur {1} {1|objet lu|objets lus} sous rétention le {2}"},
    {"store.versioning_enabled", "the store says: versioning enabled ({0})",
     "le stockage indique : versionnage activé ({0})"},
    {"store.versioning_suspended", "the store says: versioning suspended ({0})",
     "le stockage indique : versionnage suspendu ({0})"},
    {"store.versioning_off", "the store says: versioning never enabled ({0})",
     "le stockage indique : versionnage jamais activé ({0})"},
    {"store.upload_records",
     "{0} {0|object|objects} read equal the store's upload record, {1} differ, {2} without one "
     "(the store's record at upload, not a re-read)",
     "{0} {0|objet lu est identique|objets lus sont identiques} à l'empreinte enregistrée par le "
     "stockage au dépôt, {1} {1|diffère|diffèrent}, {2} sans empreinte (l'enregistrement du "
     "stockage au dépôt, pas une relecture)"},
    {"finding.immutable_lock_off",
     "declared immutable, but the store says Object Lock is off ({0})",
     "déclaré immuable, mais le stockage indique qu'Object Lock est désactivé ({0})"},
    {"finding.immutable_not_retained",
     "declared immutable, but the store says {0} of {1} {1|object|objects} read of {2} {0|is|are} "
     "not under retention at {3} ({4})",
     "déclaré immuable, mais le stockage indique que {0} sur {1} {1|objet lu|objets lus} de {2} "
     "{0|n'est|ne sont} pas sous rétention le {3} ({4})"},
    {"finding.upload_record_differs",
     "{0} {0|object|objects} read {0|differs|differ} from the store's own upload record (damage "
     "at the store or in the read path): {1}",
     "{0} {0|objet lu diffère|objets lus diffèrent} de l'empreinte enregistrée par le stockage "
     "au dépôt (dommage au stockage ou sur le chemin de lecture) : {1}"},
    {"agree.agrees", "content agrees: {0} {0|entry|entries} with equal digests",
     "contenu identique : {0} {0|entrée|entrées} aux empreintes égales"},
    {"agree.differs", "content differs: {0} {0|entry differs|entries differ}, {1} missing",
     "contenu différent : {0} {0|entrée diffère|entrées diffèrent}, {1} "
     "{1|manquante|manquantes}"},
    {"agree.differs_detail",
     "content differs: {0} {0|entry differs|entries differ}, {1} missing ({2})",
     "contenu différent : {0} {0|entrée diffère|entrées diffèrent}, {1} "
     "{1|manquante|manquantes} ({2})"},
    {"agree.not_established", "content agreement not established",
     "concordance du contenu non établie"},
    {"agree.not_established_detail", "content agreement not established: {0}",
     "concordance du contenu non établie : {0}"},
    {"copies.too_few", "{0} current {0|copy|copies} of {1} required",
     "{0} {0|copie à jour|copies à jour} sur {1} {1|requise|requises}"},
    {"copies.too_few_stale", "{0} current {0|copy|copies} of {1} required (not current: {2})",
     "{0} {0|copie à jour|copies à jour} sur {1} {1|requise|requises} (pas à jour : {2})"},
    {"copies.too_few_offsite", "{0} current offsite {0|copy|copies} of {1} required",
     "{0} {0|copie à jour|copies à jour} hors site sur {1} {1|requise|requises}"},
    {"copies.differ", "copies differ: {0} vs {1}", "copies différentes : {0} et {1}"},
    {"copies.pass", "{0} current {0|copy|copies}, {1} offsite (declared)",
     "{0} {0|copie à jour|copies à jour}, dont {1} hors site (déclaré)"},
    {"copies.pass_unestablished",
     "{0} current {0|copy|copies}, {1} offsite (declared); content agreement not established "
     "for some",
     "{0} {0|copie à jour|copies à jour}, dont {1} hors site (déclaré) ; concordance du contenu "
     "non établie pour certaines"},
    // Integrity.
    {"damage.modified", "{0} {0|entry|entries} modified: {1}",
     "{0} {0|entrée modifiée|entrées modifiées} : {1}"},
    {"damage.missing", "{0} {0|entry|entries} missing: {1}",
     "{0} {0|entrée manquante|entrées manquantes} : {1}"},
    {"damage.unreadable", "{0} {0|entry|entries} unreadable: {1}",
     "{0} {0|entrée illisible|entrées illisibles} : {1}"},
    {"damage.mixed", "{0} {0|entry|entries} ({1} modified, {2} missing, {3} unreadable): {4}",
     "{0} {0|entrée|entrées} ({1} {1|modifiée|modifiées}, {2} {2|manquante|manquantes}, {3} "
     "{3|illisible|illisibles}) : {4}"},
    {"integrity.failures", "{0} {0|entry|entries} modified, missing or unreadable",
     "{0} {0|entrée modifiée, manquante ou illisible|entrées modifiées, manquantes ou "
     "illisibles}"},
    {"integrity.no_sampled_run", "no sampled run within {0}",
     "aucun contrôle par échantillon depuis {0}"},
    {"integrity.confidence",
     "no fault in n = {0} random {0|entry|entries} bounds the fault rate below 3/n = {1} at 95 % "
     "confidence (rule of three)",
     "aucun défaut sur n = {0} {0|entrée tirée|entrées tirées} au hasard borne le taux de défaut "
     "sous 3/n = {1} avec 95\u202f% de confiance (règle de trois)"},
    {"integrity.sample_faults", "{0} {0|fault|faults} in {1} sampled {1|entry|entries}",
     "{0} {0|défaut|défauts} sur {1} {1|entrée échantillonnée|entrées échantillonnées}"},
    {"integrity.sample_pass", "no fault in {0} sampled {0|entry|entries} (fault rate < {1}, 95 %)",
     "aucun défaut sur {0} {0|entrée échantillonnée|entrées échantillonnées} (taux de défaut < "
     "{1}, 95\u202f%)"},
    {"integrity.nothing_catalogued", "nothing catalogued yet", "rien n'est encore catalogué"},
    {"ev.coverage", "{0} ({1} of {2} {2|entry|entries} re-read within {3})",
     "{0} ({1} {1|entrée relue|entrées relues} sur {2} en moins de {3})"},
    {"integrity.pass", "every entry re-read within {0}", "chaque entrée relue en moins de {0}"},
    {"integrity.read_budget", "{0}", "{0}"},
    {"integrity.coverage_fail", "coverage {0}: {1} {1|entry|entries} not re-read within {2}",
     "couverture {0} : {1} {1|entrée non relue|entrées non relues} en moins de {2}"},
    // Restore drills.
    {"drill.none_since", "no restore drill since {0} (every {1})",
     "aucun test de restauration depuis le {0} (un tous les {1})"},
    {"drill.none_yet", "no drill yet", "aucun test pour l'instant"},
    {"drill.none_yet_due", "no drill yet; first due by {0}",
     "aucun test pour l'instant ; le premier est dû au plus tard le {0}"},
    {"drill.assumptions",
     "full restore runs at the throughput measured on the sample (cold reads from the backup "
     "location, synced writes to the worker's scratch, one stream)",
     "la restauration complète s'exécute au débit mesuré sur l'échantillon (lectures à froid "
     "depuis l'emplacement de sauvegarde, écritures synchronisées dans l'espace de travail du "
     "collecteur, un seul flux)"},
    {"drill.failed", "the last drill failed: {0}", "le dernier test a échoué : {0}"},
    {"drill.mismatches", "{0} restored {0|file differs|files differ} from the catalogue",
     "{0} {0|fichier restauré diffère|fichiers restaurés diffèrent} du catalogue"},
    {"drill.overdue", "last drill {0}, overdue since {1}",
     "dernier test le {0}, en retard depuis le {1}"},
    {"drill.too_slow", "projected full restore {0} exceeds the RTO of {1}",
     "restauration complète projetée : {0}, au-delà du RTO de {1}"},
    {"drill.pass", "projected full restore {0} within the RTO of {1} (drill {2})",
     "restauration complète projetée : {0}, dans le RTO de {1} (test du {2})"},
    // Readiness.
    {"ready.never_inventoried", "never inventoried", "jamais inventorié"},
    {"ready.implausible", "newest point {0} is implausible: {1}",
     "le point le plus récent {0} est invraisemblable : {1}"},
    {"ready.not_clean", "newest point {0} is {1}", "le point le plus récent {0} est {1}"},
    {"ready.restore_from", "restore from {0} (taken {1})", "restaurer depuis {0} (pris le {1})"},
    {"ready.no_clean_point", "no clean restore point", "aucun point de restauration sain"},
    {"ready.not_examined", "newest point not yet examined for ransomware signals",
     "le point le plus récent n'a pas encore été examiné pour des signes de rançongiciel"},
    {"ready.content_not_judged", "newest point's content not sampled: encryption not ruled out",
     "contenu du point le plus récent non échantillonné : chiffrement non exclu"},
    {"ready.last_clean", "last clean point: {0} (taken {1})",
     "dernier point sain : {0} (pris le {1})"},
    {"ready.never_drilled", "never drilled", "jamais testé"},
    {"ready.drill_differs", "last restore drill {0} failed: restored data differs",
     "le dernier test de restauration, du {0}, a échoué : les données restaurées diffèrent"},
    {"ready.drill_failed", "last restore drill {0} failed: {1}",
     "le dernier test de restauration, du {0}, a échoué : {1}"},
    {"ready.drill_overdue", "last drill {0} is overdue", "le dernier test, du {0}, est en retard"},
    {"ready.too_slow", "projected restore {0} exceeds the RTO of {1}",
     "restauration projetée : {0}, au-delà du RTO de {1}"},
    {"ready.mirror_too_old", "no evidence of a sync of mirror {0} since {1} ({2}; RPO {3})",
     "aucune preuve d'une synchronisation du miroir {0} depuis le {1} ({2} ; RPO {3})"},
    {"ready.too_old", "newest good point is {0} old (RPO {1})",
     "le point valide le plus récent date de {0} (RPO {1})"},
    {"site.same_site", "{0}: location {1} is declared offsite but is on the primary site {2}",
     "{0} : l'emplacement {1} est déclaré hors site mais se trouve sur le site principal {2}"},
    {"site.never_inventoried", "offsite copy {0} never inventoried",
     "copie hors site {0} jamais inventoriée"},
    {"site.no_good_point", "offsite copy {0}: no good restore point",
     "copie hors site {0} : aucun point de restauration valide"},
    {"site.implausible", "offsite copy {0}: newest point {1} is implausible: {2}",
     "copie hors site {0} : le point le plus récent {1} est invraisemblable : {2}"},
    {"site.prefixed", "offsite copy {0}: {1}", "copie hors site {0} : {1}"},
    {"site.not_clean", "offsite copy {0}: newest point {1} is {2}; {3}",
     "copie hors site {0} : le point le plus récent {1} est {2} ; {3}"},
    {"site.not_inventoried_since", "offsite copy {0} not inventoried since {1}",
     "copie hors site {0} non inventoriée depuis le {1}"},
    {"site.no_offsite", "no backup set on a location declared offsite from the primary site",
     "aucun jeu de sauvegarde sur un emplacement déclaré hors du site principal"},
    {"site.no_offsite_site",
     "no backup set on a location declared offsite from the primary site ({0})",
     "aucun jeu de sauvegarde sur un emplacement déclaré hors du site principal ({0})"},
    // Scope.
    {"scope.unscoped", "found at a location, not covered by the contract",
     "trouvé sur un emplacement, non couvert par le contrat"},
    {"scope.no_backup", "in scope, no backup found",
     "dans le périmètre, aucune sauvegarde trouvée"},
    {"scope.no_backup_why", "in scope, no backup found: {0}",
     "dans le périmètre, aucune sauvegarde trouvée : {0}"},
    {"nobackup.no_directory", "{0}: directory does not exist", "{0} : le répertoire n'existe pas"},
    {"nobackup.empty", "{0}: empty", "{0} : vide"},
    {"nobackup.no_point", "{0}: holds no restore point",
     "{0} : ne contient aucun point de restauration"},
    {"nobackup.other", "{0}: {1}", "{0} : {1}"},
    // Terms of the contract (services/coordinator/report.cc).
    {"terms.rpo", "newest good restore point younger than {0}",
     "point de restauration valide le plus récent âgé de moins de {0}"},
    {"terms.retention", "keep restore points: {0}", "conserver des points de restauration : {0}"},
    {"terms.daily", "{0} daily", "{0} {0|quotidien|quotidiens}"},
    {"terms.weekly", "{0} weekly", "{0} {0|hebdomadaire|hebdomadaires}"},
    {"terms.monthly", "{0} monthly", "{0} {0|mensuel|mensuels}"},
    {"terms.yearly", "{0} yearly", "{0} {0|annuel|annuels}"},
    {"terms.copies", "at least {0} current {0|copy|copies}, of which {1} offsite",
     "au moins {0} {0|copie à jour|copies à jour}, dont {1} hors site"},
    {"terms.integrity_sample",
     "every entry re-read within {0} (a random sample of {1} {1|entry|entries} per run)",
     "chaque entrée relue en moins de {0} (un échantillon aléatoire de {1} {1|entrée|entrées} "
     "par contrôle)"},
    {"terms.integrity_budget", "every entry re-read within {0} (at most {1} read per run)",
     "chaque entrée relue en moins de {0} (au plus {1} lus par contrôle)"},
    {"terms.drill", "a restore drill every {0}", "un test de restauration tous les {0}"},
    {"terms.drill_rto", "a restore drill every {0}; projected full restore within {1}",
     "un test de restauration tous les {0} ; restauration complète projetée en moins de {1}"},
    // Incidents (services/coordinator/report.cc).
    {"incident.point", "{0}, restore point {1}: {2}", "{0}, point de restauration {1} : {2}"},
    {"incident.point_removed", "{0}, restore point {1}: {2} (the point was since removed)",
     "{0}, point de restauration {1} : {2} (le point a depuis été supprimé)"},
    {"incident.accepted", "{0} (accepted as clean by {1}: {2})",
     "{0} (déclaré sain par {1} : {2})"},
    {"incident.check_failed", "check of {0} failed: {1}", "le contrôle de {0} a échoué : {1}"},
};

const CatalogueEntry* Find(std::string_view id) {
  for (const CatalogueEntry& e : kCatalogue) {
    if (id == e.id) return &e;
  }
  return nullptr;
}

std::optional<std::string> Arg(const ReportMessageArg& a, Language language);

std::optional<std::string> Render(const ReportMessage& m, Language language, int depth) {
  // Messages nest (a reason holding a summary holding a list); a report
  // nesting deeper than any Vigil writes is not rendered.
  if (depth > 8) return std::nullopt;
  const CatalogueEntry* e = Find(m.id);
  if (e == nullptr) return std::nullopt;
  const std::string_view t = language == Language::kFrench ? e->fr : e->en;
  std::string out;
  for (size_t i = 0; i < t.size();) {
    if (t[i] != '{') {
      out += t[i++];
      continue;
    }
    size_t close = t.find('}', i);
    if (close == std::string_view::npos || close == i + 1 || t[i + 1] < '0' || t[i + 1] > '9') {
      return std::nullopt;
    }
    const size_t n = static_cast<size_t>(t[i + 1] - '0');
    if (n >= m.args.size()) return std::nullopt;
    const ReportMessageArg& a = m.args[n];
    const std::string_view spec = t.substr(i + 2, close - i - 2);
    if (spec.empty()) {
      std::optional<std::string> s;
      if (a.kind == ReportMessageArg::Kind::kList || a.kind == ReportMessageArg::Kind::kMessage) {
        std::string joined;
        for (const ReportMessage& item : a.items) {
          std::optional<std::string> r = Render(item, language, depth + 1);
          if (!r) return std::nullopt;
          joined += (joined.empty() ? "" : (language == Language::kFrench ? " ; " : "; ")) + *r;
        }
        s = joined;
      } else {
        s = Arg(a, language);
      }
      if (!s) return std::nullopt;
      out += *s;
    } else {
      // "|one|other": chosen by a count.
      const size_t bar = spec.find('|', 1);
      if (spec[0] != '|' || bar == std::string_view::npos ||
          a.kind != ReportMessageArg::Kind::kCount) {
        return std::nullopt;
      }
      out += Singular(a.count, language) ? spec.substr(1, bar - 1) : spec.substr(bar + 1);
    }
    i = close + 1;
  }
  return out;
}

std::optional<std::string> Arg(const ReportMessageArg& a, Language language) {
  switch (a.kind) {
    case ReportMessageArg::Kind::kCount:
      return FormatInteger(a.count, language);
    case ReportMessageArg::Kind::kBytes:
      return FormatBytes(a.count, language);
    case ReportMessageArg::Kind::kRate:
      return FormatBytes(a.count, language) + "/s";
    case ReportMessageArg::Kind::kDuration:
      return FormatDuration(a.seconds, language);
    case ReportMessageArg::Kind::kTime:
      return FormatDateTimeShort(a.time, language);
    case ReportMessageArg::Kind::kDate:
      return FormatDateShort(a.time, language);
    case ReportMessageArg::Kind::kPercent:
      return FormatPercent(a.fraction, language);
    case ReportMessageArg::Kind::kText:
      return a.text;
    case ReportMessageArg::Kind::kList:
    case ReportMessageArg::Kind::kMessage:
      break;
  }
  return std::nullopt;
}

absl::Status Bad(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(path + ": " + what);
}

absl::StatusOr<ReportMessage> ParseMessageAt(const json& j, const std::string& path, int depth);

}  // namespace

bool Singular(uint64_t n, Language language) {
  return language == Language::kFrench ? n <= 1 : n == 1;
}

std::string FormatDuration(double seconds, Language language) {
  const bool fr = language == Language::kFrench;
  const std::string space = fr ? kThinSpace : " ";
  if (!std::isfinite(seconds) || seconds < 0) return "-";
  if (seconds < 10) return FormatDecimal(seconds, 1, language) + space + "s";
  // A report's durations are far below 1e15 s; clamping keeps the
  // conversion defined for any number a JSON file may hold.
  const auto s = static_cast<uint64_t>(std::min(seconds, 1e15));
  std::string out;
  for (const DurationPart& p : DurationParts(s)) {
    const char* unit = p.unit == 'd'   ? (fr ? "j" : "d")
                       : p.unit == 'h' ? "h"
                       : p.unit == 'm' ? "min"
                                       : "s";
    out += (out.empty() ? "" : " ") + FormatInteger(p.count, language) + space + unit;
  }
  return out;
}

std::string FormatPercent(double fraction, Language language) {
  return FormatDecimal(fraction * 100.0, 2, language) +
         (language == Language::kFrench ? kThinSpace : " ") + "%";
}

const std::vector<CatalogueEntry>& Catalogue() { return kCatalogue; }

std::optional<std::string> RenderMessage(const ReportMessage& m, Language language) {
  return Render(m, language, 0);
}

absl::StatusOr<ReportMessage> ParseMessage(const json& j, const std::string& path) {
  return ParseMessageAt(j, path, 0);
}

namespace {

absl::StatusOr<ReportMessage> ParseMessageAt(const json& j, const std::string& path, int depth) {
  // Vigil nests messages a few levels deep; a deeper one is refused rather
  // than followed down the stack.
  if (depth > 8) return Bad(path, "messages nested too deeply");
  if (!j.is_object()) return Bad(path, "expected an object {\"id\", \"args\"}");
  ReportMessage m;
  auto id = j.find("id");
  if (id == j.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    return Bad(path + ".id", "expected a non-empty string");
  }
  m.id = id->get<std::string>();
  auto args = j.find("args");
  if (args == j.end() || args->is_null()) return m;
  if (!args->is_array()) return Bad(path + ".args", "expected an array");
  for (size_t i = 0; i < args->size(); ++i) {
    const std::string at = path + ".args[" + std::to_string(i) + "]";
    const json& a = (*args)[i];
    if (!a.is_object() || a.size() != 1) {
      return Bad(at,
                 "expected an object with one of count, bytes, rate, duration, time, date, "
                 "percent, text, list, message");
    }
    const std::string& key = a.begin().key();
    const json& v = a.begin().value();
    const std::string vat = at + "." + key;
    std::optional<MessageArg::Kind> kind = ValueOf(kMessageArgKeys, key);
    if (!kind) return Bad(at, "unknown argument type \"" + key + "\"");
    ReportMessageArg arg;
    arg.kind = *kind;
    switch (*kind) {
      case MessageArg::Kind::kCount:
      case MessageArg::Kind::kBytes:
      case MessageArg::Kind::kRate:
        if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
          return Bad(vat, "expected an unsigned integer");
        }
        arg.count = v.get<uint64_t>();
        break;
      case MessageArg::Kind::kDuration:
      case MessageArg::Kind::kPercent:
        if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0) {
          return Bad(vat, "expected a number >= 0");
        }
        (*kind == MessageArg::Kind::kDuration ? arg.seconds : arg.fraction) = v.get<double>();
        break;
      case MessageArg::Kind::kTime:
      case MessageArg::Kind::kDate: {
        std::optional<LocalTime> t =
            v.is_string() ? ParseRfc3339(v.get_ref<const std::string&>()) : std::nullopt;
        if (!t) return Bad(vat, "expected an RFC 3339 time");
        arg.time = *t;
        break;
      }
      case MessageArg::Kind::kText:
        if (!v.is_string()) return Bad(vat, "expected a string");
        arg.text = v.get<std::string>();
        break;
      case MessageArg::Kind::kList:
        if (!v.is_array()) return Bad(vat, "expected an array of messages");
        for (size_t k = 0; k < v.size(); ++k) {
          absl::StatusOr<ReportMessage> item =
              ParseMessageAt(v[k], vat + "[" + std::to_string(k) + "]", depth + 1);
          if (!item.ok()) return item.status();
          arg.items.push_back(std::move(*item));
        }
        break;
      case MessageArg::Kind::kMessage: {
        absl::StatusOr<ReportMessage> item = ParseMessageAt(v, vat, depth + 1);
        if (!item.ok()) return item.status();
        arg.items.push_back(std::move(*item));
        break;
      }
    }
    m.args.push_back(std::move(arg));
  }
  return m;
}

}  // namespace
}  // namespace vigil::reports
