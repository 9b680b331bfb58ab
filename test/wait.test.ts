// Reading commands while another process holds the database (an ingest committing): they wait
// (--wait SECONDS, default 60) and then answer; with --wait 0 they fail at once, naming the holder.

import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startLockHolder, type LockHolder } from './helpers/lock-holder.js';
import { at, identity, keyArn, kmsEvent, loadTrail, type LoadedTrail } from './helpers/trail.js';

const A = '111111111111';
const key = keyArn(A, '1234abcd-12ab-34cd-56ef-1234567890ab');

let trail: LoadedTrail;
let holder: LockHolder; // one process, holding the lock in each test and letting go
beforeAll(async () => {
  holder = await startLockHolder();
  trail = await loadTrail([
    kmsEvent({ eventName: 'Decrypt', time: at(0), identity: identity.user(A, 'alice'), key }),
    kmsEvent({ eventName: 'DescribeKey', time: at(3, 15), identity: identity.root(A), key, sourceIp: '203.0.113.99' }),
  ]);
}, 60_000);
afterAll(async () => {
  await holder?.stop();
  trail?.cleanup();
});

const COMMANDS: Array<[string, () => string[], (stdout: string) => void]> = [
  ['query', () => ['query', 'SELECT count(*) AS n FROM kms_events', '--format', 'json'], (out) => expect(JSON.parse(out)).toEqual([{ n: 2 }])],
  ['detect', () => ['detect', '--format', 'json'], (out) => expect(JSON.parse(out).map((f: { rule: string }) => f.rule)).toEqual(['root_use'])],
  ['keys', () => ['keys', '--format', 'json'], (out) => expect(JSON.parse(out).map((k: { key_arn: string }) => k.key_arn)).toEqual([key])],
  ['report', () => ['report', '--format', 'json', '--no-findings'], (out) => expect(JSON.parse(out).summary.calls).toBe(2)],
  ['status', () => ['status', '--format', 'json', '--max-lag', '100000d'], (out) => expect(JSON.parse(out).runs).toHaveLength(1)],
  ['export', () => ['export', '--to', join(trail.trail, '..', 'export'), '--json'], (out) => expect(JSON.parse(out).rows_written).toBe(2)],
];

describe('reading while another process holds the database', () => {
  it.each(COMMANDS)('%s waits for the lock, then answers', async (_name, args, check) => {
    // The lock is another process's; the reader can be this one, so its attempts to open the
    // database are seen as they are made (the real DuckDB calls, watched, not replaced).
    await holder.hold(trail.db);
    const opens = vi.spyOn(DuckDBInstance, 'create');
    const refused = () => opens.mock.settledResults.filter((r) => r.type === 'rejected' && /Could not set lock/.test(String(r.value))).length;
    try {
      const reader = runCli([...args(), '--db', trail.db]);
      let finished = false;
      void reader.then(() => (finished = true));
      // Refused twice: it tried again after the first refusal, and has not answered meanwhile.
      await vi.waitFor(() => expect(refused()).toBeGreaterThanOrEqual(2), { timeout: 30_000, interval: 10 });
      expect(finished).toBe(false);
      await holder.release();
      const { code, stdout, stderr } = await reader;
      expect(stderr).toBe('');
      expect(code).toBe(0);
      check(stdout);
    } finally {
      opens.mockRestore();
    }
  });

  it('--wait 0 fails at once, naming the process that holds the database', async () => {
    await holder.hold(trail.db);
    try {
      for (const args of [['query', 'SELECT 1'], ['detect'], ['keys'], ['report'], ['status']]) {
        const { code, stderr } = await runCli([...args, '--db', trail.db, '--wait', '0']);
        expect(code).toBe(2);
        expect(stderr).toContain(`is in use by another process (PID ${holder.pid}`);
      }
      const waited = await runCli(['query', 'SELECT 1', '--db', trail.db, '--wait', '0.5']);
      expect(waited.code).toBe(2);
      expect(waited.stderr).toMatch(/after waiting \d+ s, try again when it has finished, or pass --wait SECONDS to wait longer/);
    } finally {
      await holder.release();
    }
  });
});
