// kms_events -> Parquet (zstd), one Hive partition per UTC day (and account), incrementally.
//
// Each day of kms_events has a fingerprint: its row count and the XOR of an MD5 of every row's
// (event_id, record_hash), so any row added, removed or replaced changes it, in any order. The
// table exported_days keeps, per destination and day, the fingerprint and files last exported. A
// run writes the days whose fingerprint changed (or whose files are missing at the destination),
// removes the partitions of days that no longer have rows, and leaves the rest alone.
//
// A day is written to a local staging file, then put in place (rename / S3 PUT: one step per
// file), then files of that partition that are no longer part of it are deleted, then its state
// row is committed. A run killed part-way leaves every file whole; the next run redoes the day.

import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Store } from '../store/db.js';
import { FILE_NAME, UNKNOWN_ACCOUNT, dayOfKey, fileKey, layoutTag, type PartitionLayout } from './layout.js';
import type { ExportTarget } from './target.js';

export interface ExportOptions {
  layout: PartitionLayout;
  /** Only days in this range (inclusive, 'YYYY-MM-DD') are looked at; null for no bound. */
  since: string | null;
  until: string | null;
  /** Write every day, changed or not. */
  full?: boolean;
  /** Plan only: nothing is written, removed or recorded. */
  dryRun?: boolean;
  onDay?: (day: string, action: 'written' | 'removed') => void;
}

export interface ExportSummary {
  destination: string;
  layout: PartitionLayout;
  days_written: string[];
  days_removed: string[];
  days_unchanged: number;
  rows_written: number;
  files_written: number;
  files_removed: number;
  bytes_written: number;
  dry_run: boolean;
  seconds: number;
}

const STATE_DDL = `
CREATE TABLE IF NOT EXISTS exported_days (
    destination  VARCHAR   NOT NULL, -- the export's --to, normalised (folder/ or s3://bucket/prefix/)
    day          DATE      NOT NULL, -- UTC day of event_time
    layout       VARCHAR   NOT NULL, -- format version and partitioning, e.g. v1:day
    rows         BIGINT    NOT NULL,
    fingerprint  VARCHAR   NOT NULL, -- row count and XOR of md5(event_id, record_hash) when exported
    files        VARCHAR[] NOT NULL, -- keys relative to the destination
    bytes        BIGINT    NOT NULL,
    exported_at  TIMESTAMP NOT NULL
)`;

interface DayPrint {
  day: string;
  rows: number;
  fingerprint: string;
}

interface DayState extends DayPrint {
  layout: string;
  files: string[];
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

export async function ensureExportState(store: Store): Promise<void> {
  await store.run(STATE_DDL);
}

export async function exportParquet(store: Store, target: ExportTarget, options: ExportOptions): Promise<ExportSummary> {
  const started = Date.now();
  await ensureExportState(store);
  const tag = layoutTag(options.layout);
  const inRange = (day: string) => (options.since === null || day >= options.since) && (options.until === null || day <= options.until);

  const current = (await fingerprints(store)).filter((d) => inRange(d.day));
  const state = new Map((await readState(store, target.name)).map((s) => [s.day, s]));
  const existing = await target.list();
  const existingByDay = new Map<string, string[]>();
  for (const key of existing) {
    const day = dayOfKey(key);
    if (day !== null && inRange(day)) existingByDay.set(day, [...(existingByDay.get(day) ?? []), key]);
  }

  const changed = current.filter((d) => {
    const s = state.get(d.day);
    return (
      options.full || !s || s.fingerprint !== d.fingerprint || s.layout !== tag ||
      s.files.some((f) => !existing.has(f)) || (existingByDay.get(d.day) ?? []).some((f) => !s.files.includes(f))
    );
  });
  const live = new Set(current.map((d) => d.day));
  const gone = [...new Set([...existingByDay.keys(), ...[...state.keys()].filter(inRange)])].filter((day) => !live.has(day)).sort();

  const summary: ExportSummary = {
    destination: target.name, layout: options.layout, days_written: changed.map((d) => d.day), days_removed: gone,
    days_unchanged: current.length - changed.length, rows_written: changed.reduce((n, d) => n + d.rows, 0),
    files_written: 0, files_removed: 0, bytes_written: 0, dry_run: Boolean(options.dryRun), seconds: 0,
  };
  if (options.dryRun) {
    summary.seconds = (Date.now() - started) / 1000;
    return summary;
  }

  const columns = await exportColumns(store);
  await mkdir(target.stagingRoot, { recursive: true });
  try {
    for (const day of changed) {
      const staged = join(target.stagingRoot, day.day);
      await rm(staged, { recursive: true, force: true });
      const files = await writeDay(store, columns, day.day, options.layout, staged);
      let bytes = 0;
      for (const f of files) {
        bytes += (await stat(f.local)).size;
        await target.put(f.local, f.key);
      }
      const keys = files.map((f) => f.key);
      const stale = (existingByDay.get(day.day) ?? []).filter((k) => !keys.includes(k));
      if (stale.length > 0) await target.remove(stale);
      await rm(staged, { recursive: true, force: true });
      await recordDay(store, target.name, { ...day, layout: tag, files: keys }, bytes);
      summary.files_written += keys.length;
      summary.files_removed += stale.length;
      summary.bytes_written += bytes;
      options.onDay?.(day.day, 'written');
    }
    for (const day of gone) {
      const keys = existingByDay.get(day) ?? [];
      if (keys.length > 0) await target.remove(keys);
      await store.run('DELETE FROM exported_days WHERE destination = $1 AND day = CAST($2 AS DATE)', [target.name, day]);
      summary.files_removed += keys.length;
      options.onDay?.(day, 'removed');
    }
  } finally {
    await rm(target.stagingRoot, { recursive: true, force: true });
  }
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

/** Per UTC day of kms_events: rows and fingerprint. */
async function fingerprints(store: Store): Promise<DayPrint[]> {
  const rows = await store.all<{ day: string; rows: number; xor: string }>(
    `SELECT CAST(CAST(event_time AS DATE) AS VARCHAR) AS day, count(*) AS rows,
            CAST(bit_xor(md5_number(event_id || '|' || record_hash)) AS VARCHAR) AS xor
     FROM kms_events GROUP BY ALL ORDER BY day`,
  );
  return rows.map((r) => ({ day: r.day, rows: Number(r.rows), fingerprint: `${r.rows}:${r.xor}` }));
}

async function readState(store: Store, destination: string): Promise<DayState[]> {
  const rows = await store.all<{ day: string; rows: number; fingerprint: string; layout: string; files: string[] }>(
    `SELECT CAST(day AS VARCHAR) AS day, rows, fingerprint, layout, files FROM exported_days WHERE destination = $1`,
    [destination],
  );
  return rows.map((r) => ({ day: r.day, rows: Number(r.rows), fingerprint: r.fingerprint, layout: r.layout, files: r.files ?? [] }));
}

async function recordDay(store: Store, destination: string, day: DayState, bytes: number): Promise<void> {
  await store.transaction(async () => {
    await store.run('DELETE FROM exported_days WHERE destination = $1 AND day = CAST($2 AS DATE)', [destination, day.day]);
    await store.run(
      `INSERT INTO exported_days VALUES ($1, CAST($2 AS DATE), $3, $4, $5, string_split($6, chr(10)), $7, now()::TIMESTAMP)`,
      [destination, day.day, day.layout, day.rows, day.fingerprint, day.files.join('\n'), bytes],
    );
  });
}

/** The select list of an export: every column of kms_events, JSON written as text. */
async function exportColumns(store: Store): Promise<string[]> {
  const cols = await store.all<{ column_name: string; column_type: string }>('DESCRIBE kms_events');
  // event_key is the local table's key, a number Parquet readers do not share: (event_id, record_hash) say the same.
  return cols.filter((c) => c.column_name !== 'event_key').map((c) => {
    const name = `"${c.column_name.replaceAll('"', '""')}"`;
    return c.column_type === 'JSON' ? `CAST(${name} AS VARCHAR) AS ${name}` : name;
  });
}

interface StagedFile {
  local: string;
  key: string;
}

/** Writes one day to Parquet files under `dir`; returns them with the keys they go to. */
async function writeDay(store: Store, columns: string[], day: string, layout: PartitionLayout, dir: string): Promise<StagedFile[]> {
  if (!DAY_RE.test(day)) throw new Error(`not a day: ${day}`);
  await mkdir(dir, { recursive: true });
  const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const byAccount = layout === 'day/account';
  const select = `SELECT ${columns.join(', ')}${byAccount ? `, coalesce(account_id, ${quote(UNKNOWN_ACCOUNT)}) AS account` : ''}
                  FROM kms_events
                  WHERE event_time >= TIMESTAMP '${day} 00:00:00' AND event_time < TIMESTAMP '${day} 00:00:00' + INTERVAL 1 DAY
                  ORDER BY event_time, event_id`;
  // Sorted by time, so each row group's min/max of event_time lets readers skip what they do not need.
  const out = byAccount ? dir : join(dir, FILE_NAME);
  await store.run(
    `COPY (${select}) TO ${quote(out)} (FORMAT parquet, COMPRESSION zstd${byAccount ? ", PARTITION_BY (account), FILENAME_PATTERN 'data_{i}'" : ''})`,
  );
  if (!byAccount) return [{ local: out, key: fileKey(day, null) }];
  const files: StagedFile[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.parquet')) continue;
    const local = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    const m = /^account=([^/\\]+)[/\\]data_0\.parquet$/.exec(relative(dir, local));
    if (!m) throw new Error(`unexpected export file ${relative(dir, local).split(sep).join('/')}`);
    files.push({ local, key: fileKey(day, decodeURIComponent(m[1])) });
  }
  return files.sort((a, b) => a.key.localeCompare(b.key));
}

