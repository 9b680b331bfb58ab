// The pieces `ingest --verify` will call on its own: the digest document (AWS's published examples),
// the string CloudTrail signs, public keys in both DER encodings, one digest and its logs checked from
// bytes, and where a folder copy keeps the objects a digest names.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkChains } from '../src/integrity/chain.js';
import { checkLogObject, verifyDigest, verifyDigestAndLogs } from '../src/integrity/check.js';
import { digestDay, digestKeyParts, FormatError, logObjectSha256, parseDigest, stringToSign } from '../src/integrity/digest.js';
import { s3Locate } from '../src/integrity/check.js';
import { folderLocate } from '../src/integrity/objects.js';
import { parsePublicKeyList, PublicKeyError } from '../src/integrity/public-keys.js';
import { buildSignedTrail, makeTrailKey, publicKeyList, sha256 } from './helpers/digests.js';
import { fixturesDir } from './helpers/log-objects.js';

const example = (name: string) => readFileSync(join(fixturesDir, 'datasets/awsdocs-cloudtrail-user-guide/digest-examples', name));

describe('the digest document', () => {
  it('reads the AWS examples, gzipped or not, and hashes the uncompressed content', () => {
    const raw = example('digest-with-logfiles.json');
    const plain = parseDigest(raw);
    expect(plain.document.logFiles).toHaveLength(1);
    expect(plain.document.logFiles[0].hashValue).toBe('9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6');
    expect(plain.document.previousDigestHashValue).toBe('97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d');
    expect(plain.sha256).toBe(sha256(raw));
    expect(parseDigest(gzipSync(raw)).sha256).toBe(plain.sha256);
    expect(parseDigest(example('digest-empty-logfiles.json')).document.logFiles).toEqual([]);
  });

  it('signs end time, location, content hash and the previous signature ("null" for the first)', () => {
    const raw = example('digest-empty-logfiles.json');
    const { document, sha256: hash } = parseDigest(raw);
    expect(stringToSign(document, hash)).toBe(
      '2015-08-20T18:01:31Z\nexample-bucket-name/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/20/' +
        `111122223333_CloudTrail-Digest_us-east-2_example-trail-name_us-east-2_20150820T180131Z.json.gz\n${hash}\n${document.previousDigestSignature}`,
    );
    expect(stringToSign({ ...document, previousDigestSignature: null }, hash).endsWith(`\n${hash}\nnull`)).toBe(true);
  });

  it('names its account, region, trail and time in its key; other objects are not digests', () => {
    const key = 'p/AWSLogs/o-abc/111122223333/CloudTrail-Digest/us-east-2/2015/08/20/111122223333_CloudTrail-Digest_us-east-2_my_trail_us-east-1_20150820T180131Z.json.gz';
    expect(digestKeyParts(key)).toEqual({ account: '111122223333', region: 'us-east-2', trail: 'my_trail', homeRegion: 'us-east-1', time: '2015-08-20T18:01:31Z', backfill: false });
    expect(digestDay(key)).toBe('2015-08-20');
    expect(digestKeyParts(key.replace('.json.gz', '_backfill.json.gz'))?.backfill).toBe(true);
    expect(digestKeyParts('AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/20/111122223333_CloudTrail_us-east-2_20150820T1445Z_9nYN7gp2eWAJHIfT.json.gz')).toBeNull();
  });

  it('refuses what is not a digest', () => {
    expect(() => parseDigest(Buffer.from('{"Records": []}'))).toThrow(/not a CloudTrail digest: no digestStartTime/);
    expect(() => parseDigest(Buffer.from([0x1f, 0x8b, 1, 2, 3]))).toThrow(FormatError);
  });
});

describe('public keys', () => {
  it('reads PKCS#1 (what CloudTrail returns) and SubjectPublicKeyInfo; refuses other files clearly', () => {
    const ring = parsePublicKeyList(publicKeyList([makeTrailKey(), makeTrailKey(undefined, undefined, 'spki')]), 'keys.json');
    expect([...ring.keys.values()].map((k) => k.key.asymmetricKeyType)).toEqual(['rsa', 'rsa']);
    expect(() => parsePublicKeyList('{"PublicKeyList":[{"Fingerprint":"ab","Value":"bm90IGEga2V5"}]}', 'k.json')).toThrow(PublicKeyError);
    expect(() => parsePublicKeyList('[]', 'k.json')).toThrow(/k.json: no PublicKeyList/);
  });
});

describe('one digest and its logs, from bytes', () => {
  const key = makeTrailKey();
  const objects = buildSignedTrail({ bucket: 'b', accounts: ['111122223333'], regions: ['us-east-1'], start: '2024-05-01T00:01:31Z', hours: 1, logsPerHour: 2, keyFor: () => key });
  const digest = objects.find((o) => o.key.includes('Digest'))!;
  const logs = new Map(objects.filter((o) => o !== digest).map((o) => [`s3://b/${o.key}`, o.body]));
  const ring = parsePublicKeyList(publicKeyList([key]), 'keys');

  it('a signed digest verifies; the same digest under another key or with a changed signature does not', async () => {
    const uri = `s3://b/${digest.key}`;
    const { digest: ok, logs: checked } = await verifyDigestAndLogs({ uri, bytes: digest.body, metadata: digest.metadata! }, ring, s3Locate, async (u) => logs.get(u) ?? null);
    expect(ok.signature).toBe('valid');
    expect(ok.problems).toEqual([]);
    expect(checked.map((l) => l.status)).toEqual(['verified', 'verified']);

    const moved = verifyDigest({ uri: uri.replace('us-east-1/2024', 'us-east-2/2024'), bytes: digest.body, metadata: digest.metadata! }, ring, s3Locate);
    expect(moved.problems.map((p) => p.problem)).toEqual(['digest_modified']);
    const forged = { ...digest.metadata!, signature: digest.metadata!.signature.replace(/^../, (h) => (h === '00' ? '01' : '00')) };
    expect(verifyDigest({ uri, bytes: digest.body, metadata: forged }, ring, s3Locate).problems.map((p) => p.problem)).toEqual(['digest_signature_invalid']);
    expect(verifyDigest({ uri, bytes: digest.body, metadata: {} }, ring, s3Locate).problems[0].detail).toMatch(/no signature/);
    expect(verifyDigest({ uri, bytes: digest.body, metadata: null }, ring, s3Locate)).toMatchObject({ signature: 'not_checked', problems: [] });
  });

  it('a log hashes as its digest records it, gzipped or as a gunzipped copy; edited or gone, it fails', () => {
    const check = verifyDigest({ uri: `s3://b/${digest.key}`, bytes: digest.body, metadata: digest.metadata! }, ring, s3Locate);
    const listed = check.logs[0];
    const body = logs.get(listed.uri)!;
    expect(logObjectSha256(body)).toBe(listed.expectedSha256);
    expect(checkLogObject(listed, check.uri, gunzipSync(body)).status).toBe('verified');
    const edited = gzipSync(gunzipSync(body).toString().replace('203.0.113.10', '203.0.113.11'));
    expect(checkLogObject(listed, check.uri, edited).problem?.problem).toBe('log_modified');
    expect(checkLogObject(listed, check.uri, Buffer.from('garbage')).problem?.problem).toBe('log_modified');
    expect(checkLogObject(listed, check.uri, null).problem?.problem).toBe('log_missing');
  });

  it('a folder copy finds a key under the folder that holds the digest\'s AWSLogs/, whatever prefix the key has', () => {
    const locate = folderLocate('/data/copy/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/x.json.gz');
    expect(locate('b', 'trail/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/y.json.gz')).toBe('/data/copy/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/y.json.gz');
    expect(folderLocate('/flat/x.json.gz')('b', 'AWSLogs/1/CloudTrail/r/y.json.gz')).toBe('/flat/y.json.gz');
  });
});

describe('the chain between digests', () => {
  const key = makeTrailKey();
  const build = (stoppedHours: number[] = []) =>
    buildSignedTrail({ bucket: 'b', accounts: ['111122223333'], regions: ['us-east-1'], start: '2024-05-01T00:01:31Z', hours: 5, logsPerHour: 0, keyFor: () => key, stoppedHours })
      .filter((o) => o.key.includes('Digest')).sort((x, y) => x.key.localeCompare(y.key));
  const checks = (objects: ReturnType<typeof build>) =>
    objects.map((o) => verifyDigest({ uri: `s3://b/${o.key}`, bytes: o.body, metadata: o.metadata! }, null, s3Locate));
  const options = { listed: () => true, windowStart: null, windowEnd: null };

  it('an intact chain has no problem and no gap; a stopped hour is a gap, not a problem', () => {
    expect(checkChains(checks(build()), options)).toEqual({ problems: [], gaps: [] });
    expect(checkChains(checks(build([2])), options)).toEqual({
      problems: [],
      gaps: [{ account_id: '111122223333', region: 'us-east-1', trail: 'management-events', from: '2024-05-01T02:01:31Z', until: '2024-05-01T03:01:31Z', hours: 1 }],
    });
  });

  it('a digest made unreadable is modified, and the hole it leaves is not reported as a delivery gap', () => {
    const objects = build();
    objects[2] = { ...objects[2], body: gzipSync('{"truncated": ') };
    const digests = checks(objects);
    expect(digests[2].problems.map((p) => p.problem)).toEqual(['digest_modified']);
    const { problems, gaps } = checkChains(digests, options);
    expect(problems.map((p) => `${p.problem} ${p.object}`)).toEqual([`digest_modified s3://b/${objects[2].key}`]);
    expect(gaps).toEqual([]);
  });

  it('a previous digest that was not listed (outside the range or the source) is not missing', () => {
    const digests = checks(build().slice(2));
    expect(checkChains(digests, { ...options, listed: () => false }).problems).toEqual([]);
    expect(checkChains(digests, options).problems.map((p) => p.problem)).toEqual(['digest_missing']);
  });
});
