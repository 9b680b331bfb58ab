// The decode pool survives a worker that dies: it is replaced, what it held is tried again, each
// object on its own, and an object that kills a worker twice is given up as unreadable. Its threads
// start as work waits: a few objects take one, a backlog the rest.

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BadObjectError, DecodePool } from '../src/decode/pool.js';
import { logObjectKey, tempDir, writeLogObject } from './helpers/log-objects.js';
import { at, identity, keyArn, kmsEvent } from './helpers/trail.js';

describe('DecodePool', () => {
  const { dir, cleanup } = tempDir();
  afterAll(cleanup);
  const object = (name: string, n: number) => {
    const records = Array.from({ length: n }, (_, i) =>
      kmsEvent({ eventName: 'Decrypt', time: at(0, 10, i), identity: identity.user('111111111111', 'a'), key: keyArn('111111111111', 'k') }));
    return writeLogObject(join(dir, name), logObjectKey('111111111111', 'us-east-1', at(0, 10)), records);
  };

  it('replaces a worker that dies, retries what it held, and quarantines the object that killed it twice', async () => {
    const pool = new DecodePool({ size: 1, workerUrl: new URL('./helpers/crashing-worker.ts', import.meta.url) });
    try {
      const files = [object('good-1', 2), object('poison', 1), object('good-2', 3)];
      const results = await Promise.allSettled(files.map((f, i) => pool.decodeFile(f, i, 2 ** 30)));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value.kept.length : null))).toEqual([2, null, 3]);
      const reason = (results[1] as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(BadObjectError);
      expect(reason.message).toMatch(/the decoding thread died on this object twice \(exited with code 70\)/);
      // The pool still works afterwards.
      expect((await pool.decodeFile(object('good-3', 1), 3, 2 ** 30)).kept).toEqual([1]);
    } finally {
      await pool.close();
    }
  });

  it('starts one thread for a few objects, and the others when objects wait for them', async () => {
    const pool = new DecodePool({ size: 3, inFlight: 64 });
    try {
      const few = [object('few-1', 1), object('few-2', 2), object('few-3', 3)];
      expect(pool.threads).toBe(0);
      const decoded = await Promise.all(few.map((f, i) => pool.decodeFile(f, i, 2 ** 30)));
      expect(decoded.map((d) => d.kept.length)).toEqual([1, 2, 3]);
      expect(pool.threads).toBe(1);
      const many = Array.from({ length: 20 }, (_, i) => object(`many-${i}`, 1));
      await Promise.all(many.map((f, i) => pool.decodeFile(f, i, 2 ** 30)));
      expect(pool.threads).toBe(3);
    } finally {
      await pool.close();
    }
    // With 4 objects at most in flight, a backlog of 8 could never build: another thread starts at 2 waiting.
    const narrow = new DecodePool({ size: 3, inFlight: 4 });
    try {
      const files = Array.from({ length: 3 }, (_, i) => object(`narrow-${i}`, 1));
      await Promise.all(files.map((f, i) => narrow.decodeFile(f, i, 2 ** 30)));
      expect(narrow.threads).toBe(2);
    } finally {
      await narrow.close();
    }
  });
});
