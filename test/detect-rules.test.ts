// Detection rule files: the header format, parameter checks, and that every shipped rule keeps the
// contract (its header, the common columns, bound parameters only).

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBEngine } from '../src/engine.js';
import { FINDING_COLUMNS, RuleError, SEVERITY_COLUMN, loadRules, parseRule, referencedParams, stripComments } from '../src/detect/rules.js';
import { DetectionError, ParamError, bindings, isoTime, parseParamOverrides, runRule } from '../src/detect/run.js';
import { Store } from '../src/store/db.js';
import { openStore } from '../src/store/schema.js';
import { tempDir } from './helpers/log-objects.js';

const header = (extra = '', sql = 'SELECT 1 AS x WHERE $factor > 0') => `-- id: demo_rule
-- title: A demo
-- severity: medium
-- description: First line
--   and its continuation.
-- attack: T1530, T1555.006
-- params: factor=10, pattern=Access|Denied
${extra}${sql}
`;
const parse = (text: string) => parseRule(text, '/rules/demo_rule.sql');

describe('rule header', () => {
  it('reads every field, continuation lines and typed defaults', () => {
    const rule = parse(header('-- dialect: none\n', "SELECT 1 WHERE $factor > 0 AND regexp_matches('x', $pattern)"));
    expect(rule).toMatchObject({
      id: 'demo_rule', title: 'A demo', severity: 'medium', description: 'First line and its continuation.', attack: ['T1530', 'T1555.006'],
      params: [{ name: 'factor', default: 10 }, { name: 'pattern', default: 'Access|Denied' }], analyze: null, dialect: 'none',
    });
    expect(rule.sql).not.toContain('--');
  });

  it.each([
    [header().replace('-- id: demo_rule\n', ''), /no '-- id:' line/],
    [header().replace('demo_rule', 'other_rule'), /does not match the file name/],
    [header().replace('severity: medium', 'severity: critical'), /severity 'critical' is not one of low, medium, high/],
    [header().replace('-- title: A demo\n', ''), /no '-- title:' line/],
    [header().replace('-- attack: T1530, T1555.006\n', ''), /no '-- attack:' line/],
    [header().replace('T1555.006', 'credential access'), /attack: 'credential access' is not a MITRE ATT&CK technique id/],
    [header().replace('-- params:', '-- parms:'), /unknown header field 'parms'/],
    [header('-- analyze: magic\n'), /analyze 'magic' is not one of key_policy, grant/],
    [header('', 'SELECT $factor, $other'), /uses \$other, which is neither in '-- params:'/],
    [header('', 'SELECT 1'), /parameter 'factor' is declared but the SQL never uses \$factor/],
    [header().replace('factor=10', 'since=10'), /'since' is bound by the runner/],
    [header().replace('factor=10', 'factor'), /'factor' is not name=default/],
    [header().replace(/SELECT[^\n]*\n/, ''), /no SQL after the header/],
  ])('rejects a broken file (%#)', (text, why) => {
    expect(() => parse(text)).toThrow(RuleError);
    expect(() => parse(text)).toThrow(why);
  });

  it('ignores parameters in comments and string literals', () => {
    const sql = "SELECT '$.policy' AS a, \"$x\" -- $nope\n/* $neither */ FROM t WHERE y = $yes";
    expect([...referencedParams(stripComments(sql))]).toEqual(['yes']);
    expect(stripComments("SELECT 'a -- b' -- c\nFROM t")).toBe("SELECT 'a -- b'\nFROM t");
  });
});

describe('--param overrides', () => {
  const rules = [parse(header('', "SELECT 1 WHERE $factor > 0 AND regexp_matches('x', $pattern)"))];
  it('types values by the default and binds them with the built-ins', () => {
    const params = parseParamOverrides(['demo_rule.factor=3.5', 'demo_rule.pattern=Denied'], rules);
    expect(params).toEqual({ demo_rule: { factor: 3.5, pattern: 'Denied' } });
    expect(bindings(rules[0], { since: '2024-05-01 00:00:00', trust: { trustedAccounts: ['1', '2'], trustedOrgIds: [] }, params }))
      .toEqual({ factor: 3.5, pattern: 'Denied', since: '2024-05-01 00:00:00', trusted_accounts: '1,2' });
  });
  it.each([
    ['demo_rule.factor', /is not RULE.NAME=VALUE/],
    ['nope.factor=1', /no rule 'nope'/],
    ['demo_rule.nope=1', /has no parameter 'nope' \(its parameters: factor, pattern\)/],
    ['demo_rule.factor=ten', /takes a number/],
  ])('rejects %s', (spec, why) => {
    expect(() => parseParamOverrides([spec], rules)).toThrow(ParamError);
    expect(() => parseParamOverrides([spec], rules)).toThrow(why);
  });
});

describe('the shipped rules', () => {
  const rules = loadRules();
  let dir: string;
  let cleanup: () => void;
  let store: Store;
  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    (await openStore(join(dir, 'empty.duckdb'))).close();
    store = await openStore(join(dir, 'empty.duckdb'), { readOnly: true });
  });
  afterAll(() => {
    store.close();
    cleanup();
  });

  it('cover the detections of the issue, one file each', () => {
    expect(rules.map((r) => r.id)).toEqual([
      'access_denied_burst', 'alias_changed', 'bulk_encryption', 'cross_account_use', 'data_harvest', 'disabled_key_use',
      'expired_key_material', 'external_key_use', 'grant_exposure', 'key_loss', 'key_policy_change', 'key_policy_exposure',
      'key_region_change', 'key_store_changed', 'key_store_loss', 'key_weakened', 'new_source_ip', 'pending_deletion_key_use',
      'policy_lockout_bypass', 'ransom_key_setup', 'root_use', 'secret_first_access', 'secret_harvest', 'trail_blinded',
      'trail_changed', 'trail_deleted', 'trail_logging_stopped', 'trail_selectors_weakened', 'volume_spike', 'xks_outage',
    ]);
    // Every rule names the ATT&CK techniques it watches for.
    for (const rule of rules) expect(rule.attack.length).toBeGreaterThan(0);
    expect(rules.find((r) => r.id === 'secret_harvest')?.attack).toEqual(['T1555.006', 'T1552']);
    expect(rules.find((r) => r.id === 'key_policy_exposure')?.analyze).toBe('key_policy');
    expect(rules.find((r) => r.id === 'grant_exposure')?.analyze).toBe('grant');
  });

  it.each(rules.map((r) => [r.id, r]))('%s returns exactly the common columns and takes $since and $trusted_accounts', async (_id, rule) => {
    const trust = { trustedAccounts: ['111111111111'], trustedOrgIds: [] };
    for (const since of [null, '2024-05-01 00:00:00']) {
      const params = Object.fromEntries(Object.entries(bindings(rule, { since, trust })).filter(([name]) => referencedParams(rule.sql).has(name)));
      const reader = await store.connection.runAndReadAll(rule.sql, params);
      // The common columns, and a finding's own severity where the rule's incidents range in weight.
      expect([[...FINDING_COLUMNS], [...FINDING_COLUMNS, SEVERITY_COLUMN]]).toContainEqual(reader.columnNames());
    }
    // The same through the engine interface the CLI uses.
    await expect(runRule(new DuckDBEngine(store), rule, { since: null, trust })).resolves.toEqual([]);
  });

  it('a rule that fails, or returns other columns, is named in the error', async () => {
    const trust = { trustedAccounts: [], trustedOrgIds: [] };
    const engine = new DuckDBEngine(store);
    const broken = parse(header('', "SELECT * FROM no_such_table WHERE $factor > 0 AND $pattern <> ''"));
    await expect(runRule(engine, broken, { since: null, trust })).rejects.toThrow(DetectionError);
    await expect(runRule(engine, broken, { since: null, trust })).rejects.toThrow(/^detection demo_rule: .*no_such_table/s);
    const wrong = parse(header('', "SELECT 1 AS identity_arn WHERE $factor > 0 AND $pattern <> ''"));
    await expect(runRule(engine, wrong, { since: null, trust })).rejects.toThrow(/detection demo_rule: returns the columns identity_arn; a detection returns exactly identity_arn, source_ip/);
  });

  it('a severity column lowers a finding below the header, never above it, and only to a known severity', async () => {
    const trust = { trustedAccounts: [], trustedOrgIds: [] };
    const engine = new DuckDBEngine(store);
    const rule = (severity: string) => parse(header('', `SELECT 'a' AS identity_arn, NULL AS source_ip, NULL AS key_arn, NULL AS account_id, NULL AS first_seen,
      NULL AS last_seen, 1 AS event_count, 'd' AS detail, ${severity} AS severity WHERE $factor > 0 AND $pattern <> ''`));
    expect((await runRule(engine, rule("'low'"), { since: null, trust })).map((f) => f.severity)).toEqual(['low']);
    expect((await runRule(engine, rule('NULL'), { since: null, trust })).map((f) => f.severity)).toEqual(['medium']); // the header's
    await expect(runRule(engine, rule("'high'"), { since: null, trust })).rejects.toThrow(/detection demo_rule: reports a high finding, above the rule's header severity medium/);
    await expect(runRule(engine, rule("'critical'"), { since: null, trust })).rejects.toThrow(/detection demo_rule: returns severity 'critical', not one of low, medium, high/);
  });

  it('never splice values into SQL: every value is a $parameter', () => {
    for (const rule of rules) expect(rule.sql).not.toMatch(/'\d{12}'|\$\{/);
  });
});

it('isoTime turns engine times into ISO UTC', () => {
  expect(isoTime('2024-05-01 10:00:00')).toBe('2024-05-01T10:00:00Z');
  expect(isoTime('2024-05-01 10:00:00.123456')).toBe('2024-05-01T10:00:00Z');
  expect(isoTime(null)).toBeNull();
});
