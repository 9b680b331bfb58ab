// A local Amazon Athena for tests: an HTTP endpoint that speaks Athena's real wire protocol (AWS JSON
// 1.1: POST /, X-Amz-Target: AmazonAthena.<Operation>, application/x-amz-json-1.1), so keytrail's
// AthenaEngine is tested through the real AWS SDK pointed at it (AWS_ENDPOINT_URL_ATHENA), never
// by stubbing the client. Queries run in DuckDB over the tables' files, fetched from S3 (s3rver):
//
//   DDL    CREATE DATABASE, CREATE EXTERNAL TABLE (Parquet, or the CloudTrail JSON SerDe) with
//          partition projection (only files at the projected locations are read, as in Athena;
//          partition values come from the path), CREATE [OR REPLACE] VIEW (Trino SQL).
//   SELECT must parse with a Trino grammar (dt-sql-parser) and keep `?` in WHERE clauses (Athena's
//          rule for execution parameters); the ExecutionParameters are substituted, then a small
//          reverse mapping turns the Trino functions keytrail's dialect emits into DuckDB's and
//          the query runs with Trino's integer division.
//   States QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED over successive GetQueryExecution
//          calls; GetQueryResults pages (MaxResults <= 1000, NextToken, the header row first on the
//          first page of a SELECT) with Athena's column types and text values.
//   Faults throttle(op, n) answers the next n calls of an operation with ThrottlingException /
//          TooManyRequestsException; hold(re) keeps matching queries RUNNING until stopped;
//          fail(re, reason) fails matching queries with Athena's reason.
//   Cost   DataScannedInBytes: for Parquet, the compressed size of the column chunks of the columns
//          the query names, in the files read; for the CloudTrail table, the size of every object
//          read (gzipped JSON is read whole). An estimate of Athena's figure, same method for both.

import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { isGroup, isOp, isToken, isWord, nextIndex, parseSql, prevIndex, type Group, type Node, type Token } from '../../src/athena/sql-lexer.js';
import { plainRows } from '../../src/store/db.js';
import pLimit from 'p-limit';
import { objectPath, plainRequest } from '../../scripts/local-s3.js';
import { listenLocally } from './local-server.js';
import { hive, trino, type ParseError } from './sql-grammars.js';

type State = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

interface Column { name: string; type: string; precision: number; scale: number }

export interface ServerQuery {
  id: string;
  sql: string;
  /** The DuckDB SQL the server ran for it (after parameters and the reverse mapping). */
  ran: string | null;
  parameters: string[];
  database: string;
  workgroup: string;
  output: string;
  statementType: 'DML' | 'DDL' | 'UTILITY';
  state: State;
  reason: string | null;
  polls: number;
  held: boolean;
  columns: Column[];
  rows: Array<Array<string | null>>;
  scannedBytes: number;
  submitted: number;
  completed: number | null;
  stoppedBy: 'user' | null;
}

interface Table {
  kind: 'parquet' | 'cloudtrail';
  database: string;
  name: string;
  columns: Array<{ name: string; type: string }>;
  partitions: Array<{ name: string; type: string }>;
  location: string;
  properties: Record<string, string>;
  etags: Map<string, string>;
  /** Bytes of the column chunks of each column, per local copy of a Parquet file and its ETag. */
  chunks: Map<string, { etag: string; bytes: Map<string, number> }>;
  /** The objects (path and ETag) whose records the local copy of a CloudTrail table holds. */
  decoded: string | null;
  /** Which CREATE EXTERNAL TABLE made it (a table made again may read the same files differently). */
  serial: number;
  /** The files (local copy and ETag) the table read last, with the table's serial: what its rows come from. */
  read: string | null;
}

export interface AthenaServerOptions {
  /** The S3 endpoint table locations are read from (s3rver). */
  s3Endpoint: string;
  /** GetQueryExecution calls answered QUEUED, then RUNNING, before the final state. */
  queuedPolls?: number;
  runningPolls?: number;
  /**
   * GetQueryExecution, past those polls, answers once the query (unless held) has finished: a
   * client never sleeps between polls (the CLI's first wait is 200 ms) nor polls a running query.
   */
  answerWhenDone?: boolean;
}

/** How GetQueryExecution answers: set when the server starts, changed with AthenaServer.pace. */
export type Pacing = Pick<AthenaServerOptions, 'queuedPolls' | 'runningPolls' | 'answerWhenDone'>;

export interface AthenaServer {
  endpoint: string;
  /** Every request: operation, parsed body, and the response (when it succeeded). */
  calls: Array<{ op: string; body: Record<string, unknown>; response?: Record<string, unknown> }>;
  queries: ServerQuery[];
  throttle(op: string, times: number, type?: 'ThrottlingException' | 'TooManyRequestsException'): void;
  hold(pattern: RegExp): void;
  fail(pattern: RegExp, reason: string): void;
  /** The pacing of GetQueryExecution from now on. */
  pace(pacing: Pacing): void;
  stop(): Promise<void>;
}

class AthenaError extends Error {
  constructor(readonly type: string, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

export async function startAthenaServer(options: AthenaServerOptions): Promise<AthenaServer> {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'keytrail-athena-'));
  // Queries run one at a time; a second thread cost read_json 3x the CPU (1.4 -> 4.9 s decoding a trail).
  const duck = await DuckDBInstance.create(':memory:', { threads: '1' });
  const setup = await duck.connect();
  // Once for every connection: a query in any database's schema finds the functions of main.
  for (const m of MACROS) await setup.run(`CREATE OR REPLACE MACRO memory.main.${m}`);
  const agent = new Agent({ keepAlive: true });
  const databases = new Set(['default']);
  const tables = new Map<string, Table>(); // db.table
  const views = new Map<string, string>(); // db.view -> Trino SQL
  // A view's rows, once computed, until what they come from changes: db.view -> the sources' state.
  const materialized = new Map<string, string>();
  const queries = new Map<string, ServerQuery>();
  const tokens = new Map<string, string>();
  const calls: AthenaServer['calls'] = [];
  const throttles = new Map<string, Array<'ThrottlingException' | 'TooManyRequestsException'>>();
  const holds: RegExp[] = [];
  const failures: Array<{ re: RegExp; reason: string }> = [];
  // Validation is a pure function of the text, and a long query takes the grammar ~100 ms: once per text.
  const trinoChecked = new Map<string, Promise<ParseError[]>>();
  const trinoErrors = (sql: string) => {
    if (!trinoChecked.has(sql)) trinoChecked.set(sql, trino.validate(sql));
    return trinoChecked.get(sql)!;
  };
  const finished = new Map<string, Promise<unknown>>(); // query id -> its run
  const sessions = new Map<string, Promise<DuckDBConnection>>(); // database -> its connection
  let chain: Promise<unknown> = Promise.resolve(); // queries run one at a time, like a small workgroup
  let pacing: Pacing = options;

  async function start(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const sql = str(body.QueryString, 'QueryString');
    const token = typeof body.ClientRequestToken === 'string' ? body.ClientRequestToken : null;
    if (token && tokens.has(token)) return { QueryExecutionId: tokens.get(token) };
    const context = (body.QueryExecutionContext ?? {}) as Record<string, unknown>;
    const database = typeof context.Database === 'string' ? context.Database : 'default';
    const output = ((body.ResultConfiguration ?? {}) as Record<string, unknown>).OutputLocation;
    if (typeof output !== 'string' || !output.startsWith('s3://')) {
      throw new AthenaError('InvalidRequestException', 'No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.', { AthenaErrorCode: 'INVALID_INPUT' });
    }
    const parameters = Array.isArray(body.ExecutionParameters) ? body.ExecutionParameters.map(String) : [];
    const id = randomUUID();
    if (token) tokens.set(token, id);
    const q: ServerQuery = {
      id, sql, ran: null, parameters, database, workgroup: typeof body.WorkGroup === 'string' ? body.WorkGroup : 'primary',
      output: `${output.endsWith('/') ? output : `${output}/`}${id}.csv`, statementType: statementType(sql), state: 'QUEUED',
      reason: null, polls: 0, held: holds.some((re) => re.test(sql)), columns: [], rows: [], scannedBytes: 0,
      submitted: Date.now(), completed: null, stoppedBy: null,
    };
    queries.set(id, q);
    chain = chain.then(() => execute(q)).catch(() => {});
    finished.set(id, chain);
    return { QueryExecutionId: id };
  }

  async function execute(q: ServerQuery): Promise<void> {
    try {
      const failure = failures.find((f) => f.re.test(q.sql));
      if (failure) throw new QueryFailure(failure.reason);
      if (q.statementType === 'DDL') await ddl(q);
      else await select(q);
    } catch (err) {
      q.reason = err instanceof QueryFailure ? err.message : `GENERIC_INTERNAL_ERROR: ${(err as Error).message}`;
      q.columns = [];
      q.rows = [];
      q.state = 'FAILED';
      q.completed = Date.now();
      return;
    }
    q.completed = Date.now();
  }

  async function ddl(q: ServerQuery): Promise<void> {
    const sql = q.sql.trim();
    let m: RegExpExecArray | null;
    if ((m = /^CREATE\s+(?:DATABASE|SCHEMA)\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?\s*$/i.exec(sql))) {
      databases.add(m[1].toLowerCase());
      await setup.run(`CREATE SCHEMA IF NOT EXISTS ${ident(m[1].toLowerCase())}`);
      return;
    }
    if (!databases.has(q.database)) throw new QueryFailure(`SCHEMA_NOT_FOUND: Schema ${q.database} does not exist`);
    if (/^CREATE\s+EXTERNAL\s+TABLE/i.test(sql)) {
      refuseUnparsed(await hive.validate(sql));
      const table = parseExternalTable(sql, q.database);
      tables.set(`${q.database}.${table.name}`, table);
      return;
    }
    if ((m = /^CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(\w+)\s+AS\s+([\s\S]*)$/i.exec(sql))) {
      refuseUnparsed(await trinoErrors(sql));
      const name = m[1].toLowerCase();
      views.set(`${q.database}.${name}`, m[2]);
      materialized.delete(`${q.database}.${name}`);
      const conn = await session(q.database);
      try {
        await prepareTables(conn, q.database, m[2]);
        // The view's SQL under a second name; the view itself reads it, or its rows once materialized.
        await conn.run(`CREATE OR REPLACE VIEW ${ident(`${name}$definition`)} AS ${toDuckDB(m[2])}`);
        await readDefinition(conn, name);
      } catch (err) {
        throw new QueryFailure(`FAILED: ${(err as Error).message.split('\n')[0]}`);
      }
      return;
    }
    throw new QueryFailure(`line 1:1: this local Athena does not run: ${sql.slice(0, 40)}`);
  }

  async function select(q: ServerQuery): Promise<void> {
    refuseUnparsed(await trinoErrors(q.sql));
    checkParameters(q.sql, q.parameters);
    if (!databases.has(q.database)) throw new QueryFailure(`SCHEMA_NOT_FOUND: line 1:1: Schema '${q.database}' does not exist`);
    const conn = await session(q.database);
    const scanned = await prepareTables(conn, q.database, q.sql);
    q.ran = toDuckDB(q.sql, q.parameters);
    let reader;
    try {
      reader = await conn.runAndReadAll(q.ran);
    } catch (err) {
      throw new QueryFailure(athenaMessage((err as Error).message));
    }
    const types = reader.columnTypes();
    q.columns = reader.columnNames().map((name, i) => athenaType(name, types[i].toString()));
    const rows = plainRows(reader);
    const names = reader.columnNames();
    q.rows = rows.map((r) => names.map((n, i) => athenaText(r[n], q.columns[i].type)));
    q.scannedBytes = scanned;
  }

  /**
   * The database's connection, opened on its first query and kept: queries run one at a time, and
   * a connection's settings (integer division, the schema in use) are all it holds between them.
   */
  function session(database: string): Promise<DuckDBConnection> {
    let conn = sessions.get(database);
    if (!conn) {
      sessions.set(database, (conn = (async () => {
        const c = await duck.connect();
        await c.run('SET integer_division = true'); // Trino divides integers as integers
        await c.run(`USE memory.${ident(database)}`);
        return c;
      })()));
      conn.catch(() => sessions.delete(database));
    }
    return conn;
  }

  /** Refreshes the tables the SQL names from S3 and (re)creates their DuckDB views; returns bytes scanned. */
  async function prepareTables(conn: DuckDBConnection, database: string, sql: string, seen = new Set<string>()): Promise<number> {
    const words = new Set((sql.toLowerCase().match(/"?[a-z_$][a-z0-9_$]*"?/g) ?? []).map((w) => w.replaceAll('"', '')));
    let bytes = 0;
    for (const [key, table] of tables) {
      if (!key.startsWith(`${database}.`) || !words.has(table.name) || seen.has(key)) continue;
      seen.add(key);
      bytes += await refresh(conn, table, words);
    }
    for (const [key, text] of views) {
      const name = key.slice(database.length + 1);
      if (!key.startsWith(`${database}.`) || !words.has(name) || seen.has(key)) continue;
      seen.add(key);
      // A view's own SQL names the table's columns it reads: those are what a query through it scans.
      bytes += await prepareTables(conn, database, `${text} ${sql}`, seen);
      await materialize(conn, database, name, text);
    }
    return bytes;
  }

  /**
   * Athena computes a view for every query that reads it; the local copy keeps its rows until the
   * files of the tables it reads (through other views too) change: the same rows, computed once.
   * keytrail's views are deterministic (no now(), no random()); a view that fails to compute is left
   * as it is, so that the query reading it fails as before.
   */
  async function materialize(conn: DuckDBConnection, database: string, name: string, text: string): Promise<void> {
    const key = `${database}.${name}`;
    const state = sourcesState(database, text, new Set([key]));
    if (state === null || materialized.get(key) === state) return;
    const rows = ident(`${key}$rows`);
    try {
      await conn.run(`CREATE OR REPLACE TABLE memory.main.${rows} AS SELECT * FROM ${ident(`${name}$definition`)}`);
      await conn.run(`CREATE OR REPLACE VIEW ${ident(name)} AS SELECT * FROM memory.main.${rows}`);
      materialized.set(key, state);
    } catch {
      await readDefinition(conn, name);
      materialized.delete(key);
    }
  }

  /** The view computes its rows again, from its SQL kept under a second name. */
  async function readDefinition(conn: DuckDBConnection, name: string): Promise<void> {
    await conn.run(`CREATE OR REPLACE VIEW ${ident(name)} AS SELECT * FROM ${ident(`${name}$definition`)}`);
  }

  /** What the rows of SQL over the database's tables and views come from; null when a table was never read. */
  function sourcesState(database: string, sql: string, seen: Set<string>): string | null {
    const words = new Set((sql.toLowerCase().match(/"?[a-z_$][a-z0-9_$]*"?/g) ?? []).map((w) => w.replaceAll('"', '')));
    const parts: string[] = [];
    for (const [key, table] of tables) {
      if (!key.startsWith(`${database}.`) || !words.has(table.name)) continue;
      if (table.read === null) return null;
      parts.push(`${key}\n${table.read}`);
    }
    for (const [key, text] of views) {
      if (!key.startsWith(`${database}.`) || !words.has(key.slice(database.length + 1)) || seen.has(key)) continue;
      const inner = sourcesState(database, text, new Set([...seen, key]));
      if (inner === null) return null;
      parts.push(`${key}\n${text}\n${inner}`);
    }
    return parts.join('\n\n');
  }

  async function refresh(conn: DuckDBConnection, table: Table, words: Set<string>): Promise<number> {
    const dir = join(cacheRoot, table.database, table.name);
    const files = await sync(table, dir);
    table.read = `${table.serial}\n${files.map((f) => `${f.local} ${f.etag}`).join('\n')}`;
    const view = ident(table.name);
    if (files.length === 0) {
      const cols = [...table.columns, ...table.partitions].map((c) => `CAST(NULL AS ${duckType(c.type)}) AS ${ident(c.name)}`);
      await conn.run(`CREATE OR REPLACE VIEW ${view} AS SELECT ${cols.join(', ')} WHERE false`);
      return 0;
    }
    const list = `[${files.map((f) => sqlString(f.local)).join(', ')}]`;
    const re = sqlString(locationRe(table, cacheDir(table)));
    const parts = table.partitions.map((p, i) => `regexp_extract(filename, ${re}, ${i + 1}) AS ${ident(p.name)}`);
    const path = `replace(filename, ${sqlString(cacheDir(table))}, ${sqlString(table.location)}) AS "$path"`;
    if (table.kind === 'parquet') {
      const cols = table.columns.map((c) => ident(c.name));
      await conn.run(`CREATE OR REPLACE VIEW ${view} AS SELECT ${[...cols, ...parts, path].join(', ')}
                      FROM read_parquet(${list}, filename = true, hive_partitioning = false)`);
      // Column chunks of the columns the query names, in every file read.
      const wanted = table.columns.map((c) => c.name).filter((c) => words.has(c));
      if (wanted.length === 0) return 0;
      const unread = files.filter((f) => table.chunks.get(f.local)?.etag !== f.etag);
      if (unread.length > 0) {
        const rows = plainRows(await conn.runAndReadAll(
          `SELECT file_name, lower(path_in_schema) AS col, sum(total_compressed_size) AS bytes
           FROM parquet_metadata([${unread.map((f) => sqlString(f.local)).join(', ')}]) GROUP BY ALL`,
        ));
        for (const f of unread) table.chunks.set(f.local, { etag: f.etag, bytes: new Map() });
        for (const r of rows) table.chunks.get(String(r.file_name))!.bytes.set(String(r.col), Number(r.bytes));
      }
      return files.reduce((n, f) => n + wanted.reduce((m, c) => m + (table.chunks.get(f.local)!.bytes.get(c) ?? 0), 0), 0);
    }
    // Athena reads (and bills) every object again for each query; the local copy decodes them once
    // and again only when the objects read change: the same rows, without minutes of JSON parsing.
    const rows = ident(`${table.database}.${table.name}$records`);
    const read = files.map((f) => `${f.local} ${f.etag}`).join('\n');
    if (table.decoded !== read) {
      try {
        await conn.run(`CREATE OR REPLACE TABLE memory.main.${rows} AS SELECT ${cloudTrailColumns()}, ${parts.join(', ')}, ${path}
                        FROM (SELECT ${cloudTrailFields('r')} AS v, filename
                              FROM (SELECT unnest(Records) AS r, filename FROM read_json(${list}, columns = {'Records': 'JSON[]'}, filename = true, format = 'unstructured')))`);
      } catch (err) {
        throw new QueryFailure(athenaMessage((err as Error).message));
      }
      table.decoded = read;
    }
    await conn.run(`CREATE OR REPLACE VIEW ${view} AS SELECT * FROM memory.main.${rows}`);
    return files.reduce((n, f) => n + f.size, 0); // gzipped JSON is read whole
  }

  /**
   * S3 with plain, anonymous requests (s3rver serves them): the SDK's middleware cost more than
   * s3rver's answers. A first read of a 917-object trail: ~4 -> ~1.7 CPU-s (this process and
   * s3rver's); a listing of it, which every query of the raw table makes: ~45 -> ~15 ms.
   */
  function getObject(bucket: string, key: string): Promise<Buffer> {
    return s3Get(objectPath(bucket, key));
  }

  /** One page of ListObjectsV2 (s3rver's XML, read for the fields used here). */
  async function listObjects(bucket: string, prefix: string, token: string | undefined) {
    const query = new URLSearchParams({ 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) });
    const xml = (await s3Get(`/${bucket}?${query}`)).toString('utf8');
    const field = (within: string, name: string) => {
      const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(within);
      return m ? xmlText(m[1]) : undefined;
    };
    const Contents = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map(([, c]) => ({
      Key: field(c, 'Key')!, ETag: field(c, 'ETag'), Size: Number(field(c, 'Size') ?? 0),
    }));
    const rest = xml.replace(/<Contents>[\s\S]*?<\/Contents>/g, '');
    return { Contents, IsTruncated: field(rest, 'IsTruncated') === 'true', NextContinuationToken: field(rest, 'NextContinuationToken') };
  }

  const s3Get = (path: string) => plainRequest(agent, 'GET', `${options.s3Endpoint}${path}`);

  /** Mirrors the objects at the table's projected locations into `dir`. */
  async function sync(table: Table, dir: string): Promise<Array<{ local: string; size: number; etag: string }>> {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(table.location)!;
    const [bucket, prefix] = [m[1], m[2]];
    const pattern = new RegExp(locationRe(table, table.location));
    const out: Array<{ local: string; size: number; etag: string }> = [];
    const fetches: Array<Promise<void>> = [];
    const limit = pLimit(8); // a first read of a trail fetches ~900 objects
    let token: string | undefined;
    do {
      const page = await listObjects(bucket, prefix, token);
      for (const o of page.Contents ?? []) {
        const uri = `s3://${bucket}/${o.Key}`;
        if (!pattern.test(uri)) continue; // not at a projected location: Athena never reads it
        const local = join(dir, o.Key!.slice(prefix.length));
        if (table.etags.get(o.Key!) !== o.ETag) { // set once the local copy is written
          fetches.push(limit(async () => {
            const body = await getObject(bucket, o.Key!);
            mkdirSync(dirname(local), { recursive: true });
            writeFileSync(local, body);
            table.etags.set(o.Key!, o.ETag ?? '');
          }));
        }
        out.push({ local, size: o.Size ?? 0, etag: o.ETag ?? '' });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    await Promise.all(fetches);
    return out;
  }

  /**
   * The regex a file must match to be at a projected location (storage.location.template, or
   * Hive folders without one), with one group per partition; `base` stands for the table's location.
   */
  function locationRe(table: Table, base: string): string {
    const template = table.properties['storage.location.template'] ?? `${table.location}${table.partitions.map((p) => `${p.name}=\${${p.name}}/`).join('')}`;
    let rest = template.startsWith(table.location) ? template.slice(table.location.length) : template;
    let re = `^${escapeRe(base)}`;
    for (;;) {
      const at = rest.indexOf('${');
      if (at < 0) break;
      const end = rest.indexOf('}', at);
      re += `${escapeRe(rest.slice(0, at))}(${projectionRe(table, rest.slice(at + 2, end))})`;
      rest = rest.slice(end + 1);
    }
    return `${re}${escapeRe(rest)}${rest.endsWith('/') || rest === '' && re.endsWith('/') ? '' : '/'}[^/]+$`;
  }

  const cacheDir = (table: Table) => `${join(cacheRoot, table.database, table.name)}/`;

  function projectionRe(table: Table, name: string): string {
    const p = table.properties;
    const type = p[`projection.${name}.type`];
    if (type === 'enum') return (p[`projection.${name}.values`] ?? '').split(',').map((v) => escapeRe(v.trim())).join('|');
    if (type === 'date') {
      return (p[`projection.${name}.format`] ?? 'yyyy-MM-dd').replace(/yyyy|MM|dd|[^A-Za-z]/g, (t) => ({ yyyy: '\\d{4}', MM: '\\d{2}', dd: '\\d{2}' })[t] ?? escapeRe(t));
    }
    return '[^/]+';
  }

  // ---- the protocol ------------------------------------------------------------------------------

  function describe(q: ServerQuery): Record<string, unknown> {
    const status: Record<string, unknown> = { State: q.state, SubmissionDateTime: q.submitted / 1000 };
    if (q.completed !== null && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(q.state)) status.CompletionDateTime = q.completed / 1000;
    if (q.reason !== null) {
      status.StateChangeReason = q.reason;
      status.AthenaError = { ErrorCategory: q.state === 'FAILED' ? 2 : 3, ErrorType: q.state === 'FAILED' ? 1006 : 1003, Retryable: false, ErrorMessage: q.reason };
    }
    return {
      QueryExecution: {
        QueryExecutionId: q.id, Query: q.sql, StatementType: q.statementType,
        ResultConfiguration: { OutputLocation: q.output }, QueryExecutionContext: { Database: q.database, Catalog: 'AwsDataCatalog' },
        Status: status,
        Statistics: {
          EngineExecutionTimeInMillis: q.completed ? q.completed - q.submitted : 0, DataScannedInBytes: q.scannedBytes,
          TotalExecutionTimeInMillis: q.completed ? q.completed - q.submitted : 0, QueryQueueTimeInMillis: 0,
        },
        WorkGroup: q.workgroup, EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
        ...(q.parameters.length > 0 ? { ExecutionParameters: q.parameters } : {}),
      },
    };
  }

  async function getExecution(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const q = find(body);
    if (q.state === 'QUEUED' || q.state === 'RUNNING') {
      q.polls += 1;
      const queued = pacing.queuedPolls ?? 1;
      const running = pacing.runningPolls ?? 1;
      if (pacing.answerWhenDone && !q.held && q.polls > queued + running) await finished.get(q.id);
      if (q.polls <= queued) q.state = 'QUEUED';
      else if (q.polls <= queued + running || q.held || q.completed === null) q.state = 'RUNNING';
      else q.state = q.reason !== null ? 'FAILED' : 'SUCCEEDED';
    }
    return describe(q);
  }

  async function stopQuery(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const q = find(body);
    if (q.state === 'QUEUED' || q.state === 'RUNNING') {
      q.state = 'CANCELLED';
      q.stoppedBy = 'user';
      q.reason = 'Query cancelled by user';
      q.completed = Date.now();
    }
    return {};
  }

  async function getResults(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const q = find(body);
    if (q.state === 'QUEUED' || q.state === 'RUNNING') throw new AthenaError('InvalidRequestException', `Query has not yet finished. Current state: ${q.state}`, { AthenaErrorCode: 'INVALID_INPUT' });
    if (q.state !== 'SUCCEEDED') throw new AthenaError('InvalidRequestException', `Query did not finish successfully. Final query state: ${q.state}`, { AthenaErrorCode: 'INVALID_INPUT' });
    const max = body.MaxResults === undefined ? 1000 : Number(body.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw new AthenaError('InvalidRequestException', '1 validation error detected: Value at \'maxResults\' failed to satisfy constraint: Member must have value less than or equal to 1000');
    const all: Array<Array<string | null>> = q.statementType === 'DML' ? [q.columns.map((c) => c.name), ...q.rows] : q.rows;
    const offset = typeof body.NextToken === 'string' ? Number(Buffer.from(body.NextToken, 'base64').toString()) : 0;
    const page = all.slice(offset, offset + max);
    const next = offset + max < all.length ? Buffer.from(String(offset + max)).toString('base64') : undefined;
    return {
      UpdateCount: 0,
      ResultSet: {
        Rows: page.map((r) => ({ Data: r.map((v) => (v === null ? {} : { VarCharValue: v })) })),
        ResultSetMetadata: {
          ColumnInfo: q.columns.map((c) => ({
            CatalogName: 'hive', SchemaName: '', TableName: '', Name: c.name, Label: c.name, Type: c.type,
            Precision: c.precision, Scale: c.scale, Nullable: 'UNKNOWN', CaseSensitive: c.type === 'varchar',
          })),
        },
      },
      ...(next ? { NextToken: next } : {}),
    };
  }

  function find(body: Record<string, unknown>): ServerQuery {
    const q = queries.get(str(body.QueryExecutionId, 'QueryExecutionId'));
    if (!q) throw new AthenaError('InvalidRequestException', `QueryExecution ${String(body.QueryExecutionId)} was not found`, { AthenaErrorCode: 'INVALID_INPUT' });
    return q;
  }

  const handlers: Record<string, (body: Record<string, unknown>) => Promise<Record<string, unknown>>> = {
    StartQueryExecution: start,
    GetQueryExecution: getExecution,
    GetQueryResults: getResults,
    StopQueryExecution: stopQuery,
  };

  async function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': randomUUID() });
      res.end(JSON.stringify(payload));
    };
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith('AmazonAthena.') ? target.slice('AmazonAthena.'.length) : '';
    try {
      if (req.method !== 'POST' || req.url !== '/' || !op) throw new AthenaError('UnknownOperationException', `unknown operation ${target}`);
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) throw new AthenaError('SerializationException', 'expected application/x-amz-json-1.1');
      if (!/^AWS4-HMAC-SHA256 Credential=/.test(String(req.headers.authorization ?? ''))) throw new AthenaError('MissingAuthenticationTokenException', 'Missing Authentication Token');
      const body = JSON.parse(raw.toString() || '{}') as Record<string, unknown>;
      const call: AthenaServer['calls'][number] = { op, body };
      calls.push(call);
      const throttled = throttles.get(op)?.shift();
      if (throttled === 'ThrottlingException') throw new AthenaError('ThrottlingException', 'Rate exceeded');
      if (throttled) throw new AthenaError('TooManyRequestsException', 'You have exceeded the limit for the number of queries you can run concurrently. Reduce the number of concurrent queries submitted by this account.', { Reason: 'CONCURRENT_QUERY_LIMIT_EXCEEDED' });
      const handler = handlers[op as keyof typeof handlers];
      if (!handler) throw new AthenaError('UnknownOperationException', `${op} is not served here`);
      call.response = await handler(body);
      send(200, call.response);
    } catch (err) {
      if (err instanceof AthenaError) {
        const message = err.type === 'ThrottlingException' ? { message: err.message } : { Message: err.message };
        send(err.type === 'MissingAuthenticationTokenException' ? 403 : 400, { __type: err.type, ...message, ...err.extra });
      } else {
        send(500, { __type: 'InternalServerException', Message: (err as Error).message });
      }
    }
  }

  const server = await listenLocally(handle);

  return {
    endpoint: server.endpoint,
    calls,
    get queries() {
      return [...queries.values()];
    },
    throttle: (op, times, type = 'ThrottlingException') => throttles.set(op, [...(throttles.get(op) ?? []), ...Array<typeof type>(times).fill(type)]),
    hold: (re) => holds.push(re),
    fail: (re, reason) => failures.push({ re, reason }),
    pace: (p) => {
      pacing = p;
    },
    stop: async () => {
      await server.stop();
      await chain.catch(() => {});
      for (const conn of sessions.values()) (await conn.catch(() => null))?.closeSync();
      setup.closeSync();
      duck.closeSync();
      agent.destroy();
      rmSync(cacheRoot, { recursive: true, force: true });
    },
  };
}

class QueryFailure extends Error {}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '') throw new AthenaError('InvalidRequestException', `${name} is required`);
  return v;
}

/** What Athena answers to SQL its grammar refuses: the first parse error, where it is. */
function refuseUnparsed(errors: ParseError[]): void {
  const e = errors[0];
  if (e) throw new QueryFailure(`line ${e.startLine}:${e.startColumn}: ${e.message}`);
}

const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
/** XML character data -> text (the five entities and character references). */
const xmlText = (s: string) => s.replace(/&(amp|lt|gt|quot|apos|#x[0-9a-f]+|#\d+);/gi, (_, e: string) => {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  if (e[0] !== '#') return named[e.toLowerCase()];
  return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
});
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function statementType(sql: string): 'DML' | 'DDL' | 'UTILITY' {
  const first = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase();
  if (first === 'select' || first === 'with' || first === 'values') return 'DML';
  if (first === 'create' || first === 'drop' || first === 'alter') return 'DDL';
  return 'UTILITY';
}

/** Athena's rules for execution parameters: one value per `?`, and `?` only in a WHERE clause. */
function checkParameters(sql: string, parameters: string[]): void {
  const places: Array<{ where: boolean; at: number }> = [];
  const walk = (nodes: Node[], clause: string) => {
    let c = clause;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (isGroup(n)) {
        const prev = nodes[prevIndex(nodes, i)];
        walk(n.items, isWord(prev, 'filter') ? 'filter' : c);
        continue;
      }
      if (n.kind === 'word') {
        const w = n.text.toLowerCase();
        const distinctFrom = w === 'from' && isWord(nodes[prevIndex(nodes, i)], 'distinct'); // IS DISTINCT FROM
        if (['select', 'from', 'join', 'where', 'group', 'having', 'order', 'limit', 'on', 'window', 'with', 'values', 'partition'].includes(w) && c !== 'filter' && !distinctFrom) c = w;
      }
      if (n.kind === 'qmark') places.push({ where: c === 'where', at: n.at });
    }
  };
  walk(parseSql(sql), 'none');
  if (places.length !== parameters.length) {
    throw new QueryFailure(`INVALID_INPUT: the query has ${places.length} parameter(s) but ${parameters.length} execution parameter(s) were given`);
  }
  const outside = places.find((p) => !p.where);
  if (outside) throw new QueryFailure(`INVALID_INPUT: parameters (?) are only supported in the WHERE clause (offset ${outside.at})`);
}

// ---- Trino -> DuckDB: the reverse of what keytrail's dialect emits ------------------------------------

/** DuckDB macros for the Trino functions the reverse mapping leaves in place. */
const MACROS = [
  // Trino's ["key"] subscripts are DuckDB's ."key".
  `trino_json_path(p) AS regexp_replace(p, '\\["([^"]*)"\\]', '."\\1"', 'g')`,
  `trino_json_extract_scalar(j, p) AS CASE WHEN json_type(CAST(j AS JSON), trino_json_path(p)) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(CAST(j AS JSON), trino_json_path(p)) END`,
  `trino_json_extract(j, p) AS json_extract(CAST(j AS JSON), trino_json_path(p))`,
  `trino_json_format(j) AS CAST(j AS VARCHAR)`,
  `trino_json_parse(s) AS CAST(s AS JSON)`,
  `trino_from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)`,
];

/** The macros for one connection (temporary: a read-only database takes them too). */
export const TRINO_MACROS = MACROS.map((m) => `CREATE OR REPLACE TEMP MACRO ${m}`);

const REVERSE: Record<string, string> = {
  regexp_like: 'regexp_matches', json_extract_scalar: 'trino_json_extract_scalar', json_extract: 'trino_json_extract',
  json_format: 'trino_json_format', json_parse: 'trino_json_parse', from_iso8601_timestamp: 'trino_from_iso8601_timestamp',
  array_join: 'array_to_string', element_at: 'list_extract', cardinality: 'len', split: 'string_split',
  filter: 'list_filter', transform: 'list_transform', to_unixtime: 'epoch', date_format: 'strftime', date_parse: 'strptime',
};

const MYSQL_TO_STRFTIME: Record<string, string> = { i: '%M', s: '%S', h: '%I', M: '%B', W: '%A' };

/** Trino SQL (with ExecutionParameters) -> DuckDB SQL. */
export function toDuckDB(sql: string, parameters: string[] = []): string {
  let next = 0;
  const out = (nodes: Node[]): string => {
    let text = '';
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (isGroup(n)) {
        text += `${n.open}${out(n.items)}${n.close}`;
        continue;
      }
      if (n.kind === 'qmark') {
        text += parameters[next++] ?? 'NULL';
        continue;
      }
      if (n.kind === 'comment') continue;
      if (n.kind !== 'word') {
        text += n.text;
        continue;
      }
      const w = n.text.toLowerCase();
      const j = nextIndex(nodes, i);
      const g = nodes[j];
      if (w === 'array' && isGroup(g) && g.open === '[') {
        text += `[${out(g.items)}]`;
        i = j;
        continue;
      }
      if (w === 'current_schema' && !isGroup(g)) {
        text += 'current_schema()';
        continue;
      }
      const clause = w === 'filter' && isGroup(g) && isWord(g.items[nextIndex(g.items, -1)], 'where'); // FILTER (WHERE ...)
      if (isGroup(g) && g.open === '(' && !clause && !isOp(nodes[prevIndex(nodes, i)], '.')) {
        let call: string;
        if (w === 'format' && isToken(g.items[0]) && (g.items[0] as Token).text === "'%s'") {
          call = `CAST(${out(g.items.slice(2))} AS VARCHAR)`;
        } else if (w === 'format') {
          call = `printf(${out(g.items)})`;
        } else if ((w === 'date_format' || w === 'date_parse') && g.items.some((x) => isToken(x) && x.kind === 'string')) {
          const items = g.items.map((x) => (isToken(x) && x.kind === 'string' ? { ...x, text: x.text.replace(/%([isMWh])/g, (_, c: string) => MYSQL_TO_STRFTIME[c]) } : x));
          call = `${REVERSE[w]}(${out(items)})`;
        } else {
          call = `${REVERSE[w] ?? n.text}(${out(g.items)})`;
        }
        // (call).field: DuckDB reads a field of a call's result in brackets.
        text += isOp(nodes[nextIndex(nodes, j)], '.') ? `(${call})` : call;
        i = j;
        continue;
      }
      text += n.text;
    }
    return text;
  };
  return out(parseSql(sql));
}

// ---- types and values as Athena shows them -----------------------------------------------------------

function athenaType(name: string, duck: string): Column {
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(duck);
  if (decimal) return { name, type: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2]) };
  const map: Record<string, [string, number]> = {
    VARCHAR: ['varchar', 2147483647], BIGINT: ['bigint', 19], INTEGER: ['integer', 10], SMALLINT: ['smallint', 5],
    TINYINT: ['tinyint', 3], HUGEINT: ['decimal', 38], UBIGINT: ['bigint', 19], DOUBLE: ['double', 17], FLOAT: ['real', 7],
    BOOLEAN: ['boolean', 0], DATE: ['date', 0], TIMESTAMP: ['timestamp', 3], 'TIMESTAMP WITH TIME ZONE': ['timestamp with time zone', 3],
    JSON: ['json', 0], UUID: ['uuid', 0],
  };
  const t = map[duck];
  if (t) return { name, type: t[0], precision: t[1], scale: 0 };
  if (duck.endsWith('[]')) return { name, type: 'array', precision: 0, scale: 0 };
  if (duck.startsWith('STRUCT')) return { name, type: 'row', precision: 0, scale: 0 };
  if (duck.startsWith('MAP')) return { name, type: 'map', precision: 0, scale: 0 };
  return { name, type: 'varchar', precision: 2147483647, scale: 0 };
}

function athenaText(v: unknown, type: string): string | null {
  if (v === null || v === undefined) return null;
  if (type === 'timestamp') {
    const m = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d+))?$/.exec(String(v));
    return m ? `${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}` : String(v);
  }
  if (type === 'double' || type === 'real') {
    const n = Number(v);
    return Number.isInteger(n) && Math.abs(n) < 1e7 ? `${n}.0` : String(n);
  }
  if (type === 'array' && Array.isArray(v)) return `[${v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ')}]`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function athenaMessage(duck: string): string {
  const first = duck.split('\n')[0];
  if (/Catalog Error: Table with name (\w+) does not exist/.test(first)) {
    return `TABLE_NOT_FOUND: line 1:1: Table 'awsdatacatalog.${/Table with name (\w+)/.exec(first)![1]}' does not exist`;
  }
  if (/Binder Error|Parser Error|Conversion Error/.test(first)) return `SYNTAX_ERROR: ${first}`;
  return `GENERIC_INTERNAL_ERROR: ${first}`;
}

// ---- DDL --------------------------------------------------------------------------------------------

let tableSerials = 0; // one per CREATE EXTERNAL TABLE run

function parseExternalTable(sql: string, database: string): Table {
  const head = /^CREATE\s+EXTERNAL\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?\s*/i.exec(sql);
  if (!head) throw new QueryFailure('line 1:1: cannot read the table name');
  const nodes = parseSql(sql.replaceAll('`', '"'));
  const groups = nodes.filter(isGroup) as Group[];
  const columns = columnList(groups[0]);
  const partitioned = /PARTITIONED\s+BY\s*\(/i.test(sql) ? columnList(groups[1]) : [];
  const location = /LOCATION\s+'([^']+)'/i.exec(sql)?.[1];
  if (!location || !location.startsWith('s3://')) throw new QueryFailure('line 1:1: a LOCATION s3://... is required');
  const properties: Record<string, string> = {};
  const props = /TBLPROPERTIES\s*\(([\s\S]*)\)\s*$/i.exec(sql)?.[1] ?? '';
  for (const m of props.matchAll(/'([^']+)'\s*=\s*'([^']*)'/g)) properties[m[1]] = m[2];
  const kind = /STORED\s+AS\s+PARQUET/i.test(sql) ? 'parquet' : /CloudTrailInputFormat/.test(sql) ? 'cloudtrail' : null;
  if (!kind) throw new QueryFailure('this local Athena reads Parquet tables and the CloudTrail table only');
  if (properties['projection.enabled'] !== 'true' && partitioned.length > 0) throw new QueryFailure('partitioned tables need partition projection here');
  return { kind, database, name: head[1].toLowerCase(), columns, partitions: partitioned, location: location.endsWith('/') ? location : `${location}/`, properties, etags: new Map(), chunks: new Map(), decoded: null, serial: ++tableSerials, read: null };
}

/** name type pairs of a column list (top-level commas; nested <...> types kept whole). */
function columnList(g: Group | undefined): Array<{ name: string; type: string }> {
  if (!g) return [];
  const text = g.items.map((n) => (isGroup(n) ? `(${n.items.map(render1).join('')})` : render1(n))).join('');
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '<' || ch === '(') depth++;
    if (ch === '>' || ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.replace(/--[^\n]*/g, '').trim()).filter(Boolean).map((p) => {
    const m = /^"?(\w+)"?\s+([\s\S]+)$/.exec(p)!;
    return { name: m[1].toLowerCase(), type: m[2].replace(/\s+/g, '').toLowerCase() };
  });
}

const render1 = (n: Node): string => (isGroup(n) ? `${n.open}${n.items.map(render1).join('')}${n.close}` : n.text);

function duckType(hive: string): string {
  const t = hive.toLowerCase();
  if (t === 'string' || t.startsWith('varchar')) return 'VARCHAR';
  if (t === 'timestamp') return 'TIMESTAMP';
  if (t === 'boolean') return 'BOOLEAN';
  if (t === 'bigint') return 'BIGINT';
  if (t === 'int' || t === 'integer') return 'INTEGER';
  if (t === 'double') return 'DOUBLE';
  if (t === 'date') return 'DATE';
  return 'VARCHAR';
}

/**
 * The CloudTrail table's columns from a record, as the Hive JSON SerDe gives them: a SELECT list over
 * `v`, the record's fields (CLOUDTRAIL_FIELDS, in order) taken out with one parse of the record.
 */
function cloudTrailColumns(): string {
  const at = (field: string) => `v[${CLOUDTRAIL_FIELDS.indexOf(field) + 1}]`;
  const text = (j: string) => `CASE WHEN json_type(${j}) IN ('OBJECT', 'ARRAY') THEN ${j}::VARCHAR ELSE json_extract_string(${j}, '$') END`;
  const scalar = (name: string, field: string) => `${text(at(field))} AS ${name}`;
  const identity = `json_transform(${at('userIdentity')}, '${JSON.stringify({
    type: 'VARCHAR', principalId: 'VARCHAR', arn: 'VARCHAR', accountId: 'VARCHAR', invokedBy: 'VARCHAR', accessKeyId: 'VARCHAR',
    userName: 'VARCHAR', onBehalfOf: { userId: 'VARCHAR', identityStoreArn: 'VARCHAR' }, sessionContext: { sessionIssuer: { type: 'VARCHAR', principalId: 'VARCHAR', arn: 'VARCHAR', accountId: 'VARCHAR', userName: 'VARCHAR' } },
  })}') AS useridentity`;
  const resources = `json_transform(${at('resources')}, '${JSON.stringify([{ ARN: 'VARCHAR', accountId: 'VARCHAR', type: 'VARCHAR' }])}') AS resources`;
  return [
    scalar('eventversion', 'eventVersion'), identity, scalar('eventtime', 'eventTime'), scalar('eventsource', 'eventSource'),
    scalar('eventname', 'eventName'), scalar('awsregion', 'awsRegion'), scalar('sourceipaddress', 'sourceIPAddress'),
    scalar('useragent', 'userAgent'), scalar('errorcode', 'errorCode'), scalar('errormessage', 'errorMessage'),
    scalar('requestparameters', 'requestParameters'), scalar('responseelements', 'responseElements'),
    scalar('additionaleventdata', 'additionalEventData'), scalar('requestid', 'requestID'), scalar('eventid', 'eventID'),
    scalar('readonly', 'readOnly'), resources, scalar('eventtype', 'eventType'), scalar('apiversion', 'apiVersion'),
    scalar('recipientaccountid', 'recipientAccountId'), scalar('sharedeventid', 'sharedEventID'),
    scalar('vpcendpointid', 'vpcEndpointId'), scalar('eventcategory', 'eventCategory'),
  ].join(',\n');
}

/** The record fields the CloudTrail table reads. */
const CLOUDTRAIL_FIELDS = [
  'eventVersion', 'userIdentity', 'eventTime', 'eventSource', 'eventName', 'awsRegion', 'sourceIPAddress', 'userAgent',
  'errorCode', 'errorMessage', 'requestParameters', 'responseElements', 'additionalEventData', 'requestID', 'eventID',
  'readOnly', 'resources', 'eventType', 'apiVersion', 'recipientAccountId', 'sharedEventID', 'vpcEndpointId', 'eventCategory',
];

/** The record's fields in CLOUDTRAIL_FIELDS' order (a list of JSON), with one parse: json_extract with a list of paths. */
const cloudTrailFields = (record: string) => `json_extract(${record}, [${CLOUDTRAIL_FIELDS.map((f) => `'$.${f}'`).join(', ')}])`;
