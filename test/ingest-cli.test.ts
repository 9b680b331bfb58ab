// keytrail ingest as a process: killed halfway, two at once, exit codes and output.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli, startCli } from './helpers/cli.js';
import { sql } from './helpers/ingest.js';
import { holdLock } from './helpers/lock-holder.js';
import { logObjectKey, tempDir, writeLogObject, writeRaw } from './helpers/log-objects.js';
import { mixedRecords } from './helpers/records.js';

const OBJECTS = 300;
/** The kill and the second run need no more than a few batches: the first objects of the same layout. */
const SHORT = 100;
const KMS_PER_OBJECT = 20;
const { dir, cleanup } = tempDir();
const trail = join(dir, 'trail');
const short = join(dir, 'short');

beforeAll(() => {
  for (let i = 0; i < OBJECTS; i++) {
    const minute = String(i % 60).padStart(2, '0');
    const hour = String(Math.floor(i / 60) % 24).padStart(2, '0');
    const day = `2024-05-0${1 + Math.floor(i / 1440)}`;
    const key = logObjectKey('111111111111', 'us-east-1', `${day}T${hour}:${minute}:00Z`);
    const path = writeLogObject(trail, key, mixedRecords(KMS_PER_OBJECT, 25));
    if (i < SHORT) writeRaw(short, key, readFileSync(path));
  }
});
afterAll(cleanup);

/** Polls a condition that a child process makes true (a file it creates); the test's timeout bounds it. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(20);
}

const rows = async (db: string) => (await sql<{ n: number }>(db, 'SELECT count(*) AS n FROM kms_events'))[0].n;

describe('keytrail ingest (process)', () => {
  it('killed with SIGKILL mid-run, then run again, ends with exactly the right rows', async () => {
    const db = join(dir, 'killed.duckdb');
    // Killed once some batches have committed, not before: at a deterministic point (src/fault.ts),
    // not when a timer happens to fire.
    const killed = await spawnCli(['ingest', short, '--db', db, '--batch-objects', '20', '--workers', '1', '--concurrency', '2'], { KEYTRAIL_FAULT: 'after-commit:3' });
    expect(killed.signal).toBe('SIGKILL');

    const partial = await rows(db);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(SHORT * KMS_PER_OBJECT);
    expect(partial % KMS_PER_OBJECT).toBe(0); // whole objects only

    const rerun = await runCli(['ingest', short, '--db', db, '--json']);
    expect(rerun.code).toBe(0);
    const summary = JSON.parse(rerun.stdout);
    expect(summary.skipped + summary.objects).toBe(SHORT);
    expect(await rows(db)).toBe(SHORT * KMS_PER_OBJECT);
    expect(await sql(db, 'SELECT event_id FROM kms_events GROUP BY event_id HAVING count(*) > 1')).toEqual([]);
    expect((await sql<{ n: number }>(db, 'SELECT count(DISTINCT object_uri) AS n FROM ingested_objects'))[0].n).toBe(SHORT);
    expect((await sql<{ n: number }>(db, 'SELECT count(*) AS n FROM ingested_objects'))[0].n).toBe(SHORT);
    expect(await sql(db, 'SELECT status FROM ingest_runs ORDER BY run_id')).toEqual([{ status: 'interrupted' }, { status: 'ok' }]);
  }, 120_000);

  it('a second run on the same database fails at once, or waits with --wait', async () => {
    const db = join(dir, 'shared.duckdb');
    // The first run is held inside its run, deterministically: it has taken the ingest lock, and its
    // first commit waits for another process that holds the database open.
    const holder = await holdLock(db);
    const first = startCli(['ingest', short, '--db', db, '--workers', '1', '--concurrency', '1']);
    let firstDone = false;
    void first.done.then(() => (firstDone = true));
    await until(() => existsSync(`${db}.ingest-lock`) || firstDone);
    const second = await runCli(['ingest', short, '--db', db]);
    expect(firstDone).toBe(false); // at once: the first run could not have finished meanwhile
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/is in use by another keytrail ingest \(PID \d+.*pass --wait/s);
    // In this process, as the second run: the first is the other process.
    const waiting = runCli(['ingest', short, '--db', db, '--wait', '--json']);
    await holder.release();
    expect((await first.done).code).toBe(0);
    const waited = await waiting;
    expect(waited.code).toBe(0);
    expect(JSON.parse(waited.stdout)).toMatchObject({ objects: 0, skipped: SHORT });
    expect(await rows(db)).toBe(SHORT * KMS_PER_OBJECT);
  }, 120_000);

  it('other commands read the database while an ingest loads it, and the counts are exact after', async () => {
    const db = join(dir, 'busy.duckdb');
    // Small batches and one slow worker: the ingest runs for seconds and commits many times.
    const ingesting = startCli(['ingest', trail, '--db', db, '--workers', '1', '--concurrency', '1', '--batch-objects', '20']);
    let finished = false;
    void ingesting.done.then(() => (finished = true));
    const seen: number[] = [];
    while (!finished) {
      const read = await runCli(['query', '--db', db, 'SELECT count(*) AS n FROM kms_events', '--format', 'json', '--wait', '30']);
      if (finished) break;
      if (read.code === 0) seen.push(JSON.parse(read.stdout)[0].n);
      else expect(read.stderr).toMatch(/no such database/); // before the first commit made the file
      await sleep(100);
    }
    expect((await ingesting.done).code).toBe(0);
    // Readers got in during the run, each saw whole batches (whole objects), and counts only grew.
    expect(seen.length).toBeGreaterThan(0);
    for (const n of seen) expect(n % KMS_PER_OBJECT).toBe(0);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(seen.some((n) => n > 0 && n < OBJECTS * KMS_PER_OBJECT)).toBe(true);
    expect(await rows(db)).toBe(OBJECTS * KMS_PER_OBJECT);
  }, 180_000);

  it('says what went wrong, with exit codes cron can act on', async () => {
    const small = join(dir, 'small');
    writeLogObject(small, logObjectKey('111111111111', 'us-east-1', '2024-05-01T00:05:00Z'), mixedRecords(2, 2));
    const db = join(dir, 'small.duckdb');
    const ok = await runCli(['ingest', small, '--db', db]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^keytrail ingest: 1 objects read .* 4 events, 2 KMS events, 2 new rows; 0 quarantined, 0 failed/);
    expect(ok.stderr).toBe('');

    writeRaw(small, logObjectKey('111111111111', 'us-east-1', '2024-05-01T00:10:00Z'), 'garbage');
    const bad = await runCli(['ingest', small, '--db', db]);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/1 quarantined/);
    expect(bad.stdout).toMatch(/quarantined .*T0010Z.*: not JSON/);

    for (const [args, message] of [
      [['ingest'], /expected exactly one SOURCE/],
      [['ingest', join(dir, 'nope')], /no such folder/],
      [['ingest', small, '--since', '2024-02-30'], /--since: '2024-02-30' is not a date/],
      [['ingest', small, '--concurrency', '0'], /--concurrency: '0' is not a positive whole number/],
      [['ingest', small, '--frobnicate'], /Unknown option '--frobnicate'/],
      [['ingest', 's3://'], /not an s3:\/\/bucket/],
      [['query', 'SELECT nope FROM kms_events', '--db', db], /the query failed: Binder Error/],
      [['query', 'SELECT 1', '--db', join(dir, 'missing.duckdb')], /no such database/],
      [['frobnicate'], /unknown command/],
    ] as const) {
      const result = await runCli([...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
  }, 60_000);

  it('query prints tables, CSV, JSON and NDJSON', async () => {
    const db = join(dir, 'small.duckdb');
    const q = 'SELECT event_name, count(*) AS n FROM kms_events GROUP BY ALL ORDER BY n DESC';
    expect((await runCli(['query', q, '--db', db])).stdout).toMatch(/^event_name\s+n\n-+\s+-+\nDecrypt\s+2\n\(1 row\)/);
    expect((await runCli(['query', q, '--db', db, '--format', 'csv'])).stdout).toBe('event_name,n\nDecrypt,2\n');
    expect(JSON.parse((await runCli(['query', q, '--db', db, '--format', 'json'])).stdout)).toEqual([{ event_name: 'Decrypt', n: 2 }]);
    expect((await runCli(['query', q, '--db', db, '--format', 'ndjson'])).stdout).toBe('{"event_name":"Decrypt","n":2}\n');
  }, 30_000);
});
