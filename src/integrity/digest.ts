// What a CloudTrail digest is: its document, its key layout, its hash and the string CloudTrail signs.
//   [prefix/]AWSLogs/[<o-id>/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
//     <account>_CloudTrail-Digest_<region>_<trail>_<home region>_<YYYYMMDDTHHMMSSZ>.json.gz
// The RSA signature is not in the document: it is the S3 object's user metadata `signature` (hex).

import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';

export interface ListedLog {
  s3Bucket: string;
  s3Object: string;
  /** Hex SHA-256 of the log object's uncompressed content. */
  hashValue: string;
  hashAlgorithm: string;
  newestEventTime: string | null;
  oldestEventTime: string | null;
}

export interface DigestDocument {
  awsAccountId: string;
  digestStartTime: string;
  digestEndTime: string;
  digestS3Bucket: string;
  digestS3Object: string;
  digestPublicKeyFingerprint: string;
  digestSignatureAlgorithm: string;
  newestEventTime: string | null;
  oldestEventTime: string | null;
  /** All previousDigest* fields are null for the first digest of a chain. */
  previousDigestS3Bucket: string | null;
  previousDigestS3Object: string | null;
  previousDigestHashValue: string | null;
  previousDigestHashAlgorithm: string | null;
  previousDigestSignature: string | null;
  logFiles: ListedLog[];
}

/** A digest or log object that is not what CloudTrail writes: unreadable gzip, not JSON, fields missing. */
export class FormatError extends Error {}

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * The content CloudTrail hashed: the object gunzipped. A copy someone already gunzipped (a plain
 * .json in a folder) hashes the same, so it stays verifiable.
 */
export function uncompressed(bytes: Uint8Array): Buffer {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer[0] !== GZIP_MAGIC[0] || buffer[1] !== GZIP_MAGIC[1]) return buffer;
  try {
    return gunzipSync(buffer);
  } catch (err) {
    throw new FormatError(`not valid gzip: ${(err as Error).message}`);
  }
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Hex SHA-256 of a log object's uncompressed content, as digests list it in logFiles[].hashValue. */
export const logObjectSha256 = (bytes: Uint8Array): string => sha256Hex(uncompressed(bytes));

const REQUIRED = [
  'digestStartTime', 'digestEndTime', 'digestS3Bucket', 'digestS3Object', 'digestPublicKeyFingerprint', 'previousDigestSignature',
] as const;

/** The digest document in an object's bytes, with the SHA-256 of its uncompressed content. */
export function parseDigest(bytes: Uint8Array): { document: DigestDocument; sha256: string } {
  const content = uncompressed(bytes);
  let value: unknown;
  try {
    value = JSON.parse(content.toString('utf8'));
  } catch (err) {
    throw new FormatError(`not JSON: ${(err as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new FormatError('not a JSON object');
  const doc = value as Record<string, unknown>;
  const absent = REQUIRED.filter((field) => !(field in doc));
  if (absent.length > 0) throw new FormatError(`not a CloudTrail digest: no ${absent.join(', ')}`);
  for (const field of ['digestStartTime', 'digestEndTime', 'digestS3Bucket', 'digestS3Object'] as const) {
    if (typeof doc[field] !== 'string') throw new FormatError(`${field} is not a string`);
  }
  if (Number.isNaN(Date.parse(doc.digestStartTime as string)) || Number.isNaN(Date.parse(doc.digestEndTime as string))) {
    throw new FormatError('digestStartTime or digestEndTime is not a time');
  }
  const logFiles = doc.logFiles ?? [];
  if (!Array.isArray(logFiles) || logFiles.some((f) => typeof f?.s3Object !== 'string' || typeof f?.hashValue !== 'string')) {
    throw new FormatError('logFiles is not a list of {s3Bucket, s3Object, hashValue}');
  }
  return { document: { ...(doc as unknown as DigestDocument), logFiles }, sha256: sha256Hex(content) };
}

/**
 * What CloudTrail signs with SHA256withRSA: the end time, where the digest lives, the hash of its
 * uncompressed content and the previous digest's signature ("null" for the first of a chain).
 */
export function stringToSign(doc: DigestDocument, digestSha256: string): string {
  return `${doc.digestEndTime}\n${doc.digestS3Bucket}/${doc.digestS3Object}\n${digestSha256}\n${doc.previousDigestSignature ?? 'null'}`;
}

export interface DigestKeyParts {
  account: string;
  region: string;
  trail: string;
  homeRegion: string;
  /** The time in the file name, ISO ('2024-05-01T01:00:00Z'): the digest's end time. */
  time: string;
  /** Backfill digests form chains of their own and are not hourly. */
  backfill: boolean;
}

const DIGEST_NAME_RE =
  /(?:^|\/)(\d{12})_CloudTrail-Digest_([a-z0-9-]+)_(.+)_([a-z0-9-]+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(_backfill)?\.json(?:\.gz)?$/;

/** The parts of a digest object's file name, or null when the name is not a digest's. */
export function digestKeyParts(key: string): DigestKeyParts | null {
  const m = DIGEST_NAME_RE.exec(key);
  if (!m) return null;
  return {
    account: m[1], region: m[2], trail: m[3], homeRegion: m[4],
    time: `${m[5]}-${m[6]}-${m[7]}T${m[8]}:${m[9]}:${m[10]}Z`, backfill: m[11] !== undefined,
  };
}

const DIGEST_DAY_RE = /(?:^|\/)CloudTrail-Digest\/[^/]+\/(\d{4})\/(\d{2})\/(\d{2})\/[^/]+$/;

/** A digest object's key (or a path in a copy of the bucket): its day folder, or null when not a digest. */
export function digestDay(key: string): string | null {
  if (!digestKeyParts(key)) return null;
  const m = DIGEST_DAY_RE.exec(key);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : digestKeyParts(key)!.time.slice(0, 10);
}
