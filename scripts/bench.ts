// npm run bench: keytrail ingest against DuckDB's own JSON reader, from a folder and from S3,
// on a generated trail shaped like a real one, all measured in this one run (machines here are
// shared and noisy, so only the ratios mean something). Prints time, throughput and peak RSS.
//   node dist/scripts/bench.js [--mb 50] [--no-4x] [--keep]

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { startLocalS3, uploadFolder } from './local-s3.js';
import { generateTrail } from './trail-generator.js';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '50' }, 'no-4x': { type: 'boolean', default: false }, keep: { type: 'boolean', default: false } } });
const targetMb = Number(values.mb);
const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, import.meta.url.endsWith('.ts') ? '..' : '../..');
const work = join(root, '.bench');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const duckdbBaseline = join(root, 'dist', 'scripts', 'bench-duckdb.js');
const S3_CONCURRENCY = 32;

interface Measured { seconds: number; peakRssMb: number; stdout: string }

/** Runs a command, polling its peak RSS (VmHWM) from /proc while it runs. */
function measure(args: string[], env: Record<string, string> = {}): Promise<Measured> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
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
const glob = join(one.out, 'AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz');
const events = one.summary.records;

console.log('\nMeasuring (each a fresh process and database)…');
const folder = await measure([cli, 'ingest', one.out, '--db', join(work, 'folder.duckdb'), '--json']);
const folderSummary = JSON.parse(folder.stdout);
if (folderSummary.kmsEvents !== one.summary.kmsRecords) throw new Error(`folder ingest found ${folderSummary.kmsEvents} KMS events, the generator wrote ${one.summary.kmsRecords}`);
console.log(`  keytrail ingest <folder>      ${fmt(folder.seconds)} s`);

const duck = await measure([duckdbBaseline, glob, join(work, 'duckdb.duckdb')]);
const duckKms = JSON.parse(duck.stdout).kmsEvents;
if (duckKms !== one.summary.kmsRecords) throw new Error(`DuckDB one-liner found ${duckKms} KMS events, the generator wrote ${one.summary.kmsRecords}`);
console.log(`  DuckDB read_json one-liner    ${fmt(duck.seconds)} s`);

const s3 = await startLocalS3(join(work, 's3'));
let s3Run: Measured;
let rawGet: number;
try {
  await uploadFolder(s3.client, 'bench-trail', one.out, files(one.out).filter((f) => f.endsWith('.json.gz')));
  s3Run = await measure([cli, 'ingest', 's3://bench-trail/', '--endpoint-url', s3.endpoint, '--db', join(work, 's3.duckdb'), '--json', '--concurrency', String(S3_CONCURRENCY)], s3.env);
  const s3Summary = JSON.parse(s3Run.stdout);
  if (s3Summary.kmsEvents !== one.summary.kmsRecords) throw new Error(`S3 ingest found ${s3Summary.kmsEvents} KMS events`);
  console.log(`  keytrail ingest s3://         ${fmt(s3Run.seconds)} s`);
  rawGet = await rawGetSeconds(s3.client, 'bench-trail');
  console.log(`  plain GETs of the same objects, no decoding (the local server's ceiling): ${fmt(rawGet)} s`);
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
check('folder throughput / DuckDB one-liner', duck.seconds / folder.seconds, '>= 2', duck.seconds / folder.seconds >= 2);
check('S3 throughput / folder', folder.seconds / s3Run.seconds, '>= 0.8', folder.seconds / s3Run.seconds >= 0.8);
console.log(`         S3 ingest / plain GETs of the same objects: ${fmt(rawGet / s3Run.seconds, 2)} (how close the S3 route gets to the server's own rate)`);
check('peak RSS of folder ingest, MB', folder.peakRssMb, '< 500', folder.peakRssMb < 500);
if (big) check('peak RSS at 4x / at 1x', big.peakRssMb / folder.peakRssMb, '<= 1.2', big.peakRssMb / folder.peakRssMb <= 1.2);
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

