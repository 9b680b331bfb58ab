// Another process holding a DuckDB file open for writing, as an ingest does while it commits:
// it prints "locked" once it holds the lock and lets go when the returned release() is called.

import { spawn } from 'node:child_process';

const HOLDER = `
import { DuckDBInstance } from '@duckdb/node-api';
const instance = await DuckDBInstance.create(process.argv[1]);
const connection = await instance.connect();
await connection.run('CREATE TABLE IF NOT EXISTS lock_holder (x INTEGER)');
process.stdout.write('locked\\n');
process.stdin.resume();
process.stdin.on('end', () => { connection.closeSync(); instance.closeSync(); process.exit(0); });
`;

export async function holdLock(db: string): Promise<{ pid: number; release: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HOLDER, db], { stdio: ['pipe', 'pipe', 'inherit'], cwd: new URL('../..', import.meta.url).pathname });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    pid: child.pid!,
    release: async () => {
      child.stdin!.end();
      await exited;
    },
  };
}
