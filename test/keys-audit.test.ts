// The live keys audit through the real AWS SDK clients against a local endpoint that speaks KMS's,
// STS's and Account's wire protocols (test/helpers/kms-server.ts): paging, throttling, a key whose
// policy cannot be read, two regions, several accounts; then every check on an inventory with a
// planted problem beside its benign look-alike, and the diff between two audits.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBEngine } from '../src/engine.js';
import { readInventory, unreadable } from '../src/inventory/audit.js';
import { loadAuditChecks, runAuditChecks, auditFindings } from '../src/inventory/checks.js';
import { saveSnapshot } from '../src/inventory/snapshot.js';
import { kmsClient } from '../src/inventory/targets.js';
import { Store } from '../src/store/db.js';
import { openStore } from '../src/store/schema.js';
import type { Finding } from '../src/detect/run.js';
import { ingestFolder } from './helpers/ingest.js';
import { createIamService } from './helpers/iam-server.js';
import { startKmsServer, type KmsServer } from './helpers/kms-server.js';
import { tempDir } from './helpers/log-objects.js';
import { identity, kmsEvent, writeTrail, type CtRecord } from './helpers/trail.js';

const A = '111111111111';
const B = '222222222222';
const X = '999999999999';
const E1 = 'us-east-1';
const W1 = 'eu-west-1';
const DAY = 86_400_000;
const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
const ahead = (days: number): string => new Date(Date.now() + days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');

const doc = (...statements: unknown[]) => ({ Version: '2012-10-17', Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' }, ...statements] });
const use = { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' };

let server: KmsServer;
let work: ReturnType<typeof tempDir>;
const K: Record<string, string> = {};

beforeAll(async () => {
  work = tempDir('keytrail-audit-');
  // IAM of both accounts, holding the roles the grants name.
  const iam = createIamService();
  for (const role of ['App', 'Admin', 'Batch', 'AppRole']) iam.addRole(A, role);
  server = await startKmsServer({
    iam,
    callerAccount: A,
    accessKeys: { AKIAAUDITEXAMPLE: 'secret' },
    enabledRegions: { [A]: [E1, W1], [B]: [E1] },
    roles: [`arn:aws:iam::${A}:role/KeyAudit`, `arn:aws:iam::${B}:role/KeyAudit`],
    maxPage: 2, // every list pages
  });
  const add = (name: string, spec: Parameters<KmsServer['addKey']>[2], account = A, region = E1) => (K[name] = server.addKey(account, region, { aliases: [`alias/${name}`], rotation: { enabled: true }, ...spec }));
  // Planted problems.
  add('public', { policy: doc({ ...use, Sid: 'Anyone', Principal: '*' }) });
  add('notPrincipal', { policy: doc({ ...use, NotPrincipal: { AWS: `arn:aws:iam::${A}:root` } }) });
  add('outside', { policy: doc({ ...use, Principal: { AWS: `arn:aws:iam::${X}:root` } }) });
  add('grantOut', { grants: [
    { granteePrincipal: `arn:aws:iam::${A}:role/App`, operations: ['Decrypt'] },
    { granteePrincipal: `arn:aws:iam::${X}:role/Partner`, operations: ['Decrypt', 'GenerateDataKey'] },
    { granteePrincipal: 'dynamodb.us-east-1.amazonaws.com', operations: ['Decrypt'] },
  ] });
  add('rotationOff', { rotation: { enabled: false } });
  add('pending', { keyState: 'PendingDeletion', deletionDate: ahead(6) });
  add('expiring', { origin: 'EXTERNAL', validTo: ahead(10) });
  add('disabledCalled', { keyState: 'Disabled', rotation: { enabled: false } });
  add('deniedPolicy', {});
  server.fail('GetKeyPolicy', K.deniedPolicy, 'AccessDeniedException');
  // Benign look-alikes.
  add('callerAccount', { policy: doc({ ...use, Principal: { AWS: '*' }, Condition: { StringEquals: { 'kms:CallerAccount': A, 'kms:ViaService': `s3.${E1}.amazonaws.com` } } }) });
  add('orgOnly', { policy: doc({ ...use, Principal: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abcdef1234' } } }) });
  add('denyStar', { policy: doc({ Sid: 'DenyDelete', Effect: 'Deny', Principal: '*', Action: 'kms:ScheduleKeyDeletion', Resource: '*' }) });
  add('grantIn', { grants: [{ granteePrincipal: `arn:aws:iam::${A}:role/App`, retiringPrincipal: `arn:aws:iam::${A}:role/Admin`, operations: ['Encrypt', 'Decrypt'] }] });
  add('rsa', { keySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY', rotation: { enabled: false } });
  add('hmac', { keySpec: 'HMAC_256', rotation: { enabled: false } });
  add('managed', { keyManager: 'AWS', aliases: ['alias/aws/s3'] });
  add('expiresLater', { origin: 'EXTERNAL', validTo: ahead(200) });
  add('neverExpires', { origin: 'EXTERNAL' });
  add('disabledQuiet', { keyState: 'Disabled' });
  server.addAlias(A, E1, 'alias/aws/ebs');
  // eu-west-1: an unused key beside a used one, under a history that covers 120 days.
  add('unused', { creationDate: ago(400) }, A, W1);
  add('used', { creationDate: ago(400) }, A, W1);
  add('young', { creationDate: ago(20) }, A, W1);
  // Account B, reached through its role only; its regions cannot be listed.
  add('bKey', {}, B, E1);
  server.denyListRegions(B);
  server.throttle('ListKeys', 2);
  server.throttle('DescribeKey', 3);

  // The CloudTrail history in the database.
  const app = identity.role(A, 'AppRole', 'app');
  const records: CtRecord[] = [
    ...[2, 1].map((d) => kmsEvent({ eventName: 'Decrypt', time: ago(d), identity: app, key: K.disabledCalled, errorCode: 'DisabledException', errorMessage: `${K.disabledCalled} is disabled.` })),
    kmsEvent({ eventName: 'GenerateDataKey', time: ago(1), identity: app, key: null, account: A, region: E1, requestParameters: { keyId: 'alias/disabledCalled', keySpec: 'AES_256' }, errorCode: 'DisabledException' }),
    // ... the same alias in another region names another key.
    kmsEvent({ eventName: 'Decrypt', time: ago(1), identity: app, key: null, account: A, region: W1, requestParameters: { keyId: 'alias/disabledCalled' }, errorCode: 'DisabledException' }),
    kmsEvent({ eventName: 'Decrypt', time: ago(30), identity: app, key: K.disabledQuiet }),
    kmsEvent({ eventName: 'Decrypt', time: ago(1), identity: app, key: K.disabledQuiet, errorCode: 'AccessDeniedException' }),
    kmsEvent({ eventName: 'Decrypt', time: ago(120), identity: app, key: K.used }),
    kmsEvent({ eventName: 'Decrypt', time: ago(100), identity: app, key: K.unused }),
    kmsEvent({ eventName: 'GenerateDataKey', time: ago(5), identity: app, key: K.used }),
    kmsEvent({ eventName: 'DescribeKey', time: ago(1), identity: app, key: K.unused }),
  ];
  writeTrail(`${work.dir}/trail`, records);
  await ingestFolder(`${work.dir}/trail`, `${work.dir}/keytrail.duckdb`);

  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.AWS_ACCESS_KEY_ID = 'AKIAAUDITEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  process.env.AWS_REGION = E1;
  process.env.AWS_CONFIG_FILE = `${work.dir}/no-config`;
  process.env.AWS_SHARED_CREDENTIALS_FILE = `${work.dir}/no-credentials`;
  // The SDK's standard retries, which the product's adaptive mode is built on: the same retry of a
  // throttled call, without the client-side rate limiter that a throttle on a client's first calls
  // drops to 0.5 calls a second (it held this file's first audit for 10 s of waiting). The default
  // is checked on its own below.
  process.env.AWS_RETRY_MODE = 'standard';
}, 60_000);
afterAll(async () => {
  await server?.stop();
  work?.cleanup();
});

const name = (arn: string | null): string => Object.entries(K).find(([, v]) => v === arn)?.[0] ?? String(arn);
const byRule = (findings: Finding[]): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const f of findings) (out[f.rule] ??= []).push(name(f.key_arn));
  for (const list of Object.values(out)) list.sort();
  return out;
};

async function audit(db: string, options: Partial<Parameters<typeof readInventory>[0]> = {}) {
  const read = await readInventory({ endpointUrl: server.endpoint, roleArns: [], regions: null, concurrency: 4, ...options });
  const store = await openStore(db);
  try {
    const runId = await saveSnapshot(store, read);
    const findings = await runAuditChecks(new DuckDBEngine(store), loadAuditChecks(), { trustedAccounts: [A], trustedOrgIds: [] });
    return { read, runId, findings };
  } finally {
    store.close();
  }
}

describe('keys audit against a KMS endpoint', () => {
  let first: Awaited<ReturnType<typeof audit>>;
  beforeAll(async () => {
    first = await audit(`${work.dir}/keytrail.duckdb`);
  }, 60_000);

  it('reads every key of every enabled region to the end of each page, through throttling', () => {
    expect(first.read.targets.map((t) => [t.account, t.regions, t.regionsFrom])).toEqual([[A, [W1, E1], 'ListRegions']]);
    const e1 = first.read.scopes.find((s) => s.region === E1)!;
    expect(e1.status).toBe('ok');
    expect(e1.keys.length).toBe(19);
    expect(e1.aliases.map((a) => a.AliasName)).toContain('alias/aws/ebs');
    expect(e1.keys.find((k) => k.keyArn === K.grantOut)!.grants.length).toBe(3);
    expect(server.calls.filter((c) => c.op === 'ListKeys' && c.region === E1 && c.body.Marker !== undefined).length).toBeGreaterThanOrEqual(9);
    expect(first.read.scopes.find((s) => s.region === W1)!.keys.length).toBe(3);
    // The throttled calls were answered ThrottlingException and retried by the SDK until they passed.
    const describes = server.calls.filter((c) => c.op === 'DescribeKey' && c.account === A);
    expect(describes.length).toBe(19 + 3 + 3);
    expect(new Set(describes.map((c) => c.body.KeyId)).size).toBe(22);
  });

  it('records the key whose policy is denied and audits the rest; unsupported rotation is an answer', async () => {
    expect(unreadable(first.read)).toEqual({ keys: 1, scopes: 0, accounts: 0 });
    const denied = first.read.scopes.flatMap((s) => s.keys).find((k) => k.keyArn === K.deniedPolicy)!;
    expect(denied.errors.map((e) => [e.operation, e.code])).toEqual([['GetKeyPolicy', 'AccessDeniedException']]);
    expect(denied.metadata?.KeyState).toBe('Enabled');
    const rsa = first.read.scopes.flatMap((s) => s.keys).find((k) => k.keyArn === K.rsa)!;
    expect(rsa.rotation).toEqual({ supported: false, enabled: null, periodDays: null, nextRotation: null });
    expect(rsa.errors).toEqual([]);
  });

  it('finds every planted problem and stays quiet on the look-alikes', () => {
    expect(byRule(first.findings)).toEqual({
      live_policy_exposure: ['notPrincipal', 'outside', 'public'],
      live_grant_exposure: ['grantOut'],
      pending_deletion: ['pending'],
      disabled_key_in_use: ['disabledCalled'],
      rotation_off: ['rotationOff'],
      material_expiry: ['expiring'],
      key_unreadable: ['deniedPolicy'],
      unused_key: ['unused'],
    });
    const f = (rule: string) => first.findings.find((x) => x.rule === rule)!;
    expect(f('live_grant_exposure')).toMatchObject({ identity_arn: `arn:aws:iam::${X}:role/Partner`, account_id: A });
    expect(f('live_grant_exposure').detail).toMatch(new RegExp(`^The grant on key ${K.grantOut} gives Decrypt, GenerateDataKey to grantee principal "arn:aws:iam::${X}:role/Partner"`));
    expect(first.findings.filter((x) => x.rule === 'live_policy_exposure').map((x) => x.detail).join('\n')).toMatch(/Statement\[1\] \("Anyone"\) allows kms:Decrypt, kms:GenerateDataKey\* to Principal "\*"/);
    expect(f('pending_deletion').detail).toMatch(/^PendingDeletion: KMS deletes the key on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \([56] days after the audit\) \(aliases: alias\/pending\)$/);
    expect(f('disabled_key_in_use')).toMatchObject({ identity_arn: `arn:aws:iam::${A}:role/AppRole`, event_count: 3, detail: 'key is Disabled; 3 failed call(s): Decrypt DisabledException, GenerateDataKey DisabledException' });
    expect(f('material_expiry').detail).toMatch(/^imported key material expires on .* \((9|10) days after the audit; key is Enabled\)$/);
    expect(f('key_unreadable').detail).toMatch(/^GetKeyPolicy: AccessDeniedException \(User: .* is not authorized to perform: kms:GetKeyPolicy/);
    expect(f('unused_key').detail).toMatch(/^no cryptographic use in the 90 days before the audit \(key is Enabled\); last used \d{4}-\d\d-\d\d$/);
    for (const x of first.findings) expect(x.key_arn).toMatch(/^arn:aws:kms:/);
  });

  it('judges trust by the given organizations: a policy limited to another organization is public', async () => {
    const store = await Store.open(`${work.dir}/keytrail.duckdb`, { readOnly: true });
    try {
      const findings = await runAuditChecks(new DuckDBEngine(store), loadAuditChecks(), { trustedAccounts: [A], trustedOrgIds: ['o-zzzzzz9999'] });
      expect(byRule(findings).live_policy_exposure).toEqual(['notPrincipal', 'orgOnly', 'outside', 'public']);
    } finally {
      store.close();
    }
  });

  it('--param material_expiry.days widens the window: 200 days finds the later material too', async () => {
    const store = await Store.open(`${work.dir}/keytrail.duckdb`, { readOnly: true });
    try {
      const findings = await runAuditChecks(new DuckDBEngine(store), loadAuditChecks(), { trustedAccounts: [A], trustedOrgIds: [] }, { material_expiry: { days: 205 } });
      expect(byRule(findings).material_expiry).toEqual(['expiresLater', 'expiring']);
    } finally {
      store.close();
    }
  });

  it('a database without CloudTrail history says nothing about unused or still-called keys', async () => {
    const { findings } = await audit(`${work.dir}/empty.duckdb`, { regions: [W1, E1] });
    const rules = byRule(findings);
    expect(rules.unused_key).toBeUndefined();
    expect(rules.disabled_key_in_use).toBeUndefined();
    expect(rules.rotation_off).toEqual(['rotationOff']);
  }, 60_000);

  it('audits several accounts through their roles; the region falls back to the credential chain', async () => {
    const { read, findings } = await audit(`${work.dir}/accounts.duckdb`, {
      roleArns: [`arn:aws:iam::${A}:role/KeyAudit`, `arn:aws:iam::${B}:role/KeyAudit`, `arn:aws:iam::${X}:role/KeyAudit`],
    });
    expect(read.targets.map((t) => [t.account, t.regions, t.regionsFrom])).toEqual([[A, [W1, E1], 'ListRegions'], [B, [E1], 'credential chain']]);
    expect(read.scopes.find((s) => s.account === B)!.keys.map((k) => k.keyArn)).toEqual([K.bKey]);
    expect(read.unreachable).toEqual([{ account: X, error: expect.objectContaining({ operation: 'AssumeRole', code: 'AccessDenied' }) }]);
    const b = server.calls.filter((c) => c.service === 'kms' && c.account === B);
    expect(b.length).toBeGreaterThan(0);
    expect(findings.find((f) => f.rule === 'key_unreadable' && f.key_arn === null)).toMatchObject({ account_id: X });
  }, 60_000);

  it('a region whose keys cannot be listed is recorded and reported; the other region is audited', async () => {
    server.failScope('ListKeys', A, 'ap-south-1', 'AccessDeniedException');
    const { read, findings } = await audit(`${work.dir}/scope.duckdb`, { regions: ['ap-south-1', W1] });
    expect(read.scopes.map((s) => [s.region, s.status])).toEqual([['ap-south-1', 'failed'], [W1, 'ok']]);
    expect(unreadable(read)).toEqual({ keys: 0, scopes: 1, accounts: 0 });
    const scopeError = findings.filter((f) => f.rule === 'key_unreadable');
    expect(scopeError).toEqual([expect.objectContaining({ key_arn: null, account_id: A })]);
    expect(scopeError[0].detail).toMatch(/^ap-south-1: ListKeys\/ListAliases: AccessDeniedException \(User: .* is not authorized to perform: kms:ListKeys/);
  }, 60_000);
});

describe('the clients\' retries', () => {
  it('are adaptive with up to 8 attempts; AWS_RETRY_MODE and AWS_MAX_ATTEMPTS decide when set', async () => {
    const target = { account: A, via: 'credential chain', regions: [E1], regionsFrom: 'option' as const };
    const settings = async () => {
      const kms = kmsClient({ endpointUrl: server.endpoint }, target, E1);
      try {
        return [(await kms.config.retryStrategy()).mode, await kms.config.maxAttempts()];
      } finally {
        kms.destroy();
      }
    };
    const mode = process.env.AWS_RETRY_MODE;
    try {
      delete process.env.AWS_RETRY_MODE;
      expect(await settings()).toEqual(['adaptive', 8]);
      process.env.AWS_RETRY_MODE = 'standard';
      process.env.AWS_MAX_ATTEMPTS = '3';
      expect(await settings()).toEqual(['standard', 3]);
    } finally {
      if (mode === undefined) delete process.env.AWS_RETRY_MODE;
      else process.env.AWS_RETRY_MODE = mode;
      delete process.env.AWS_MAX_ATTEMPTS;
    }
  });
});

describe('a KMS-only endpoint', () => {
  it('audits the credential chain\'s region, and takes the account from the key ARNs when there is no STS to ask', async () => {
    const only = await startKmsServer({ callerAccount: B, accessKeys: { AKIAAUDITEXAMPLE: 'secret' }, only: ['kms'] });
    try {
      const key = only.addKey(B, E1, { rotation: { enabled: false } });
      const read = await readInventory({ endpointUrl: only.endpoint, roleArns: [], regions: null, concurrency: 2 });
      expect(read.targets.map((t) => [t.account, t.regions, t.regionsFrom])).toEqual([[B, [E1], 'credential chain']]);
      expect(read.scopes.map((s) => [s.account, s.status, s.keys.map((k) => k.keyArn)])).toEqual([[B, 'ok', [key]]]);
      expect(only.calls.map((c) => c.service)).toEqual(Array(only.calls.length).fill('kms'));
    } finally {
      await only.stop();
    }
  }, 60_000);
});

describe('two audits: what changed', () => {
  it('reports a changed policy, a new grant, rotation turned off and a key scheduled for deletion, and nothing else', async () => {
    const db = `${work.dir}/diff.duckdb`;
    const regions = [E1];
    const before = await audit(db, { regions });
    expect(before.findings.filter((f) => f.rule === 'key_changed')).toEqual([]);
    server.update(K.callerAccount, { policy: doc({ ...use, Principal: { AWS: `arn:aws:iam::${A}:role/App` } }) });
    server.update(K.grantIn, { grants: [
      { grantId: 'kept', granteePrincipal: `arn:aws:iam::${A}:role/App`, operations: ['Decrypt'] },
      { grantId: 'added', granteePrincipal: `arn:aws:iam::${A}:role/Batch`, operations: ['Encrypt'] },
    ] });
    server.update(K.orgOnly, { rotation: { enabled: false } });
    server.update(K.denyStar, { keyState: 'PendingDeletion', deletionDate: '2099-01-31T00:00:00Z' });
    // A key deleted while the run reads it: nothing of it can be read, which is not a change.
    for (const op of ['DescribeKey', 'GetKeyPolicy', 'GetKeyRotationStatus', 'ListGrants', 'ListResourceTags']) server.fail(op, K.grantOut, 'NotFoundException');
    const after = await audit(db, { regions });
    expect(after.findings.find((f) => f.rule === 'key_unreadable' && f.key_arn === K.grantOut)!.detail).toMatch(/^DescribeKey: NotFoundException \(Key '.*' does not exist\); GetKeyPolicy: NotFoundException/);
    const changes = Object.fromEntries(after.findings.filter((f) => f.rule === 'key_changed').map((f) => [name(f.key_arn), f.detail]));
    // grantIn's grants all differ from before (the old grant got a new id), so it lists both sides.
    expect(changes).toEqual({
      callerAccount: 'key policy changed',
      grantIn: expect.stringMatching(/^grant [0-9a-f]{64} to arn:aws:iam::111111111111:role\/App removed; new grant added to arn:aws:iam::111111111111:role\/Batch \(Encrypt\); new grant kept to arn:aws:iam::111111111111:role\/App \(Decrypt\)$/),
      orgOnly: 'rotation on -> off',
      denyStar: 'state Enabled -> PendingDeletion (deletion on 2099-01-31)',
    });
    const f = after.findings.find((x) => x.rule === 'key_changed')!;
    expect(f.first_seen! < f.last_seen! || f.first_seen === f.last_seen).toBe(true);
    // Restore what other tests see.
    server.update(K.denyStar, { keyState: 'Enabled', deletionDate: undefined });
  }, 60_000);
});

describe('keytrail detect includes the latest audit', () => {
  it('auditFindings returns the checks of the latest snapshot, and nothing for a database without one', async () => {
    const store = await Store.open(`${work.dir}/keytrail.duckdb`, { readOnly: true });
    try {
      const findings = await auditFindings(new DuckDBEngine(store), { trustedAccounts: [A], trustedOrgIds: [] });
      expect(byRule(findings).rotation_off).toEqual(['rotationOff']);
    } finally {
      store.close();
    }
    const bare = await openStore(`${work.dir}/bare.duckdb`);
    bare.close();
    const ro = await Store.open(`${work.dir}/bare.duckdb`, { readOnly: true });
    try {
      expect(await auditFindings(new DuckDBEngine(ro), { trustedAccounts: [A], trustedOrgIds: [] })).toEqual([]);
    } finally {
      ro.close();
    }
  });
});
