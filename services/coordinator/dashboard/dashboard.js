'use strict';
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

// Times: every one as "2026-12-06 09:15 CET", in the zone of the tenant it
// belongs to (dashboard.h ZONE: the offsets and abbreviations the server's
// time zone database gives, the ones its summaries print), not the viewer's.
// Times of no tenant (workers, the page's own) in the tenants' zone when they
// all have the same, else in UTC.
const UTC_ZONE = {name: 'UTC', spans: [[0, 0, 'UTC']]};
let zones = {};  // tenant -> ZONE, from the last /api/dashboard
function zoneOf(tenant) { return zones[tenant] || UTC_ZONE; }
function commonZone() {
  const all = Object.values(zones);
  return all.length && all.every(z => z.name === all[0].name) ? all[0] : UTC_ZONE;
}
function pad(n) { return String(n).padStart(2, '0'); }
// The local clock of `ns` in `zone`: a Date read with its getUTC* methods.
function local(ns, zone) {
  let span = zone.spans[0];
  for (const s of zone.spans) { if (s[0] <= ns) span = s; else break; }
  return [new Date(ns / 1e6 + span[1] * 1000), span[2]];
}
function when(ns, zone) {
  if (!(ns > 0)) return '-';
  const [d, abbrev] = local(ns, zone || UTC_ZONE);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
         `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} ${abbrev}`;
}

function showLogin(message) {
  document.getElementById('login').hidden = false;
  document.getElementById('login-error').textContent = message || '';
}

function render(d) {
  const c = d.counts;
  document.getElementById('counts').textContent =
      `${c.fail} failing, ${c.unknown} unknown, ${c.pass} passing`;
  zones = d.zones || {};
  document.getElementById('updated').textContent = 'as of ' + when(d.generated_ns, commonZone());
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
    // A failed check or drill: said in the row, with its reason.
    for (const f of r.failed || []) {
      const why = el('span', `${f.kind} of ${f.backup_set} failed: ${f.reason}`, 'task-failed');
      why.title = `task ${f.id}, ${when(f.finished_ns, zoneOf(r.tenant))}`;
      ready.append(why);
    }
    // A restore point flagged by the ransomware signals: a badge in the row.
    for (const f of r.flagged || []) {
      const badge = el('span', `${f.verdict}: ${f.backup_set} ${f.point_name || ''}`.trim(),
                       'point-flag');
      badge.dataset.verdict = f.verdict;
      badge.title = `restore point taken ${when(f.point_ns, zoneOf(r.tenant))}`;
      ready.append(badge);
    }
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
    const ends = t.state === 'leased' ? when(t.lease_expires_ns, zoneOf(t.tenant)) : '';
    tr.append(el('td', String(t.id)), el('td', t.tenant), el('td', t.backup_set), el('td', t.kind),
              el('td', t.state, t.state), el('td', t.worker || '-'), el('td', String(t.attempt)),
              el('td', ends), progressCell(t));
    return tr;
  });
  document.getElementById('tasks').replaceChildren(...tasks);
  document.getElementById('tasks-grid').hidden = tasks.length === 0;
  document.getElementById('no-tasks').hidden = tasks.length !== 0;
  renderFailed(d.failed || [], 'failed', true);
  renderSignals(d.signals || [], 'signals', true);
  document.getElementById('grid').hidden = rows.length === 0;
  document.getElementById('empty').hidden = rows.length !== 0;
}

// Running checks: a bar (done / total and %, or indeterminate with counts
// when the total is unknown) and the average rates.
// "1,234" (as the CLI groups digits), whatever the viewer's locale.
function count(n) { return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
function size(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; ++i; }
  return (i === 0 ? String(Math.round(n)) : n.toFixed(1)) + ' ' + units[i];
}
function progressCell(t) {
  const td = el('td', undefined, 'progress');
  const p = t.progress;
  if (!p) {
    td.append(el('span', t.state === 'leased' ? '-' : 'waiting' + (t.waiting ? ': ' + t.waiting : ''),
                 t.waiting ? 'waiting' : 'muted'));
    return td;
  }
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

// The failed checks and drills (dashboard.h "failed") into the table
// `id` (#ID, #ID-grid, #no-ID): when, what, and every attempt's error.
function renderFailed(failed, id, withTenant) {
  const rows = failed.map(f => {
    const tr = el('tr');
    tr.dataset.task = String(f.id);
    tr.dataset.tenant = f.tenant;
    tr.dataset.backupSet = f.backup_set;
    const why = el('td', f.reason, 'reason');
    if (f.errors.length > 1) {
      const ul = el('ul');
      for (const e of f.errors) {
        ul.append(el('li', `attempt ${e.attempt} (${e.worker || 'no worker'}, ` +
                           `${when(e.at_ns, zoneOf(f.tenant))}): ${e.message}`));
      }
      why.append(ul);
    }
    tr.append(el('td', String(f.id)), ...(withTenant ? [el('td', f.tenant)] : []),
              el('td', f.backup_set), el('td', f.kind),
              el('td', when(f.finished_ns, zoneOf(f.tenant))), el('td', String(f.attempt)), why);
    return tr;
  });
  document.getElementById(id).replaceChildren(...rows);
  document.getElementById(id + '-grid').hidden = rows.length === 0;
  document.getElementById('no-' + id).hidden = rows.length !== 0;
}

// The restore points flagged by the ransomware signals (dashboard.h
// "signals") into the table `id` (#ID, #ID-grid, #no-ID): the point, its
// verdict, each signal with its counts and examples, the last clean point.
function renderSignals(flagged, id, withTenant) {
  const rows = flagged.map(f => {
    const tr = el('tr');
    tr.dataset.tenant = f.tenant;
    tr.dataset.backupSet = f.backup_set;
    tr.dataset.point = f.point_name;
    const zone = zoneOf(f.tenant);
    const sig = el('td', undefined, 'signals');
    const ul = el('ul');
    for (const s of f.signals) {
      const li = el('li', `${s.kind}: ${s.message}`);
      if (s.examples.length) li.append(el('div', 'e.g. ' + s.examples.join(', '), 'examples'));
      ul.append(li);
    }
    sig.append(ul);
    const clean = f.last_clean_ns > 0 || f.last_clean_name
        ? `${f.last_clean_name} (taken ${when(f.last_clean_ns, zone)})` : 'no clean point';
    tr.append(...(withTenant ? [el('td', f.tenant)] : []), el('td', f.backup_set),
              el('td', f.point_name || (f.point_ns === 0 ? '(the mirror)' : '-')),
              el('td', when(f.point_ns, zone)),
              el('td', f.verdict, 'cell ' + f.verdict), sig, el('td', clean, 'last-clean'));
    return tr;
  });
  document.getElementById(id).replaceChildren(...rows);
  document.getElementById(id + '-grid').hidden = rows.length === 0;
  document.getElementById('no-' + id).hidden = rows.length !== 0;
}

// What became of a history row's alert (dashboard.h): its state, and per
// delivery when it was sent, or its attempts, next attempt and last error.
function alertCell(a, zone) {
  const td = el('td');
  if (!a) return td;
  td.className = 'alert ' + a.state.replace(' ', '-');
  td.append(el('span', a.state + (a.reason ? ': ' + a.reason : '')));
  const ul = el('ul');
  for (const d of a.deliveries) {
    const to = d.channel + (d.contact ? ' (' + d.contact + ')' : '');
    let text;
    if (d.state === 'sent') {
      text = `sent ${when(d.sent_ns, zone)} to ${to}`;
    } else if (d.state === 'pending') {
      text = `${to}: ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}, next ` +
             when(d.next_attempt_ns, zone) + (d.last_error ? `, last error: ${d.last_error}` : '');
    } else {
      text = `${to}: given up ${when(d.failed_ns, zone)} after ${d.attempts} attempts: ${d.last_error}`;
    }
    ul.append(el('li', text));
  }
  if (a.deliveries.length) td.append(ul);
  return td;
}

function renderWorkers(d) {
  const rows = d.workers.map(w => {
    const tr = el('tr');
    tr.dataset.worker = w.id;
    const leases = el('td');
    const ul = el('ul');
    for (const t of w.leases) {
      ul.append(el('li', `task ${t.id} ${t.tenant}/${t.backup_set} (${t.kind}, attempt ${t.attempt}, ` +
                         `until ${when(t.lease_expires_ns, zoneOf(t.tenant))})`));
    }
    leases.append(w.leases.length ? ul : el('span', 'none', 'muted'));
    tr.append(el('td', w.id), el('td', w.site || '-'), el('td', (w.locations || []).join(', ')),
              el('td', w.capacity === undefined ? '-' : String(w.capacity)),
              el('td', when(w.registered_ns || 0, commonZone())), leases);
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

// What a chart's title says it covers: "(2 min: 2026-12-06 09:13 to 09:15
// CET)" (the date and zone once when they are the same at both ends).
function coverage(from, to, zone) {
  const a = when(from, zone), b = when(to, zone);
  const sameDay = a.slice(0, 10) === b.slice(0, 10), sameZone = a.slice(17) === b.slice(17);
  const start = sameZone ? a.slice(0, 16) : a;
  return `(${duration(to - from)}: ${start} to ${sameDay && sameZone ? b.slice(11) : b})`;
}

// One strip per commitment over the history window, coloured by verdict:
// the state before the first recorded change is that change's "from".
// The chart and the span it covers.
function timeline(d) {
  // From the first recorded change (a little before), not the whole window:
  // a young tenant's history would be a sliver at the right edge. Without
  // any change recorded, only the last minute (the verdicts now).
  const to = d.generated_ns, W = 900, L = 170, H = 22;
  const first = d.history.length ? d.history[0].at_ns : to;
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
      r.append(svg('title', {}, `${v} from ${when(a, d.zone)}`));
      chart.append(r);
    }
  });
  const y = 5 + d.commitments.length * H + 12;
  chart.append(svg('text', {x: L, y}, when(from, d.zone)));
  chart.append(svg('text', {x: W, y, 'text-anchor': 'end'}, 'now'));
  return {chart, from, to};
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

// An axis tick in the tenant's zone, as precise as the axis' span needs
// (the parts of when()'s format).
function tickLabel(ns, span, zone) {
  const [d] = local(ns, zone);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  if (span < 600e9) return `${hm}:${pad(d.getUTCSeconds())}`;
  return span < 2 * 86400e9 ? `${day.slice(5)} ${hm}` : day;
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
  const summary = `Latest ${seriesValue(s, latest[1])} at ${when(latest[0], d.zone)}; ` +
      `${s.unit === 'ratio' ? 'lowest' : 'highest'} ${seriesValue(s, worst[1])} at ` +
      when(worst[0], d.zone) +
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
                     tickLabel(t, span, d.zone)));
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
    c.append(svg('title', {}, `${when(p[0], d.zone)}: ${seriesValue(s, p[1])}` +
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
  // The span the samples cover (the window is 90 days; a young tenant's
  // samples cover minutes).
  const starts = series.filter(s => s.points.length).map(s => s.points[0][0]);
  document.getElementById('series-window').textContent = starts.length
      ? coverage(Math.min(...starts), d.generated_ns, d.zone)
      : `(nothing recorded in the last ${duration(d.generated_ns - d.from_ns)})`;
  document.getElementById('tenant-series').replaceChildren(
      ...(series.length ? series.map(s => seriesChart(s, d))
                        : [el('p', 'No RPO or integrity commitment to chart.', 'muted')]));
}

function renderTenant(d) {
  document.getElementById('tenant-title').textContent =
      d.display_name === d.tenant ? d.tenant : `${d.display_name} (${d.tenant})`;
  document.querySelector('#tenant-readiness tbody').replaceChildren(...d.readiness.map(r => {
    const tr = el('tr');
    const lost = r.site_loss || {readiness: '-', reasons: []};
    tr.append(el('td', r.asset), el('td', r.readiness, 'cell ' + r.readiness.replace(' ', '-')),
              el('td', r.reasons.join('; ')),
              el('td', lost.readiness, 'cell ' + lost.readiness.replace(' ', '-')),
              el('td', lost.reasons.join('; ')),
              el('td', r.monitored_from_ns > 0
                           ? 'not monitored before ' + when(r.monitored_from_ns, d.zone)
                                               : 'not monitored yet'));
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
              el('td', c.summary), el('td', when(c.last_check_ns, d.zone)),
              el('td', when(c.next_check_ns, d.zone)),
              ev);
    return tr;
  }));
  const strip = timeline(d);
  document.getElementById('tenant-window').textContent = d.history.length
      ? coverage(strip.from, strip.to, d.zone)
      : `(no change recorded in the last ${duration(d.generated_ns - d.from_ns)}: the verdicts now)`;
  document.getElementById('tenant-chart').replaceChildren(strip.chart);
  renderSeries(d);
  const hist = d.history.slice().reverse().map(h => {
    const tr = el('tr');
    tr.append(el('td', when(h.at_ns, d.zone)), el('td', h.asset), el('td', KIND_NAMES[h.kind] || h.kind),
              el('td', h.from || '(first seen)', 'cell ' + (h.from || 'none')),
              el('td', h.to, 'cell ' + h.to), el('td', h.summary), alertCell(h.alert, d.zone));
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
  zones[d.tenant] = d.zone;
  document.getElementById('updated').textContent = 'as of ' + when(d.generated_ns, d.zone);
  renderFailed(d.failed || [], 'tenant-failed', false);
  renderSignals(d.signals || [], 'tenant-signals', false);
  document.querySelector('#tenant-clean tbody').replaceChildren(...(d.clean_points || []).map(c => {
    const tr = el('tr');
    tr.dataset.backupSet = c.backup_set;
    tr.append(el('td', c.backup_set), el('td', c.asset),
              el('td', c.has_clean ? c.last_clean_name : 'no clean point', 'last-clean'),
              el('td', c.has_clean ? when(c.last_clean_ns, d.zone) : '-'),
              el('td', c.newest_verdict === null ? '-' : c.newest_verdict,
                 'cell ' + (c.newest_verdict || 'none')));
    return tr;
  }));
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
