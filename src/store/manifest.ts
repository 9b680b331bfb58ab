// What the manifest knows about a listed object: new, already read, or to be read again.

import type { LogObjectRef } from '../source/source.js';
import type { Store } from './db.js';
import type { ObjectStatus } from './load.js';
import type { BriefWriter } from './writer.js';

export type Verdict = 'new' | 'done' | 'reread';

interface Known { etag: string | null; status: ObjectStatus }

/** Looks objects up a delivery day at a time, so memory follows one day's objects, not the history. */
export class ManifestIndex {
  private readonly days = new Map<string, Map<string, Known>>();

  constructor(private readonly db: BriefWriter, private readonly retryQuarantined = false) {}

  async verdict(ref: LogObjectRef): Promise<Verdict> {
    const known = (await this.day(ref.day)).get(ref.uri);
    if (!known) return 'new';
    if (known.status === 'failed') return 'reread';
    if ((known.status === 'quarantined' || known.status === 'unreadable') && this.retryQuarantined) return 'reread';
    return known.etag === ref.etag ? 'done' : 'reread';
  }

  private async day(day: string | null): Promise<Map<string, Known>> {
    const cacheKey = day ?? '';
    let entries = this.days.get(cacheKey);
    if (entries) return entries;
    const rows = await this.db.use((store) => store.all<{ object_uri: string; etag: string | null; status: ObjectStatus }>(
      `SELECT object_uri, etag, status FROM ingested_objects WHERE object_day IS NOT DISTINCT FROM $1::DATE`,
      [day],
    ));
    entries = new Map(rows.map((r) => [r.object_uri, { etag: r.etag, status: r.status }]));
    if (this.days.size >= 64) this.days.delete(this.days.keys().next().value!); // listings move day by day
    this.days.set(cacheKey, entries);
    return entries;
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
