// A database written by keytrail 0.2 (a global index on the events tables' key) is brought to the
// current schema the first time this version opens it to write: the same rows, in event time order,
// no index; and ingests go on from where it was. A database made with another schema (its stamp
// differs) is brought up to this one, and one made with this one is not rewritten.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/schema.js';
import { ingestFolder, sql } from './helpers/ingest.js';
import { fixturesDir, logObjectKey, tempDir, writeLogObject } from './helpers/log-objects.js';
import { mixedRecords } from './helpers/records.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

const ACCOUNT = '111111111111';

/** Builds a 0.2 database: its DDL, then the rows a current ingest of `trail` gives, copied in. */
async function v02Database(trail: string, path: string): Promise<void> {
  const current = join(dir, 'current.duckdb');
  await ingestFolder(trail, current);
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  try {
    await c.run(readFileSync(join(fixturesDir, 'schemas', 'v0.2-tables.sql'), 'utf8'));
    await c.run(`ATTACH '${current}' AS cur (READ_ONLY)`);
    for (const table of ['kms_events', 'trail_events', 'principals', 'ingested_objects']) {
      await c.run(`INSERT INTO ${table} BY NAME SELECT * FROM cur.${table}`);
    }
    await c.run(`INSERT INTO ingest_runs SELECT * FROM cur.ingest_runs`);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

describe('migration from 0.2', () => {
  it('drops the global index, keeps every row in time order, and ingests on without copies', async () => {
    const trail = join(dir, 'trail');
    for (const day of ['2024-05-03', '2024-05-01', '2024-05-02']) {
      writeLogObject(trail, logObjectKey(ACCOUNT, 'us-east-1', `${day}T10:05:00Z`), mixedRecords(3, 1, { time: `${day}T10:01:00Z` }));
    }
    const db = join(dir, 'v02.duckdb');
    await v02Database(trail, db);
    const constraints = `SELECT count(*) AS n FROM duckdb_constraints() WHERE table_name = 'kms_events' AND constraint_type = 'PRIMARY KEY'`;
    expect(await sql(db, constraints)).toEqual([{ n: 1 }]);
    const before = await sql(db, 'SELECT event_key::VARCHAR AS k, event_time, source_object FROM kms_events ORDER BY k');

    (await openStore(db)).close();
    expect(await sql(db, constraints)).toEqual([{ n: 0 }]);
    expect(await sql(db, `SELECT count(*) AS n FROM duckdb_indexes() WHERE table_name IN ('kms_events', 'trail_events')`)).toEqual([{ n: 0 }]);
    expect(await sql(db, `SELECT count(*) AS n FROM duckdb_tables() WHERE table_name LIKE '%_v2'`)).toEqual([{ n: 0 }]);
    expect(await sql(db, 'SELECT event_key::VARCHAR AS k, event_time, source_object FROM kms_events ORDER BY k')).toEqual(before);
    // Stored in event time order: the order the ingest's exactness check prunes by.
    const stored = await sql<{ t: string }>(db, 'SELECT event_time::VARCHAR AS t FROM kms_events');
    expect(stored.map((r) => r.t)).toEqual(stored.map((r) => r.t).sort());

    writeLogObject(trail, logObjectKey(ACCOUNT, 'us-east-1', '2024-05-04T10:05:00Z'), mixedRecords(2, 0, { time: '2024-05-04T10:01:00Z' }));
    const next = await ingestFolder(trail, db, { full: true });
    expect(next).toMatchObject({ objects: 1, newRows: 2 });
    expect(await sql(db, 'SELECT count(*) AS n, count(DISTINCT event_key) AS k FROM kms_events')).toEqual([{ n: 11, k: 11 }]);
  });
});

describe('the schema stamp', () => {
  const view = `SELECT sql FROM duckdb_views() WHERE view_name = 'kms_usage_by_key'`;
  const stamp = 'SELECT stamp FROM keytrail_schema';

  it('brings a database made with another schema up to this one, and leaves one made with it alone', async () => {
    const db = join(dir, 'stamped.duckdb');
    (await openStore(db)).close();
    const [current] = await sql<{ stamp: string }>(db, stamp);
    expect(current.stamp).toMatch(/^[0-9a-f]{64}$/);
    const made = await sql(db, view);

    // Another version's schema: its view differs, and so does its stamp.
    const change = async (statements: string[]) => {
      const store = await openStore(db, { schemaReady: true });
      try {
        for (const s of statements) await store.run(s);
      } finally {
        store.close();
      }
    };
    await change(['CREATE OR REPLACE VIEW kms_usage_by_key AS SELECT 1 AS older', `UPDATE keytrail_schema SET stamp = 'another version'`]);
    (await openStore(db)).close();
    expect(await sql(db, view)).toEqual(made);
    expect(await sql(db, stamp)).toEqual([current]);

    // Stamped with this schema: a writer takes it as it is, and does not rewrite it.
    await change(['CREATE OR REPLACE VIEW kms_usage_by_key AS SELECT 1 AS older']);
    (await openStore(db)).close();
    expect((await sql<{ sql: string }>(db, view))[0].sql).toContain('older');
  });
});
