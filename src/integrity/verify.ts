// `keytrail verify` as a function: walk a source's digests, check each with the log objects it
// lists, check the chains between them, find logs no digest lists and hours no digest covers.
// What aws cloudtrail validate-logs does, for every account and region of a bucket or folder.

import pLimit from 'p-limit';
import { inRange, type DayRange } from '../source/layout.js';
import { checkChains, partsOf, type Gap } from './chain.js';
import { checkLogObject, checkLogSha256, verifyDigest, type DigestCheck, type LogCheck, type Problem, type SignatureStatus } from './check.js';
import { digestKeyParts, digestDay } from './digest.js';
import type { TrailObjects } from './objects.js';
import { fetchPublicKeys, type PublicKeyRing } from './public-keys.js';

/**
 * verified: hashes, chain and signature check out; unsigned: hashes and chain check out, the
 * signature could not be checked (a folder); failed: a problem; unverified: no valid digest vouches for it.
 */
export type ObjectStatus = 'verified' | 'unsigned' | 'failed' | 'unverified';

export interface ObjectResult {
  uri: string;
  kind: 'digest' | 'log';
  account_id: string | null;
  region: string | null;
  day: string | null;
  status: ObjectStatus;
  problem: Problem['problem'] | null;
  detail: string | null;
  /** For a log: the digest that lists it. */
  digest_uri: string | null;
  sha256: string | null;
  expected_sha256: string | null;
  /** For a digest. */
  signature: SignatureStatus | null;
}

export interface VerifyOptions {
  range: DayRange;
  /** Keys from --public-keys; otherwise (for S3) fetched from CloudTrail. */
  publicKeys: PublicKeyRing | null;
  concurrency: number;
  /** The end of the window for delivery gaps: the end of --until, else the newest digest's end. */
  windowEnd?: string | null;
  /** Hashes of log objects already read (ingest --verify), by URI: these are not read again. */
  knownSha256?: ReadonlyMap<string, string>;
}

export interface VerifyResult {
  source: string;
  problems: Problem[];
  gaps: Gap[];
  objects: ObjectResult[];
  /** Objects that could not be read (not missing: errors), with why. */
  unreadable: string[];
  /** How signatures were checked: in a folder they cannot be. */
  signatures: 'checked' | 'not_checked' | 'partly_checked';
  keyErrors: string[];
  /** Backfill digests are not checked (a chain of their own, not hourly). */
  backfillSkipped: number;
}

const LOG_NAME_RE = /(?:^|\/)(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[^/]*$/;
/** A log delivered this long after its file name's time may be listed by the next digest. */
const LISTING_SLACK_MS = 15 * 60_000;

function logParts(uri: string): { account: string; region: string; time: number } | null {
  const m = LOG_NAME_RE.exec(uri);
  return m ? { account: m[1], region: m[2], time: Date.parse(`${m[3]}-${m[4]}-${m[5]}T${m[6]}:${m[7]}:00Z`) } : null;
}

export async function verifySource(objects: TrailObjects, options: VerifyOptions): Promise<VerifyResult> {
  const unreadable: string[] = [];
  const read = async (uri: string) => {
    try {
      return { found: await objects.read(uri) };
    } catch (err) {
      unreadable.push((err as Error).message);
      return null;
    }
  };

  // 1. The digests in range.
  const digestUris: string[] = [];
  let backfillSkipped = 0;
  for await (const uri of objects.digests(options.range)) {
    if (digestKeyParts(uri)?.backfill) backfillSkipped++;
    else digestUris.push(uri);
  }

  // 2. Public keys for the regions and times the digests name (S3 only: a folder has no signatures).
  let keys: PublicKeyRing | null = null;
  if (!objects.folder && digestUris.length > 0) keys = options.publicKeys ?? (await publicKeysFor(digestUris));

  // 3. Each digest, then the log objects it lists, checked as they are read: no bytes are kept.
  const digestLimit = pLimit(Math.max(1, Math.floor(options.concurrency / 4)));
  const logLimit = pLimit(options.concurrency);
  const digests: DigestCheck[] = [];
  const listings = new Set<string>(); // a log listed twice is checked against the first digest
  const listed = new Map<string, { check: LogCheck; digest: DigestCheck }>();
  await Promise.all(digestUris.map((uri) => digestLimit(async () => {
    const got = await read(uri);
    if (!got?.found) return; // unreadable (in `unreadable`), or deleted since it was listed
    const digest = verifyDigest({ uri, bytes: got.found.bytes, metadata: got.found.metadata }, keys, objects.locate(uri));
    digests.push(digest);
    const unseen = digest.logs.filter((log) => !listings.has(log.uri));
    for (const log of unseen) listings.add(log.uri);
    await Promise.all(unseen.map((log) => logLimit(async () => {
      const known = options.knownSha256?.get(log.uri);
      if (known) return void listed.set(log.uri, { check: checkLogSha256(log, digest.uri, known), digest });
      const gotLog = await read(log.uri);
      if (gotLog) listed.set(log.uri, { check: checkLogObject(log, digest.uri, gotLog.found?.bytes ?? null), digest });
    })));
  })));
  digests.sort((x, y) => x.uri.localeCompare(y.uri));

  // 4. The chains between digests, and the hours no digest covers.
  const newestEnd = digests.reduce<string | null>((max, d) => {
    const end = d.document?.digestEndTime;
    return end && (max === null || Date.parse(end) > Date.parse(max)) ? end : max;
  }, null);
  const chains = checkChains(digests, {
    // A digest elsewhere (another bucket, after the trail moved) or outside the days read was never listed.
    listed: (uri) => {
      const day = digestDay(uri);
      return uri.startsWith(objects.folder ? `${objects.name}/` : objects.name) && day !== null && inRange(day, options.range);
    },
    windowStart: options.range.since ? `${options.range.since}T00:00:00Z` : null,
    windowEnd: options.windowEnd ?? newestEnd,
  });

  // 5. Logs present but listed by no digest, and the result per object.
  const unlisted: string[] = [];
  for await (const uri of objects.logs(options.range)) if (!listings.has(uri)) unlisted.push(uri);
  const { problems, results } = assembleResults({ digests, chainProblems: chains.problems, logs: listed.values(), unlistedLogs: unlisted });

  const signed = digests.filter((d) => d.signature !== 'not_checked').length;
  return {
    source: objects.name,
    problems,
    gaps: chains.gaps,
    objects: results,
    unreadable,
    signatures: signed === digests.length ? 'checked' : signed === 0 ? 'not_checked' : 'partly_checked',
    keyErrors: keys?.errors ?? [],
    backfillSkipped,
  };
}

/**
 * The result per object and every problem, from the checks: the digests (verifyDigest), the
 * problems between them (checkChains), the listed logs that were read (checkLogObject, each with
 * the digest that lists it) and the log objects present that no digest lists. A log in an hour
 * whose digest exists is log_not_listed; one no digest read covers is only unverified.
 */
export function assembleResults(input: {
  digests: DigestCheck[];
  chainProblems: Problem[];
  logs: Iterable<{ check: LogCheck; digest: DigestCheck }>;
  unlistedLogs: Iterable<string>;
}): { problems: Problem[]; results: ObjectResult[] } {
  const problems = [...input.digests.flatMap((d) => d.problems), ...input.chainProblems];
  const failedDigests = new Map<string, Problem>();
  for (const p of problems) if (!failedDigests.has(p.object) && p.problem.startsWith('digest_')) failedDigests.set(p.object, p);
  const results: ObjectResult[] = [];
  const none = { digest_uri: null, sha256: null, expected_sha256: null, signature: null };
  for (const d of input.digests) {
    const parts = partsOf(d);
    const failed = failedDigests.get(d.uri);
    results.push({
      uri: d.uri, kind: 'digest', account_id: parts?.account ?? null, region: parts?.region ?? null, day: digestDay(d.uri),
      status: failed ? 'failed' : d.signature === 'valid' ? 'verified' : 'unsigned',
      problem: failed?.problem ?? null, detail: failed?.detail ?? d.note, ...none, sha256: d.sha256 || null, signature: d.signature,
    });
  }
  for (const p of input.chainProblems) {
    if (p.problem !== 'digest_missing') continue;
    const parts = digestKeyParts(p.object);
    results.push({
      uri: p.object, kind: 'digest', account_id: parts?.account ?? null, region: parts?.region ?? null, day: digestDay(p.object),
      status: 'failed', problem: p.problem, detail: p.detail, ...none,
    });
  }
  for (const { check, digest } of input.logs) {
    const parts = logParts(check.uri);
    const vouched = !failedDigests.has(digest.uri);
    if (check.problem) problems.push(check.problem);
    results.push({
      uri: check.uri, kind: 'log', account_id: parts?.account ?? null, region: parts?.region ?? null, day: dayOf(parts?.time),
      status: check.problem ? 'failed' : !vouched ? 'unverified' : digest.signature === 'valid' ? 'verified' : 'unsigned',
      problem: check.problem?.problem ?? null,
      detail: check.problem?.detail ?? (vouched ? null : `listed by ${digest.uri}, which failed verification`),
      digest_uri: digest.uri, sha256: check.sha256, expected_sha256: check.expectedSha256, signature: null,
    });
  }
  const covered = coverage(input.digests);
  for (const uri of input.unlistedLogs) {
    const parts = logParts(uri);
    const inHour = parts !== null && isCovered(covered.get(`${parts.account}/${parts.region}`), parts.time);
    const problem: Problem | null = inHour ? { problem: 'log_not_listed', object: uri, detail: 'present, but no digest of its hour lists it' } : null;
    if (problem) problems.push(problem);
    results.push({
      uri, kind: 'log', account_id: parts?.account ?? null, region: parts?.region ?? null, day: dayOf(parts?.time),
      status: problem ? 'failed' : 'unverified', problem: problem?.problem ?? null,
      detail: problem?.detail ?? 'no digest read covers its hour', ...none,
    });
  }
  return { problems: dedupe(problems).sort((x, y) => x.object.localeCompare(y.object) || x.problem.localeCompare(y.problem)), results };
}

/** Public keys from CloudTrail for every region a digest names (its own and its trail's home region). */
export async function publicKeysFor(uris: string[]): Promise<PublicKeyRing> {
  const parts = uris.map((u) => digestKeyParts(u)).filter((p) => p !== null);
  const times = parts.map((p) => Date.parse(p.time));
  const regions = parts.flatMap((p) => [p.region, p.homeRegion]);
  const hour = 3_600_000;
  return fetchPublicKeys(regions, new Date(Math.min(...times) - 2 * hour), new Date(Math.max(...times) + 2 * hour));
}

type Interval = [number, number];

/** The time each account and region's digests cover, merged. */
function coverage(digests: DigestCheck[]): Map<string, Interval[]> {
  const byRegion = new Map<string, Interval[]>();
  for (const d of digests) {
    const parts = partsOf(d);
    if (!d.document || !parts) continue;
    const id = `${parts.account}/${parts.region}`;
    if (!byRegion.has(id)) byRegion.set(id, []);
    byRegion.get(id)!.push([Date.parse(d.document.digestStartTime), Date.parse(d.document.digestEndTime)]);
  }
  for (const [id, intervals] of byRegion) {
    intervals.sort((a, b) => a[0] - b[0]);
    const merged: Interval[] = [];
    for (const [s, e] of intervals) {
      const last = merged[merged.length - 1];
      if (last && s <= last[1]) last[1] = Math.max(last[1], e);
      else merged.push([s, e]);
    }
    byRegion.set(id, merged);
  }
  return byRegion;
}

/** Its digest is due: the hour (and the slack after it) is covered by digests that were read. */
const isCovered = (intervals: Interval[] | undefined, time: number): boolean =>
  (intervals ?? []).some(([s, e]) => time >= s && time + LISTING_SLACK_MS <= e);

const dayOf = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString().slice(0, 10));

/** One problem per object and kind (a digest can fail its own signature and its successor's check). */
function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const id = `${p.problem} ${p.object}`;
    return !seen.has(id) && Boolean(seen.add(id));
  });
}
