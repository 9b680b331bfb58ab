// npm run bench: keytrail ingest against the strongest one-liner a user would write (DuckDB's own
// JSON reader over the files, unnest(Records), filter on eventSource, into a table), from a folder
// and from S3 (against `aws s3 sync` of the same objects from the same server), on a generated
// trail shaped like a real one, all measured in this one run, alternating, medians of --runs
// (machines here are shared and noisy, so only the ratios mean something).
//   node dist/scripts/bench.js [--mb 50] [--runs 3] [--no-4x] [--keep]

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { startLocalS3, uploadFolder } from './local-s3.js';
import { generateTrail } from './trail-generator.js';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '50' }, runs: { type: 'string', default: '3' },
    'no-4x': { type: 'boolean', default: false }, keep: { type: 'boolean', default: false },
  },
});
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

interface Measured { seconds: number; peakRssMb: number; stdout: string }

/** Runs a command (node by default), polling its peak RSS (VmHWM) from /proc while it runs. */
function measure(args: string[], env: Record<string, string> = {}, command = process.execPath): Promise<Measured> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let peakKb = 0;
    child.stdout.on('data', (d) => (stdout += d));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch { /* exited */ }
    }, 20);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0 && code !== 3) reject(new Error(`${args.join(' ')} exited with ${code}`));
      else resolvePromise({ seconds, peakRssMb: peakKb / 1024, stdout });
    });
  });
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
}

function trail(name: string, mb: number) {
  const out = join(work, name);
  rmSync(out, { recursive: true, force: true });
  const t = Date.now();
  const summary = generateTrail({ out, targetMb: mb, bad: false, anomalies: false, seed: 7 });
  console.log(
    `  ${name}: ${summary.objects} objects, ${(summary.bytesGz / 1e6).toFixed(1)} MB gzip, ${summary.records} events, ` +
      `${summary.kmsRecords} KMS (${((100 * summary.kmsRecords) / summary.records).toFixed(0)}%), generated in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );
  return { out, summary };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

rmSync(work, { recursive: true, force: true });
console.log('Generating the trails (seeded; most objects hold under 50 events and a few KB of gzip)…');
const one = trail('trail-1x', targetMb);
const four = values['no-4x'] ? null : trail('trail-4x', targetMb * 4);
const logFiles = join(work, 'files-1x.txt');
writeFileSync(logFiles, files(one.out).filter((f) => f.endsWith('.json.gz')).join('\n'));
const events = one.summary.records;

/** The run whose time is the median of `all` (its RSS goes with it). */
function median(all: Measured[]): Measured {
  return [...all].sort((a, b) => a.seconds - b.seconds)[Math.floor(all.length / 2)];
}

console.log(`\nMeasuring (each a fresh process and database; keytrail and the one-liner alternate, ${runs} runs each)…`);
const folderRuns: Measured[] = [];
const duckRuns: Measured[] = [];
for (let i = 0; i < runs; i++) {
  const db = join(work, 'folder.duckdb');
  rmSync(db, { force: true });
  const run = await measure([cli, 'ingest', one.out, '--db', db, '--json']);
  const found = JSON.parse(run.stdout).kmsEvents;
  if (found !== one.summary.kmsRecords) throw new Error(`folder ingest found ${found} KMS events, the generator wrote ${one.summary.kmsRecords}`);
  folderRuns.push(run);
  console.log(`  keytrail ingest <folder>      ${fmt(run.seconds)} s, ${fmt(run.peakRssMb, 0)} MB`);
  const duckDb = join(work, 'duckdb.duckdb');
  rmSync(duckDb, { force: true });
  const duckRun = await measure([duckdbBaseline, logFiles, duckDb]);
  const duckKms = JSON.parse(duckRun.stdout).kmsEvents;
  if (duckKms !== one.summary.kmsRecords) throw new Error(`DuckDB one-liner found ${duckKms} KMS events, the generator wrote ${one.summary.kmsRecords}`);
  duckRuns.push(duckRun);
  console.log(`  DuckDB read_json one-liner    ${fmt(duckRun.seconds)} s, ${fmt(duckRun.peakRssMb, 0)} MB`);
}
const folder = median(folderRuns);
const duck = median(duckRuns);

const s3 = await startLocalS3(join(work, 's3'));
let s3Run: Measured;
let rawGet: number;
let sync: Measured | null = null;
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
}

const big = four ? await measure([cli, 'ingest', four.out, '--db', join(work, 'folder-4x.duckdb'), '--json']) : null;
if (big) console.log(`  keytrail ingest <folder> at 4x ${fmt(big.seconds)} s`);

const row = (name: string, m: Measured, n = events) => `| ${name} | ${fmt(m.seconds)} | ${fmt(n / m.seconds / 1000)} | ${fmt(m.peakRssMb, 0)} |`;
console.log(`
| route | seconds | thousand events/s | peak RSS MB |
| --- | --- | --- | --- |
${row('keytrail ingest, folder', folder)}
${row('DuckDB read_json + unnest(Records) + filter', duck)}
${row('keytrail ingest, s3:// (s3rver on 127.0.0.1)', s3Run)}
${big && four ? row('keytrail ingest, folder, 4x corpus', big, four.summary.records) : ''}`);

const check = (label: string, value: number, goal: string, ok: boolean) =>
  console.log(`${ok ? 'met    ' : 'NOT met'}  ${label}: ${fmt(value, 2)} (goal ${goal})`);
check('folder throughput / DuckDB one-liner', duck.seconds / folder.seconds, '>= 1.6', duck.seconds / folder.seconds >= 1.6);
check('peak RSS of folder ingest, MB', folder.peakRssMb, '<= 400', folder.peakRssMb <= 400);
if (big) check('peak RSS at 4x / at 1x', big.peakRssMb / folder.peakRssMb, '<= 1.2', big.peakRssMb / folder.peakRssMb <= 1.2);
if (sync) check('S3 ingest throughput / aws s3 sync of the same objects', sync.seconds / s3Run.seconds, '>= 1', sync.seconds / s3Run.seconds >= 1);
console.log(`         S3 ingest / plain GETs of the same objects: ${fmt(rawGet / s3Run.seconds, 2)} (how close the S3 route gets to the server's own rate)`);
if (!values.keep) rmSync(work, { recursive: true, force: true });

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

