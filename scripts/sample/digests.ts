// Digest files of the sample: hourly, chained (previousDigest*), each listing the log objects
// delivered in its hour with their SHA-256, in the CloudTrail-Digest key layout. Signatures are
// random bytes (no private key): keytrail verify finds them unverifiable against the real keys.

import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { compactStamp, HOUR, iso, MIN, Rng, SEC, ymd } from '../cloudtrail/index.js';
import { ACCOUNT_REGIONS } from './organization.js';
import { ORG_ACCOUNTS } from './types.js';
import type { Writer } from './writer.js';

/** Hourly digests for `hours` hours from `from` (each covers the log objects delivered in its hour). */
export function writeDigests(writer: Writer, from: number, hours: number, trailName: string, seed: number, org: boolean, orgId: string): number {
  const rng = new Rng(seed, 6);
  const fingerprint = rng.hex(32);
  let n = 0;
  for (const account of ORG_ACCOUNTS)
    for (const region of ACCOUNT_REGIONS[account]!) {
      const logs = writer.digestLog.get(`${account}/${region}`) ?? [];
      let prev: { path: string; hash: string; sig: string } | null = null;
      for (let h = 0; h < hours; h++) {
        const end = from + (h + 1) * HOUR + rng.range(60, 900) * SEC;
        const begin = h === 0 ? from : end - HOUR;
        const files = logs.filter((l) => {
          const m = /_(\d{8})T(\d{4})Z_/.exec(l.path)!;
          const ts = Date.UTC(+m[1]!.slice(0, 4), +m[1]!.slice(4, 6) - 1, +m[1]!.slice(6, 8), +m[2]!.slice(0, 2), +m[2]!.slice(2, 4));
          return ts >= begin - (begin % MIN) && ts < end - (end % MIN);
        });
        const dir = ymd(end).replace(/-/g, '/');
        const prefix = org ? `AWSLogs/${orgId}/${account}` : `AWSLogs/${account}`;
        const path = `${prefix}/CloudTrail-Digest/${region}/${dir}/${account}_CloudTrail-Digest_${region}_${trailName}_${region}_${compactStamp(end, true)}.json.gz`;
        const bucket = org ? 'org-cloudtrail-logs-333333333333' : `cloudtrail-logs-${account}`;
        const body: Record<string, unknown> = {
          awsAccountId: account,
          digestStartTime: iso(begin),
          digestEndTime: iso(end),
          digestS3Bucket: bucket,
          digestS3Object: path,
          digestPublicKeyFingerprint: fingerprint,
          digestSignatureAlgorithm: 'SHA256withRSA',
          newestEventTime: files.length ? files.map((f) => f.newest).sort().at(-1)! : null,
          oldestEventTime: files.length ? files.map((f) => f.oldest).sort()[0]! : null,
          previousDigestS3Bucket: prev ? bucket : null,
          previousDigestS3Object: prev ? prev.path : null,
          previousDigestHashValue: prev ? prev.hash : null,
          previousDigestHashAlgorithm: prev ? 'SHA-256' : null,
          previousDigestSignature: prev ? prev.sig : null,
          logFiles: files.map((f) => ({ s3Bucket: bucket, s3Object: f.path, hashValue: f.hash, hashAlgorithm: 'SHA-256', newestEventTime: f.newest, oldestEventTime: f.oldest })),
        };
        const json: string = JSON.stringify(body);
        writer.put(path, gzipSync(json));
        prev = { path, hash: createHash('sha256').update(json).digest('hex'), sig: rng.hex(512) };
        n++;
      }
    }
  return n;
}
