// How CloudTrail signs its digest files (CloudTrail User Guide, "CloudTrail digest file structure"
// and "Custom implementations of CloudTrail log file integrity validation"): SHA256withRSA over
//
//   digestEndTime \n digestS3Bucket/digestS3Object \n hex SHA-256 of the uncompressed digest \n previousDigestSignature
//
// (the literal "null" for the first digest of a chain), the hex signature stored as the digest
// object's S3 user metadata `signature`. Used by the sample trail (the demo) and the tests' signed
// trails; the public half is served by ListPublicKeys (scripts/local-aws/cloudtrail-server.ts).

import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export interface TrailKey {
  privateKey: KeyObject;
  /** base64 DER, PKCS#1 RSAPublicKey (what ListPublicKeys returns) */
  value: string;
  fingerprint: string;
  validFrom: string;
  validUntil: string;
}

/** A fresh key pair standing in for one of CloudTrail's signing keys, valid from..until (ISO). */
export function makeTrailKey(validFrom = '2024-01-01T00:00:00Z', validUntil = '2025-01-01T00:00:00Z', encoding: 'pkcs1' | 'spki' = 'pkcs1'): TrailKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ format: 'der', type: encoding });
  return { privateKey, value: der.toString('base64'), fingerprint: createHash('md5').update(der).digest('hex'), validFrom, validUntil };
}

/** What `aws cloudtrail list-public-keys` prints. */
export function publicKeyList(keys: TrailKey[]): string {
  return JSON.stringify({
    PublicKeyList: keys.map((k) => ({ Value: k.value, ValidityStartTime: k.validFrom, ValidityEndTime: k.validUntil, Fingerprint: k.fingerprint })),
  }, null, 4);
}

/** The S3 metadata CloudTrail stores with a digest: its hex signature and the algorithm. */
export function digestMetadata(signature: string): Record<string, string> {
  return { signature, 'signature-algorithm': 'SHA256withRSA' };
}

export interface DigestToSign {
  /** The document's digestEndTime, as written in it. */
  digestEndTime: string;
  bucket: string;
  key: string;
  /** The uncompressed digest document, exactly the bytes that are gzipped. */
  content: string | Uint8Array;
  /** The previous digest's signature; null for the first of a chain. */
  previousSignature: string | null;
}

/** The digest's hex SHA256withRSA signature, as CloudTrail computes it. */
export function signDigest(key: TrailKey, d: DigestToSign): string {
  const contentSha256 = createHash('sha256').update(d.content).digest('hex');
  const toSign = `${d.digestEndTime}\n${d.bucket}/${d.key}\n${contentSha256}\n${d.previousSignature ?? 'null'}`;
  return sign('sha256', Buffer.from(toSign), key.privateKey).toString('hex');
}
