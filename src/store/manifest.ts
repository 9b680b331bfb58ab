// What the manifest knows about a listed object: new, already read, or to be read again.

import { addDays } from '../source/layout.js';
import type { LogObjectRef } from '../source/source.js';
import type { Store } from './db.js';
import type { ObjectStatus } from './load.js';
import type { BriefWriter } from './writer.js';

export type Verdict = 'new' | 'done' | 'reread';

interface Known { etag: string | null; status: ObjectStatus }

/** Days fetched per look-up: each look-up opens the database, which readers must then wait for. */
const DAYS_PER_LOOKUP = 7;

/**
 * Looks objects up a week of delivery days at a time, so memory follows a few days' objects, not
 * the history.
 */
export class ManifestIndex {
  private readonly days = new Map<string, Map<string, Known>>();

  private constructor(private readonly db: BriefWriter, private readonly retryQuarantined: boolean, private readonly empty: boolean) {}

  /**
   * The index of the database `store` is open on (the run's first look at it). An empty manifest (a
   * first run) answers 'new' without a look-up: each one opens the database.
   */
  static async open(store: Store, db: BriefWriter, retryQuarantined = false): Promise<ManifestIndex> {
    const [{ known }] = await store.all<{ known: boolean }>('SELECT EXISTS (SELECT 1 FROM ingested_objects) AS known');
    return new ManifestIndex(db, retryQuarantined, !known);
  }

  async verdict(ref: LogObjectRef): Promise<Verdict> {
    if (this.empty) return 'new';
    const known = (await this.day(ref.day)).get(ref.uri);
    if (!known) return 'new';
    if (known.status === 'failed') return 'reread';
    if ((known.status === 'quarantined' || known.status === 'unreadable') && this.retryQuarantined) return 'reread';
    return known.etag === ref.etag ? 'done' : 'reread';
  }

  private async day(day: string | null): Promise<Map<string, Known>> {
    const cacheKey = day ?? '';
    const cached = this.days.get(cacheKey);
    if (cached) return cached;
    const rows = await this.db.use((store) => store.all<{ day: string | null; object_uri: string; etag: string | null; status: ObjectStatus }>(
      `SELECT strftime(object_day, '%Y-%m-%d') AS day, object_uri, etag, status FROM ingested_objects
       WHERE CASE WHEN $1::DATE IS NULL THEN object_day IS NULL ELSE object_day BETWEEN $1::DATE AND $1::DATE + ${DAYS_PER_LOOKUP - 1} END`,
      [day],
    ));
    // Listings move day by day: keep the days just fetched, drop the oldest beyond a few weeks.
    const fetched = day === null ? [cacheKey] : Array.from({ length: DAYS_PER_LOOKUP }, (_, i) => addDays(day, i));
    for (const d of fetched) this.days.set(d, new Map());
    for (const r of rows) this.days.get(r.day ?? '')?.set(r.object_uri, { etag: r.etag, status: r.status });
    while (this.days.size > 8 * DAYS_PER_LOOKUP) this.days.delete(this.days.keys().next().value!);
    return this.days.get(cacheKey)!;
  }
}

/**
 * Where a run without --since starts: two days before the newest day already read from this
 * source (late deliveries land in earlier day folders), or the oldest day of an object that failed
 * (for now: not one that is unreadable for good).
 */
export async function resumeDay(store: Store, source: string): Promise<string | null> {
  const [row] = await store.all<{ day: string | null }>(
    `SELECT strftime(least(max(object_day) - INTERVAL 2 DAY, min(object_day) FILTER (WHERE status = 'failed')), '%Y-%m-%d') AS day
     FROM ingested_objects WHERE source = $1 AND object_day IS NOT NULL`,
    [source],
  );
  return row?.day ?? null;
}
