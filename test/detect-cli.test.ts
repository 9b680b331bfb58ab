// keytrail detect and keytrail keys, as built (dist/): output formats, exit codes, options.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSince } from '../src/cli/detect.js';
import { runCli } from './helpers/cli.js';
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
const FIELDS = ['rule', 'severity', 'title', 'identity_arn', 'source_ip', 'key_arn', 'account_id', 'first_seen', 'last_seen', 'event_count', 'detail'];

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

  it('--list shows every rule with its severity, parameters and description', async () => {
    const { code, stdout } = await runCli(['detect', '--list']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^access_denied_burst \(medium\): Many access-denied KMS errors/m);
    expect(stdout).toMatch(/^ {2}params: baseline_days=14, min_baseline_days=5, min_count=100, factor=10, mad_factor=6$/m);
    const json = JSON.parse((await runCli(['detect', '--list', '--format', 'json'])).stdout) as Array<{ id: string; analyze?: string }>;
    expect(json).toHaveLength(10);
    expect(json.find((r) => r.id === 'grant_exposure')).toMatchObject({ severity: 'high', params: '', analyze: 'grant' });
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
