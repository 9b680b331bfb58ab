// Where each stream of a source (an account and region folder, or an Event history region) has
// been read to, and so where the next run starts listing it. A stream's mark moves only when every
// object its listing found is committed, in the transaction of the last of them: a run stopped at
// any point (kill, crash, error) leaves the mark where it was, and the next run lists that stream
// again from there; what was committed meanwhile is skipped by the manifest.

import { addDays } from '../source/layout.js';
import type { Store } from './db.js';

/** Every object of the stream delivered from listedFrom (null: its first day) through completeThrough is committed. */
export interface StreamMark { listedFrom: string | null; completeThrough: string }

/**
 * How many days before its mark a stream is listed again: CloudTrail delivers within minutes, but
 * copies, replication and backfills put objects into day folders already read.
 */
export const DEFAULT_LOOKBACK_DAYS = 7;

export async function readStreamMarks(store: Store, source: string): Promise<Map<string, StreamMark>> {
  const rows = await store.all<{ stream: string; listed_from: string | null; complete_through: string }>(
    `SELECT stream, strftime(listed_from, '%Y-%m-%d') AS listed_from, strftime(complete_through, '%Y-%m-%d') AS complete_through
     FROM ingest_streams WHERE source = $1`,
    [source],
  );
  return new Map(rows.map((r) => [r.stream, { listedFrom: r.listed_from, completeThrough: r.complete_through }]));
}

const min = (a: string, b: string) => (a < b ? a : b);
const max = (a: string, b: string) => (a > b ? a : b);

/** One stream as this run lists and reads it. */
export class StreamListing {
  /** Objects listed to be read whose batch has not been handed to a commit yet. */
  pending = 0;
  listingDone = false;
  saved = false;
  private newest: string | null = null;
  private oldestFailed: string | null = null;

  constructor(readonly stream: string, readonly since: string | null, readonly mark: StreamMark | undefined) {}

  /** Where a stream is listed from: --since, else a lookback before its mark, else its first day. */
  static startDay(mark: StreamMark | undefined, since: string | null, full: boolean, lookbackDays: number): string | null {
    if (since !== null || full || mark === undefined) return since;
    const from = addDays(mark.completeThrough, -lookbackDays);
    return mark.listedFrom === null ? from : max(from, mark.listedFrom);
  }

  listed(day: string | null): void {
    if (day !== null && (this.newest === null || day > this.newest)) this.newest = day;
  }

  failed(day: string | null): void {
    if (day !== null && (this.oldestFailed === null || day < this.oldestFailed)) this.oldestFailed = day;
  }

  /** Listed, and every object it found handed to a commit: its mark can go with that commit. */
  get ready(): boolean {
    return this.listingDone && this.pending === 0 && !this.saved;
  }

  /**
   * The stream's mark after this run: what it knew joined with what this listing covered (from its
   * start to the newest day found), up to the day before the oldest object that failed. Null when
   * nothing is known to be complete, or the listing left a gap after the old mark (a later --since).
   */
  nextMark(): StreamMark | null {
    if (this.newest === null) return null;
    const old = this.mark;
    if (old && this.since !== null && this.since > addDays(old.completeThrough, 1)) return null;
    const listedFrom = old === undefined ? this.since : this.since === null || old.listedFrom === null ? null : min(this.since, old.listedFrom);
    let through = old ? max(old.completeThrough, this.newest) : this.newest;
    if (this.oldestFailed !== null) through = min(through, addDays(this.oldestFailed, -1));
    if (listedFrom !== null && through < listedFrom) return null;
    return { listedFrom, completeThrough: through };
  }
}

/** Writes the marks of the listings given (inside the caller's transaction). */
export async function saveStreamMarks(store: Store, source: string, runId: number, listings: StreamListing[]): Promise<void> {
  for (const listing of listings) {
    const mark = listing.nextMark();
    if (mark === null) continue;
    await store.run(
      `INSERT OR REPLACE INTO ingest_streams VALUES ($1, $2, $3::DATE, $4::DATE, $5, now()::TIMESTAMP)`,
      [source, listing.stream, mark.listedFrom, mark.completeThrough, BigInt(runId)],
    );
  }
}
