// What a monitoring check wants to know about a database: the last ingest runs, the objects that
// could not be read and why, how far behind now the newest events are, and how big the file is.

import { existsSync, statSync } from 'node:fs';
import { listValue } from '@duckdb/node-api';
import { EVENT_HISTORY, readThrough } from '../source/event-history-days.js';
import type { Row, Store } from '../store/db.js';
import { IngestLock } from '../store/writer.js';

export interface Freshness {
  account_id: string | null;
  aws_region: string | null;
  newest_event: string;
  lag_seconds: number;
  stale: boolean;
}

/** What was read of one account and region's Event history (the manifest's day objects). */
export interface EventHistoryRead {
  account_id: string;
  aws_region: string;
  first_day: string;
  last_day: string;
  days: number;
  /** Records of the days read: KMS and CloudTrail events. */
  events: number;
  kms_events: number;
  /** Days not (all) read: failed, unreadable or quarantined. */
  problem_days: number;
  /** Up to when the newest day was read (its end once complete). */
  read_through: string | null;
  lag_seconds: number | null;
}

export interface ProblemObject {
  status: string;
  object_uri: string;
  error: string | null;
  object_day: string | null;
  run_id: number;
  ingested_at: string;
}

/** A run that stopped before it finished (killed, crashed, the machine rebooted), and what it left. */
export interface InterruptedRun {
  run_id: number;
  source: string;
  started_at: string;
  /** Objects it committed before it stopped. */
  objects_committed: number;
  /** Streams (account and region folders) it did not finish: the next run lists each from its mark. */
  unfinished_streams: { stream: string; read_through: string | null }[];
}

export interface Status {
  database: { path: string; bytes: number };
  checked_at: string;
  max_lag_seconds: number;
  runs: Row[];
  objects: Record<string, number>;
  problem_objects: ProblemObject[];
  /** Problem objects not listed (over the limit). */
  problem_objects_more: number;
  newest_event: string | null;
  lag_seconds: number | null;
  freshness: Freshness[];
  interrupted_run: InterruptedRun | null;
  event_history: EventHistoryRead[];
  /** Why the check fails: empty when all is well. */
  problems: string[];
}

export interface StatusOptions {
  maxLagSeconds: number;
  runs: number;
  objects: number;
  now: Date;
}

/** Objects that are not (all) in the database: quarantined, failed (transient) or unreadable (403/404). */
const PROBLEM_STATUSES = ['failed', 'unreadable', 'quarantined'];

export async function collectStatus(store: Store, options: StatusOptions): Promise<Status> {
  const runs = await store.all(`SELECT * FROM ingest_runs ORDER BY run_id DESC LIMIT $1`, [options.runs]);
  const counts = await store.all<{ status: string; n: number }>(`SELECT status, count(*) AS n FROM ingested_objects GROUP BY status ORDER BY status`);
  const objects: Record<string, number> = { total: 0, ok: 0, quarantined: 0, failed: 0, unreadable: 0 };
  for (const c of counts) {
    objects[c.status] = c.n;
    objects.total += c.n;
  }
  const problemObjects = await store.all<ProblemObject & Row>(
    `SELECT status, object_uri, error, strftime(object_day, '%Y-%m-%d') AS object_day, run_id, ingested_at
     FROM ingested_objects WHERE status IN (SELECT unnest($1::VARCHAR[]))
     ORDER BY list_position($1::VARCHAR[], status), ingested_at DESC, object_uri LIMIT $2`,
    [listValue(PROBLEM_STATUSES), options.objects],
  );
  const problemTotal = PROBLEM_STATUSES.reduce((n, s) => n + (objects[s] ?? 0), 0);
  const now = options.now.getTime();
  const newest = await store.all<{ account_id: string | null; aws_region: string | null; newest: string }>(
    `SELECT account_id, aws_region, max(event_time) AS newest FROM kms_events GROUP BY ALL ORDER BY account_id, aws_region`,
  );
  const freshness = newest.map((r) => {
    const lag = Math.max(0, Math.round((now - utcMillis(r.newest)) / 1000));
    return { account_id: r.account_id, aws_region: r.aws_region, newest_event: iso(r.newest)!, lag_seconds: lag, stale: lag > options.maxLagSeconds };
  });
  const eventHistory = await eventHistoryReads(store, now);
  const newestEvent = freshness.reduce<Freshness | null>((a, f) => (a === null || f.lag_seconds < a.lag_seconds ? f : a), null);

  const problems: string[] = [];
  const last = runs[0];
  const interrupted = last ? await interruptedRun(store, last) : null;
  if (!last) problems.push('no ingest has run on this database');
  else if (interrupted) {
    problems.push(`the last ingest (run ${last.run_id}, ${last.source}) stopped before it finished (killed or crashed), ` +
      `leaving ${interrupted.unfinished_streams.length} account/region stream(s) unfinished: the next run reads what it left`);
  }
  else if (last.status === 'failed') {
    problems.push(`the last ingest (run ${last.run_id}, ${last.source}) failed: ${last.failed ?? '?'} object(s) could not be fetched`);
  }
  if (newestEvent === null) problems.push('the database holds no KMS events');
  else if (newestEvent.lag_seconds > options.maxLagSeconds) {
    problems.push(`the newest event (${newestEvent.newest_event}) is ${duration(newestEvent.lag_seconds)} old, more than --max-lag ${duration(options.maxLagSeconds)}`);
  }

  return {
    database: { path: store.path, bytes: fileBytes(store.path) },
    checked_at: `${options.now.toISOString().slice(0, 19)}Z`,
    max_lag_seconds: options.maxLagSeconds,
    runs: runs.map((r) => ({ ...r, started_at: iso(r.started_at), finished_at: iso(r.finished_at) })),
    objects,
    problem_objects: problemObjects.map((o) => ({ ...o, ingested_at: iso(o.ingested_at)! })),
    problem_objects_more: problemTotal - problemObjects.length,
    newest_event: newestEvent?.newest_event ?? null,
    lag_seconds: newestEvent?.lag_seconds ?? null,
    freshness,
    interrupted_run: interrupted,
    event_history: eventHistory,
    problems,
  };
}

/** The last run, when it was interrupted, or is marked running while no ingest holds the database. */
async function interruptedRun(store: Store, last: Row): Promise<InterruptedRun | null> {
  const stopped = last.status === 'interrupted' || (last.status === 'running' && IngestLock.holder(store.path) === null);
  if (!stopped) return null;
  const runId = BigInt(last.run_id as number);
  const [{ n }] = await store.all<{ n: number }>('SELECT count(*) AS n FROM ingested_objects WHERE run_id = $1', [runId]);
  // Streams whose mark the run did not move: it stopped before it had committed all they held.
  const streams = await store.all<{ stream: string; read_through: string | null }>(
    `SELECT stream, strftime(complete_through, '%Y-%m-%d') AS read_through FROM ingest_streams
     WHERE source = $1 AND run_id < $2 ORDER BY stream`,
    [String(last.source), runId],
  );
  return { run_id: Number(last.run_id), source: String(last.source), started_at: iso(last.started_at)!, objects_committed: n, unfinished_streams: streams };
}

/** Per account and region of Event history: the days read, their events, and up to when. */
async function eventHistoryReads(store: Store, now: number): Promise<EventHistoryRead[]> {
  const rows = await store.all<Omit<EventHistoryRead, 'read_through' | 'lag_seconds'> & { last_etag: string | null }>(
    `SELECT split_part(object_uri, '/', 3) AS account_id, split_part(object_uri, '/', 4) AS aws_region,
            strftime(min(object_day), '%Y-%m-%d') AS first_day, strftime(max(object_day), '%Y-%m-%d') AS last_day,
            count(*)::INTEGER AS days, coalesce(sum(events), 0)::BIGINT AS events, coalesce(sum(kms_events), 0)::BIGINT AS kms_events,
            count(*) FILTER (WHERE status <> 'ok')::INTEGER AS problem_days, arg_max(etag, object_day) AS last_etag
     FROM ingested_objects WHERE starts_with(object_uri, $1) GROUP BY ALL ORDER BY account_id, aws_region`,
    [EVENT_HISTORY],
  );
  return rows.map(({ last_etag, ...r }) => {
    const through = readThrough(r.last_day, last_etag);
    return {
      ...r, events: Number(r.events), kms_events: Number(r.kms_events), read_through: through,
      lag_seconds: through === null ? null : Math.max(0, Math.round((now - Date.parse(through)) / 1000)),
    };
  });
}

/** The database file and its write-ahead log, if one is left. */
function fileBytes(path: string): number {
  return [path, `${path}.wal`].filter(existsSync).reduce((n, p) => n + statSync(p).size, 0);
}

/** DuckDB's 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC) -> ms since the epoch. */
const utcMillis = (t: string): number => Date.parse(`${t.replace(' ', 'T')}Z`);

/** -> 'YYYY-MM-DDTHH:MM:SSZ'. */
function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/.exec(String(value));
  return m ? `${m[1]}T${m[2]}Z` : String(value);
}

/** 93784 -> '1d 2h 3m'; under a minute, seconds. */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : ''].filter(Boolean).join(' ') || '0m';
}

/** '26h', '90m', '2d', '3600s' -> seconds; null when it is not one. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(text.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd']);
}
