// keytrail query SQL: ad-hoc SQL on a read-only connection.

import type { AthenaEngine } from '../athena/client.js';
import { Store, plainRows } from '../store/db.js';
import { DEFAULT_DB, EXIT, UsageError, WAIT_OPTION, oneOf, parse, waitMs } from './args.js';
import { ENGINE_HELP, ENGINE_OPTIONS, engineErrorMessage, engineName, openEngine } from './engine-options.js';
import { FORMATS, formatRows } from './format.js';

const HELP = `usage: keytrail query SQL [--db FILE] [--format table|csv|json|ndjson] [--engine athena ...]

Runs SQL on the database, read-only. Tables: kms_events, ingested_objects, ingest_runs,
kms_event_catalogue; views: kms_usage_by_identity, kms_usage_by_key.
Example: keytrail query "SELECT event_name, count(*) FROM kms_events GROUP BY ALL ORDER BY 2 DESC"

With --engine athena the SQL runs on Athena (tables kms_events and kms_event_catalogue, see
keytrail athena ddl). It is DuckDB SQL, translated to Athena's (src/athena/dialect.ts), unless
--dialect trino says it is written for Athena already.

options:
  --db FILE                 database file (default ${DEFAULT_DB})
  --format FORMAT           table (default), csv, json or ndjson
  --dialect DIALECT         duckdb (default) or trino: the dialect SQL is written in (Athena only)
  --wait SECONDS            wait up to SECONDS while an ingest holds the database (default 60)
${ENGINE_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, HELP, {
    ...ENGINE_OPTIONS,
    ...WAIT_OPTION,
    db: { type: 'string', default: DEFAULT_DB },
    format: { type: 'string' },
    dialect: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('expected one SQL statement (quote it)');
  const format = oneOf(values.format, '--format', FORMATS, 'table');
  const dialect = oneOf(values.dialect, '--dialect', ['duckdb', 'trino'] as const, 'duckdb');
  if (engineName(values) === 'athena') return runOnAthena(values, positionals[0], format, dialect);
  if (values.dialect !== undefined) throw new UsageError('--dialect goes with --engine athena');
  const store = await Store.open(values.db!, { readOnly: true, waitMs: waitMs(values.wait) });
  try {
    let reader;
    try {
      reader = await store.connection.runAndReadAll(positionals[0]);
    } catch (err) {
      throw new UsageError(`the query failed: ${(err as Error).message}`);
    }
    const columns = reader.columnNames();
    console.log(formatRows(plainRows(reader), columns, format));
    return EXIT.ok;
  } finally {
    store.close();
  }
}

async function runOnAthena(
  values: Parameters<typeof openEngine>[0], sql: string, format: (typeof FORMATS)[number], dialect: 'duckdb' | 'trino',
): Promise<number> {
  const engine = (await openEngine(values, DEFAULT_DB)) as AthenaEngine;
  try {
    const rows = dialect === 'trino' ? await engine.execute(sql) : await engine.query(sql);
    console.log(formatRows(rows, engine.lastColumns, format));
    return EXIT.ok;
  } catch (err) {
    const message = engineErrorMessage(err);
    if (message === null) throw err;
    throw new UsageError(`the query failed: ${message}`);
  } finally {
    await engine.close();
  }
}
