// Runs the real ingest pipeline in-process on a folder, into a DuckDB file.

import { ingest, type IngestOptions, type IngestSummary } from '../../src/ingest.js';
import { openLocalSource } from '../../src/source/local.js';
import { Store, type Row } from '../../src/store/db.js';

export async function ingestFolder(folder: string, db: string, options: Partial<IngestOptions> = {}): Promise<IngestSummary> {
  const source = await openLocalSource(folder);
  return ingest(source, db, { range: { since: null, until: null }, concurrency: 4, workers: 1, ...options });
}

export async function sql<T extends Row = Row>(db: string, query: string, params: unknown[] = []): Promise<T[]> {
  const store = await Store.open(db, { readOnly: true });
  try {
    return await store.all<T>(query, params as never[]);
  } finally {
    store.close();
  }
}
