// keytrail's schema in a database opened for writing: migrations of older versions first, then
// schemas/duckdb/*.sql (every statement idempotent), then the KMS event catalogue. A database
// stamped with the hash of all three is current and left as it is.

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BOOLEAN, LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { KMS_EVENT_CATALOGUE } from '../kms/catalogue.js';
import { schemasDir } from '../paths.js';
import { Store, type OpenOptions } from './db.js';
import { moveSetAsideRows, setAsideOldTables } from './migrate.js';

export interface WriterOptions extends OpenOptions {
  /** The schema is known to be current (opened before by the same run): skip creating it. */
  schemaReady?: boolean;
}

/** Opens the database to write, its schema current. */
export async function openStore(path: string, options: WriterOptions = {}): Promise<Store> {
  const store = await Store.open(path, { ...options, readOnly: false });
  try {
    if (!options.schemaReady) await createSchema(store);
    return store;
  } catch (err) {
    store.close();
    throw err;
  }
}

/** schemas/duckdb/*.sql in name order: tables first, then the views over them. */
function schemaFiles(): string[] {
  const dir = join(schemasDir, 'duckdb');
  return readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((f) => readFileSync(join(dir, f), 'utf8'));
}

let stamp: string | undefined;
/** What a current database was made with: the schema's SQL and the catalogue, hashed. */
const schemaStamp = () => (stamp ??= createHash('sha256').update(JSON.stringify([schemaFiles(), KMS_EVENT_CATALOGUE])).digest('hex'));

async function createSchema(store: Store): Promise<void> {
  // Rewriting the views and the catalogue each time cost a writer 45 ms of CPU on every run.
  if ((await stampOf(store)) === schemaStamp()) return;
  const setAside = await setAsideOldTables(store);
  for (const sql of schemaFiles()) await store.connection.run(sql);
  if (setAside) await moveSetAsideRows(store, setAside);
  await store.run(
    `CREATE OR REPLACE TABLE kms_event_catalogue AS
     SELECT unnest($1::VARCHAR[]) AS event_name, unnest($2::VARCHAR[]) AS category, unnest($3::BOOLEAN[]) AS emitted_by_kms`,
    [
      listValue(KMS_EVENT_CATALOGUE.map((k) => k.eventName)),
      listValue(KMS_EVENT_CATALOGUE.map((k) => k.category)),
      listValue(KMS_EVENT_CATALOGUE.map((k) => k.emittedByKms)),
    ],
    [LIST(VARCHAR), LIST(VARCHAR), LIST(BOOLEAN)],
  );
  await store.run('CREATE OR REPLACE TABLE keytrail_schema AS SELECT $1::VARCHAR AS stamp', [schemaStamp()]);
}

async function stampOf(store: Store): Promise<string | null> {
  const [found] = await store.all<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'keytrail_schema'`);
  if (found.n === 0) return null;
  const [row] = await store.all<{ stamp: string }>('SELECT stamp FROM keytrail_schema');
  return row?.stamp ?? null;
}
