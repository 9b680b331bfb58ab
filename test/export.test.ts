// keytrail export: Parquet partitions per day, incremental, to a folder and to S3 (s3rver).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportParquet } from '../src/export/export.js';
import { openTarget, type ExportTarget } from '../src/export/target.js';
import { Store } from '../src/store/db.js';
import { openStore } from '../src/store/schema.js';
import { ingestFolder } from './helpers/ingest.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/log-objects.js';
import { cloudTrailRecord } from './helpers/records.js';
import { startLocalS3, type LocalS3 } from '../scripts/local-s3.js';
import { writeTrail } from './helpers/trail.js';

const { dir, cleanup } = tempDir('keytrail-export-');
const DAYS = ['2024-05-01', '2024-05-02', '2024-05-03'];
const ACCOUNTS = ['111111111111', '222222222222'];
let s3: LocalS3;


function records(day: string, perAccount: number, tag: string): Record<string, unknown>[] {
  return ACCOUNTS.flatMap((account) =>
    Array.from({ length: perAccount }, (_, i) =>
      cloudTrailRecord({ account, time: `${day}T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`, user: `${tag}-${i % 3}`, keyId: `key-${i % 4}` }),
    ),
  );
}

/** A database with 3 days x 2 accounts; returns its path. */
async function makeDb(name: string): Promise<{ db: string; trail: string }> {
  const trail = join(dir, `${name}-trail`);
  const db = join(dir, `${name}.duckdb`);
  for (const day of DAYS) writeTrail(trail, records(day, 20, 'first'));
  await ingestFolder(trail, db);
  return { db, trail };
}

async function withStore<T>(db: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(db);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

async function exportTo(db: string, target: ExportTarget, options: Partial<Parameters<typeof exportParquet>[2]> = {}) {
  return withStore(db, (store) => exportParquet(store, target, { layout: 'day', since: null, until: null, ...options }));
}

function files(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

/** Reads exported Parquet the way a user would: DuckDB read_parquet with Hive partitions. */
async function readExport(glob: string, sql = 'SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM t'): Promise<Record<string, unknown>[]> {
  const store = await openStore(':memory:');
  try {
    const types = glob.includes('/*/*/') ? "{'event_date': DATE, 'account': VARCHAR}" : "{'event_date': DATE}";
    await store.run(`CREATE VIEW t AS SELECT * FROM read_parquet('${glob}', hive_partitioning = true, hive_types = ${types})`);
    return await store.all(sql);
  } finally {
    store.close();
  }
}

beforeAll(async () => {
  s3 = await startLocalS3();
  await s3.createBucket('exports');
}, 60_000);

afterAll(async () => {
  await s3?.stop();
  cleanup();
});

describe('export to a folder', () => {
  it('writes one zstd Parquet file per day that reads back as kms_events, then only what changed', async () => {
    const { db, trail } = await makeDb('local');
    const out = join(dir, 'local-out');
    const target = await openTarget(out);

    const first = await exportTo(db, target);
    expect(first.days_written).toEqual(DAYS);
    expect(first.rows_written).toBe(120);
    expect(files(out)).toEqual(DAYS.map((d) => `kms_events/event_date=${d}/data.parquet`));

    // Every column of kms_events, the same rows, JSON as text, zstd, the day as a partition column.
    const rows = await readExport(`${out}/kms_events/*/*.parquet`, `
      SELECT count(*) AS n, count(DISTINCT event_id) AS ids, min(event_date) AS first_day, max(event_date) AS last_day,
             count(*) FILTER (WHERE CAST(event_time AS DATE) <> event_date) AS misplaced,
             min(json_extract_string(request_parameters, '$.encryptionContext.app')) AS app
      FROM t`);
    expect(rows[0]).toMatchObject({ n: 120, ids: 120, first_day: '2024-05-01', last_day: '2024-05-03', misplaced: 0, app: 'test' });
    const meta = await readExport(`${out}/kms_events/*/*.parquet`, `SELECT DISTINCT compression FROM parquet_metadata('${out}/kms_events/*/*.parquet')`);
    expect(meta).toEqual([{ compression: 'ZSTD' }]);
    const schema = await withStore(db, async (store) => {
      const table = await store.all<{ column_name: string }>('DESCRIBE kms_events');
      const file = await store.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet('${out}/kms_events/*/*.parquet')`);
      return { table: table.map((c) => c.column_name), file };
    });
    expect(schema.file.map((c) => c.column_name).filter((c) => c !== 'event_date')).toEqual(schema.table.filter((c) => c !== 'event_key')); // the local key stays local
    expect(schema.file.find((c) => c.column_name === 'request_parameters')?.column_type).toBe('VARCHAR');
    expect(schema.file.find((c) => c.column_name === 'event_time')?.column_type).toBe('TIMESTAMP');

    // Nothing changed: nothing written.
    const mtime = statSync(join(out, 'kms_events/event_date=2024-05-01/data.parquet')).mtimeMs;
    const again = await exportTo(db, target);
    expect(again).toMatchObject({ days_written: [], days_removed: [], days_unchanged: 3, files_written: 0 });

    // New events on the 2nd: only that day is written again, replaced whole, no duplicates.
    writeTrail(trail, records('2024-05-02', 5, 'second'));
    await ingestFolder(trail, db);
    const third = await exportTo(db, target);
    expect(third.days_written).toEqual(['2024-05-02']);
    expect(third.days_unchanged).toBe(2);
    expect(statSync(join(out, 'kms_events/event_date=2024-05-01/data.parquet')).mtimeMs).toBe(mtime);
    expect(files(out)).toEqual(DAYS.map((d) => `kms_events/event_date=${d}/data.parquet`));
    expect((await readExport(`${out}/kms_events/*/*.parquet`))[0]).toEqual({ n: 130, ids: 130 });
    expect((await readExport(`${out}/kms_events/event_date=2024-05-02/*.parquet`))[0]).toEqual({ n: 50, ids: 50 });

    // A day whose events are gone (retention) loses its partition; a missing file is written again.
    await withStore(db, (store) => store.run("DELETE FROM kms_events WHERE CAST(event_time AS DATE) = DATE '2024-05-03'"));
    const fourth = await exportTo(db, target);
    expect(fourth).toMatchObject({ days_written: [], days_removed: ['2024-05-03'] });
    expect(files(out)).toEqual(['kms_events/event_date=2024-05-01/data.parquet', 'kms_events/event_date=2024-05-02/data.parquet']);
    await import('node:fs/promises').then((fs) => fs.rm(join(out, 'kms_events/event_date=2024-05-01/data.parquet')));
    expect((await exportTo(db, target)).days_written).toEqual(['2024-05-01']);
    expect(existsSync(join(out, '.keytrail-staging'))).toBe(false);
  }, 60_000);

  it('partitions by account on request, and rewrites every day when the layout changes', async () => {
    const { db } = await makeDb('accounts');
    const out = join(dir, 'accounts-out');
    const target = await openTarget(out);
    await exportTo(db, target);
    const byAccount = await exportTo(db, target, { layout: 'day/account' });
    expect(byAccount.days_written).toEqual(DAYS);
    expect(byAccount.files_removed).toBe(3);
    expect(files(out)).toEqual(DAYS.flatMap((d) => ACCOUNTS.map((a) => `kms_events/event_date=${d}/account=${a}/data.parquet`)));
    const rows = await readExport(`${out}/kms_events/*/*/*.parquet`, `
      SELECT count(*) AS n, count(*) FILTER (WHERE account <> account_id) AS misplaced, count(DISTINCT account) AS accounts FROM t`);
    expect(rows[0]).toEqual({ n: 120, misplaced: 0, accounts: 2 });
    // --since / --until limit what is looked at.
    const limited = await exportTo(db, target, { layout: 'day/account', full: true, since: '2024-05-02', until: '2024-05-02' });
    expect(limited.days_written).toEqual(['2024-05-02']);
    expect(limited.days_unchanged).toBe(0);
  }, 60_000);

  it('keeps every file whole when a run dies part-way, and the next run finishes the job', async () => {
    const { db } = await makeDb('crash');
    const out = join(dir, 'crash-out');
    const real = await openTarget(out);
    let puts = 0;
    const failing: ExportTarget = {
      name: real.name, stagingRoot: real.stagingRoot, list: () => real.list(), remove: (k) => real.remove(k), close: () => real.close(),
      put: async (file, key) => {
        if (++puts === 2) throw new Error('connection lost');
        await real.put(file, key);
      },
    };
    await expect(exportTo(db, failing)).rejects.toThrow('connection lost');
    expect(files(out)).toEqual(['kms_events/event_date=2024-05-01/data.parquet']);
    const state = await withStore(db, (store) => store.all('SELECT CAST(day AS VARCHAR) AS day FROM exported_days'));
    expect(state).toEqual([{ day: '2024-05-01' }]);
    const rerun = await exportTo(db, real);
    expect(rerun.days_written).toEqual(['2024-05-02', '2024-05-03']);
    expect((await readExport(`${out}/kms_events/*/*.parquet`))[0]).toEqual({ n: 120, ids: 120 });
  }, 60_000);
});

describe('export to S3', () => {
  async function objects(prefix: string): Promise<Map<string, string>> {
    const out = await s3.client.send(new ListObjectsV2Command({ Bucket: 'exports', Prefix: prefix }));
    return new Map((out.Contents ?? []).map((o) => [o.Key!, o.ETag!]));
  }

  async function download(prefix: string, into: string): Promise<void> {
    for (const key of (await objects(prefix)).keys()) {
      const body = await (await s3.client.send(new GetObjectCommand({ Bucket: 'exports', Key: key }))).Body!.transformToByteArray();
      const path = join(into, key);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, body);
    }
  }

  it('uploads the partitions, replaces a re-exported day without duplicates, through the CLI', async () => {
    const { db, trail } = await makeDb('s3');
    const env = s3.env;
    const first = await runCli(['export', '--db', db, '--to', 's3://exports/org/keytrail', '--endpoint-url', s3.endpoint, '--json'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ destination: 's3://exports/org/keytrail/', days_written: DAYS, files_written: 3 });
    const before = await objects('org/keytrail/');
    expect([...before.keys()]).toEqual(DAYS.map((d) => `org/keytrail/kms_events/event_date=${d}/data.parquet`));

    writeTrail(trail, records('2024-05-03', 7, 'late'));
    await ingestFolder(trail, db);
    const second = await runCli(['export', '--db', db, '--to', 's3://exports/org/keytrail', '--endpoint-url', s3.endpoint], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/wrote 1 day \(2024-05-03\), 54 events.*; 2 unchanged/);
    const after = await objects('org/keytrail/');
    expect([...after.keys()]).toEqual([...before.keys()]);
    expect(after.get('org/keytrail/kms_events/event_date=2024-05-01/data.parquet')).toBe(before.get('org/keytrail/kms_events/event_date=2024-05-01/data.parquet'));
    expect(after.get('org/keytrail/kms_events/event_date=2024-05-03/data.parquet')).not.toBe(before.get('org/keytrail/kms_events/event_date=2024-05-03/data.parquet'));

    const local = join(dir, 's3-download');
    await download('org/keytrail/', local);
    expect((await readExport(`${local}/org/keytrail/kms_events/*/*.parquet`))[0]).toEqual({ n: 134, ids: 134 });
    expect((await readExport(`${local}/org/keytrail/kms_events/event_date=2024-05-03/*.parquet`))[0]).toEqual({ n: 54, ids: 54 });

    const unchanged = await runCli(['export', '--db', db, '--to', 's3://exports/org/keytrail', '--endpoint-url', s3.endpoint], env);
    expect(unchanged.stdout).toMatch(/up to date \(3 days unchanged\)/);
    const bad = await runCli(['export', '--db', db], env);
    expect(bad.code).toBe(2);
  }, 120_000);

  it('sends a large day as a multipart upload that arrives byte for byte', async () => {
    const db = join(dir, 'large.duckdb');
    await withStore(db, async (store) => {
      // ~70k events with incompressible text: a Parquet file of several 5 MiB parts.
      await store.run(`
        INSERT INTO kms_events (event_key, event_id, record_hash, event_time, event_name, account_id, identity_arn, source_ip, user_agent, request_parameters, source_object)
        SELECT md5_number('e' || i || '|' || md5('h' || i)), 'e' || i, md5('h' || i), TIMESTAMP '2024-06-01 00:00:00' + to_seconds(i % 86400), 'Decrypt', '111111111111',
               'arn:aws:iam::111111111111:role/r' || (i % 50), '10.0.' || (i % 250) || '.' || (i % 200), md5('ua' || i) || md5('x' || i),
               json_object('encryptionContext', json_object('k', md5('c' || i))), 's3://trail/' || md5('o' || i)
        FROM range(70000) r(i)`);
    });
    process.env.AWS_ACCESS_KEY_ID ??= s3.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY ??= s3.env.AWS_SECRET_ACCESS_KEY;
    const parts = new Set<number>();
    const target = await openTarget('s3://exports/large', {
      endpointUrl: s3.endpoint, partSize: 5 * 1024 * 1024, onProgress: (_key, _loaded, part) => part !== undefined && parts.add(part),
    });
    const staged: string[] = [];
    const spy: ExportTarget = {
      name: target.name, stagingRoot: target.stagingRoot, list: () => target.list(), remove: (k) => target.remove(k), close: () => target.close(),
      put: async (file, key) => {
        staged.push(createHash('md5').update(readFileSync(file)).digest('hex'));
        await target.put(file, key);
      },
    };
    const summary = await exportTo(db, spy);
    target.close();
    expect(summary.bytes_written).toBeGreaterThan(5 * 1024 * 1024);
    const key = 'large/kms_events/event_date=2024-06-01/data.parquet';
    const got = await s3.client.send(new GetObjectCommand({ Bucket: 'exports', Key: key }));
    const body = await got.Body!.transformToByteArray();
    expect([...parts].sort()).toEqual([1, 2]); // two parts of 5 MiB at most
    expect(createHash('md5').update(body).digest('hex')).toBe(staged[0]);
    const local = join(dir, 'large-download');
    await download('large/', local);
    expect((await readExport(`${local}/large/kms_events/*/*.parquet`))[0]).toEqual({ n: 70000, ids: 70000 });
  }, 120_000);
});
