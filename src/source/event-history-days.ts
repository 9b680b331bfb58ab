// The objects of an Event history stream (src/source/event-history.ts): one per UTC day, named
// event-history://<account>/<region>/<YYYY-MM-DD>, whose etag says how complete the day was when
// listed. Apart from the client, so that status can read the manifest's rows without it.

import { addDays, daysOf, type DayRange } from './layout.js';
import { SourceError, type LogObjectRef } from './source.js';

export const EVENT_HISTORY = 'event-history://';

/** Event history keeps 90 days of events. */
export const HISTORY_DAYS = 90;
/** After this long past its end a day is complete: AWS says events arrive within about 15 minutes. */
export const SETTLE_MS = 3600_000;
const COMPLETE = 'complete';

export const isEventHistory = (spec: string): boolean => spec.startsWith(EVENT_HISTORY);

/** The days of a stream in range, never before Event history's first day nor after today. */
export async function* listDays(stream: string, range: DayRange, now: Date): AsyncGenerator<LogObjectRef> {
  const today = utcDay(now.getTime());
  const first = utcDay(now.getTime() - HISTORY_DAYS * 86_400_000);
  const since = range.since !== null && range.since > first ? range.since : first;
  const until = range.until !== null && range.until < today ? range.until : today;
  if (since > until) return;
  for (const day of daysOf({ since, until })) {
    const settled = Date.parse(`${addDays(day, 1)}T00:00:00Z`) + SETTLE_MS <= now.getTime();
    yield { uri: `${stream}/${day}`, etag: settled ? COMPLETE : `open ${now.toISOString()}`, size: 0, day };
  }
}

/** Up to when a day object was read, from its etag: the day's end, or when it was listed. */
export function readThrough(day: string, etag: string | null): string | null {
  if (etag === COMPLETE) return `${addDays(day, 1)}T00:00:00Z`;
  const m = /^open (\S+)$/.exec(etag ?? '');
  return m ? `${m[1].slice(0, 19)}Z` : null;
}

const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

const REGION_RE = /^[a-z]{2}(?:-[a-z0-9]+)+-\d+$/;

/** The regions an event-history://REGION[,REGION…] spec names (none: the default regions). */
export function specRegions(spec: string): string[] {
  const rest = spec.slice(EVENT_HISTORY.length).replace(/\/$/, '');
  return rest === '' ? [] : parseRegions(rest, spec);
}

/** 'us-east-1,eu-west-1' -> its regions, or a SourceError naming `what`. */
export function parseRegions(list: string, what: string): string[] {
  const regions = [...new Set(list.split(',').map((r) => r.trim()).filter(Boolean))];
  const bad = regions.filter((r) => !REGION_RE.test(r));
  if (regions.length === 0 || bad.length > 0) throw new SourceError(`${what}: ${bad.length ? `'${bad.join("', '")}' is not a region` : 'no region'} (expected e.g. us-east-1,eu-west-1)`);
  return regions;
}
