// The DuckDB file: opening it (one writer at a time) and running SQL. The schema is src/store/schema.ts's.

import { chmodSync, existsSync } from 'node:fs';
import {
  DuckDBConnection, DuckDBInstance, DuckDBTypeId,
  type DuckDBResultReader, type DuckDBType, type DuckDBValue,
} from '@duckdb/node-api';

export type SqlParam = DuckDBValue;
export type Row = Record<string, unknown>;

/** The database cannot be opened: missing file for a read, or another process writes it. */
export class DatabaseError extends Error {}

export interface OpenOptions {
  readOnly?: boolean;
  /** Wait up to this long (ms) for another writer to finish instead of failing at once. */
  waitMs?: number;
}

// Ingest batches are bounded in bytes, so a writer needs little memory; the limit keeps DuckDB's
// cache of the blocks it wrote from growing with the size of the table. One thread: the decode
// workers keep the cores busy meanwhile. On a quiet machine one or two make no difference (the
// benchmark trail: 15.3 s against 15.5 s); on a busy one a second thread fighting the workers took
// a 9k-object ingest from 8.6 s to 15.9 s.
const WRITER_SETTINGS = { memory_limit: '256MB', threads: '1' };

/**
 * DuckDB's memory for readers (query, detect, report ...), spilling to disk beyond it, whatever the
 * size of the database: the process as a whole then stays under 1 GB (on 4M events, detect peaked
 * at 0.97 GB of RSS and report at 0.87 GB with 512 MB; with 1 GB they took 1.5 and 1.2 GB, no
 * faster). KEYTRAIL_MEMORY_LIMIT ('2GB', '256MB') overrides it, and KEYTRAIL_THREADS the number of
 * threads (one per core), for a host that a nightly job shares.
 */
export const READER_MEMORY_LIMIT = '512MB';

function readerSettings(): Record<string, string> {
  const threads = process.env.KEYTRAIL_THREADS;
  // DuckDB would only say "Failed to set config".
  if (threads && !/^[1-9]\d*$/.test(threads)) throw new DatabaseError(`KEYTRAIL_THREADS: '${threads}' is not a positive whole number`);
  return {
    access_mode: 'READ_ONLY', memory_limit: process.env.KEYTRAIL_MEMORY_LIMIT || READER_MEMORY_LIMIT, preserve_insertion_order: 'false',
    ...(threads ? { threads } : {}),
  };
}

/** The database and its write-ahead log are the owner's alone, whatever made them (an older version, a umask). */
function ownerOnly(path: string): void {
  for (const file of [path, `${path}.wal`]) {
    try {
      if (existsSync(file)) chmodSync(file, 0o600);
    } catch {
      // not ours to change (another user's file we may write): leave it as its owner set it
    }
  }
}

const LOCK_RE = /Could not set lock on file .*Conflicting lock is held in (.*?) \(PID (\d+)\)/s;

export class Store {
  private constructor(private readonly instance: DuckDBInstance, readonly connection: DuckDBConnection, readonly path: string) {}

  static async open(path: string, options: OpenOptions = {}): Promise<Store> {
    const deadline = Date.now() + (options.waitMs ?? 0);
    // An ingest lets go of the file between batches only briefly: try again often enough to get in.
    for (let delay = 50; ; delay = Math.min(delay * 2, 250)) {
      try {
        const instance = await DuckDBInstance.create(path, options.readOnly ? readerSettings() : WRITER_SETTINGS);
        const store = new Store(instance, await instance.connect(), path);
        // now(), casts of text with a zone and strftime follow the session's zone: keytrail writes UTC.
        await store.run("SET TimeZone = 'UTC'");
        if (!options.readOnly) ownerOnly(path);
        return store;
      } catch (err) {
        const message = (err as Error).message;
        const lock = LOCK_RE.exec(message);
        if (lock && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, delay));
          continue;
        }
        if (lock) {
          const waited = options.waitMs ? `after waiting ${Math.round(options.waitMs / 1000)} s, ` : '';
          throw new DatabaseError(
            `${path} is in use by another process (PID ${lock[2]}, ${lock[1]}), probably a keytrail ingest; ` +
              `${waited}try again when it has finished, or pass --wait SECONDS to wait ${waited ? 'longer' : 'for it'}`,
          );
        }
        if (/Cannot open database .* in read-only mode: database does not exist|No such file or directory/i.test(message)) {
          throw new DatabaseError(`${path}: no such database (run keytrail ingest first, or pass --db)`);
        }
        throw new DatabaseError(`${path}: ${message}`);
      }
    }
  }

  /** Runs a statement; `types` types parameters DuckDB cannot infer (lists that may hold NULLs). */
  async run(sql: string, params?: SqlParam[], types?: DuckDBType[]): Promise<number> {
    const result = await this.connection.run(sql, params, types);
    return result.rowsChanged;
  }

  async all<T extends Row = Row>(sql: string, params?: SqlParam[]): Promise<T[]> {
    return plainRows(await this.connection.runAndReadAll(sql, params)) as T[];
  }

  async allNamed<T extends Row = Row>(sql: string, params: Record<string, SqlParam>): Promise<T[]> {
    return plainRows(await this.connection.runAndReadAll(sql, params)) as T[];
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.connection.run('BEGIN TRANSACTION');
    try {
      const result = await work();
      await this.connection.run('COMMIT');
      return result;
    } catch (err) {
      await this.connection.run('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

const INTEGER_TYPES = new Set<DuckDBTypeId>([
  DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT,
]);

/**
 * Result rows as plain JSON values: whole numbers as numbers (text only past 2^53), JSON columns
 * parsed, dates 'YYYY-MM-DD' and timestamps 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC) as DuckDB prints them.
 */
export function plainRows(reader: DuckDBResultReader): Row[] {
  const names = reader.columnNames();
  const types = reader.columnTypes();
  const rows = reader.getRowObjectsJson() as Row[];
  names.forEach((name, i) => {
    const type = types[i];
    if (INTEGER_TYPES.has(type.typeId)) {
      for (const row of rows) {
        const v = row[name];
        if (typeof v === 'string' && Number.isSafeInteger(Number(v))) row[name] = Number(v);
      }
    } else if (type.alias === 'JSON') {
      for (const row of rows) {
        const v = row[name];
        if (typeof v === 'string') row[name] = JSON.parse(v);
      }
    }
  });
  return rows;
}
