// ingest --verify: one pass that loads a signed trail and verifies it, with the log hashes taken in
// the decode workers; then detect and report saying which findings rest on what. A signed trail on
// s3rver (signatures as S3 metadata), the same trail in a folder, and an edited log object.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../scripts/local-s3.js';
import { decodeObject } from '../src/decode/decode.js';
import { logObjectSha256 } from '../src/integrity/digest.js';
import { openTrailObjects } from '../src/integrity/objects.js';
import { loadPublicKeysFile } from '../src/integrity/public-keys.js';
import { verifySource } from '../src/integrity/verify.js';
import { runCli } from './helpers/cli.js';
import { startCloudTrailServer } from './helpers/cloudtrail-server.js';
import { buildSignedTrail, makeTrailKey, publicKeyList, putTrail, writeTrail, type TrailObject } from './helpers/digests.js';
import { sql } from './helpers/ingest.js';
import { tempDir } from './helpers/log-objects.js';
import { cloudTrailRecord, mixedRecords } from './helpers/records.js';

const A1 = '111111111111';
const USE1 = 'us-east-1';
const key = makeTrailKey();
const { dir, cleanup } = tempDir('keytrail-ingest-verify-');
const keysFile = join(dir, 'public-keys.json');
let s3: LocalS3;
/** The untouched signed trail, put once: the tests that only read it share its bucket. */
const SIGNED = 'signed-trail';
let signed: { objects: TrailObject[]; source: string };

/** The root user calls KMS from two addresses, in two different log objects: two root_use findings. */
const ROOT_IPS = { 1: '198.51.100.10', 2: '198.51.100.20' } as Record<number, string>;
function rootRecord(time: string, ip: string) {
  return cloudTrailRecord({
    account: A1, time, sourceIp: ip,
    extra: { userIdentity: { type: 'Root', principalId: A1, arn: `arn:aws:iam::${A1}:root`, accountId: A1 } },
  });
}

function trail(bucket: string, stoppedHours: number[] = []): TrailObject[] {
  return buildSignedTrail({
    bucket, prefix: 'trail/', accounts: [A1], regions: [USE1], start: '2024-05-01T10:01:31Z', hours: 5, logsPerHour: 2,
    keyFor: () => key, stoppedHours,
    records: ({ account, region, time, hour, index }) => [
      ...mixedRecords(2, 2, { account, region, time }),
      ...(index === 0 && ROOT_IPS[hour] ? [rootRecord(time, ROOT_IPS[hour])] : []),
    ],
  });
}

/** The attacker's edit: the root call of hour 1 now seems to come from elsewhere. */
function editRootLog(objects: TrailObject[]): { objects: TrailObject[]; edited: string } {
  const copy = objects.map((o) => ({ ...o }));
  const target = copy.find((o) => o.key.includes('/CloudTrail/') && gunzipSync(o.body).toString().includes(ROOT_IPS[1]))!;
  const log = JSON.parse(gunzipSync(target.body).toString());
  for (const r of log.Records) if (r.sourceIPAddress === ROOT_IPS[1]) r.sourceIPAddress = '192.0.2.99';
  target.body = gzipSync(JSON.stringify(log));
  return { objects: copy, edited: target.key };
}

async function bucketWith(name: string, objects: TrailObject[]): Promise<string> {
  await s3.createBucket(name);
  await putTrail(s3.client, name, objects);
  return `s3://${name}/trail`;
}

async function cli(args: string[], env: Record<string, string> = {}) {
  return runCli(args, { ...s3.env, ...env });
}

async function ingestJson(args: string[], env: Record<string, string> = {}) {
  const result = await cli(['ingest', ...args, '--json'], env);
  try {
    return { ...result, summary: JSON.parse(result.stdout) };
  } catch {
    throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
  }
}

async function rootFindings(db: string) {
  const result = await cli(['detect', '--db', db, '--rule', 'root_use', '--format', 'json']);
  expect(result.code, result.stderr).toBe(0);
  const findings = JSON.parse(result.stdout) as Array<{ source_ip: string; evidence?: string; event_count: number }>;
  return { findings: findings.sort((a, b) => a.source_ip.localeCompare(b.source_ip)), stderr: result.stderr };
}

const statusCounts = (db: string) =>
  sql<{ kind: string; status: string; n: number }>(db, 'SELECT kind, status, count(*)::INTEGER AS n FROM verified_objects GROUP BY ALL ORDER BY ALL');

beforeAll(async () => {
  writeFileSync(keysFile, publicKeyList([key]));
  s3 = await startLocalS3();
  const objects = trail(SIGNED);
  signed = { objects, source: await bucketWith(SIGNED, objects) };
}, 60_000);

afterAll(async () => {
  await s3?.stop();
  cleanup();
});

describe('the decode worker\'s hash', () => {
  it('is the hash digests list: of the uncompressed content, gzipped or not; only when asked', () => {
    const json = JSON.stringify({ Records: mixedRecords(2, 1) });
    const gz = gzipSync(json);
    expect(decodeObject(gz, 0, Infinity, true).sha256).toBe(logObjectSha256(gz));
    expect(decodeObject(Buffer.from(json), 0, Infinity, true).sha256).toBe(logObjectSha256(gz));
    expect(decodeObject(gz, 0).sha256).toBeUndefined();
  });
});

describe('ingest --verify on S3', () => {
  it('an untouched signed trail: loaded and every object verified; findings rest on verified objects', async () => {
    const { source } = signed;
    const db = join(dir, 'clean.duckdb');
    const { code, summary, stderr } = await ingestJson([source, '--db', db, '--verify', '--public-keys', keysFile]);
    expect(code, stderr).toBe(0);
    expect(summary.objects).toBe(10);
    expect(summary.verification.problems).toEqual([]);
    expect(summary.verification.signatures).toBe('checked');
    expect(summary.verification.digests).toMatchObject({ verified: 5, failed: 0 });
    expect(summary.verification.logs).toMatchObject({ verified: 10, failed: 0, unverified: 0 });
    expect(await statusCounts(db)).toEqual([{ kind: 'digest', status: 'verified', n: 5 }, { kind: 'log', status: 'verified', n: 10 }]);
    // Every object loaded has its verification, under the same name.
    const [{ n }] = await sql<{ n: number }>(db, `SELECT count(*)::INTEGER AS n FROM ingested_objects i
      JOIN verified_objects v ON v.object_uri = i.object_uri AND v.status = 'verified'`);
    expect(n).toBe(10);

    const { findings, stderr: notes } = await rootFindings(db);
    expect(findings.map((f) => [f.source_ip, f.evidence])).toEqual([[ROOT_IPS[1], 'verified'], [ROOT_IPS[2], 'verified']]);
    expect(notes).not.toMatch(/rests on/);

    const report = await cli(['report', '--db', db, '--format', 'md']);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain('## Integrity');
    expect(report.stdout).toMatch(/\| log \| verified \| 10 \|/);
    expect(report.stdout).not.toContain('Failed verification');
    expect(report.stdout).not.toMatch(/finding\(s\) rest on/);
  });

  it('checks the hashes the ingest took, not the object again: a hash that does not match is log_modified', async () => {
    const { objects, source } = signed;
    const log = objects.find((o) => o.key.includes('/CloudTrail/'))!;
    Object.assign(process.env, s3.env); // credentials for the SDK client in this process
    const trailObjects = await openTrailObjects(source, { endpointUrl: s3.endpoint, concurrency: 4 });
    try {
      const result = await verifySource(trailObjects, {
        range: { since: null, until: null }, publicKeys: await loadPublicKeysFile(keysFile), concurrency: 4,
        knownSha256: new Map([[`s3://${SIGNED}/${log.key}`, logObjectSha256(gzipSync('something else'))]]),
      });
      expect(result.problems.map((p) => `${p.problem} ${p.object}`)).toEqual([`log_modified s3://${SIGNED}/${log.key}`]);
    } finally {
      trailObjects.close();
    }
  });

  it('logs loaded by an earlier run are read again for verification, not skipped', async () => {
    const { source } = signed;
    const db = join(dir, 'earlier.duckdb');
    expect((await cli(['ingest', source, '--db', db])).code).toBe(0);
    expect(await sql(db, 'SELECT * FROM verified_objects')).toEqual([]);
    const { code, summary } = await ingestJson([source, '--db', db, '--verify', '--public-keys', keysFile, '--full']);
    expect(code).toBe(0);
    expect(summary.skipped).toBe(10);
    expect(summary.verification.logs).toMatchObject({ verified: 10 });
  });

  it('an edited log: still loaded, but failed (log_modified); the finding resting on it is flagged, the other is not', async () => {
    const { objects, edited } = editRootLog(trail('edited-trail'));
    const source = await bucketWith('edited-trail', objects);
    const uri = `s3://edited-trail/${edited}`;
    const db = join(dir, 'edited.duckdb');
    const { code, summary } = await ingestJson([source, '--db', db, '--verify', '--public-keys', keysFile]);
    expect(code).toBe(1);
    expect(summary.objects).toBe(10);
    expect(summary.verification.problems.map((p: { problem: string; object: string }) => `${p.problem} ${p.object}`)).toEqual([`log_modified ${uri}`]);
    const rows = await sql<{ status: string; problem: string }>(db, 'SELECT status, problem FROM verified_objects WHERE object_uri = $1', [uri]);
    expect(rows).toEqual([{ status: 'failed', problem: 'log_modified' }]);
    const [{ n }] = await sql<{ n: number }>(db, 'SELECT count(*)::INTEGER AS n FROM kms_events WHERE source_object = $1', [uri]);
    expect(n).toBe(3); // loaded all the same

    const { findings, stderr } = await rootFindings(db);
    expect(findings.map((f) => [f.source_ip, f.evidence])).toEqual([['192.0.2.99', 'tampered'], [ROOT_IPS[2], 'verified']]);
    expect(stderr).toMatch(/note: root_use .* rests on log objects that failed verification/);
    expect(stderr.match(/rests on/g)).toHaveLength(1);

    const report = await cli(['report', '--db', db, '--format', 'md']);
    expect(report.stdout).toContain('### Failed verification');
    expect(report.stdout).toContain(edited.split('/').pop()!.replace(/_/g, '\\_').slice(0, 20));
    expect(report.stdout).toMatch(/\*\*1 finding\(s\) rest on objects that failed verification, 0 on objects no valid digest vouches for/);
    const json = JSON.parse((await cli(['report', '--db', db, '--format', 'json'])).stdout);
    expect(json.integrity.failed).toEqual([expect.objectContaining({ object_uri: uri, kind: 'log', problem: 'log_modified' })]);
    expect(json.integrity.findings).toEqual({ tampered: 1, unverified: 0 });
  });
});

describe('ingest --verify with public keys through the CloudTrail API', () => {
  it('fetches them with ListPublicKeys; keys that cannot be fetched leave signatures unchecked: exit 3, no false problem', async () => {
    const cloudtrail = await startCloudTrailServer({ [USE1]: [key] });
    try {
      const { source } = signed;
      const env = { AWS_ENDPOINT_URL_CLOUDTRAIL: cloudtrail.endpoint };
      const online = await ingestJson([source, '--db', join(dir, 'online.duckdb'), '--verify'], env);
      expect(online.code, online.stderr).toBe(0);
      expect(online.summary.verification).toMatchObject({ signatures: 'checked', problems: [], logs: { verified: 10 } });
      expect(cloudtrail.calls.some((c) => c.target.endsWith('.ListPublicKeys'))).toBe(true);

      cloudtrail.deny(USE1);
      const denied = await ingestJson([source, '--db', join(dir, 'denied.duckdb'), '--verify'], env);
      expect(denied.summary.verification).toMatchObject({ signatures: 'not_checked', problems: [] });
      expect(denied.stderr).toMatch(/ListPublicKeys in us-east-1: AccessDeniedException/);
      expect(denied.code).toBe(3);
    } finally {
      await cloudtrail.stop();
    }
  });
});

describe('ingest --verify in a folder', () => {
  it('hashes and chain checked, signatures not (unsigned); an hour without delivery is a delivery gap in the report', async () => {
    const folder = join(dir, 'folder-trail');
    writeTrail(folder, trail('folder-bucket', [3]));
    const db = join(dir, 'folder.duckdb');
    const { code, summary } = await ingestJson([folder, '--db', db, '--verify']);
    expect(code).toBe(0);
    expect(summary.verification.signatures).toBe('not_checked');
    expect(summary.verification.logs).toMatchObject({ unsigned: 8, failed: 0, verified: 0 });
    expect(summary.verification.gaps).toHaveLength(1);
    const { findings } = await rootFindings(db);
    expect(findings.map((f) => f.evidence)).toEqual(['unsigned', 'unsigned']);
    const json = JSON.parse((await cli(['report', '--db', db, '--format', 'json'])).stdout);
    expect(json.integrity.delivery_gaps).toEqual([expect.objectContaining({ account_id: A1, aws_region: USE1, gaps: 1, hours: 1 })]);
    // The section follows the report's period and account.
    const later = JSON.parse((await cli(['report', '--db', db, '--format', 'json', '--since', '2024-05-02'])).stdout);
    expect(later.integrity).toMatchObject({ statuses: [], failed: [], delivery_gaps: [] });
    const other = JSON.parse((await cli(['report', '--db', db, '--format', 'json', '--account', '222222222222'])).stdout);
    expect(other.integrity).toMatchObject({ statuses: [], delivery_gaps: [] });
    const md = (await cli(['report', '--db', db])).stdout;
    expect(md).toContain('### Delivery gaps');
    expect(md).toMatch(/\| `111111111111` \| `us-east-1` \| management-events \| 1 \| 1 \|/);
  });

  it('a deleted digest: the logs only it listed are unverified, and so is the finding resting on them', async () => {
    const objects = trail('deleted-bucket');
    const digests = objects.filter((o) => o.key.includes('/CloudTrail-Digest/')).sort((a, b) => a.key.localeCompare(b.key));
    const folder = join(dir, 'deleted-digest');
    writeTrail(folder, objects.filter((o) => o !== digests[1])); // hour 1's digest
    const db = join(dir, 'deleted.duckdb');
    const { code, summary } = await ingestJson([folder, '--db', db, '--verify']);
    expect(code).toBe(1);
    expect(summary.verification.problems.map((p: { problem: string; object: string }) => `${p.problem} ${p.object}`))
      .toEqual([`digest_missing ${join(folder, digests[1].key)}`]);
    expect(summary.verification.logs).toMatchObject({ unsigned: 8, unverified: 2, failed: 0 });
    const { findings, stderr } = await rootFindings(db);
    expect(findings.map((f) => [f.source_ip, f.evidence])).toEqual([[ROOT_IPS[1], 'unverified'], [ROOT_IPS[2], 'unsigned']]);
    expect(stderr).toMatch(/note: root_use .* rests on log objects no valid digest vouches for/);
  });
});

describe('without --verify', () => {
  it('nothing is verified, and detect and report say nothing about it', async () => {
    const folder = join(dir, 'plain-trail');
    writeTrail(folder, editRootLog(trail('plain-bucket')).objects);
    const db = join(dir, 'plain.duckdb');
    expect((await cli(['ingest', folder, '--db', db])).code).toBe(0);
    expect(await sql(db, 'SELECT * FROM verified_objects')).toEqual([]);
    const { findings, stderr } = await rootFindings(db);
    expect(findings).toHaveLength(2);
    for (const f of findings) expect(f).not.toHaveProperty('evidence');
    expect(stderr).not.toMatch(/rests on/);
    const report = await cli(['report', '--db', db]);
    expect(report.stdout).not.toContain('Integrity');
  });

  it('--public-keys alone is bad usage', async () => {
    const result = await cli(['ingest', join(dir, 'plain-trail'), '--db', join(dir, 'x.duckdb'), '--public-keys', keysFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--public-keys goes with --verify');
  });
});
