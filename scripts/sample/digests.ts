// Digest files of the sample: hourly, chained (previousDigest*), each listing the log objects
// delivered in its hour with their SHA-256, in the CloudTrail-Digest key layout. With a signer,
// each is signed as CloudTrail signs it (the demo serves the public key through ListPublicKeys);
// without one, signatures are seeded random bytes that no key verifies. A folder has no S3
// metadata, so the signatures are returned for whoever uploads the digests.

import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { compactStamp, HOUR, iso, MIN, Rng, SEC, signDigest, ymd, type TrailKey } from '../cloudtrail/index.js';
import { ACCOUNT_REGIONS } from './organization.js';
import { ORG_ACCOUNTS } from './types.js';
import type { Writer } from './writer.js';

export interface DigestOptions {
  from: number;
  hours: number;
  trailName: string;
  seed: number;
  org: boolean;
  orgId: string;
  /** The bucket the digests name (default: the sample's org bucket, or each account's own). */
  bucket?: string;
  signer?: TrailKey;
}

/**
 * Hourly digests for `hours` hours from `from` (each covers the log objects delivered in its hour).
 * Returns each digest's signature (its S3 metadata `signature`) by path.
 */
export function writeDigests(writer: Writer, o: DigestOptions): Map<string, string> {
  const rng = new Rng(o.seed, 6);
  const randomFingerprint = rng.hex(32);
  const fingerprint = o.signer?.fingerprint ?? randomFingerprint;
  const { from, hours, trailName, org, orgId } = o;
  const signatures = new Map<string, string>();
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
        const bucket = o.bucket ?? (org ? 'org-cloudtrail-logs-333333333333' : `cloudtrail-logs-${account}`);
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
        const randomSignature = rng.hex(512);
        const sig: string = o.signer
          ? signDigest(o.signer, { digestEndTime: body.digestEndTime as string, bucket, key: path, content: json, previousSignature: prev?.sig ?? null })
          : randomSignature;
        signatures.set(path, sig);
        prev = { path, hash: createHash('sha256').update(json).digest('hex'), sig };
      }
    }
  return signatures;
}
