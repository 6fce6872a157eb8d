#include "services/coordinator/dashboard.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>
#include <vector>

namespace vigil::coordinator {
namespace {

// The contract's commitment kinds, in the order columns are shown.
const char* const kKinds[] = {"rpo", "retention", "copies", "integrity", "restore_drill"};

int Rank(const nlohmann::json& row) {
  bool fail = row["readiness"] == "not ready", overdue = false,
       unknown = row["readiness"] != "ready";
  for (const auto& [kind, cell] : row["cells"].items()) {
    fail = fail || cell["verdict"] == "fail";
    overdue = overdue || cell["overdue"].get<bool>();
    unknown = unknown || cell["verdict"] != "pass";
  }
  return fail ? 0 : overdue ? 1 : unknown ? 2 : 3;
}

// A leased task's progress (dashboard.h), or null when it has none.
nlohmann::json ProgressJson(const v1::Task& t) {
  if (t.state() != v1::TASK_STATE_LEASED || !t.has_progress()) return nullptr;
  const v1::TaskProgress& p = t.progress();
  // Average rates over the time the figures moved (unknown start: 0).
  const double seconds = p.started_ns() > 0 && p.updated_ns() > p.started_ns()
                             ? static_cast<double>(p.updated_ns() - p.started_ns()) / 1e9
                             : 0;
  nlohmann::json percent = nullptr;  // unknown total: an indeterminate bar
  if (p.bytes_total() > 0) {
    percent = std::min(
        100.0, 100.0 * static_cast<double>(p.bytes_done()) / static_cast<double>(p.bytes_total()));
  } else if (p.files_total() > 0) {
    percent = std::min(
        100.0, 100.0 * static_cast<double>(p.files_done()) / static_cast<double>(p.files_total()));
  }
  return {{"files_done", p.files_done()},
          {"bytes_done", p.bytes_done()},
          {"files_total", p.files_total()},
          {"bytes_total", p.bytes_total()},
          {"percent", std::move(percent)},
          {"files_per_s", seconds > 0 ? static_cast<double>(p.files_done()) / seconds : 0.0},
          {"bytes_per_s", seconds > 0 ? static_cast<double>(p.bytes_done()) / seconds : 0.0},
          {"started_ns", p.started_ns()},
          {"updated_ns", p.updated_ns()}};
}

nlohmann::json TaskJson(const v1::Task& t) {
  return {{"id", t.id()},
          {"check_id", t.check_id()},
          {"tenant", t.backup_set().tenant()},
          {"backup_set", t.backup_set().name()},
          {"kind", t.kind() == v1::TASK_KIND_DRILL ? "drill" : "check"},
          {"state", t.state() == v1::TASK_STATE_LEASED ? "leased" : "queued"},
          {"worker", t.worker_id()},
          {"attempt", t.attempt()},
          {"lease_expires_ns", t.lease_expires_ns()},
          {"progress", ProgressJson(t)}};
}

void SortById(nlohmann::json& tasks) {
  std::sort(tasks.begin(), tasks.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["id"].get<uint64_t>() < b["id"].get<uint64_t>();
  });
}

bool InProgress(const v1::Task& t) {
  return t.state() == v1::TASK_STATE_QUEUED || t.state() == v1::TASK_STATE_LEASED;
}

nlohmann::json EvidenceJson(const google::protobuf::RepeatedPtrField<v1::EvidenceItem>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : items) {
    out.push_back({{"name", e.name()}, {"value", e.value()}, {"basis", e.basis()}});
  }
  return out;
}

std::string Dump(const nlohmann::json& j) {
  // Invalid UTF-8 in a name (not expected: contracts are validated) is
  // replaced rather than failing the whole page.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The tenant page's numeric history (history.h), values as they are.
nlohmann::json SeriesJson(const std::vector<HistorySeries>& series) {
  nlohmann::json out = nlohmann::json::array();
  for (const HistorySeries& h : series) {
    nlohmann::json points = nlohmann::json::array();
    for (const SeriesPoint& p : h.points) points.push_back({p.t_ns, p.value});
    out.push_back({{"asset", h.asset},
                   {"kind", h.kind},
                   {"metric", h.metric},
                   {"unit", h.metric == "coverage" ? "ratio" : "ns"},
                   {"limit", h.has_limit ? nlohmann::json(h.limit) : nlohmann::json(nullptr)},
                   {"points", std::move(points)},
                   {"samples", h.samples},
                   {"definition", h.definition},
                   {"note", h.note}});
  }
  return out;
}

}  // namespace

std::string TenantJson(const v1::GetStatusResponse& status, std::string_view tenant, int64_t now_ns,
                       int64_t from_ns, const std::vector<v1::Transition>& transitions,
                       const std::vector<v1::Task>& tasks,
                       const std::vector<HistorySeries>& series) {
  const v1::TenantStatus* ts = nullptr;
  for (const v1::TenantStatus& t : status.tenants()) {
    if (t.tenant().name() == tenant) ts = &t;
  }
  if (ts == nullptr) return "";
  nlohmann::json readiness = nlohmann::json::array();
  for (const auto& r : ts->readiness()) {
    nlohmann::json reasons = nlohmann::json::array();
    for (const auto& why : r.reasons()) reasons.push_back(why);
    readiness.push_back(
        {{"asset", r.asset()}, {"readiness", r.readiness()}, {"reasons", std::move(reasons)}});
  }
  nlohmann::json commitments = nlohmann::json::array();
  for (const auto& c : ts->commitments()) {
    commitments.push_back({{"asset", c.asset()},
                           {"kind", c.kind()},
                           {"verdict", c.verdict()},
                           {"summary", c.summary()},
                           {"failing_since_ns", c.failing_since_ns()},
                           {"last_check_ns", c.last_check_ns()},
                           {"next_check_ns", c.next_check_ns()},
                           {"overdue", c.next_check_ns() > 0 && c.next_check_ns() < now_ns},
                           {"evidence", EvidenceJson(c.evidence())}});
  }
  nlohmann::json history = nlohmann::json::array();
  for (const v1::Transition& t : transitions) {
    if (t.tenant() != tenant) continue;
    history.push_back({{"asset", t.asset()},
                       {"kind", t.kind()},
                       {"from", t.from()},
                       {"to", t.to()},
                       {"at_ns", t.at_ns()},
                       {"summary", t.summary()},
                       {"alerted", !t.alert_id().empty()}});
  }
  nlohmann::json running = nlohmann::json::array();
  for (const v1::Task& t : tasks) {
    if (InProgress(t) && t.backup_set().tenant() == tenant) running.push_back(TaskJson(t));
  }
  SortById(running);
  return Dump({{"generated_ns", now_ns},
               {"tenant", ts->tenant().name()},
               {"display_name", ts->tenant().display_name().empty() ? ts->tenant().name()
                                                                    : ts->tenant().display_name()},
               {"readiness", std::move(readiness)},
               {"commitments", std::move(commitments)},
               {"history", std::move(history)},
               {"from_ns", from_ns},
               {"tasks", std::move(running)},
               {"series", SeriesJson(series)}});
}

std::string WorkersJson(const std::vector<v1::WorkerRecord>& workers,
                        const std::vector<v1::Task>& tasks, int64_t now_ns) {
  std::map<std::string, nlohmann::json> by_id;
  for (const v1::WorkerRecord& w : workers) {
    nlohmann::json locations = nlohmann::json::array();
    for (const auto& l : w.locations()) locations.push_back(l);
    by_id[w.id()] = {{"id", w.id()},
                     {"site", w.site()},
                     {"locations", std::move(locations)},
                     {"capacity", w.capacity()},
                     {"registered_ns", w.registered_ns()},
                     {"leases", nlohmann::json::array()}};
  }
  for (const v1::Task& t : tasks) {
    if (t.state() != v1::TASK_STATE_LEASED || t.worker_id().empty()) continue;
    auto it = by_id.find(t.worker_id());
    if (it == by_id.end()) {
      it = by_id
               .emplace(t.worker_id(),
                        nlohmann::json{{"id", t.worker_id()}, {"leases", nlohmann::json::array()}})
               .first;
    }
    it->second["leases"].push_back(TaskJson(t));
  }
  nlohmann::json list = nlohmann::json::array();
  for (auto& [id, w] : by_id) {
    SortById(w["leases"]);
    list.push_back(std::move(w));
  }
  return Dump({{"generated_ns", now_ns}, {"workers", std::move(list)}});
}

std::string DashboardJson(const v1::GetStatusResponse& status, int64_t now_ns,
                          const std::vector<v1::Task>& tasks) {
  std::vector<nlohmann::json> rows;
  std::map<std::string, int> counts = {{"pass", 0}, {"fail", 0}, {"unknown", 0}};
  std::map<std::string, bool> kinds_present;
  for (const v1::TenantStatus& ts : status.tenants()) {
    // Assets in the order the status lists them (readiness first, then any
    // asset only the commitments name).
    std::map<std::string, nlohmann::json> by_asset;
    std::vector<std::string> order;
    auto row = [&](const std::string& asset) -> nlohmann::json& {
      auto it = by_asset.find(asset);
      if (it != by_asset.end()) return it->second;
      order.push_back(asset);
      nlohmann::json r = {{"tenant", ts.tenant().name()},
                          {"asset", asset},
                          {"readiness", "unknown"},
                          {"reasons", nlohmann::json::array()},
                          {"cells", nlohmann::json::object()}};
      return by_asset.emplace(asset, std::move(r)).first->second;
    };
    for (const auto& r : ts.readiness()) {
      nlohmann::json& j = row(r.asset());
      j["readiness"] = r.readiness();
      for (const auto& why : r.reasons()) j["reasons"].push_back(why);
    }
    for (const auto& c : ts.commitments()) {
      nlohmann::json& j = row(c.asset());
      kinds_present[c.kind()] = true;
      const std::string verdict = counts.count(c.verdict()) ? c.verdict() : "unknown";
      ++counts[verdict];
      j["cells"][c.kind()] = {{"verdict", verdict},
                              {"summary", c.summary()},
                              {"overdue", c.next_check_ns() > 0 && c.next_check_ns() < now_ns},
                              {"failing_since_ns", c.failing_since_ns()},
                              {"next_check_ns", c.next_check_ns()}};
    }
    for (const auto& asset : order) {
      nlohmann::json& j = by_asset[asset];
      j["rank"] = Rank(j);
      rows.push_back(std::move(j));
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return std::make_tuple(a["rank"].get<int>(), a["tenant"].get<std::string>(),
                           a["asset"].get<std::string>()) <
           std::make_tuple(b["rank"].get<int>(), b["tenant"].get<std::string>(),
                           b["asset"].get<std::string>());
  });
  nlohmann::json kinds = nlohmann::json::array();
  for (const char* k : kKinds) {
    if (kinds_present.erase(k) > 0) kinds.push_back(k);
  }
  for (const auto& [k, present] : kinds_present) kinds.push_back(k);  // future kinds, last
  nlohmann::json running = nlohmann::json::array();
  for (const v1::Task& t : tasks) {
    if (InProgress(t)) running.push_back(TaskJson(t));
  }
  SortById(running);
  nlohmann::json out = {{"generated_ns", now_ns},
                        {"kinds", std::move(kinds)},
                        {"counts", counts},
                        {"rows", std::move(rows)},
                        {"tasks", std::move(running)}};
  return Dump(out);
}

std::string_view DashboardHtml() {
  return R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil</title>
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>Vigil</h1>
  <span id="counts"></span>
  <span id="updated"></span>
</header>
<form id="login" hidden>
  <label>Admin token <input id="token" type="password" autocomplete="off" size="40"></label>
  <button type="submit">Show</button>
  <p id="login-error" class="error"></p>
</form>
<main>
<section id="overview">
  <table id="grid" hidden>
    <thead><tr id="head"></tr></thead>
    <tbody id="rows"></tbody>
  </table>
  <h2>Checks in progress</h2>
  <table id="tasks-grid" hidden>
    <thead><tr><th>Task</th><th>Tenant</th><th>Backup set</th><th>Kind</th><th>State</th>
      <th>Worker</th><th>Attempt</th><th>Lease ends</th><th>Progress</th></tr></thead>
    <tbody id="tasks"></tbody>
  </table>
  <p id="no-tasks" hidden>None queued or running.</p>
  <p id="empty" hidden>No tenant has a contract yet (<code>vigil apply -f contract.yaml</code>).</p>
  <h2>Workers</h2>
  <table id="workers-grid" hidden>
    <thead><tr><th>Worker</th><th>Site</th><th>Locations</th><th>Capacity</th>
      <th>Registered</th><th>Leases</th></tr></thead>
    <tbody id="workers"></tbody>
  </table>
  <p id="no-workers" hidden>No worker registered.</p>
</section>
<section id="tenant-page" hidden>
  <p><a href="#">&larr; All tenants</a></p>
  <h2 id="tenant-title"></h2>
  <table id="tenant-readiness">
    <thead><tr><th>Asset</th><th>Restore readiness</th><th>Reasons</th></tr></thead>
    <tbody></tbody>
  </table>
  <h2>Commitments</h2>
  <table id="tenant-commitments">
    <thead><tr><th>Asset</th><th>Commitment</th><th>Verdict</th><th>Summary</th>
      <th>Last check</th><th>Next check</th><th>Evidence</th></tr></thead>
    <tbody></tbody>
  </table>
  <h2>RPO age and coverage over time <span id="series-window" class="muted"></span></h2>
  <div id="tenant-series"></div>
  <h2>Verdicts over time <span id="tenant-window" class="muted"></span></h2>
  <div id="tenant-chart"></div>
  <h2>History</h2>
  <table id="tenant-history" hidden>
    <thead><tr><th>When</th><th>Asset</th><th>Commitment</th><th>From</th><th>To</th>
      <th>Summary</th><th>Alert</th></tr></thead>
    <tbody></tbody>
  </table>
  <p id="tenant-no-history" hidden>No verdict change recorded in the window.</p>
  <h2>Checks in progress</h2>
  <table id="tenant-tasks-grid" hidden>
    <thead><tr><th>Task</th><th>Backup set</th><th>Kind</th><th>State</th><th>Worker</th>
      <th>Progress</th></tr></thead>
    <tbody id="tenant-tasks"></tbody>
  </table>
  <p id="tenant-no-tasks" hidden>None queued or running.</p>
</section>
</main>
</body>
</html>
)html";
}

std::string_view DashboardCss() {
  return R"css(body { font: 14px system-ui, sans-serif; margin: 0; color: #1d232b; background: #f6f7f9; }
header { display: flex; gap: 1.5em; align-items: baseline; padding: .6em 1.2em; background: #1d232b; color: #fff; }
header h1 { font-size: 1.2em; margin: 0; }
h2 { font-size: 1.05em; margin: 1.5em 0 .5em; }
.leased { background: #dbe4ff; }
main, form { padding: 1em 1.2em; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #d5d9df; padding: .35em .7em; text-align: left; }
th { background: #eceff3; font-weight: 600; }
td.cell { min-width: 6.5em; }
.pass, .ready { background: #d8f3dc; }
.fail, .not-ready { background: #f8d0d0; font-weight: 600; }
.unknown, .at-risk { background: #fff3bf; }
.none { background: #f1f3f5; color: #868e96; }
.overdue::after { content: " (overdue)"; font-weight: normal; font-size: .85em; }
.error { color: #c92a2a; }
.muted { color: #868e96; font-weight: normal; font-size: .85em; }
#rows tr { cursor: pointer; }
#rows tr:hover td:first-child { text-decoration: underline; }
td ul { margin: 0; padding-left: 1.1em; }
.basis { color: #868e96; font-size: .85em; }
svg.timeline text { font: 11px system-ui, sans-serif; fill: #1d232b; }
figure.series { margin: 0 0 1.2em; padding: .5em .7em; background: #fff; border: 1px solid #d5d9df; max-width: 900px; }
figure.series figcaption { font-weight: 600; margin-bottom: .3em; }
figure.series p { margin: .3em 0; }
svg.series-chart { display: block; width: 100%; height: auto; }
svg.series-chart text { font: 11px system-ui, sans-serif; fill: #1d232b; }
svg.series-chart .axis { stroke: #495057; }
svg.series-chart .grid { stroke: #e9ecef; }
svg.series-chart .limit { stroke: #c92a2a; stroke-width: 1.5; stroke-dasharray: 6 4; }
svg.series-chart text.limit-label { fill: #c92a2a; font-weight: 600; }
svg.series-chart .series-line { fill: none; stroke: #1c7ed6; stroke-width: 1.5; }
svg.series-chart circle.pt { fill: #1c7ed6; }
svg.series-chart circle.pt.over { fill: #c92a2a; }
td.progress { min-width: 16em; }
td.progress progress { width: 100%; display: block; }
)css";
}

std::string_view DashboardJs() {
  return R"js('use strict';
// Draws /api/dashboard. Every text goes through textContent: names come from
// contracts and are never parsed as HTML.
const KEY = 'vigil-admin-token';
const KIND_NAMES = {rpo: 'RPO', retention: 'Retention', copies: 'Copies',
                    integrity: 'Integrity', restore_drill: 'Restore drill'};

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function showLogin(message) {
  document.getElementById('login').hidden = false;
  document.getElementById('login-error').textContent = message || '';
}

function render(d) {
  const c = d.counts;
  document.getElementById('counts').textContent =
      `${c.fail} failing, ${c.unknown} unknown, ${c.pass} passing`;
  document.getElementById('updated').textContent =
      'as of ' + new Date(d.generated_ns / 1e6).toLocaleString();
  const head = document.getElementById('head');
  head.replaceChildren(el('th', 'Tenant'), el('th', 'Asset'), el('th', 'Restore readiness'),
                       ...d.kinds.map(k => el('th', KIND_NAMES[k] || k)));
  const rows = d.rows.map(r => {
    const tr = el('tr');
    tr.dataset.tenant = r.tenant;
    tr.addEventListener('click', () => { location.hash = 'tenant=' + encodeURIComponent(r.tenant); });
    tr.dataset.asset = r.asset;
    tr.append(el('td', r.tenant), el('td', r.asset));
    const ready = el('td', r.readiness, 'cell readiness ' + r.readiness.replace(' ', '-'));
    ready.title = r.reasons.join('\n');
    tr.append(ready);
    for (const k of d.kinds) {
      const cell = r.cells[k];
      if (!cell) { tr.append(el('td', '-', 'cell none')); continue; }
      const td = el('td', cell.verdict, 'cell ' + cell.verdict + (cell.overdue ? ' overdue' : ''));
      td.dataset.kind = k;
      td.title = cell.summary;
      tr.append(td);
    }
    return tr;
  });
  document.getElementById('rows').replaceChildren(...rows);
  const tasks = (d.tasks || []).map(t => {
    const tr = el('tr');
    const ends = t.state === 'leased' ? new Date(t.lease_expires_ns / 1e6).toLocaleTimeString() : '';
    tr.append(el('td', String(t.id)), el('td', t.tenant), el('td', t.backup_set), el('td', t.kind),
              el('td', t.state, t.state), el('td', t.worker || '-'), el('td', String(t.attempt)),
              el('td', ends), progressCell(t));
    return tr;
  });
  document.getElementById('tasks').replaceChildren(...tasks);
  document.getElementById('tasks-grid').hidden = tasks.length === 0;
  document.getElementById('no-tasks').hidden = tasks.length !== 0;
  document.getElementById('grid').hidden = rows.length === 0;
  document.getElementById('empty').hidden = rows.length !== 0;
}

// Running checks: a bar (done / total and %, or indeterminate with counts
// when the total is unknown) and the average rates.
function count(n) { return Math.round(n).toLocaleString(); }
function size(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; ++i; }
  return (i === 0 ? String(Math.round(n)) : n.toFixed(1)) + ' ' + units[i];
}
function progressCell(t) {
  const td = el('td', undefined, 'progress');
  const p = t.progress;
  if (!p) { td.append(el('span', t.state === 'leased' ? '-' : 'waiting', 'muted')); return td; }
  const bar = el('progress');
  if (p.percent !== null) { bar.max = 100; bar.value = p.percent; }  // else indeterminate
  const files = count(p.files_done) + (p.files_total ? ' / ' + count(p.files_total) : '') + ' files';
  const bytes = size(p.bytes_done) + (p.bytes_total ? ' / ' + size(p.bytes_total) : '');
  let text = files + ', ' + bytes;
  if (p.percent !== null) text += ` (${Math.floor(p.percent)}%)`;
  const rate = p.bytes_per_s > 0 || p.files_per_s > 0
      ? `${size(p.bytes_per_s)}/s, ${count(p.files_per_s)} files/s` : '';
  td.dataset.filesDone = String(p.files_done);
  td.title = rate ? 'average since leased: ' + rate : '';
  td.append(bar, el('span', text + (rate ? ' · ' + rate : '')));
  return td;
}

function when(ns) {
  return ns > 0 ? new Date(ns / 1e6).toLocaleString() : '-';
}

function renderWorkers(d) {
  const rows = d.workers.map(w => {
    const tr = el('tr');
    tr.dataset.worker = w.id;
    const leases = el('td');
    const ul = el('ul');
    for (const t of w.leases) {
      ul.append(el('li', `task ${t.id} ${t.tenant}/${t.backup_set} (${t.kind}, attempt ${t.attempt}, ` +
                         `until ${new Date(t.lease_expires_ns / 1e6).toLocaleTimeString()})`));
    }
    leases.append(w.leases.length ? ul : el('span', 'none', 'muted'));
    tr.append(el('td', w.id), el('td', w.site || '-'), el('td', (w.locations || []).join(', ')),
              el('td', w.capacity === undefined ? '-' : String(w.capacity)),
              el('td', when(w.registered_ns || 0)), leases);
    return tr;
  });
  document.getElementById('workers').replaceChildren(...rows);
  document.getElementById('workers-grid').hidden = rows.length === 0;
  document.getElementById('no-workers').hidden = rows.length !== 0;
}

const SVG = 'http://www.w3.org/2000/svg';
const COLOURS = {pass: '#8ce99a', fail: '#ff8787', unknown: '#ffe066'};

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// One strip per commitment over the history window, coloured by verdict:
// the state before the first recorded change is that change's "from".
function timeline(d) {
  // From the first recorded change (a little before), not the whole window:
  // a young tenant's history would be a sliver at the right edge.
  const to = d.generated_ns, W = 900, L = 170, H = 22;
  const first = d.history.length ? d.history[0].at_ns : d.from_ns;
  const from = Math.max(d.from_ns, first - Math.max(60e9, (to - first) * 0.05));
  const span = Math.max(1, to - from);
  const x = ns => L + (W - L) * Math.min(1, Math.max(0, (ns - from) / span));
  const chart = svg('svg', {class: 'timeline', width: W + 10, height: H * (d.commitments.length + 1) + 10,
                            role: 'img', 'aria-label': 'verdicts over time'});
  d.commitments.forEach((c, i) => {
    const y = 5 + i * H;
    const changes = d.history.filter(h => h.asset === c.asset && h.kind === c.kind);
    chart.append(svg('text', {x: 0, y: y + 14}, `${c.asset} ${KIND_NAMES[c.kind] || c.kind}`));
    let state = changes.length ? (changes[0].from || '') : c.verdict, at = from;
    const segments = [];
    for (const h of changes) { segments.push([at, h.at_ns, state]); state = h.to; at = h.at_ns; }
    segments.push([at, to, c.verdict]);
    for (const [a, b, v] of segments) {
      if (!v || b <= a) continue;  // before the subject was first seen
      const r = svg('rect', {x: x(a), y, width: Math.max(1, x(b) - x(a)), height: H - 6,
                             fill: COLOURS[v] || '#dee2e6', 'data-verdict': v});
      r.append(svg('title', {}, `${v} from ${when(a)}`));
      chart.append(r);
    }
  });
  const y = 5 + d.commitments.length * H + 12;
  chart.append(svg('text', {x: L, y}, new Date(from / 1e6).toLocaleString()));
  chart.append(svg('text', {x: W, y, 'text-anchor': 'end'}, 'now'));
  return chart;
}

// --- Numeric history: RPO age and integrity coverage (history.h) --------

const SERIES_NAMES = {rpo_age: 'RPO age', coverage: 'Integrity coverage'};

// A duration in ns, as a person reads it ("90 s", "12 min", "6.5 h", "3 d").
function duration(ns) {
  const s = ns / 1e9, n = v => String(Number(v.toFixed(1)));
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${n(s / 3600)} h`;
  return `${n(s / 86400)} d`;
}

// Round steps for a duration axis, in ns.
const STEPS_NS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
                  172800, 604800, 1209600, 2592000].map(x => x * 1e9);

// The value axis' ticks, from 0 to the first round value at or above `max`.
function valueTicks(s, max) {
  if (s.unit === 'ratio') return [0, 0.25, 0.5, 0.75, 1];
  const want = Math.max(max, 1e9);
  const month = STEPS_NS[STEPS_NS.length - 1];
  const step = STEPS_NS.find(x => want / x <= 5) || month * Math.ceil(want / (5 * month));
  const ticks = [0];
  while (ticks[ticks.length - 1] < want) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

function seriesValue(s, v) {
  return s.unit === 'ratio' ? `${(v * 100).toFixed(1)} %` : duration(v);
}

// Over the limit: an RPO age above the RPO, a coverage below the target.
function overLimit(s, v) {
  if (s.limit === null) return false;
  return s.unit === 'ratio' ? v < s.limit : v > s.limit;
}

// A value axis label: one unit for the whole axis of a duration.
function axisLabel(s, v, top) {
  if (s.unit === 'ratio') return seriesValue(s, v);
  const [unit, name] = top <= 120e9 ? [1e9, 's'] : top <= 7200e9 ? [60e9, 'min']
      : top <= 72 * 3600e9 ? [3600e9, 'h'] : [86400e9, 'd'];
  return `${Number((v / unit).toFixed(1))} ${name}`;
}

// How long the series was beyond its limit (ns), the samples joined by
// straight lines as drawn.
function timeBeyond(s) {
  let total = 0;
  const pts = s.points;
  for (let i = 0; i + 1 < pts.length; i++) {
    const [ta, va] = pts[i], [tb, vb] = pts[i + 1];
    if (tb <= ta) continue;
    const a = overLimit(s, va), b = overLimit(s, vb);
    if (a && b) total += tb - ta;
    else if (a !== b && va !== vb) {
      const cross = ta + (tb - ta) * (s.limit - va) / (vb - va);
      total += a ? cross - ta : tb - cross;
    }
  }
  return total;
}

function tickLabel(ns, span) {
  const d = new Date(ns / 1e6);
  if (span < 600e9) {
    return d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit', second: '2-digit'});
  }
  return span < 2 * 86400e9
      ? d.toLocaleString([], {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'})
      : d.toLocaleDateString([], {year: 'numeric', month: 'short', day: 'numeric'});
}

// One series as a line chart (samples joined by straight lines; two samples
// at one instant are a jump), with dated axes, the contract's limit as a
// dashed line, a title on every sample and a text summary under it.
function seriesChart(s, d) {
  const fig = el('figure', undefined, 'series');
  fig.dataset.asset = s.asset;
  fig.dataset.kind = s.kind;
  const name = `${s.asset}: ${SERIES_NAMES[s.metric] || s.metric}`;
  fig.append(el('figcaption', name));
  const pts = s.points;
  if (!pts.length) {
    fig.append(el('p', s.note || 'Nothing recorded in the window.', 'muted'));
    return fig;
  }
  const W = 900, H = 240, L = 70, R = 16, T = 16, B = 34;
  const t0 = pts[0][0], t1 = Math.max(d.generated_ns, pts[pts.length - 1][0]);
  const span = Math.max(1, t1 - t0);
  const ticks = valueTicks(s, 1.05 * Math.max(s.limit || 0, ...pts.map(p => p[1])));
  const top = ticks[ticks.length - 1];
  const x = t => L + (W - L - R) * (t - t0) / span;
  const y = v => T + (H - T - B) * (1 - Math.min(v, top) / top);
  const limitText = s.limit === null ? ''
      : s.kind === 'rpo' ? `RPO ${duration(s.limit)}` : `target ${seriesValue(s, s.limit)}`;
  const latest = pts[pts.length - 1];
  const worst = pts.reduce((a, p) => (s.unit === 'ratio' ? p[1] < a[1] : p[1] > a[1]) ? p : a);
  const over = pts.some(p => overLimit(s, p[1])) ? timeBeyond(s) : -1;
  const summary = `Latest ${seriesValue(s, latest[1])} at ${when(latest[0])}; ` +
      `${s.unit === 'ratio' ? 'lowest' : 'highest'} ${seriesValue(s, worst[1])} at ${when(worst[0])}` +
      (s.limit === null ? '' : `; ${s.unit === 'ratio' ? 'below' : 'above'} the ${limitText} ` +
       (over < 0 ? 'never in the window' : `for ${duration(over)} in all`)) + '.';
  const chart = svg('svg', {class: 'series-chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
                            'aria-label': `${name}. ${summary}`});
  chart.append(svg('title', {}, `${name}. ${summary}`));
  for (const v of ticks) {
    const yy = y(v);
    chart.append(svg('line', {x1: L, x2: W - R, y1: yy, y2: yy, class: 'grid'}));
    chart.append(svg('text', {x: L - 6, y: yy + 4, 'text-anchor': 'end'}, axisLabel(s, v, top)));
  }
  chart.append(svg('line', {x1: L, y1: T, x2: L, y2: H - B, class: 'axis'}));
  chart.append(svg('line', {x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis'}));
  for (let i = 0; i <= 4; i++) {
    const t = t0 + span * i / 4;
    chart.append(svg('line', {x1: x(t), x2: x(t), y1: H - B, y2: H - B + 4, class: 'axis'}));
    chart.append(svg('text', {x: x(t), y: H - B + 16,
                              'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle'},
                     tickLabel(t, span)));
  }
  if (s.limit !== null) {
    const ly = y(s.limit);
    const line = svg('line', {x1: L, x2: W - R, y1: ly, y2: ly, class: 'limit',
                              'data-limit': s.limit});
    line.append(svg('title', {}, limitText));
    chart.append(line);
    chart.append(svg('text', {x: W - R - 4, y: ly - 5, 'text-anchor': 'end', class: 'limit-label'},
                     limitText));
  }
  chart.append(svg('polyline', {class: 'series-line',
                                points: pts.map(p => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`)
                                            .join(' ')}));
  for (const p of pts) {
    const beyond = overLimit(s, p[1]);
    const c = svg('circle', {cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: beyond ? 3.5 : 2.5,
                             class: 'pt' + (beyond ? ' over' : ''), 'data-t': p[0],
                             'data-value': p[1]});
    c.append(svg('title', {}, `${when(p[0])}: ${seriesValue(s, p[1])}` +
                              (beyond ? ` (${s.unit === 'ratio' ? 'below' : 'above'} the ` +
                                        `${limitText})` : '')));
    chart.append(c);
  }
  fig.append(chart);
  fig.append(el('p', summary, 'series-summary'));
  fig.append(el('p', 'Shows: ' + s.definition +
                     (s.samples > pts.length ? ` (${pts.length} of ${s.samples} samples drawn, ` +
                      'keeping the highest and lowest)' : '') + '.', 'muted'));
  if (s.note && pts.length) fig.append(el('p', 'Note: ' + s.note + '.', 'muted'));
  return fig;
}

function renderSeries(d) {
  const series = d.series || [];
  document.getElementById('series-window').textContent =
      `(since ${new Date(d.from_ns / 1e6).toLocaleDateString()})`;
  document.getElementById('tenant-series').replaceChildren(
      ...(series.length ? series.map(s => seriesChart(s, d))
                        : [el('p', 'No RPO or integrity commitment to chart.', 'muted')]));
}

function renderTenant(d) {
  document.getElementById('tenant-title').textContent =
      d.display_name === d.tenant ? d.tenant : `${d.display_name} (${d.tenant})`;
  document.querySelector('#tenant-readiness tbody').replaceChildren(...d.readiness.map(r => {
    const tr = el('tr');
    tr.append(el('td', r.asset), el('td', r.readiness, 'cell ' + r.readiness.replace(' ', '-')),
              el('td', r.reasons.join('; ')));
    return tr;
  }));
  document.querySelector('#tenant-commitments tbody').replaceChildren(...d.commitments.map(c => {
    const tr = el('tr');
    tr.dataset.asset = c.asset;
    tr.dataset.kind = c.kind;
    const ev = el('td');
    const ul = el('ul');
    for (const e of c.evidence) {
      const li = el('li', `${e.name}: ${e.value} `);
      li.append(el('span', `(${e.basis})`, 'basis'));
      ul.append(li);
    }
    if (c.evidence.length) ev.append(ul);
    tr.append(el('td', c.asset), el('td', KIND_NAMES[c.kind] || c.kind),
              el('td', c.verdict, 'cell verdict ' + c.verdict + (c.overdue ? ' overdue' : '')),
              el('td', c.summary), el('td', when(c.last_check_ns)), el('td', when(c.next_check_ns)),
              ev);
    return tr;
  }));
  document.getElementById('tenant-window').textContent =
      `(since ${new Date(d.from_ns / 1e6).toLocaleDateString()})`;
  document.getElementById('tenant-chart').replaceChildren(timeline(d));
  renderSeries(d);
  const hist = d.history.slice().reverse().map(h => {
    const tr = el('tr');
    tr.append(el('td', when(h.at_ns)), el('td', h.asset), el('td', KIND_NAMES[h.kind] || h.kind),
              el('td', h.from || '(first seen)', 'cell ' + (h.from || 'none')),
              el('td', h.to, 'cell ' + h.to), el('td', h.summary), el('td', h.alerted ? 'sent' : ''));
    return tr;
  });
  document.querySelector('#tenant-history tbody').replaceChildren(...hist);
  document.getElementById('tenant-history').hidden = hist.length === 0;
  document.getElementById('tenant-no-history').hidden = hist.length !== 0;
  const tasks = (d.tasks || []).map(t => {
    const tr = el('tr');
    tr.append(el('td', String(t.id)), el('td', t.backup_set), el('td', t.kind),
              el('td', t.state, t.state), el('td', t.worker || '-'), progressCell(t));
    return tr;
  });
  document.getElementById('tenant-tasks').replaceChildren(...tasks);
  document.getElementById('tenant-tasks-grid').hidden = tasks.length === 0;
  document.getElementById('tenant-no-tasks').hidden = tasks.length !== 0;
}

// The tenant named in the URL's fragment (#tenant=NAME), or null.
function route() {
  const m = /^#tenant=(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

// GETs `path` with the token; null (after saying why) if it failed.
async function get(path) {
  const token = sessionStorage.getItem(KEY);
  if (!token) { showLogin(); return null; }
  let resp;
  try {
    resp = await fetch(path, {headers: {Authorization: 'Bearer ' + token}});
  } catch (e) {
    document.getElementById('updated').textContent = 'coordinator unreachable';
    return null;
  }
  if (resp.status === 401) {
    sessionStorage.removeItem(KEY);
    showLogin('That token was refused.');
    return null;
  }
  if (!resp.ok) {
    document.getElementById('updated').textContent = await resp.text();
    return null;
  }
  document.getElementById('login').hidden = true;
  return resp.json();
}

async function refresh() {
  const tenant = route();
  document.getElementById('overview').hidden = tenant !== null;
  document.getElementById('tenant-page').hidden = tenant === null;
  const d = await get('/api/dashboard');
  if (d === null) return;
  render(d);
  if (tenant === null) {
    const w = await get('/api/workers');
    if (w !== null) renderWorkers(w);
  } else {
    const t = await get('/api/tenant?name=' + encodeURIComponent(tenant));
    if (t !== null) renderTenant(t);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('login').addEventListener('submit', ev => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, document.getElementById('token').value.trim());
    refresh();
  });
  window.addEventListener('hashchange', refresh);
  refresh();
  setInterval(refresh, 15000);
});
)js";
}

}  // namespace vigil::coordinator
