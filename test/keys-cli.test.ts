// keytrail keys audit / keys show / detect with an audit, against the local KMS,
// STS, Account and Access Analyzer endpoint: output, exit codes, options.

import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from './helpers/cli.js';
import { Store } from '../src/store/db.js';
import { ingestFolder } from './helpers/ingest.js';
import { createIamService } from './helpers/iam-server.js';
import { startKmsServer, type KmsServer } from './helpers/kms-server.js';
import { tempDir } from './helpers/log-objects.js';
import { identity, kmsEvent, writeTrail } from './helpers/trail.js';

const A = '111111111111';
const X = '999999999999';
const E1 = 'us-east-1';
const W1 = 'eu-west-1';
const FIELDS = ['rule', 'severity', 'title', 'identity_arn', 'source_ip', 'key_arn', 'account_id', 'first_seen', 'last_seen', 'event_count', 'detail', 'attack'];

const root = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' };
const open = { Sid: 'Partner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${X}:root` }, Action: 'kms:Decrypt', Resource: '*' };
const policy = (...st: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: st });

let server: KmsServer;
let work: ReturnType<typeof tempDir>;
let db: string;
let env: NodeJS.ProcessEnv;
let app: string;
let quiet: string;
let denied: string;
let fine: string;
const gone = `arn:aws:kms:${E1}:${A}:key/0000dead-0000-0000-0000-000000000001`;

beforeAll(async () => {
  work = tempDir('keytrail-keys-cli-');
  db = `${work.dir}/keytrail.duckdb`;
  const iam = createIamService();
  iam.addRole(A, 'App');
  iam.addRole(A, 'KeyAdmin');
  server = await startKmsServer({ callerAccount: A, accessKeys: { AKIAAUDITEXAMPLE: 'secret', AKIAPROFILEEXAMPLE: 'secret' }, enabledRegions: { [A]: [E1, W1] }, iam });
  app = server.addKey(A, E1, {
    keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', aliases: ['alias/app'], rotation: { enabled: true }, policy: policy(root, open),
    tags: { team: 'payments' }, grants: [{ granteePrincipal: `arn:aws:iam::${A}:role/App`, operations: ['Decrypt'] }],
  });
  quiet = server.addKey(A, E1, { aliases: ['alias/quiet'], rotation: { enabled: false } });
  denied = server.addKey(A, E1, { rotation: { enabled: true } });
  server.fail('ListGrants', denied, 'AccessDeniedException');
  fine = server.addKey(A, W1, { rotation: { enabled: true } });
  const analyzer = server.addAnalyzer(A, E1, 'account-analyzer');
  server.addAnalyzerFinding(A, E1, { resource: quiet, principal: { AWS: '444455556666' } });
  expect(analyzer).toMatch(/^arn:aws:access-analyzer:/);

  const admin = identity.role(A, 'KeyAdmin', 'pat');
  const caller = identity.role(A, 'AppRole', 'task');
  writeTrail(`${work.dir}/trail`, [
    kmsEvent({ eventName: 'CreateKey', time: '2024-03-01T09:00:00Z', identity: admin, key: app, requestParameters: { policy: policy(root), keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS' }, responseElements: { keyMetadata: { keyId: app.split('/')[1], keyState: 'Enabled' } } }),
    kmsEvent({ eventName: 'CreateAlias', time: '2024-03-01T09:01:00Z', identity: admin, key: app, requestParameters: { aliasName: 'alias/app', targetKeyId: app } }),
    kmsEvent({ eventName: 'PutKeyPolicy', time: '2024-04-02T10:00:00Z', identity: admin, key: app, requestParameters: { keyId: app, policyName: 'default', policy: policy(root, open) } }),
    kmsEvent({ eventName: 'CreateGrant', time: '2024-04-03T10:00:00Z', identity: admin, key: app, requestParameters: { keyId: app, granteePrincipal: `arn:aws:iam::${A}:role/App`, operations: ['Decrypt'] }, responseElements: { grantId: 'g-1' } }),
    kmsEvent({ eventName: 'Decrypt', time: '2024-03-05T10:00:00Z', identity: caller, key: app }),
    kmsEvent({ eventName: 'Decrypt', time: '2024-04-05T10:00:00Z', identity: caller, key: app }),
    kmsEvent({ eventName: 'Decrypt', time: '2024-04-06T10:00:00Z', identity: caller, key: app }),
    kmsEvent({ eventName: 'DisableKey', time: '2024-04-07T10:00:00Z', identity: admin, key: quiet }),
    kmsEvent({ eventName: 'ScheduleKeyDeletion', time: '2024-04-08T10:00:00Z', identity: admin, key: gone, requestParameters: { keyId: gone, pendingWindowInDays: 7 }, responseElements: { keyId: gone, keyState: 'PendingDeletion', deletionDate: 'Apr 15, 2024, 10:00:00 AM', pendingWindowInDays: 7 } }),
  ]);
  await ingestFolder(`${work.dir}/trail`, db);
  env = {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: 'AKIAAUDITEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: E1,
    AWS_CONFIG_FILE: `${work.dir}/none`, AWS_SHARED_CREDENTIALS_FILE: `${work.dir}/none`, AWS_EC2_METADATA_DISABLED: 'true',
  };
}, 60_000);
afterAll(async () => {
  await server?.stop();
  work?.cleanup();
});

/** Whether the latest audit stored in db is a plain `keys audit` (every region, default options). */
let latestIsPlain = false;

const audit = (...args: string[]) => {
  latestIsPlain = false;
  return runCli(['keys', 'audit', '--endpoint-url', server.endpoint, '--db', db, ...args], env);
};

/**
 * A plain audit for the tests that read its snapshot, unless the latest audit in db is one
 * already: the describes below need it whether run alone or after the others, and none of their
 * tests stores an audit, so in a full run one audit (~1 CPU-s) serves them all.
 */
async function plainAudit(): Promise<void> {
  if (latestIsPlain) return;
  expect((await audit()).code).toBe(3);
  latestIsPlain = true;
}

describe('keytrail keys audit', () => {
  it('--fail-on high exits 1 on the policy exposure; a clean region exits 0', async () => {
    expect((await audit('--fail-on', 'high')).code).toBe(1);
    const clean = await audit('--regions', W1, '--format', 'json', '--fail-on', 'low');
    expect(JSON.parse(clean.stdout)).toEqual([]);
    expect(clean.code).toBe(0);
  }, 60_000);

  it('--access-analyzer reports where Access Analyzer and keytrail disagree, and says where there is no analyzer', async () => {
    const { stdout, stderr } = await audit('--access-analyzer', '--format', 'json');
    const differ = (JSON.parse(stdout) as Array<Record<string, string>>).filter((f) => f.rule.startsWith('access_analyzer'));
    expect(differ.map((f) => [f.rule, f.key_arn])).toEqual([['access_analyzer_only', quiet], ['access_analyzer_missing', app]]);
    expect(differ[0].detail).toMatch(/444455556666/);
    expect(stderr).toMatch(new RegExp(`no active Access Analyzer in ${A} ${W1}`));
    expect(server.calls.filter((c) => c.service === 'access-analyzer').map((c) => c.op)).toEqual(['ListAnalyzers', 'ListAnalyzers', 'ListFindings']);
  }, 60_000);

  it('does not hold the database while it reads KMS: a reader can open it meanwhile', async () => {
    const held = server.hold('ListKeys');
    latestIsPlain = false; // this run stores an audit of W1
    const run = startCli(['keys', 'audit', '--endpoint-url', server.endpoint, '--db', db, '--regions', W1], env);
    await held.arrived;
    const reader = await Store.open(db, { readOnly: true });
    reader.close();
    held.release();
    expect((await run.done).code).toBe(0);
  }, 60_000);

  it('exits 4 when nothing could be read', async () => {
    server.failScope('ListKeys', A, 'ap-south-1', 'AccessDeniedException');
    const r = await audit('--regions', 'ap-south-1', '--format', 'json');
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout).map((f: { rule: string; key_arn: string | null }) => [f.rule, f.key_arn])).toEqual([['key_unreadable', null]]);
  }, 60_000);

  it('credentials the endpoint refuses end the run before anything is stored (exit 4)', async () => {
    const r = await runCli(['keys', 'audit', '--endpoint-url', server.endpoint, '--db', `${work.dir}/refused.duckdb`], { ...env, AWS_SECRET_ACCESS_KEY: 'wrong' });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/cannot start: SignatureDoesNotMatch: The request signature we calculated does not match/);
  }, 60_000);

  it('refuses bad usage with exit code 2, naming the argument', async () => {
    for (const [args, message] of [
      [['--role-arn', 'admin'], /--role-arn: 'admin' is not an IAM role ARN/],
      [['--regions', 'mars'], /--regions: 'mars' is not a region/],
      [['--param', 'material_expiry.weeks=2'], /material_expiry has no parameter 'weeks'/],
      [['--format', 'csv'], /--format: 'csv' is not one of table, json/],
    ] as const) {
      const r = await audit(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  }, 60_000);

  it('prints the findings as a JSON array in detect\'s shape and exits 3 when a key could not be read', async () => {
    const { code, stdout, stderr } = await audit('--format', 'json');
    expect(stderr).toMatch(/audited 4 keys in 2 region\(s\) of 1 account\(s\); could not read: 1 key\(s\), 0 region\(s\), 0 account\(s\)/);
    expect(code).toBe(3);
    const findings = JSON.parse(stdout) as Array<Record<string, unknown>>;
    for (const f of findings) expect(Object.keys(f)).toEqual(FIELDS);
    expect(findings.map((f) => [f.rule, f.key_arn])).toEqual([
      ['live_policy_exposure', app],
      ['key_unreadable', denied],
      ['rotation_off', quiet],
    ]);
    expect(findings[0].detail).toBe(`Statement[1] ("Partner") allows kms:Decrypt to "arn:aws:iam::${X}:root" in account ${X}, which is not a trusted account`);
    latestIsPlain = true; // every region, default options (--format only prints): the describes below can read it
  }, 60_000);
});

describe('keytrail detect and keys with an audit', () => {
  beforeAll(plainAudit, 60_000);

  it('detect includes the latest audit\'s findings; --rule keeps to the chosen rules', async () => {
    const all = JSON.parse((await runCli(['detect', '--db', db, '--format', 'json'])).stdout) as Array<{ rule: string }>;
    expect(all.map((f) => f.rule)).toEqual(expect.arrayContaining(['key_loss', 'live_policy_exposure', 'rotation_off', 'key_unreadable']));
    const one = JSON.parse((await runCli(['detect', '--db', db, '--format', 'json', '--rule', 'key_loss'])).stdout) as Array<{ rule: string }>;
    expect(one.map((f) => f.rule)).toEqual(['key_loss', 'key_loss']);
  }, 60_000);

  it('keys without a subcommand still prints the state table from the trail', async () => {
    const { code, stdout } = await runCli(['keys', '--db', db]);
    expect(code).toBe(0);
    expect(stdout.split('\n')[0].split(/\s+/).slice(0, 4)).toEqual(['key_id', 'key_account', 'aws_region', 'key_state']);
    expect(stdout).toMatch(/\(3 rows\)/);
  }, 60_000);
});

describe('keytrail keys show', () => {
  beforeAll(plainAudit, 60_000);

  it('tells one key\'s story by alias: state, policy verdicts, grants, timeline with the policy diff, callers per month', async () => {
    const { code, stdout } = await runCli(['keys', 'show', 'alias/app', '--db', db, '--format', 'json']);
    expect(code).toBe(0);
    const story = JSON.parse(stdout);
    expect(story).toMatchObject({ key_arn: app, state_from: 'audit', aliases: ['alias/app'], tags: { team: 'payments' } });
    expect(story.state.key_state).toBe('Enabled');
    expect(story.rotation).toMatchObject({ rotation_supported: true, rotation_enabled: true, rotation_period_days: 365 });
    expect(story.policy.statements.map((s: { sid: string; verdict: string }) => [s.sid, s.verdict])).toEqual([['Enable IAM User Permissions', 'trusted'], ['Partner', 'exposes']]);
    expect(story.grants.map((g: { verdict: string }) => g.verdict)).toEqual(['inside the zone of trust']);
    expect(story.timeline.map((t: { event_name: string }) => t.event_name)).toEqual(['CreateKey', 'CreateAlias', 'PutKeyPolicy', 'CreateGrant']);
    expect(story.timeline[2].summary).toBe(`+ "Partner": {"Action":"kms:Decrypt","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::${X}:root"},"Resource":"*","Sid":"Partner"}`);
    expect(story.callers_by_month).toEqual([
      { month: '2024-03', identity_arn: `arn:aws:iam::${A}:role/AppRole`, calls: 1, errors: 0, operations: 'Decrypt' },
      { month: '2024-04', identity_arn: `arn:aws:iam::${A}:role/AppRole`, calls: 2, errors: 0, operations: 'Decrypt' },
    ]);
  }, 60_000);

  it('finds the key by id or ARN too, and renders md and table', async () => {
    const md = await runCli(['keys', 'show', app.split('/')[1], '--db', db, '--format', 'md']);
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^# arn:aws:kms:us-east-1:111111111111:key\/1234abcd/);
    expect(md.stdout).toMatch(/\n## Key policy\n/);
    expect(md.stdout).toMatch(/\*\*Statement\[1\] "Partner": EXPOSES: /);
    const table = await runCli(['keys', 'show', app, '--db', db]);
    expect(table.stdout).toMatch(/\nTimeline \(CloudTrail\)\n=+\n2024-03-01 09:00:00 {2}CreateKey {2}by arn:aws:iam::111111111111:role\/KeyAdmin/);
  }, 60_000);

  it('a key only the trail knows is told from the trail', async () => {
    const { code, stdout } = await runCli(['keys', 'show', gone, '--db', db, '--format', 'json']);
    expect(code).toBe(0);
    const story = JSON.parse(stdout);
    expect(story).toMatchObject({ state_from: 'cloudtrail', policy: null, grants: [] });
    expect(story.state).toMatchObject({ key_state: 'PendingDeletion', deletion_date: '2024-04-15 10:00:00' });
    expect(story.timeline.map((t: { summary: string }) => t.summary)).toEqual(['deletion scheduled for Apr 15, 2024, 10:00:00 AM (7 days)']);
  }, 60_000);

  it('an unknown key is bad usage (exit 2)', async () => {
    const r = await runCli(['keys', 'show', 'alias/nothing', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no key 'alias\/nothing' in the latest audit or the CloudTrail history/);
  }, 60_000);
});

describe('keytrail report with an audit', () => {
  it('has a key-configuration section from the latest snapshot, in md, csv and html', async () => {
    await plainAudit();
    const md = await runCli(['report', '--db', db, '--format', 'md', '--no-findings']);
    expect(md.code).toBe(0);
    const section = md.stdout.split('## Key configuration (live audit)')[1]?.split('\n## ')[0] ?? '';
    expect(section).toMatch(new RegExp(`\`${app}\` \\| alias/app \\| Enabled \\| CUSTOMER \\| SYMMETRIC.?_DEFAULT \\| AWS.?_KMS \\| on \\(365 days\\) \\|  \\|  \\| 1 \\| team=payments \\|  \\|`));
    expect(section).toMatch(new RegExp(`\`${quiet}\` \\| alias/quiet \\| Enabled .* \\| off \\|`));
    expect(section).toMatch(/ListGrants AccessDeniedException/);
    const csv = await runCli(['report', '--db', db, '--format', 'csv', '--section', 'key_configuration', '--no-findings']);
    const lines = csv.stdout.trim().split(/\r?\n/);
    expect(lines[0]).toBe('key_arn,account_id,aws_region,aliases,key_state,key_manager,key_spec,origin,rotation,deletion_date,material_expires,grants,tags,unreadable,can_use,used_by,audited_at');
    // Who can use the key (key policy, grant) and who did (CloudTrail), per key.
    const json = JSON.parse((await runCli(['report', '--db', db, '--format', 'json', '--no-findings'])).stdout);
    const row = json.key_configuration.find((k: { key_arn: string }) => k.key_arn === app);
    expect(row.can_use).toBe(`arn:aws:iam::${A}:role/App (grant), arn:aws:iam::${A}:root (key_policy), arn:aws:iam::${X}:root (key_policy)`);
    expect(row.used_by).toBe(`arn:aws:iam::${A}:role/AppRole (3)`);
    expect(lines.slice(1).map((l) => l.split(',')[0]).sort()).toEqual([app, quiet, denied, fine].sort());
    const withFindings = JSON.parse((await runCli(['report', '--db', db, '--format', 'json'])).stdout);
    expect(withFindings.findings.items.map((f: { rule: string }) => f.rule)).toEqual(expect.arrayContaining(['key_loss', 'live_policy_exposure', 'rotation_off']));
    const may = JSON.parse((await runCli(['report', '--db', db, '--format', 'json', '--until', '2024-05-31'])).stdout);
    expect(may.findings.items.map((f: { rule: string }) => f.rule)).not.toContain('live_policy_exposure');
    const html = await runCli(['report', '--db', db, '--format', 'html', '--no-findings']);
    expect(html.stdout).toMatch(/<section class="card table" id="key-configuration">/);
  }, 60_000);
});

describe('keytrail keys audit --profile', () => {
  it('takes the credentials and, when the regions cannot be listed, the region from the profile', async () => {
    writeFileSync(`${work.dir}/credentials`, '[audit]\naws_access_key_id = AKIAPROFILEEXAMPLE\naws_secret_access_key = secret\n');
    writeFileSync(`${work.dir}/config`, '[profile audit]\nregion = eu-west-1\n');
    server.denyListRegions(A);
    const before = server.calls.length;
    const { AWS_ACCESS_KEY_ID: _k, AWS_SECRET_ACCESS_KEY: _s, AWS_REGION: _r, ...rest } = env;
    // The test's own key and region left out: the profile is to supply both.
    // ... and the endpoint from AWS_ENDPOINT_URL, as the SDK reads it for every service.
    const r = await runCli(['keys', 'audit', '--profile', 'audit', '--db', `${work.dir}/profile.duckdb`, '--format', 'json'], {
      ...rest, AWS_ENDPOINT_URL: server.endpoint, AWS_CONFIG_FILE: `${work.dir}/config`, AWS_SHARED_CREDENTIALS_FILE: `${work.dir}/credentials`,
    });
    expect(r.stderr).toMatch(/audited 1 keys in 1 region\(s\) of 1 account\(s\)/);
    expect(r.code).toBe(0);
    const calls = server.calls.slice(before);
    expect(new Set(calls.map((c) => c.accessKey))).toEqual(new Set(['AKIAPROFILEEXAMPLE']));
    expect(calls.filter((c) => c.service === 'kms').every((c) => c.region === W1)).toBe(true);
  }, 60_000);
});
