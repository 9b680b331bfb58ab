// Checks of one digest and of the log objects it lists, given their bytes: no listing, no I/O of
// its own. `keytrail verify` walks a source and calls these; `ingest --verify` can call them on the
// objects it reads anyway.

import { verify as rsaVerify } from 'node:crypto';
import {
  FormatError, logObjectSha256, parseDigest, sha256Hex, stringToSign, uncompressed, type DigestDocument, type ListedLog,
} from './digest.js';
import { keyFor, type PublicKeyRing } from './public-keys.js';

export const PROBLEMS = [
  'log_modified', 'log_missing', 'log_not_listed', 'digest_missing', 'digest_modified', 'digest_signature_invalid',
] as const;
export type ProblemCode = (typeof PROBLEMS)[number];

export interface Problem {
  problem: ProblemCode;
  /** The S3 URI or file path of the object. */
  object: string;
  detail: string;
}

/**
 * Where an object a digest names (bucket, key) is: its s3:// URI, or the same key in a folder copy
 * of the bucket (objects.ts, s3-objects.ts).
 */
export type Locate = (bucket: string, key: string) => string;

export const s3Locate: Locate = (bucket, key) => `s3://${bucket}/${key}`;

export interface DigestObject {
  /** Where it was read: s3://bucket/key or a file path. */
  uri: string;
  bytes: Uint8Array;
  /** The S3 object's user metadata (keys without x-amz-meta-), or null for a file (no metadata). */
  metadata: Record<string, string> | null;
}

export type SignatureStatus = 'valid' | 'invalid' | 'not_checked';

export interface LoggedObject {
  uri: string;
  expectedSha256: string;
  entry: ListedLog;
}

export interface DigestCheck {
  uri: string;
  /** null when the object is not a readable digest (then `problems` says why). */
  document: DigestDocument | null;
  /** Hex SHA-256 of the uncompressed content ('' when it could not be read). */
  sha256: string;
  signature: SignatureStatus;
  /** The hex signature from the metadata, when there is one. */
  signatureHex: string | null;
  /** Why the signature was not checked. */
  note: string | null;
  /** Where the digest says it lives, and where its previous digest lives (located like `uri`). */
  claimedUri: string | null;
  previousUri: string | null;
  /** Problems of this digest itself (chain problems come from chain.ts). */
  problems: Problem[];
  /** The log objects it lists, located. */
  logs: LoggedObject[];
}

export const SIGNATURE_ALGORITHM = 'SHA256withRSA';

/**
 * Verifies one digest object: readable, where it says it lives, and (with S3 metadata and public
 * keys) its SHA256withRSA signature over CloudTrail's string to sign. `publicKeys` null, or
 * `metadata` null (a file), leaves the signature not checked.
 */
export function verifyDigest(object: DigestObject, publicKeys: PublicKeyRing | null, locate: Locate): DigestCheck {
  const check: DigestCheck = {
    uri: object.uri, document: null, sha256: '', signature: 'not_checked', signatureHex: null, note: null,
    claimedUri: null, previousUri: null, problems: [], logs: [],
  };
  const problem = (code: ProblemCode, detail: string) => check.problems.push({ problem: code, object: object.uri, detail });
  let parsed;
  try {
    parsed = parseDigest(object.bytes);
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    if (object.metadata !== null) check.signature = 'invalid';
    try {
      check.sha256 = sha256Hex(uncompressed(object.bytes)); // so the next digest's link can be checked too
    } catch {
      // not even gzip: no content to hash
    }
    problem('digest_modified', `not a readable CloudTrail digest: ${err.message}`);
    return check;
  }
  const doc = parsed.document;
  check.document = doc;
  check.sha256 = parsed.sha256;
  check.claimedUri = locate(doc.digestS3Bucket, doc.digestS3Object);
  if (doc.previousDigestS3Object) check.previousUri = locate(doc.previousDigestS3Bucket ?? doc.digestS3Bucket, doc.previousDigestS3Object);
  check.logs = doc.logFiles.map((entry) => ({
    uri: locate(entry.s3Bucket ?? doc.digestS3Bucket, entry.s3Object), expectedSha256: entry.hashValue.toLowerCase(), entry,
  }));

  if (check.claimedUri !== object.uri) {
    problem('digest_modified', `not where it says it lives: it names s3://${doc.digestS3Bucket}/${doc.digestS3Object}`);
  }

  const signature = checkSignature(doc, parsed.sha256, object.metadata, publicKeys);
  check.signature = signature.status;
  check.signatureHex = signature.hex;
  check.note = signature.note;
  if (signature.status === 'invalid') problem('digest_signature_invalid', signature.note ?? 'signature does not verify');
  return check;
}

function checkSignature(
  doc: DigestDocument, sha256: string, metadata: Record<string, string> | null, publicKeys: PublicKeyRing | null,
): { status: SignatureStatus; hex: string | null; note: string | null } {
  if (metadata === null) return { status: 'not_checked', hex: null, note: 'a file has no S3 metadata, so no signature' };
  const hex = metadata.signature ?? null;
  if (!hex) return { status: 'invalid', hex, note: 'no signature in the object\'s S3 metadata' };
  const algorithm = metadata['signature-algorithm'] ?? doc.digestSignatureAlgorithm;
  if (algorithm !== SIGNATURE_ALGORITHM || (doc.digestSignatureAlgorithm && doc.digestSignatureAlgorithm !== SIGNATURE_ALGORITHM)) {
    return { status: 'invalid', hex, note: `signature algorithm ${algorithm || doc.digestSignatureAlgorithm} is not ${SIGNATURE_ALGORITHM}` };
  }
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) return { status: 'invalid', hex, note: 'the signature in the metadata is not hex' };
  if (publicKeys === null) return { status: 'not_checked', hex, note: 'no public keys' };
  const key = keyFor(publicKeys, doc.digestPublicKeyFingerprint, doc.digestEndTime);
  if (!key) {
    return publicKeys.complete
      ? { status: 'invalid', hex, note: `no CloudTrail public key with fingerprint ${doc.digestPublicKeyFingerprint} valid at ${doc.digestEndTime}` }
      : { status: 'not_checked', hex, note: `public key ${doc.digestPublicKeyFingerprint} not available (${publicKeys.errors.join('; ')})` };
  }
  const ok = rsaVerify('sha256', Buffer.from(stringToSign(doc, sha256), 'utf8'), key.key, Buffer.from(hex, 'hex'));
  return ok ? { status: 'valid', hex, note: null } : { status: 'invalid', hex, note: `signature does not verify with public key ${key.fingerprint}` };
}

export type LogStatus = 'verified' | 'modified' | 'missing';

export interface LogCheck {
  uri: string;
  status: LogStatus;
  /** Hex SHA-256 of the uncompressed content, null when missing or unreadable. */
  sha256: string | null;
  expectedSha256: string;
  /** The digest that lists it. */
  digestUri: string;
  problem: Problem | null;
}

/** A listed log object against its digest's hash; `bytes` null when the object does not exist. */
export function checkLogObject(listed: LoggedObject, digestUri: string, bytes: Uint8Array | null): LogCheck {
  const base = { uri: listed.uri, expectedSha256: listed.expectedSha256, digestUri };
  const problem = (code: ProblemCode, detail: string): Problem => ({ problem: code, object: listed.uri, detail });
  if (bytes === null) return { ...base, status: 'missing', sha256: null, problem: problem('log_missing', `listed by ${digestUri}, not found`) };
  let sha256;
  try {
    sha256 = logObjectSha256(bytes);
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    return { ...base, status: 'modified', sha256: null, problem: problem('log_modified', `${err.message}; listed by ${digestUri}`) };
  }
  return checkLogSha256(listed, digestUri, sha256);
}

/** A listed log object against its digest's hash, given the hash already (ingest --verify computes it while decoding). */
export function checkLogSha256(listed: LoggedObject, digestUri: string, sha256: string): LogCheck {
  const base = { uri: listed.uri, expectedSha256: listed.expectedSha256, digestUri, sha256 };
  if (sha256 === listed.expectedSha256) return { ...base, status: 'verified', problem: null };
  return {
    ...base, status: 'modified',
    problem: { problem: 'log_modified', object: listed.uri, detail: `SHA-256 ${sha256} is not ${listed.expectedSha256}, as ${digestUri} records` },
  };
}

/**
 * One digest and every log object it lists: the whole check `ingest --verify` needs per digest.
 * `readLog` returns an object's bytes, or null when it does not exist (other errors propagate).
 */
export async function verifyDigestAndLogs(
  object: DigestObject, publicKeys: PublicKeyRing | null, locate: Locate, readLog: (uri: string) => Promise<Uint8Array | null>,
): Promise<{ digest: DigestCheck; logs: LogCheck[] }> {
  const digest = verifyDigest(object, publicKeys, locate);
  const logs = await Promise.all(digest.logs.map(async (listed) => checkLogObject(listed, digest.uri, await readLog(listed.uri))));
  return { digest, logs };
}
