// --engine duckdb|athena and the --athena-* options, shared by query, detect and report:
//
//   const { values } = parse(argv, HELP, { ...ENGINE_OPTIONS, db: ..., ... });
//   const engine = await openEngine(values, values.db!);   // DuckDBEngine or AthenaEngine
//   try { ... engine.query(sql, params) ... } finally { await engine.close(); }
//
// With Athena, Ctrl-C stops the running query (StopQueryExecution) before keytrail exits (130),
// and the bytes scanned and the estimated cost go to stderr: per query on a terminal, the total
// when the engine closes.

import type { AthenaEngine, AthenaQueryError, QueryStats } from '../athena/client.js';
import { DialectError } from '../athena/dialect.js';
import { DuckDBEngine, type QueryEngine } from '../engine.js';
import { UsageError, oneOf } from './args.js';

export const ENGINE_OPTIONS = {
  engine: { type: 'string' },
  'athena-database': { type: 'string' },
  'athena-workgroup': { type: 'string' },
  'athena-output': { type: 'string' },
  'athena-region': { type: 'string' },
} as const;

export const ENGINE_HELP = `  --engine ENGINE           duckdb (default: the --db file) or athena (the same SQL on Amazon
                            Athena, over the Parquet export or the CloudTrail table: see
                            keytrail athena ddl)
  --athena-database NAME    Athena database holding kms_events (required with --engine athena)
  --athena-workgroup NAME   Athena workgroup (default: primary)
  --athena-output S3URI     s3://bucket/prefix/ for query results (default: the workgroup's)
  --athena-region REGION    region of Athena (default: the AWS SDK's, e.g. AWS_REGION)`;

export interface EngineOptionValues {
  engine?: string;
  'athena-database'?: string;
  'athena-workgroup'?: string;
  'athena-output'?: string;
  'athena-region'?: string;
}

export const ENGINES = ['duckdb', 'athena'] as const;
export type EngineName = (typeof ENGINES)[number];

/** Checks the options; throws UsageError for a bad combination. */
export function engineName(values: EngineOptionValues): EngineName {
  const name = oneOf(values.engine, '--engine', ENGINES, 'duckdb');
  const athena = (['athena-database', 'athena-workgroup', 'athena-output', 'athena-region'] as const).filter((k) => values[k] !== undefined);
  if (name === 'duckdb' && athena.length > 0) throw new UsageError(`--${athena[0]} goes with --engine athena`);
  if (name === 'athena') {
    const db = values['athena-database'];
    if (!db) throw new UsageError('--engine athena needs --athena-database NAME');
    if (!/^[A-Za-z0-9_]+$/.test(db)) throw new UsageError(`--athena-database: '${db}' is not an Athena database name`);
    const out = values['athena-output'];
    if (out !== undefined && !/^s3:\/\/[^/]+/.test(out)) throw new UsageError(`--athena-output: '${out}' is not an s3:// URI`);
  }
  return name;
}

/** The engine the options ask for: the DuckDB file at `db` (read-only, waiting up to `waitMs` for a writer) or Athena. */
export async function openEngine(values: EngineOptionValues, db: string, waitMs = 0): Promise<QueryEngine> {
  if (engineName(values) === 'duckdb') return DuckDBEngine.open(db, waitMs);
  const { AthenaEngine, USD_PER_TB } = await import('../athena/client.js'); // the SDK loads only for Athena
  const out = values['athena-output'];
  const verbose = Boolean(process.stderr.isTTY);
  const engine = new AthenaEngine({
    database: values['athena-database']!,
    workgroup: values['athena-workgroup'],
    outputLocation: out === undefined || out.endsWith('/') ? out : `${out}/`,
    region: values['athena-region'],
    onQuery: verbose ? (s) => console.error(describeQuery(s)) : undefined,
    onClose: (e) => {
      process.removeListener('SIGINT', interrupt);
      if (e.totals.queries > 0) console.error(describeTotals(e, USD_PER_TB));
    },
  });
  const interrupt = () => {
    void engine.cancel().then(
      (id) => {
        console.error(`\nkeytrail: interrupted${id ? `; stopped Athena query ${id}` : ''}`);
        process.exit(130);
      },
      (err: Error) => {
        console.error(`\nkeytrail: interrupted; stopping the Athena query failed: ${err.message}`);
        process.exit(130);
      },
    );
  };
  try {
    await engine.region();
  } catch {
    await engine.close();
    throw new UsageError('no AWS region for Athena: pass --athena-region or set AWS_REGION');
  }
  process.once('SIGINT', interrupt);
  return engine;
}

/** Athena's and the translation's errors, as a command shows them. */
export function engineErrorMessage(err: unknown): string | null {
  if (isAthenaQueryError(err)) return `Athena query ${err.queryExecutionId} ${err.state.toLowerCase()}: ${err.message}`;
  if (err instanceof DialectError) return `cannot run on Athena: ${err.message}`;
  return null;
}

// By name: the class is in the Athena module, which is not loaded unless Athena was asked for.
const isAthenaQueryError = (err: unknown): err is AthenaQueryError => err instanceof Error && err.name === 'AthenaQueryError';

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} bytes` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

const usd = (n: number): string => `$${n < 0.01 ? n.toFixed(5) : n.toFixed(2)}`;

function describeQuery(s: QueryStats): string {
  return `athena: query ${s.queryExecutionId} ${s.state.toLowerCase()}, scanned ${formatBytes(s.dataScannedBytes)}, ~${usd(s.estimatedUsd)}`;
}

function describeTotals(engine: AthenaEngine, usdPerTb: number): string {
  const t = engine.totals;
  return (
    `athena: ${t.queries} quer${t.queries === 1 ? 'y' : 'ies'}, scanned ${formatBytes(t.dataScannedBytes)}; ` +
    `estimated cost ${usd(t.estimatedUsd)} (at $${usdPerTb}/TB, 10 MB minimum per query)`
  );
}
