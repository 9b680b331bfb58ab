// A trail with log file validation, built the way CloudTrail builds it, for tests: hourly digests
// per account and region in CloudTrail's key layout and document shape (the AWS examples in
// ../shared/datasets/awsdocs-cloudtrail-user-guide/digest-examples), chained through
// previousDigest*, signed SHA256withRSA over CloudTrail's string to sign with a test key pair, the
// signature as S3 user metadata (scripts/cloudtrail/digest-signing.ts, shared with the demo's
// sample). Written from the AWS documentation, not from src/integrity.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { digestMetadata, signDigest, type TrailKey } from '../../scripts/cloudtrail/digest-signing.js';
import { logObjectKey, writeRaw } from './log-objects.js';
import { mixedRecords } from './records.js';

export { makeTrailKey, publicKeyList, type TrailKey } from '../../scripts/cloudtrail/digest-signing.js';

export interface TrailObject {
  key: string;
  body: Buffer;
  metadata?: Record<string, string>;
}

export interface TrailOptions {
  bucket: string;
  /** The trail's S3 key prefix ('' or ending in '/'). */
  prefix?: string;
  org?: string;
  accounts: string[];
  regions: string[];
  trail?: string;
  homeRegion?: string;
  /** ISO time the first digest starts. */
  start: string;
  hours: number;
  logsPerHour: number;
  /** The key that signs each hour's digest (by hour index). */
  keyFor: (hour: number) => TrailKey;
  /** Hours with no delivery at all (logging stopped): no logs, no digest. */
  stoppedHours?: number[];
  /** With stoppedHours: the first digest after the stop starts a new chain (previous* null). */
  restartChain?: boolean;
  /** The records of the log object `index` of hour `hour` (default: two KMS and two S3 records). */
  records?: (at: { account: string; region: string; time: string; hour: number; index: number }) => Record<string, unknown>[];
}

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const stamp = (ms: number) => iso(ms).replace(/[-:]/g, ''); // 20240501T010131Z

export function digestKey(o: TrailOptions, account: string, region: string, endMs: number): string {
  const [y, m, d] = iso(endMs).slice(0, 10).split('-');
  const base = `${o.prefix ?? ''}AWSLogs/${o.org ? `${o.org}/` : ''}${account}`;
  return `${base}/CloudTrail-Digest/${region}/${y}/${m}/${d}/${account}_CloudTrail-Digest_${region}_${o.trail ?? 'management-events'}_${o.homeRegion ?? 'us-east-1'}_${stamp(endMs)}.json.gz`;
}

/** Every object of the trail: logs and signed digests. */
export function buildSignedTrail(o: TrailOptions): TrailObject[] {
  const objects: TrailObject[] = [];
  const start = Date.parse(o.start);
  for (const account of o.accounts) {
    for (const region of o.regions) {
      let previous: { key: string; sha256: string; signature: string } | null = null;
      for (let h = 0; h < o.hours; h++) {
        const from = start + h * HOUR;
        if (o.stoppedHours?.includes(h)) {
          if (o.restartChain) previous = null;
          continue;
        }
        const logFiles = [];
        for (let i = 0; i < o.logsPerHour; i++) {
          const time = iso(from + (5 + i * 10) * 60_000);
          const key = (o.prefix ?? '') + logObjectKey(account, region, time, o.org);
          const records = o.records?.({ account, region, time, hour: h, index: i }) ?? mixedRecords(2, 2, { account, region, time });
          const json = JSON.stringify({ Records: records });
          objects.push({ key, body: gzipSync(json) });
          logFiles.push({
            s3Bucket: o.bucket, s3Object: key, hashValue: sha256(Buffer.from(json)), hashAlgorithm: 'SHA-256',
            newestEventTime: time, oldestEventTime: time,
          });
        }
        const end = from + HOUR;
        const key = digestKey(o, account, region, end);
        const signer = o.keyFor(h);
        const document = {
          awsAccountId: account,
          digestStartTime: iso(from),
          digestEndTime: iso(end),
          digestS3Bucket: o.bucket,
          digestS3Object: key,
          digestPublicKeyFingerprint: signer.fingerprint,
          digestSignatureAlgorithm: 'SHA256withRSA',
          newestEventTime: logFiles.length ? logFiles[logFiles.length - 1].newestEventTime : null,
          oldestEventTime: logFiles.length ? logFiles[0].oldestEventTime : null,
          previousDigestS3Bucket: previous ? o.bucket : null,
          previousDigestS3Object: previous?.key ?? null,
          previousDigestHashValue: previous?.sha256 ?? null,
          previousDigestHashAlgorithm: previous ? 'SHA-256' : null,
          previousDigestSignature: previous?.signature ?? null,
          logFiles,
        };
        const json = Buffer.from(JSON.stringify(document));
        const signature = signDigest(signer, { digestEndTime: document.digestEndTime, bucket: o.bucket, key, content: json, previousSignature: previous?.signature ?? null });
        objects.push({ key, body: gzipSync(json), metadata: digestMetadata(signature) });
        previous = { key, sha256: sha256(json), signature };
      }
    }
  }
  return objects;
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export async function putTrail(client: S3Client, bucket: string, objects: TrailObject[]): Promise<void> {
  for (let i = 0; i < objects.length; i += 16) {
    await Promise.all(objects.slice(i, i + 16).map((obj) =>
      client.send(new PutObjectCommand({ Bucket: bucket, Key: obj.key, Body: obj.body, Metadata: obj.metadata }))));
  }
}

/** The trail as an `aws s3 sync` copy: files, no metadata. */
export function writeTrail(folder: string, objects: TrailObject[]): void {
  for (const obj of objects) writeRaw(folder, obj.key, obj.body);
}
