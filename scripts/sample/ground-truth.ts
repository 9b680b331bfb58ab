// Ground truth of the sample: each injected anomaly and benign look-alike is tracked by the records
// that match it, counted on the log objects actually written.

import type { CtRecord } from '../cloudtrail/index.js';
import type { BenignLookalike, InjectedAnomaly } from './types.js';

export interface Tracked<T> {
  entry: T;
  principal: string;
  identity: string | null;
  keys: string[];
  ip: string | null;
  names: string[];
  kmsOnly: boolean;
  error: string | null;
  day: string | null;
  byDay: Map<string, number>;
  first: string | null;
  last: string | null;
}

export interface TrackSpec {
  principal: string;
  identity: string | null;
  keys: string[];
  ip: string | null;
  names: string[];
  kmsOnly?: boolean;
  error?: string;
}

export function track<T extends InjectedAnomaly | BenignLookalike>(list: Tracked<T>[], entry: T, o: TrackSpec): void {
  list.push({ entry, principal: o.principal, identity: o.identity, keys: o.keys, ip: o.ip, names: o.names, kmsOnly: o.kmsOnly ?? true, error: o.error ?? null, day: entry.day, byDay: new Map(), first: null, last: null });
}

/** Counts `r` for `tr` when it is one of the tracked records. */
export function matchRecord(tr: Tracked<InjectedAnomaly | BenignLookalike>, r: CtRecord): void {
  if (tr.kmsOnly && r.eventSource !== 'kms.amazonaws.com') return;
  if (tr.identity !== null && r.userIdentity.arn !== tr.identity) return;
  if (tr.names.length && !tr.names.includes(r.eventName)) return;
  if (tr.ip !== null && r.sourceIPAddress !== tr.ip) return;
  if (tr.error !== null && r.errorCode !== tr.error) return;
  if (tr.keys.length) {
    // records that name KMS keys must name one of ours; key-less calls (ListAliases, ...) match
    const keyRes = (r.resources ?? []).filter((x) => x.ARN.startsWith('arn:aws:kms:') && x.ARN.includes(':key/'));
    if (keyRes.length && !keyRes.some((x) => tr.keys.includes(x.ARN))) return;
  }
  const day = r.eventTime.slice(0, 10);
  tr.byDay.set(day, (tr.byDay.get(day) ?? 0) + 1);
  if (tr.day === null || tr.day === day) {
    if (tr.first === null || r.eventTime < tr.first) tr.first = r.eventTime;
    if (tr.last === null || r.eventTime > tr.last) tr.last = r.eventTime;
  }
}
