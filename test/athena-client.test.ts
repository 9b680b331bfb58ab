// AthenaEngine against a local endpoint that speaks Athena's JSON protocol (test/helpers/athena-server.ts),
// through the real AWS SDK: query states, failure reasons, cancellation, paging, throttling, typed
// values, the --engine athena option of keytrail query, and Ctrl-C.

import { join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { AthenaEngine, AthenaQueryError, billedBytes } from '../src/athena/client.js';
import { DuckDBEngine } from '../src/engine.js';
import { exportParquet } from '../src/export/export.js';
import { openTarget } from '../src/export/target.js';
import { openStore } from '../src/store/schema.js';
import { startAthenaServer, type AthenaServer, type Pacing } from './helpers/athena-server.js';
import { ingestFolder } from './helpers/ingest.js';
import { runCli, startCli } from './helpers/cli.js';
import { tempDir } from './helpers/log-objects.js';
import { cloudTrailRecord } from './helpers/records.js';
import { startLocalS3, type LocalS3 } from '../scripts/local-s3.js';
import { writeTrail } from './helpers/trail.js';

const { dir, cleanup } = tempDir('keytrail-athena-client-');
const DB = join(dir, 'keytrail.duckdb');
const OUTPUT = 's3://lake/athena-results/';
let s3: LocalS3;
let athena: AthenaServer;
let env: Record<string, string>;

function engine(options: Partial<ConstructorParameters<typeof AthenaEngine>[0]> = {}, client?: AthenaClient): AthenaEngine {
  return new AthenaEngine({ database: 'keytrail', outputLocation: OUTPUT, region: 'us-east-1', pollMs: { first: 5, max: 20 }, ...options }, client);
}

// The CLI waits 200 ms and more between polls, as against Athena: answered once the query is done,
// except where the states are the point.
const ANSWER_WHEN_DONE: Pacing = { queuedPolls: 0, runningPolls: 0, answerWhenDone: true };

const cli = (args: string[]) => runCli(args, env);

beforeAll(async () => {
  s3 = await startLocalS3();
  await s3.createBucket('lake');
  // 3 days, 2 accounts, with errors and JSON: enough to compare values of every type.
  const trail = join(dir, 'trail');
  const records = ['2024-05-01', '2024-05-02', '2024-05-03'].flatMap((day) =>
    ['111111111111', '222222222222'].flatMap((account) =>
      Array.from({ length: 40 }, (_, i) => cloudTrailRecord({
        account, time: `${day}T${String(i % 24).padStart(2, '0')}:${String(i).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
        user: `u${i % 5}`, keyId: `k${i % 3}`, sourceIp: `203.0.113.${i % 7}`, errorCode: i % 9 === 0 ? 'AccessDeniedException' : undefined,
      })),
    ),
  );
  writeTrail(trail, records);
  await ingestFolder(trail, DB);
  const store = await openStore(DB);
  const target = await openTarget('s3://lake/keytrail', { endpointUrl: s3.endpoint });
  process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
  try {
    await exportParquet(store, target, { layout: 'day', since: null, until: null });
  } finally {
    store.close();
    target.close();
  }
  athena = await startAthenaServer({ s3Endpoint: s3.endpoint, ...ANSWER_WHEN_DONE });
  env = { ...s3.env, AWS_ENDPOINT_URL_ATHENA: athena.endpoint };
  process.env.AWS_ENDPOINT_URL_ATHENA = athena.endpoint;
  process.env.AWS_REGION ??= 'us-east-1';
  const applied = await cli(['athena', 'ddl', '--location', 's3://lake/keytrail', '--db', DB, '--apply', '--athena-database', 'keytrail', '--athena-output', OUTPUT]);
  expect(applied.stderr).toContain('statements applied in database keytrail');
  expect(applied.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await athena?.stop();
  await s3?.stop();
  cleanup();
});

describe('AthenaEngine', () => {
  it('goes through QUEUED and RUNNING to SUCCEEDED and returns the rows DuckDB returns, typed the same', async () => {
    athena.pace({ queuedPolls: 1, runningPolls: 2 });
    onTestFinished(() => athena.pace(ANSWER_WHEN_DONE));
    const sql = `
      SELECT event_name, count(*) AS calls, count(*) FILTER (WHERE error_code IS NOT NULL) AS errors,
             round(CAST(count(error_code) AS DOUBLE) / count(*), 4) AS error_rate, min(event_time) AS first_seen,
             CAST(min(event_time) AS DATE) AS first_day, bool_or(read_only) AS any_read_only, max(error_code) AS last_error,
             CAST(1.5 AS DECIMAL(4, 2)) AS dec, '' AS empty, NULL AS nothing,
             string_agg(DISTINCT account_id, ',' ORDER BY account_id) AS accounts
      FROM kms_events
      WHERE event_time >= CAST($since AS TIMESTAMP) AND account_id <> $not_account
      GROUP BY event_name ORDER BY event_name`;
    const params = { since: '2024-05-02 00:00:00', not_account: '999999999999' };
    const local = await DuckDBEngine.open(DB);
    const expected = await local.query(sql, params);
    await local.close();
    const e = engine();
    const before = athena.calls.length;
    const rows = await e.query(sql, params);
    await e.close();
    expect(rows).toEqual(expected);
    expect(rows[0]).toMatchObject({ calls: 160, first_seen: '2024-05-02 00:00:00', first_day: '2024-05-02', dec: '1.50', empty: '', nothing: null });
    const calls = athena.calls.slice(before);
    const start = calls.find((c) => c.op === 'StartQueryExecution')!.body;
    expect(start.ExecutionParameters).toEqual(["'2024-05-02 00:00:00'", "'999999999999'"]);
    expect(start.QueryExecutionContext).toEqual({ Database: 'keytrail' });
    expect(start.ResultConfiguration).toEqual({ OutputLocation: OUTPUT });
    const q = athena.queries.find((x) => x.id === calls.find((c) => c.op === 'GetQueryExecution')!.body.QueryExecutionId)!;
    expect(q.ran).toContain("'2024-05-02 00:00:00'");
    const states = calls.filter((c) => c.op === 'GetQueryExecution').map((c) => (c.response?.QueryExecution as { Status: { State: string } }).Status.State);
    expect([...new Set(states)]).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
    expect(states.filter((s) => s === 'RUNNING').length).toBeGreaterThanOrEqual(2);
    expect(e.totals.queries).toBe(1);
    expect(e.totals.dataScannedBytes).toBeGreaterThan(0);
    expect(e.totals.billedBytes).toBe(billedBytes(e.totals.dataScannedBytes));
  });

  it('pages through results past 1000 rows', async () => {
    const sql = `SELECT e.event_id, x.n FROM kms_events e CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11) x ORDER BY e.event_id, x.n`;
    const e = engine();
    const before = athena.calls.length;
    const rows = await e.query(sql);
    await e.close();
    expect(rows.length).toBe(240 * 11);
    expect(new Set(rows.map((r) => `${r.event_id}/${r.n}`)).size).toBe(2640);
    const pages = athena.calls.slice(before).filter((c) => c.op === 'GetQueryResults');
    expect(pages.map((p) => p.body.MaxResults)).toEqual([1000, 1000, 1000]);
    expect(pages[0].body.NextToken).toBeUndefined();
    expect(pages[1].body.NextToken).toBeTruthy();
  });

  it('shows a failed query’s reason as Athena gives it', async () => {
    athena.fail(/boom_marker/, 'HIVE_BAD_DATA: Error parsing field value for field 3: boom');
    const e = engine();
    const err = await e.query("SELECT count(*) AS n FROM kms_events WHERE event_name = 'boom_marker'").catch((x: unknown) => x);
    expect(err).toBeInstanceOf(AthenaQueryError);
    expect((err as AthenaQueryError).state).toBe('FAILED');
    expect((err as AthenaQueryError).message).toBe('HIVE_BAD_DATA: Error parsing field value for field 3: boom');
    const missing = await e.query('SELECT count(*) AS n FROM no_such_table').catch((x: unknown) => x as Error);
    expect((missing as Error).message).toMatch(/^TABLE_NOT_FOUND: .*no_such_table/);
    await e.close();
  });

  it('stops the running query when cancelled', async () => {
    athena.hold(/hold_marker_1/);
    const e = engine();
    const running = e.query("SELECT count(*) AS n FROM kms_events WHERE event_name <> 'hold_marker_1'").catch((x: unknown) => x);
    await until(() => athena.queries.some((q) => q.sql.includes('hold_marker_1') && q.state === 'RUNNING'));
    const id = await e.cancel();
    const err = await running;
    expect(err).toBeInstanceOf(AthenaQueryError);
    expect((err as AthenaQueryError).state).toBe('CANCELLED');
    expect(athena.calls.some((c) => c.op === 'StopQueryExecution' && c.body.QueryExecutionId === id)).toBe(true);
    expect(athena.queries.find((q) => q.id === id)!.stoppedBy).toBe('user');
    await e.close();
  });

  it('retries throttled calls (ThrottlingException, TooManyRequestsException) and starts the query once', async () => {
    athena.throttle('StartQueryExecution', 2, 'TooManyRequestsException');
    athena.throttle('GetQueryExecution', 2);
    athena.throttle('GetQueryResults', 1);
    // A client that retries 10 ms apart, not the SDK's half a second and more after a throttle (4.5 s
    // of waiting in this file): what the engine does about the retries is the same.
    const e = engine({}, new AthenaClient({ region: 'us-east-1', endpoint: athena.endpoint, retryStrategy: new ConfiguredRetryStrategy(8, () => 10) }));
    const before = athena.calls.length;
    const started = athena.queries.length;
    const rows = await e.query('SELECT count(*) AS n FROM kms_events');
    await e.close();
    expect(rows).toEqual([{ n: 240 }]);
    const calls = athena.calls.slice(before);
    const starts = calls.filter((c) => c.op === 'StartQueryExecution');
    expect(starts.length).toBe(3);
    expect(new Set(starts.map((c) => c.body.ClientRequestToken)).size).toBe(1);
    expect(athena.queries.length).toBe(started + 1);
  });

  it('refuses parameters outside WHERE as Athena does, so the dialect inlines them there', async () => {
    const e = engine();
    const rows = await e.query('SELECT count(*) + $extra AS n FROM kms_events WHERE account_id = $account', { extra: 1, account: '111111111111' });
    expect(rows).toEqual([{ n: 121 }]);
    const raw = await e.execute('SELECT ? AS x FROM kms_events WHERE account_id = ?', ["'a'", "'b'"]).catch((x: unknown) => x as Error);
    expect((raw as Error).message).toMatch(/only supported in the WHERE clause/);
    await e.close();
  });
});

describe('an export partitioned by account', () => {
  it('reads back through the DDL for --by-account (projection on day and account)', async () => {
    const store = await openStore(DB);
    const target = await openTarget('s3://lake/by-account', { endpointUrl: s3.endpoint });
    try {
      await exportParquet(store, target, { layout: 'day/account', since: null, until: null });
    } finally {
      store.close();
      target.close();
    }
    const ddl = await cli(['athena', 'ddl', '--location', 's3://lake/by-account', '--by-account', '--db', DB, '--apply', '--athena-database', 'by_account', '--athena-output', OUTPUT]);
    expect(ddl.code).toBe(0);
    const e = engine({ database: 'by_account' });
    const rows = await e.execute('SELECT account, event_date, count(*) AS n, count(*) FILTER (WHERE account <> account_id) AS misplaced FROM kms_events GROUP BY 1, 2 ORDER BY 1, 2');
    await e.close();
    expect(rows.length).toBe(6);
    expect(rows.every((r) => r.n === 40 && r.misplaced === 0)).toBe(true);
    expect(rows[0]).toMatchObject({ account: '111111111111', event_date: '2024-05-01' });
  }, 60_000);
});

describe('keytrail query --engine athena', () => {
  it('prints the rows and the bytes scanned and estimated cost on stderr', async () => {
    const out = await cli(['query', '--engine', 'athena', '--athena-database', 'keytrail', '--athena-output', OUTPUT, '--format', 'json',
      'SELECT account_id, count(*) AS n FROM kms_events GROUP BY account_id ORDER BY account_id']);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual([{ account_id: '111111111111', n: 120 }, { account_id: '222222222222', n: 120 }]);
    expect(out.stderr).toMatch(/athena: 1 query, scanned [\d.]+ (bytes|KB|MB); estimated cost \$0\.0000\d+ \(at \$5\/TB, 10 MB minimum per query\)/);
  }, 60_000);

  it('shows Athena’s reason for a failed query and exits 2', async () => {
    const out = await cli(['query', '--engine', 'athena', '--athena-database', 'keytrail', '--athena-output', OUTPUT, 'SELECT nope FROM kms_events']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/Athena query [0-9a-f-]+ failed: SYNTAX_ERROR: .*nope/);
  }, 60_000);

  it('needs --athena-database, and takes no Athena options without --engine athena', async () => {
    expect((await cli(['query', '--engine', 'athena', 'SELECT 1'])).stderr).toMatch(/--engine athena needs --athena-database/);
    expect((await cli(['query', '--athena-database', 'x', 'SELECT 1'])).code).toBe(2);
  }, 60_000);

  it('stops the Athena query on Ctrl-C and exits 130', async () => {
    athena.hold(/hold_marker_2/);
    const run = startCli(['query', '--engine', 'athena', '--athena-database', 'keytrail', '--athena-output', OUTPUT,
      "SELECT count(*) AS n FROM kms_events WHERE event_name <> 'hold_marker_2'"], env); // a process, to be interrupted
    await until(() => athena.queries.some((q) => q.sql.includes('hold_marker_2') && q.state === 'RUNNING'), 30_000);
    run.child.kill('SIGINT');
    const out = await run.done;
    const q = athena.queries.find((x) => x.sql.includes('hold_marker_2'))!;
    expect(out.code).toBe(130);
    expect(out.stderr).toContain(`stopped Athena query ${q.id}`);
    expect(q.state).toBe('CANCELLED');
  }, 60_000);
});

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
