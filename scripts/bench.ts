// npm run bench: keytrail ingest against the strongest one-liner a user would write (DuckDB's own
// JSON reader over the files, unnest(Records), filter on eventSource, into a table), from a folder
// at 1x and 4x the trail's size and from S3 (against `aws s3 sync` of the same objects from the
// same server), on a generated trail shaped like a real one; then a few nights' ingest into a
// database grown by SQL to millions of events against the same ingest into an empty one. All
// measured in this one run, alternating, medians of --runs (machines here are shared and noisy,
// so only the ratios mean something).
//   node dist/scripts/bench.js [--mb 50] [--runs 3] [--no-4x] [--no-s3] [--sizes 0,5,10,20|none]
//                              [--night-days 3] [--keep]

import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { countEvents, growStore } from './grow-store.js';
import { startLocalS3, uploadFolder } from './local-s3.js';
import { measure, type Measured } from './measure.js';
import { generateTrail, type TrailOptions } from './trail-generator.js';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '50' }, runs: { type: 'string', default: '3' },
    'no-4x': { type: 'boolean', default: false }, 'no-s3': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    /** Millions of events in the grown database at each step of the store benchmark ('none': skip it). */
    sizes: { type: 'string', default: '0,5,10,20' },
    /** Days of logs each night's ingest reads in the store benchmark. */
    'night-days': { type: 'string', default: '3' },
  },
});
const sizes = values.sizes === 'none' ? [] : values.sizes.split(',').map(Number).sort((a, b) => a - b);
if (sizes.some((n) => !Number.isFinite(n) || n < 0)) throw new Error(`--sizes: millions of events, comma-separated (e.g. 0,5,10,20), or none`);
const nightDays = Number(values['night-days']);
if (!Number.isInteger(nightDays) || nightDays < 2) throw new Error('--night-days: a whole number of days, at least 2');
const targetMb = Number(values.mb);
const runs = Math.max(1, Number(values.runs));
const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, import.meta.url.endsWith('.ts') ? '..' : '../..');
const work = join(root, '.bench');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const duckdbBaseline = join(root, 'dist', 'scripts', 'bench-duckdb.js');
const S3_CONCURRENCY = 32;
/** The AWS CLI, when the machine has one (Debian's awscli is /usr/bin/aws). */
const awsCli = ['/usr/bin/aws', 'aws'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0) ?? null;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
}

function trail(name: string, options: Omit<TrailOptions, 'out'>, out = join(work, name), fresh = true) {
  if (fresh) rmSync(out, { recursive: true, force: true });
  const t = Date.now();
  const summary = generateTrail({ out, bad: false, anomalies: false, seed: 7, ...options });
  console.log(
    `  ${name}: ${summary.objects} objects, ${(summary.bytesGz / 1e6).toFixed(1)} MB gzip, ${summary.records} events, ` +
      `${summary.kmsRecords} KMS (${((100 * summary.kmsRecords) / summary.records).toFixed(0)}%), generated in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );
  return { out, summary };
}

function fileList(name: string, dir: string): string {
  const list = join(work, `files-${name}.txt`);
  writeFileSync(list, files(dir).filter((f) => f.endsWith('.json.gz')).join('\n'));
  return list;
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

rmSync(work, { recursive: true, force: true });
console.log('Generating the trails (seeded; most objects hold under 50 events and a few KB of gzip)…');
const one = trail('trail-1x', { targetMb });
const four = values['no-4x'] ? null : trail('trail-4x', { targetMb: targetMb * 4 });
const events = one.summary.records;

/** The run whose time is the median of `all` (its RSS goes with it). */
function median(all: Measured[]): Measured {
  return [...all].sort((a, b) => a.seconds - b.seconds)[Math.floor(all.length / 2)];
}

/** keytrail ingest of a folder into a fresh database, checked against the generator's count. */
async function folderIngest(dir: string, db: string, kmsRecords: number): Promise<Measured> {
  rmSync(db, { force: true });
  const run = await measure([cli, 'ingest', dir, '--db', db, '--json']);
  const found = JSON.parse(run.stdout).kmsEvents;
  if (found !== kmsRecords) throw new Error(`folder ingest found ${found} KMS events, the generator wrote ${kmsRecords}`);
  return run;
}

/** The one-liner over the log objects of `list`, into a fresh database, checked the same way. */
async function oneLiner(list: string, db: string, kmsRecords: number): Promise<Measured> {
  rmSync(db, { force: true });
  const run = await measure([duckdbBaseline, list, db]);
  const found = JSON.parse(run.stdout).kmsEvents;
  if (found !== kmsRecords) throw new Error(`DuckDB one-liner found ${found} KMS events, the generator wrote ${kmsRecords}`);
  rmSync(db, { force: true });
  return run;
}

console.log(`\nMeasuring (each a fresh process and database; keytrail and the one-liner alternate, ${runs} runs each)…`);
const folderRuns: Measured[] = [];
const duckRuns: Measured[] = [];
// The last folder run's database is kept: the store benchmark copies its rows.
const template = join(work, 'folder.duckdb');
const files1x = fileList('1x', one.out);
for (let i = 0; i < runs; i++) {
  const run = await folderIngest(one.out, template, one.summary.kmsRecords);
  folderRuns.push(run);
  console.log(`  keytrail ingest <folder>      ${fmt(run.seconds)} s, ${fmt(run.peakRssMb, 0)} MB`);
  const duckRun = await oneLiner(files1x, join(work, 'duckdb.duckdb'), one.summary.kmsRecords);
  duckRuns.push(duckRun);
  console.log(`  DuckDB read_json one-liner    ${fmt(duckRun.seconds)} s, ${fmt(duckRun.peakRssMb, 0)} MB`);
}
const folder = median(folderRuns);
const duck = median(duckRuns);

let s3Run: Measured | null = null;
let rawGet = 0;
let sync: Measured | null = null;
if (!values['no-s3']) {
  const s3 = await startLocalS3(join(work, 's3'));
  try {
    await uploadFolder(s3.client, 'bench-trail', one.out, files(one.out).filter((f) => f.endsWith('.json.gz')));
    s3Run = await measure([cli, 'ingest', 's3://bench-trail/', '--endpoint-url', s3.endpoint, '--db', join(work, 's3.duckdb'), '--json', '--concurrency', String(S3_CONCURRENCY)], s3.env);
    const s3Summary = JSON.parse(s3Run.stdout);
    if (s3Summary.kmsEvents !== one.summary.kmsRecords) throw new Error(`S3 ingest found ${s3Summary.kmsEvents} KMS events`);
    console.log(`  keytrail ingest s3://         ${fmt(s3Run.seconds)} s`);
    rawGet = await rawGetSeconds(s3.client, 'bench-trail');
    console.log(`  plain GETs of the same objects, no decoding (the local server's ceiling): ${fmt(rawGet)} s`);
    if (awsCli) {
      sync = await measure(['s3', 'sync', 's3://bench-trail/', join(work, 'synced'), '--endpoint-url', s3.endpoint, '--only-show-errors'], { ...s3.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_DEFAULT_REGION: 'us-east-1' }, awsCli);
      console.log(`  aws s3 sync of the same objects ${fmt(sync.seconds)} s`);
    } else {
      console.log('  aws s3 sync: no aws command on this machine, not measured');
    }
  } finally {
    await s3.stop();
    rmSync(join(work, 'synced'), { recursive: true, force: true });
  }
}

let big: Measured | null = null;
let bigDuck: Measured | null = null;
if (four) {
  big = await folderIngest(four.out, join(work, 'folder-4x.duckdb'), four.summary.kmsRecords);
  rmSync(join(work, 'folder-4x.duckdb'), { force: true });
  console.log(`  keytrail ingest <folder> at 4x ${fmt(big.seconds)} s, ${fmt(big.peakRssMb, 0)} MB`);
  bigDuck = await oneLiner(fileList('4x', four.out), join(work, 'duckdb-4x.duckdb'), four.summary.kmsRecords);
  console.log(`  DuckDB one-liner at 4x         ${fmt(bigDuck.seconds)} s, ${fmt(bigDuck.peakRssMb, 0)} MB`);
}

const store = sizes.length > 0 ? await storeBenchmark() : [];

const row = (name: string, m: Measured, n = events) => `| ${name} | ${fmt(m.seconds)} | ${fmt(n / m.seconds / 1000)} | ${fmt(m.peakRssMb, 0)} |`;
const rows = [
  row('keytrail ingest, folder', folder),
  row('DuckDB read_json + unnest(Records) + filter', duck),
  s3Run ? row('keytrail ingest, s3:// (s3rver on 127.0.0.1)', s3Run) : null,
  big && four ? row('keytrail ingest, folder, 4x trail', big, four.summary.records) : null,
  bigDuck && four ? row('DuckDB one-liner, 4x trail', bigDuck, four.summary.records) : null,
].filter((r) => r !== null);
console.log(`\n| route | seconds | thousand events/s | peak RSS MB |\n| --- | --- | --- | --- |\n${rows.join('\n')}`);

if (store.length > 0) {
  console.log(`
Each night (${nightDays} days of logs, the next ones each time) ingested into an empty database and into the grown one:
| events stored | database GB | ms/object, empty | ms/object, grown | cost ratio | peak RSS MB, empty | grown | RSS ratio |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${store.map((r) => `| ${(r.stored / 1e6).toFixed(2)}M | ${fmt(r.gb, 2)} | ${fmt(r.emptyMs, 2)} | ${r.grown ? fmt(r.grownMs, 2) : 'failed'} | ${r.grown ? fmt(r.grownMs / r.emptyMs, 2) : '—'} | ${fmt(r.empty.peakRssMb, 0)} | ${r.grown ? fmt(r.grown.peakRssMb, 0) : '—'} | ${r.grown ? fmt(r.grown.peakRssMb / r.empty.peakRssMb, 2) : '—'} |`).join('\n')}`);
  for (const r of store.filter((x) => x.error)) console.log(`  ingest into ${(r.stored / 1e6).toFixed(2)}M events failed: ${r.error}`);
}

const check = (label: string, value: number, goal: string, ok: boolean) =>
  console.log(`${ok ? 'met    ' : 'NOT met'}  ${label}: ${fmt(value, 2)} (goal ${goal})`);
console.log('');
check('folder throughput / DuckDB one-liner, 1x', duck.seconds / folder.seconds, '>= 1.3', duck.seconds / folder.seconds >= 1.3);
if (big && bigDuck) check('folder throughput / DuckDB one-liner, 4x', bigDuck.seconds / big.seconds, '>= 1.3', bigDuck.seconds / big.seconds >= 1.3);
check('peak RSS of folder ingest, 1x, MB', folder.peakRssMb, '<= 400', folder.peakRssMb <= 400);
if (big) {
  check('peak RSS of folder ingest, 4x, MB', big.peakRssMb, '<= 400', big.peakRssMb <= 400);
  check('peak RSS at 4x / at 1x', big.peakRssMb / folder.peakRssMb, '<= 1.2, flat', big.peakRssMb / folder.peakRssMb <= 1.2);
}
const grown = store.filter((r) => r.grown);
if (store.length > 0) {
  const last = store[store.length - 1];
  const at = `${(last.stored / 1e6).toFixed(1)}M events`;
  if (!last.grown) console.log(`NOT met  ingest into a database of ${at}: failed`);
  else {
    check(`per-object cost into ${at} / into an empty database`, last.grownMs / last.emptyMs, '<= 1.25', last.grownMs / last.emptyMs <= 1.25);
    check(`peak RSS of the ingest into ${at}, MB`, last.grown.peakRssMb, '<= 400', last.grown.peakRssMb <= 400);
  }
  if (grown.length >= 2) extrapolate(grown);
}
if (sync && s3Run) check('S3 ingest throughput / aws s3 sync of the same objects', sync.seconds / s3Run.seconds, '>= 1', sync.seconds / s3Run.seconds >= 1);
if (s3Run) console.log(`         S3 ingest / plain GETs of the same objects: ${fmt(rawGet / s3Run.seconds, 2)} (how close the S3 route gets to the server's own rate)`);
if (!values.keep) rmSync(work, { recursive: true, force: true });

interface StoreStep {
  stored: number;
  gb: number;
  objects: number;
  kmsEvents: number;
  empty: Measured;
  emptyMs: number;
  grown: Measured | null;
  grownMs: number;
  error?: string;
}

/**
 * Grows a database by SQL (copies of the 1x trail's rows and manifest rows, earlier in time) to
 * each of --sizes, and at each one ingests the next few days of logs into it and, just before,
 * the same days into an empty database: per-object cost and peak RSS, grown against empty.
 * Stops growing after an ingest that fails (out of memory, say): bigger only fails the same way.
 */
async function storeBenchmark(): Promise<StoreStep[]> {
  const grownDb = join(work, 'grown.duckdb');
  rmSync(grownDb, { force: true });
  const perCopy = await countEvents(template);
  const spanDays = one.summary.days;
  console.log(`\nThe store as it grows: copies of the 1x trail's ${perCopy} events, ${spanDays} days apart, into earlier periods; then ${nightDays} nights' days of logs ingested…`);
  const steps: StoreStep[] = [];
  let copies = 0;
  for (const [i, millions] of sizes.entries()) {
    const target = Math.round((millions * 1e6) / perCopy);
    if (target > copies) {
      const t = Date.now();
      await growStore(grownDb, { template, spanDays, from: copies, to: target - 1 });
      copies = target;
      console.log(`  grown to ${copies} copies in ${fmt((Date.now() - t) / 1000)} s`);
    }
    // The next nights, after everything stored, in the same folder (the same source) as the 1x trail.
    const start = addDays(one.summary.start, spanDays + i * nightDays);
    const until = addDays(start, nightDays - 1);
    const night = trail(`night ${start}`, { start, days: nightDays, scale: one.summary.scale, seed: 100 + i }, one.out, false);
    const args = (db: string) => [cli, 'ingest', one.out, '--since', start, '--until', until, '--db', db, '--json'];
    const emptyDb = join(work, 'empty.duckdb');
    rmSync(emptyDb, { force: true });
    rmSync(`${emptyDb}.wal`, { force: true });
    const empty = await measure(args(emptyDb));
    const objects = JSON.parse(empty.stdout).objects as number;
    rmSync(emptyDb, { force: true });
    const stored = copies === 0 ? 0 : await countEvents(grownDb);
    const gb = copies === 0 ? 0 : statSync(grownDb).size / 1e9;
    const step: StoreStep = { stored, gb, objects, kmsEvents: night.summary.kmsRecords, empty, emptyMs: (1000 * empty.seconds) / objects, grown: null, grownMs: 0 };
    try {
      step.grown = await measure(args(copies === 0 ? join(work, 'empty-again.duckdb') : grownDb));
      step.grownMs = (1000 * step.grown.seconds) / objects;
    } catch (err) {
      step.error = (err as Error).message;
    }
    rmSync(join(work, 'empty-again.duckdb'), { force: true });
    steps.push(step);
    console.log(
      `  ${(stored / 1e6).toFixed(2)}M events stored (${fmt(gb, 2)} GB): ${objects} objects, empty ${fmt(step.emptyMs, 2)} ms/object ${fmt(empty.peakRssMb, 0)} MB, ` +
        (step.grown ? `grown ${fmt(step.grownMs, 2)} ms/object ${fmt(step.grown.peakRssMb, 0)} MB` : 'grown: FAILED'),
    );
    if (!step.grown) break;
  }
  if (!values.keep) rmSync(grownDb, { force: true });
  return steps;
}

/**
 * Least-squares lines through the cost and RSS ratios against events stored, and what they say of
 * a large organization's year (100M KMS events; about 274k a night) at the end of that year.
 */
function extrapolate(steps: StoreStep[]): void {
  const fit = (ys: number[]) => {
    const xs = steps.map((s) => s.stored / 1e6);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    const slope = sxx === 0 ? 0 : xs.reduce((a, x, k) => a + (x - mx) * (ys[k] - my), 0) / sxx;
    return { slope, at: (m: number) => my + slope * (m - mx) };
  };
  const cost = fit(steps.map((s) => s.grownMs / s.emptyMs));
  const rss = fit(steps.map((s) => s.grown!.peakRssMb));
  const last = steps[steps.length - 1];
  const perKmsEvent = (1000 * last.empty.seconds) / last.kmsEvents; // ms, into an empty database
  const night = 100e6 / 365;
  console.log(
    `         slope: per-object cost ${fmt(100 * cost.slope * 10, 1)}% more per 10M events stored, peak RSS ${fmt(rss.slope * 10, 0)} MB more per 10M\n` +
      `         a 100M-event store, extrapolated: cost ratio ${fmt(cost.at(100), 2)}, peak RSS ${fmt(rss.at(100), 0)} MB; ` +
      `a night of ${fmt(night / 1000, 0)}k KMS events into it about ${fmt((night * perKmsEvent * cost.at(100)) / 1000 / 60, 1)} min of this machine`,
  );
}

/** Lists and GETs every object at the ingest's concurrency, reading bodies and nothing else. */
async function rawGetSeconds(client: S3Client, bucket: string): Promise<number> {
  const started = Date.now();
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((c) => c.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const limit = pLimit(S3_CONCURRENCY);
  await Promise.all(keys.map((Key) => limit(async () => (await client.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body!.transformToByteArray())));
  return (Date.now() - started) / 1000;
}

