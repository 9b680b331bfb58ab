// Times as CloudTrail writes them. Builders take epoch milliseconds or an ISO string.

export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** A record's time: epoch ms, or a string written as given (tests use odd forms on purpose). */
export type Time = number | string;

/** "2024-05-01T12:34:56Z" (eventTime). */
export const iso = (t: number): string => new Date(t).toISOString().slice(0, 19) + 'Z';
/** "2024-05-01" (UTC day). */
export const ymd = (t: number): string => new Date(t).toISOString().slice(0, 10);

export function eventTime(t: Time): string {
  return typeof t === 'number' ? iso(t) : t;
}

export function toMillis(t: Time): number {
  if (typeof t === 'number') return t;
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) throw new Error(`not a time: ${JSON.stringify(t)}`);
  return ms;
}

export function hourStart(t: number): number {
  return t - (t % HOUR);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** "May 28, 2024, 9:07:11 AM" (the format KMS and STS use in responseElements). */
export function awsDate(t: number): string {
  const d = new Date(t);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  const ss = String(d.getUTCSeconds()).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h12}:${mm}:${ss} ${h < 12 ? 'AM' : 'PM'}`;
}

/** "20240501T1234Z" (log object names) or "20240501T123456Z" (digest names). */
export function compactStamp(t: number, withSeconds: boolean): string {
  const s = new Date(t).toISOString(); // 2024-05-01T12:34:56.000Z
  return s.slice(0, 4) + s.slice(5, 7) + s.slice(8, 10) + 'T' + s.slice(11, 13) + s.slice(14, 16) + (withSeconds ? s.slice(17, 19) : '') + 'Z';
}
