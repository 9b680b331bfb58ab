// CloudTrail's public keys, which check digest signatures: from ListPublicKeys (through the SDK) or
// from a file holding what `aws cloudtrail list-public-keys` prints. A key's Value is base64 DER:
// the AWS CLI reads it as a PKCS#1 RSAPublicKey; SubjectPublicKeyInfo is accepted as well.

import { readFile } from 'node:fs/promises';
import { createPublicKey, type KeyObject } from 'node:crypto';

export interface PublicKey {
  fingerprint: string;
  key: KeyObject;
  /** ms since the epoch, or null when unbounded. */
  validFrom: number | null;
  validUntil: number | null;
}

/** Keys by fingerprint; `complete` is false when some could not be fetched (a digest then stays unchecked). */
export interface PublicKeyRing {
  keys: Map<string, PublicKey>;
  complete: boolean;
  /** Why the ring is incomplete, for the report. */
  errors: string[];
}

/** A key file or a ListPublicKeys answer that cannot be used. */
export class PublicKeyError extends Error {}

export function decodePublicKey(der: Uint8Array, fingerprint: string): KeyObject {
  const buffer = Buffer.from(der);
  for (const type of ['pkcs1', 'spki'] as const) {
    try {
      const key = createPublicKey({ key: buffer, format: 'der', type });
      if (key.asymmetricKeyType === 'rsa') return key;
    } catch {
      // try the other encoding
    }
  }
  throw new PublicKeyError(`public key ${fingerprint}: not a DER RSA public key (PKCS#1 or SubjectPublicKeyInfo)`);
}

const time = (value: unknown): number | null => {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value * 1000; // JSON 1.1 timestamps are epoch seconds
  const ms = Date.parse(String(value));
  return Number.isNaN(ms) ? null : ms;
};

/** The keys in what `aws cloudtrail list-public-keys` prints: {"PublicKeyList": [{Value, Fingerprint, ...}]}. */
export function parsePublicKeyList(text: string, name: string): PublicKeyRing {
  let value: { PublicKeyList?: unknown };
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new PublicKeyError(`${name}: not JSON: ${(err as Error).message}`);
  }
  const list = value?.PublicKeyList;
  if (!Array.isArray(list)) throw new PublicKeyError(`${name}: no PublicKeyList (expected the output of aws cloudtrail list-public-keys)`);
  const keys = new Map<string, PublicKey>();
  list.forEach((entry: Record<string, unknown>, i) => {
    if (typeof entry?.Fingerprint !== 'string' || typeof entry?.Value !== 'string') {
      throw new PublicKeyError(`${name}: PublicKeyList[${i}] has no Fingerprint or Value`);
    }
    const der = Buffer.from(entry.Value, 'base64');
    keys.set(entry.Fingerprint, {
      fingerprint: entry.Fingerprint,
      key: decodePublicKey(der, `${entry.Fingerprint} in ${name}`),
      validFrom: time(entry.ValidityStartTime),
      validUntil: time(entry.ValidityEndTime),
    });
  });
  return { keys, complete: true, errors: [] };
}

export async function loadPublicKeysFile(path: string): Promise<PublicKeyRing> {
  const text = await readFile(path, 'utf8').catch((err: Error) => {
    throw new PublicKeyError(`${path}: cannot read: ${err.message}`);
  });
  return parsePublicKeyList(text, path);
}

/**
 * The keys valid at some point between `from` and `until`, from CloudTrail in each region (a
 * digest's key comes from its region or its trail's home region; fingerprints are unique, so the
 * lists merge). A region that cannot be asked leaves the ring incomplete rather than failing the run.
 */
export async function fetchPublicKeys(regions: Iterable<string>, from: Date, until: Date): Promise<PublicKeyRing> {
  const { CloudTrailClient, paginateListPublicKeys } = await import('@aws-sdk/client-cloudtrail'); // only when asked: it loads slowly
  const ring: PublicKeyRing = { keys: new Map(), complete: true, errors: [] };
  await Promise.all([...new Set(regions)].map(async (region) => {
    const client = new CloudTrailClient({ region, maxAttempts: 4 });
    try {
      for await (const page of paginateListPublicKeys({ client }, { StartTime: from, EndTime: until })) {
        for (const entry of page.PublicKeyList ?? []) {
          if (!entry.Fingerprint || !entry.Value) continue;
          ring.keys.set(entry.Fingerprint, {
            fingerprint: entry.Fingerprint,
            key: decodePublicKey(entry.Value, entry.Fingerprint),
            validFrom: time(entry.ValidityStartTime),
            validUntil: time(entry.ValidityEndTime),
          });
        }
      }
    } catch (err) {
      ring.complete = false;
      const e = err as { name?: string; message?: string };
      ring.errors.push(`ListPublicKeys in ${region}: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message ?? String(err)}`);
    } finally {
      client.destroy();
    }
  }));
  return ring;
}

// A digest is signed when it is delivered, a little after its end time; keys overlap at rotation.
const VALIDITY_SLACK_MS = 3_600_000;

/** The key that signed a digest ending at `endTime`, or null. */
export function keyFor(ring: PublicKeyRing, fingerprint: string, endTime: string): PublicKey | null {
  const key = ring.keys.get(fingerprint);
  if (!key) return null;
  const at = Date.parse(endTime);
  if (key.validFrom !== null && at < key.validFrom - VALIDITY_SLACK_MS) return null;
  if (key.validUntil !== null && at > key.validUntil + VALIDITY_SLACK_MS) return null;
  return key;
}
