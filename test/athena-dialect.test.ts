// One SQL source for both engines: every detection and report query runs on DuckDB as written, and
// its Athena form (src/athena/dialect.ts) parses with a Trino grammar (dt-sql-parser). Plus the
// rewrites one by one, the refusals, parameter binding, and the DDL keytrail athena ddl prints.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  catalogueViewDdl, cloudTrailTableDdl, parquetTableDdl, rawKmsEventsViewDdl, statements,
} from '../src/athena/ddl.js';
import { DialectError, toTrino, trinoLiteral } from '../src/athena/dialect.js';
import { loadRules } from '../src/detect/rules.js';
import { bindings } from '../src/detect/run.js';
import { DuckDBEngine } from '../src/engine.js';
import { loadSections } from '../src/report/sections.js';
import { Store } from '../src/store/db.js';
import { openStore } from '../src/store/schema.js';
import { TRINO_MACROS, toDuckDB } from './helpers/athena-server.js';
import { hive, trino } from './helpers/sql-grammars.js';
import { tempDir } from './helpers/log-objects.js';

const { dir, cleanup } = tempDir('keytrail-dialect-');
const DB = join(dir, 'empty.duckdb');

const trust = { trustedAccounts: ['111111111111', '222222222222'], trustedOrgIds: [] };
const RULE_CASES = [{ since: null }, { since: '2024-05-10 00:00:00' }];
const SECTION_CASES = [
  { since: null, until: null, account: null, top: 8 },
  { since: '2024-05-01 00:00:00', until: '2024-05-08 00:00:00', account: '111111111111', top: 3 },
];

/** The empty database, with the local Athena endpoint's helpers for the round trip: read-only, one for all. */
let engine: DuckDBEngine;

beforeAll(async () => {
  (await openStore(DB)).close(); // the schema, no rows: enough to bind and run every query
  engine = await DuckDBEngine.open(DB);
  for (const m of TRINO_MACROS) await engine.store.run(m);
});

/** Runs what Athena would receive, mapped back to DuckDB, with Trino's integer division. */
async function roundTrip(q: { sql: string; parameters: string[] }) {
  await engine.store.run('SET integer_division = true');
  try {
    return await engine.query(toDuckDB(q.sql, q.parameters));
  } finally {
    await engine.store.run('SET integer_division = false');
  }
}
afterAll(async () => {
  await engine?.close();
  cleanup();
});

describe('every detection and report query', () => {
  const rules = loadRules();
  const sections = [...loadSections().values()];

  it.each(rules.map((r) => [r.id, r] as const))('detection %s runs on DuckDB and its Athena form parses as Trino', async (_id, rule) => {
    for (const c of RULE_CASES) {
      const params = bindings(rule, { since: c.since, trust });
      await engine.query(rule.sql, params);
      const q = toTrino(rule.sql, params, { database: 'keytrail' });
      expect(await trino.validate(q.sql)).toEqual([]);
      expect(q.sql).not.toMatch(/\$[a-z]/); // every parameter bound
      expect(q.parameters.length).toBe((q.sql.match(/\?/g) ?? []).length);
      // What Athena receives, mapped back, still runs on DuckDB (the local endpoint's path).
      await roundTrip(q);
    }
  });

  it.each(sections.map((s) => [s.id, s] as const))('report section %s runs on DuckDB and its Athena form parses as Trino', async (_id, section) => {
    for (const params of SECTION_CASES) {
      await engine.query(section.sql, params);
      const q = toTrino(section.sql, params, { database: 'keytrail' });
      expect(await trino.validate(q.sql)).toEqual([]);
      await roundTrip(q);
    }
  });
});

describe('the rewrites keep DuckDB’s meaning', () => {
  // Each case: DuckDB SQL, and the values it must give on DuckDB directly and after the round trip
  // DuckDB -> Trino -> (the local endpoint's reverse mapping) -> DuckDB, with Trino's integer division.
  const cases: Array<[string, string]> = [
    ['median, even and odd counts, NULLs skipped', 'SELECT median(x) AS m, median(x) FILTER (WHERE x < 4) AS f FROM (VALUES (1), (2), (NULL), (4), (10)) t(x)'],
    ['string_agg DISTINCT ORDER BY, all-NULL group', "SELECT g, string_agg(DISTINCT x, ', ' ORDER BY x) AS s, string_agg(x, '|' ORDER BY x DESC) AS d FROM (VALUES (1, 'b'), (1, 'a'), (1, 'b'), (2, NULL)) t(g, x) GROUP BY g ORDER BY g"],
    ['date_diff counts boundaries', "SELECT date_diff('day', TIMESTAMP '2024-05-01 23:00:00', TIMESTAMP '2024-05-08 01:00:00') AS d, date_diff('hour', TIMESTAMP '2024-05-01 10:59:00', TIMESTAMP '2024-05-01 11:01:00') AS h"],
    ['regexp_extract without a match', "SELECT regexp_extract('abc', 'x(y)', 1) AS none, regexp_extract(NULL, 'x', 0) AS null_in, regexp_matches('abc', 'b') AS m"],
    ['json_extract_string of text, number, object, null, missing', `SELECT json_extract_string(j, '$.a') AS a, json_extract_string(j, '$.n') AS n, json_extract_string(j, '$.o') AS o, json_extract_string(j, '$.z') AS z, json_extract_string(j, '$.missing') AS m FROM (SELECT '{"a":"x","n":7,"o":{"k":[1,2]},"z":null}' AS j)`],
    ['json_extract_string of keys with colons and dashes (encryption context keys)', `SELECT json_extract_string(j, '$.aws:s3:arn') AS s, json_extract_string(j, '$.aws:rds:db-id') AS r, json_extract_string(j, '$.SecretARN') AS a FROM (SELECT '{"aws:s3:arn":"arn:aws:s3:::b/k","aws:rds:db-id":"db-1","SecretARN":"x"}' AS j)`],
    ['CAST to VARCHAR of numbers, dates and NULL', "SELECT CAST(round(2.25::DOUBLE, 1) AS VARCHAR) AS r, CAST(10.0::DOUBLE AS VARCHAR) AS t, CAST(42 AS VARCHAR) AS i, CAST(DATE '2024-05-01' AS VARCHAR) AS d, CAST(NULL AS VARCHAR) AS n"],
    ['max_by skips NULL values as DuckDB does', "SELECT max_by(x, y) AS mx, min_by(x, y) AS mn, arg_max(x, y) AS am FROM (VALUES ('a', 1), (NULL, 3), ('c', 2)) t(x, y)"],
    ['intervals and timestamp literals', "SELECT TIMESTAMP '2024-05-01T10:00:00Z' + INTERVAL 2 DAY AS a, TIMESTAMP '2024-05-01 10:00:00' - INTERVAL '3 hours' AS b, TIMESTAMP '2024-05-01' + to_days(1) AS c"],
    [':: casts and list literals', "SELECT '5'::INTEGER + 1 AS n, list_contains(['a', 'b'], 'b') AS c, array_length([1, 2, 3]) AS l, any_value(1) AS v"],
    ['exact division stays exact', 'SELECT CAST(7 AS DOUBLE) / 2 AS d, 7 / 2.0 AS e'],
  ];

  it.each(cases)('%s', async (_name, sql) => {
    const expected = await engine.query(sql);
    const q = toTrino(sql);
    expect(await trino.validate(q.sql)).toEqual([]);
    expect(await roundTrip(q)).toEqual(expected);
  });

  it('writes the Trino forms documented in dialect.ts', () => {
    const t = (sql: string) => toTrino(sql).sql;
    expect(t("SELECT regexp_matches(a, 'x') FROM t")).toBe("SELECT regexp_like(a, 'x') FROM t");
    expect(t("SELECT string_agg(DISTINCT a, ', ' ORDER BY a) FROM t")).toBe("SELECT array_join(array_sort(array_agg(DISTINCT a) FILTER (WHERE a IS NOT NULL)), ', ') FROM t");
    expect(t("SELECT date_diff('day', a, b) FROM t")).toBe("SELECT date_diff('day', date_trunc('day', a), date_trunc('day', b)) FROM t");
    expect(t('SELECT CAST(n AS VARCHAR) FROM t')).toBe("SELECT IF((n) IS NULL, NULL, format('%s', n)) FROM t");
    expect(t("SELECT x::JSON, TIMESTAMP '2024-05-01T00:00:00Z', INTERVAL 30 DAYS FROM t")).toBe("SELECT json_parse(x), TIMESTAMP '2024-05-01 00:00:00', INTERVAL '30' DAY FROM t");
    expect(t("SELECT strftime(event_time, '%Y-%m-%d %H:%M:%S') FROM t")).toBe("SELECT date_format(event_time, '%Y-%m-%d %H:%i:%s') FROM t");
    expect(t('SELECT [1, 2], l[1] FROM t')).toBe('SELECT ARRAY[1, 2], l[1] FROM t');
    expect(t("SELECT json_extract_string(c, '$.aws:rds:db-id') FROM t")).toBe(`SELECT coalesce(json_extract_scalar(c, '$["aws:rds:db-id"]'), nullif(json_format(json_extract(c, '$["aws:rds:db-id"]')), 'null')) FROM t`);
    expect(toTrino('SELECT 1 FROM information_schema.tables WHERE table_name = $n', { n: 'x' }, { database: 'kt' }).sql)
      .toBe("SELECT 1 FROM (SELECT * FROM information_schema.tables WHERE table_schema = 'kt') AS tables WHERE table_name = ?");
  });

  it('refuses what it cannot translate faithfully, naming what to write instead', () => {
    const refused: Array<[string, RegExp]> = [
      ['SELECT a, count(*) FROM t GROUP BY ALL', /BY ALL/],
      ['SELECT a FROM t QUALIFY row_number() OVER () = 1', /QUALIFY/],
      ['SELECT * EXCLUDE (a) FROM t', /EXCLUDE/],
      ['SELECT greatest(a, b) FROM t', /NULL/],
      ["SELECT concat(a, 'x') FROM t", /NULL/],
      ["SELECT format('{}', a) FROM t", /printf/],
      ["SELECT a FROM t WHERE a ILIKE 'x'", /ILIKE/],
      ['SELECT a // 2 FROM t', /integer division/],
      ["SELECT regexp_replace(a, 'x', 'y') FROM t", /'g'/],
      ["SELECT j->>'a' FROM t", /json_extract_string/],
      ['SELECT l[1:2] FROM t', /slice/],
      ['SELECT median(x) OVER () FROM t', /window/],
      ['SELECT a FROM t WHERE b = ?', /name parameters/],
      ['SELECT a FROM t WHERE b = $missing', /\$missing has no value/],
      ['SELECT 1; SELECT 2', /one statement/],
    ];
    for (const [sql, why] of refused) expect(() => toTrino(sql), sql).toThrow(why);
    expect(() => toTrino('SELECT 1')).not.toThrow(DialectError);
  });
});

describe('parameters', () => {
  it('go as ExecutionParameters in WHERE and as literals elsewhere, in order, typed', () => {
    const q = toTrino(
      "SELECT lead(x, $n - 1) OVER (ORDER BY t) AS l, $label AS label FROM t JOIN u ON u.k = $k WHERE a = $s AND b > $n AND c IS DISTINCT FROM $none AND d = $flag AND e = $neg GROUP BY 1 HAVING count(*) > $n",
      { n: 5, label: "it's", k: 'key', s: "o'brien", none: null, flag: true, neg: -2.5 },
    );
    expect(q.sql).toBe(
      "SELECT lead(x, 5 - 1) OVER (ORDER BY t) AS l, 'it''s' AS label FROM t JOIN u ON u.k = 'key' WHERE a = ? AND b > ? AND c IS DISTINCT FROM NULL AND d = true AND e = ? GROUP BY 1 HAVING count(*) > 5",
    );
    expect(q.parameters).toEqual(["'o''brien'", '5', '-2.5']);
  });

  it('are literals that cannot break out of their quotes', async () => {
    expect(trinoLiteral("x' OR '1'='1")).toBe("'x'' OR ''1''=''1'");
    expect(trinoLiteral('a\\')).toBe("'a\\'");
    expect(trinoLiteral(1e21)).toBe('1E+21');
    expect(() => trinoLiteral(Number.NaN)).toThrow();
    const q = toTrino('SELECT 1 FROM t WHERE a = $v', { v: "'; DROP TABLE t; --" });
    expect(await trino.validate(`${q.sql.replace('?', q.parameters[0])}`)).toEqual([]);
  });
});

describe('keytrail athena ddl', () => {
  it('prints DDL that Athena’s grammars accept: Hive for tables, Trino for views', async () => {
    const tables = [
      parquetTableDdl({ location: 's3://audit-lake/keytrail', since: '2024-01-01' }),
      parquetTableDdl({ location: 's3://audit-lake/keytrail/', since: 'NOW-3YEARS', accounts: ['111111111111', 'unknown'] }),
      cloudTrailTableDdl({ trail: 's3://org-trail/logs', orgId: 'o-abcdef1234', accounts: ['111111111111'], regions: ['us-east-1', 'eu-west-1'], since: '2024-05-01' }),
    ];
    for (const s of statements(tables)) expect(await hive.validate(s)).toEqual([]);
    for (const s of statements([rawKmsEventsViewDdl({}), catalogueViewDdl()])) expect(await trino.validate(s)).toEqual([]);
    expect(tables[0]).toContain("'storage.location.template' = 's3://audit-lake/keytrail/kms_events/event_date=${event_date}/'");
    expect(tables[1]).toContain("'projection.account.values' = '111111111111,unknown'");
    expect(tables[1]).toContain('event_date=${event_date}/account=${account}/');
    expect(tables[2]).toContain("LOCATION 's3://org-trail/logs/AWSLogs/o-abcdef1234/'");
    expect(tables[2]).toContain("'projection.timestamp.range' = '2024/05/01,NOW'");
  });

  it('declares the columns the export writes, in order', async () => {
    const store = await Store.open(DB, { readOnly: true });
    const columns = await store.all<{ column_name: string; column_type: string }>('DESCRIBE kms_events');
    store.close();
    const ddl = parquetTableDdl({ location: 's3://bkt/p', since: '2024-01-01' });
    const declared = [...ddl.matchAll(/^\s{4}(\w+)\s+(string|timestamp|boolean)\b/gm)].map((m) => [m[1], m[2]]);
    const hiveType = (t: string) => (t === 'TIMESTAMP' ? 'timestamp' : t === 'BOOLEAN' ? 'boolean' : 'string');
    // event_key, the local table's key, stays local (the export leaves it out).
    expect(declared).toEqual(columns.filter((c) => c.column_name !== 'event_key').map((c) => [c.column_name, hiveType(c.column_type)]));
  });

  it('rejects values that would break the DDL', () => {
    expect(() => parquetTableDdl({ location: "s3://bkt/p' OR x", since: '2024-01-01' })).toThrow(/s3:/);
    expect(() => parquetTableDdl({ location: 's3://bkt/p', since: "2024'" })).toThrow(/since/);
    expect(() => cloudTrailTableDdl({ trail: 's3://bkt', accounts: ['1234'], regions: ['us-east-1'], since: '2024-01-01' })).toThrow(/accounts/);
  });
});
