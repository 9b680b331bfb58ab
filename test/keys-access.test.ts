// Who can use each key, and who did: keys audit reads IAM through the real @aws-sdk/client-iam from a
// local endpoint speaking IAM's query protocol (test/helpers/iam-server.ts: SigV4, XML, IsTruncated /
// Marker paging, URL-encoded documents), stores it with the snapshot; the five access checks find
// their planted problems beside benign look-alikes; keytrail keys access / keys show
// answer who can and who did, with the calls CloudTrail holds.

import { copyFileSync } from 'node:fs';
import { IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBEngine } from '../src/engine.js';
import { readInventory } from '../src/inventory/audit.js';
import { loadAuditChecks, runAuditChecks } from '../src/inventory/checks.js';
import { readIam } from '../src/inventory/iam.js';
import { saveSnapshot } from '../src/inventory/snapshot.js';
import { Store } from '../src/store/db.js';
import { openStore } from '../src/store/schema.js';
import type { Finding } from '../src/detect/run.js';
import { runCli } from './helpers/cli.js';
import { createIamService, startIamServer, type IamService } from './helpers/iam-server.js';
import { ingestFolder } from './helpers/ingest.js';
import { startKmsServer, type KmsServer } from './helpers/kms-server.js';
import { tempDir } from './helpers/log-objects.js';
import { identity, kmsEvent, writeTrail } from './helpers/trail.js';

const A = '111111111111';
const X = '999999999999';
const E1 = 'us-east-1';
const W1 = 'eu-west-1';
const DAY = 86_400_000;
const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
const arn = (kind: string, name: string) => `arn:aws:iam::${A}:${kind}/${name}`;
const doc = (...st: unknown[]) => ({ Version: '2012-10-17', Statement: st });
const root = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' };
const admins = { Sid: 'Key administrators', Effect: 'Allow', Principal: { AWS: arn('role', 'KeyAdmin') }, Action: ['kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*', 'kms:Get*', 'kms:Delete*', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion'], Resource: '*' };
const users = (...principals: string[]) => ({ Sid: 'Key users', Effect: 'Allow', Principal: { AWS: principals }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'], Resource: '*' });
const id = (n: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`;

let server: KmsServer;
let iam: IamService;
let work: ReturnType<typeof tempDir>;
let db: string;
let env: NodeJS.ProcessEnv;
const K: Record<string, string> = {};
let findings: Finding[];

beforeAll(async () => {
  work = tempDir('keytrail-access-');
  db = `${work.dir}/keytrail.duckdb`;
  iam = createIamService({ maxPage: 3 }); // every answer pages
  server = await startKmsServer({ callerAccount: A, accessKeys: { AKIAAUDITEXAMPLE: 'secret' }, enabledRegions: { [A]: [E1, W1] }, iam });
  const key = (name: string, n: number, spec: Parameters<KmsServer['addKey']>[2], region = E1) => (K[name] = server.addKey(A, region, { keyId: id(n), rotation: { enabled: true }, aliases: [`alias/${name}`], ...spec }));
  key('main', 1, { policy: doc(root, admins, users(arn('role', 'App'))), grants: [{ grantId: 'g-batch', granteePrincipal: arn('role', 'Batch'), operations: ['Decrypt'] }] });
  key('dual', 2, { policy: doc(root, admins, users(arn('role', 'KeyAdmin'))) });
  key('grants', 3, { grants: [
    { grantId: 'g-pass-on', granteePrincipal: arn('role', 'App'), operations: ['Decrypt', 'CreateGrant'] },
    { grantId: 'g-rds', granteePrincipal: arn('role', 'aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS'), operations: ['Decrypt', 'Encrypt', 'CreateGrant', 'RetireGrant', 'DescribeKey'] },
    { grantId: 'g-ebs', granteePrincipal: `${A}:aws:ec2-infrastructure:i-0abc`, operations: ['Decrypt', 'CreateGrant'], constraints: { EncryptionContextSubset: { 'aws:ebs:id': 'vol-0abc' } } },
    { grantId: 'g-deleted', granteePrincipal: arn('role', 'Deleted'), operations: ['Decrypt'] },
  ] });
  const mrk = (n: number) => `mrk-${String(n).padStart(32, '0')}`;
  K.mrkSame = server.addKey(A, E1, { keyId: mrk(1), multiRegion: true, policy: doc(root, users(arn('role', 'App'))) });
  K.mrkSameReplica = server.addKey(A, W1, { keyId: mrk(1), primaryKeyArn: K.mrkSame, policy: doc(root, users(arn('role', 'App'))) });
  K.mrkDrift = server.addKey(A, E1, { keyId: mrk(2), multiRegion: true, policy: doc(root, users(arn('role', 'App'))) });
  K.mrkDriftReplica = server.addKey(A, W1, { keyId: mrk(2), primaryKeyArn: K.mrkDrift, policy: doc(root, users(arn('role', 'App'), `arn:aws:iam::${X}:root`)) });

  // IAM of account A.
  iam.addRole(A, 'App', { inline: { 'app-decrypt': doc({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: K.main }) } });
  iam.addRole(A, 'KeyAdmin');
  iam.addRole(A, 'Batch');
  iam.addRole(A, 'AWSServiceRoleForRDS', { path: '/aws-service-role/rds.amazonaws.com/' });
  iam.addRole(A, 'Wild', { inline: { 'decrypt-anything': doc({ Sid: 'All', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: '*' }) } });
  iam.addRole(A, 'ViaS3', { attached: [iam.addPolicy(A, 'S3OneKey', doc({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: K.main, Condition: { StringEquals: { 'kms:ViaService': `s3.${E1}.amazonaws.com` } } }))] });
  iam.addRole(A, 'Auditor', { attached: [iam.addPolicy('aws', 'KmsReadOnly', doc({ Effect: 'Allow', Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'], Resource: '*' }))] });
  // v1 decrypted everything; v2, the default, only describes.
  iam.addRole(A, 'Ops', { attached: [iam.addPolicy(A, 'OpsKms', doc({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }), doc({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*' }))] });
  iam.addGroup(A, 'crypto', { attached: [iam.addPolicy(A, 'KmsDecryptAll', doc({ Effect: 'Allow', Action: 'kms:Decrypt*', Resource: `arn:aws:kms:*:${A}:key/*` }))] });
  iam.addUser(A, 'alice', { groups: ['crypto'] });
  iam.addUser(A, 'bob');

  // The history: 120 days of account A in us-east-1.
  const app = identity.role(A, 'App', 'task');
  writeTrail(`${work.dir}/trail`, [
    kmsEvent({ eventName: 'DescribeKey', time: ago(120), identity: identity.role(A, 'KeyAdmin', 'pat'), key: K.main }),
    kmsEvent({ eventName: 'Decrypt', time: ago(5), identity: app, key: K.main }),
    kmsEvent({ eventName: 'Decrypt', time: ago(3), identity: app, key: K.main }),
    kmsEvent({ eventName: 'GenerateDataKey', time: ago(2), identity: identity.role(A, 'Wild', 'w'), key: K.main }),
    kmsEvent({ eventName: 'Decrypt', time: ago(2), identity: identity.user(A, 'alice'), key: K.main }),
    kmsEvent({ eventName: 'Decrypt', time: ago(2), identity: identity.user(A, 'alice'), key: K.main, errorCode: 'AccessDeniedException' }),
    kmsEvent({ eventName: 'Decrypt', time: ago(40), identity: identity.role(A, 'Ghost', 'g'), key: K.main }),
    kmsEvent({ eventName: 'Decrypt', time: ago(1), identity: app, key: K.mrkSame }),
  ]);
  await ingestFolder(`${work.dir}/trail`, db);
  env = {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: 'AKIAAUDITEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: E1,
    AWS_CONFIG_FILE: `${work.dir}/none`, AWS_SHARED_CREDENTIALS_FILE: `${work.dir}/none`, AWS_EC2_METADATA_DISABLED: 'true',
  };
  Object.assign(process.env, env);
  const read = await readInventory({ endpointUrl: server.endpoint, roleArns: [], regions: null, concurrency: 4 });
  const store = await openStore(db);
  try {
    await saveSnapshot(store, read);
    findings = await runAuditChecks(new DuckDBEngine(store), loadAuditChecks(), { trustedAccounts: [A], trustedOrgIds: [] });
  } finally {
    store.close();
  }
}, 60_000);
afterAll(async () => {
  await server?.stop();
  work?.cleanup();
});

const name = (key: string | null) => Object.entries(K).find(([, v]) => v === key)?.[0] ?? String(key);
const of = (rule: string) => findings.filter((f) => f.rule === rule);

describe('keys audit reads IAM', () => {
  it('reads every page of GetAccountAuthorizationDetails, signed, and stores what it read with the snapshot', async () => {
    const calls = iam.calls.filter((c) => c.account === A);
    expect(calls.length).toBeGreaterThanOrEqual(5); // 10 users, groups and roles, 4 managed policies, 3 a page
    expect(calls.every((c) => c.action === 'GetAccountAuthorizationDetails' && c.params.Version === '2010-05-08')).toBe(true);
    expect(calls.slice(1).every((c) => c.params.Marker !== undefined)).toBe(true);
    const store = await Store.open(db, { readOnly: true });
    try {
      const entities = await store.all<{ n: bigint }>('SELECT count(*) AS n FROM inventory_iam_entities');
      expect(Number(entities[0].n)).toBe(11);
      const [ops] = await store.all<{ document: string }>("SELECT document FROM inventory_iam_policies WHERE policy_name = 'OpsKms'");
      // Decoded from IAM's URL encoding; the default version, not the first.
      expect(JSON.parse(ops.document)).toEqual(doc({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*' }));
      const [alice] = await store.all<{ groups: string[] }>("SELECT groups FROM inventory_iam_entities WHERE name = 'alice'");
      expect([...alice.groups]).toEqual(['crypto']);
    } finally {
      store.close();
    }
  });

  it('refused: the read is recorded with IAM\'s error (a standalone IAM endpoint checks the signature)', async () => {
    const alone = await startIamServer({ callerAccount: A, accessKeys: { AKIAAUDITEXAMPLE: 'secret' } });
    try {
      alone.addRole(A, 'Only');
      const good = new IAMClient({ region: E1, endpoint: alone.endpoint, credentials: { accessKeyId: 'AKIAAUDITEXAMPLE', secretAccessKey: 'secret' } });
      const bad = new IAMClient({ region: E1, endpoint: alone.endpoint, credentials: { accessKeyId: 'AKIAAUDITEXAMPLE', secretAccessKey: 'wrong' }, maxAttempts: 1 });
      expect((await readIam(good, A)).entities.map((e) => e.arn)).toEqual([arn('role', 'Only')]);
      expect(await readIam(bad, A)).toMatchObject({ status: 'failed', error: { operation: 'GetAccountAuthorizationDetails', code: 'SignatureDoesNotMatch' }, entities: [] });
      alone.deny(A);
      expect((await readIam(good, A)).error).toMatchObject({ code: 'AccessDenied', message: expect.stringMatching(/not authorized to perform: iam:GetAccountAuthorizationDetails/) });
      good.destroy();
      bad.destroy();
    } finally {
      await alone.stop();
    }
  });
});

describe('the access checks', () => {
  it('iam_wildcard_key_access: inline and customer managed policies that decrypt with every key, with whom they reach', () => {
    expect(of('iam_wildcard_key_access').map((f) => f.detail)).toEqual([
      `customer managed policy KmsDecryptAll (arn:aws:iam::${A}:policy/KmsDecryptAll): Statement[0] allows kms:Decrypt on arn:aws:kms:*:${A}:key/*; reaches: ${arn('user', 'alice')} (group crypto)`,
      `inline policy decrypt-anything: Statement[0] "All" allows kms:Decrypt on *; reaches: ${arn('role', 'Wild')}`,
    ]);
    // Not: a policy scoped to one key with kms:ViaService, an AWS managed read-only policy, a managed policy whose old version did.
  });

  it('unused_key_access: principals named for use that never called the key; not the key user that did, a service-linked role, or a region without history', () => {
    expect(of('unused_key_access').map((f) => `${name(f.key_arn)} ${f.identity_arn}`).sort()).toEqual([
      `dual ${arn('role', 'KeyAdmin')}`, `grants ${arn('role', 'App')}`, `grants ${arn('role', 'Deleted')}`, `main ${arn('role', 'Batch')}`, `mrkDrift ${arn('role', 'App')}`,
    ]);
    expect(of('unused_key_access').find((f) => f.key_arn === K.main)!.detail).toBe('named for use by grant g-batch, but no call on the key in the 90 days before the audit; no call in the history');
    expect(of('unused_key_access').find((f) => f.key_arn === K.dual)!.detail).toBe('named for use by key policy Statement[2] "Key users", but no call on the key in the 90 days before the audit; no call in the history');
  });

  it('admin_and_user: a key administrator who is also a key user; a key administrator alone is not', () => {
    expect(of('admin_and_user').map((f) => [name(f.key_arn), f.identity_arn])).toEqual([['dual', arn('role', 'KeyAdmin')]]);
  });

  it('grant_hygiene: a grant that passes the key on, and one to a deleted role; service-made grants are routine', () => {
    expect(of('grant_hygiene').map((f) => f.detail).sort()).toEqual([
      `grant g-deleted names ${arn('role', 'Deleted')}, which IAM no longer holds (deleted?), for Decrypt`,
      `grant g-pass-on lets ${arn('role', 'App')} create further grants (Decrypt, CreateGrant) with no constraint`,
    ]);
  });

  it('replica_policy_drift: a replica that lets in another account; a replica identical to its primary says nothing', () => {
    expect(of('replica_policy_drift').map((f) => [name(f.key_arn), f.detail])).toEqual([
      ['mrkDriftReplica', `the replica's key policy lets in what its primary ${K.mrkDrift} does not: arn:aws:iam::${X}:root (use)`],
    ]);
  });

  it('--param unused_key_access.days: 1 day finds the key user too, whose last call was 3 days before', async () => {
    const store = await Store.open(db, { readOnly: true });
    try {
      const found = await runAuditChecks(new DuckDBEngine(store), loadAuditChecks(), { trustedAccounts: [A], trustedOrgIds: [] }, { unused_key_access: { days: 1 } });
      expect(found.filter((f) => f.rule === 'unused_key_access' && f.key_arn === K.main).map((f) => f.identity_arn).sort()).toEqual([arn('role', 'App'), arn('role', 'Batch')]);
    } finally {
      store.close();
    }
  });
});

type Row = Record<string, string | number | null>;

describe('keytrail keys access', () => {
  it('answers who can use the key and who did, one row per principal and capability', async () => {
    const { code, stdout, stderr } = await runCli(['keys', 'access', 'alias/main', '--db', db, '--format', 'json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as Row[];
    const pick = (principal: string, capability: string) => rows.find((r) => r.principal === principal && r.capability === capability);
    expect(pick(arn('role', 'App'), 'use')).toEqual({
      key_arn: K.main, principal: arn('role', 'App'), capability: 'use', via: 'iam_policy, key_policy',
      detail: 'app-decrypt Statement[0]; Statement[2] "Key users"', conditional: null, last_used: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), calls: 2,
    });
    expect(pick(arn('role', 'Wild'), 'use')).toMatchObject({ via: 'iam_policy', calls: 1 });
    expect(pick(arn('user', 'alice'), 'use')).toMatchObject({ via: 'iam_policy', detail: 'group crypto: KmsDecryptAll Statement[0]', calls: 1 });
    expect(pick(arn('role', 'ViaS3'), 'use')).toMatchObject({ conditional: `StringEquals kms:ViaService=s3.${E1}.amazonaws.com`, calls: 0, last_used: null });
    expect(pick(arn('role', 'Batch'), 'use')).toMatchObject({ via: 'grant', detail: 'grant g-batch', calls: 0 });
    expect(pick(arn('role', 'KeyAdmin'), 'admin')).toMatchObject({ via: 'key_policy' });
    expect(pick(arn('role', 'KeyAdmin'), 'use')).toBeUndefined();
    expect(pick(arn('role', 'Ghost'), 'use')).toMatchObject({ via: 'cloudtrail', calls: 1 });
    for (const who of ['Auditor', 'Ops']) expect(rows.filter((r) => r.principal === arn('role', who))).toEqual([]);
    expect(rows.filter((r) => r.principal === arn('user', 'bob'))).toEqual([]);
  }, 60_000);

  it('--principal takes a role session\'s ARN; csv and table forms', async () => {
    const csv = await runCli(['keys', 'access', '--principal', `arn:aws:sts::${A}:assumed-role/App/task`, '--db', db, '--format', 'csv']);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('key_arn,principal,capability,via,detail,conditional,last_used,calls');
    expect(new Set(lines.slice(1).map((l) => l.split(',')[1]))).toEqual(new Set([arn('role', 'App')]));
    expect(lines.slice(1).map((l) => l.split(',')[0]).sort()).toEqual([K.grants, K.grants, K.main, K.mrkDrift, K.mrkDriftReplica, K.mrkSame, K.mrkSameReplica].sort());
    const table = await runCli(['keys', 'access', K.main, '--db', db]);
    expect(table.stdout.split('\n')[0]).toMatch(/^principal\s+capability\s+via\s+detail\s+conditional\s+last_used\s+calls$/);
    const bad = await runCli(['keys', 'access', '--principal', 'App', '--db', db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--principal: 'App' is not an IAM principal ARN/);
  }, 60_000);

  it('keys show KEY gains the table', async () => {
    const { stdout } = await runCli(['keys', 'show', 'alias/dual', '--db', db]);
    expect(stdout).toMatch(/\nWho can use it, and who did\n=+\nprincipal\s+capability/);
    expect(stdout).toMatch(new RegExp(`${arn('role', 'KeyAdmin').replaceAll('/', '\\/')}\\s+admin\\s+key_policy`));
  }, 60_000);

  it('a database audited by an older keytrail, read-only: keys access says to audit again; detect and report leave the new parts out', async () => {
    const old = `${work.dir}/old.duckdb`;
    copyFileSync(db, old);
    const store = await Store.open(old);
    try {
      for (const t of ['inventory_access', 'inventory_iam', 'inventory_iam_statements', 'inventory_iam_entities', 'inventory_iam_policies', 'inventory_iam_attachments']) await store.run(`DROP TABLE ${t}`);
    } finally {
      store.close();
    }
    const access = await runCli(['keys', 'access', '--db', old]);
    expect(access.code).toBe(2);
    expect(access.stderr).toMatch(/was audited by an older keytrail: run keytrail keys audit again/);
    const detect = await runCli(['detect', '--db', old, '--format', 'json']);
    expect(detect.stderr).not.toMatch(/does not exist|Catalog Error/);
    const rules = (JSON.parse(detect.stdout) as Row[]).map((f) => f.rule);
    expect(rules).not.toContain('grant_hygiene');
    const report = await runCli(['report', '--db', old, '--format', 'json', '--no-findings']);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout).key_configuration).toEqual([]);
  }, 60_000);

  it('IAM refused: the audit goes on, says what it could not judge, and the root stands for IAM\'s principals', async () => {
    iam.deny(A);
    const denied = `${work.dir}/denied.duckdb`;
    const audit = await runCli(['keys', 'audit', '--endpoint-url', server.endpoint, '--db', denied, '--regions', E1, '--format', 'json'], env);
    expect(audit.stderr).toMatch(new RegExp(`IAM of ${A} not read \\(AccessDenied: .*\\): who IAM lets use its keys is not judged`));
    const unread = (JSON.parse(audit.stdout) as Row[]).filter((f) => f.rule === 'key_unreadable');
    expect(unread).toEqual([expect.objectContaining({ key_arn: null, account_id: A, detail: expect.stringMatching(/^GetAccountAuthorizationDetails: AccessDenied/) })]);
    const access = await runCli(['keys', 'access', 'alias/main', '--db', denied, '--format', 'json']);
    expect(access.stderr).toMatch(new RegExp(`IAM of account ${A} was not read \\(AccessDenied: .*\\): the users and roles its account root lets in`));
    const rows = JSON.parse(access.stdout) as Row[];
    expect(rows.filter((r) => r.via.toString().includes('iam_policy'))).toEqual([]);
    expect(rows.filter((r) => r.principal === `arn:aws:iam::${A}:root`).map((r) => r.capability)).toEqual(['admin', 'use']);
  }, 60_000);
});
