// What every command writes: one CSV writer with the formula guard for query,
// keys and report; query as an Arrow IPC stream and as Parquet; report's findings judged with the
// same zone of trust as detect's (--trusted-accounts, --config).

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainRows } from '../src/store/db.js';
import { CLI, runCli } from './helpers/cli.js';
import { at, identity, keyArn, kmsEvent, loadTrail, type LoadedTrail } from './helpers/trail.js';

const A = '111111111111';
const X = '999999999999';
const key = keyArn(A, '1234abcd-12ab-34cd-56ef-1234567890ab');
const HOSTILE = '=HYPERLINK("http://evil.example/","click")';
// A crafted log: the caller's ARN is a spreadsheet formula.
const mallory = { ...identity.user(A, 'mallory'), arn: HOSTILE };

let trail: LoadedTrail;
let out: string;
beforeAll(async () => {
  trail = await loadTrail([
    kmsEvent({ eventName: 'Decrypt', time: at(0), identity: identity.user(A, 'alice'), key }),
    kmsEvent({ eventName: 'PutKeyPolicy', time: at(1), identity: mallory, key }),
    kmsEvent({ eventName: 'Decrypt', time: at(2, 3), identity: identity.role(X, 'PartnerRole'), key, sourceIp: '192.0.2.50' }),
  ]);
  out = join(trail.trail, '..');
}, 60_000);
afterAll(() => trail?.cleanup());

const cli = (...args: string[]) => runCli([...args, '--db', trail.db]);
const GUARDED = `"'=HYPERLINK(""http://evil.example/"",""click"")"`;

describe('CSV from query, keys and report', () => {
  it('puts an apostrophe before a cell that would run as a formula, in every command', async () => {
    const query = await cli('query', `SELECT identity_arn, -5 AS n, '-5' AS t, '-1+2' AS f FROM kms_events WHERE event_name = 'PutKeyPolicy'`, '--format', 'csv');
    expect(query.code).toBe(0);
    expect(query.stdout).toBe(`identity_arn,n,t,f\n${GUARDED},-5,-5,'-1+2\n`);

    const keys = await cli('keys', '--format', 'csv');
    expect(keys.code).toBe(0);
    const [header, row] = keys.stdout.trim().split('\n');
    expect(header.split(',')).toContain('last_policy_changed_by');
    expect(row).toContain(`,${GUARDED},`);

    const report = await cli('report', '--format', 'csv', '--section', 'principals');
    expect(report.code).toBe(0);
    expect(report.stdout).toContain(`\r\n${GUARDED},`);
    expect(report.stdout).not.toMatch(/(^|[\n,])=HYPERLINK/);
  });

  it('leaves ordinary cells alone (the benign look-alike: ARNs, negative numbers, text with commas)', async () => {
    const r = await cli('query', `SELECT identity_arn, 'a,b' AS c, -2.5 AS d FROM kms_events WHERE event_name = 'Decrypt' ORDER BY event_time LIMIT 1`, '--format', 'csv');
    expect(r.stdout).toBe(`identity_arn,c,d\narn:aws:iam::${A}:user/alice,"a,b",-2.5\n`);
  });
});

describe('query --format arrow and parquet', () => {
  const SQL = `SELECT event_time, event_name, count(*) OVER () AS n, read_only, DATE '2024-05-01' AS d, encryption_context, 0.25::DOUBLE AS x
               FROM kms_events ORDER BY event_time`;

  it('writes an Arrow IPC stream with the columns typed as DuckDB types them', async () => {
    const file = join(out, 'q.arrow');
    const r = await cli('query', SQL, '--format', 'arrow', '--out', file);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const table = tableFromIPC(readFileSync(file));
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'event_time:Timestamp<MICROSECOND>', 'event_name:Utf8', 'n:Int64', 'read_only:Bool', 'd:Date32<DAY>', 'encryption_context:Utf8', 'x:Float64',
    ]);
    const rows = table.toArray().map((row) => row.toJSON());
    expect(rows).toHaveLength(3);
    expect(rows.map((row) => [new Date(row.event_time as number).toISOString(), row.event_name, row.n, row.read_only])).toEqual([
      ['2024-05-01T10:00:00.000Z', 'Decrypt', 3n, true],
      ['2024-05-02T10:00:00.000Z', 'PutKeyPolicy', 3n, false],
      ['2024-05-03T03:00:00.000Z', 'Decrypt', 3n, true],
    ]);
    expect(new Date(rows[0].d as number).toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(rows[0].x).toBe(0.25);

    // The same stream on stdout.
    const piped = spawnSync(process.execPath, [CLI, 'query', SQL, '--format', 'arrow', '--db', trail.db]);
    expect(piped.status).toBe(0);
    expect(Buffer.compare(piped.stdout, readFileSync(file))).toBe(0);
  });

  it('writes Parquet that DuckDB reads back with the same rows and types', async () => {
    const file = join(out, 'q.parquet');
    const r = await cli('query', SQL, '--format', 'parquet', '--out', file);
    expect(r.code).toBe(0);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const back = await connection.runAndReadAll(`SELECT * FROM read_parquet($1)`, [file]);
      expect(back.columnTypes().map(String)).toEqual(['TIMESTAMP', 'VARCHAR', 'BIGINT', 'BOOLEAN', 'DATE', 'VARCHAR', 'DOUBLE']);
      const json = JSON.parse((await cli('query', SQL, '--format', 'json')).stdout) as unknown[];
      expect(plainRows(back).map((row) => ({ ...row, encryption_context: row.encryption_context === null ? null : JSON.parse(String(row.encryption_context)) }))).toEqual(json);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it('says what is missing or does not fit', async () => {
    const noOut = await cli('query', 'SELECT 1', '--format', 'parquet');
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('--format parquet needs --out FILE');
    const huge = await cli('query', 'SELECT 170141183460469231731687303715884105727::HUGEINT AS big', '--format', 'arrow', '--out', join(out, 'big.arrow'));
    expect(huge.code).toBe(2);
    expect(huge.stderr).toContain("column big: 170141183460469231731687303715884105727 does not fit Arrow's Int64");
    const bad = await cli('query', 'SELEC 1', '--format', 'parquet', '--out', join(out, 'bad.parquet'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('the query failed');
  });
});

describe('report --trusted-accounts and --config', () => {
  const reportFindings = async (...args: string[]) =>
    (JSON.parse((await cli('report', '--format', 'json', ...args)).stdout) as { findings: { items: Array<{ rule: string }> } }).findings.items.map((f) => f.rule);
  const detectFindings = async (...args: string[]) => (JSON.parse((await cli('detect', '--format', 'json', ...args)).stdout) as Array<{ rule: string }>).map((f) => f.rule);

  it('judges findings as detect does with the same options', async () => {
    // By default the partner account is outside the zone of trust: its use of the key is a finding.
    const byDefault = await reportFindings();
    expect(byDefault).toContain('cross_account_use');
    expect(byDefault).toEqual(await detectFindings());

    const trusting = await reportFindings('--trusted-accounts', `${A},${X}`);
    expect(trusting).not.toContain('cross_account_use');
    expect(trusting).toEqual(await detectFindings('--trusted-accounts', `${A},${X}`));

    const config = join(out, 'trust.json');
    writeFileSync(config, JSON.stringify({ trustedAccounts: [A, X] }));
    expect(await reportFindings('--config', config)).toEqual(trusting);
  });

  it('rejects bad trust options as usage errors', async () => {
    const bad = await cli('report', '--trusted-accounts', '12345');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'12345' is not a 12-digit AWS account id");
    const conflict = await cli('report', '--no-findings', '--trusted-accounts', A);
    expect(conflict.code).toBe(2);
  });
});

describe('the readers’ DuckDB settings', () => {
  it('KEYTRAIL_THREADS and KEYTRAIL_MEMORY_LIMIT set them; a bad thread count is named', async () => {
    const settings = `SELECT current_setting('threads') AS threads, current_setting('memory_limit') AS memory`;
    const set = await runCli(['query', settings, '--db', trail.db, '--format', 'json'], { KEYTRAIL_THREADS: '3', KEYTRAIL_MEMORY_LIMIT: '300MB' });
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual([{ threads: 3, memory: '286.1 MiB' }]);
    const bad = await runCli(['query', 'SELECT 1', '--db', trail.db], { KEYTRAIL_THREADS: 'two' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("KEYTRAIL_THREADS: 'two' is not a positive whole number");
  });
});
