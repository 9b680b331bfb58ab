// A database of millions of events (grown here by SQL, as years of nightly runs would leave it)
// takes the next night's ingest within the writer's default memory limit, exactly, and its readers
// answer within theirs.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/schema.js';
import { runCli } from './helpers/cli.js';
import { ingestFolder, sql } from './helpers/ingest.js';
import { logObjectKey, tempDir, writeLogObject } from './helpers/log-objects.js';
import { mixedRecords } from './helpers/records.js';

const ACCOUNT = '111111111111';
/** Each of the first night's 60 events copied this often: about 2M rows. */
const COPIES = 33_333;
const GROWN = 60 * COPIES;

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

describe('a store of millions of events', () => {
  it('takes the next night within the default limits, exactly, and readers answer within theirs', async () => {
    const trail = join(dir, 'trail');
    const db = join(dir, 'grown.duckdb');
    const night = (day: string) => {
      for (const hh of ['01', '09', '17']) {
        writeLogObject(trail, logObjectKey(ACCOUNT, 'us-east-1', `${day}T${hh}:05:00Z`), mixedRecords(20, 5, { time: `${day}T${hh}:01:00Z` }));
      }
    };
    night('2026-03-01');
    await ingestFolder(trail, db);

    // Years of earlier nights: each stored row copied into earlier minutes with new event ids. Unsorted:
    // the copies come out as near time order as nightly runs leave them (a row group spans about two
    // days, as after ORDER BY event_time), and sorting 2M rows in the writer's memory cost a third more.
    const store = await openStore(db);
    try {
      await store.run(
        `INSERT INTO kms_events BY NAME
         SELECT k.* REPLACE (k.event_time - to_minutes(g.i) AS event_time, k.event_id || '-' || g.i AS event_id,
                             md5_number(k.event_id || '-' || g.i || '|' || k.record_hash) AS event_key)
         FROM kms_events k, range(1, ${COPIES + 1}) g(i)`,
      );
    } finally {
      store.close();
    }
    expect((await sql<{ n: number }>(db, 'SELECT count(*) AS n FROM kms_events'))[0].n).toBe(60 + GROWN);

    night('2026-03-02');
    night('2026-03-01'); // and a late delivery of a night already read, holding copies of its events
    const copies = join(trail, 'AWSLogs', ACCOUNT, 'CloudTrail', 'us-east-1', '2026', '03', '01', 'copy.json.gz');
    const first = (await sql<{ r: string }>(db, `SELECT source_object AS r FROM kms_events WHERE event_time >= '2026-03-01' LIMIT 1`))[0].r;
    writeFileSync(copies, readFileSync(first));

    const next = await runCli(['ingest', trail, '--db', db, '--json']);
    expect(next.stderr).toBe('');
    expect(next.code).toBe(0);
    expect(JSON.parse(next.stdout)).toMatchObject({ objects: 7, newRows: 120 });
    expect(await sql(db, 'SELECT count(*) AS n, count(DISTINCT event_key) AS k FROM kms_events'))
      .toEqual([{ n: 60 + GROWN + 120, k: 60 + GROWN + 120 }]);

    // Readers within their default memory limit (512 MB for DuckDB).
    const detect = await runCli(['detect', '--db', db, '--format', 'json']);
    expect(detect.stderr).toBe('');
    expect([0, 1]).toContain(detect.code);
    // Without the findings: they are detect's, just run.
    const report = await runCli(['report', '--db', db, '--format', 'json', '--no-findings', '--out', join(dir, 'report.json')]);
    expect(report.stderr).toBe('');
    expect(report.code).toBe(0);
  }, 180_000);
});
