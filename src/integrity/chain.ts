// The digest chain of each trail, account and region: each digest names the previous one with its
// hash and signature, so a deleted or edited digest shows in the next one. And the hours with no
// digest at all: CloudTrail writes one every hour even when nothing happened, so a hole in the
// chain's time line is an hour whose logs nobody can vouch for (logging stopped, validation off).

import { digestKeyParts, type DigestKeyParts } from './digest.js';
import type { DigestCheck, Problem } from './check.js';

export interface Gap {
  account_id: string;
  region: string;
  trail: string;
  /** ISO times: the end of the last digest before the gap and the start of the first after it. */
  from: string;
  until: string;
  hours: number;
}

export interface ChainOptions {
  /** Would a digest at this URI have been listed (its day in the range)? If not, its absence proves nothing. */
  listed: (uri: string) => boolean;
  /** Hours before this (ISO) are outside the window and never reported as gaps. */
  windowStart: string | null;
  /** The end of the window: a chain whose newest digest ends well before it has a gap up to it. */
  windowEnd: string | null;
}

/** Consecutive digests more than this apart (or the window end past the newest) leave a gap. */
const GAP_TOLERANCE_MS = 10 * 60_000;
/** The newest digest of a chain may be up to an hour old before the next is due. */
const DELIVERY_MS = 3_600_000;

export function chainId(parts: DigestKeyParts): string {
  return `${parts.account}/${parts.region}/${parts.trail}/${parts.homeRegion}`;
}

/** The chain a digest belongs to: from where it says it lives, else from where it was found. */
export function partsOf(check: DigestCheck): DigestKeyParts | null {
  return digestKeyParts(check.document?.digestS3Object ?? '') ?? digestKeyParts(check.uri);
}

/**
 * Checks the links between digests (hash and signature of the previous one; the previous one
 * missing) and finds the delivery gaps. `digests` are the digests read, readable or not.
 */
export function checkChains(digests: DigestCheck[], options: ChainOptions): { problems: Problem[]; gaps: Gap[] } {
  const problems: Problem[] = [];
  const byUri = new Map(digests.map((d) => [d.uri, d]));
  const byHash = new Map(digests.filter((d) => d.sha256).map((d) => [d.sha256, d]));
  const missing = new Set<string>();

  for (const next of digests) {
    const doc = next.document;
    if (!doc || !next.previousUri) continue;
    const previous = byUri.get(next.previousUri);
    if (previous) {
      if (previous.sha256 && doc.previousDigestHashValue && previous.sha256 !== doc.previousDigestHashValue.toLowerCase()) {
        problems.push({
          problem: 'digest_modified', object: previous.uri,
          detail: `SHA-256 ${previous.sha256} is not ${doc.previousDigestHashValue}, as the next digest ${next.uri} records`,
        });
      } else if (
        previous.signatureHex && doc.previousDigestSignature &&
        previous.signatureHex.toLowerCase() !== doc.previousDigestSignature.toLowerCase()
      ) {
        problems.push({
          problem: 'digest_signature_invalid', object: previous.uri,
          detail: `its signature is not the one the next digest ${next.uri} records`,
        });
      }
    } else if (options.listed(next.previousUri) && !missing.has(next.previousUri)) {
      missing.add(next.previousUri);
      const moved = doc.previousDigestHashValue ? byHash.get(doc.previousDigestHashValue.toLowerCase()) : undefined;
      problems.push({
        problem: 'digest_missing', object: next.previousUri,
        detail: `named as the previous digest by ${next.uri}, not found${moved ? `; its content is at ${moved.uri}` : ''}`,
      });
    }
  }
  // A link to a digest that is gone or unreadable is tampering, reported above: not a delivery gap.
  const broken = new Set([...missing, ...digests.filter((d) => !d.document).map((d) => d.uri)]);
  return { problems, gaps: findGaps(digests, broken, options) };
}

function findGaps(digests: DigestCheck[], broken: Set<string>, options: ChainOptions): Gap[] {
  const chains = new Map<string, { parts: DigestKeyParts; digests: DigestCheck[] }>();
  for (const d of digests) {
    const parts = partsOf(d);
    if (!d.document || !parts || parts.backfill) continue;
    const id = chainId(parts);
    if (!chains.has(id)) chains.set(id, { parts, digests: [] });
    chains.get(id)!.digests.push(d);
  }
  const windowStart = options.windowStart ? Date.parse(options.windowStart) : -Infinity;
  const gaps: Gap[] = [];
  for (const { parts, digests: chain } of chains.values()) {
    const gap = (fromMs: number, untilMs: number) => {
      const from = Math.max(fromMs, windowStart);
      if (untilMs - from <= GAP_TOLERANCE_MS) return;
      gaps.push({
        account_id: parts.account, region: parts.region, trail: parts.trail,
        from: iso(from), until: iso(untilMs), hours: Math.round((untilMs - from) / 360_000) / 10,
      });
    };
    const start = (d: DigestCheck) => Date.parse(d.document!.digestStartTime);
    const end = (d: DigestCheck) => Date.parse(d.document!.digestEndTime);
    chain.sort((a, b) => start(a) - start(b));
    chain.forEach((d, i) => {
      if (d.previousUri && broken.has(d.previousUri)) return;
      const before = chain[i - 1];
      if (before) gap(end(before), start(d));
      else if (d.previousUri) {
        // The previous digest is outside the range: its file name says when it ended.
        const named = digestKeyParts(d.previousUri);
        if (named) gap(Date.parse(named.time), start(d));
      }
    });
    const newest = chain[chain.length - 1];
    if (options.windowEnd && newest) {
      const windowEnd = Date.parse(options.windowEnd);
      if (windowEnd - end(newest) > DELIVERY_MS + GAP_TOLERANCE_MS) gap(end(newest), windowEnd);
    }
  }
  return gaps.sort((a, b) => a.account_id.localeCompare(b.account_id) || a.region.localeCompare(b.region) || a.from.localeCompare(b.from));
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
