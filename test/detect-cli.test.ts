// keytrail detect and keytrail keys: output formats, exit codes, options.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSince } from '../src/cli/detect.js';
import { loadRules } from '../src/detect/rules.js';
import { runCli } from './helpers/cli.js';
import { secretDecrypt } from './helpers/service-decrypts.js';
import { at, identity, keyArn, kmsEvent, loadTrail, type LoadedTrail } from './helpers/trail.js';

const A = '111111111111';
const X = '999999999999';
const key = keyArn(A, '1234abcd-12ab-34cd-56ef-1234567890ab');

let trail: LoadedTrail;
beforeAll(async () => {
  trail = await loadTrail([
    kmsEvent({ eventName: 'Decrypt', time: at(0), identity: identity.user(A, 'alice'), key }),
    kmsEvent({ eventName: 'DisableKey', time: at(1, 9), identity: identity.user(A, 'alice'), key }),
    kmsEvent({ eventName: 'Decrypt', time: at(2, 3), identity: identity.role(X, 'PartnerRole'), key, sourceIp: '192.0.2.50' }),
    kmsEvent({ eventName: 'DescribeKey', time: at(3, 15), identity: identity.root(A), key, sourceIp: '203.0.113.99' }),
  ]);
}, 60_000);
afterAll(() => trail?.cleanup());

const detect = (...args: string[]) => runCli(['detect', '--db', trail.db, ...args]);
const FIELDS = ['rule', 'severity', 'title', 'identity_arn', 'source_ip', 'key_arn', 'account_id', 'first_seen', 'last_seen', 'event_count', 'detail', 'attack'];

describe('keytrail detect', () => {
  it('prints findings as a JSON array in the contract of DESIGN.md, worst first', async () => {
    const { code, stdout, stderr } = await detect('--format', 'json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const findings = JSON.parse(stdout) as Array<Record<string, unknown>>;
    expect(findings.map((f) => [f.rule, f.severity])).toEqual([['cross_account_use', 'high'], ['key_loss', 'high'], ['root_use', 'medium']]);
    for (const f of findings) expect(Object.keys(f)).toEqual(FIELDS);
    expect(findings[1]).toEqual({
      rule: 'key_loss', severity: 'high', title: 'Key disabled, scheduled for deletion, or its imported key material deleted',
      identity_arn: `arn:aws:iam::${A}:user/alice`, source_ip: '203.0.113.10', key_arn: key, account_id: A,
      first_seen: '2024-05-02T09:00:00Z', last_seen: '2024-05-02T09:00:00Z', event_count: 1, detail: 'DisableKey',
      attack: ['T1485', 'T1490'],
    });
  });

  it('prints NDJSON and an aligned table', async () => {
    const nd = await detect('--format', 'ndjson');
    expect(nd.stdout.trim().split('\n').map((l) => JSON.parse(l).rule)).toEqual(['cross_account_use', 'key_loss', 'root_use']);
    const table = await detect();
    const lines = table.stdout.trim().split('\n');
    expect(lines[0].split(/\s+/)).toEqual(['severity', 'rule', 'identity_arn', 'source_ip', 'key_arn', 'account_id', 'first_seen', 'last_seen', 'event_count', 'detail']);
    expect(lines.at(-1)).toBe('(3 rows)');
  });

  it('--fail-on sets exit code 1 when a finding at or above the severity exists', async () => {
    expect((await detect('--fail-on', 'high')).code).toBe(1);
    expect((await detect('--fail-on', 'high', '--rule', 'root_use')).code).toBe(0);
    expect((await detect('--fail-on', 'medium', '--rule', 'root_use,new_source_ip')).code).toBe(1);
    expect((await detect('--fail-on', 'low', '--since', '2024-06-01')).code).toBe(0);
  });

  it('--rule, --since, --trusted-accounts and --config narrow what is reported', async () => {
    const rules = async (...args: string[]) => (JSON.parse((await detect('--format', 'json', ...args)).stdout) as Array<{ rule: string }>).map((f) => f.rule);
    expect(await rules('--rule', 'root_use', '--rule', 'key_loss')).toEqual(['key_loss', 'root_use']);
    expect(await rules('--since', '2024-05-03')).toEqual(['cross_account_use', 'root_use']);
    expect(await rules('--since', '2024-05-03T12:00:00Z')).toEqual(['root_use']);
    expect(await rules('--trusted-accounts', `${A},${X}`)).toEqual(['key_loss', 'root_use']);
    const config = join(trail.trail, '..', 'trust.json');
    writeFileSync(config, JSON.stringify({ trustedAccounts: [A, X], trustedOrgIds: ['o-abcdefghij'] }));
    expect(await rules('--config', config)).toEqual(['key_loss', 'root_use']);
    expect(await rules('--config', config, '--trusted-accounts', A)).toEqual(['cross_account_use', 'key_loss', 'root_use']);
  });

  it('--param overrides a parameter', async () => {
    const ips = async (...args: string[]) => (JSON.parse((await detect('--rule', 'new_source_ip', '--format', 'json', ...args)).stdout) as Array<{ source_ip: string }>).map((f) => f.source_ip);
    expect(await ips()).toEqual([]);
    // Without a learning period, every caller's first address is new.
    expect(await ips('--param', 'new_source_ip.learning_days=0')).toEqual(['203.0.113.10', '192.0.2.50', '203.0.113.99']);
  });

  it.each([
    [['--rule', 'nope'], /no rule nope \(rules: access_denied_burst, /],
    [['--param', 'root_use.factor=1'], /rule root_use has no parameter 'factor' \(its parameters: none\)/],
    [['--param', 'volume_spike.factor=high'], /volume_spike.factor takes a number/],
    [['--fail-on', 'critical'], /--fail-on: 'critical' is not one of low, medium, high/],
    [['--format', 'csv'], /--format: 'csv' is not one of table, json, ndjson/],
    [['--since', 'yesterday'], /--since: 'yesterday' is not a date/],
    [['--trusted-accounts', '12345'], /'12345' is not a 12-digit AWS account id/],
    [['--config', '/nonexistent/trust.json'], /--config \/nonexistent\/trust.json: ENOENT/],
    [['extra'], /Unexpected argument 'extra'/],
  ])('rejects %j with exit code 2', async (args, why) => {
    const { code, stderr, stdout } = await detect(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(why);
    expect(stdout).toBe('');
  });

  it('exits 2 when the database does not exist', async () => {
    const { code, stderr } = await runCli(['detect', '--db', join(trail.trail, 'none.duckdb')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/no such database/);
  });

  it('--list shows every rule with its severity, ATT&CK techniques, parameters and description', async () => {
    const { code, stdout } = await runCli(['detect', '--list']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^access_denied_burst \(medium\): Many access-denied KMS errors/m);
    expect(stdout).toMatch(/^secret_harvest \(high\): One caller decrypts many distinct secrets.*\n {2}attack: T1555\.006, T1552\n {2}params: window_minutes=15, min_distinct=15, factor=3, learning_hours=24, extreme_distinct=100$/m);
    expect(stdout).toMatch(/^ {2}params: baseline_days=14, min_baseline_days=5, min_count=100, factor=10, mad_factor=6$/m);
    const json = JSON.parse((await runCli(['detect', '--list', '--format', 'json'])).stdout) as Array<{ id: string; analyze?: string; attack: string }>;
    expect(json).toHaveLength(loadRules().length);
    expect(json.every((r) => /^T\d{4}/.test(r.attack))).toBe(true);
    expect(json.find((r) => r.id === 'grant_exposure')).toMatchObject({ severity: 'high', attack: 'T1098, T1537', params: '', analyze: 'grant' });
  });

  it('--explain shows the header, the parameters and the findings with each parameter halved and doubled', async () => {
    // One user reads 20 secrets, one a minute: 15 distinct in any 15-minute window.
    const user = identity.user(A, 'mallory');
    const harvest = await loadTrail(Array.from({ length: 20 }, (_, i) => secretDecrypt(user, `arn:aws:secretsmanager:us-east-1:${A}:secret:s${i}-AbCdEf`, at(4, 10, i), key)));
    try {
      const { code, stdout } = await runCli(['detect', '--db', harvest.db, '--explain', 'secret_harvest']);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^-- id: secret_harvest\n-- title: One caller decrypts/);
      expect(stdout).toContain('-- params: window_minutes=15, min_distinct=15, factor=3, learning_hours=24, extreme_distinct=100\n');
      expect(stdout).toContain('parameters:\n  window_minutes = 15\n  min_distinct = 15\n  factor = 3\n  learning_hours = 24\n  extreme_distinct = 100\n');
      expect(stdout).toContain('findings on this database: 1 with these values\n');
      const trials = stdout.trim().split('\n').slice(-10).map((l) => l.trim().split(/\s{2,}/));
      expect(trials).toEqual([
        ['window_minutes halved (8)', '0'], ['window_minutes doubled (30)', '1'],
        ['min_distinct halved (8)', '1'], ['min_distinct doubled (30)', '0'],
        ['factor halved (1.5)', '1'], ['factor doubled (6)', '1'],
        // The learning period and the floor change the finding's severity, not whether there is one.
        ['learning_hours halved (12)', '1'], ['learning_hours doubled (48)', '1'],
        ['extreme_distinct halved (50)', '1'], ['extreme_distinct doubled (200)', '1'],
      ]);
      // Overrides are the values it starts from; JSON for scripts.
      const json = JSON.parse((await runCli(['detect', '--db', harvest.db, '--explain', 'secret_harvest', '--param', 'secret_harvest.min_distinct=21', '--format', 'json'])).stdout);
      expect(json).toMatchObject({ rule: 'secret_harvest', findings: 0, params: [{ name: 'window_minutes', value: 15 }, { name: 'min_distinct', default: 15, value: 21 }, { name: 'factor', value: 3 }, { name: 'learning_hours', value: 24 }, { name: 'extreme_distinct', value: 100 }] });
      expect(json.trials).toContainEqual({ name: 'min_distinct', change: 'halved', value: 11, findings: 1 });
      expect((await runCli(['detect', '--db', harvest.db, '--explain', 'nope'])).stderr).toMatch(/no rule nope/);
    } finally {
      harvest.cleanup();
    }
  });

  it('--help says where trusted accounts come from', async () => {
    const { code, stdout } = await runCli(['detect', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Trusted accounts default to the accounts that own the trail's data: the distinct\s+recipientAccountId values/);
  });
});

describe('keytrail keys', () => {
  it('prints the key state view', async () => {
    const { code, stdout } = await runCli(['keys', '--db', trail.db, '--format', 'json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([expect.objectContaining({
      key_arn: key, key_account: A, aws_region: 'us-east-1', key_state: 'Disabled', state_changed_at: '2024-05-02 09:00:00',
      callers_30d: 3, calls_30d: 4,
    })]);
    const table = await runCli(['keys', '--db', trail.db]);
    expect(table.stdout).toMatch(/^key_id\s+key_account\s+aws_region\s+key_state/);
    expect(table.stdout).toMatch(/1234abcd-12ab-34cd-56ef-1234567890ab\s+111111111111\s+us-east-1\s+Disabled/);
    expect(JSON.parse((await runCli(['keys', '--db', trail.db, '--format', 'json', '--state', 'enabled'])).stdout)).toEqual([]);
    expect((await runCli(['keys', '--db', trail.db, '--account', 'x'])).code).toBe(2);
  });
});

describe('--since', () => {
  const now = new Date('2024-05-10T12:00:00Z');
  it.each([
    ['2024-05-01', '2024-05-01 00:00:00'],
    ['2024-05-01T10:30:00Z', '2024-05-01 10:30:00'],
    ['2024-05-01T10:30:00+02:00', '2024-05-01 08:30:00'],
    ['2024-05-01 10:30', '2024-05-01 10:30:00'],
    ['2d', '2024-05-08 12:00:00'],
    ['6h', '2024-05-10 06:00:00'],
  ])('reads %s', (value, expected) => {
    expect(parseSince(value, now)).toBe(expected);
  });
  it.each(['2024-02-30', 'May 1', '3w', ''])('rejects %j', (value) => {
    expect(() => parseSince(value, now)).toThrow(/--since/);
  });
});
