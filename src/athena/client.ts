// The same queries on Amazon Athena: a QueryEngine that translates DuckDB SQL (dialect.ts), runs it
// with StartQueryExecution, polls GetQueryExecution with backoff, pages through GetQueryResults and
// turns Athena's text values back into the plain values DuckDBEngine returns, so findings and
// reports come out the same. Stops the running query when asked (Ctrl-C).

import { randomUUID } from 'node:crypto';
import {
  AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand,
  type ColumnInfo, type QueryExecution, type Row as AthenaRow,
} from '@aws-sdk/client-athena';
import type { QueryEngine, SqlValue } from '../engine.js';
import type { Row } from '../store/db.js';
import { toTrino, type TrinoQuery } from './dialect.js';

export interface AthenaOptions {
  database: string;
  workgroup?: string;
  /** s3://bucket/prefix/ for results; optional when the workgroup sets one. */
  outputLocation?: string;
  region?: string;
  catalog?: string;
  /** Attempts per API call (the SDK retries throttling and 5xx with backoff). */
  maxAttempts?: number;
  /** First and longest wait between GetQueryExecution polls, ms. */
  pollMs?: { first: number; max: number };
  /** Called after each query with its statistics. */
  onQuery?: (stats: QueryStats) => void;
  /** Called when the engine closes (the CLI prints the totals then). */
  onClose?: (engine: AthenaEngine) => void;
}

export interface QueryStats {
  queryExecutionId: string;
  state: string;
  dataScannedBytes: number;
  engineMs: number;
  /** What Athena bills: at least 10 MB per query, rounded up to the MB. */
  billedBytes: number;
  estimatedUsd: number;
}

/** A query Athena ran and failed or cancelled; the message is Athena's own reason. */
export class AthenaQueryError extends Error {
  override readonly name = 'AthenaQueryError';

  constructor(readonly queryExecutionId: string, readonly state: string, reason: string, readonly errorType?: string) {
    super(reason);
  }
}

/** List price per TB scanned in most regions (us-east-1), for the estimate printed on stderr. */
export const USD_PER_TB = 5;
const MB = 1024 * 1024;

export function billedBytes(scanned: number): number {
  return Math.max(10 * MB, Math.ceil(scanned / MB) * MB);
}

export function estimatedUsd(billed: number): number {
  return (billed / 1024 ** 4) * USD_PER_TB;
}

export class AthenaEngine implements QueryEngine {
  readonly name = 'athena';
  private readonly client: AthenaClient;
  private running: string | null = null;
  /** The column names of the last result, in order (also when it has no rows). */
  lastColumns: string[] = [];
  private stopping = false;
  readonly totals = { queries: 0, dataScannedBytes: 0, billedBytes: 0, estimatedUsd: 0 };

  constructor(private readonly options: AthenaOptions, client?: AthenaClient) {
    this.client = client ?? new AthenaClient({
      region: options.region,
      maxAttempts: options.maxAttempts ?? 8,
      endpoint: process.env.AWS_ENDPOINT_URL_ATHENA || undefined,
    });
  }

  /** The AWS region the engine talks to; throws when none is configured anywhere. */
  async region(): Promise<string> {
    return this.client.config.region();
  }

  /** Runs DuckDB SQL on Athena: translated, parameters bound, rows as DuckDBEngine gives them. */
  async query(sql: string, params: Record<string, SqlValue> = {}): Promise<Row[]> {
    return this.run(toTrino(sql, params, { database: this.options.database }));
  }

  /** Runs Trino SQL as it is (DDL, or a query already in Athena's dialect). */
  async execute(sql: string, parameters: string[] = []): Promise<Row[]> {
    return this.run({ sql, parameters });
  }

  async run(q: TrinoQuery): Promise<Row[]> {
    if (this.stopping) throw new AthenaQueryError('', 'CANCELLED', 'stopped');
    const { QueryExecutionId: id } = await this.client.send(
      new StartQueryExecutionCommand({
        QueryString: q.sql,
        ClientRequestToken: randomUUID(), // the SDK's retries of this call then start one query, not several
        QueryExecutionContext: { Database: this.options.database, Catalog: this.options.catalog },
        WorkGroup: this.options.workgroup,
        ResultConfiguration: this.options.outputLocation ? { OutputLocation: this.options.outputLocation } : undefined,
        ExecutionParameters: q.parameters.length > 0 ? q.parameters : undefined,
      }),
    );
    if (!id) throw new Error('Athena returned no QueryExecutionId');
    this.running = id;
    try {
      const execution = await this.wait(id);
      this.account(execution);
      return await this.results(id, execution.StatementType === 'DML');
    } finally {
      this.running = null;
    }
  }

  /** Stops the query that is running, if any (StopQueryExecution); later queries are refused. */
  async cancel(): Promise<string | null> {
    this.stopping = true;
    const id = this.running;
    if (id) await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    return id;
  }

  async close(): Promise<void> {
    this.options.onClose?.(this);
    this.client.destroy();
  }

  private async wait(id: string): Promise<QueryExecution> {
    const { first, max } = this.options.pollMs ?? { first: 200, max: 5000 };
    for (let delay = first; ; delay = Math.min(max, Math.ceil(delay * 1.5))) {
      const { QueryExecution: execution } = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = execution?.Status?.State;
      if (state === 'SUCCEEDED') return execution!;
      if (state === 'FAILED' || state === 'CANCELLED') {
        this.account(execution!);
        const status = execution!.Status!;
        const reason = status.StateChangeReason ?? status.AthenaError?.ErrorMessage ?? (state === 'CANCELLED' ? 'the query was cancelled' : 'the query failed');
        throw new AthenaQueryError(id, state, reason, status.AthenaError?.ErrorType?.toString());
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  private account(execution: QueryExecution): void {
    const scanned = execution.Statistics?.DataScannedInBytes ?? 0;
    const billed = billedBytes(scanned);
    const stats: QueryStats = {
      queryExecutionId: execution.QueryExecutionId ?? '',
      state: execution.Status?.State ?? '',
      dataScannedBytes: scanned,
      engineMs: execution.Statistics?.EngineExecutionTimeInMillis ?? 0,
      billedBytes: billed,
      estimatedUsd: estimatedUsd(billed),
    };
    this.totals.queries += 1;
    this.totals.dataScannedBytes += scanned;
    this.totals.billedBytes += billed;
    this.totals.estimatedUsd += stats.estimatedUsd;
    this.options.onQuery?.(stats);
  }

  private async results(id: string, hasHeader: boolean): Promise<Row[]> {
    const rows: Row[] = [];
    let columns: ColumnInfo[] | null = null;
    let token: string | undefined;
    let first = true;
    do {
      const out = await this.client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }));
      if (columns === null) {
        columns = out.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
        this.lastColumns = columns.map((c, i) => c.Label ?? c.Name ?? `_${i}`);
      }
      let page = out.ResultSet?.Rows ?? [];
      if (first && hasHeader) page = page.slice(1); // a SELECT's first page starts with the column names
      first = false;
      for (const r of page) rows.push(toRow(r, columns));
      token = out.NextToken;
    } while (token);
    return rows;
  }
}

/** One Athena row (all text) as a plain row, typed by the column's Athena type. */
export function toRow(row: AthenaRow, columns: ColumnInfo[]): Row {
  const out: Row = {};
  const data = row.Data ?? [];
  columns.forEach((c, i) => {
    out[c.Label ?? c.Name ?? `_${i}`] = value(data[i]?.VarCharValue, (c.Type ?? 'varchar').toLowerCase());
  });
  return out;
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'integer', 'int', 'bigint']);
const FLOAT_TYPES = new Set(['double', 'real', 'float']);

/** Athena's text for a value -> what DuckDBEngine gives for the same value. */
export function value(text: string | undefined, type: string): unknown {
  if (text === undefined) return null; // Athena leaves VarCharValue out for NULL ('' is an empty string)
  if (INTEGER_TYPES.has(type)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
  if (FLOAT_TYPES.has(type)) {
    if (text === 'NaN') return Number.NaN;
    if (text === 'Infinity') return Number.POSITIVE_INFINITY;
    if (text === '-Infinity') return Number.NEGATIVE_INFINITY;
    return Number(text);
  }
  if (type === 'boolean') return text === 'true';
  if (type === 'json') return JSON.parse(text);
  if (type.startsWith('timestamp')) return timestamp(text);
  return text; // varchar, date ('YYYY-MM-DD'), decimal (text, as DuckDB's rows have it), arrays, maps, rows
}

/** '2024-05-01 10:00:00.000' -> '2024-05-01 10:00:00' (DuckDB prints no zero fraction). */
function timestamp(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})(?:\.(\d+))?(.*)$/.exec(text);
  if (!m) return text;
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  return `${m[1].replace('T', ' ')}${fraction ? `.${fraction}` : ''}${m[3] === ' UTC' ? '' : m[3]}`;
}
