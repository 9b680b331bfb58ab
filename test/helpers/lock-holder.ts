// Another process holding a DuckDB file open for writing, as an ingest does while it commits.
//   holdLock(db)         a process that holds db's lock until release() ends it
//   startLockHolder()    one process that holds and lets go on request (hold(db), release()), for a
//                        test file that holds a lock many times without starting Node each time

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

// Reads "hold PATH" and "release" lines; answers "locked" / "released" once done.
const HOLDER = `
import { DuckDBInstance } from '@duckdb/node-api';
import { createInterface } from 'node:readline';
let held = null;
const release = () => { held?.connection.closeSync(); held?.instance.closeSync(); held = null; };
for await (const line of createInterface({ input: process.stdin })) {
  if (line.startsWith('hold ')) {
    const instance = await DuckDBInstance.create(line.slice(5));
    const connection = await instance.connect();
    await connection.run('CREATE TABLE IF NOT EXISTS lock_holder (x INTEGER)');
    held = { instance, connection };
    process.stdout.write('locked\\n');
  } else if (line === 'release') {
    release();
    process.stdout.write('released\\n');
  }
}
release();
process.exit(0);
`;

export interface LockHolder {
  pid: number;
  hold(db: string): Promise<void>;
  release(): Promise<void>;
  /** Lets go of what it holds and exits. */
  stop(): Promise<void>;
}

export async function startLockHolder(): Promise<LockHolder> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HOLDER], { stdio: ['pipe', 'pipe', 'inherit'], cwd: new URL('../..', import.meta.url).pathname });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const ask = async (command: string, answer: string) => {
    child.stdin!.write(`${command}\n`);
    const next = await Promise.race([lines.next(), exited.then((code) => ({ done: true as const, value: `exit ${code}` }))]);
    if (next.done || next.value !== answer) throw new Error(`the lock holder answered ${JSON.stringify(next.value)} to ${command}`);
  };
  return {
    pid: child.pid!,
    hold: (db) => ask(`hold ${db}`, 'locked'),
    release: () => ask('release', 'released'),
    stop: async () => {
      child.stdin!.end();
      await exited;
    },
  };
}

export async function holdLock(db: string): Promise<{ pid: number; release: () => Promise<void> }> {
  const holder = await startLockHolder();
  await holder.hold(db);
  return { pid: holder.pid, release: holder.stop };
}
