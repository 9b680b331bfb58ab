// keytrail's schema in a database opened for writing: migrations of older versions first, then
// schemas/duckdb/*.sql (every statement idempotent), then the KMS event catalogue.

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

async function createSchema(store: Store): Promise<void> {
  const setAside = await setAsideOldTables(store);
  // schemas/duckdb/*.sql in name order: tables first, then the views over them.
  const dir = join(schemasDir, 'duckdb');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    await store.connection.run(readFileSync(join(dir, file), 'utf8'));
  }
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
}
