// ingest --verify: after the ingest has read a range, the checks of `keytrail verify` over the same
// range, using the hashes the ingest computed while decoding: only the digests, and the logs this
// run did not read (loaded before, or unreadable to it), are read from the source.

import { addDays, type DayRange } from '../source/layout.js';
import { BriefWriter } from '../store/writer.js';
import { openTrailObjects } from './objects.js';
import type { PublicKeyRing } from './public-keys.js';
import { recordVerification } from './record.js';
import { verifySource, type VerifyResult } from './verify.js';

export interface AfterIngestOptions {
  range: DayRange;
  publicKeys: PublicKeyRing | null;
  /** SHA-256 of each object the ingest read, by URI (IngestOptions.sha256). */
  knownSha256: ReadonlyMap<string, string>;
  endpointUrl?: string;
  concurrency: number;
  now: Date;
}

/** Verifies `spec` over `range` and records the result per object in the database at `dbPath`. */
export async function verifyAfterIngest(spec: string, dbPath: string, options: AfterIngestOptions): Promise<VerifyResult> {
  const { range, now } = options;
  const untilEnd = range.until ? `${addDays(range.until, 1)}T00:00:00Z` : null;
  const windowEnd = untilEnd && Date.parse(untilEnd) > now.getTime() ? now.toISOString() : untilEnd;
  const objects = await openTrailObjects(spec, { endpointUrl: options.endpointUrl, concurrency: options.concurrency });
  let result: VerifyResult;
  try {
    result = await verifySource(objects, {
      range, publicKeys: options.publicKeys, concurrency: options.concurrency, windowEnd, knownSha256: options.knownSha256,
    });
  } finally {
    objects.close();
  }
  await new BriefWriter(dbPath).use((store) =>
    recordVerification(store, result.source, result.objects, result.gaps, { start: range.since ? `${range.since}T00:00:00Z` : null, end: windowEnd }, now));
  return result;
}
