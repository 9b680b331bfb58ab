// How an ingest writes without shutting readers out for the whole run. DuckDB lets one process
// open a file for writing and no one else in the meantime, so the ingest opens the database only
// for what needs it (a manifest look-up, a batch's commit) and closes it at once; `query`,
// `detect`, `report` ... wait (--wait) for that moment. A second ingest is kept out for the whole
// run by a lock file of its own beside the database.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { DatabaseError, type Store } from './db.js';
import { openStore } from './schema.js';

/** How long the ingest waits for readers to let go of the database before a commit fails. */
const READER_WAIT_MS = 10 * 60_000;

export class IngestLock {
  private constructor(private readonly file: string) {}

  /** Takes the ingest lock of `dbPath`, waiting up to `waitMs` for another ingest to finish. */
  static async take(dbPath: string, waitMs: number): Promise<IngestLock> {
    const file = `${dbPath}.ingest-lock`;
    const deadline = Date.now() + waitMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
        return new IngestLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new DatabaseError(`${file}: ${(err as Error).message}`);
      }
      const holder = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
      if (!isRunning(holder)) {
        rmSync(file, { force: true }); // left by a run that was killed
        continue;
      }
      if (Date.now() >= deadline) {
        throw new DatabaseError(
          `${dbPath} is in use by another keytrail ingest (PID ${holder}); ` +
            'try again when it has finished, or pass --wait to wait for it',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /** The PID of the ingest running on `dbPath` now, or null. */
  static holder(dbPath: string): number | null {
    let pid: number;
    try {
      pid = Number.parseInt(readFileSync(`${dbPath}.ingest-lock`, 'utf8').trim(), 10);
    } catch {
      return null;
    }
    return isRunning(pid) ? pid : null;
  }

  release(): void {
    rmSync(this.file, { force: true });
  }
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The database, opened for one piece of work at a time and closed after it. */
export class BriefWriter {
  private queue: Promise<unknown> = Promise.resolve();
  private schemaReady = false;

  constructor(readonly path: string) {}

  /** Runs `work` with the database open for writing; calls run one after the other. */
  use<T>(work: (store: Store) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const store = await openStore(this.path, { waitMs: READER_WAIT_MS, schemaReady: this.schemaReady });
      this.schemaReady = true;
      try {
        const result = await work(store);
        // Checkpoint on DuckDB's own thread: closing does it otherwise, synchronously, and the
        // decode workers' results wait on the blocked event loop (36 s of a 246 s ingest here).
        await store.run('CHECKPOINT');
        return result;
      } finally {
        store.close();
      }
    });
    this.queue = run.catch(() => {});
    return run;
  }
}
