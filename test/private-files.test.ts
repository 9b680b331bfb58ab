// Who used which key, with which encryption context: what keytrail writes is its owner's alone
// (0600 files, 0700 folders), whatever umask the job runs under, and an older world-readable
// database becomes the owner's alone when keytrail next writes it.

import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/cli.js';
import { logObjectKey, tempDir, writeLogObject } from './helpers/log-objects.js';
import { mixedRecords } from './helpers/records.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

/** Runs the CLI under a permissive umask, as a careless cron job would. */
function underUmask022(args: string[]): Promise<number | null> {
  const command = `umask 022; exec "${process.execPath}" "${CLI}" ${args.map((a) => `'${a}'`).join(' ')}`;
  return new Promise((resolve) => spawn('sh', ['-c', command], { stdio: 'ignore' }).on('close', resolve));
}

const mode = (path: string) => statSync(path).mode & 0o777;

/** Every file and folder under `root` with a mode other than its owner's alone. */
function exposed(root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    const isDir = statSync(path).isDirectory();
    if (mode(path) !== (isDir ? 0o700 : 0o600)) out.push(`${path} ${mode(path).toString(8)}`);
    if (isDir) out.push(...exposed(path));
  }
  return out;
}

describe('files for their owner alone', () => {
  it('database, staging, exports and reports are 0600/0700 under umask 022; an old 0644 database is made private', async () => {
    const trail = join(dir, 'trail');
    writeLogObject(trail, logObjectKey('111111111111', 'us-east-1', '2024-05-01T10:05:00Z'), mixedRecords(3, 1));
    const out = join(dir, 'out');
    const db = join(out, 'kt.duckdb');
    // The database's own folder is the user's choice; what keytrail creates inside it is private.
    mkdirSync(out, { mode: 0o700 });
    expect(await underUmask022(['ingest', trail, '--db', db])).toBe(0);
    expect(await underUmask022(['report', '--db', db, '--format', 'html', '--out', join(out, 'report.html')])).toBe(0);
    expect(await underUmask022(['export', '--db', db, '--to', join(out, 'parquet')])).toBe(0);
    expect(await underUmask022(['query', 'SELECT count(*) FROM kms_events', '--db', db, '--format', 'parquet', '--out', join(out, 'q.parquet')])).toBe(0);
    expect(readdirSync(out).length).toBeGreaterThanOrEqual(4);
    expect(exposed(out)).toEqual([]);

    chmodSync(db, 0o644); // as keytrail 0.2 left it
    expect(await underUmask022(['ingest', trail, '--db', db])).toBe(0);
    expect(mode(db)).toBe(0o600);
  });
});
