// Each detection on a synthetic trail, loaded with the real ingest: it fires on its positive case
// and stays silent on the benign look-alike beside it. One trail holds every scenario, each with its
// own callers and keys, so a rule's findings must be exactly its positives.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBEngine } from '../src/engine.js';
import { loadRules } from '../src/detect/rules.js';
import { runDetections, type Finding, type RunOptions } from '../src/detect/run.js';
import { resolveTrust } from '../src/detect/trust.js';
import { at, identity, keyArn, kmsEvent, loadTrail, repeat, type CtRecord, type LoadedTrail } from './helpers/trail.js';

const A = '111111111111'; // owns the trail
const B = '222222222222'; // owns the trail too (a second account of the organization)
const X = '999999999999'; // outside

const K = {
  reports: keyArn(A, '0000aaaa-0000-0000-0000-000000000001'),
  lake: keyArn(A, '0000aaaa-0000-0000-0000-000000000002'),
  quiet: keyArn(A, '0000aaaa-0000-0000-0000-000000000003'),
  trailLogs: keyArn(A, '0000aaaa-0000-0000-0000-000000000004'),
  app: keyArn(A, '0000aaaa-0000-0000-0000-000000000005'),
  app2: keyArn(A, '0000aaaa-0000-0000-0000-000000000006'),
  app3: keyArn(A, '0000aaaa-0000-0000-0000-000000000007'),
  shared: keyArn(A, '0000aaaa-0000-0000-0000-000000000008'),
  archive: keyArn(A, '0000aaaa-0000-0000-0000-000000000009', 'us-west-2'),
  byok: keyArn(A, '0000aaaa-0000-0000-0000-00000000000a', 'us-west-2'),
  byok2: keyArn(A, '0000aaaa-0000-0000-0000-00000000000e', 'us-west-2'),
  open: keyArn(A, '0000aaaa-0000-0000-0000-00000000000b'),
  managed: keyArn(A, '0000aaaa-0000-0000-0000-00000000000c'),
  granted: keyArn(A, '0000aaaa-0000-0000-0000-00000000000d'),
  bOwn: keyArn(B, '0000bbbb-0000-0000-0000-000000000001'),
  partner: keyArn(X, '0000eeee-0000-0000-0000-000000000001'),
  partnerShared: keyArn(X, '0000eeee-0000-0000-0000-000000000002'),
  exportA: keyArn(A, '0000aaaa-0000-0000-0000-000000000010'),
  exportB: keyArn(A, '0000aaaa-0000-0000-0000-000000000011'),
};

const who = {
  reporting: identity.role(A, 'ReportingRole', 'report-builder'),
  lake: identity.via(identity.role(A, 'DataLakeRole', 'athena'), 's3.amazonaws.com'),
  quietUser: identity.user(A, 'quiet.user'),
  newJob: identity.role(A, 'NewBatchJob', 'run-1'),
  backup: identity.via(identity.role(A, 'BackupRole', 'AWSBackup'), 'backup.amazonaws.com'),
  tasks: identity.role(A, 'AppTaskRole', 'ecs-task'),
  lambda: identity.role(A, 'EdgeLambdaRole', 'edge'),
  cloudtrail: identity.service('cloudtrail.amazonaws.com'),
  sam: identity.user(A, 'sam.rivera'),
  carol: identity.user(A, 'carol.ops'),
  latecomer: identity.user(A, 'late.comer'),
  build: identity.role(A, 'BuildAgentRole', 'i-0abc'),
  flaky: identity.user(A, 'flaky.user'),
  archiveJob: identity.role(A, 'ArchiveRole', 'weekly'),
  partner: identity.role(X, 'PartnerRole', 'sync'),
  orgReader: identity.role(B, 'ReportingRole', 'reader'),
  exporter: identity.role(A, 'VendorExportRole', 'export'),
  jordan: identity.user(A, 'jordan.lee'),
  admin: identity.role(A, 'AdministratorAccess', 'pat'),
  root: identity.root(A),
  kms: identity.kmsInternal(A),
  bUser: identity.user(B, 'b.user'),
  exportJob: identity.role(A, 'NightlyExportRole', 'export'),
};

const arnOf = (i: Record<string, unknown>): string =>
  ((i.sessionContext as { sessionIssuer?: { arn?: string } } | undefined)?.sessionIssuer?.arn ?? (i.arn as string | undefined) ?? (i.invokedBy as string));

const policy = (statements: unknown[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2);
const ownRoot = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' };

function trail(): CtRecord[] {
  const r: CtRecord[] = [];
  const ev = (o: Parameters<typeof kmsEvent>[0]) => r.push(kmsEvent(o));
  const days = (from: number, to: number, f: (d: number) => void) => {
    for (let d = from; d <= to; d++) f(d);
  };

  // volume_spike: ReportingRole decrypts ~50/day, then 1500 on day 14.
  days(0, 13, (d) => r.push(...repeat(45 + ((d * 7) % 11), at(d, 8), 600, (t) => kmsEvent({ eventName: 'Decrypt', time: t, identity: who.reporting, key: K.reports, sourceIp: '10.0.0.5' }))));
  r.push(...repeat(1500, at(14, 1), 150, (t) => kmsEvent({ eventName: 'Decrypt', time: t, identity: who.reporting, key: K.reports, sourceIp: '10.0.0.5' })));
  days(15, 20, (d) => r.push(...repeat(50, at(d, 8), 600, (t) => kmsEvent({ eventName: 'Decrypt', time: t, identity: who.reporting, key: K.reports, sourceIp: '10.0.0.5' }))));
  // ... and an export role's burst from 23:00 to 01:00 on two keys (~40/day on each before): one incident.
  for (const k of [K.exportA, K.exportB]) {
    days(0, 11, (d) => r.push(...repeat(40, at(d, 12), 60, (t) => kmsEvent({ eventName: 'GenerateDataKey', time: t, identity: who.exportJob, key: k, sourceIp: '10.0.0.9' }))));
    r.push(...repeat(1000, at(12, 23), 120, (t) => kmsEvent({ eventName: 'GenerateDataKey', time: t, identity: who.exportJob, key: k, sourceIp: '10.0.0.9' })));
  }
  // ... benign: S3 decrypting for the data-lake role, ~300/day, steady (+-10%), every day.
  days(0, 20, (d) => r.push(...repeat(300 + ((d * 13) % 31) - 15, at(d, 0), 1400, (t) => kmsEvent({ eventName: 'Decrypt', time: t, identity: who.lake, key: K.lake }))));
  // ... benign: CloudTrail (an AWS service principal) encrypting its logs, ~200/day.
  days(0, 20, (d) => r.push(...repeat(200 + (d % 3) * 5, at(d, 0), 1400, (t) => kmsEvent({ eventName: 'GenerateDataKey', time: t, identity: who.cloudtrail, key: K.trailLogs }))));
  // ... benign: a quiet user's first busy day (2/day, then 60: 30x, but under the floor).
  days(0, 13, (d) => r.push(...repeat(2, at(d, 9), 60, (t) => kmsEvent({ eventName: 'Decrypt', time: t, identity: who.quietUser, key: K.quiet }))));
  r.push(...repeat(60, at(14, 9), 60, (t) => kmsEvent({ eventName: 'Decrypt', time: t, identity: who.quietUser, key: K.quiet })));
  // ... benign: a new job's first day, busy from the start (no baseline yet).
  r.push(...repeat(500, at(15, 2), 60, (t) => kmsEvent({ eventName: 'GenerateDataKey', time: t, identity: who.newJob, key: K.quiet })));

  // ... benign: a weekly full backup (every 7th day ~400, else 3): its own same-weekday baseline.
  days(0, 20, (d) => r.push(...repeat(d % 7 === 0 ? 400 + d : 3, at(d, 3), 60, (t) => kmsEvent({ eventName: 'GenerateDataKey', time: t, identity: who.backup, key: K.quiet }))));

  // new_source_ip: sam always uses the office (and twice home) IP, then a new one on day 16.
  days(0, 20, (d) => ev({ eventName: 'Decrypt', time: at(d, 9, 30), identity: who.sam, key: K.app, sourceIp: '198.51.100.7' }));
  for (const d of [1, 3]) ev({ eventName: 'DescribeKey', time: at(d, 21), identity: who.sam, key: K.app, sourceIp: '198.51.100.8' });
  for (let i = 0; i < 4; i++) ev({ eventName: i % 2 ? 'Decrypt' : 'DescribeKey', time: at(16, 3, 47, i * 20), identity: who.sam, key: i < 2 ? K.app : K.app2, sourceIp: '203.0.113.66' });
  // ... benign: carol's second IP, known from day 2 (learning), used again later.
  days(0, 20, (d) => ev({ eventName: 'Decrypt', time: at(d, 10), identity: who.carol, key: K.app, sourceIp: '198.51.100.20' }));
  for (const d of [2, 15, 16]) ev({ eventName: 'Decrypt', time: at(d, 15), identity: who.carol, key: K.app, sourceIp: '2001:db8::21' });
  // ... benign: values that are not IP addresses, first seen late.
  ev({ eventName: 'Decrypt', time: at(12, 11), identity: identity.via(who.carol, 'secretsmanager.amazonaws.com'), key: K.app });
  ev({ eventName: 'Decrypt', time: at(13, 11), identity: who.carol, key: K.app, sourceIp: 'AWS Internal' });
  // ... benign: a caller first seen on day 15 learns its addresses from then on.
  for (const d of [15, 16]) ev({ eventName: 'Decrypt', time: at(d, 11), identity: who.latecomer, key: K.app, sourceIp: `198.51.100.${40 + d}` });

  // ... benign: ECS tasks get a new private address in the VPC every day (same /16 network) ...
  days(0, 20, (d) => ev({ eventName: 'Decrypt', time: at(d, 13), identity: who.tasks, key: K.app, sourceIp: `10.40.${d}.${100 + d}` }));
  // ... positive: ... until the role calls from another private network.
  ev({ eventName: 'Decrypt', time: at(19, 13, 30), identity: who.tasks, key: K.app, sourceIp: '172.31.5.5' });
  // ... benign: a function on public AWS addresses: a new one each time, from the start (roaming).
  days(0, 20, (d) => r.push(...repeat(3, at(d, 14), 30, (t, i) => kmsEvent({ eventName: 'Decrypt', time: t, identity: who.lambda, key: K.app, sourceIp: `3.${80 + d}.${i}.${d * 3 + i}` }))));

  // access_denied_burst: 15 denials in ~5 minutes on 3 keys.
  r.push(...repeat(15, at(16, 22, 14), 5, (t, i) => kmsEvent({ eventName: i % 3 ? 'Decrypt' : 'GenerateDataKey', time: t, identity: who.build, key: [K.app, K.app2, K.app3][i % 3], sourceIp: '198.51.100.77', errorCode: i % 4 ? 'AccessDenied' : 'AccessDeniedException' })));
  // ... benign: one denial a day; and 9 in ten minutes (under min_errors).
  days(0, 20, (d) => ev({ eventName: 'Decrypt', time: at(d, 16), identity: who.flaky, key: K.app3, errorCode: 'AccessDenied' }));
  r.push(...repeat(9, at(18, 12), 9, (t) => kmsEvent({ eventName: 'Decrypt', time: t, identity: who.flaky, key: K.app3, errorCode: 'AccessDenied' })));
  // ... benign: a disabled key refusing a job 30 times: a key state error, not a denial.
  r.push(...repeat(30, at(17, 2), 5, (t) => kmsEvent({ eventName: 'Decrypt', time: t, identity: who.archiveJob, key: K.archive, errorCode: 'DisabledException' })));

  // cross_account_use: a role of X decrypts with a key of A (in A's trail).
  r.push(...repeat(5, at(16, 2, 11), 30, (t) => kmsEvent({ eventName: 'Decrypt', time: t, identity: who.partner, key: K.shared, sourceIp: '192.0.2.50' })));
  // ... benign: a role of B (trusted) uses the same key.
  r.push(...repeat(5, at(16, 4), 30, (t) => kmsEvent({ eventName: 'Decrypt', time: t, identity: who.orgReader, key: K.shared })));
  // B's own trail, so that B is one of the data's accounts.
  ev({ eventName: 'Decrypt', time: at(5, 12), identity: who.bUser, key: K.bOwn });

  // external_key_use: an A role encrypts with X's key; and re-encrypts into it.
  r.push(...repeat(4, at(17, 16, 20), 10, (t, i) => kmsEvent({ eventName: i % 2 ? 'GenerateDataKey' : 'Encrypt', time: t, identity: who.exporter, key: K.partner, account: A })));
  ev({
    eventName: 'ReEncrypt', time: at(17, 16, 40), identity: who.exporter, key: K.app, account: A,
    requestParameters: { sourceKeyId: K.app, destinationKeyId: K.partner }, extra: { resources: [{ accountId: A, type: 'AWS::KMS::Key', ARN: K.app }, { accountId: X, type: 'AWS::KMS::Key', ARN: K.partner }] },
  });
  // ... benign: decrypting data a partner shared, and re-encrypting it under our own key.
  ev({ eventName: 'Decrypt', time: at(17, 17), identity: who.exporter, key: K.partnerShared, account: A });
  ev({
    eventName: 'ReEncrypt', time: at(17, 17, 5), identity: who.exporter, key: K.partnerShared, account: A,
    requestParameters: { sourceKeyId: K.partnerShared, destinationKeyId: 'alias/app-data' }, extra: { resources: [{ accountId: X, type: 'AWS::KMS::Key', ARN: K.partnerShared }, { accountId: A, type: 'AWS::KMS::Key', ARN: K.app }] },
  });
  // ... benign: encrypting with a key of B (trusted).
  ev({ eventName: 'Encrypt', time: at(17, 17, 10), identity: who.exporter, key: K.bOwn, account: A });

  // key_loss and key_weakened: jordan disables rotation, disables and schedules deletion; imports
  // material into an EXTERNAL key and deletes it.
  ev({ eventName: 'DisableKeyRotation', time: at(16, 20, 3), identity: who.jordan, key: K.archive });
  ev({ eventName: 'DisableKey', time: at(16, 20, 6), identity: who.jordan, key: K.archive });
  ev({
    eventName: 'ScheduleKeyDeletion', time: at(16, 20, 9), identity: who.jordan, key: K.archive,
    requestParameters: { keyId: K.archive, pendingWindowInDays: 7 },
    responseElements: { keyId: K.archive, deletionDate: 'May 24, 2024, 8:09:00 PM', keyState: 'PendingDeletion', pendingWindowInDays: 7 },
  });
  ev({ eventName: 'CreateKey', time: at(15, 14), identity: who.jordan, key: K.byok, requestParameters: { origin: 'EXTERNAL', keyUsage: 'ENCRYPT_DECRYPT' }, responseElements: { keyMetadata: { arn: K.byok, keyState: 'PendingImport', origin: 'EXTERNAL' } } });
  ev({ eventName: 'ImportKeyMaterial', time: at(15, 14, 5), identity: who.jordan, key: K.byok, requestParameters: { keyId: K.byok, validTo: 'Jun 15, 2024, 12:00:00 AM', expirationModel: 'KEY_MATERIAL_EXPIRES' } });
  ev({ eventName: 'DeleteImportedKeyMaterial', time: at(15, 17, 41), identity: who.jordan, key: K.byok });
  ev({ eventName: 'CreateKey', time: at(15, 15), identity: who.jordan, key: K.byok2, requestParameters: { origin: 'EXTERNAL' }, responseElements: { keyMetadata: { arn: K.byok2, keyState: 'PendingImport', origin: 'EXTERNAL' } } });
  ev({ eventName: 'ImportKeyMaterial', time: at(15, 15, 5), identity: who.jordan, key: K.byok2, requestParameters: { keyId: K.byok2, validTo: 'Jun 15, 2024, 12:00:00 AM', expirationModel: 'KEY_MATERIAL_EXPIRES' } });
  // ... benign: EnableKey, EnableKeyRotation, a refused DisableKey, and KMS's own events.
  const office = '198.51.100.20';
  ev({ eventName: 'EnableKeyRotation', time: at(16, 16), identity: who.carol, key: K.app, sourceIp: office, requestParameters: { keyId: K.app, rotationPeriodInDays: 365 } });
  ev({ eventName: 'EnableKey', time: at(16, 16, 5), identity: who.carol, key: K.app, sourceIp: office });
  ev({ eventName: 'DisableKey', time: at(16, 16, 10), identity: who.carol, key: K.app2, sourceIp: office, errorCode: 'NotFoundException' });
  ev({ eventName: 'RotateKey', time: at(10, 3), identity: who.kms, key: K.app });
  ev({ eventName: 'DeleteKey', time: at(11, 3), identity: who.kms, key: K.app3, requestParameters: null });
  ev({ eventName: 'DeleteExpiredKeyMaterial', time: at(11, 2), identity: who.kms, key: K.app3, requestParameters: null });

  // key_policy_exposure: Principal "*" with no condition; a policy naming X's root (at CreateKey).
  ev({ eventName: 'PutKeyPolicy', time: at(16, 18, 26), identity: who.admin, key: K.open, requestParameters: { keyId: K.open, policyName: 'default', policy: policy([ownRoot, { Sid: 'AllowEveryone', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*' }]) } });
  ev({ eventName: 'CreateKey', time: at(16, 18, 30), identity: who.admin, key: K.granted, requestParameters: { policy: policy([ownRoot, { Sid: 'Partner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${X}:root` }, Action: ['kms:Decrypt'], Resource: '*' }]) }, responseElements: { keyMetadata: { arn: K.granted, origin: 'AWS_KMS', keyState: 'Enabled' } } });
  // ... benign: the AWS-managed key pattern ("*" limited by kms:CallerAccount and kms:ViaService),
  // the default policy, a policy for a role of B, and a refused PutKeyPolicy.
  ev({
    eventName: 'PutKeyPolicy', time: at(16, 18, 40), identity: who.admin, key: K.managed,
    requestParameters: { keyId: K.managed, policyName: 'default', policy: policy([
      { Sid: 'Allow access through SQS', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'], Resource: '*', Condition: { StringEquals: { 'kms:CallerAccount': A, 'kms:ViaService': 'sqs.us-east-1.amazonaws.com' } } },
      { Sid: 'Allow direct access to key metadata', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'], Resource: '*' },
    ]) },
  });
  ev({ eventName: 'PutKeyPolicy', time: at(16, 18, 45), identity: who.admin, key: K.app, requestParameters: { keyId: K.app, policyName: 'default', policy: policy([ownRoot, { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:role/ReportingRole` }, Action: 'kms:Decrypt', Resource: '*' }]) } });
  ev({ eventName: 'PutKeyPolicy', time: at(16, 18, 50), identity: who.admin, key: K.app2, errorCode: 'MalformedPolicyDocumentException', requestParameters: { keyId: K.app2, policyName: 'default', policy: policy([{ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' }]) } });

  // grant_exposure: grantee in X; and a retiring principal in X.
  ev({ eventName: 'CreateGrant', time: at(17, 21, 48), identity: who.admin, key: K.granted, requestParameters: { keyId: K.granted, granteePrincipal: `arn:aws:iam::${X}:role/x`, operations: ['Decrypt', 'DescribeKey'] } });
  ev({ eventName: 'CreateGrant', time: at(17, 21, 50), identity: who.admin, key: K.granted, requestParameters: { keyId: K.granted, granteePrincipal: `arn:aws:iam::${A}:role/App`, retiringPrincipal: `arn:aws:iam::${X}:role/retirer`, operations: ['Decrypt'] } });
  // ... benign: grants to a role of B, to our own role, to an AWS service, and EBS's own grant.
  ev({ eventName: 'CreateGrant', time: at(17, 22), identity: who.admin, key: K.granted, requestParameters: { keyId: K.granted, granteePrincipal: `arn:aws:iam::${B}:role/ReportingRole`, operations: ['Decrypt'] } });
  ev({ eventName: 'CreateGrant', time: at(17, 22, 5), identity: who.admin, key: K.granted, requestParameters: { keyId: K.granted, granteePrincipal: `arn:aws:iam::${A}:role/DataLakeRole`, operations: ['Decrypt'] } });
  ev({ eventName: 'CreateGrant', time: at(17, 22, 10), identity: identity.via(who.admin, 'rds.amazonaws.com'), key: K.granted, requestParameters: { keyId: K.granted, granteePrincipal: 'rds.us-east-1.amazonaws.com', retiringPrincipal: 'rds.us-east-1.amazonaws.com', operations: ['Decrypt', 'GenerateDataKey'] } });
  ev({ eventName: 'CreateGrant', time: at(17, 22, 15), identity: identity.via(who.admin, 'ec2.amazonaws.com'), key: K.granted, requestParameters: { keyId: K.granted, granteePrincipal: `${A}:aws:ec2-infrastructure:i-81e2f56c`, constraints: { encryptionContextSubset: { 'aws:ebs:id': 'vol-f67bafb2' } } } });

  // root_use: the root user describes and decrypts from the console.
  for (let i = 0; i < 3; i++) ev({ eventName: i ? 'Decrypt' : 'DescribeKey', time: at(18, 15, 2 + i), identity: who.root, key: i === 2 ? K.app2 : K.app, sourceIp: '203.0.113.99' });
  // ... benign: an AssumedRole session named "root", and KMS's own (typeless) identity already above.
  ev({ eventName: 'Decrypt', time: at(18, 15, 10), identity: identity.role(A, 'OrganizationAccountAccessRole', 'root'), key: K.app });

  return r;
}

let loaded: LoadedTrail;
let engine: DuckDBEngine;
let options: RunOptions;
let all: Finding[];
const rules = loadRules();

beforeAll(async () => {
  loaded = await loadTrail(trail());
  engine = await DuckDBEngine.open(loaded.db);
  options = { since: null, trust: await resolveTrust(engine, null, null) };
  all = await runDetections(engine, rules, options);
}, 120_000);
afterAll(async () => {
  await engine?.close();
  loaded?.cleanup();
});

const of = (rule: string, findings = all) => findings.filter((f) => f.rule === rule);
const brief = (f: Finding) => ({ identity_arn: f.identity_arn, key_arn: f.key_arn, source_ip: f.source_ip, event_count: f.event_count });

describe('trusted accounts', () => {
  it('default to the accounts that own the data', () => {
    expect(options.trust.trustedAccounts).toEqual([A, B]);
  });
});

describe('volume_spike', () => {
  it("fires on a caller's day far above its own baseline, and not on steady services, quiet or new callers", () => {
    expect(of('volume_spike').map(brief)).toEqual([
      { identity_arn: arnOf(who.exportJob), key_arn: null, source_ip: '10.0.0.9', event_count: 2000 },
      { identity_arn: arnOf(who.reporting), key_arn: K.reports, source_ip: '10.0.0.5', event_count: 1500 },
    ]);
    const f = of('volume_spike')[1];
    expect(f).toMatchObject({ severity: 'medium', first_seen: '2024-05-15T01:00:00Z', account_id: A });
    expect(f.detail).toMatch(/^Decrypt: 1500 calls on 2024-05-15 against a median of \d+(\.\d)?\/day \(MAD \d+(\.\d)?\) over 14 earlier active days$/);
  });

  it('gives one finding for a burst past midnight on two keys', () => {
    const [f] = of('volume_spike').filter((x) => x.identity_arn === arnOf(who.exportJob));
    expect(f).toMatchObject({ key_arn: null, source_ip: '10.0.0.9', first_seen: '2024-05-13T23:00:00Z', last_seen: '2024-05-14T00:59:52Z', event_count: 2000 });
    expect(f.detail).toMatch(/^4 spikes on 2 key\(s\): GenerateDataKey: 500 calls on 2024-05-13 against a median of 40\.0\/day \(MAD 0\.0\) over 12 earlier active days \(arn:aws:kms:[^)]+\); /);
    expect(f.detail!.match(/GenerateDataKey: 500 calls on 2024-05-1[34]/g)).toHaveLength(4);
  });

  it('takes its parameters: a lower floor catches the quiet user', async () => {
    const findings = await runDetections(engine, rules.filter((r) => r.id === 'volume_spike'), { ...options, params: { volume_spike: { min_count: 50 } } });
    expect(findings.map((f) => f.identity_arn)).toEqual([arnOf(who.exportJob), arnOf(who.reporting), arnOf(who.quietUser)]);
  });
});

describe('new_source_ip', () => {
  it('fires on an address never seen before, once, and not on a known second address or non-addresses', () => {
    expect(of('new_source_ip').map(brief)).toEqual([
      { identity_arn: arnOf(who.sam), key_arn: null, source_ip: '203.0.113.66', event_count: 4 },
      { identity_arn: arnOf(who.tasks), key_arn: K.app, source_ip: '172.31.5.5', event_count: 1 },
    ]);
    expect(of('new_source_ip')[0]).toMatchObject({ severity: 'low', first_seen: '2024-05-17T03:47:00Z', last_seen: '2024-05-17T03:48:00Z' });
    expect(of('new_source_ip')[0].detail).toBe('first call from 203.0.113.66 16 days after the caller was first seen: Decrypt, DescribeKey on 2 keys');
    expect(of('new_source_ip')[1].detail).toBe('first call from 172.31.5.5 (network 172.31.0.0/16) 19 days after the caller was first seen: Decrypt');
  });

  it('reports nothing during the learning period', async () => {
    const findings = await runDetections(engine, rules.filter((r) => r.id === 'new_source_ip'), { ...options, params: { new_source_ip: { learning_days: 20 } } });
    expect(findings).toEqual([]);
  });
});

describe('access_denied_burst', () => {
  it('fires on a burst of denials across keys, not on a steady trickle, a short run or key state errors', () => {
    expect(of('access_denied_burst').map(brief)).toEqual([{ identity_arn: arnOf(who.build), key_arn: null, source_ip: '198.51.100.77', event_count: 15 }]);
    expect(of('access_denied_burst')[0].detail).toBe('15 denied calls (AccessDenied, AccessDeniedException) in 5 min on 3 key(s): Decrypt, GenerateDataKey');
  });

  it('a shorter threshold catches the short run, but still not the daily trickle', async () => {
    const findings = await runDetections(engine, rules.filter((r) => r.id === 'access_denied_burst'), { ...options, params: { access_denied_burst: { min_errors: 9 } } });
    expect(findings.map((f) => [f.identity_arn, f.event_count])).toEqual([[arnOf(who.build), 15], [arnOf(who.flaky), 9]]);
  });
});

describe('cross_account_use', () => {
  it('fires on a principal of an untrusted account using our key, not on a trusted account', () => {
    expect(of('cross_account_use').map(brief)).toEqual([{ identity_arn: arnOf(who.partner), key_arn: K.shared, source_ip: '192.0.2.50', event_count: 5 }]);
    expect(of('cross_account_use')[0]).toMatchObject({ severity: 'high', account_id: A, detail: `account ${X} used a key of account ${A}: Decrypt` });
  });
});

describe('external_key_use', () => {
  it('fires on encryption under an untrusted key, not on decryption or re-encryption into our own key', () => {
    expect(of('external_key_use').map(brief)).toEqual([{ identity_arn: arnOf(who.exporter), key_arn: K.partner, source_ip: '203.0.113.10', event_count: 5 }]);
    expect(of('external_key_use')[0].detail).toBe(`Encrypt, GenerateDataKey, ReEncrypt with a key of account ${X}, which is not trusted`);
  });
});

describe('key_loss', () => {
  it('fires on DisableKey, ScheduleKeyDeletion and DeleteImportedKeyMaterial by a caller, once per burst, not on refused calls or KMS itself', () => {
    expect(of('key_loss').map((f) => [f.identity_arn, f.key_arn, f.detail])).toEqual([
      [arnOf(who.jordan), K.byok, 'DeleteImportedKeyMaterial'],
      // Disabled, then scheduled for deletion 3 minutes later: one incident.
      [arnOf(who.jordan), K.archive, 'DisableKey; ScheduleKeyDeletion (waiting period 7 days, deletion May 24, 2024, 8:09:00 PM)'],
    ]);
  });
});

describe('key_weakened', () => {
  it('fires on DisableKeyRotation, not on EnableKeyRotation or RotateKey (imports are ransom_key_setup’s)', () => {
    expect(of('key_weakened').map((f) => [f.identity_arn, f.key_arn, f.detail])).toEqual([
      [arnOf(who.jordan), K.archive, 'DisableKeyRotation'],
    ]);
  });
});

describe('key_policy_exposure', () => {
  it('fires on Principal "*" without a narrowing condition and on an untrusted account, not on the AWS-managed key pattern', () => {
    const found = of('key_policy_exposure');
    expect(found.map((f) => f.key_arn)).toEqual([K.open, K.granted]);
    expect(found[0].detail).toBe('Statement[1] ("AllowEveryone") allows kms:* to Principal "*" with no condition that limits it to trusted accounts or the organization');
    expect(found[1].detail).toBe(`Statement[1] ("Partner") allows kms:Decrypt to "arn:aws:iam::${X}:root" in account ${X}, which is not a trusted account`);
  });

  it('judges organization conditions by --config trustedOrgIds', async () => {
    const orgPolicy = policy([{ Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-aaaaaaaaaa' } } }]);
    const t = await loadTrail([kmsEvent({ eventName: 'PutKeyPolicy', time: at(1), identity: who.admin, key: K.open, requestParameters: { keyId: K.open, policy: orgPolicy } })]);
    const e = await DuckDBEngine.open(t.db);
    try {
      const rule = rules.filter((r) => r.id === 'key_policy_exposure');
      const base = { trustedAccounts: [A] };
      expect(await runDetections(e, rule, { since: null, trust: { ...base, trustedOrgIds: [] } })).toEqual([]);
      expect(await runDetections(e, rule, { since: null, trust: { ...base, trustedOrgIds: ['o-aaaaaaaaaa'] } })).toEqual([]);
      const other = await runDetections(e, rule, { since: null, trust: { ...base, trustedOrgIds: ['o-bbbbbbbbbb'] } });
      expect(other.map((f) => f.detail)).toEqual([expect.stringContaining('limits it only to organization(s) o-aaaaaaaaaa, which are not trusted')]);
    } finally {
      await e.close();
      t.cleanup();
    }
  });
});

describe('grant_exposure', () => {
  it('fires on a grantee or retiring principal in an untrusted account, not on trusted accounts, services or EBS', () => {
    const found = of('grant_exposure');
    expect(found.map((f) => f.detail)).toEqual([
      `CreateGrant on key ${K.granted} gives Decrypt, DescribeKey to grantee principal "arn:aws:iam::${X}:role/x" in account ${X}, which is not a trusted account`,
      `CreateGrant on key ${K.granted} gives kms:RetireGrant to retiring principal "arn:aws:iam::${X}:role/retirer" in account ${X}, which is not a trusted account`,
    ]);
    expect(found.every((f) => f.identity_arn === arnOf(who.admin) && f.key_arn === K.granted)).toBe(true);
  });
});

describe('root_use', () => {
  it('fires on the root user, not on a role session named root or KMS itself', () => {
    expect(of('root_use').map(brief)).toEqual([{ identity_arn: `arn:aws:iam::${A}:root`, key_arn: null, source_ip: '203.0.113.99', event_count: 3 }]);
    expect(of('root_use')[0].detail).toBe('root user called Decrypt, DescribeKey on 2 key(s)');
  });
});

describe('all detections', () => {
  it('find exactly the positives', () => {
    expect(all.map((f) => f.rule).sort()).toEqual([
      // KMS deleting K.app3's expired material is not key_loss's, but it is expired_key_material's.
      // ransom_key_setup: jordan's two EXTERNAL keys (the one whose material was deleted medium, the
      // other low). A new key's own policy is no key_policy_change (key_policy_exposure judges it).
      'access_denied_burst', 'cross_account_use', 'expired_key_material', 'external_key_use', 'grant_exposure', 'grant_exposure',
      'key_loss', 'key_loss', 'key_policy_exposure', 'key_policy_exposure', 'key_weakened',
      'new_source_ip', 'new_source_ip', 'ransom_key_setup', 'ransom_key_setup', 'root_use', 'volume_spike', 'volume_spike',
    ]);
    expect(of('ransom_key_setup').map((f) => [f.key_arn, f.severity])).toEqual([[K.byok, 'medium'], [K.byok2, 'low']]);
    expect(of('key_policy_change')).toEqual([]);
    // Worst first.
    expect(all.map((f) => f.severity)).toEqual([...all.map((f) => f.severity)].sort((a, b) => ['high', 'medium', 'low'].indexOf(a) - ['high', 'medium', 'low'].indexOf(b)));
  });

  it('--since reports only what happened since, with earlier days still the baseline', async () => {
    const since = await runDetections(engine, rules, { ...options, since: '2024-05-17 00:00:00' });
    expect(since.every((f) => f.last_seen! >= '2024-05-17T00:00:00Z')).toBe(true);
    expect(since.map((f) => f.rule)).not.toContain('volume_spike'); // day 14 = 2024-05-15
    expect(since.filter((f) => f.rule === 'new_source_ip')).toHaveLength(2);
    const spike = await runDetections(engine, rules.filter((r) => r.id === 'volume_spike'), { ...options, since: '2024-05-15 00:00:00' });
    expect(spike).toHaveLength(1);
  });

  it('trusting the outside account silences what concerned it', async () => {
    const trusting = await runDetections(engine, rules, { ...options, trust: { trustedAccounts: [A, B, X], trustedOrgIds: [] } });
    const rulesLeft = new Set(trusting.map((f) => f.rule));
    for (const rule of ['cross_account_use', 'external_key_use', 'grant_exposure']) expect(rulesLeft.has(rule)).toBe(false);
    expect(of('key_policy_exposure', trusting).map((f) => f.key_arn)).toEqual([K.open]); // "*" stays public
  });
});

describe('the key state view', () => {
  it('has one row per key with state, deletion date, rotation, origin, expiry and policy change', async () => {
    const rows = await engine.query('SELECT * FROM kms_key_state WHERE key_arn IN ($a, $b, $c, $d, $e, $f) ORDER BY key_arn', { a: K.archive, b: K.byok, c: K.app, d: K.managed, e: K.lake, f: K.byok2 });
    const byKey = Object.fromEntries(rows.map((r) => [r.key_arn as string, r]));
    expect(byKey[K.archive]).toMatchObject({ key_state: 'PendingDeletion', deletion_date: '2024-05-24 20:09:00', rotation: 'off', key_account: A, aws_region: 'us-west-2' });
    // Material imported, then deleted: no expiry left. Imported and kept: its expiry.
    expect(byKey[K.byok]).toMatchObject({ key_state: 'PendingImport', origin: 'EXTERNAL', material_expires: null, state_changed_at: '2024-05-16 17:41:00' });
    expect(byKey[K.byok2]).toMatchObject({ key_state: 'Enabled', origin: 'EXTERNAL', material_expires: '2024-06-15 00:00:00' });
    expect(byKey[K.app]).toMatchObject({ key_state: 'Enabled', rotation: 'on', rotation_changed_at: '2024-05-17 16:00:00', last_policy_change: '2024-05-17 18:45:00', last_policy_changed_by: arnOf(who.admin) });
    expect(byKey[K.managed]).toMatchObject({ key_state: null, calls_30d: 1, callers_30d: 1 });
    expect(byKey[K.lake]).toMatchObject({ key_state: 'Enabled', callers_30d: 1, first_seen: '2024-05-01 00:00:00' });
    expect(byKey[K.lake].calls_30d).toBeGreaterThan(6000);
  });
});
