// Detections v3 on one synthetic trail loaded with the real ingest, records made by the CloudTrail
// builders (scripts/cloudtrail) in the shapes the AWS docs show: the KMS ransom key set up, used and
// destroyed; bulk encryption; key policy changes as a diff; quiet blinding of the trail; an external
// key store pulled; first access to a secret; and baselines that do not judge a caller with no
// history. Each positive case sits beside its benign look-alike, with its own callers and keys, and
// each incident (setup, use, destruction) must be exactly one finding.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DAY, HOUR, MIN, assumedRole, awsService, callerFor, defaultKeyPolicy, iamUser, keyArn, kmsCreateCustomKeyStore, kmsCreateKey,
  kmsDecrypt, kmsDeleteExpiredKeyMaterial, kmsDeleteImportedKeyMaterial, kmsEncrypt, kmsGenerateDataKey, kmsGetParametersForImport,
  kmsImportKeyMaterial, kmsKeyAdmin, kmsPutKeyPolicy, roleArn, seededIds, trailPutEventSelectors, trailUpdate, userArn, viaService,
  xksEventData, type CtRecord, type KmsContext, type KmsKey, type RoleRef, type TrailRef, type UserIdentity,
} from '../scripts/cloudtrail/index.js';
import { DuckDBEngine } from '../src/engine.js';
import { loadRules } from '../src/detect/rules.js';
import { runDetections, type Finding } from '../src/detect/run.js';
import { resolveTrust } from '../src/detect/trust.js';
import { Store } from '../src/store/db.js';
import { runCli } from './helpers/cli.js';
import { loadTrail, type LoadedTrail } from './helpers/trail.js';

const A = '111122223333'; // the AWS docs' example account
const B = '444455556666'; // an account whose trail is blinded
const T0 = Date.UTC(2024, 4, 1);
const t = (day: number, hh = 10, mm = 0, ss = 0) => T0 + day * DAY + hh * HOUR + mm * MIN + ss * 1000;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const days = (from: number, to: number) => range(to - from + 1).map((i) => from + i);
const ids = seededIds('detect-v3');
const key = (id: string, account = A): KmsKey => ({ arn: keyArn(account, id) });
const secretArn = (name: string) => `arn:aws:secretsmanager:us-east-1:${A}:secret:${name}-AbCdEf`;
const parameterArn = (name: string) => `arn:aws:ssm:us-east-1:${A}:parameter/${name}`;
const objectArn = (bucket: string, k: string) => `arn:aws:s3:::${bucket}/${k}`;

const role = (name: string, account = A): RoleRef => ({ account, name });
const R = {
  app: role('AppRole'), ransom: role('RansomRole'), etl: role('EtlRole'), newcomer: role('NewcomerRole'), wiper: role('WiperRole'),
  xksApp: role('XksAppRole'), checkout: role('CheckoutRole'), recon: role('ReconRole'), billing: role('BillingRole'),
  loader: role('ConfigLoaderRole'), newApp: role('NewAppRole'), reader: (i: number) => role(`ReaderRole${i}`), appB: role('AppRole', B),
};
const as = (r: RoleRef, time: number) => assumedRole(r, 'session', { time });
const mallory = iamUser({ account: A, name: 'mallory' });
const ops = iamUser({ account: A, name: 'ops.admin' });

/** A KMS call context: a direct call, or one made for the caller by an AWS service. */
function ctx(identity: UserIdentity, time: number, o: Partial<KmsContext> & { via?: string } = {}): KmsContext {
  const { via, ...rest } = o;
  return { ids, time, caller: via ? viaService(identity, via) : callerFor(identity), region: 'us-east-1', account: A, ...rest };
}
const roleCtx = (r: RoleRef, time: number, o: Partial<KmsContext> & { via?: string } = {}) => ctx(as(r, time), time, { account: r.account, ...o });

const K = {
  ransom: key('4a450000-0000-4000-8000-000000000001'),
  xks: key('c0ffee00-0000-4000-8000-000000000001'),
  byok: key('b0b00000-0000-4000-8000-000000000001'),
  byokLong: key('b0b00000-0000-4000-8000-000000000002'),
  expiring: key('e4b10000-0000-4000-8000-000000000001'),
  data: key('da7a0000-0000-4000-8000-000000000001'),
  fresh: key('f4e50000-0000-4000-8000-000000000001'),
  trailKey: key('74a11000-0000-4000-8000-000000000001'),
  trailKeyB: key('74a11000-0000-4000-8000-000000000002', B),
  payments: key('9a900000-0000-4000-8000-000000000001'),
  ledger: key('9a900000-0000-4000-8000-000000000002'),
  reports: key('9a900000-0000-4000-8000-000000000003'),
  audited: key('9a900000-0000-4000-8000-000000000004'),
  secrets: key('5ec20000-0000-4000-8000-000000000001'),
  appB: key('bbbb0000-0000-4000-8000-000000000001', B),
  other: key('0th00000-0000-4000-8000-000000000001'),
};
const XKS_STORE = 'cks-1234567890abcdef0';
const trail: TrailRef = { account: A, region: 'us-east-1', name: 'management-events' };
const trailB: TrailRef = { account: B, region: 'us-east-1', name: 'org-audit' };
const trailArnOf = (x: TrailRef) => `arn:aws:cloudtrail:${x.region}:${x.account}:trail/${x.name}`;

/** A statement in the shape of the AWS docs' key policies. */
const allow = (sid: string, principal: Record<string, string | string[]>, action: string | string[]) => ({ Sid: sid, Effect: 'Allow', Principal: principal, Action: action, Resource: '*' });
const policy = (...statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Id: 'key-policy', Statement: statements }, null, 2);
const cloudtrailStatement = allow('Allow CloudTrail to encrypt logs', { Service: 'cloudtrail.amazonaws.com' }, 'kms:GenerateDataKey*');

/** CloudTrail encrypting a log file: its own service identity, aws:cloudtrail:arn and the object. */
const cloudTrailLogKey = (x: TrailRef, k: KmsKey, time: number, n: number) =>
  kmsGenerateDataKey({
    ids, time, caller: callerFor(awsService('cloudtrail.amazonaws.com')), region: x.region, account: x.account,
    encryptionContext: { 'aws:cloudtrail:arn': trailArnOf(x), 'aws:s3:arn': objectArn('trail-bucket', `AWSLogs/${x.account}/CloudTrail/us-east-1/2024/05/log-${time}-${n}.json.gz`) },
  }, k);

function records(): CtRecord[] {
  const r: CtRecord[] = [];

  // ---- the background: an app uses its key every hour from day 0, so the data starts there -------
  for (const d of days(0, 9)) for (const h of [1, 7, 13, 19]) r.push(kmsDecrypt(roleCtx(R.app, t(d, h), { encryptionContext: { app: 'orders' } }), K.other));

  // ---- 1. ransom_key_setup -------------------------------------------------------------------------
  // Mallory creates an EXTERNAL key only she controls, imports material valid for two days,
  // encrypts with it, then deletes the material: setup, use, destruction.
  r.push(kmsCreateKey(ctx(mallory, t(8, 10)), K.ransom, {
    description: '', origin: 'EXTERNAL', policy: policy(allow('Key owner', { AWS: userArn(A, 'mallory') }, 'kms:*')),
  }));
  r.push(kmsGetParametersForImport(ctx(mallory, t(8, 10, 2)), K.ransom));
  r.push(kmsImportKeyMaterial(ctx(mallory, t(8, 10, 4)), K.ransom, t(10, 10)));
  for (const i of range(5)) r.push(kmsGenerateDataKey(ctx(mallory, t(8, 11, i), { encryptionContext: { purpose: 'backup' } }), K.ransom));
  r.push(kmsDeleteImportedKeyMaterial(ctx(mallory, t(9, 3)), K.ransom));
  // An external key store whose proxy the caller runs, a key in it, used by an app (the proxy
  // is pulled later: see xks_outage).
  r.push(kmsCreateCustomKeyStore(ctx(mallory, t(7, 9)), { name: 'vault', type: 'EXTERNAL_KEY_STORE', xksProxyUriEndpoint: 'https://xks.proxy.example.net', xksProxyConnectivity: 'PUBLIC_ENDPOINT' }, XKS_STORE));
  r.push(kmsCreateKey(ctx(mallory, t(7, 9, 10)), K.xks, { description: '', origin: 'EXTERNAL_KEY_STORE', customKeyStoreId: XKS_STORE, xksKeyId: 'bb8562717f809024' }));
  for (const i of range(4)) r.push(kmsEncrypt(roleCtx(R.xksApp, t(7, 12, i), { encryptionContext: { app: 'vault' } }), K.xks, undefined, { additionalEventData: xksEventData(XKS_STORE, 'bb8562717f809024') }));
  // Another caller's key: material valid for three days, used, then gone at its expiry (KMS deletes it).
  r.push(kmsCreateKey(ctx(mallory, t(6, 9)), K.expiring, { description: '', origin: 'EXTERNAL' }));
  r.push(kmsGetParametersForImport(ctx(mallory, t(6, 9, 1)), K.expiring));
  r.push(kmsImportKeyMaterial(ctx(mallory, t(6, 9, 2)), K.expiring, t(9, 9, 2)));
  r.push(kmsEncrypt(roleCtx(R.billing, t(7, 9), { encryptionContext: { app: 'billing' } }), K.expiring));
  r.push(kmsDeleteExpiredKeyMaterial(ids, t(9, 9, 2), K.expiring));
  // ... benign: a routine BYOK import (material that never expires, the default policy), used ...
  r.push(kmsCreateKey(ctx(ops, t(1, 9)), K.byok, { description: 'byok', origin: 'EXTERNAL', policy: defaultKeyPolicy(A) }));
  r.push(kmsGetParametersForImport(ctx(ops, t(1, 9, 1)), K.byok));
  r.push(kmsImportKeyMaterial(ctx(ops, t(1, 9, 3)), K.byok, null));
  for (const d of days(2, 9)) r.push(kmsDecrypt(roleCtx(R.billing, t(d, 6), { encryptionContext: { app: 'billing' } }), K.byok));
  // ... and one whose material lasts a year, expiring as planned (KMS deletes it) long after.
  r.push(kmsCreateKey(ctx(ops, t(1, 11)), K.byokLong, { description: 'byok yearly', origin: 'EXTERNAL' }));
  r.push(kmsGetParametersForImport(ctx(ops, t(1, 11, 1)), K.byokLong));
  r.push(kmsImportKeyMaterial(ctx(ops, t(1, 11, 3)), K.byokLong, t(366, 11)));

  // ---- 2. bulk_encryption --------------------------------------------------------------------------
  // The ransom role writes 2 objects a day, then on day 8 re-encrypts 150 distinct objects in
  // 10 minutes under a key created that morning: S3 asks KMS for a data key per object.
  for (const d of days(0, 7)) for (const i of range(2)) r.push(kmsGenerateDataKey(roleCtx(R.ransom, t(d, 15, i), { via: 's3.amazonaws.com', encryptionContext: { 'aws:s3:arn': objectArn('docs', `daily/${d}-${i}`) } }), K.data));
  r.push(kmsCreateKey(ctx(mallory, t(8, 6)), K.fresh, { description: '' }));
  for (const i of range(150)) r.push(kmsGenerateDataKey(roleCtx(R.ransom, t(8, 16, 0, i * 4), { via: 's3.amazonaws.com', encryptionContext: { 'aws:s3:arn': objectArn(i % 2 ? 'finance' : 'hr', `2024/${i}.pdf`) } }), K.fresh));
  // ... a caller first seen on day 8 doing the same, on an old key: no baseline, so low ...
  for (const i of range(120)) r.push(kmsGenerateDataKey(roleCtx(R.newcomer, t(8, 18, 0, i * 4), { via: 's3.amazonaws.com', encryptionContext: { 'aws:s3:arn': objectArn('media', `in/${i}.mov`) } }), K.data));
  // ... unless the breadth is past the fixed floor: 1000 distinct EBS volumes in 15 minutes.
  for (const i of range(1000)) r.push(kmsGenerateDataKey(roleCtx(R.wiper, t(8, 20, 0, i % 900), { via: 'ec2.amazonaws.com', encryptionContext: { 'aws:ebs:id': `vol-${String(i).padStart(17, '0')}` } }), K.data));
  // ... benign: CloudTrail encrypting 200 log files an hour for itself ...
  for (const i of range(200)) r.push(cloudTrailLogKey(trail, K.trailKey, t(8, 16, 0, i * 3), i));
  // ... and a nightly job encrypting 130 distinct exports every night (its first night has no baseline).
  for (const d of days(0, 9)) for (const i of range(130)) r.push(kmsGenerateDataKey(roleCtx(R.etl, t(d, 2, 0, i * 5), { via: 's3.amazonaws.com', encryptionContext: { 'aws:s3:arn': objectArn('lake', `exports/${i}.parquet`) } }), K.data));

  // ---- 3. key_policy_change ------------------------------------------------------------------------
  // Payments: created with the default policy, then the account root's statement removed.
  r.push(kmsCreateKey(ctx(ops, t(0, 9)), K.payments, { description: 'payments', policy: defaultKeyPolicy(A) }));
  r.push(kmsPutKeyPolicy(ctx(mallory, t(8, 12)), K.payments, policy(allow('Only me', { AWS: userArn(A, 'mallory') }, 'kms:*'))));
  // Ledger: a Deny of Decrypt for everyone but mallory added, the rest kept.
  r.push(kmsCreateKey(ctx(ops, t(0, 9, 5)), K.ledger, { description: 'ledger', policy: defaultKeyPolicy(A) }));
  r.push(kmsPutKeyPolicy(ctx(mallory, t(8, 12, 5)), K.ledger, defaultKeyPolicy(A, [{
    Sid: 'Deny use', Effect: 'Deny', Principal: { AWS: '*' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*',
    Condition: { ArnNotEquals: { 'aws:PrincipalArn': userArn(A, 'mallory') } },
  }])));
  // The trail's key: CloudTrail encrypts with it, then a policy without CloudTrail.
  r.push(kmsCreateKey(ctx(ops, t(0, 8)), K.trailKey, { description: 'trail', policy: defaultKeyPolicy(A, [cloudtrailStatement]) }));
  r.push(kmsPutKeyPolicy(ctx(mallory, t(8, 22)), K.trailKey, defaultKeyPolicy(A)));
  // ... benign: one role added to a policy that keeps everything else (low), and the same policy put again (nothing).
  r.push(kmsCreateKey(ctx(ops, t(0, 9, 10)), K.reports, { description: 'reports', policy: defaultKeyPolicy(A) }));
  const reportsPolicy = defaultKeyPolicy(A, [allow('Allow reporting', { AWS: roleArn(R.billing) }, ['kms:Decrypt', 'kms:DescribeKey'])]);
  r.push(kmsPutKeyPolicy(ctx(ops, t(3, 9)), K.reports, reportsPolicy));
  r.push(kmsPutKeyPolicy(ctx(ops, t(4, 9)), K.reports, reportsPolicy));
  // A key with no earlier policy in the trail: its first change is judged against the live audit.
  r.push(kmsPutKeyPolicy(ctx(mallory, t(8, 13)), K.audited, policy(allow('Only me', { AWS: userArn(A, 'mallory') }, 'kms:*'))));

  // ---- 4. trail_blinded ----------------------------------------------------------------------------
  // Account B: an app decrypts every hour, its trail goes WriteOnly on day 8 at noon, and nothing
  // read-only is logged after.
  for (let h = 0; h < 8 * 24 + 12; h++) r.push(kmsDecrypt(roleCtx(R.appB, T0 + h * HOUR + 30 * MIN, { encryptionContext: { app: 'b' } }), K.appB));
  r.push(trailPutEventSelectors(ctx(iamUser({ account: B, name: 'intruder' }), t(8, 12), { account: B }), trailB, [
    { readWriteType: 'WriteOnly', includeManagementEvents: true, dataResources: [], excludeManagementEventSources: [] },
  ]));
  r.push(kmsKeyAdmin(roleCtx(R.appB, t(8, 15)), K.appB, 'TagResource', { keyId: K.appB.arn, tags: [{ tagKey: 'k', tagValue: 'v' }] }));
  // Account A: advanced selectors keeping only write management events, log validation off, and
  // the trail key of account B disabled.
  r.push(trailPutEventSelectors(ctx(mallory, t(8, 14)), trail, { advanced: [{ name: 'Management writes', fieldSelectors: [
    { field: 'eventCategory', equals: ['Management'] }, { field: 'readOnly', equals: ['false'] },
  ] }] }));
  r.push(trailUpdate(ctx(mallory, t(8, 14, 30)), trail, { enableLogFileValidation: false }, { s3BucketName: 'trail-bucket', enableLogFileValidation: false }));
  for (const i of range(3)) r.push(cloudTrailLogKey(trailB, K.trailKeyB, t(7, 10, i), i));
  r.push(kmsKeyAdmin(ctx(iamUser({ account: B, name: 'intruder' }), t(8, 13), { account: B }), K.trailKeyB, 'DisableKey'));
  // ... benign: selectors that add S3 data events and keep every management event, advanced
  // selectors for management events and S3 data events, validation turned on, another key disabled.
  r.push(trailPutEventSelectors(ctx(ops, t(3, 10)), trail, [
    { readWriteType: 'All', includeManagementEvents: true, dataResources: [{ type: 'AWS::S3::Object', values: ['arn:aws:s3:::docs/'] }], excludeManagementEventSources: [] },
  ]));
  r.push(trailPutEventSelectors(ctx(ops, t(3, 11)), trail, { advanced: [
    { name: 'Management', fieldSelectors: [{ field: 'eventCategory', equals: ['Management'] }] },
    { name: 'S3 writes', fieldSelectors: [{ field: 'eventCategory', equals: ['Data'] }, { field: 'resources.type', equals: ['AWS::S3::Object'] }, { field: 'readOnly', equals: ['false'] }] },
  ] }));
  r.push(trailUpdate(ctx(ops, t(3, 12)), trail, { enableLogFileValidation: true }, { s3BucketName: 'trail-bucket' }));
  r.push(kmsKeyAdmin(ctx(ops, t(5, 9)), K.byokLong, 'DisableKey'));

  // ---- 5. xks_outage -------------------------------------------------------------------------------
  // Day 9: the proxy is gone; the app's calls on the XKS key fail for 5 minutes (its destruction).
  const unreachable = ['KMSInvalidStateException', `The external key store proxy for custom key store ${XKS_STORE} did not respond in the time allotted.`] as const;
  for (const i of range(15)) r.push(kmsEncrypt(roleCtx(R.xksApp, t(9, 8, 0, i * 20), { encryptionContext: { app: 'vault' }, error: unreachable }), K.xks, undefined, { additionalEventData: xksEventData(XKS_STORE, 'bb8562717f809024') }));
  // ... benign: one refused call (the docs' corrupted ciphertext), and a burst on a key pending deletion.
  r.push(kmsDecrypt(roleCtx(R.xksApp, t(7, 13), { encryptionContext: { app: 'vault' }, error: ['KMSInvalidStateException', 'The external key store proxy rejected the request because the specified ciphertext or additional authenticated data is corrupted, missing, or otherwise invalid.'] }), K.xks, { additionalEventData: xksEventData(XKS_STORE, 'bb8562717f809024') }));
  for (const i of range(12)) r.push(kmsDecrypt(roleCtx(R.billing, t(6, 8, i), { error: ['KMSInvalidStateException', `${K.byokLong.arn} is pending deletion.`] }), K.byokLong));

  // ---- 6. secret_first_access and 7. secret_harvest without a baseline ------------------------------
  const readSecret = (r0: RoleRef, name: string, time: number) =>
    kmsDecrypt(roleCtx(r0, time, { via: 'secretsmanager.amazonaws.com', encryptionContext: { SecretARN: secretArn(name), SecretVersionId: ids.uuid() } }), K.secrets);
  // The checkout role reads its two secrets daily; the recon role its own one. On day 8 recon reads
  // both of checkout's within minutes: one finding naming checkout as their usual reader.
  for (const d of days(0, 9)) {
    r.push(readSecret(R.checkout, 'prod/checkout-db', t(d, 9)), readSecret(R.checkout, 'prod/stripe-key', t(d, 9, 1)), readSecret(R.recon, 'recon/own', t(d, 9, 2)));
  }
  r.push(readSecret(R.recon, 'prod/checkout-db', t(8, 23)), readSecret(R.recon, 'prod/stripe-key', t(8, 23, 4)));
  // ... benign: a new secret's first reader; a secret five roles read gets a sixth; first reads in the learning period.
  r.push(readSecret(R.newApp, 'prod/new-service', t(8, 9)));
  for (const i of range(5)) for (const d of days(0, 9)) r.push(readSecret(R.reader(i), 'shared/feature-flags', t(d, 11, i)));
  r.push(readSecret(R.newApp, 'shared/feature-flags', t(8, 11, 30)));
  r.push(readSecret(R.recon, 'prod/checkout-db-replica', t(0, 9, 30)), readSecret(R.checkout, 'prod/checkout-db-replica', t(0, 9, 10)));
  // A config loader first seen on day 5 reads 30 parameters that night and every night after.
  for (const d of days(5, 9)) for (const i of range(30)) {
    r.push(kmsDecrypt(roleCtx(R.loader, t(d, 3, 0, i * 4), { caller: { ...callerFor(as(R.loader, t(d, 3))), sourceIp: 'AWS Internal', userAgent: 'AWS Internal' }, encryptionContext: { PARAMETER_ARN: parameterArn(`config/setting-${i}`) } }), K.secrets));
  }
  return r.map((x) => JSON.parse(JSON.stringify(x)) as CtRecord);
}

let loaded: LoadedTrail;
let findings: Finding[];
const of = (rule: string) => findings.filter((f) => f.rule === rule);

async function detect(db: string): Promise<Finding[]> {
  const engine = await DuckDBEngine.open(db, { readOnly: true });
  try {
    const trust = await resolveTrust(engine, null, null);
    return await runDetections(engine, loadRules(), { since: null, trust });
  } finally {
    await engine.close();
  }
}

beforeAll(async () => {
  loaded = await loadTrail(records() as unknown as Record<string, unknown>[]);
  findings = await detect(loaded.db);
}, 120_000);
afterAll(() => loaded?.cleanup());

describe('ransom_key_setup', () => {
  it('reports the imported-material ransom key as one high incident: setup, use, destruction', () => {
    const mine = of('ransom_key_setup').filter((f) => f.key_arn === K.ransom.arn);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ severity: 'high', identity_arn: userArn(A, 'mallory'), first_seen: '2024-05-09T10:00:00Z', last_seen: '2024-05-10T03:00:00Z', event_count: 9 });
    expect(mine[0].detail).toBe(
      'created with origin EXTERNAL; import parameters fetched 1x; key material imported (KEY_MATERIAL_EXPIRES, valid to May 11, 2024, 10:00:00 AM: 48 h after the import)'
      + `; its key policy names no account root: only the principals it lists control the key; used 5x by ${userArn(A, 'mallory')}`
      + '; then DeleteImportedKeyMaterial at 2024-05-10 03:00 (weight 8)',
    );
    expect(mine[0].attack).toEqual(['T1486', 'T1485', 'T1531']);
  });

  it('reports the key in a new external key store with its proxy, medium before anything is destroyed', () => {
    const xks = of('ransom_key_setup').filter((f) => f.key_arn === K.xks.arn);
    expect(xks.map((f) => [f.severity, f.first_seen, f.detail])).toEqual([[
      'medium', '2024-05-08T09:00:00Z',
      `created with origin EXTERNAL_KEY_STORE; in external key store ${XKS_STORE} created 2024-05-08 09:00 by ${userArn(A, 'mallory')} (proxy https://xks.proxy.example.net, PUBLIC_ENDPOINT); used 4x by ${roleArn(R.xksApp)} (weight 4)`,
    ]]);
  });

  it('keeps a routine BYOK import low: material that never expires or lasts a year, the account kept', () => {
    const routine = of('ransom_key_setup').filter((f) => f.key_arn === K.byok.arn || f.key_arn === K.byokLong.arn);
    expect(routine.map((f) => [f.key_arn, f.severity])).toEqual([[K.byok.arn, 'low'], [K.byokLong.arn, 'low']]);
    // The yearly import is not short-lived: its weight is the origin alone.
    expect(routine[1].detail).toMatch(/KEY_MATERIAL_EXPIRES, valid to May 2, 2025, 11:00:00 AM: 87\d\d h after the import\) \(weight 1\)$/);
    expect(routine[0].detail).toBe('created with origin EXTERNAL; import parameters fetched 1x; key material imported (KEY_MATERIAL_DOES_NOT_EXPIRE) (weight 1)');
    expect(of('key_weakened')).toEqual([]); // ImportKeyMaterial is judged here now, not called medium there
  });

  it('ends an incident at the material’s expiry: one high finding from creation to KMS deleting it', () => {
    expect(of('ransom_key_setup').filter((f) => f.key_arn === K.expiring.arn).map((f) => [f.severity, f.identity_arn, f.first_seen, f.last_seen, f.event_count, f.detail])).toEqual([[
      'high', userArn(A, 'mallory'), '2024-05-07T09:00:00Z', '2024-05-10T09:02:00Z', 5,
      `created with origin EXTERNAL; import parameters fetched 1x; key material imported (KEY_MATERIAL_EXPIRES, valid to May 10, 2024, 9:02:00 AM: 72 h after the import); used 1x by ${roleArn(R.billing)}; then DeleteExpiredKeyMaterial at 2024-05-10 09:02 (weight 6)`,
    ]]);
    expect(of('ransom_key_setup')).toHaveLength(5);
  });
});

describe('bulk_encryption', () => {
  it('reports a burst far above the caller’s own history, high under a key created that day', () => {
    expect(of('bulk_encryption').map((f) => [f.identity_arn, f.severity, f.key_arn, f.event_count, f.detail])).toEqual([
      [roleArn(R.ransom), 'high', K.fresh.arn, 150, 'encrypted the data of 150 distinct S3 objects or buckets in 10 min (150 GenerateDataKey/Encrypt calls, at most 150 within 15 min); its previous maximum in 15 min was 2; under a key that is new'],
      [roleArn(R.wiper), 'medium', K.data.arn, 1000, expect.stringMatching(/^encrypted the data of 1000 distinct EBS volumes .*less than 24 h before, but the breadth is extreme$/)],
      [roleArn(R.etl), 'low', K.data.arn, 130, expect.stringMatching(/^encrypted the data of 130 distinct S3 objects or buckets in 11 min .*its previous maximum in 15 min was 0; no baseline: the caller was first seen 2024-05-01 02:00 UTC, less than 24 h before$/)],
      [roleArn(R.newcomer), 'low', K.data.arn, 120, expect.stringMatching(/no baseline: the caller was first seen 2024-05-09 18:00 UTC, less than 24 h before$/)],
    ]);
    // CloudTrail's own log-file keys never count; the nightly job is quiet from its second night.
  });
});

describe('key_policy_change', () => {
  it('writes the diff: lockout and denial high, CloudTrail removed from its own key high, one role added low', () => {
    const byKey = new Map(of('key_policy_change').map((f) => [f.key_arn, f]));
    expect(byKey.get(K.payments.arn)).toMatchObject({
      severity: 'high', identity_arn: userArn(A, 'mallory'),
      detail: `PutKeyPolicy, compared with the previous policy in the trail: the account root (${A}) may no longer change the key policy ("Enable IAM" statement removed): IAM policies no longer grant access, only ${userArn(A, 'mallory')} can use or manage the key; principals added: AWS ${userArn(A, 'mallory')}; principals removed: AWS arn:aws:iam::${A}:root`,
    });
    expect(byKey.get(K.ledger.arn)).toMatchObject({ severity: 'high', detail: `PutKeyPolicy, compared with the previous policy in the trail: a Deny of key use for everyone but ${userArn(A, 'mallory')} was added` });
    expect(byKey.get(K.trailKey.arn)).toMatchObject({
      severity: 'high',
      detail: 'PutKeyPolicy, compared with the previous policy in the trail: service principal cloudtrail.amazonaws.com was removed: CloudTrail encrypts its log files with this key, so log delivery stops',
    });
    expect(byKey.get(K.reports.arn)).toMatchObject({ severity: 'low', detail: `PutKeyPolicy, compared with the previous policy in the trail: principals added: AWS ${roleArn(R.billing)}` });
    // Without an earlier policy or an audit there is nothing to diff: no finding.
    expect(byKey.has(K.audited.arn)).toBe(false);
    // The CreateKey calls with the default policy, and the same policy put twice, are not findings.
    // The ransom key's CreateKey: compared with the default key policy.
    expect(byKey.get(K.ransom.arn)).toMatchObject({ severity: 'high', detail: expect.stringMatching(/^CreateKey, compared with the default key policy: the account root \(111122223333\) may no longer change the key policy \("Enable IAM" statement removed\): IAM policies no longer grant access, only arn:aws:iam::111122223333:user\/mallory can use or manage the key$/) });
    expect(of('key_policy_change')).toHaveLength(5);
  });

  it('compares a key’s first change in the data with the latest live audit taken before it', async () => {
    const store = await Store.open(loaded.db);
    try {
      await store.run("INSERT INTO inventory_runs (run_id, started_at, finished_at, keys) VALUES (1, TIMESTAMP '2024-05-05 00:00:00', TIMESTAMP '2024-05-05 00:01:00', 1), (2, TIMESTAMP '2024-05-12 00:00:00', TIMESTAMP '2024-05-12 00:01:00', 1)");
      await store.run("INSERT INTO inventory_scopes VALUES (1, ?, 'us-east-1', 'ok', NULL), (2, ?, 'us-east-1', 'ok', NULL)", [A, A]);
      await store.run("INSERT INTO inventory_policies VALUES (1, ?, 'default', ?), (2, ?, 'default', ?)", [K.audited.arn, defaultKeyPolicy(A), K.audited.arn, 'not read: the audit after the change']);
    } finally {
      store.close();
    }
    const audited = (await detect(loaded.db)).filter((f) => f.rule === 'key_policy_change' && f.key_arn === K.audited.arn);
    expect(audited.map((f) => [f.severity, f.detail])).toEqual([[
      'high',
      `PutKeyPolicy, compared with the policy of the live audit of 2024-05-05 00:00:00 UTC: the account root (${A}) may no longer change the key policy ("Enable IAM" statement removed): IAM policies no longer grant access, only ${userArn(A, 'mallory')} can use or manage the key; principals added: AWS ${userArn(A, 'mallory')}; principals removed: AWS arn:aws:iam::${A}:root`,
    ]]);
  }, 60_000);
});

describe('trail_blinded', () => {
  it('reports WriteOnly and readOnly=false selectors, validation off and the trail key disabled; the gap where the data shows it', () => {
    expect(of('trail_blinded').map((f) => [f.account_id, f.key_arn, f.first_seen, f.detail])).toEqual([
      [B, K.trailKeyB.arn, '2024-05-09T13:00:00Z', `DisableKey on the KMS key of ${trailArnOf(trailB)}: CloudTrail cannot encrypt the log files, so delivery stops`],
      [B, null, '2024-05-09T12:00:00Z', expect.stringMatching(new RegExp(`^PutEventSelectors on org-audit: readWriteType WriteOnly, so KMS Encrypt, Decrypt and GenerateDataKey \\(read-only events\\) are no longer logged; the data shows the gap: no read-only KMS event from account ${B} for \\d+\\+ h after it, against 24 in the 24 h before$`))],
      [A, null, '2024-05-09T14:00:00Z', expect.stringMatching(/^PutEventSelectors on management-events: advanced selectors keep management events only where readOnly is false, so KMS Encrypt, Decrypt and GenerateDataKey are no longer logged$/)],
      [A, null, '2024-05-09T14:30:00Z', 'UpdateTrail on management-events: log file validation turned off (enableLogFileValidation false)'],
      [A, K.trailKey.arn, '2024-05-09T22:00:00Z', `PutKeyPolicy on the KMS key of ${trailArnOf(trail)}: the new policy does not name cloudtrail.amazonaws.com: CloudTrail cannot encrypt the log files, so delivery stops`],
    ].sort((a, b) => String(a[2]).localeCompare(String(b[2])) || String(a[0]).localeCompare(String(b[0]))));
    // The account A change has no gap to show: read-only events go on in A's data.
    expect(of('trail_selectors_weakened')).toEqual([]);
  });
});

describe('xks_outage', () => {
  it('reports the burst of refusals on the external key store once, with its proxy and callers', () => {
    expect(of('xks_outage').map((f) => [f.key_arn, f.event_count, f.first_seen, f.last_seen, f.detail])).toEqual([[
      K.xks.arn, 15, '2024-05-10T08:00:00Z', '2024-05-10T08:04:40Z',
      `15 calls refused with KMSInvalidStateException on 1 key(s) in external key store ${XKS_STORE} (proxy https://xks.proxy.example.net) in 4 min; callers: ${roleArn(R.xksApp)}; last error: The external key store proxy for custom key store ${XKS_STORE} did not respond in the time allotted.`,
    ]]);
  });
});

describe('secret_first_access', () => {
  it('reports a caller’s first reads of secrets few others read as one low finding, with their usual readers', () => {
    expect(of('secret_first_access').map((f) => [f.identity_arn, f.severity, f.event_count, f.detail])).toEqual([[
      roleArn(R.recon), 'low', 2,
      `first read of ${secretArn('prod/checkout-db')} (usually read by ${roleArn(R.checkout)}); ${secretArn('prod/stripe-key')} (usually read by ${roleArn(R.checkout)})`,
    ]]);
  });
});

describe('no baseline is not a verdict', () => {
  it('a loader’s very first night of 30 parameters is low, and quiet after', () => {
    expect(of('secret_harvest').map((f) => [f.identity_arn, f.severity, f.first_seen])).toEqual([[roleArn(R.loader), 'low', '2024-05-06T03:00:00Z']]);
    expect(of('secret_harvest')[0].detail).toMatch(/; no baseline: the caller was first seen 2024-05-06 03:00 UTC, less than 24 h before$/);
  });
});

describe('the command line', () => {
  it('--explain and --param work on the new rules: a shorter short_days makes the expiring key a lighter incident', async () => {
    const explained = await runCli(['detect', '--db', loaded.db, '--explain', 'ransom_key_setup', '--format', 'json']);
    expect(explained.code, explained.stderr).toBe(0);
    const e = JSON.parse(explained.stdout);
    expect(e).toMatchObject({ rule: 'ransom_key_setup', params: [{ name: 'short_days', default: 7, value: 7 }], findings: 5 });
    expect(e.header).toMatch(/^-- id: ransom_key_setup\n/);

    const json = async (args: string[]) => JSON.parse((await runCli(['detect', '--db', loaded.db, '--rule', 'ransom_key_setup', '--format', 'json', ...args])).stdout) as Finding[];
    const expiring = (fs: Finding[]) => fs.find((f) => f.key_arn === K.expiring.arn);
    expect(expiring(await json([]))).toMatchObject({ severity: 'high' });
    // Material valid for 72 h is no longer short-lived under a 2-day limit: weight 4, medium.
    expect(expiring(await json(['--param', 'ransom_key_setup.short_days=2']))).toMatchObject({ severity: 'medium', detail: expect.stringMatching(/\(weight 4\)$/) });
  }, 60_000);
});
