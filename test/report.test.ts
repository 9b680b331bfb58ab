// keytrail report on a generated trail: the numbers of every format (JSON, CSV, Markdown) agree
// with direct SQL over kms_events, for the whole database and for a period and an account; the
// findings are the detections' in the same period; an empty database gives a readable "no data"
// report; hostile values come out escaped.
//
// The HTML report in a real browser (the Chromium inside @sparticuz/chromium, else a system one:
// helpers/chromium.ts; headless, driven by playwright-core): the page loads offline with no
// console errors and no network request, its numbers agree with SQL, tables sort, the charts have
// their data points, findings are highlighted, an empty database gives a readable page, hostile
// values stay text. Screenshots go to test-output/.
//
// One file for both: they read the same generated trail, whose generation and ingest (1,351 log
// objects) is the largest cost of either, and is done once here.

import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTrail } from '../scripts/trail-generator.js';
import { DuckDBEngine } from '../src/engine.js';
import { collectReport } from '../src/report/collect.js';
import { csvCell, renderCsvTable } from '../src/report/render/csv.js';
import { renderHtml } from '../src/report/render/html.js';
import { renderMarkdown } from '../src/report/render/markdown.js';
import { Store } from '../src/store/db.js';
import { openStore } from '../src/store/schema.js';
import { findChromium } from './helpers/chromium.js';
import { runCli } from './helpers/cli.js';
import { ingestFolder } from './helpers/ingest.js';
import { logObjectKey, tempDir, writeLogObject } from './helpers/log-objects.js';
import { cloudTrailRecord } from './helpers/records.js';

let dir: string;
let cleanup: () => void;
let db: string;

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('keytrail-report-'));
  const trail = join(dir, 'trail');
  generateTrail({ out: trail, targetMb: 1, org: true });
  db = join(dir, 'kt.duckdb');
  await ingestFolder(trail, db);
}, 120_000);
afterAll(() => cleanup?.());

/** A value made on first use, then shared: tests that read the same output need not make it again. */
const once = <T>(make: () => T): (() => T) => {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
};

/** `keytrail detect --format json` on the sample database, run once for the tests that compare with it. */
const detections = once(async () => {
  const { code, stdout } = await runCli(['detect', '--db', db, '--format', 'json']);
  expect(code).toBe(0);
  return JSON.parse(stdout) as Rec[];
});

/** An empty database (the schema, no events), made once for the text and the browser tests that read it. */
const emptyDb = once(async () => {
  const empty = join(dir, 'empty.duckdb');
  (await openStore(empty)).close();
  return empty;
});

/**
 * A database of hostile values, ingested once for the text and the browser tests (an ingest is
 * ~0.45 CPU-s): each of them sees every hostile record, its own and the other's.
 */
const hostileDb = once(async () => {
  const hostile = join(dir, 'hostile');
  writeLogObject(hostile, logObjectKey('111111111111', 'us-east-1', '2024-05-01T10:05:00Z'), [
    cloudTrailRecord({ user: '<img src=x onerror=alert(1)>', sourceIp: '"><script>alert(2)</script>', eventName: 'Decrypt|<b>x</b>' }),
    cloudTrailRecord({ user: 'bob`|*_[x](javascript:alert(3))', keyId: '</td><script>alert(4)</script>' }),
    cloudTrailRecord({ user: '<img src=x onerror=alert(1)>', sourceIp: '"><script>alert(2)</script>' }),
    cloudTrailRecord({ user: "x' onmouseover='alert(3)", keyId: '</td><script>alert(4)</script>', errorCode: '<svg onload=alert(5)>' }),
  ]);
  const hdb = join(dir, 'hostile.duckdb');
  await ingestFolder(hostile, hdb);
  return hdb;
});

// ---- ground truth: plain SQL over kms_events, written independently of queries/reports ---------

interface Scope { since?: string; until?: string; account?: string }

function where(s: Scope): string {
  const parts = ['true'];
  if (s.since) parts.push(`event_time >= TIMESTAMP '${s.since} 00:00:00'`);
  if (s.until) parts.push(`event_time < TIMESTAMP '${s.until} 00:00:00' + INTERVAL 1 DAY`);
  if (s.account) parts.push(`account_id = '${s.account}'`);
  return parts.join(' AND ');
}

/** The report's numbers by plain SQL, on one read-only connection (an open per query costs ~0.06 CPU-s). */
async function truth(s: Scope = {}) {
  const w = where(s);
  const store = await Store.open(db, { readOnly: true });
  const q = (query: string) => store.all(query);
  try {
    const summary = (await q(`SELECT count(*) AS calls, count(DISTINCT identity_arn) AS principals, count(DISTINCT key_arn) AS keys,
        count(DISTINCT source_ip) AS source_ips, count(error_code) AS errors, min(event_time) AS first_event, max(event_time) AS last_event
        FROM kms_events WHERE ${w}`))[0];
    const principals = await q(`
        WITH per_day AS (SELECT identity_arn, CAST(event_time AS DATE) AS day, count(*) AS n FROM kms_events WHERE ${w} GROUP BY 1, 2)
        SELECT e.identity_arn, count(*) AS calls, sum(CASE WHEN event_name = 'Decrypt' THEN 1 ELSE 0 END) AS decrypt,
               sum(CASE WHEN event_name = 'Encrypt' THEN 1 ELSE 0 END) AS encrypt,
               sum(CASE WHEN starts_with(event_name, 'GenerateDataKey') THEN 1 ELSE 0 END) AS generate_data_key,
               count(DISTINCT key_arn) AS keys, count(DISTINCT source_ip) AS source_ips, count(error_code) AS errors,
               min(event_time) AS first_seen, max(event_time) AS last_seen,
               (SELECT first(day ORDER BY n DESC, day) FROM per_day p WHERE p.identity_arn = e.identity_arn) AS busiest_day,
               (SELECT max(n) FROM per_day p WHERE p.identity_arn = e.identity_arn) AS busiest_day_calls
        FROM kms_events e WHERE ${w} GROUP BY e.identity_arn ORDER BY e.identity_arn`);
    const keys = await q(`SELECT key_arn, count(*) AS calls, count(DISTINCT identity_arn) AS callers, count(error_code) AS errors,
        sum(CASE WHEN event_name = 'Decrypt' THEN 1 ELSE 0 END) AS decrypt, max(event_time) AS last_seen
        FROM kms_events WHERE key_arn IS NOT NULL AND ${w} GROUP BY key_arn ORDER BY key_arn`);
    const keyCallers = await q(`SELECT key_arn, identity_arn, count(*) AS calls FROM kms_events
        WHERE key_arn IS NOT NULL AND ${w} GROUP BY ALL ORDER BY key_arn, identity_arn`);
    const daily = await q(`SELECT strftime(event_time, '%Y-%m-%d') AS day, count(*) AS calls, count(error_code) AS errors
        FROM kms_events WHERE ${w} GROUP BY 1 ORDER BY 1`);
    const operations = await q(`SELECT identity_arn, event_name, count(*) AS calls FROM kms_events WHERE ${w} GROUP BY ALL
        ORDER BY identity_arn, event_name`);
    return { summary, principals, keys, keyCallers, daily, operations };
  } finally {
    store.close();
  }
}

/** The whole database's numbers, for the tests that compare a report of it with them. */
const wholeTruth = once(() => truth());

type Rec = Record<string, unknown>;
const byId = (rows: Rec[], ...cols: string[]) => new Map(rows.map((r) => [cols.map((c) => String(r[c])).join(' '), r]));
const pick = (r: Rec, cols: string[]) => Object.fromEntries(cols.map((c) => [c, r[c]]));
/** Rows in a fixed order (code-unit order of the given columns), whatever order they came in. */
const sorted = (rows: Rec[], ...cols: string[]) => {
  const id = (r: Rec) => cols.map((c) => String(r[c])).join('\u0000');
  return [...rows].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
};

const PRINCIPAL_COLS = ['identity_arn', 'calls', 'decrypt', 'encrypt', 'generate_data_key', 'keys', 'source_ips', 'errors',
  'first_seen', 'last_seen', 'busiest_day', 'busiest_day_calls'];
const KEY_COLS = ['key_arn', 'calls', 'callers', 'errors', 'decrypt', 'last_seen'];

async function reportJson(...args: string[]) {
  const { code, stdout, stderr } = await runCli(['report', '--db', db, '--format', 'json', ...args]);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as Record<string, unknown> & {
    summary: Rec; principals: Rec[]; keys: Rec[]; key_callers: Rec[]; daily_totals: Rec[]; principal_operations: Rec[];
    findings: { status: string; items: Rec[]; by_severity: Record<string, number> }; report: Rec;
  };
}

function expectAgrees(json: Awaited<ReturnType<typeof reportJson>>, t: Awaited<ReturnType<typeof truth>>) {
  expect(t.summary.calls).toBeGreaterThan(0);
  expect(pick(json.summary, Object.keys(t.summary))).toEqual(t.summary);
  expect(sorted(json.principals, 'identity_arn').map((r) => pick(r, PRINCIPAL_COLS))).toEqual(sorted(t.principals, 'identity_arn'));
  expect(sorted(json.keys, 'key_arn').map((r) => pick(r, KEY_COLS))).toEqual(sorted(t.keys, 'key_arn'));
  expect(sorted(json.key_callers, 'key_arn', 'identity_arn').map((r) => pick(r, ['key_arn', 'identity_arn', 'calls']))).toEqual(sorted(t.keyCallers, 'key_arn', 'identity_arn'));
  expect(json.daily_totals.map((r) => pick(r, ['day', 'calls', 'errors']))).toEqual(t.daily);
  expect(sorted(json.principal_operations, 'identity_arn', 'event_name').map((r) => pick(r, ['identity_arn', 'event_name', 'calls'])))
    .toEqual(sorted(t.operations, 'identity_arn', 'event_name'));
  // Each principal's operation columns add up to its calls.
  for (const p of json.principals) {
    const sum = ['decrypt', 'encrypt', 'generate_data_key', 'other_crypto', 'describe_list', 'management'].reduce((a, c) => a + Number(p[c]), 0);
    expect(sum).toBe(p.calls);
  }
}

describe('keytrail report numbers', () => {
  it('JSON: every section agrees with SQL over kms_events, and the findings are the detections', async () => {
    const json = await reportJson();
    expectAgrees(json, await wholeTruth());
    const meta = json.report;
    expect(meta.accounts).toEqual(['111111111111', '222222222222', '333333333333']);
    expect(meta.first_day).toBe('2024-05-01');
    expect(meta.source).toBe(db);
    // The daily series follow the top principals and keys, busiest first.
    const top = (json.principals as Rec[]).slice(0, 8).map((p) => p.identity_arn);
    expect([...new Set((json.daily_principals as Rec[]).map((r) => r.identity_arn))]).toEqual(top);

    const findings = await detections();
    expect(findings.length).toBeGreaterThan(0);
    expect(json.findings.status).toBe('ok');
    expect(sorted(json.findings.items, 'rule', 'first_seen', 'identity_arn', 'key_arn'))
      .toEqual(sorted(findings, 'rule', 'first_seen', 'identity_arn', 'key_arn'));
    expect(Object.values(json.findings.by_severity).reduce((a, b) => a + b, 0)).toBe(findings.length);
  }, 60_000);

  it('JSON with --since, --until and --account agrees with the same filter in SQL', async () => {
    const scope = { since: '2024-05-15', until: '2024-05-19', account: '222222222222' };
    const json = await reportJson('--since', scope.since, '--until', scope.until, '--account', scope.account, '--top', '3');
    expectAgrees(json, await truth(scope));
    expect(json.report).toMatchObject({ first_day: '2024-05-15', last_day: '2024-05-19', accounts: ['222222222222'], top: 3 });
    expect(new Set((json.daily_principals as Rec[]).map((r) => r.identity_arn)).size).toBe(3);
    // Findings: the detections reported from --since, starting before the end of --until, in the account.
    const detect = JSON.parse((await runCli(['detect', '--db', db, '--format', 'json', '--since', scope.since])).stdout) as Rec[];
    const expected = detect.filter((f) => String(f.first_seen) < '2024-05-20' && f.account_id === scope.account);
    expect(expected.length).toBeGreaterThan(0);
    expect(sorted(json.findings.items, 'rule', 'first_seen', 'identity_arn', 'key_arn'))
      .toEqual(sorted(expected, 'rule', 'first_seen', 'identity_arn', 'key_arn'));
  }, 60_000);

  it('CSV: one file per section, agreeing with SQL; --section prints one', async () => {
    const out = join(dir, 'csv');
    const { code } = await runCli(['report', '--db', db, '--format', 'csv', '--out', out, '--no-findings']);
    expect(code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'daily_keys.csv', 'daily_principals.csv', 'daily_totals.csv', 'findings.csv', 'key_callers.csv', 'key_configuration.csv', 'key_operations.csv',
      'keys.csv', 'principal_operations.csv', 'principals.csv', 'scope.csv', 'summary.csv',
    ]);
    const table = (name: string) => parseCsv(readFileSync(join(out, `${name}.csv`), 'utf8'));
    const t = await wholeTruth();
    const numeric = (rows: Rec[]) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, /^\d+$/.test(String(v)) ? Number(v) : v])));
    expect(pick(numeric(table('summary'))[0], Object.keys(t.summary))).toEqual(t.summary);
    expect(sorted(numeric(table('principals')), 'identity_arn').map((r) => pick(r, PRINCIPAL_COLS))).toEqual(sorted(t.principals, 'identity_arn'));
    expect(sorted(numeric(table('keys')), 'key_arn').map((r) => pick(r, KEY_COLS))).toEqual(sorted(t.keys, 'key_arn'));
    expect(sorted(numeric(table('key_callers')), 'key_arn', 'identity_arn').map((r) => pick(r, ['key_arn', 'identity_arn', 'calls']))).toEqual(sorted(t.keyCallers, 'key_arn', 'identity_arn'));
    expect(numeric(table('daily_totals')).map((r) => pick(r, ['day', 'calls', 'errors']))).toEqual(t.daily);
    expect(table('keys')[0]).toHaveProperty('key_state');

    const one = await runCli(['report', '--db', db, '--format', 'csv', '--section', 'principals', '--no-findings']);
    expect(one.code).toBe(0);
    expect(one.stdout).toBe(readFileSync(join(out, 'principals.csv'), 'utf8'));
  }, 60_000);

  it('Markdown: the principals, keys and calls-per-day tables agree with SQL', async () => {
    const { code, stdout } = await runCli(['report', '--db', db]); // md is the default
    expect(code).toBe(0);
    expect(stdout).toMatch(/^# KMS key usage report\n/);
    const t = await wholeTruth();
    const principals = mdTable(stdout, '## Principals');
    expect(principals.length).toBe(t.principals.length);
    const truthP = byId(t.principals, 'identity_arn');
    for (const row of principals) {
      const want = truthP.get(row.Principal)!;
      expect(want, row.Principal).toBeDefined();
      expect([row.Calls, row.Decrypt, row.Keys, row['Source IPs'], row.Errors].map(num))
        .toEqual([want.calls, want.decrypt, want.keys, want.source_ips, want.errors]);
      expect(row['Busiest day']).toBe(`${want.busiest_day} (${Number(want.busiest_day_calls).toLocaleString('en-US')})`);
    }
    const keys = mdTable(stdout, '## Keys');
    const truthK = byId(t.keys, 'key_arn');
    expect(keys.length).toBe(t.keys.length);
    for (const row of keys) expect([row.Calls, row.Callers, row.Errors].map(num)).toEqual([truthK.get(row.Key)!.calls, truthK.get(row.Key)!.callers, truthK.get(row.Key)!.errors]);
    const daily = mdTable(stdout, '## Calls per day');
    expect(daily.map((r) => ({ day: r.Day, calls: num(r['All calls']), errors: num(r.Errors) }))).toEqual(t.daily);
    expect(stdout).toContain('## Findings');
  }, 60_000);

  it('HTML: one self-contained file that fetches nothing', async () => {
    const out = join(dir, 'report.html');
    const { code } = await runCli(['report', '--db', db, '--out', out]); // the format from the extension
    expect(code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(`Content-Security-Policy" content="default-src &#39;none&#39;`);
    expect(html).not.toMatch(/\s(src|href)=/i); // no scripts, styles, images or links to load
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  }, 60_000);
});

describe('keytrail report edge cases', () => {
  it('an empty database gives a readable report that says there is no data', async () => {
    const empty = await emptyDb();
    const md = await runCli(['report', '--db', empty]);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('## No data');
    expect(md.stdout).toContain('There are no KMS events in');
    const json = JSON.parse((await runCli(['report', '--db', empty, '--format', 'json'])).stdout);
    expect(json.summary.calls).toBe(0);
    expect(json.principals).toEqual([]);
    expect(json.findings.status).toBe('ok');
    const html = await runCli(['report', '--db', empty, '--format', 'html']);
    expect(html.code).toBe(0);
    expect(html.stdout).toContain('<h2>No KMS events</h2>');
  }, 60_000);

  it('rejects bad usage with exit code 2', async () => {
    const cases = [
      ['--account', '12345'],
      ['--since', '2024-05-10', '--until', '2024-05-01'],
      ['--since', 'yesterday'],
      ['--format', 'csv'],
      ['--format', 'html', '--section', 'principals'],
      ['--format', 'csv', '--section', 'nope'],
      ['--format', 'pdf'],
      ['--top', '0'],
    ];
    for (const args of cases) {
      const { code, stderr } = await runCli(['report', '--db', db, ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(/keytrail report: /);
    }
    const missing = await runCli(['report', '--db', join(dir, 'none.duckdb')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such database/);
    const help = await runCli(['report', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: keytrail report/);
  }, 60_000);

  it('without the key state view and without detections, says what is missing and reports the rest', async () => {
    const bare = join(dir, 'bare.duckdb');
    const store = await openStore(bare);
    await store.run(`INSERT INTO kms_events (event_key, event_id, record_hash, event_time, event_name, identity_arn, key_arn, account_id, source_object)
      VALUES (md5_number('e1|h1'), 'e1', 'h1', TIMESTAMP '2024-05-01 10:00:00', 'Decrypt', 'arn:aws:iam::111111111111:role/App',
              'arn:aws:kms:us-east-1:111111111111:key/k1', '111111111111', 'x')`);
    await store.run('DROP VIEW kms_key_state');
    store.close();
    const engine = await DuckDBEngine.open(bare);
    const report = await collectReport(engine, { since: null, until: null, account: null, top: 5, source: bare });
    await engine.close();
    expect(report.summary.calls).toBe(1);
    expect(report.key_state_available).toBe(false);
    expect(report.gaps).toEqual([{ section: 'key_state', reason: 'the database has no kms_key_state' }]);
    expect(report.keys[0]).toMatchObject({ key_arn: 'arn:aws:kms:us-east-1:111111111111:key/k1', calls: 1, key_state: null });
    expect(report.findings).toMatchObject({ status: 'unavailable', items: [] });
    expect(renderMarkdown(report)).toContain('_Findings unavailable: detections are not available for this report._');
    expect(renderMarkdown(report)).toContain('Key state unavailable');
    expect(renderHtml(report)).toContain('Findings are unavailable: detections are not available for this report.');
    expect(renderCsvTable(report, 'findings')).toBe(
      'severity,rule,title,identity_arn,source_ip,key_arn,account_id,first_seen,last_seen,event_count,detail\r\n');
  }, 60_000);

  it('escapes hostile values in Markdown, HTML and CSV', async () => {
    const hdb = await hostileDb();
    const engine = await DuckDBEngine.open(hdb);
    const report = await collectReport(engine, { since: null, until: null, account: null, top: 5, source: `${hdb}<script>` });
    await engine.close();
    const html = renderHtml(report);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toMatch(/<script>alert/);
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html.match(/<script/g)).toHaveLength(1); // only the page's own
    const md = renderMarkdown(report);
    const outsideCode = md.replace(/`[^`\n]*`/g, '');
    expect(outsideCode).not.toContain('<');
    expect(md).not.toMatch(/[^\\]\[x\]\(javascript/);
    // Every Markdown table row keeps its column count: no cell broke out with a bare |.
    let width = 0;
    let previous = '';
    for (const line of md.split('\n')) {
      if (line.startsWith('|') && !previous.startsWith('|')) width = cells(line).length;
      else if (line.startsWith('|')) expect(cells(line).length, line).toBe(width);
      previous = line;
    }
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('-1+2')).toBe("'-1+2");
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell('a,b')).toBe('"a,b"');
  }, 60_000);
});

// ---- the HTML report in a browser ----------------------------------------------------------------

const OUTPUT = new URL('../test-output/', import.meta.url).pathname;

let browserProcess: Browser;
let context: BrowserContext;

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

async function htmlReport(out: string, ...args: string[]): Promise<void> {
  const { code, stderr } = await runCli(['report', '--format', 'html', '--out', out, ...args]);
  expect(stderr).toBe('');
  expect(code).toBe(0);
}

/** The sample database's HTML report (test-output/report.html), written once for the browser tests that read it. */
const samplePage = once(async () => {
  const file = join(OUTPUT, 'report.html');
  await htmlReport(file, '--db', db);
  return file;
});

const numbers = (page: Page, selector: string) =>
  page.$$eval(selector, (cells) => cells.map((c) => Number(c.getAttribute('data-v'))));

describe('the HTML report in chromium', () => {
  beforeAll(async () => {
    const browser = await findChromium();
    mkdirSync(OUTPUT, { recursive: true });
    // A browser with a fresh context, not a persistent profile on disk: ~0.2 CPU-s less to start.
    browserProcess = await chromium.launch({
      executablePath: browser.executablePath,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
        '--disable-component-update', '--disable-sync',
      ],
    });
    context = await browserProcess.newContext({ viewport: { width: 1440, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await browserProcess?.close();
  });

  it('loads offline with no errors; its numbers, charts, sorting and findings work', async () => {
    const file = await samplePage();
    const findings = await detections(); // before the reader below opens the database
    // The SQL checks on one read-only connection (an open per query costs ~0.06 CPU-s).
    const store = await Store.open(db, { readOnly: true });
    const { page, problems, requests } = await open(file);
    try {
      expect(problems).toEqual([]);
      expect(requests).toEqual([pathToFileURL(file).href]); // the page itself, nothing else
      // The page as it loads, before any sorting or filtering below changes it (a reload at the
      // end to undo them cost a second load).
      await page.screenshot({ path: join(OUTPUT, 'report.png'), fullPage: true });
      await page.screenshot({ path: join(OUTPUT, 'report-top.png') });

      // Header totals and the principals table agree with SQL.
      const [totals] = await store.all<{ calls: number; principals: number; keys: number; errors: number }>(
        'SELECT count(*) AS calls, count(DISTINCT identity_arn) AS principals, count(DISTINCT key_arn) AS keys, count(error_code) AS errors FROM kms_events');
      const kpi = (id: string) => page.$eval(`#kpi-${id} .value`, (e) => Number(e.textContent!.replace(/,/g, '')));
      expect(await kpi('calls')).toBe(totals.calls);
      expect(await kpi('principals')).toBe(totals.principals);
      expect(await kpi('keys')).toBe(totals.keys);
      expect(await kpi('errors')).toBe(totals.errors);
      expect(await page.textContent('#period')).toBe('1 May 2024 – 21 May 2024 (21 days, UTC)');

      const want = await store.all<{ identity_arn: string; calls: number; keys: number; source_ips: number; errors: number; busiest: number }>(`
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
      const keyWant = await store.all<{ key_arn: string; calls: number; callers: number }>(
        'SELECT key_arn, count(*) AS calls, count(DISTINCT identity_arn) AS callers FROM kms_events WHERE key_arn IS NOT NULL GROUP BY key_arn');
      const byKey = (a: { key_arn: string | null }, b: { key_arn: string | null }) => (a.key_arn! < b.key_arn! ? -1 : 1);
      expect(keyRows.sort(byKey)).toEqual(keyWant.sort(byKey));

      // Charts: a bar per day holding that day's calls; a point per day on each small chart.
      const daily = await store.all<{ day: string; calls: number }>(
        "SELECT strftime(event_time, '%Y-%m-%d') AS day, count(*) AS calls FROM kms_events GROUP BY 1 ORDER BY 1");
      const bars = await page.$$eval('svg[data-chart="totals"] g.day', (gs) => gs.map((g) => ({ day: g.getAttribute('data-day'), calls: Number(g.getAttribute('data-calls')) })));
      expect(bars).toEqual(daily);
      expect(await page.$$eval('svg[data-chart="totals"] rect.bar', (r) => r.filter((x) => Number(x.getAttribute('height')) > 0).length)).toBe(21);
      expect(await page.$$eval('svg[data-chart="totals"] text.tick', (t) => t.length)).toBeGreaterThan(8); // axis labels
      const callsOf = new Map((await store.all<{ id: string; n: number }>(`
        SELECT 'principals ' || identity_arn AS id, count(*) AS n FROM kms_events GROUP BY ALL
        UNION ALL SELECT 'keys ' || key_arn, count(*) FROM kms_events WHERE key_arn IS NOT NULL GROUP BY ALL`)).map((r) => [r.id, r.n]));
      for (const kind of ['principals', 'keys']) {
        const charts = await page.$$(`svg[data-chart="${kind}"]`);
        expect(charts.length).toBe(8);
        for (const chart of charts) {
          expect(await chart.$$eval('circle.pt', (c) => c.length)).toBe(21);
          const id = await chart.getAttribute('data-series');
          const sum = await chart.$$eval('circle.pt', (c) => c.reduce((a, x) => a + Number(x.getAttribute('data-calls')), 0));
          expect(sum, id!).toBe(callsOf.get(`${kind} ${id}`) ?? 0); // the series' calls in kms_events
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
      expect(await page.$$eval('#findings-table tbody tr', (r) => r.length)).toBe(findings.length);
      for (const sev of ['high', 'medium', 'low']) {
        expect(await page.$$eval(`#findings-table tr.row-${sev}`, (r) => r.length)).toBe(findings.filter((f) => f.severity === sev).length);
      }
      expect(await page.$eval('#findings-table tr.row-high .badge', (b) => getComputedStyle(b).color)).toBe('rgb(180, 35, 24)');
      expect(await page.$eval('#findings-table tr.row-low .badge', (b) => getComputedStyle(b).color)).not.toBe('rgb(180, 35, 24)');
      // Numbers are right-aligned.
      expect(await page.$eval('#principals-table td[data-col="calls"]', (c) => getComputedStyle(c).textAlign)).toBe('right');

      expect(problems).toEqual([]);
    } finally {
      await page.close();
      store.close();
    }
  }, 120_000);

  it('table headers never overlap or spill out of their cells at 1,024 and 1,400 px', async () => {
    const file = join(OUTPUT, 'report-headers.html');
    copyFileSync(await samplePage(), file); // the same page, kept under its own name with its screenshots
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
    const empty = await emptyDb();
    const file = join(OUTPUT, 'report-empty.html');
    await htmlReport(file, '--db', empty);
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
    const hdb = await hostileDb();
    const file = join(OUTPUT, 'report-hostile.html');
    await htmlReport(file, '--db', hdb);
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

// ---- parsing helpers ---------------------------------------------------------------------------

function num(cell: string): number {
  return Number(cell.replace(/,/g, ''));
}

function cells(line: string): string[] {
  return line.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());
}

/** The first table after `heading`, as records by header; code spans unwrapped. */
function mdTable(md: string, heading: string): Record<string, string>[] {
  const lines = md.split('\n');
  let i = lines.indexOf(heading);
  expect(i, heading).toBeGreaterThanOrEqual(0);
  while (!lines[i].startsWith('|')) i++;
  const header = cells(lines[i]);
  const rows: Record<string, string>[] = [];
  for (i += 2; i < lines.length && lines[i].startsWith('|'); i++) {
    const values = cells(lines[i]).map((c) => c.replace(/^`(.*)`$/, '$1').replace(/\\\|/g, '|'));
    rows.push(Object.fromEntries(header.map((h, n) => [h, values[n]])));
  }
  return rows;
}

function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { record.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { record.push(field); records.push(record); record = []; field = ''; i++; }
    else field += c;
  }
  const [header, ...rows] = records;
  return rows.map((r) => Object.fromEntries(header.map((h, n) => [h, r[n]])));
}
