// The engine of the sample: 5-minute delivery windows per account and region, in which each
// background stream draws Poisson bursts of related calls; scheduled records (benign fixed events,
// anomalies) join their window; each window's records go out as log objects.

import { DAY, MIN, SEC, type CtRecord, type Rng } from '../cloudtrail/index.js';
import { ACCOUNT_REGIONS, type Catalog, type Key } from './organization.js';
import { ORG_ACCOUNTS } from './types.js';
import type { Writer } from './writer.js';

export const WIN = 5 * MIN;
export const WINDOWS_PER_DAY = DAY / WIN;

/** A record and the time it sorts by within its window. */
export interface Item {
  t: number;
  r: CtRecord;
}

/** What a stream sees and writes to while a window runs. */
export interface WindowRun {
  rng: Rng;
  cat: Catalog;
  out: Item[];
  day: number;
  dayStart: number;
  start: number;
  /** Key ARN -> time it was disabled (only when anomalies are on). */
  disabled: Map<string, number>;
  scale: number;
  /** Days of normal history before the anomalies. */
  hist: number;
}

export type Profile = number[]; // 24 hourly weights, mean 1

export function profile(f: (h: number) => number): Profile {
  const w = Array.from({ length: 24 }, (_, h) => f(h + 0.5));
  const mean = w.reduce((a, b) => a + b, 0) / 24;
  return w.map((x) => x / mean);
}
export const P_FLAT = profile(() => 1);
export const P_SERVICE = profile((h) => 1 + 0.3 * Math.cos((2 * Math.PI * (h - 16)) / 24));
export const P_APP = profile((h) => 1 + 0.65 * Math.cos((2 * Math.PI * (h - 18)) / 24));
export const P_US_BUSINESS = profile((h) => (h >= 13 && h < 22 ? 5 : h >= 11 && h < 24 ? 1.5 : 0.1));
export const P_EU_BUSINESS = profile((h) => (h >= 7 && h < 17 ? 5 : h >= 5 && h < 20 ? 1.2 : 0.1));

export interface StreamDef<S> {
  id: string;
  account: string;
  region: string;
  /** Bursts per day at scale 1. */
  bursts: number;
  /** Bursts scale as scale^exp (0: fixed volume). */
  exp: number;
  /** Minimum bursts per day whatever the scale. */
  floor?: number;
  /** Burst size in units: lognormal. */
  size: { median: number; sigma: number; max: number; exp?: number; floor?: number };
  profile?: Profile;
  /** Weekend multiplier (default 1). */
  weekend?: number;
  /** Fixed start minutes-of-day; each gives exactly one burst on active days (bursts/profile ignored). */
  cron?: number[];
  /** Day filter (day index, weekday 0=Sun). */
  active?: (day: number, dow: number) => boolean;
  /** Mean gap between units in a burst, seconds. */
  gap: number;
  begin: (g: WindowRun, t: number) => S;
  unit: (g: WindowRun, t: number, s: S, i: number) => void;
}

export interface Stream {
  def: StreamDef<unknown>;
  perWindow: number[]; // expected bursts per window by hour at the chosen scale
}

export function defineStream<S>(d: StreamDef<S>): StreamDef<unknown> {
  return d as unknown as StreamDef<unknown>;
}

export function push(g: WindowRun, r: CtRecord, t: number): void {
  g.out.push({ t, r });
}

/** Pick a usable key; disabled keys yield null after their disable time. */
export function usable(g: WindowRun, k: Key, t: number): boolean {
  const d = g.disabled.get(k.arn);
  return d === undefined || t < d;
}

export function pubIpFor(g: WindowRun, name: string): string {
  return g.cat.ip(name);
}

/** Days of normal history before the anomalies. */
export function historyFor(days: number): number {
  return days > 14 ? 14 : Math.max(1, Math.floor(days / 2));
}

/** Records scheduled ahead of the run (benign fixed events, anomalies), by account, region and window. */
export class Schedule {
  readonly items = new Map<string, Item[]>();
  constructor(readonly start: number) {}
  add(r: CtRecord, t: number, account: string): void {
    const w = Math.floor((t - this.start) / WIN);
    const k = `${account}/${r.awsRegion}/${w}`;
    let a = this.items.get(k);
    if (!a) this.items.set(k, (a = []));
    a.push({ t, r });
  }
  take(account: string, region: string, w: number): Item[] | undefined {
    const k = `${account}/${region}/${w}`;
    const a = this.items.get(k);
    if (a) this.items.delete(k);
    return a;
  }
}

export function parseStart(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) throw new Error(`start must be YYYY-MM-DD, got ${JSON.stringify(s)}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

export interface RunParams {
  cat: Catalog;
  streams: StreamDef<unknown>[];
  start: number;
  dayFrom: number;
  dayTo: number;
  scale: number;
  rng: Rng;
  writer: Writer;
  sched: Schedule | null;
  disabled: Map<string, number>;
  /** Total days of the trail (for the history length). */
  days: number;
}

const OBJECT_CAP = 2000;

export function runWindows(p: RunParams): void {
  const { cat, streams, start, scale, rng, writer } = p;
  const ars: { account: string; region: string; streams: Stream[] }[] = [];
  for (const account of ORG_ACCOUNTS)
    for (const region of ACCOUNT_REGIONS[account]!) {
      const list: Stream[] = [];
      for (const def of streams) {
        if (def.account !== account || def.region !== region) continue;
        const prof = def.profile ?? P_FLAT;
        let perDay = def.bursts * Math.pow(scale, def.exp);
        if (def.floor !== undefined) perDay = Math.max(def.floor, perDay);
        list.push({ def, perWindow: prof.map((w) => (perDay * w) / WINDOWS_PER_DAY) });
      }
      ars.push({ account, region, streams: list });
    }
  const g: WindowRun = { rng, cat, out: [], day: 0, dayStart: 0, start, disabled: p.disabled, scale, hist: historyFor(p.days) };
  for (let day = p.dayFrom; day < p.dayTo; day++) {
    const dayStart = start + day * DAY;
    const dow = new Date(dayStart).getUTCDay();
    const isWeekend = dow === 0 || dow === 6;
    g.day = day;
    g.dayStart = dayStart;
    for (let w = 0; w < WINDOWS_PER_DAY; w++) {
      const t0 = dayStart + w * WIN;
      const hour = Math.floor(w / 12);
      for (const ar of ars) {
        g.out = [];
        for (const s of ar.streams) {
          const d = s.def;
          if (d.active && !d.active(day, dow)) continue;
          let n: number;
          let fixedStart = -1;
          if (d.cron) {
            n = 0;
            for (const m of d.cron)
              if (m * MIN >= w * WIN && m * MIN < (w + 1) * WIN) {
                n = 1;
                fixedStart = t0 + (m * MIN - w * WIN);
              }
          } else {
            const lambda = s.perWindow[hour]! * (isWeekend ? (d.weekend ?? 1) : 1);
            n = rng.poisson(lambda);
          }
          for (let b = 0; b < n; b++) {
            let t = fixedStart >= 0 ? fixedStart + rng.int(30 * SEC) : t0 + rng.int(WIN);
            const median = Math.max(d.size.floor ?? 0, d.size.median * Math.pow(scale, d.size.exp ?? 0));
            const size = Math.max(1, Math.min(d.size.max, Math.round(rng.lognormal(median, d.size.sigma))));
            const state = d.begin(g, t);
            // keep a burst inside its delivery window (big bursts get denser, not longer)
            const gapMs = Math.min(d.gap * SEC, Math.max(50, (t0 + WIN - t) / (size + 1)));
            for (let i = 0; i < size; i++) {
              d.unit(g, t, state, i);
              t += Math.round(rng.exp(gapMs));
            }
          }
        }
        if (p.sched) {
          const extra = p.sched.take(ar.account, ar.region, day * WINDOWS_PER_DAY + w);
          if (extra) for (const it of extra) g.out.push(it);
        }
        if (g.out.length === 0) continue;
        const items = g.out;
        items.sort((x, y) => x.t - y.t);
        // Delivery: a few minutes after the end of the window (later for the last stragglers).
        const last = items[items.length - 1]!.t;
        const base = Math.max(t0 + WIN, last + MIN);
        const nObj = Math.ceil(items.length / OBJECT_CAP);
        const per = Math.ceil(items.length / nObj);
        for (let o = 0; o < nObj; o++) {
          const delivery = base + rng.range(20, 5 * 60) * SEC;
          writer.writeLog(rng, ar.account, ar.region, delivery, items.slice(o * per, (o + 1) * per));
        }
      }
    }
  }
}
