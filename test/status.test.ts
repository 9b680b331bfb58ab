// keytrail status: runs, problem objects with reasons, lag per account/region,
// and the exit code a monitoring check pages on.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/schema.js';
import { parseDuration } from '../src/status/status.js';
import { runCli } from './helpers/cli.js';
import { ingestFolder } from './helpers/ingest.js';
import { tempDir } from './helpers/log-objects.js';
import { identity, keyArn, kmsEvent, writeTrail } from './helpers/trail.js';

const A = '111111111111';
const B = '222222222222';
const HOUR = 3600_000;
const ago = (ms: number) => `${new Date(Date.now() - ms).toISOString().slice(0, 19)}Z`;

let dir: string;
let cleanup: () => void;
let db: string;
beforeAll(async () => {
  ({ dir, cleanup } = tempDir('keytrail-status-'));
  const trail = join(dir, 'trail');
  const files = writeTrail(trail, [
    kmsEvent({ eventName: 'Decrypt', time: ago(2 * HOUR), identity: identity.user(A, 'alice'), key: keyArn(A, '1234abcd-12ab-34cd-56ef-1234567890ab') }),
    kmsEvent({ eventName: 'Encrypt', time: ago(50 * HOUR), identity: identity.user(B, 'bob'), key: keyArn(B, '5678abcd-12ab-34cd-56ef-1234567890ab', 'eu-west-1'), region: 'eu-west-1' }),
  ]);
  // A log object whose content is not CloudTrail: quarantined, with the reason.
  writeFileSync(join(files[0], '..', `${A}_CloudTrail_us-east-1_20240101T0000Z_broken0000000000.json`), 'not json');
  db = join(dir, 'kt.duckdb');
  await ingestFolder(trail, db);
}, 60_000);
afterAll(() => cleanup?.());

const status = (...args: string[]) => runCli(['status', '--db', db, ...args]);

interface StatusJson {
  runs: Array<{ run_id: number; status: string }>;
  objects: Record<string, number>;
  problem_objects: Array<{ status: string; object_uri: string; error: string }>;
  problem_objects_more: number;
  newest_event: string;
  lag_seconds: number;
  freshness: Array<{ account_id: string; aws_region: string; lag_seconds: number; stale: boolean }>;
  problems: string[];
  database: { bytes: number };
}

describe('keytrail status', () => {
  it('reports runs, quarantined objects with reasons, and the lag per account and region', async () => {
    const { code, stdout, stderr } = await status('--format', 'json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const s = JSON.parse(stdout) as StatusJson;
    expect(s.problems).toEqual([]);
    expect(s.runs.map((r) => r.status)).toEqual(['partial']);
    expect(s.objects).toMatchObject({ total: 3, ok: 2, quarantined: 1, failed: 0, unreadable: 0 });
    expect(s.problem_objects).toHaveLength(1);
    expect(s.problem_objects[0].object_uri).toMatch(/broken0000000000\.json$/);
    expect(s.problem_objects[0].error).toMatch(/not JSON/);
    expect(s.freshness.map((f) => [f.account_id, f.aws_region, f.stale])).toEqual([[A, 'us-east-1', false], [B, 'eu-west-1', true]]);
    // Two hours, give or take the time the test took.
    expect(s.lag_seconds).toBeGreaterThanOrEqual(7200);
    expect(s.lag_seconds).toBeLessThan(7200 + 600);
    expect(s.freshness[1].lag_seconds).toBeGreaterThanOrEqual(50 * 3600);
    expect(s.database.bytes).toBeGreaterThan(0);
  });

  it('exits 1 when the newest event is older than --max-lag', async () => {
    const { code, stdout } = await status('--max-lag', '90m');
    expect(code).toBe(1);
    expect(stdout.split('\n')[1]).toMatch(/^PROBLEM: the newest event \(.+Z\) is 2h( \d+m)? old, more than --max-lag 1h 30m$/);
    expect(stdout).toMatch(/broken0000000000\.json \(run 1, .+\)\n {4}not JSON/);
    expect((await status('--max-lag', '3h')).code).toBe(0);
  });

  it('lists unreadable and failed objects first; exits 1 while the last run failed, 0 once one succeeds', async () => {
    // The rows an ingest writes for a run that could not fetch two objects: one for good (403),
    // one for now (503).
    const store = await openStore(db);
    try {
      const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
      await store.run(`INSERT INTO ingest_runs (run_id, source, started_at, finished_at, status, objects, failed) VALUES (2, 's3://trail/logs', $1::TIMESTAMP, $1::TIMESTAMP, 'failed', 2, 1)`, [now]);
      await store.run(
        `INSERT INTO ingested_objects (object_uri, source, object_day, status, error, run_id, ingested_at) VALUES
         ('s3://trail/logs/a.json.gz', 's3://trail/logs', DATE '2024-05-01', 'unreadable', 'AccessDenied (403): the role lacks kms:Decrypt for the object''s SSE-KMS key', 2, $1::TIMESTAMP),
         ('s3://trail/logs/b.json.gz', 's3://trail/logs', DATE '2024-05-01', 'failed', 'SlowDown (503)', 2, $1::TIMESTAMP)`,
        [now],
      );
    } finally {
      store.close();
    }
    const failed = await status('--format', 'json', '--objects', '2');
    expect(failed.code).toBe(1);
    const s = JSON.parse(failed.stdout) as StatusJson;
    expect(s.problems).toEqual(['the last ingest (run 2, s3://trail/logs) failed: 1 object(s) could not be fetched']);
    expect(s.problem_objects.map((o) => [o.status, o.object_uri])).toEqual([['failed', 's3://trail/logs/b.json.gz'], ['unreadable', 's3://trail/logs/a.json.gz']]);
    expect(s.problem_objects_more).toBe(1);
    expect((await status('--objects', '2')).stdout).toContain('  … and 1 more');

    const store2 = await openStore(db);
    try {
      await store2.run(`INSERT INTO ingest_runs (run_id, source, started_at, finished_at, status) VALUES (3, 's3://trail/logs', TIMESTAMP '2026-01-01 00:00:00', TIMESTAMP '2026-01-01 00:01:00', 'ok')`);
    } finally {
      store2.close();
    }
    expect((await status()).code).toBe(0);
  });

  it('an empty database is a problem; bad options and a missing database are usage errors', async () => {
    const empty = join(dir, 'empty.duckdb');
    (await openStore(empty)).close();
    const r = await status('--db', empty, '--format', 'json');
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as StatusJson).problems).toEqual(['no ingest has run on this database', 'the database holds no KMS events']);
    expect((await status('--max-lag', 'soon')).code).toBe(2);
    expect((await status('--wait', 'x')).stderr).toContain("--wait: 'x' is not a number of seconds");
    const missing = await runCli(['status', '--db', join(dir, 'nope.duckdb')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such database');
  });

  it('parses durations', () => {
    expect([parseDuration('26h'), parseDuration('90m'), parseDuration('2d'), parseDuration('45s'), parseDuration('1.5h')]).toEqual([93600, 5400, 172800, 45, 5400]);
    expect([parseDuration('26'), parseDuration('h'), parseDuration('-1h')]).toEqual([null, null, null]);
  });
});
