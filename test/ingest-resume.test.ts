// A nightly ingest never skips an object: a run stopped at any point, an account or region that
// appears later with old days, a delivery into a day folder already read. Each stream (account and
// region folder) keeps its own mark, which moves only with the commit of the last object it listed.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamListing } from '../src/store/streams.js';
import { runCli, spawnCli } from './helpers/cli.js';
import { ingestFolder, sql } from './helpers/ingest.js';
import { logObjectKey, tempDir, writeLogObject } from './helpers/log-objects.js';
import { mixedRecords } from './helpers/records.js';

const ORG = 'o-abcdef1234';
const A = '111111111111';
const B = '222222222222';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

/** One log object of `kms` KMS and one other record, delivered on `day` at hh:mm. */
function deliver(trail: string, account: string, region: string, day: string, hhmm = '00:05', kms = 2): void {
  writeLogObject(trail, logObjectKey(account, region, `${day}T${hhmm}:00Z`, ORG), mixedRecords(kms, 1, { account, region, time: `${day}T${hhmm.slice(0, 2)}:01:00Z` }));
}

const days = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `2024-05-${String(from + i).padStart(2, '0')}`);
const count = async (db: string, table = 'kms_events') => (await sql<{ n: number }>(db, `SELECT count(*) AS n FROM ${table}`))[0].n;

describe('resume points per stream', () => {
  it('reads an account whose old days appear after the first run, and a region that starts later', async () => {
    const trail = join(dir, 'org');
    const db = join(dir, 'org.duckdb');
    for (const day of days(20, 25)) deliver(trail, A, 'us-east-1', day);
    expect(await ingestFolder(trail, db)).toMatchObject({ objects: 6, streams: 1, newStreams: 1 });

    // The organization gains account B, whose folders hold days older than anything read; A gains a region.
    for (const day of days(1, 25)) deliver(trail, B, 'eu-west-1', day);
    for (const day of days(2, 3)) deliver(trail, A, 'ap-south-1', day);
    const second = await ingestFolder(trail, db);
    expect(second).toMatchObject({ objects: 27, streams: 3, newStreams: 2, skipped: 6 });
    expect(await count(db)).toBe((6 + 25 + 2) * 2);
    expect(await sql(db, `SELECT split_part(stream, '/', -4) AS account, split_part(stream, '/', -2) AS region,
                                 strftime(complete_through, '%Y-%m-%d') AS through FROM ingest_streams ORDER BY 1, 2`)).toEqual([
      { account: A, region: 'ap-south-1', through: '2024-05-03' },
      { account: A, region: 'us-east-1', through: '2024-05-25' },
      { account: B, region: 'eu-west-1', through: '2024-05-25' },
    ]);
  });

  it('reads a delivery five days back; one older than --lookback only with --full', async () => {
    const trail = join(dir, 'late');
    const db = join(dir, 'late.duckdb');
    for (const day of days(1, 20)) deliver(trail, A, 'us-east-1', day);
    await ingestFolder(trail, db);

    deliver(trail, A, 'us-east-1', '2024-05-15', '23:55'); // five days before the newest day read
    deliver(trail, A, 'us-east-1', '2024-05-21');
    const next = await ingestFolder(trail, db);
    // Listed from a week before the mark (2024-05-13): 8 days already read, 2 new objects.
    expect(next).toMatchObject({ listed: 10, skipped: 8, objects: 2, newRows: 4 });

    deliver(trail, A, 'us-east-1', '2024-05-02', '23:55'); // far older than the lookback
    expect(await ingestFolder(trail, db)).toMatchObject({ objects: 0 });
    expect(await ingestFolder(trail, db, { full: true })).toMatchObject({ listed: 23, objects: 1, newRows: 2 });
    expect(await count(db)).toBe(23 * 2);
  });

  it('moves a mark only over what is complete: not past a failed object, not across a gap', () => {
    const mark = { listedFrom: null, completeThrough: '2024-05-10' };
    const listing = new StreamListing('s', '2024-05-03', mark);
    for (const day of ['2024-05-03', '2024-05-12', '2024-05-14']) listing.listed(day);
    expect(listing.nextMark()).toEqual({ listedFrom: null, completeThrough: '2024-05-14' });
    listing.failed('2024-05-12');
    expect(listing.nextMark()).toEqual({ listedFrom: null, completeThrough: '2024-05-11' });

    const gap = new StreamListing('s', '2024-05-20', mark); // --since past the mark: days between never listed
    gap.listed('2024-05-21');
    expect(gap.nextMark()).toBeNull();
    const first = new StreamListing('s', '2024-05-20', undefined); // a first run with --since
    first.listed('2024-05-21');
    expect(first.nextMark()).toEqual({ listedFrom: '2024-05-20', completeThrough: '2024-05-21' });
    expect(StreamListing.startDay({ listedFrom: '2024-05-20', completeThrough: '2024-05-21' }, null, false, 7)).toBe('2024-05-20');
    expect(StreamListing.startDay(mark, null, false, 7)).toBe('2024-05-03');
    expect(StreamListing.startDay(mark, null, true, 7)).toBeNull();
    expect(StreamListing.startDay(undefined, null, false, 7)).toBeNull();
  });
});

describe('killed runs', () => {
  it('five kills at deterministic points, then a final run: every event exactly once, as a clean ingest has it', async () => {
    const trail = join(dir, 'killed');
    for (const account of [A, B]) {
      for (const region of ['us-east-1', 'eu-west-1']) {
        for (const day of days(1, 6)) for (const hhmm of ['00:05', '06:05', '12:05']) deliver(trail, account, region, day, hhmm, 3);
      }
    }
    const objects = 2 * 2 * 6 * 3;
    const db = join(dir, 'killed.duckdb');
    const args = ['ingest', trail, '--db', db, '--batch-objects', '5', '--workers', '1', '--concurrency', '2', '--json'];

    // After a commit, before one (mid-batch: objects decoded and staged), inside one (before COMMIT).
    const faults = ['after-commit:1', 'before-commit:2', 'in-commit:1', 'in-commit:3', 'after-commit:2'];
    let committed = 0;
    for (const fault of faults) {
      const killed = await spawnCli(args, { KEYTRAIL_FAULT: fault }); // the crash point kills the process
      expect(killed.signal, fault).toBe('SIGKILL');
      const now = await count(db, 'ingested_objects');
      expect(now, fault).toBeGreaterThanOrEqual(committed);
      committed = now;
      expect(await count(db) % 3, fault).toBe(0); // whole objects only
    }
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(objects);

    const status = await runCli(['status', '--db', db, '--format', 'json']);
    const interrupted = JSON.parse(status.stdout).interrupted_run;
    expect(interrupted).toMatchObject({ objects_committed: expect.any(Number) });
    expect(status.code).toBe(1);

    // The last run in one batch: the killed runs committed in batches of five already, and a batch
    // costs a DuckDB open and a checkpoint whatever its size.
    const final = await runCli(args.filter((a, i) => a !== '--batch-objects' && args[i - 1] !== '--batch-objects'));
    expect(final.code).toBe(0);
    expect(JSON.parse(final.stdout)).toMatchObject({ skipped: committed, objects: objects - committed });

    const clean = join(dir, 'clean.duckdb');
    expect((await runCli(['ingest', trail, '--db', clean])).code).toBe(0);
    const keys = (file: string) => sql(file, 'SELECT event_key::VARCHAR AS k, source_object FROM kms_events ORDER BY k');
    expect(await keys(db)).toEqual(await keys(clean));
    expect(await count(db)).toBe(objects * 3);
    expect(await sql(db, 'SELECT object_uri FROM ingested_objects GROUP BY 1 HAVING count(*) > 1')).toEqual([]);
    expect(await count(db, 'ingested_objects')).toBe(objects);
    expect(await sql(db, `SELECT count(*) FILTER (WHERE status = 'interrupted') AS killed, count(*) FILTER (WHERE status = 'ok') AS ok FROM ingest_runs`))
      .toEqual([{ killed: 5, ok: 1 }]);
    expect((await runCli(['status', '--db', db, '--format', 'json', '--max-lag', '100000d'])).code).toBe(0);
  }, 120_000);
});
