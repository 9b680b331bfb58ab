// Display helpers shared by the human renderers (Markdown, HTML): short names for ARNs, number and
// date formats, and calls-per-day series with the empty days filled in.

import { SEVERITY_ORDER, type DailyKeyRow, type DailyPrincipalRow, type DailyTotalRow, type Report } from './model.js';

export interface IdentityLabel {
  /** The short name: the role, user or service. */
  name: string;
  /** role, user, root, assumed-role session, federated user, service, ... */
  kind: string;
  account: string | null;
}

const IAM_ARN_RE = /^arn:aws[a-z-]*:(iam|sts)::(\d{12}|[^:]*):(.+)$/;

/** arn:aws:iam::111111111111:role/path/Name -> { name: 'Name', kind: 'role', account: '111111111111' } */
export function identityLabel(arn: string | null): IdentityLabel {
  if (arn === null || arn === '') return { name: '(no identity)', kind: 'unknown', account: null };
  const m = IAM_ARN_RE.exec(arn);
  if (!m) {
    if (/\.amazonaws\.com$/.test(arn)) return { name: arn, kind: 'AWS service', account: null };
    return { name: arn, kind: arn === 'AWS Internal' ? 'AWS internal' : 'other', account: null };
  }
  const [, , account, resource] = m;
  if (resource === 'root') return { name: 'root', kind: 'root user', account };
  const slash = resource.indexOf('/');
  const type = slash < 0 ? resource : resource.slice(0, slash);
  const parts = resource.split('/');
  switch (type) {
    case 'assumed-role':
      return { name: parts.slice(1).join('/'), kind: 'role session', account };
    case 'federated-user':
      return { name: parts.slice(1).join('/'), kind: 'federated user', account };
    default:
      return { name: parts[parts.length - 1] || resource, kind: type, account };
  }
}

export interface KeyLabel {
  /** The key id (a UUID, or mrk-... for a multi-Region key), else the whole value. */
  id: string;
  region: string | null;
  account: string | null;
}

const KEY_ARN_RE = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/;

export function keyLabel(arn: string | null): KeyLabel {
  if (arn === null || arn === '') return { id: '(no key)', region: null, account: null };
  const m = KEY_ARN_RE.exec(arn);
  return m ? { id: m[3], region: m[1], account: m[2] } : { id: arn, region: null, account: null };
}

const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const formatInt = (n: number): string => INT.format(n);

/** 0.0123 -> '1.2%'; a rate that is not zero never shows as 0. */
export function formatPercent(rate: number): string {
  if (rate === 0) return '0%';
  const pct = rate * 100;
  if (pct < 0.1) return '<0.1%';
  return `${pct >= 10 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** '2024-05-01' -> '1 May 2024' */
export function humanDay(day: string): string {
  const [y, m, d] = day.split('-');
  return `${Number(d)} ${MONTHS[Number(m) - 1]} ${y}`;
}

/** '2024-05-01' -> 'May 1', for chart axes. */
export function shortDay(day: string): string {
  const [, m, d] = day.split('-');
  return `${MONTHS[Number(m) - 1]} ${Number(d)}`;
}

/** The report's period in words: '1 May 2024 – 21 May 2024 (21 days, UTC)', or 'no data'. */
export function periodText(report: Report): string {
  const { first_day, last_day } = report.meta;
  if (first_day === null || last_day === null) return 'no events in the database';
  const days = daysBetween(first_day, last_day).length;
  return `${humanDay(first_day)} – ${humanDay(last_day)} (${days} day${days === 1 ? '' : 's'}, UTC)`;
}

/** Every day from first to last, inclusive ('YYYY-MM-DD'); capped, so a silly range cannot explode. */
export function daysBetween(first: string, last: string, cap = 3660): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`), end = Date.parse(`${last}T00:00:00Z`); t <= end && days.length < cap; t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

export interface Series {
  /** The full identity or key ARN (or 'all'). */
  id: string;
  label: string;
  values: number[];
  total: number;
}

export interface DailySeries {
  days: string[];
  series: Series[];
}

/** The days a chart spans: the report's period, or the days with data when it has no bounds. */
export function chartDays(report: Report): string[] {
  const { first_day, last_day } = report.meta;
  if (first_day === null || last_day === null) return [];
  return daysBetween(first_day, last_day);
}

function fill(days: string[], rows: Array<{ day: string; calls: number }>): number[] {
  const index = new Map(days.map((d, i) => [d, i]));
  const values = days.map(() => 0);
  for (const r of rows) {
    const i = index.get(r.day);
    if (i !== undefined) values[i] += r.calls;
  }
  return values;
}

function grouped<T extends { rnk: number }>(rows: T[], id: (row: T) => string): Array<{ id: string; rows: T[] }> {
  const groups = new Map<string, { rnk: number; rows: T[] }>();
  for (const r of rows) {
    const g = groups.get(id(r)) ?? { rnk: r.rnk, rows: [] };
    g.rows.push(r);
    groups.set(id(r), g);
  }
  return [...groups.entries()].sort((a, b) => a[1].rnk - b[1].rnk).map(([k, g]) => ({ id: k, rows: g.rows }));
}

export function totalSeries(report: Report): DailySeries & { errors: number[] } {
  const days = chartDays(report);
  const rows: DailyTotalRow[] = report.daily_totals;
  return {
    days,
    series: [{ id: 'all', label: 'All calls', values: fill(days, rows), total: report.summary.calls }],
    errors: fill(days, rows.map((r) => ({ day: r.day, calls: r.errors }))),
  };
}

export function principalSeries(report: Report): DailySeries {
  const days = chartDays(report);
  const groups = grouped<DailyPrincipalRow>(report.daily_principals, (r) => r.identity_arn ?? '');
  return {
    days,
    series: uniqueLabels(groups.map((g) => {
      const values = fill(days, g.rows);
      return { id: g.id, label: identityLabel(g.id || null).name, values, total: values.reduce((a, b) => a + b, 0) };
    })),
  };
}

export function keySeries(report: Report): DailySeries {
  const days = chartDays(report);
  const groups = grouped<DailyKeyRow>(report.daily_keys, (r) => r.key_arn);
  return {
    days,
    series: uniqueLabels(groups.map((g) => {
      const values = fill(days, g.rows);
      const k = keyLabel(g.id);
      return { id: g.id, label: `${k.id.slice(0, 8)}… ${k.region ?? ''}`.trim(), values, total: values.reduce((a, b) => a + b, 0) };
    })),
  };
}

/** Two roles of the same name in two accounts: tell them apart by account. */
function uniqueLabels(series: Series[]): Series[] {
  const counts = new Map<string, number>();
  for (const s of series) counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
  return series.map((s) => {
    if ((counts.get(s.label) ?? 0) < 2) return s;
    const account = identityLabel(s.id).account ?? keyLabel(s.id).account;
    return account ? { ...s, label: `${s.label} (${account})` } : s;
  });
}

/** Operation counts as 'Decrypt 3,178 · DescribeKey 12 · +2 more', busiest first. */
export function operationsText(ops: Array<{ event_name: string; calls: number }>, max = 3): string {
  const sorted = [...ops].sort((a, b) => b.calls - a.calls || a.event_name.localeCompare(b.event_name));
  const shown = sorted.slice(0, max).map((o) => `${o.event_name} ${formatInt(o.calls)}`);
  if (sorted.length > max) shown.push(`+${sorted.length - max} more`);
  return shown.join(' · ');
}

/** Rows grouped by a key, in their order. */
export function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

/** Accounts seen as principals' accounts that are not among the accounts whose trails are in the data. */
export function isExternalAccount(account: string | null, report: Report): boolean {
  return account !== null && /^\d{12}$/.test(account) && !report.meta.accounts.includes(account);
}

export function noDataText(report: Report): string {
  const where = report.meta.account ? ` for account ${report.meta.account}` : '';
  const when = report.meta.since || report.meta.until
    ? ` between ${report.meta.since ?? 'the beginning'} and ${report.meta.until ?? 'now'}`
    : '';
  return `There are no KMS events in ${report.meta.source}${where}${when}. Load CloudTrail logs with ` +
    'keytrail ingest, or widen --since / --until.';
}

/** Caveats a reader must see next to the numbers. */
export function notes(report: Report): string[] {
  const out: string[] = [];
  if (report.ingest && (report.ingest.quarantined > 0 || report.ingest.failed > 0)) {
    const parts = [];
    if (report.ingest.quarantined > 0) parts.push(`${formatInt(report.ingest.quarantined)} were unreadable (quarantined)`);
    if (report.ingest.failed > 0) parts.push(`${formatInt(report.ingest.failed)} could not be fetched`);
    out.push(`Of ${formatInt(report.ingest.objects)} log objects in the database, ${parts.join(' and ')}: ` +
      'their events are missing from this report (see the ingested_objects table).');
  }
  if (report.ingest && report.ingest.event_history_events > 0) {
    out.push(`${formatInt(report.ingest.event_history_events)} of the KMS events come from CloudTrail Event history ` +
      '(keytrail ingest event-history://): management events of the last 90 days only, without data events; ' +
      "a trail's log objects hold more (keytrail ingest s3://...).");
  }
  for (const gap of report.gaps) if (gap.section !== 'ingest') out.push(`Section ${gap.section} skipped: ${gap.reason}.`);
  return out;
}

export function findingsTotals(report: Report): string {
  if (report.findings.status !== 'ok') return 'unavailable';
  const parts = SEVERITY_ORDER.filter((s) => report.findings.by_severity[s] > 0).map((s) => `${report.findings.by_severity[s]} ${s}`);
  return parts.length ? parts.join(' · ') : 'none';
}
