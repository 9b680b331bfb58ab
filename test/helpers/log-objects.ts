// Writes CloudTrail log objects the way CloudTrail names and packs them, for tests.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const fixturesDir = new URL('../fixtures/', import.meta.url).pathname;

export function tempDir(prefix = 'keytrail-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let serial = 0;
/** Object serials from 0 again: test/helpers/per-file.ts calls it before each test file. */
export const restartSerials = () => void (serial = 0);

/** The key of a log object in the CloudTrail layout, delivered at `time` (ISO). */
export function logObjectKey(account: string, region: string, time: string, org?: string): string {
  const [date, clock] = time.split('T');
  const [y, m, d] = date.split('-');
  const hhmm = clock.slice(0, 5).replace(':', '');
  const unique = `T${String(serial++).padStart(15, '0')}`;
  const base = org ? `AWSLogs/${org}/${account}` : `AWSLogs/${account}`;
  return `${base}/CloudTrail/${region}/${y}/${m}/${d}/${account}_CloudTrail_${region}_${y}${m}${d}T${hhmm}Z_${unique}.json.gz`;
}

/** Writes {"Records":[...]} gzipped under root at key; returns the file path. */
export function writeLogObject(root: string, key: string, records: unknown[]): string {
  return writeRaw(root, key, gzipSync(JSON.stringify({ Records: records })));
}

export function writeRaw(root: string, key: string, bytes: Uint8Array | string): string {
  const path = join(root, key);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

/** The records of a dataset file in test/fixtures/datasets: JSONL, or a JSON array. */
export function datasetRecords(relativePath: string): Record<string, unknown>[] {
  const text = readFileSync(join(fixturesDir, 'datasets', relativePath), 'utf8');
  if (text.trimStart().startsWith('[')) return JSON.parse(text);
  return text.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line));
}
