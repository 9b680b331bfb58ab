// keytrail query SQL: ad-hoc SQL on a read-only connection.

import { writeFileSync } from 'node:fs';
import type { AthenaEngine } from '../athena/client.js';
import { Store, plainRows } from '../store/db.js';
import { DEFAULT_DB, EXIT, UsageError, WAIT_OPTION, oneOf, parse, waitMs } from './args.js';
import { ENGINE_HELP, ENGINE_OPTIONS, engineErrorMessage, engineName, openEngine } from './engine-options.js';
import { FORMATS, formatRows } from './format.js';

const QUERY_FORMATS = [...FORMATS, 'arrow', 'parquet'] as const;

const HELP = `usage: keytrail query SQL [--db FILE] [--format FORMAT] [--out FILE] [--engine athena ...]

Runs SQL on the database, read-only. Tables: kms_events, ingested_objects, ingest_runs,
kms_event_catalogue, notifications; views: kms_usage_by_identity, kms_usage_by_key.
Example: keytrail query "SELECT event_name, count(*) FROM kms_events GROUP BY ALL ORDER BY 2 DESC"

With --engine athena the SQL runs on Athena (tables kms_events and kms_event_catalogue, see
keytrail athena ddl). It is DuckDB SQL, translated to Athena's (src/athena/dialect.ts), unless
--dialect trino says it is written for Athena already.

options:
  --db FILE                 database file (default ${DEFAULT_DB})
  --format FORMAT           table (default), csv, json, ndjson; arrow (an Arrow IPC stream typed
                            from DuckDB's column types) or parquet (zstd; needs --out)
  --out FILE                write to FILE instead of stdout
  --dialect DIALECT         duckdb (default) or trino: the dialect SQL is written in (Athena only)
  --wait SECONDS            wait up to SECONDS while an ingest holds the database (default 60)
${ENGINE_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, HELP, {
    ...ENGINE_OPTIONS,
    ...WAIT_OPTION,
    db: { type: 'string', default: DEFAULT_DB },
    format: { type: 'string' },
    out: { type: 'string' },
    dialect: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('expected one SQL statement (quote it)');
  const format = oneOf(values.format, '--format', QUERY_FORMATS, 'table');
  const dialect = oneOf(values.dialect, '--dialect', ['duckdb', 'trino'] as const, 'duckdb');
  const out = values.out;
  if (format === 'parquet' && out === undefined) throw new UsageError('--format parquet needs --out FILE');
  if (format === 'arrow' && out === undefined && process.stdout.isTTY) throw new UsageError('--format arrow is binary: give --out FILE or redirect stdout');
  if (engineName(values) === 'athena') {
    if (format === 'arrow' || format === 'parquet') throw new UsageError(`--format ${format} goes with the DuckDB engine`);
    return runOnAthena(values, positionals[0], format, dialect, out);
  }
  if (values.dialect !== undefined) throw new UsageError('--dialect goes with --engine athena');
  const store = await Store.open(values.db!, { readOnly: true, waitMs: waitMs(values.wait) });
  try {
    if (format === 'parquet') {
      // DuckDB writes the file itself; the read-only database is not changed.
      await query(() => store.run(`COPY (${positionals[0]}) TO $1 (FORMAT parquet, COMPRESSION zstd)`, [out!]));
      return EXIT.ok;
    }
    const reader = await query(() => store.connection.runAndReadAll(positionals[0]));
    if (format === 'arrow') {
      const { ArrowConversionError, resultToArrow } = await import('../arrow.js'); // apache-arrow loads only for arrow
      let bytes;
      try {
        bytes = resultToArrow(reader);
      } catch (err) {
        if (err instanceof ArrowConversionError) throw new UsageError(err.message);
        throw err;
      }
      if (out === undefined) process.stdout.write(bytes);
      else writeFileSync(out, bytes);
      return EXIT.ok;
    }
    write(formatRows(plainRows(reader), reader.columnNames(), format), out);
    return EXIT.ok;
  } finally {
    store.close();
  }
}

/** The user's SQL failing is bad usage, not a crash. */
async function query<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new UsageError(`the query failed: ${(err as Error).message}`);
  }
}

function write(text: string, out: string | undefined): void {
  if (out === undefined) console.log(text);
  else writeFileSync(out, `${text}\n`);
}

async function runOnAthena(
  values: Parameters<typeof openEngine>[0], sql: string, format: (typeof FORMATS)[number], dialect: 'duckdb' | 'trino', out: string | undefined,
): Promise<number> {
  const engine = (await openEngine(values, DEFAULT_DB)) as AthenaEngine;
  try {
    const rows = dialect === 'trino' ? await engine.execute(sql) : await engine.query(sql);
    write(formatRows(rows, engine.lastColumns, format), out);
    return EXIT.ok;
  } catch (err) {
    const message = engineErrorMessage(err);
    if (message === null) throw err;
    throw new UsageError(`the query failed: ${message}`);
  } finally {
    await engine.close();
  }
}
