// The CloudTrail key layout: which keys are log objects and which delivery day they belong to.
//   [prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDD>T<hhmm>Z_<id>.json.gz
//   [prefix/]AWSLogs/<o-id>/<account>/CloudTrail/...   (organization trails)
// Digest and Insight objects live beside them (CloudTrail-Digest/, CloudTrail-Insight/) and are not logs.

export interface DayRange {
  /** Inclusive, 'YYYY-MM-DD' (UTC delivery day), or null for no bound. */
  since: string | null;
  until: string | null;
}

const DAY_DIR_RE = /(?:^|\/)CloudTrail\/[^/]+\/(\d{4})\/(\d{2})\/(\d{2})\//;
const FILE_DAY_RE = /_CloudTrail_[^_/]+_(\d{4})(\d{2})(\d{2})T\d{4,6}Z/;
const NOT_LOG_RE = /(?:^|[/_])CloudTrail-(?:Digest|Insight)(?:[/_]|$)/;

/** A CloudTrail log object (or a copy of one), as opposed to digests, insights and other files. */
export function isLogObjectKey(key: string): boolean {
  if (!/\.json(\.gz)?$/i.test(key)) return false;
  return !NOT_LOG_RE.test(key);
}

/** The delivery day of a log object, from its folder or file name, or null if it has neither. */
export function deliveryDay(key: string): string | null {
  const m = DAY_DIR_RE.exec(key) ?? FILE_DAY_RE.exec(key);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

export function inRange(day: string | null, range: DayRange): boolean {
  if (day === null) return true; // a file with no date in its name cannot be pruned
  return (range.since === null || day >= range.since) && (range.until === null || day <= range.until);
}

/** Every day of the range, oldest first. */
export function daysOf(range: { since: string; until: string }): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${range.since}T00:00:00Z`); t <= Date.parse(`${range.until}T00:00:00Z`); t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** 'YYYY-MM-DD' -> 'YYYY/MM/DD/', the day folder of the layout. */
export const dayFolder = (day: string): string => `${day.replaceAll('-', '/')}/`;

/** Parses a user's DATE argument ('2024-05-01' or a full ISO time) into a day, or throws. */
export function parseDay(value: string, name: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+Z?)?$/.exec(value.trim());
  const day = m ? `${m[1]}-${m[2]}-${m[3]}` : '';
  if (!m || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) {
    throw new Error(`${name}: '${value}' is not a date (expected YYYY-MM-DD)`);
  }
  return day;
}

export const addDays = (day: string, n: number): string =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
