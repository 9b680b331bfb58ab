// Where one core's decode time goes per log object: read, gunzip, record scan, staging (marker
// search, MD5, NDJSON lines), on one thread, then the same objects through the worker pool as an
// ingest decodes them. Medians of --runs, alternating; only the ratios mean much on a shared machine.
//   node dist/scripts/bench-decode.js DIR [--runs 3] [--pool]

import { closeSync, fstatSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeObject, gunzipObject } from '../src/decode/decode.js';
import { DecodePool } from '../src/decode/pool.js';
import { scanRecords } from '../src/decode/scan.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '3' }, pool: { type: 'boolean', default: false } },
});
const dir = positionals[0];
if (!dir) throw new Error('usage: bench-decode DIR [--runs 3] [--pool]');
const runs = Math.max(1, Number(values.runs));

function files(d: string): string[] {
  return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : [join(d, n)]));
}
// Log objects only: digests are read by verify, not by the ingest.
const paths = files(dir).filter((f) => f.endsWith('.json.gz') && f.includes('/CloudTrail/'));

/** Reads a file with one fstat and one read into a buffer of its exact size (readFileSync's path has more steps). */
function readExact(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, buf, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
    return at === size ? buf : buf.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

const raw = paths.map((p) => readFileSync(p));
const plain = raw.map((r) => gunzipObject(r));
const gzMb = raw.reduce((s, r) => s + r.byteLength, 0) / 1e6;
const plainMb = plain.reduce((s, r) => s + r.byteLength, 0) / 1e6;
console.log(`${paths.length} objects, ${gzMb.toFixed(1)} MB gzip, ${plainMb.toFixed(1)} MB of JSON`);

const steps: Record<string, () => void> = {
  'read (readFileSync)': () => { for (const p of paths) readFileSync(p); },
  'read (open + fstat + readSync)': () => { for (const p of paths) readExact(p); },
  'gunzip (node:zlib gunzipSync)': () => { for (const r of raw) gunzipObject(r); },
  'scan (record boundaries)': () => { for (const b of plain) scanRecords(b); },
  'decodeObject (gunzip + scan + staging)': () => { raw.forEach((r, i) => decodeObject(r, i)); },
};
// CPU seconds of this process (all its threads): less at the mercy of other processes than wall time.
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(steps).map((k) => [k, []]));
for (let run = 0; run < runs; run++) {
  for (const [name, step] of Object.entries(steps)) {
    const t = cpu();
    step();
    times[name].push(cpu() - t);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const perObject = (s: number) => `${((s / paths.length) * 1e6).toFixed(0)} µs/object`;
console.log('\nOne thread, CPU seconds, medians:');
for (const [name, xs] of Object.entries(times)) console.log(`  ${name.padEnd(42)} ${median(xs).toFixed(2)} s  ${perObject(median(xs))}`);
const staging = median(times['decodeObject (gunzip + scan + staging)']) - median(times['gunzip (node:zlib gunzipSync)']) - median(times['scan (record boundaries)']);
console.log(`  ${'staging (decodeObject - gunzip - scan)'.padEnd(42)} ${staging.toFixed(2)} s  ${perObject(staging)}`);

if (values.pool) {
  console.log('\nThe worker pool (read in the workers, as a folder ingest does), medians:');
  const poolTimes: number[] = [];
  const poolCpu: number[] = [];
  for (let run = 0; run < runs; run++) {
    const pool = new DecodePool();
    const c = cpu();
    const t = process.hrtime.bigint();
    let staged = 0;
    await Promise.all(paths.map(async (p, i) => {
      const decoded = await pool.decodeFile(p, i, Infinity);
      staged += decoded.staged.byteLength;
    }));
    poolTimes.push(Number(process.hrtime.bigint() - t) / 1e9);
    poolCpu.push(cpu() - c);
    await pool.close();
    if (run === 0) console.log(`  staged ${(staged / 1e6).toFixed(1)} MB`);
  }
  console.log(`  DecodePool.decodeFile, all objects: wall ${median(poolTimes).toFixed(2)} s, CPU of all threads ${median(poolCpu).toFixed(2)} s`);
}
