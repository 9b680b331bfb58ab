// keytrail ingest s3://… against a real local S3 server, through a proxy that throttles and drops.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, uploadFolder, type LocalS3 } from '../scripts/local-s3.js';
import { runCli } from './helpers/cli.js';
import { startFaultyProxy, type FaultyProxy } from './helpers/faulty-proxy.js';
import { sql } from './helpers/ingest.js';
import { logObjectKey, tempDir, writeLogObject, writeRaw } from './helpers/log-objects.js';
import { mixedRecords } from './helpers/records.js';

const BUCKET = 'org-trail';
const DAYS = ['2024-05-01', '2024-05-02', '2024-05-03', '2024-05-04'];
const { dir, cleanup } = tempDir();
const trail = join(dir, 'trail');
let s3: LocalS3;
let proxy: FaultyProxy;
let files: string[];

function walk(d: string): string[] {
  return readdirSync(d).flatMap((name) => (statSync(join(d, name)).isDirectory() ? walk(join(d, name)) : [join(d, name)]));
}

beforeAll(async () => {
  // An organization trail under a prefix: 2 accounts x 2 regions x 4 days; one region holds more
  // objects than the proxy's listing page, so its listing (each account and region is listed on its
  // own) pages. 204 objects: enough for more than 10 of each fault (every 13th and 17th first GET).
  let i = 0;
  for (const account of ['111111111111', '222222222222']) {
    for (const region of ['us-east-1', 'eu-west-1']) {
      const perDay = account === '111111111111' && region === 'us-east-1' ? 30 : 7;
      for (const day of DAYS) {
        for (let n = 0; n < perDay; n++, i++) {
          const time = `${day}T${String(Math.floor(n / 12)).padStart(2, '0')}:${String((n % 12) * 5).padStart(2, '0')}:00Z`;
          writeLogObject(join(trail, 'logs'), logObjectKey(account, region, time, 'o-abcdef1234'), mixedRecords(i % 7, 3, { account, region, time }));
        }
      }
    }
  }
  writeRaw(join(trail, 'logs'), 'AWSLogs/o-abcdef1234/111111111111/CloudTrail-Digest/us-east-1/2024/05/01/111111111111_CloudTrail-Digest_us-east-1_org_us-east-1_20240501T010000Z.json.gz', 'digest');
  files = walk(trail);
  s3 = await startLocalS3();
  await uploadFolder(s3.client, BUCKET, trail, files);
  proxy = await startFaultyProxy(s3.endpoint, { slowDownEvery: 13, dropEvery: 17, listPageSize: 100 });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await s3?.stop();
  cleanup();
});

/** The KMS events in the objects, counted here with gunzip + JSON.parse, independently of keytrail. */
function kmsEventsIn(paths: string[]): number {
  return paths
    .filter((p) => !p.includes('Digest'))
    .reduce((sum, p) => sum + JSON.parse(gunzipSync(readFileSync(p)).toString()).Records.filter((r: { eventSource: string }) => r.eventSource === 'kms.amazonaws.com').length, 0);
}

describe('ingest from S3', () => {
  it('pages through the listing, retries throttling and dropped connections, loads exactly the KMS events', async () => {
    const db = join(dir, 's3.duckdb');
    const result = await runCli(['ingest', `s3://${BUCKET}/logs`, '--db', db, '--endpoint-url', proxy.endpoint, '--json'], s3.env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.objects).toBe(files.length - 1);
    expect(summary.failed).toEqual([]);
    expect(proxy.faults.slowDown).toBeGreaterThan(10);
    expect(proxy.faults.dropped).toBeGreaterThan(10);
    expect(proxy.listings.some((l) => l.query.has('continuation-token'))).toBe(true);
    const expected = kmsEventsIn(files);
    expect((await sql<{ n: number }>(db, 'SELECT count(*) AS n FROM kms_events'))[0].n).toBe(expected);
    expect((await sql<{ n: number }>(db, `SELECT count(*) AS n FROM kms_events WHERE source_object NOT LIKE 's3://${BUCKET}/logs/AWSLogs/o-abcdef1234/%'`))[0].n).toBe(0);

    const again = JSON.parse((await runCli(['ingest', `s3://${BUCKET}/logs`, '--db', db, '--endpoint-url', proxy.endpoint, '--json'], s3.env)).stdout);
    expect(again).toMatchObject({ objects: 0, newRows: 0 });
  }, 180_000);

  it('--since/--until list only the days in range', async () => {
    const db = join(dir, 'range.duckdb');
    proxy.listings.length = 0;
    const result = await runCli(
      ['ingest', `s3://${BUCKET}/logs/`, '--db', db, '--since', '2024-05-02', '--until', '2024-05-03', '--json'],
      { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint },
    );
    expect(result.code).toBe(0);
    const inRange = files.filter((f) => /\/2024\/05\/0[23]\//.test(f) && !f.includes('Digest'));
    expect(JSON.parse(result.stdout)).toMatchObject({ objects: inRange.length });
    expect((await sql<{ n: number }>(db, 'SELECT count(*) AS n FROM kms_events'))[0].n).toBe(kmsEventsIn(inRange));
    // What S3 was asked to list: the layout's folders one key at a time (accounts, regions), then
    // each region's day folders in the range. Keys of other days come back only as those probes.
    const probes = proxy.listings.filter((l) => l.query.get('max-keys') === '1');
    const dayListings = proxy.listings.filter((l) => !l.query.has('max-keys'));
    expect(dayListings.map((l) => l.query.get('prefix')).sort()).toEqual(
      ['111111111111', '222222222222'].flatMap((a) => ['eu-west-1', 'us-east-1'].flatMap((r) =>
        ['02', '03'].map((d) => `logs/AWSLogs/o-abcdef1234/${a}/CloudTrail/${r}/2024/05/${d}/`))).sort());
    expect(dayListings.flatMap((l) => l.keys).filter((k) => !/\/2024\/05\/0[23]\//.test(k))).toEqual([]);
    // One probe per folder found plus one that finds the end: the org (2), its 2 accounts (3), 2 regions each (3 + 3).
    expect(probes.length).toBe(2 + 3 + 3 + 3);
  }, 120_000);

  it('a permanently unreadable object is reported but no longer pins the job; a transient failure is read by the next run', async () => {
    const db = join(dir, 'failures.duckdb');
    const objects = files.filter((f) => !f.includes('Digest')).map((f) => f.slice(join(trail, 'logs').length + 1)).sort();
    const [forbidden, flaky] = [objects[5], objects[6]];
    proxy.failing = [{ match: new RegExp(`${forbidden.replaceAll('.', '\\.')}$`), status: 403 }, { match: new RegExp(`${flaky.replaceAll('.', '\\.')}$`), status: 503 }];
    const run = async () => {
      const result = await runCli(['ingest', `s3://${BUCKET}/logs`, '--db', db, '--endpoint-url', proxy.endpoint, '--json'], { ...s3.env, AWS_MAX_ATTEMPTS: '2' });
      return { code: result.code, summary: JSON.parse(result.stdout) };
    };
    try {
      const first = await run();
      expect(first.code).toBe(4);
      expect(first.summary.unreadable).toEqual([{ uri: `s3://${BUCKET}/logs/${forbidden}`, error: expect.stringMatching(/AccessDenied.*\(HTTP 403\).*needs kms:Decrypt/) }]);
      expect(first.summary.failed).toEqual([{ uri: `s3://${BUCKET}/logs/${flaky}`, error: expect.stringMatching(/HTTP 503/) }]);
      // The failed object holds its stream's mark before its day, so the next run lists it again.
      const flakyStream = flaky.slice(0, flaky.indexOf('/CloudTrail/') + '/CloudTrail/'.length) + flaky.split('/CloudTrail/')[1].split('/')[0] + '/';
      expect(await sql(db, "SELECT strftime(complete_through, '%Y-%m-%d') AS d FROM ingest_streams WHERE ends_with(stream, $1)", [flakyStream]))
        .toEqual([{ d: '2024-04-30' }]);

      proxy.failing = proxy.failing.filter((f) => f.status === 403); // the 503 was transient
      const second = await run();
      expect(second.code).toBe(0);
      expect(second.summary).toMatchObject({ objects: 1, failed: [], unreadable: [], unreadableBefore: 1 });

      const third = await run();
      expect(third.code).toBe(0);
      expect(third.summary).toMatchObject({ objects: 0, unreadableBefore: 1 });
      // Where the next run resumes: every stream read through its newest day, the unreadable
      // object's stream too (it does not hold its mark back; a failed one did, until it was read).
      expect(await sql(db, "SELECT DISTINCT strftime(complete_through, '%Y-%m-%d') AS d FROM ingest_streams")).toEqual([{ d: DAYS.at(-1) }]);
      expect(await sql(db, "SELECT status, count(*) AS n FROM ingested_objects GROUP BY ALL ORDER BY 1")).toEqual([
        { status: 'ok', n: objects.length - 1 }, { status: 'unreadable', n: 1 },
      ]);
    } finally {
      proxy.failing = [];
    }
  }, 180_000);
});
