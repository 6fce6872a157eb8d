'use strict';
// The dashboard in a real browser: playwright-core drives Debian's chromium
// (headless) against a live coordinator. Run by
// tests/integration/dashboard_e2e_test.cc, which starts the coordinator and a
// worker and passes, in the environment:
//
//   VIGIL_URL          the coordinator's --http-listen base URL
//   VIGIL_TOKEN        the admin token (typed into the page's login form)
//   VIGIL_TENANT       the tenant whose row must appear
//   VIGIL_DAMAGE_CMD   a shell command that damages a backed-up file and runs
//                      `vigil check run TENANT --wait` (exit 1 expected)
//   VIGIL_CHECK_CMD    a shell command that queues a check without waiting
//                      (the worker is slow enough for its progress to show)
//   VIGIL_FAIL_CMD     a shell command that makes the backup set's path a
//                      symbolic link (never followed) and runs `vigil check run TENANT --wait` (exit 1
//                      expected: the check fails)
//   VIGIL_TENANT_ZONE  the tenant's time zone abbreviations, "CET|CEST"
//   VIGIL_SIGNAL       the message of the ransomware signal the test gave the
//                      tenant's restore point (its verdict: suspicious)
//   VIGIL_ARTIFACTS    where the screenshots go
//   CHROMIUM           the browser (default /usr/bin/chromium)
//
// Plain node, no test runner: exits 0 on success, 1 with a message otherwise.
const {execSync} = require('child_process');
const path = require('path');
const {chromium} = require('playwright-core');

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function step(message) {
  console.log(`[dashboard.spec] ${message}`);
}

// Reloads until `selector` is in the grid (the grid comes from a status
// cached for up to --metrics-refresh, and the page polls only every 15 s).
async function reloadUntil(page, selector, what, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await page.locator(selector).count() > 0) return;
    if (Date.now() > deadline) {
      const grid = await page.locator('#grid').innerText().catch(() => '(no grid)');
      throw new Error(`${what}: not shown after ${timeoutMs} ms; grid:\n${grid}`);
    }
    await page.waitForTimeout(500);
    await page.reload();
    await page.locator('#counts').filter({hasText: 'passing'}).waitFor({timeout: 10000});
  }
}

async function main() {
  const url = need('VIGIL_URL');
  const token = need('VIGIL_TOKEN');
  const tenant = need('VIGIL_TENANT');
  const damage = need('VIGIL_DAMAGE_CMD');
  const check = need('VIGIL_CHECK_CMD');
  const fail = need('VIGIL_FAIL_CMD');
  const zone = need('VIGIL_TENANT_ZONE');
  const signal = need('VIGIL_SIGNAL');
  const artifacts = need('VIGIL_ARTIFACTS');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    // The viewer is in New York with a US locale: the page must still show
    // the tenant's times in the tenant's zone, in its one format.
    const page = await browser.newPage({viewport: {width: 1280, height: 720},
                                        timezoneId: 'America/New_York', locale: 'en-US'});
    const errors = [];
    page.on('pageerror', e => errors.push(String(e)));
    // Failed requests count, except the browser's own favicon probe (the
    // coordinator serves none); their console echo is left to this.
    page.on('response', r => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) {
        errors.push(`${r.status()} ${r.url()}`);
      }
    });
    page.on('console', m => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
        errors.push(m.text());
      }
    });

    step(`open ${url}`);
    await page.goto(url);
    // No token yet: the login form, and no data on the page.
    await page.locator('#login').waitFor({state: 'visible', timeout: 10000});
    await page.fill('#token', token);
    await page.click('#login button[type=submit]');
    await page.locator('#grid').waitFor({state: 'visible', timeout: 10000});
    const row = `#rows tr[data-tenant="${tenant}"]`;
    await reloadUntil(page, `${row} td.cell[data-kind="integrity"].pass`,
                      `${tenant}'s integrity passing`);
    if (!(await page.locator(row).first().innerText()).includes(tenant)) {
      throw new Error(`the row does not name ${tenant}`);
    }
    await page.screenshot({path: path.join(artifacts, 'dashboard-pass.png'), fullPage: true});
    step('grid shows the tenant, integrity passing');

    // The suspicious restore point: a badge in the row, a row of the
    // "Ransomware signals" table with its signal and no clean point.
    await page.locator(`${row} .point-flag[data-verdict="suspicious"]`).first()
        .waitFor({timeout: 10000});
    const flagged = page.locator(`#signals tr[data-tenant="${tenant}"]`).first();
    await flagged.waitFor({timeout: 10000});
    const flaggedText = await flagged.innerText();
    for (const want of ['suspicious', signal, 'README-DECRYPT.txt', 'no clean point']) {
      if (!flaggedText.includes(want)) {
        throw new Error(`the ransomware signals row lacks "${want}": ${flaggedText}`);
      }
    }
    await page.screenshot({path: path.join(artifacts, 'dashboard-signals.png'), fullPage: true});
    step('grid shows the suspicious point and its signal');

    step(`damage: ${damage}`);
    try {
      execSync(damage, {stdio: 'inherit'});
      throw new Error('the check run after the damage succeeded');
    } catch (e) {
      if (e.status !== 1) throw e;  // 1: the check found the damage
    }
    // The token survives a reload (sessionStorage): no login again.
    await reloadUntil(page, `${row} td.cell[data-kind="integrity"].fail`,
                      `${tenant}'s integrity failing`);
    if (await page.locator('#login').isVisible()) throw new Error('asked for the token again');
    // Failing rows come first.
    const first = await page.locator('#rows tr').first().getAttribute('data-tenant');
    if (first !== tenant) throw new Error(`first row is ${first}, not ${tenant}`);
    await page.screenshot({path: path.join(artifacts, 'dashboard-fail.png'), fullPage: true});
    step('grid shows the integrity cell failing');

    // The workers list: the one worker, registered at the test's site.
    await page.locator('#workers tr td:nth-child(2)', {hasText: 's1'}).first()
        .waitFor({timeout: 10000});
    step('workers list shows the worker');

    // The tenant page: a click on the row; its commitments with evidence,
    // the watcher's transition to fail in the history and the chart.
    await page.locator(row).first().click();
    await page.locator('#tenant-page').waitFor({state: 'visible', timeout: 10000});
    await page.locator('#tenant-commitments tr[data-kind="integrity"] td.fail')
        .waitFor({timeout: 10000});
    if (await page.locator('#tenant-commitments li').count() === 0) {
      throw new Error('no evidence on the tenant page');
    }
    await reloadUntil(page, '#tenant-history td.fail', 'the transition to fail in the history');
    // Its alert: the test applies no alert channel, so it was never sent, and
    // the history says so and why (it used to say "sent").
    const alert = page.locator('#tenant-history tbody tr:has(td.fail) td.alert').first();
    await alert.waitFor({timeout: 10000});
    const alertText = await alert.innerText();
    if (!alertText.includes('not sent: no alert channel serves it')) {
      throw new Error(`the alert of the transition to fail reads "${alertText}"`);
    }
    step('history says the alert was not sent: no channel serves it');
    await page.locator('#tenant-chart rect[data-verdict="fail"]').first()
        .waitFor({state: 'attached', timeout: 10000});
    if (!(await page.locator('#tenant-title').innerText()).includes(tenant)) {
      throw new Error('the tenant page does not name the tenant');
    }
    // The numeric history: the RPO-age chart with at least one plotted
    // sample and the contract's RPO as its limit line (24 h in the test's
    // contract), and the coverage chart with its 100 % target.
    const rpoChart = '#tenant-series figure[data-kind="rpo"] svg.series-chart';
    await page.locator(`${rpoChart} circle.pt`).first().waitFor({state: 'attached', timeout: 10000});
    const samples = await page.locator(`${rpoChart} circle.pt`).count();
    if (samples < 1) throw new Error('no sample plotted on the RPO-age chart');
    const limit = await page.locator(`${rpoChart} line.limit`).getAttribute('data-limit');
    if (Number(limit) !== 24 * 3600 * 1e9) throw new Error(`RPO limit line at ${limit}, not 24 h`);
    if (!(await page.locator(`${rpoChart} text.limit-label`).textContent()).includes('RPO 24 h')) {
      throw new Error('the RPO limit line is not labelled');
    }
    const label = await page.locator(rpoChart).getAttribute('aria-label');
    if (!label.includes('RPO age') || !label.includes('Latest')) {
      throw new Error(`the RPO-age chart has no text summary: ${label}`);
    }
    await page.locator('#tenant-series figure[data-kind="integrity"] svg.series-chart line.limit')
        .waitFor({state: 'attached', timeout: 10000});
    // Times: "2026-12-06 09:15 CET", in the tenant's zone, whatever the
    // viewer's; the charts' titles give the span their data covers.
    const stamp = new RegExp(`^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} (${zone})$`);
    const lastChecks = (await page.locator('#tenant-commitments tbody td:nth-child(5)')
        .allInnerTexts()).filter(t => t !== '-');  // '-': never checked
    const historyTimes = await page.locator('#tenant-history tbody td:nth-child(1)').allInnerTexts();
    for (const t of [...lastChecks, ...historyTimes]) {
      if (!stamp.test(t)) throw new Error(`a time not in the tenant's zone and format: "${t}"`);
    }
    if (lastChecks.length === 0 || historyTimes.length === 0) throw new Error('no time shown');
    const span = new RegExp(`^\\(\\d+(\\.\\d)? (s|min|h|d): \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}`);
    for (const id of ['#series-window', '#tenant-window']) {
      const title = await page.locator(id).innerText();
      if (!span.test(title)) throw new Error(`${id} does not say the span it covers: "${title}"`);
    }
    step(`times in the tenant's zone: ${lastChecks[0]}; series ` +
         await page.locator('#series-window').innerText());
    await page.screenshot({path: path.join(artifacts, 'dashboard-tenant.png'), fullPage: true});
    await page.locator('#tenant-series').screenshot(
        {path: path.join(artifacts, 'dashboard-tenant-series.png')});
    step(`tenant page shows evidence, history, the verdict strip and the RPO-age chart ` +
         `(${samples} samples)`);
    // Its ransomware signals and each set's last clean point (none here).
    const tenantFlag = page.locator('#tenant-signals tr td.suspicious').first();
    await tenantFlag.waitFor({timeout: 10000});
    const cleanText = await page.locator('#tenant-clean td.last-clean').first().innerText();
    if (cleanText !== 'no clean point') {
      throw new Error(`the tenant page's last clean point reads "${cleanText}"`);
    }
    step('tenant page shows the suspicious point and that no point is clean');

    // A running check's progress: a check queued without waiting (the worker
    // sends one file per batch, slowed down by the test), its task in
    // "Checks in progress" with a bar out of the set's known total.
    step(`check: ${check}`);
    execSync(check, {stdio: 'inherit'});
    // First on the tenant's page (its checks in progress, queued or running).
    // (Already on that page: reload it to fetch it again.)
    await page.goto(`${url}#tenant=${encodeURIComponent(tenant)}`);
    await page.reload();
    await page.locator('#tenant-page').waitFor({state: 'visible', timeout: 10000});
    await page.locator('#tenant-tasks td.progress').first().waitFor({timeout: 10000});
    step('tenant page lists the check in progress');
    await page.goto(url);
    await reloadUntil(page, '#tasks td.progress progress[value]',
                      'a running check with its progress bar');
    const progress = await page.locator('#tasks td.progress').first().innerText();
    if (!/ \/ \d+ files/.test(progress)) throw new Error(`no total in the progress: ${progress}`);
    await page.screenshot({path: path.join(artifacts, 'dashboard-progress.png'), fullPage: true});
    step(`running check shows its progress: ${progress}`);

    // A check that fails (the set's path a symbolic link): its reason in the
    // tenant's row and in "Failed checks", then on the tenant's page.
    step(`fail: ${fail}`);
    try {
      execSync(fail, {stdio: 'inherit'});
      throw new Error('the check run through a symbolic link succeeded');
    } catch (e) {
      if (e.status !== 1) throw e;
    }
    await reloadUntil(page, `${row} td.readiness span.task-failed`, 'the failed check in the row');
    const inRow = await page.locator(`${row} span.task-failed`).first().innerText();
    if (!inRow.includes('is a symbolic link, not followed')) throw new Error(`row says "${inRow}"`);
    const listed = await page.locator('#failed tr td.reason').first().innerText();
    if (!listed.includes('is a symbolic link, not followed')) throw new Error(`list says "${listed}"`);
    await page.screenshot({path: path.join(artifacts, 'dashboard-failed.png'), fullPage: true});
    await page.goto(`${url}#tenant=${encodeURIComponent(tenant)}`);
    await page.reload();
    await page.locator('#tenant-failed tr td.reason').first().waitFor({timeout: 10000});
    const onPage = await page.locator('#tenant-failed tr td.reason').first().innerText();
    if (!onPage.includes('is a symbolic link, not followed')) throw new Error(`page says "${onPage}"`);
    step(`failed check shown with its reason: ${inRow}`);
    if (errors.length > 0) throw new Error('errors in the page:\n' + errors.join('\n'));
  } finally {
    await browser.close();
  }
}

main().then(() => step('ok'), e => {
  console.error(`[dashboard.spec] FAIL: ${e.stack || e}`);
  process.exit(1);
});
