// keytrail verify against a signed trail: on s3rver (signatures as S3 metadata) with the public keys
// from a file and through the real CloudTrail SDK client against a local CloudTrail endpoint, and
// offline in a folder. Each kind of tampering, alone among untouched objects, must be reported
// exactly, and nothing else.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../scripts/local-s3.js';
import { runCli } from './helpers/cli.js';
import { startCloudTrailServer, type CloudTrailServer } from './helpers/cloudtrail-server.js';
import {
  buildSignedTrail, makeTrailKey, publicKeyList, putTrail, writeTrail, type TrailKey, type TrailObject, type TrailOptions,
} from './helpers/digests.js';
import { sql } from './helpers/ingest.js';
import { logObjectKey, tempDir } from './helpers/log-objects.js';
import { mixedRecords } from './helpers/records.js';

const [A1, A2] = ['111111111111', '222222222222'];
const [USE1, EUW1] = ['us-east-1', 'eu-west-1'];
const START = '2024-05-01T20:01:31Z'; // six hours: the digests cross into 2024-05-02
// Keys rotate at hour 2: the first two hours are signed with key1, the rest with key2.
const key1 = makeTrailKey('2024-01-01T00:00:00Z', '2024-05-01T23:00:00Z');
const key2 = makeTrailKey('2024-05-01T22:00:00Z', '2025-01-01T00:00:00Z');
const keyFor = (hour: number) => (hour < 2 ? key1 : key2);

const { dir, cleanup } = tempDir('keytrail-verify-');
const keysFile = join(dir, 'public-keys.json');
let s3: LocalS3;
let cloudtrail: CloudTrailServer;

function trail(bucket: string, options: Partial<TrailOptions> = {}): TrailObject[] {
  return buildSignedTrail({
    bucket, prefix: 'trail/', org: 'o-abc123def4', accounts: [A1, A2], regions: [USE1, EUW1], start: START, hours: 6, logsPerHour: 2, keyFor, ...options,
  });
}

const digestsOf = (objects: TrailObject[], account: string, region: string) =>
  objects.filter((o) => o.key.includes(`/${account}/CloudTrail-Digest/${region}/`)).sort((a, b) => a.key.localeCompare(b.key));
const logsOf = (objects: TrailObject[], account: string, region: string) =>
  objects.filter((o) => o.key.includes(`/${account}/CloudTrail/${region}/`)).sort((a, b) => a.key.localeCompare(b.key));

interface Tampering { objects: TrailObject[]; expected: Array<{ problem: string; key: string }> }

/** Every kind of tampering, each in its own place in an otherwise untouched trail. */
function tamper(original: TrailObject[], options: { resign: boolean }): Tampering {
  let objects = original.map((o) => ({ ...o }));
  const expected: Tampering['expected'] = [];
  const remove = (obj: TrailObject) => (objects = objects.filter((o) => o !== obj));

  // A digest deleted in the middle of a chain: the next one names it.
  const deletedDigest = digestsOf(objects, A1, USE1)[2];
  remove(deletedDigest);
  expected.push({ problem: 'digest_missing', key: deletedDigest.key });

  // A log deleted.
  const deletedLog = logsOf(objects, A1, USE1)[8];
  remove(deletedLog);
  expected.push({ problem: 'log_missing', key: deletedLog.key });

  // A digest moved to another key (another region's folder): missing where it was, wrong where it is.
  const moved = digestsOf(objects, A1, EUW1)[3];
  const movedTo = moved.key.replace(`/CloudTrail-Digest/${EUW1}/`, '/CloudTrail-Digest/us-west-2/');
  objects.push({ ...moved, key: movedTo });
  remove(moved);
  expected.push({ problem: 'digest_missing', key: moved.key }, { problem: 'digest_modified', key: movedTo });

  // A log edited: one field of one record.
  const edited = logsOf(objects, A2, EUW1)[9];
  const log = JSON.parse(gunzipSync(edited.body).toString());
  log.Records[0].sourceIPAddress = '198.51.100.77';
  edited.body = gzipSync(JSON.stringify(log));
  expected.push({ problem: 'log_modified', key: edited.key });

  // A log that no digest lists, in an hour whose digest exists.
  const time = new Date(Date.parse(START) + 3 * 3_600_000 + 25 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const planted = { key: `trail/${logObjectKey(A2, USE1, time, 'o-abc123def4')}`, body: gzipSync(JSON.stringify({ Records: mixedRecords(3, 0, { account: A2, region: USE1, time }) })) };
  objects.push(planted);
  expected.push({ problem: 'log_not_listed', key: planted.key });

  // A digest edited: the next digest records another hash (and, signed, the signature fails too).
  const editedDigest = digestsOf(objects, A2, EUW1)[2];
  const doc = JSON.parse(gunzipSync(editedDigest.body).toString());
  doc.newestEventTime = '2024-05-01T23:59:59Z';
  editedDigest.body = gzipSync(JSON.stringify(doc));
  expected.push({ problem: 'digest_modified', key: editedDigest.key });

  if (options.resign) {
    expected.push({ problem: 'digest_signature_invalid', key: editedDigest.key });
    // A bad signature: a real signature by the right key, over something else.
    const badSig = digestsOf(objects, A2, USE1)[1];
    badSig.metadata = { ...badSig.metadata, signature: sign('sha256', Buffer.from('something else'), key1.privateKey).toString('hex') };
    expected.push({ problem: 'digest_signature_invalid', key: badSig.key });
  }
  return { objects, expected };
}

async function bucketWith(name: string, objects: TrailObject[]): Promise<string> {
  await s3.createBucket(name);
  await putTrail(s3.client, name, objects);
  return `s3://${name}/trail`;
}

/**
 * The two trails most S3 tests read, uploaded once each when first needed: verify only reads the
 * bucket (its results go to stdout or --db), so every test on the untouched trail, and every test
 * on the tampered one, can read the same objects. Each upload is ~72 PUTs through s3rver.
 */
const once = <T>(make: () => T): (() => T) => {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
};
const cleanBucket = once(() => bucketWith('clean', trail('clean')));
const tampered = once(() => tamper(trail('tampered'), { resign: true }));
const tamperedBucket = once(() => bucketWith('tampered', tampered().objects));

function folderWith(name: string, objects: TrailObject[]): string {
  const folder = join(dir, name);
  writeTrail(folder, objects);
  return folder;
}

async function verify(args: string[], env: Record<string, string> = {}) {
  const result = await runCli(['verify', ...args, '--format', 'json'], { ...s3.env, ...env });
  let report;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
  }
  return { code: result.code, stderr: result.stderr, report };
}

const problemsOf = (report: { problems: Array<{ problem: string; object: string }> }) =>
  report.problems.map((p) => `${p.problem} ${p.object}`).sort();

beforeAll(async () => {
  writeFileSync(keysFile, publicKeyList([key1, key2]));
  s3 = await startLocalS3();
  cloudtrail = await startCloudTrailServer({ [USE1]: [key1, key2] });
}, 60_000);

afterAll(async () => {
  await cloudtrail?.stop();
  await s3?.stop();
  cleanup();
});

describe('keytrail verify on S3, public keys from a file', () => {
  it('verifies an untouched organization trail: every digest signed, every log hashed, no gaps', async () => {
    const source = await cleanBucket();
    const { code, report } = await verify([source, '--public-keys', keysFile]);
    expect(report.problems).toEqual([]);
    expect(code).toBe(0);
    expect(report).toMatchObject({
      verified: true, signatures: 'checked', gaps: [],
      digests: { total: 24, verified: 24, failed: 0 }, logs: { total: 48, verified: 48, failed: 0, unverified: 0 },
    });
    expect(report.regions.map((r: { account_id: string; region: string }) => `${r.account_id}/${r.region}`)).toEqual([
      `${A1}/${EUW1}`, `${A1}/${USE1}`, `${A2}/${EUW1}`, `${A2}/${USE1}`,
    ]);
  }, 60_000);

  it('reports exactly the tampered objects, each with its kind, and exits 1', async () => {
    const { expected } = tampered();
    const source = await tamperedBucket();
    const { code, report } = await verify([source, '--public-keys', keysFile]);
    expect(problemsOf(report)).toEqual(expected.map((e) => `${e.problem} s3://tampered/${e.key}`).sort());
    expect(report.gaps).toEqual([]);
    expect(code).toBe(1);
    const moved = report.problems.find((p: { problem: string }) => p.problem === 'digest_modified' && p.object.includes('us-west-2'));
    expect(moved.detail).toMatch(/not where it says it lives/);
  }, 60_000);

  it('stores the result per object with --db, the same after a second run', async () => {
    const source = await tamperedBucket();
    const db = join(dir, 'verify.duckdb');
    expect((await verify([source, '--public-keys', keysFile, '--db', db])).code).toBe(1);
    const counts = async () => sql<{ kind: string; status: string; n: number }>(db,
      'SELECT kind, status, count(*)::INTEGER AS n FROM verified_objects GROUP BY ALL ORDER BY ALL');
    const first = await counts();
    expect(first).toEqual([
      // 24 digests: 22 read (one deleted, one moved) + the moved copy; 3 failed + 2 missing rows
      { kind: 'digest', status: 'failed', n: 5 },
      { kind: 'digest', status: 'verified', n: 20 },
      // 48 logs + 1 planted; the deleted one is a row too
      { kind: 'log', status: 'failed', n: 3 },
      // in the deleted digest's hour (2); listed by the moved, the edited and the badly signed digest (2 each)
      { kind: 'log', status: 'unverified', n: 8 },
      { kind: 'log', status: 'verified', n: 38 },
    ]);
    expect(await sql(db, `SELECT problem, status FROM verified_objects WHERE object_uri LIKE '%198.51%' OR problem = 'log_not_listed'`))
      .toEqual([{ problem: 'log_not_listed', status: 'failed' }]);
    await verify([source, '--public-keys', keysFile, '--db', db]);
    expect(await counts()).toEqual(first);
  }, 60_000);

  it('--since/--until list only the digests of those days; the logs at the edges are unverified, not problems', async () => {
    const source = await cleanBucket();
    const since = await verify([source, '--public-keys', keysFile, '--since', '2024-05-02']);
    expect(since.report.problems).toEqual([]);
    expect(since.report.digests).toMatchObject({ total: 12, verified: 12 }); // hours 3-5 end on 2024-05-02
    expect(since.code).toBe(0);
    const until = await verify([source, '--public-keys', keysFile, '--until', '2024-05-01']);
    expect(until.report.problems).toEqual([]);
    expect(until.report.gaps).toEqual([]); // the last digest of the day ends at 23:01:31
    expect(until.report.digests).toMatchObject({ total: 12, verified: 12 });
    // hour 3's logs (23:06, 23:16) are in 2024-05-01's folders; their digest ends on 2024-05-02
    expect(until.report.logs).toMatchObject({ total: 32, verified: 24, unverified: 8 });
    expect(until.code).toBe(0);
  }, 60_000);

  it('a key list without the key a digest names: that digest\'s signature is invalid', async () => {
    const source = await cleanBucket();
    const onlyKey2 = join(dir, 'only-key2.json');
    writeFileSync(onlyKey2, publicKeyList([key2]));
    const { code, report } = await verify([source, '--public-keys', onlyKey2]);
    expect(code).toBe(1);
    expect(report.problems).toHaveLength(8); // hours 0 and 1 of four chains
    expect(new Set(report.problems.map((p: { problem: string }) => p.problem))).toEqual(new Set(['digest_signature_invalid']));
    expect(report.problems[0].detail).toContain(key1.fingerprint);
  }, 60_000);
});

describe('keytrail verify with public keys through the CloudTrail API', () => {
  const env = () => ({ AWS_ENDPOINT_URL_CLOUDTRAIL: cloudtrail.endpoint });

  it('fetches the keys with ListPublicKeys (paged) and verifies the signatures', async () => {
    const source = await cleanBucket();
    cloudtrail.calls.length = 0;
    const { code, report } = await verify([source], env());
    expect(report.problems).toEqual([]);
    expect(code).toBe(0);
    expect(report.digests.verified).toBe(24);
    const calls = cloudtrail.calls.filter((c) => c.target.endsWith('CloudTrail_20131101.ListPublicKeys'));
    expect(new Set(calls.map((c) => c.region))).toEqual(new Set([USE1, EUW1]));
    expect(calls.some((c) => typeof c.body.NextToken === 'string')).toBe(true);
    expect(calls.every((c) => typeof c.body.StartTime === 'number' && (c.body.StartTime as number) < Date.parse(START) / 1000)).toBe(true);
  }, 60_000);

  it('finds a bad signature online as it does offline', async () => {
    const { expected } = tampered();
    const source = await tamperedBucket();
    const { code, report } = await verify([source], env());
    expect(code).toBe(1);
    expect(problemsOf(report)).toEqual(expected.map((e) => `${e.problem} s3://tampered/${e.key}`).sort());
  }, 60_000);

  it('keys that cannot be fetched leave signatures unchecked: exit 3, no false problem', async () => {
    const denied = await startCloudTrailServer({ [USE1]: [key1, key2] });
    denied.deny(USE1);
    try {
      const source = await cleanBucket();
      const { code, report, stderr } = await verify([source], { AWS_ENDPOINT_URL_CLOUDTRAIL: denied.endpoint });
      expect(report.problems).toEqual([]);
      expect(report.signatures).toBe('not_checked');
      expect(stderr).toMatch(/ListPublicKeys in us-east-1: AccessDeniedException/);
      expect(code).toBe(3);
    } finally {
      await denied.stop();
    }
  }, 60_000);
});

describe('keytrail verify offline in a folder', () => {
  it('checks hashes and the chain of a plain trail; signatures are reported as not checked, not as failures', async () => {
    const folder = folderWith('clean-folder', trail('bucket', { prefix: '', org: undefined }));
    const { code, report } = await verify([folder]);
    expect(report.problems).toEqual([]);
    expect(code).toBe(0);
    expect(report).toMatchObject({ signatures: 'not_checked', digests: { total: 24, unsigned: 24 }, logs: { total: 48, unsigned: 48 } });
    expect(report.signatures_note).toMatch(/no S3 metadata/);
  }, 60_000);

  it('reports exactly the tampered files', async () => {
    const { objects, expected } = tamper(trail('bucket'), { resign: false });
    const folder = folderWith('tampered-folder', objects);
    const { code, report } = await verify([folder]);
    expect(problemsOf(report)).toEqual(expected.map((e) => `${e.problem} ${join(resolve(folder), e.key)}`).sort());
    expect(code).toBe(1);
  }, 60_000);

  it('a listed log that cannot be read is neither missing nor verified: exit 3, named on stderr', async () => {
    const objects = trail('bucket', { accounts: [A1], regions: [USE1] });
    const folder = folderWith('unreadable-folder', objects);
    const log = join(folder, logsOf(objects, A1, USE1)[3].key);
    rmSync(log);
    mkdirSync(log); // a folder where the file was: reading it fails, and it is not absent
    const { code, report, stderr } = await verify([folder]);
    expect(report.problems).toEqual([]);
    expect(report.unreadable).toEqual([expect.stringContaining(log)]);
    expect(stderr).toContain(log);
    expect(code).toBe(3);
  }, 60_000);

  it('--since: a chain whose previous digest is before the range is not missing anything', async () => {
    const folder = folderWith('since-folder', trail('bucket'));
    const { code, report } = await verify([folder, '--since', '2024-05-02']);
    expect(report.problems).toEqual([]);
    expect(report.gaps).toEqual([]);
    expect(report.digests.total).toBe(12); // hours 3-5 end on 2024-05-02
    expect(code).toBe(0);
  }, 60_000);
});

describe('delivery gaps', () => {
  const one = (options: Partial<TrailOptions>) => trail('bucket', { accounts: [A1], regions: [USE1], ...options });

  it('hours without a digest are gaps (the chain continuing over them, or restarting), not tampering', async () => {
    for (const restartChain of [false, true]) {
      const folder = folderWith(`gap-${restartChain}`, one({ stoppedHours: [2, 3], restartChain }));
      const { code, report } = await verify([folder]);
      expect(report.problems).toEqual([]);
      expect(report.gaps).toEqual([{ account_id: A1, region: USE1, trail: 'management-events', from: '2024-05-01T22:01:31Z', until: '2024-05-02T00:01:31Z', hours: 2 }]);
      expect(code).toBe(0);
    }
  }, 60_000);

  it('a region whose digests stop before the others has a gap up to the newest digest; --until extends it', async () => {
    const objects = [...one({ hours: 6 }), ...trail('bucket', { accounts: [A1], regions: [EUW1], hours: 3 })];
    const folder = folderWith('gap-trailing', objects);
    const { report } = await verify([folder]);
    expect(report.gaps).toEqual([{ account_id: A1, region: EUW1, trail: 'management-events', from: '2024-05-01T23:01:31Z', until: '2024-05-02T02:01:31Z', hours: 3 }]);
    const until = await verify([folder, '--until', '2024-05-02']);
    expect(until.report.gaps.map((g: { region: string; until: string }) => `${g.region} ${g.until}`)).toEqual([
      `${EUW1} 2024-05-03T00:00:00Z`, `${USE1} 2024-05-03T00:00:00Z`,
    ]);
    expect(until.report.problems).toEqual([]);
  }, 60_000);
});

describe('keytrail verify usage', () => {
  it('no digests, a bad key file or a bad date: a clear message and exit 2', async () => {
    const empty = join(dir, 'no-digests');
    writeTrail(empty, trail('bucket', { prefix: '' }).filter((o) => !o.key.includes('Digest')));
    const none = await runCli(['verify', empty]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no CloudTrail digests under .*no-digests/);
    const badKeys = join(dir, 'bad-keys.json');
    writeFileSync(badKeys, '{"Keys": []}');
    const bad = await runCli(['verify', empty, '--public-keys', badKeys]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--public-keys: .*bad-keys.json: no PublicKeyList/);
    const date = await runCli(['verify', empty, '--since', '2024-13-01']);
    expect(date.code).toBe(2);
    expect(date.stderr).toMatch(/--since/);
  }, 60_000);
});

export type { TrailKey };
