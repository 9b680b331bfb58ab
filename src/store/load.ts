// Loads decoded objects into kms_events in batches. A batch commits in one transaction with
// the manifest rows of its objects, so a run killed at any point leaves either the whole batch
// or none of it, and the next run reads exactly the objects that are not in the manifest.

import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { BIGINT, INTEGER, LIST, VARCHAR, listValue } from '@duckdb/node-api';
import type { LogObjectRef } from '../source/source.js';
import type { Store } from './db.js';

export type ObjectStatus = 'ok' | 'quarantined' | 'failed';

export interface ManifestEntry {
  ref: LogObjectRef;
  events: number;
  kmsEvents: number;
  status: ObjectStatus;
  error: string | null;
  /** The manifest already has a row for this object (changed, quarantined or failed before). */
  seenBefore: boolean;
}

/** The JSON types DuckDB reads the staged rows with: the kms_events columns, in order. */
const ROW_COLUMNS = `{
  event_id: 'VARCHAR', record_hash: 'VARCHAR', event_time: 'TIMESTAMP', event_name: 'VARCHAR',
  event_type: 'VARCHAR', event_version: 'VARCHAR', read_only: 'BOOLEAN', aws_region: 'VARCHAR',
  account_id: 'VARCHAR', principal_type: 'VARCHAR', principal_arn: 'VARCHAR', principal_id: 'VARCHAR',
  identity_arn: 'VARCHAR', principal_account: 'VARCHAR', user_name: 'VARCHAR', access_key_id: 'VARCHAR',
  invoked_by: 'VARCHAR', source_ip: 'VARCHAR', user_agent: 'VARCHAR', key_arn: 'VARCHAR', key_id: 'VARCHAR',
  key_account: 'VARCHAR', error_code: 'VARCHAR', error_message: 'VARCHAR', request_id: 'VARCHAR',
  vpc_endpoint_id: 'VARCHAR', encryption_context: 'JSON', request_parameters: 'JSON',
  response_elements: 'JSON', additional_event_data: 'JSON', resources: 'JSON', source_object: 'VARCHAR'
}`;

export interface BatchResult { objects: number; rows: number; newRows: number }

/** An object's decoded rows: NDJSON lines (UTF-8) with the record_hash of each line. */
export interface ObjectRows { ndjson: Uint8Array; hashes: string[]; minTime: string | null; maxTime: string | null }

/** One batch being filled: its rows go to a staging file as they arrive, not into memory. */
export class Batch {
  readonly entries: ManifestEntry[] = [];
  readonly started = Date.now();
  rows = 0;
  bytes = 0;
  minTime: string | null = null;
  maxTime: string | null = null;
  private stream: WriteStream | null = null;
  /** Rows already in this batch: the same event delivered twice is staged once. */
  private readonly hashes = new Set<string>();

  constructor(private readonly file: string) {}

  /** Adds an object; resolves when its rows are written out (backpressure for the caller). */
  async add(entry: ManifestEntry, rows?: ObjectRows): Promise<void> {
    this.entries.push(entry);
    if (!rows || rows.hashes.length === 0) return;
    let { ndjson } = rows;
    let added = rows.hashes.length;
    if (rows.hashes.some((h) => this.hashes.has(h))) {
      const lines = Buffer.from(ndjson).toString().split('\n').filter((_, i) => !this.hashes.has(rows.hashes[i]));
      ndjson = Buffer.from(lines.join('\n'));
      added = lines.length;
    }
    for (const h of rows.hashes) this.hashes.add(h);
    if (added === 0) return;
    this.rows += added;
    this.bytes += ndjson.byteLength;
    if (rows.minTime && (this.minTime === null || rows.minTime < this.minTime)) this.minTime = rows.minTime;
    if (rows.maxTime && (this.maxTime === null || rows.maxTime > this.maxTime)) this.maxTime = rows.maxTime;
    this.stream ??= createWriteStream(this.file, { highWaterMark: 16 * 1024 * 1024 });
    const stream = this.stream;
    // Wait for the disk when it lags; a commit that ends the stream meanwhile also releases us.
    stream.write(ndjson);
    if (!stream.write('\n')) await Promise.race([once(stream, 'drain'), once(stream, 'close')]);
  }

  /** Writes the batch and its manifest rows in one transaction. */
  async commit(store: Store, source: string, runId: number): Promise<BatchResult> {
    if (this.entries.length === 0) return { objects: 0, rows: 0, newRows: 0 };
    if (this.stream) {
      this.stream.end();
      await once(this.stream, 'close');
    }
    const reread = this.entries.filter((e) => e.seenBefore).map((e) => e.ref.uri);
    try {
      return await store.transaction(async () => {
        if (reread.length > 0) {
          // An object read again (changed in place, or failed before) replaces what it gave last time.
          const uris = [listValue(reread)];
          await store.run('DELETE FROM kms_events WHERE source_object IN (SELECT unnest($1::VARCHAR[]))', uris);
          await store.run('DELETE FROM ingested_objects WHERE object_uri IN (SELECT unnest($1::VARCHAR[]))', uris);
        }
        const newRows = this.rows === 0 ? 0 : await this.insertRows(store);
        await this.insertManifest(store, source, runId);
        return { objects: this.entries.length, rows: this.rows, newRows };
      });
    } finally {
      if (this.stream) await rm(this.file, { force: true });
    }
  }

  /**
   * Inserts the staged rows that are not in the table yet. Duplicates can only have the same
   * event_time, so only that slice of the table is compared (DuckDB skips the other row groups).
   */
  private async insertRows(store: Store): Promise<number> {
    return store.run(
      `INSERT INTO kms_events
       SELECT s.* FROM read_json($1, format = 'newline_delimited', columns = ${ROW_COLUMNS}) s
       WHERE NOT EXISTS (
         SELECT 1 FROM kms_events k
         WHERE k.event_time BETWEEN $2::TIMESTAMP AND $3::TIMESTAMP
           AND k.event_id = s.event_id AND k.record_hash = s.record_hash
       )`,
      [this.file, this.minTime, this.maxTime],
    );
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
