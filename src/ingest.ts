// The ingest pipeline: source -> objects -> decode (worker threads) -> staged batches -> DuckDB.

import pLimit from 'p-limit';
import { crashPoint } from './fault.js';
import { BadObjectError, DecodePool, type Decoded } from './decode/pool.js';
import type { DayRange } from './source/layout.js';
import { ReadError, type LogObjectRef, type LogSource } from './source/source.js';
import type { Store } from './store/db.js';
import { Batch, batchFile, stagingFolder, type ManifestEntry } from './store/load.js';
import { ManifestIndex } from './store/manifest.js';
import { DEFAULT_LOOKBACK_DAYS, StreamListing, readStreamMarks, saveStreamMarks } from './store/streams.js';
import { BriefWriter, IngestLock } from './store/writer.js';

export interface IngestOptions {
  range: DayRange;
  /** Ignore where the last run stopped and list the whole range. */
  full?: boolean;
  /** Without --since, list each stream from this many days before its mark (late deliveries). */
  lookbackDays?: number;
  /** Read quarantined and unreadable objects again. */
  retryQuarantined?: boolean;
  concurrency: number;
  workers?: number;
  /** Objects larger than this uncompressed are quarantined ("too large"). */
  maxObjectBytes?: number;
  /**
   * A batch commits when it holds this many records or bytes of them (bigger batches commit
   * faster, smaller ones bound memory), this many objects, or is this old: the most a killed run
   * redoes, and the longest a reader waits for the database.
   */
  batchRecords?: number;
  batchBytes?: number;
  batchObjects?: number;
  batchSeconds?: number;
  /** Wait this long (ms) for another ingest into the same database to finish; 0: fail at once. */
  lockWaitMs?: number;
  /**
   * ingest --verify: filled with the SHA-256 of the uncompressed content of each object read, by
   * URI, hashed in the decode workers where it is gunzipped anyway (src/integrity checks them).
   */
  sha256?: Map<string, string>;
  onProgress?: (progress: IngestProgress) => void;
}

export interface IngestProgress { objects: number; bytes: number; events: number; kmsEvents: number }

export interface ObjectProblem { uri: string; error: string }

export interface IngestSummary {
  runId: number;
  source: string;
  range: DayRange;
  listed: number;
  skipped: number;
  /** Streams (account and region folders) listed, and how many of them from their first day. */
  streams: number;
  newStreams: number;
  objects: number;
  bytes: number;
  events: number;
  kmsEvents: number;
  newRows: number;
  quarantined: ObjectProblem[];
  /** Could not be fetched this time; the next run tries again. */
  failed: ObjectProblem[];
  /** Can never be fetched as things stand (403, 404); found by this run. */
  unreadable: ObjectProblem[];
  /** Unreadable objects found by earlier runs, still in the manifest: how many. */
  unreadableBefore: number;
  seconds: number;
}

const DEFAULT_MAX_OBJECT_BYTES = 1024 * 2 ** 20;

/** Ingests `source` into the database at `dbPath`, which it opens only to look up and to commit. */
export async function ingest(source: LogSource, dbPath: string, options: IngestOptions): Promise<IngestSummary> {
  const lock = await IngestLock.take(dbPath, options.lockWaitMs ?? 0);
  try {
    return await ingestLocked(source, new BriefWriter(dbPath), options);
  } finally {
    lock.release();
  }
}

async function ingestLocked(source: LogSource, db: BriefWriter, options: IngestOptions): Promise<IngestSummary> {
  const started = Date.now();
  const dbPath = db.path;
  const { runId, marks, manifest } = await db.use(async (store) => ({
    runId: await startRun(store, source.name),
    marks: await readStreamMarks(store, source.name),
    manifest: await ManifestIndex.open(store, db, options.retryQuarantined),
  }));
  const range = options.range;
  const lookback = options.lookbackDays ?? DEFAULT_LOOKBACK_DAYS;
  const staging = await stagingFolder(dbPath);
  const pool = new DecodePool({ size: options.workers, inFlight: options.concurrency });
  const limit = pLimit(options.concurrency);
  const maxBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  const batchRecords = options.batchRecords ?? 65_536;
  const batchBytes = options.batchBytes ?? 48 * 2 ** 20;
  const batchObjects = options.batchObjects ?? 50_000;
  const batchMs = (options.batchSeconds ?? 30) * 1000;

  const summary: IngestSummary = {
    runId, source: source.name, range, listed: 0, skipped: 0, streams: 0, newStreams: 0, objects: 0, bytes: 0, events: 0,
    kmsEvents: 0, newRows: 0, quarantined: [], failed: [], unreadable: [], unreadableBefore: 0, seconds: 0,
  };
  let objectNo = 0;
  let batchNo = 0;
  let batch = new Batch(batchFile(staging, batchNo));
  let commits: Promise<void> = Promise.resolve();
  const listings: StreamListing[] = [];
  const listingOf = new Map<LogObjectRef, StreamListing>();
  /** Hands the batch to a commit; the last one also finishes the run, in the same opening of the database. */
  const flush = (last = false) => {
    const full = batch;
    batch = new Batch(batchFile(staging, ++batchNo));
    // Commits go in order: a stream whose last objects are in this batch is complete with it.
    for (const e of full.entries) {
      const listing = listingOf.get(e.ref)!;
      listingOf.delete(e.ref);
      listing.pending--;
      if (e.status === 'failed') listing.failed(e.ref.day);
    }
    const complete = listings.filter((l) => l.ready);
    for (const l of complete) l.saved = true;
    const n = batchNo; // 1 for the first batch
    commits = commits.then(async () => {
      crashPoint('before-commit', n);
      await db.use(async (store) => {
        const result = await full.commit(store, source.name, runId, async (s) => {
          await saveStreamMarks(s, source.name, runId, complete);
          crashPoint('in-commit', n);
        });
        summary.newRows += result.newRows;
        for (const e of result.entries) {
          summary.kmsEvents += e.kmsEvents;
          if (e.status !== 'ok') summary[e.status].push({ uri: e.ref.uri, error: e.error! });
        }
        if (last) await finishRun(store, summary, started);
      });
      crashPoint('after-commit', n);
    });
    return commits;
  };

  const readObject = async (ref: LogObjectRef, seenBefore: boolean) => {
    const object = objectNo++;
    const entry: ManifestEntry = { ref, object, events: 0, kmsEvents: 0, status: 'ok', error: null, badRecords: [], kept: [], seenBefore };
    let decoded: Decoded | undefined;
    try {
      const hash = options.sha256 !== undefined;
      decoded = ref.file ? await pool.decodeFile(ref.file, object, maxBytes, hash) : await pool.decode(await source.read(ref), object, maxBytes, hash);
      if (decoded.sha256) options.sha256!.set(ref.uri, decoded.sha256);
      summary.bytes += decoded.bytes;
      entry.events = decoded.events;
      entry.kept = decoded.kept;
      entry.badRecords = decoded.badRecords;
    } catch (err) {
      entry.status = err instanceof BadObjectError ? 'quarantined' : err instanceof ReadError && err.permanent ? 'unreadable' : 'failed';
      entry.error = (err as Error).message;
    }
    summary.objects++;
    summary.events += entry.events;
    const into = batch;
    await into.add(entry, decoded?.staged);
    options.onProgress?.(summary);
    if (into === batch && (batch.lines >= batchRecords || batch.bytes >= batchBytes || batch.entries.length >= batchObjects || Date.now() - batch.started >= batchMs)) {
      await flush();
    }
  };

  try {
    const inflight = new Set<Promise<void>>();
    for await (const stream of source.streams()) {
      const mark = marks.get(stream);
      const since = StreamListing.startDay(mark, range.since, options.full ?? false, lookback);
      const listing = new StreamListing(stream, since, mark);
      listings.push(listing);
      summary.streams++;
      if (mark === undefined) summary.newStreams++;
      for await (const ref of source.list(stream, { since, until: range.until })) {
        summary.listed++;
        listing.listed(ref.day);
        const verdict = await manifest.verdict(ref);
        if (verdict === 'done') {
          summary.skipped++;
          continue;
        }
        listing.pending++;
        listingOf.set(ref, listing);
        const task = limit(() => readObject(ref, verdict === 'reread')).finally(() => inflight.delete(task));
        inflight.add(task);
        // Listing runs ahead of reading by at most a few windows: memory stays bounded.
        while (inflight.size >= options.concurrency * 2) await Promise.race(inflight);
      }
      listing.listingDone = true;
    }
    await Promise.all(inflight);
    await flush(true);
  } finally {
    await commits.catch(() => {});
    await pool.close();
  }
  await commits; // surfaces a failed commit
  return summary;
}

async function startRun(store: Store, source: string): Promise<number> {
  // We hold the ingest lock, so a run still marked running was killed.
  await store.run(`UPDATE ingest_runs SET status = 'interrupted' WHERE status = 'running'`);
  const [{ id }] = await store.all<{ id: bigint }>('SELECT coalesce(max(run_id), 0) + 1 AS id FROM ingest_runs');
  await store.run(`INSERT INTO ingest_runs (run_id, source, started_at, status) VALUES ($1, $2, now()::TIMESTAMP, 'running')`, [
    id,
    source,
  ]);
  return Number(id);
}

async function countUnreadable(store: Store, source: string, runId: number): Promise<number> {
  const [{ n }] = await store.all<{ n: number }>(
    `SELECT count(*) AS n FROM ingested_objects WHERE source = $1 AND status = 'unreadable' AND run_id <> $2`,
    [source, BigInt(runId)],
  );
  return n;
}

/** Records the run's outcome; `s` gets its duration and the unreadable objects earlier runs found. */
async function finishRun(store: Store, s: IngestSummary, started: number): Promise<void> {
  s.unreadableBefore = await countUnreadable(store, s.source, s.runId);
  s.seconds = (Date.now() - started) / 1000;
  const failed = s.failed.length + s.unreadable.length;
  const status = failed > 0 ? 'failed' : s.quarantined.length > 0 ? 'partial' : 'ok';
  await store.run(
    `UPDATE ingest_runs SET finished_at = now()::TIMESTAMP, status = $2, objects = $3, events = $4, kms_events = $5,
       new_rows = $6, quarantined = $7, failed = $8 WHERE run_id = $1`,
    [BigInt(s.runId), status, s.objects, BigInt(s.events), BigInt(s.kmsEvents), BigInt(s.newRows), s.quarantined.length, failed],
  );
}
