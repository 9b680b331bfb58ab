// The ingest pipeline on a folder: bad objects, re-runs, changed objects, date ranges.

import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestFolder, sql } from './helpers/ingest.js';
import { logObjectKey, tempDir, writeLogObject, writeRaw } from './helpers/log-objects.js';
import { cloudTrailRecord, mixedRecords } from './helpers/records.js';

let dir: string;
let cleanup: () => void;
let trail: string;
let db: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  trail = join(dir, 'trail');
  db = join(dir, 'kt.duckdb');
});
afterEach(() => cleanup());

const count = async (where = 'true') => (await sql<{ n: number }>(db, `SELECT count(*) AS n FROM kms_events WHERE ${where}`))[0].n;

describe('ingest from a folder', () => {
  it('quarantines each kind of bad object with its reason and loads the rest', async () => {
    const good = writeLogObject(trail, logObjectKey('111111111111', 'us-east-1', '2024-05-01T10:05:00Z'), mixedRecords(5, 5));
    const gz = gzipSync(JSON.stringify({ Records: mixedRecords(3, 0) }));
    const flipped = Buffer.from(gz);
    for (let i = 20; i < 40; i++) flipped[i] ^= 0xff;
    const key = () => logObjectKey('111111111111', 'us-east-1', '2024-05-01T10:10:00Z');
    const bad = {
      corrupt: writeRaw(trail, key(), flipped),
      truncated: writeRaw(trail, key(), gz.subarray(0, gz.length - 30)),
      notJson: writeRaw(trail, key(), gzipSync('<html>Access Denied</html>')),
      noRecords: writeRaw(trail, key(), gzipSync(JSON.stringify({ logFiles: [] }))),
      truncatedJson: writeRaw(trail, key(), gzipSync(JSON.stringify({ Records: mixedRecords(2, 2) }).slice(0, -40))),
      badRecord: writeLogObject(trail, key(), [cloudTrailRecord(), cloudTrailRecord({ time: 'not-a-time' }), cloudTrailRecord()]),
    };
    writeRaw(trail, 'AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2024/05/01/111111111111_CloudTrail-Digest_us-east-1_t_us-east-1_20240501T100000Z.json.gz', gzipSync('{}'));
    writeRaw(trail, 'AWSLogs/111111111111/CloudTrail/us-east-1/2024/05/01/notes.txt', 'not a log');

    const summary = await ingestFolder(trail, db);
    const reasons = Object.fromEntries(summary.quarantined.map((q) => [q.uri, q.error]));
    expect(Object.keys(reasons).sort()).toEqual(Object.values(bad).sort());
    expect(reasons[bad.corrupt]).toMatch(/^gzip: /);
    expect(reasons[bad.truncated]).toMatch(/^gzip: unexpected end of file \(truncated object\?\)/);
    expect(reasons[bad.notJson]).toMatch(/^not JSON/);
    expect(reasons[bad.noRecords]).toBe('no Records array: not a CloudTrail log object');
    expect(reasons[bad.truncatedJson]).toMatch(/^truncated JSON/);
    expect(reasons[bad.badRecord]).toMatch(/^1 unreadable record\(s\): record 2 \(eventID .*\): eventTime "not-a-time" is not a timestamp$/);
    expect(summary.failed).toEqual([]);
    expect(summary.objects).toBe(7); // the digest and the .txt are not log objects
    // Nothing good is lost: the good object, and the good records beside the unreadable one.
    expect(await count()).toBe(5 + 2);
    const manifest = await sql<{ object_uri: string; status: string; error: string | null; kms_events: number }>(
      db, 'SELECT object_uri, status, error, kms_events FROM ingested_objects ORDER BY object_uri');
    expect(manifest.find((m) => m.object_uri === good)).toMatchObject({ status: 'ok', error: null, kms_events: 5 });
    expect(manifest.filter((m) => m.status === 'quarantined').map((m) => m.object_uri).sort()).toEqual(Object.values(bad).sort());
    expect(manifest.find((m) => m.object_uri === bad.badRecord)).toMatchObject({ kms_events: 2 });

    // Quarantined objects are not read again, unless asked.
    expect((await ingestFolder(trail, db, { full: true })).objects).toBe(0);
    const retry = await ingestFolder(trail, db, { full: true, retryQuarantined: true });
    expect(retry.objects).toBe(6);
    expect(await count()).toBe(7);
  });

  it('re-running loads nothing new; a changed object is re-read without duplicates', async () => {
    const records = mixedRecords(4, 4);
    const path = writeLogObject(trail, logObjectKey('111111111111', 'us-east-1', '2024-05-01T10:05:00Z'), records);
    writeLogObject(trail, logObjectKey('111111111111', 'us-east-1', '2024-05-01T10:10:00Z'), mixedRecords(3, 1));
    const first = await ingestFolder(trail, db);
    expect(first).toMatchObject({ objects: 2, kmsEvents: 7, newRows: 7 });

    const again = await ingestFolder(trail, db);
    expect(again).toMatchObject({ objects: 0, skipped: 2, newRows: 0 });
    expect(await count()).toBe(7);

    // The same object rewritten with one more KMS record (and pretty-printed): read again, replaced.
    const changed = [...records, cloudTrailRecord({ eventName: 'Encrypt' })];
    writeRaw(trail, path.slice(trail.length + 1), gzipSync(JSON.stringify({ Records: changed }, null, 2)));
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    const reread = await ingestFolder(trail, db);
    expect(reread).toMatchObject({ objects: 1, skipped: 1, kmsEvents: 5 });
    expect(await count()).toBe(8);
    expect(await count(`source_object = '${path}'`)).toBe(5);
    expect((await sql(db, 'SELECT object_uri FROM ingested_objects'))).toHaveLength(2);
  });

  it('keeps one row per event when the same event arrives in two objects', async () => {
    const records = mixedRecords(3, 2);
    writeLogObject(trail, logObjectKey('111111111111', 'us-east-1', '2024-05-01T10:05:00Z'), records);
    writeLogObject(trail, logObjectKey('111111111111', 'us-east-1', '2024-05-01T10:10:00Z'), [...records, cloudTrailRecord()]);
    await ingestFolder(trail, db);
    expect(await count()).toBe(4);
    // In one batch or in two: the same answer.
    const db2 = join(dir, 'kt2.duckdb');
    await ingestFolder(trail, db2, { batchObjects: 1 });
    expect((await sql<{ n: number }>(db2, 'SELECT count(*) AS n FROM kms_events'))[0].n).toBe(4);
  });

  it('reads only the delivery days in --since/--until, then resumes each stream from where it was read through', async () => {
    for (const day of ['2024-04-30', '2024-05-01', '2024-05-02', '2024-05-03', '2024-05-10']) {
      writeLogObject(trail, logObjectKey('111111111111', 'eu-west-1', `${day}T00:05:00Z`), mixedRecords(2, 1, { time: `${day}T00:01:00Z` }));
    }
    const ranged = await ingestFolder(trail, db, { range: { since: '2024-05-01', until: '2024-05-02' } });
    expect(ranged).toMatchObject({ listed: 2, objects: 2, kmsEvents: 4, streams: 1, newStreams: 1 });
    expect(await sql(db, `SELECT DISTINCT strftime(event_time, '%Y-%m-%d') AS d FROM kms_events ORDER BY d`)).toEqual([
      { d: '2024-05-01' }, { d: '2024-05-02' },
    ]);
    expect(await sql(db, `SELECT strftime(listed_from, '%Y-%m-%d') AS f, strftime(complete_through, '%Y-%m-%d') AS t FROM ingest_streams`)).toEqual([
      { f: '2024-05-01', t: '2024-05-02' },
    ]);
    // No --since: the stream from a week before where it was read through, but not before the
    // day the user chose to start from, so 2024-04-30 is not listed.
    const resumed = await ingestFolder(trail, db);
    expect(resumed).toMatchObject({ listed: 4, skipped: 2, objects: 2, newStreams: 0 });
    expect(await sql(db, `SELECT strftime(complete_through, '%Y-%m-%d') AS t FROM ingest_streams`)).toEqual([{ t: '2024-05-10' }]);
    // --full lists everything.
    expect(await ingestFolder(trail, db, { full: true })).toMatchObject({ listed: 5, objects: 1 });
  });
});
