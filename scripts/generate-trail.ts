#!/usr/bin/env node
/**
 * CLI wrapper around the seeded CloudTrail generator.
 *
 *   node dist/scripts/generate-trail.js --out DIR [--seed N] [--days N] [--start YYYY-MM-DD]
 *        [--target-mb N] [--org] [--no-bad] [--no-anomalies]
 *
 * Prints the summary (ground truth included) as JSON on stdout.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateTrail, type TrailOptions } from './trail-generator.js';

const USAGE =
  'usage: generate-trail --out DIR [--seed N] [--days N] [--start YYYY-MM-DD] [--target-mb N] [--org] [--no-bad] [--no-anomalies]';

export function parseArgs(argv: string[]): TrailOptions {
  const opts: Partial<TrailOptions> = {};
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || v.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} needs a number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--out':
        opts.out = value();
        break;
      case '--seed':
        opts.seed = num(flag, value());
        break;
      case '--days':
        opts.days = num(flag, value());
        break;
      case '--start':
        opts.start = value();
        break;
      case '--target-mb':
        opts.targetMb = num(flag, value());
        break;
      case '--org':
        opts.org = true;
        break;
      case '--no-bad':
        opts.bad = false;
        break;
      case '--no-anomalies':
        opts.anomalies = false;
        break;
      case '-h':
      case '--help':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  if (!opts.out) throw new Error(`--out is required\n${USAGE}`);
  return opts as TrailOptions;
}

function main(): void {
  let opts: TrailOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const t0 = Date.now();
  const summary = generateTrail(opts);
  process.stderr.write(`generated ${summary.objects} objects, ${summary.records} records (${summary.kmsRecords} KMS), ${(summary.bytesGz / 1048576).toFixed(1)} MiB gz in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
}

function isMain(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) main();
