/**
 * Seeded generator of realistic CloudTrail log objects (S3 layout, gzip, {"Records":[...]}).
 *
 * Everything random comes from seeded sfc32 streams, so the same options give byte-identical output.
 * The trail is produced window by window (5-minute delivery windows) and written as it goes; only the
 * small set of scheduled (anomaly / benign fixed) records is held in memory up front.
 *
 * Ground truth for detection tests is returned in the summary (`anomalies`, `benign`); every count there
 * is measured on the records actually written to the good log objects.
 *
 * The parts, in scripts/sample/: organization (accounts, keys, principals), background (streams of
 * everyday traffic), windows (the delivery-window engine), benign and anomalies (scheduled records),
 * writer, digests, broken-objects. Records come from the builders in scripts/cloudtrail/.
 */
import { DAY, HOUR, MIN, Rng } from './cloudtrail/index.js';
import { scheduleAnomalies } from './sample/anomalies.js';
import { buildStreams } from './sample/background.js';
import { scheduleBenign } from './sample/benign.js';
import { writeBadObjects } from './sample/broken-objects.js';
import { writeDigests } from './sample/digests.js';
import type { Tracked } from './sample/ground-truth.js';
import { ACCOUNT_REGIONS, Catalog } from './sample/organization.js';
import { DEFAULT_DAYS, DEFAULT_SEED, DEFAULT_START, DEFAULT_TARGET_MB, ORG_ACCOUNTS, type BenignLookalike, type InjectedAnomaly, type TrailOptions, type TrailSummary } from './sample/types.js';
import { parseStart, runWindows, Schedule, type StreamDef } from './sample/windows.js';
import { Writer } from './sample/writer.js';

export * from './sample/types.js';
export { Rng } from './cloudtrail/index.js';

/** Pick the volume multiplier so that the good log objects weigh about targetMb (gzip). */
function calibrate(cat: Catalog, streams: StreamDef<unknown>[], start: number, days: number, targetMb: number, seed: number): number {
  const dow = (d: number) => new Date(start + d * DAY).getUTCDay();
  let pilotDay = 0;
  for (let d = 0; d < Math.min(days, 7); d++)
    if (dow(d) >= 2 && dow(d) <= 4) {
      pilotDay = d;
      break;
    }
  const target = targetMb * 1024 * 1024;
  const measure = (scale: number): number => {
    const writer = new Writer('', true, () => '', 0, 0);
    runWindows({ cat, streams, start, dayFrom: pilotDay, dayTo: pilotDay + 1, scale, rng: new Rng(seed, 9), writer, sched: null, disabled: new Map(), days });
    return writer.bytesGz * days * 0.95; // weekends are a little lighter
  };
  const MIN_SCALE = 0.02;
  const MAX_SCALE = 5000;
  let s0 = 1;
  let b0 = measure(s0);
  let s1 = Math.min(MAX_SCALE, Math.max(MIN_SCALE, (s0 * target) / b0));
  if (Math.abs(s1 - s0) / s0 < 0.03) return s0;
  for (let iter = 0; iter < 3; iter++) {
    const b1 = measure(s1);
    if (Math.abs(b1 - target) / target < 0.04) return s1;
    const k = Math.log(b1 / b0) / Math.log(s1 / s0);
    const slope = Number.isFinite(k) && k > 0.2 ? k : 1;
    const s2 = Math.min(MAX_SCALE, Math.max(MIN_SCALE, s1 * Math.pow(target / b1, 1 / slope)));
    if (s2 === s1) return s1;
    s0 = s1;
    b0 = b1;
    s1 = s2;
  }
  return s1;
}

/**
 * calibrate's answer for these inputs (the catalogue and streams follow from the seed), computed
 * once per process: it simulates a day up to four times, a fifth of a small trail's generation,
 * and tests generate the same trail with and without anomalies.
 */
const calibrations = new Map<string, number>();
function calibrated(seed: number, start: number, days: number, targetMb: number, compute: () => number): number {
  const key = `${seed} ${start} ${days} ${targetMb}`;
  let scale = calibrations.get(key);
  if (scale === undefined) calibrations.set(key, (scale = compute()));
  return scale;
}

/** The organization the trail of `seed` comes from: its accounts, keys, roles and users. */
export function sampleOrganization(seed = DEFAULT_SEED): Catalog {
  return new Catalog(new Rng(seed, 1));
}

/** Generate the trail under `opts.out` and return the summary (ground truth included). */
export function generateTrail(opts: TrailOptions): TrailSummary {
  const seed = opts.seed ?? DEFAULT_SEED;
  const days = opts.days ?? DEFAULT_DAYS;
  const startStr = opts.start ?? DEFAULT_START;
  const targetMb = opts.targetMb ?? DEFAULT_TARGET_MB;
  const org = opts.org === true;
  const withBad = opts.bad !== false;
  const withAnomalies = opts.anomalies !== false;
  if (!Number.isInteger(days) || days < 2) throw new Error('days must be an integer >= 2');
  if (!(targetMb > 0)) throw new Error('targetMb must be > 0');
  const start = parseStart(startStr);

  const cat = sampleOrganization(seed);
  const streams = buildStreams(cat);
  if (opts.scale !== undefined && !(opts.scale > 0)) throw new Error('scale must be > 0');
  const scale = opts.scale ?? calibrated(seed, start, days, targetMb, () => calibrate(cat, streams, start, days, targetMb, seed));

  const sched = new Schedule(start);
  const benign = scheduleBenign(cat, sched, start, days, seed);
  const { anomalies, disabled } = withAnomalies ? scheduleAnomalies(cat, sched, start, days, seed) : { anomalies: [], disabled: new Map<string, number>() };
  const trailName = org ? 'org-trail' : 'management-events';
  const digestHours = 3;
  const digestFrom = start + 14 * HOUR;
  const prefixFor = (account: string) => (org ? `AWSLogs/${cat.orgId}/${account}` : `AWSLogs/${account}`);
  const writer = new Writer(opts.out, false, prefixFor, digestFrom, digestFrom + digestHours * HOUR + 20 * MIN);
  writer.setTrackers([...anomalies, ...benign] as Tracked<InjectedAnomaly | BenignLookalike>[]);

  runWindows({ cat, streams, start, dayFrom: 0, dayTo: days, scale, rng: new Rng(seed, 2), writer, sched, disabled, days });

  const digestSignatures = writeDigests(writer, {
    from: digestFrom, hours: digestHours, trailName, seed, org, orgId: cat.orgId, bucket: opts.bucket, signer: opts.digestSigner,
  });
  const badObjects = withBad ? writeBadObjects(cat, writer, start, days, seed) : [];

  const finish = <T extends InjectedAnomaly | BenignLookalike>(tr: Tracked<T>): T => {
    const e = tr.entry;
    if (tr.day === null) e.count = [...tr.byDay.values()].reduce((x, y) => x + y, 0);
    else e.count = tr.byDay.get(tr.day) ?? 0;
    if ('first_event_time' in e) {
      const a = e as InjectedAnomaly;
      a.first_event_time = tr.first;
      a.last_event_time = tr.last;
      if (a.kind === 'volume_spike') {
        const hist: number[] = [];
        for (const [d, n] of tr.byDay) if (d < a.day) hist.push(n);
        const mean = hist.length ? hist.reduce((x, y) => x + y, 0) / hist.length : 0;
        a.note += ` Baseline before: mean ${mean.toFixed(1)}/day over ${hist.length} days (ratio ${(a.count / Math.max(1, mean)).toFixed(1)}x).`;
      }
    }
    return e;
  };

  const accountRegions: Record<string, string[]> = {};
  for (const a of ORG_ACCOUNTS) accountRegions[a] = [...ACCOUNT_REGIONS[a]!];
  return {
    seed,
    start: startStr,
    days,
    objects: writer.objects,
    badObjects,
    digestObjects: digestSignatures.size,
    digestSignatures: Object.fromEntries(digestSignatures),
    records: writer.records,
    kmsRecords: writer.kmsRecords,
    bytesGz: writer.bytesGz,
    accounts: [...ORG_ACCOUNTS],
    regions: [...new Set(Object.values(ACCOUNT_REGIONS).flat())].sort(),
    accountRegions,
    orgId: org ? cat.orgId : null,
    trailName,
    scale: Math.round(scale * 1e4) / 1e4,
    anomalies: anomalies.map(finish),
    benign: benign.map(finish),
  };
}
