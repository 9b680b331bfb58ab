// The HTML report in a real browser (the Chromium inside @sparticuz/chromium, else a system one:
// helpers/chromium.ts; headless, driven by playwright-core): the page loads offline with no
// console errors and no network request, its numbers agree with SQL, tables sort, the charts have
// their data points, findings are highlighted, an empty database gives a readable page, hostile
// values stay text. Screenshots go to test-output/.

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTrail } from '../scripts/trail-generator.js';
import { openStore } from '../src/store/schema.js';
import { findChromium } from './helpers/chromium.js';
import { runCli } from './helpers/cli.js';
import { ingestFolder, sql } from './helpers/ingest.js';
import { logObjectKey, tempDir, writeLogObject } from './helpers/log-objects.js';
import { cloudTrailRecord } from './helpers/records.js';

const OUTPUT = new URL('../test-output/', import.meta.url).pathname;

let dir: string;
let cleanup: () => void;
let db: string;
let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  const browser = await findChromium();
  mkdirSync(OUTPUT, { recursive: true });
  ({ dir, cleanup } = tempDir('keytrail-report-html-'));
  const trail = join(dir, 'trail');
  generateTrail({ out: trail, targetMb: 1, org: true });
  db = join(dir, 'kt.duckdb');
  await ingestFolder(trail, db);
  profile = mkdtempSync(join(dir, 'chromium-profile-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: browser.executablePath,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
      '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1440, height: 900 },
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  cleanup?.();
});

interface Opened {
  page: Page;
  problems: string[];
  requests: string[];
}

/** Opens a file, recording console errors and warnings, page errors, dialogs and requests. */
async function open(file: string): Promise<Opened> {
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, problems, requests };
}

async function report(out: string, ...args: string[]): Promise<void> {
  const { code, stderr } = await runCli(['report', '--format', 'html', '--out', out, ...args]);
  expect(stderr).toBe('');
  expect(code).toBe(0);
}

const numbers = (page: Page, selector: string) =>
  page.$$eval(selector, (cells) => cells.map((c) => Number(c.getAttribute('data-v'))));

describe('the HTML report in chromium', () => {
  it('loads offline with no errors; its numbers, charts, sorting and findings work', async () => {
    const file = join(OUTPUT, 'report.html');
    await report(file, '--db', db);
    const { page, problems, requests } = await open(file);
    try {
      expect(problems).toEqual([]);
      expect(requests).toEqual([pathToFileURL(file).href]); // the page itself, nothing else

      // Header totals and the principals table agree with SQL.
      const [totals] = await sql<{ calls: number; principals: number; keys: number; errors: number }>(db,
        'SELECT count(*) AS calls, count(DISTINCT identity_arn) AS principals, count(DISTINCT key_arn) AS keys, count(error_code) AS errors FROM kms_events');
      const kpi = (id: string) => page.$eval(`#kpi-${id} .value`, (e) => Number(e.textContent!.replace(/,/g, '')));
      expect(await kpi('calls')).toBe(totals.calls);
      expect(await kpi('principals')).toBe(totals.principals);
      expect(await kpi('keys')).toBe(totals.keys);
      expect(await kpi('errors')).toBe(totals.errors);
      expect(await page.textContent('#period')).toBe('1 May 2024 – 21 May 2024 (21 days, UTC)');

      const want = await sql<{ identity_arn: string; calls: number; keys: number; source_ips: number; errors: number; busiest: number }>(db, `
        WITH d AS (SELECT identity_arn, CAST(event_time AS DATE) AS day, count(*) AS n FROM kms_events GROUP BY ALL)
        SELECT e.identity_arn, count(*) AS calls, count(DISTINCT key_arn) AS keys, count(DISTINCT source_ip) AS source_ips,
               count(error_code) AS errors, (SELECT max(n) FROM d WHERE d.identity_arn = e.identity_arn) AS busiest
        FROM kms_events e GROUP BY e.identity_arn`);
      const rows = await page.$$eval('#principals-table tbody tr', (trs) => trs.map((tr) => {
        const v = (col: string) => Number(tr.querySelector(`[data-col="${col}"]`)!.getAttribute('data-v'));
        return { identity_arn: tr.getAttribute('data-identity'), calls: v('calls'), keys: v('keys'), source_ips: v('source_ips'), errors: v('errors'), busiest: v('busiest_day_calls') };
      }));
      const order = (a: { identity_arn: string | null }, b: { identity_arn: string | null }) => (a.identity_arn! < b.identity_arn! ? -1 : 1);
      expect(rows.sort(order)).toEqual(want.sort(order));

      const keyRows = await page.$$eval('#keys-table tbody tr', (trs) => trs.map((tr) => ({
        key_arn: tr.getAttribute('data-key'),
        calls: Number(tr.querySelector('[data-col="calls"]')!.getAttribute('data-v')),
        callers: Number(tr.querySelector('[data-col="callers"]')!.getAttribute('data-v')),
      })));
      const keyWant = await sql<{ key_arn: string; calls: number; callers: number }>(db,
        'SELECT key_arn, count(*) AS calls, count(DISTINCT identity_arn) AS callers FROM kms_events WHERE key_arn IS NOT NULL GROUP BY key_arn');
      const byKey = (a: { key_arn: string | null }, b: { key_arn: string | null }) => (a.key_arn! < b.key_arn! ? -1 : 1);
      expect(keyRows.sort(byKey)).toEqual(keyWant.sort(byKey));

      // Charts: a bar per day holding that day's calls; a point per day on each small chart.
      const daily = await sql<{ day: string; calls: number }>(db,
        "SELECT strftime(event_time, '%Y-%m-%d') AS day, count(*) AS calls FROM kms_events GROUP BY 1 ORDER BY 1");
      const bars = await page.$$eval('svg[data-chart="totals"] g.day', (gs) => gs.map((g) => ({ day: g.getAttribute('data-day'), calls: Number(g.getAttribute('data-calls')) })));
      expect(bars).toEqual(daily);
      expect(await page.$$eval('svg[data-chart="totals"] rect.bar', (r) => r.filter((x) => Number(x.getAttribute('height')) > 0).length)).toBe(21);
      expect(await page.$$eval('svg[data-chart="totals"] text.tick', (t) => t.length)).toBeGreaterThan(8); // axis labels
      for (const kind of ['principals', 'keys']) {
        const charts = await page.$$(`svg[data-chart="${kind}"]`);
        expect(charts.length).toBe(8);
        for (const chart of charts) {
          expect(await chart.$$eval('circle.pt', (c) => c.length)).toBe(21);
          const id = await chart.getAttribute('data-series');
          const sum = await chart.$$eval('circle.pt', (c) => c.reduce((a, x) => a + Number(x.getAttribute('data-calls')), 0));
          const column = kind === 'principals' ? 'identity_arn' : 'key_arn';
          const [{ n }] = await sql<{ n: number }>(db, `SELECT count(*) AS n FROM kms_events WHERE ${column} = ?`, [id]);
          expect(sum, id!).toBe(n);
        }
      }

      // Sorting: Calls sorts busiest first, a second click reverses; Principal sorts by name.
      const calls = () => numbers(page, '#principals-table tbody td[data-col="calls"]');
      const before = await calls();
      await page.click('#principals-table th:nth-child(4) button'); // Encrypt
      const byEncrypt = await numbers(page, '#principals-table tbody td[data-col="encrypt"]');
      expect(byEncrypt).toEqual([...byEncrypt].sort((a, b) => b - a));
      expect(await calls()).not.toEqual(before);
      await page.click('#principals-table th:nth-child(2) button'); // Calls
      expect(await calls()).toEqual([...before].sort((a, b) => b - a));
      await page.click('#principals-table th:nth-child(2) button');
      expect(await calls()).toEqual([...before].sort((a, b) => a - b));
      expect(await page.getAttribute('#principals-table th:nth-child(2)', 'aria-sort')).toBe('ascending');
      await page.click('#principals-table th:nth-child(1) button');
      const names = await page.$$eval('#principals-table tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-identity')!.toLowerCase()));
      expect(names).toEqual([...names].sort());
      await page.click('#keys-table th:nth-child(3) button'); // Calls
      const keyCalls = await numbers(page, '#keys-table tbody td[data-col="calls"]');
      expect(keyCalls).toEqual([...keyCalls].sort((a, b) => b - a));

      // Filtering.
      await page.fill('input[data-table="principals-table"]', 'securityaudit');
      expect(await page.$$eval('#principals-table tbody tr:not([hidden])', (r) => r.length)).toBe(3);
      expect(await page.textContent('#principals-count')).toBe('3');
      await page.fill('input[data-table="principals-table"]', '');

      // Findings: the detections' list, each row marked by severity, high ones in red.
      const findings = JSON.parse((await runCli(['detect', '--db', db, '--format', 'json'])).stdout) as Array<{ severity: string }>;
      expect(await page.$$eval('#findings-table tbody tr', (r) => r.length)).toBe(findings.length);
      for (const sev of ['high', 'medium', 'low']) {
        expect(await page.$$eval(`#findings-table tr.row-${sev}`, (r) => r.length)).toBe(findings.filter((f) => f.severity === sev).length);
      }
      expect(await page.$eval('#findings-table tr.row-high .badge', (b) => getComputedStyle(b).color)).toBe('rgb(180, 35, 24)');
      expect(await page.$eval('#findings-table tr.row-low .badge', (b) => getComputedStyle(b).color)).not.toBe('rgb(180, 35, 24)');
      // Numbers are right-aligned.
      expect(await page.$eval('#principals-table td[data-col="calls"]', (c) => getComputedStyle(c).textAlign)).toBe('right');

      await page.reload();
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(OUTPUT, 'report.png'), fullPage: true });
      await page.screenshot({ path: join(OUTPUT, 'report-top.png') });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 120_000);

  it('table headers never overlap or spill out of their cells at 1,024 and 1,400 px', async () => {
    const file = join(OUTPUT, 'report-headers.html');
    await report(file, '--db', db);
    const { page, problems } = await open(file);
    try {
      for (const width of [1024, 1400]) {
        await page.setViewportSize({ width, height: 900 });
        const tables = await page.$$eval('table', (ts) => ts.map((t) => {
          const cells = Array.from(t.tHead!.rows[0]!.cells).map((th) => {
            const cell = th.getBoundingClientRect();
            const label = (th.querySelector('button') ?? th).getBoundingClientRect();
            return {
              text: th.textContent!.trim(), left: cell.left, right: cell.right, labelLeft: label.left, labelRight: label.right,
              overflow: th.scrollWidth - th.clientWidth,
            };
          });
          return { id: t.id, cells };
        }));
        expect(tables.map((t) => t.id)).toEqual(expect.arrayContaining(['findings-table', 'principals-table', 'keys-table', 'scope-table']));
        for (const { id, cells } of tables) {
          for (const [i, c] of cells.entries()) {
            const where = `${id} "${c.text}" at ${width} px`;
            // the label (with its sort arrow) stays inside its own cell: nothing clipped, nothing spilled
            expect(c.labelLeft, where).toBeGreaterThanOrEqual(c.left - 0.5);
            expect(c.labelRight, where).toBeLessThanOrEqual(c.right + 0.5);
            expect(c.overflow, where).toBeLessThanOrEqual(0);
            const next = cells[i + 1];
            if (next) expect(c.labelRight, `${where} runs into "${next.text}"`).toBeLessThanOrEqual(next.labelLeft);
          }
        }
        await page.locator('#principals-table thead').screenshot({ path: join(OUTPUT, `report-headers-${width}.png`) });
      }
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 120_000);

  it('an empty database gives a readable page that says there is no data', async () => {
    const empty = join(dir, 'empty.duckdb');
    (await openStore(empty)).close();
    const file = join(OUTPUT, 'report-empty.html');
    await report(file, '--db', empty);
    const { page, problems } = await open(file);
    try {
      expect(problems).toEqual([]);
      expect(await page.textContent('#no-data h2')).toBe('No KMS events');
      expect(await page.textContent('#no-data p')).toContain('There are no KMS events in');
      expect(await page.$eval('#kpi-calls .value', (e) => e.textContent)).toBe('0');
      expect(await page.$$('table')).toHaveLength(0);
      expect(await page.textContent('#period')).toBe('no events in the database');
      await page.screenshot({ path: join(OUTPUT, 'report-empty.png'), fullPage: true });
    } finally {
      await page.close();
    }
  }, 60_000);

  it('hostile values in the data stay text', async () => {
    const hostile = join(dir, 'hostile');
    writeLogObject(hostile, logObjectKey('111111111111', 'us-east-1', '2024-05-01T10:05:00Z'), [
      cloudTrailRecord({ user: '<img src=x onerror=alert(1)>', sourceIp: '"><script>alert(2)</script>' }),
      cloudTrailRecord({ user: "x' onmouseover='alert(3)", keyId: '</td><script>alert(4)</script>', errorCode: '<svg onload=alert(5)>' }),
    ]);
    const hdb = join(dir, 'hostile.duckdb');
    await ingestFolder(hostile, hdb);
    const file = join(OUTPUT, 'report-hostile.html');
    await report(file, '--db', hdb);
    expect(readFileSync(file, 'utf8').match(/<script/g)).toHaveLength(1);
    const { page, problems } = await open(file);
    try {
      await page.hover('#principals-table tbody tr:first-child td');
      expect(problems).toEqual([]);
      expect(await page.$$('img, svg[onload], [onmouseover], [onerror]')).toHaveLength(0);
      expect(await page.$$eval('script', (s) => s.length)).toBe(1);
      const text = await page.textContent('#principals-table');
      expect(text).toContain('<img src=x onerror=alert(1)>');
      expect(await page.textContent('#keys-table')).toContain('</td><script>alert(4)</script>');
    } finally {
      await page.close();
    }
  }, 60_000);
});
