// Loads staged records into kms_events and trail_events in batches. A batch commits in one
// transaction with the manifest rows of its objects, so a run killed at any point leaves either
// the whole batch or none of it, and the next run reads exactly the objects that are not in the
// manifest. DuckDB parses the records and normalise them with schemas/cloudtrail/normalize.sql.

import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { BIGINT, INTEGER, LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { describeBadRecords } from '../decode/decode.js';
import type { LogObjectRef } from '../source/source.js';
import type { Store } from './db.js';
import { EVENT_KEY, cloudTrailSql, stagedRecords } from './staging.js';

/**
 * ok; quarantined: unreadable, or some of its records are; failed: could not be fetched this time
 * (the next run tries again); unreadable: can never be fetched as things stand (403, 404).
 */
export type ObjectStatus = 'ok' | 'quarantined' | 'failed' | 'unreadable';

export interface ManifestEntry {
  ref: LogObjectRef;
  /** The object's number in its batch (the staged lines carry it). */
  object: number;
  events: number;
  kmsEvents: number;
  status: ObjectStatus;
  error: string | null;
  /** Problems found while decoding (records that are not JSON objects). */
  badRecords: string[];
  /** Record numbers staged for DuckDB. */
  kept: number[];
  /** The manifest already has a row for this object (changed, quarantined or failed before). */
  seenBefore: boolean;
}

export interface BatchResult { newRows: number; entries: ManifestEntry[] }

/** Where each table's rows come from. */
const EVENT_TABLES = [
  { table: 'kms_events', eventSource: 'kms.amazonaws.com' },
  { table: 'trail_events', eventSource: 'cloudtrail.amazonaws.com' },
] as const;

const OBJECT_SHIFT = 4294967296; // record_ref = object * 2^32 + record number

/** One batch being filled: its staged lines go to a file as they arrive, not into memory. */
export class Batch {
  readonly entries: ManifestEntry[] = [];
  readonly started = Date.now();
  lines = 0;
  bytes = 0;
  private stream: WriteStream | null = null;

  constructor(private readonly file: string) {}

  /** Adds an object; resolves when its lines are written out (backpressure for the caller). */
  async add(entry: ManifestEntry, staged?: Uint8Array): Promise<void> {
    this.entries.push(entry);
    if (!staged || staged.byteLength === 0) return;
    this.lines += entry.kept.length;
    this.bytes += staged.byteLength;
    this.stream ??= createWriteStream(this.file, { highWaterMark: 16 * 1024 * 1024 });
    const stream = this.stream;
    // Wait for the disk when it lags; a commit that ends the stream meanwhile also releases us.
    if (!stream.write(staged)) await Promise.race([once(stream, 'drain'), once(stream, 'close')]);
  }

  /** Loads the batch and writes its manifest rows, in one transaction. */
  async commit(store: Store, source: string, runId: number, alsoInTransaction?: (store: Store) => Promise<void>): Promise<BatchResult> {
    if (this.stream) {
      this.stream.end();
      await once(this.stream, 'close');
    }
    try {
      return await store.transaction(async () => {
        if (this.stream) await this.stage(store, runId);
        await this.forgetReread(store);
        const newRows = this.stream ? await this.insert(store) : 0;
        this.settleStatus();
        await this.insertManifest(store, source, runId);
        await alsoInTransaction?.(store);
        return { newRows, entries: this.entries };
      });
    } finally {
      if (this.stream) await rm(this.file, { force: true });
    }
  }

  /**
   * Reads the staged file twice: the callers' identities first (the directory learns them, so that
   * this batch's cross-account callers resolve already), then whole, normalised into `normalized`.
   */
  private async stage(store: Store, runId: number): Promise<void> {
    const read = this.entries.filter((e) => e.status !== 'failed' && e.status !== 'unreadable');
    await store.run(
      `CREATE OR REPLACE TEMP TABLE batch_objects AS SELECT unnest($1::BIGINT[]) AS o, unnest($2::VARCHAR[]) AS uri`,
      [listValue(read.map((e) => BigInt(e.object))), listValue(read.map((e) => e.ref.uri))],
    );
    await store.run(`CREATE OR REPLACE TEMP TABLE identities AS SELECT * FROM ${stagedRecords('$1', 'identity')}`, [this.file]);
    await this.checkParsed(store);
    // New ids, and ids seen with a greater ARN (only hand-made logs give one id two ARNs): the
    // greatest wins, as in the Athena view, whatever order the objects come in.
    await store.run(`CREATE OR REPLACE TEMP TABLE learned AS
                     SELECT l.* FROM (${cloudTrailSql('principals', { records: 'identities' })}) l
                     LEFT JOIN principals p USING (unique_id) WHERE p.unique_id IS NULL OR l.arn > p.arn`);
    await store.run(`INSERT OR REPLACE INTO principals SELECT unique_id, arn, account_id, principal_type, first_seen, $1 FROM learned`, [BigInt(runId)]);

    const kept = EVENT_TABLES.map((t) => `'${t.eventSource}'`).join(', ');
    const records = `(SELECT s.*, b.uri AS source_object, s.o * ${OBJECT_SHIFT} + s.n AS record_ref
                      FROM ${stagedRecords('$1', 'all')} s JOIN batch_objects b ON b.o = s.o
                      WHERE s.eventsource IN (${kept}))`;
    await store.run(`CREATE OR REPLACE TEMP TABLE normalized AS ${cloudTrailSql('normalize', { records, principals: 'principals' })}`, [this.file]);
    await this.checkNormalized(store);
  }

  private async insert(store: Store): Promise<number> {
    let newRows = 0;
    for (const { table, eventSource } of EVENT_TABLES) newRows += await this.insertEvents(store, table, eventSource);
    await this.resolveLearned(store);
    return newRows;
  }

  /** Records DuckDB could not read as JSON (the decoder only checked their nesting). */
  private async checkParsed(store: Store): Promise<void> {
    const counts = await store.all<{ o: number; records: number }>(
      'SELECT o, count(*) AS records FROM identities WHERE record_hash IS NOT NULL GROUP BY o',
    );
    const found = new Map(counts.map((c) => [c.o, c.records]));
    for (const entry of this.entries) {
      if (entry.kept.length === 0 || (found.get(entry.object) ?? 0) === entry.kept.length) continue;
      const rows = await store.all<{ n: number }>('SELECT n FROM identities WHERE o = $1 AND record_hash IS NOT NULL', [BigInt(entry.object)]);
      const present = new Set(rows.map((r) => r.n));
      for (const n of entry.kept) if (!present.has(n)) entry.badRecords.push(`record ${n}: not valid JSON`);
    }
  }

  /** Kept records that cannot become rows: no eventName, or an eventTime that is no real time. */
  private async checkNormalized(store: Store): Promise<void> {
    const bad = await store.all<{ o: number; n: number; event_id: string | null; event_time: string | null; event_name: string | null }>(
      `SELECT i.o, i.n, z.event_id, i.eventtime AS event_time, z.event_name
       FROM normalized z JOIN identities i ON i.o * ${OBJECT_SHIFT} + i.n = z.record_ref
       WHERE z.event_time IS NULL OR z.event_name IS NULL ORDER BY i.o, i.n`,
    );
    const byObject = new Map(this.entries.map((e) => [e.object, e]));
    for (const r of bad) {
      const what = r.event_name === null ? 'eventName is missing' : `eventTime ${JSON.stringify(r.event_time)} is not a timestamp`;
      const id = r.event_id?.startsWith('keytrail:') ? null : r.event_id;
      byObject.get(r.o)?.badRecords.push(`record ${r.n}${id ? ` (eventID ${id})` : ''}: ${what}`);
    }
    const counts = await store.all<{ o: number; kms: number }>(
      `SELECT record_ref // ${OBJECT_SHIFT} AS o, count(*) AS kms FROM normalized
       WHERE event_source = 'kms.amazonaws.com' AND event_time IS NOT NULL AND event_name IS NOT NULL GROUP BY 1`,
    );
    for (const c of counts) byObject.get(c.o)!.kmsEvents = c.kms;
  }

  /**
   * An object read again (changed in place, or failed before) replaces what it alone gave, and its
   * manifest row: its events that another object delivered too stay, attributed to that object.
   */
  private async forgetReread(store: Store): Promise<void> {
    const reread = this.entries.filter((e) => e.seenBefore).map((e) => e.ref.uri);
    if (reread.length === 0) return;
    const uris = [listValue(reread)];
    for (const { table } of EVENT_TABLES) {
      await store.run(
        `UPDATE ${table} SET source_object = d.object_uri
         FROM (SELECT event_id, record_hash, min(object_uri) AS object_uri FROM event_redeliveries
               WHERE object_uri NOT IN (SELECT unnest($1::VARCHAR[])) GROUP BY ALL) d
         WHERE ${table}.event_id = d.event_id AND ${table}.record_hash = d.record_hash
           AND ${table}.source_object IN (SELECT unnest($1::VARCHAR[]))`,
        uris,
      );
      await store.run(`DELETE FROM ${table} WHERE source_object IN (SELECT unnest($1::VARCHAR[]))`, uris);
      await store.run(
        `DELETE FROM event_redeliveries r USING ${table} t
         WHERE r.event_id = t.event_id AND r.record_hash = t.record_hash AND r.object_uri = t.source_object`,
      );
    }
    await store.run('DELETE FROM event_redeliveries WHERE object_uri IN (SELECT unnest($1::VARCHAR[]))', uris);
    await store.run('DELETE FROM ingested_objects WHERE object_uri IN (SELECT unnest($1::VARCHAR[]))', uris);
  }

  /**
   * Inserts each event once, and notes the other objects that delivered it. Any copy of an event
   * has its event time, so the rows already stored are looked up in the batch's time span only:
   * rows go in in time order, and DuckDB's zone maps skip every row group outside the span, so the
   * cost follows the batch, not the table (there is no index to keep: schemas/duckdb/10_tables.sql).
   */
  private async insertEvents(store: Store, table: string, eventSource: string): Promise<number> {
    // The batch's rows of this table with their keys, hashed once for the three statements below.
    await store.run(
      `CREATE OR REPLACE TEMP TABLE batch_events AS SELECT *, ${EVENT_KEY} AS event_key FROM normalized
       WHERE event_source = '${eventSource}' AND event_time IS NOT NULL AND event_name IS NOT NULL`,
    );
    const [span] = await store.all<{ lo: string | null; hi: string | null }>(
      'SELECT min(event_time)::VARCHAR AS lo, max(event_time)::VARCHAR AS hi FROM batch_events',
    );
    if (span.lo === null || span.hi === null) return 0;
    // Literals, not parameters: DuckDB prunes row groups by constants it sees when planning.
    const stored = `(SELECT event_key, source_object FROM ${table}
                     WHERE event_time BETWEEN TIMESTAMP '${span.lo}' AND TIMESTAMP '${span.hi}')`;
    const inserted = await store.run(
      `INSERT INTO ${table} BY NAME
       SELECT * EXCLUDE (event_source, record_ref) FROM batch_events z
       WHERE NOT EXISTS (SELECT 1 FROM ${stored} t WHERE t.event_key = z.event_key)
       QUALIFY row_number() OVER (PARTITION BY z.event_key ORDER BY z.record_ref) = 1
       ORDER BY z.event_time`,
    );
    await store.run(
      `INSERT INTO event_redeliveries
       SELECT DISTINCT z.event_id, z.record_hash, z.source_object
       FROM batch_events z JOIN ${stored} t ON t.event_key = z.event_key
       WHERE t.source_object <> z.source_object
       ON CONFLICT DO NOTHING`,
    );
    return inserted;
  }

  /** Rows of earlier batches and runs whose caller this batch taught the directory. */
  private async resolveLearned(store: Store): Promise<void> {
    const [{ n }] = await store.all<{ n: number }>('SELECT count(*) AS n FROM learned');
    if (n === 0) return;
    for (const { table } of EVENT_TABLES) {
      await store.run(
        `UPDATE ${table} SET identity_arn = l.arn FROM learned l
         WHERE ${table}.principal_type IN ('AWSAccount', 'AssumedRole')
           AND split_part(${table}.principal_id, ':', 1) = l.unique_id
           AND ${table}.identity_arn IS DISTINCT FROM l.arn`,
      );
    }
  }

  /** Bad records make an object quarantined; its good records are loaded all the same. */
  private settleStatus(): void {
    for (const e of this.entries) {
      if (e.status !== 'ok' || e.badRecords.length === 0) continue;
      e.status = 'quarantined';
      e.error = describeBadRecords(e.badRecords);
    }
  }

  private async insertManifest(store: Store, source: string, runId: number): Promise<void> {
    const column = <T>(pick: (e: ManifestEntry) => T) => listValue(this.entries.map(pick) as never[]);
    await store.run(
      `INSERT INTO ingested_objects
       SELECT unnest($1::VARCHAR[]), $2, unnest($3)::DATE, unnest($4::VARCHAR[]), unnest($5::BIGINT[]),
              unnest($6::INTEGER[]), unnest($7::INTEGER[]), unnest($8::VARCHAR[]), unnest($9::VARCHAR[]),
              $10, now()::TIMESTAMP`,
      [
        column((e) => e.ref.uri),
        source,
        column((e) => e.ref.day), // as text: cast to DATE in SQL
        column((e) => e.ref.etag),
        column((e) => BigInt(e.ref.size)),
        column((e) => e.events),
        column((e) => e.kmsEvents),
        column((e) => e.status),
        column((e) => e.error),
        BigInt(runId),
      ],
      [LIST(VARCHAR), VARCHAR, LIST(VARCHAR), LIST(VARCHAR), LIST(BIGINT), LIST(INTEGER), LIST(INTEGER), LIST(VARCHAR), LIST(VARCHAR), BIGINT],
    );
  }
}

/** Staging files live beside the database and are wiped at the start of every run. */
export async function stagingFolder(dbPath: string): Promise<string> {
  const dir = `${dbPath}.staging`;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

export const batchFile = (dir: string, n: number): string => join(dir, `batch-${n}.ndjson`);
