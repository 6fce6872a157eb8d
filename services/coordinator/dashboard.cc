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

}  // namespace

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
    if (t.state() != v1::TASK_STATE_QUEUED && t.state() != v1::TASK_STATE_LEASED) continue;
    running.push_back({{"id", t.id()},
                       {"check_id", t.check_id()},
                       {"tenant", t.backup_set().tenant()},
                       {"backup_set", t.backup_set().name()},
                       {"kind", t.kind() == v1::TASK_KIND_DRILL ? "drill" : "check"},
                       {"state", t.state() == v1::TASK_STATE_LEASED ? "leased" : "queued"},
                       {"worker", t.worker_id()},
                       {"attempt", t.attempt()},
                       {"lease_expires_ns", t.lease_expires_ns()}});
  }
  std::sort(running.begin(), running.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["id"].get<uint64_t>() < b["id"].get<uint64_t>();
  });
  nlohmann::json out = {{"generated_ns", now_ns},
                        {"kinds", std::move(kinds)},
                        {"counts", counts},
                        {"rows", std::move(rows)},
                        {"tasks", std::move(running)}};
  // Invalid UTF-8 in a name (not expected: contracts are validated) is
  // replaced rather than failing the whole page.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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
  <table id="grid" hidden>
    <thead><tr id="head"></tr></thead>
    <tbody id="rows"></tbody>
  </table>
  <h2>Checks in progress</h2>
  <table id="tasks-grid" hidden>
    <thead><tr><th>Task</th><th>Tenant</th><th>Backup set</th><th>Kind</th><th>State</th>
      <th>Worker</th><th>Attempt</th><th>Lease ends</th></tr></thead>
    <tbody id="tasks"></tbody>
  </table>
  <p id="no-tasks" hidden>None queued or running.</p>
  <p id="empty" hidden>No tenant has a contract yet (<code>vigil apply -f contract.yaml</code>).</p>
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
              el('td', ends));
    return tr;
  });
  document.getElementById('tasks').replaceChildren(...tasks);
  document.getElementById('tasks-grid').hidden = tasks.length === 0;
  document.getElementById('no-tasks').hidden = tasks.length !== 0;
  document.getElementById('grid').hidden = rows.length === 0;
  document.getElementById('empty').hidden = rows.length !== 0;
}

async function refresh() {
  const token = sessionStorage.getItem(KEY);
  if (!token) return showLogin();
  let resp;
  try {
    resp = await fetch('/api/dashboard', {headers: {Authorization: 'Bearer ' + token}});
  } catch (e) {
    document.getElementById('updated').textContent = 'coordinator unreachable';
    return;
  }
  if (resp.status === 401) {
    sessionStorage.removeItem(KEY);
    return showLogin('That token was refused.');
  }
  if (!resp.ok) {
    document.getElementById('updated').textContent = await resp.text();
    return;
  }
  document.getElementById('login').hidden = true;
  render(await resp.json());
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('login').addEventListener('submit', ev => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, document.getElementById('token').value.trim());
    refresh();
  });
  refresh();
  setInterval(refresh, 15000);
});
)js";
}

}  // namespace vigil::coordinator
