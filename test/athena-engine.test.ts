// The same detections and reports on DuckDB and on "Athena": a generated organization trail, ingested
// locally, exported to Parquet in S3 (s3rver) and also uploaded raw; the DDL of keytrail athena ddl
// applied to the local Athena endpoint; every detection run on the local database, on the Parquet
// table and on the raw CloudTrail table through the kms_events view, through the real SDK.
// Also measures the bytes scanned per detection (Parquet vs raw): KEYTRAIL_COST_MB=20 for a bigger trail.
// The trail is the smallest that still holds every injected anomaly with its baseline (two weeks: the
// generator's fixed streams set its size, not targetMb); 21 days gave the same findings, 1.5x the objects.

import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTrail, type TrailSummary } from '../scripts/trail-generator.js';
import { AthenaEngine } from '../src/athena/client.js';
import { loadRules } from '../src/detect/rules.js';
import { runDetections, type Finding } from '../src/detect/run.js';
import { resolveTrust } from '../src/detect/trust.js';
import { DuckDBEngine, type QueryEngine } from '../src/engine.js';
import { exportParquet } from '../src/export/export.js';
import { openTarget } from '../src/export/target.js';
import { collectReport } from '../src/report/collect.js';
import { detectFindings } from '../src/report/findings.js';
import { type Row } from '../src/store/db.js';
import { openStore } from '../src/store/schema.js';
import { startAthenaServer, type AthenaServer } from './helpers/athena-server.js';
import { ingestFolder } from './helpers/ingest.js';
import { runCli } from './helpers/cli.js';
import { datasetRecords, tempDir } from './helpers/log-objects.js';
import { keyArn, kmsEvent, writeTrail } from './helpers/trail.js';
import { KMS_EVENTS_COLUMNS } from '../src/athena/ddl.js';
import { startLocalS3, type LocalS3 } from '../scripts/local-s3.js';

const MB = Number(process.env.KEYTRAIL_COST_MB ?? 0.1);
const DAYS = process.env.KEYTRAIL_COST_MB ? 21 : 14;
const { dir, cleanup } = tempDir('keytrail-athena-engine-');
const TRAIL = join(dir, 'trail');
const DB = join(dir, 'keytrail.duckdb');
const OUTPUT = 's3://lake/athena-results/';
let s3: LocalS3;
let athena: AthenaServer;
let summary: TrailSummary;
let env: Record<string, string>;

function walk(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
}


const cli = (args: string[]) => runCli(args, env);

const athenaEngine = (database: string) =>
  new AthenaEngine({ database, outputLocation: OUTPUT, region: 'us-east-1', pollMs: { first: 5, max: 20 } });

async function findings(engine: QueryEngine): Promise<Finding[]> {
  const trust = await resolveTrust(engine, null, null);
  return runDetections(engine, loadRules(), { since: null, trust });
}

/** The engine, noting the bytes each rule scanned: its query and the analyzer's that follow it. */
function metered(engine: AthenaEngine, bytes: Map<string, number>): QueryEngine {
  const rules = new Map(loadRules().map((r) => [r.sql, r.id]));
  let rule: string | null = null;
  return {
    name: engine.name,
    query: async (sql, params) => {
      rule = rules.get(sql) ?? rule;
      const before = engine.totals.dataScannedBytes;
      const rows = await engine.query(sql, params);
      if (rule !== null) bytes.set(rule, (bytes.get(rule) ?? 0) + engine.totals.dataScannedBytes - before);
      return rows;
    },
    close: () => engine.close(),
  };
}

// Every detection on the three engines, run once for the tests that compare findings and bytes scanned.
let detections: Promise<{ expected: Finding[]; parquet: Finding[]; raw: Finding[]; bytes: Record<'parquet' | 'raw', Map<string, number>> }> | null = null;
function detectEverywhere(): NonNullable<typeof detections> {
  detections ??= (async () => {
    const local = await DuckDBEngine.open(DB);
    const expected = await findings(local);
    await local.close();
    const bytes = { parquet: new Map<string, number>(), raw: new Map<string, number>() };
    const on = async (database: 'keytrail' | 'keytrail_raw', into: Map<string, number>) => {
      const engine = metered(athenaEngine(database), into);
      try {
        return await findings(engine);
      } finally {
        await engine.close();
      }
    };
    return { expected, parquet: await on('keytrail', bytes.parquet), raw: await on('keytrail_raw', bytes.raw), bytes };
  })();
  return detections;
}

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // Without the unreadable objects: Athena fails a whole query on one corrupt gzip object.
  summary = generateTrail({ out: TRAIL, targetMb: MB, days: DAYS, org: true, bad: false });
  const ingested = ingestFolder(TRAIL, DB); // while the trail uploads
  s3 = await startLocalS3();
  await s3.createBucket('lake');
  await s3.createBucket('trail');
  process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
  process.env.AWS_REGION ??= 'us-east-1';
  const limit = pLimit(16);
  await Promise.all([ingested, ...walk(TRAIL).map((file) => limit(() => s3.put('trail', relative(TRAIL, file).split('\\').join('/'), readFileSync(file))))]);
  const store = await openStore(DB);
  const target = await openTarget('s3://lake/keytrail', { endpointUrl: s3.endpoint });
  try {
    await exportParquet(store, target, { layout: 'day', since: null, until: null });
  } finally {
    store.close();
    target.close();
  }
  athena = await startAthenaServer({ s3Endpoint: s3.endpoint, queuedPolls: 0, runningPolls: 0, answerWhenDone: true });
  env = { ...s3.env, AWS_ENDPOINT_URL_ATHENA: athena.endpoint };
  process.env.AWS_ENDPOINT_URL_ATHENA = athena.endpoint;
  const common = ['--apply', '--athena-output', OUTPUT, '--db', DB];
  const parquet = await cli(['athena', 'ddl', '--location', 's3://lake/keytrail', '--athena-database', 'keytrail', ...common]);
  expect(parquet.stderr).toContain('applied');
  const raw = await cli(['athena', 'ddl', '--cloudtrail', 's3://trail', '--org-id', summary.orgId!, '--accounts', summary.accounts.join(','),
    '--regions', summary.regions.join(','), '--since', summary.start, '--athena-database', 'keytrail_raw', ...common]);
  expect(raw.stderr).toContain('applied');
}, 300_000);

afterAll(async () => {
  await athena?.stop();
  await s3?.stop();
  cleanup();
});

describe('detections on Athena', () => {
  it('find exactly what they find locally, over the Parquet export and over the raw CloudTrail table', async () => {
    const { expected, parquet, raw } = await detectEverywhere();
    expect(new Set(expected.map((f) => f.rule)).size).toBeGreaterThanOrEqual(6); // the trail's anomalies are found
    expect(parquet).toEqual(expected);
    expect(raw).toEqual(expected);
  }, 300_000); // thirty rules on three engines

  it('keytrail detect --engine athena prints the same findings as keytrail detect on the database', async () => {
    const local = await cli(['detect', '--db', DB, '--format', 'json']);
    expect(local.code, local.stderr).toBe(0);
    const remote = await cli(['detect', '--engine', 'athena', '--athena-database', 'keytrail', '--athena-output', OUTPUT, '--format', 'json']);
    expect(remote.code, remote.stderr).toBe(0);
    expect(JSON.parse(remote.stdout)).toEqual(JSON.parse(local.stdout));
    expect(JSON.parse(local.stdout).length).toBeGreaterThan(0);
    expect(remote.stderr).toMatch(/athena: \d+ queries, scanned .*estimated cost \$/);

    const report = await cli(['report', '--engine', 'athena', '--athena-database', 'keytrail', '--athena-output', OUTPUT, '--format', 'json']);
    expect(report.code, report.stderr).toBe(0);
    const doc = JSON.parse(report.stdout);
    expect(doc.report.source).toBe('athena:keytrail');
    expect(doc.report.engine).toBe('athena');
    expect(doc.findings.items.length).toBe(JSON.parse(local.stdout).length);
  }, 300_000);

  it('give the same report, except what only the local database has (ingest manifest, key state)', async () => {
    const options = { since: null, until: null, account: null, top: 8, source: 'x', now: new Date('2024-06-01T00:00:00Z') };
    const local = await DuckDBEngine.open(DB);
    const expected = await collectReport(local, options, detectFindings);
    await local.close();
    const parquet = athenaEngine('keytrail');
    const got = await collectReport(parquet, options, detectFindings);
    await parquet.close();
    const stateless = (r: typeof got) => ({
      ...r, meta: { ...r.meta, engine: null }, ingest: null, key_state_available: null, gaps: null,
      keys: r.keys.map((k) => ({ ...k, key_state: null, rotation: null, origin: null, deletion_date: null, material_expires: null, last_policy_change: null, last_policy_changed_by: null })),
    });
    expect(stateless(got)).toEqual(stateless(expected));
    expect(got.findings.items.length).toBeGreaterThan(0);
    expect(got.meta.engine).toBe('athena');
    expect(got.gaps.map((g) => g.section).sort()).toEqual(['ingest', 'key_state']);
  }, 300_000);

  it('scan far fewer bytes over the Parquet export than over the raw trail', async () => {
    const { bytes } = await detectEverywhere();
    // The rules over kms_events (the trail-tampering ones read trail_events, which the export has not).
    const rows = loadRules().filter((r) => !/\btrail_events\b/.test(r.sql))
      .map((r) => ({ rule: r.id, parquet: bytes.parquet.get(r.id)!, raw: bytes.raw.get(r.id)! }));
    const total = { parquet: rows.reduce((n, r) => n + r.parquet, 0), raw: rows.reduce((n, r) => n + r.raw, 0) };
    console.log(
      `trail: ${summary.records} events (${summary.kmsRecords} KMS) in ${summary.objects} objects, ${(summary.bytesGz / 1e6).toFixed(1)} MB gz, ${summary.days} days\n` +
        rows.map((r) => `${r.rule.padEnd(22)} parquet ${String(r.parquet).padStart(10)}  raw ${String(r.raw).padStart(10)}  ${(r.raw / Math.max(1, r.parquet)).toFixed(0)}x`).join('\n') +
        `\nall rules: parquet ${total.parquet} bytes, raw ${total.raw} bytes`,
    );
    for (const r of rows) expect(r.parquet * 5).toBeLessThan(r.raw);
    expect(rows.every((r) => r.raw >= summary.bytesGz)).toBe(true); // the raw table is read whole
  }, 300_000);
});

describe('one normalisation for both engines', () => {
  it('the raw table view gives the local rows, callers and keys included, on every KMS record of the public datasets', async () => {
    // Panther's hand-made test events are left out: they give one IAM unique id ('1111') to many
    // roles of several accounts, which IAM never does, and the directory then has no one answer.
    const DATASETS = [
      'awsdocs-kms-developer-guide/kms-cloudtrail-examples.jsonl', 'awsdocs-cloudtrail-user-guide/cloudtrail-examples.jsonl',
      'stratus-red-team-detonation-logs/aws.credential-access.ssm-retrieve-securestring-parameters.json',
      'stratus-red-team-detonation-logs/aws.credential-access.secretsmanager-retrieve-secrets.json',
    ];
    // As CloudTrail delivers them: one object per account, region and hour (the Hive layout the table projects).
    const records = DATASETS.flatMap((path) => datasetRecords(path))
      .filter((r) => typeof r.eventTime === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(r.eventTime)
        && typeof r.recipientAccountId === 'string' && /^\d{12}$/.test(r.recipientAccountId) && /^[a-z]{2}(-[a-z]+)+-\d$/.test(String(r.awsRegion)));
    // Plus a cross-account call as the key owner's trail records it, and the caller's own trail.
    const role = { type: 'Role', principalId: 'AROAIGDTESTANDEXAMPLE', arn: 'arn:aws:iam::444455556666:role/app/AppRole', accountId: '444455556666' };
    records.push(
      kmsEvent({ eventName: 'Decrypt', time: '2024-05-01T10:00:00Z', identity: { type: 'AWSAccount', principalId: 'AROAIGDTESTANDEXAMPLE:s-1', accountId: '444455556666' }, key: keyArn('111122223333', 'k1') }),
      kmsEvent({ eventName: 'ListAliases', time: '2024-05-01T09:00:00Z', key: null, account: '444455556666', identity: {
        type: 'AssumedRole', principalId: 'AROAIGDTESTANDEXAMPLE:s-0', arn: 'arn:aws:sts::444455556666:assumed-role/AppRole/s-0', accountId: '444455556666',
        sessionContext: { sessionIssuer: role } } }),
    );
    const folder = join(dir, 'datasets');
    writeTrail(folder, records);
    const db = join(dir, 'datasets.duckdb');
    await ingestFolder(folder, db);
    await s3.createBucket('datasets');
    await Promise.all(walk(folder).map((file) => s3.put('datasets', relative(folder, file), readFileSync(file))));
    const accounts = [...new Set(records.map((r) => r.recipientAccountId as string))];
    const regions = [...new Set(records.map((r) => r.awsRegion as string))];
    const ddl = await cli(['athena', 'ddl', '--cloudtrail', 's3://datasets', '--accounts', accounts.join(','), '--regions', regions.join(','),
      '--since', '2015-01-01', '--athena-database', 'datasets_raw', '--apply', '--athena-output', OUTPUT]);
    expect(ddl.stderr).toContain('applied');

    // Everything but what differs by design: record_hash (NULL), the object's name (path vs s3://), resources' key case.
    const columns = KMS_EVENTS_COLUMNS.filter((c) => !['record_hash', 'source_object', 'resources'].includes(c));
    const select = `SELECT ${columns.join(', ')} FROM kms_events ORDER BY event_id, event_name, event_time`;
    const local = await DuckDBEngine.open(db);
    // A record without an eventID: keytrail:<record hash> here, NULL there (no record hash on Athena).
    const expected = (await local.query(select)).map((r) => ({ ...r, event_id: String(r.event_id).startsWith('keytrail:') ? null : r.event_id }));
    await local.close();
    const raw = athenaEngine('datasets_raw');
    // Athena gives JSON columns as JSON text (the table's type is string): parsed to compare.
    const json = ['encryption_context', 'request_parameters', 'response_elements', 'additional_event_data'];
    const got = (await raw.query(select)).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, json.includes(k) && typeof v === 'string' ? JSON.parse(v) : v])));
    await raw.close();
    expect(expected.length).toBeGreaterThan(60);
    expect(expected.filter((r) => r.principal_type === 'AWSAccount').map((r) => r.identity_arn)).toEqual([role.arn]);
    // Hand-made datasets reuse eventIDs: rows compared in one order, whole.
    const sorted = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();
    expect(sorted(got)).toEqual(sorted(expected));
  }, 300_000);
});
