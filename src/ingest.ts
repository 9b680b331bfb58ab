// The ingest pipeline: source -> objects -> decode (worker threads) -> batches -> DuckDB.

import pLimit from 'p-limit';
import { BadObjectError, DecodePool } from './decode/pool.js';
import { describeBadRecords } from './decode/decode.js';
import type { DayRange } from './source/layout.js';
import type { LogObjectRef, LogSource } from './source/source.js';
import type { Store } from './store/db.js';
import { Batch, batchFile, stagingFolder, type ManifestEntry, type ObjectRows } from './store/load.js';
import { ManifestIndex, resumeDay } from './store/manifest.js';

export interface IngestOptions {
  range: DayRange;
  /** Ignore where the last run stopped and list the whole range. */
  full?: boolean;
  retryQuarantined?: boolean;
  concurrency: number;
  workers?: number;
  /**
   * A batch commits when it holds this many rows or bytes of rows (bigger batches commit faster,
   * smaller ones bound memory), this many objects, or is this old: the most a killed run redoes.
   */
  batchRows?: number;
  batchBytes?: number;
  batchObjects?: number;
  batchSeconds?: number;
  onProgress?: (progress: IngestProgress) => void;
}

export interface IngestProgress { objects: number; bytes: number; events: number; kmsEvents: number }

export interface IngestSummary {
  runId: number;
  source: string;
  range: DayRange;
  listed: number;
  skipped: number;
  objects: number;
  bytes: number;
  events: number;
  kmsEvents: number;
  newRows: number;
  quarantined: Array<{ uri: string; error: string }>;
  failed: Array<{ uri: string; error: string }>;
  seconds: number;
}

export async function ingest(source: LogSource, store: Store, options: IngestOptions): Promise<IngestSummary> {
  const started = Date.now();
  const runId = await startRun(store, source.name);
  const range = await effectiveRange(store, source.name, options);
  const staging = await stagingFolder(store.path);
  const manifest = new ManifestIndex(store, options.retryQuarantined);
  const pool = new DecodePool(options.workers);
  const limit = pLimit(options.concurrency);
  const batchRows = options.batchRows ?? 32_768;
  const batchBytes = options.batchBytes ?? 48 * 1024 * 1024;
  const batchObjects = options.batchObjects ?? 50_000;
  const batchMs = (options.batchSeconds ?? 60) * 1000;

  const summary: IngestSummary = {
    runId, source: source.name, range, listed: 0, skipped: 0, objects: 0, bytes: 0, events: 0,
    kmsEvents: 0, newRows: 0, quarantined: [], failed: [], seconds: 0,
  };
  let batchNo = 0;
  let batch = new Batch(batchFile(staging, batchNo));
  let commits: Promise<void> = Promise.resolve();
  const flush = () => {
    const full = batch;
    batch = new Batch(batchFile(staging, ++batchNo));
    commits = commits.then(async () => {
      summary.newRows += (await full.commit(store, source.name, runId)).newRows;
    });
    return commits;
  };

  const readObject = async (ref: LogObjectRef, seenBefore: boolean) => {
    const entry: ManifestEntry = { ref, events: 0, kmsEvents: 0, status: 'ok', error: null, seenBefore };
    let rows: ObjectRows | undefined;
    try {
      const decoded = ref.file ? await pool.decodeFile(ref.file, ref.uri) : await pool.decode(await source.read(ref), ref.uri);
      summary.bytes += decoded.bytes;
      rows = decoded;
      entry.events = decoded.events;
      entry.kmsEvents = decoded.kmsEvents;
      if (decoded.badRecords.length > 0) {
        entry.status = 'quarantined';
        entry.error = describeBadRecords(decoded.badRecords);
      }
    } catch (err) {
      entry.status = err instanceof BadObjectError ? 'quarantined' : 'failed';
      entry.error = (err as Error).message;
    }
    if (entry.status !== 'ok') summary[entry.status].push({ uri: ref.uri, error: entry.error! });
    summary.objects++;
    summary.events += entry.events;
    summary.kmsEvents += entry.kmsEvents;
    const into = batch;
    await into.add(entry, rows);
    options.onProgress?.(summary);
    if (into === batch && (batch.rows >= batchRows || batch.bytes >= batchBytes || batch.entries.length >= batchObjects || Date.now() - batch.started >= batchMs)) {
      await flush();
    }
  };

  try {
    const inflight = new Set<Promise<void>>();
    for await (const ref of source.list(range)) {
      summary.listed++;
      const verdict = await manifest.verdict(ref);
      if (verdict === 'done') {
        summary.skipped++;
        continue;
      }
      const task = limit(() => readObject(ref, verdict === 'reread')).finally(() => inflight.delete(task));
      inflight.add(task);
      // Listing runs ahead of reading by at most a few windows: memory stays bounded.
      while (inflight.size >= options.concurrency * 2) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    await flush();
  } finally {
    await commits.catch(() => {});
    await pool.close();
  }
  await commits; // surfaces a failed commit
  summary.seconds = (Date.now() - started) / 1000;
  await finishRun(store, summary);
  return summary;
}

async function effectiveRange(store: Store, source: string, options: IngestOptions): Promise<DayRange> {
  if (options.range.since !== null || options.full) return options.range;
  const resume = await resumeDay(store, source);
  return { since: resume, until: options.range.until };
}

async function startRun(store: Store, source: string): Promise<number> {
  // We hold the only write lock, so a run still marked running was killed.
  await store.run(`UPDATE ingest_runs SET status = 'interrupted' WHERE status = 'running'`);
  const [{ id }] = await store.all<{ id: bigint }>('SELECT coalesce(max(run_id), 0) + 1 AS id FROM ingest_runs');
  await store.run(`INSERT INTO ingest_runs (run_id, source, started_at, status) VALUES ($1, $2, now()::TIMESTAMP, 'running')`, [
    id,
    source,
  ]);
  return Number(id);
}

async function finishRun(store: Store, s: IngestSummary): Promise<void> {
  const status = s.failed.length > 0 ? 'failed' : s.quarantined.length > 0 ? 'partial' : 'ok';
  await store.run(
    `UPDATE ingest_runs SET finished_at = now()::TIMESTAMP, status = $2, objects = $3, events = $4, kms_events = $5,
       new_rows = $6, quarantined = $7, failed = $8 WHERE run_id = $1`,
    [BigInt(s.runId), status, s.objects, BigInt(s.events), BigInt(s.kmsEvents), BigInt(s.newRows), s.quarantined.length, s.failed.length],
  );
}

