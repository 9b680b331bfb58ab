// Detections v2 on one synthetic trail loaded with the real ingest: the breadth rules (secrets and
// parameters, encrypted data) against each caller's own history, and the key-lifecycle rules. Each
// positive case sits beside its benign look-alike, with its own callers and keys, so every rule's
// findings must be exactly its positives. Records follow the shapes AWS documents (see
// helpers/service-decrypts.ts and test/fixtures/datasets/awsdocs-kms-developer-guide).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBEngine } from '../src/engine.js';
import { loadRules } from '../src/detect/rules.js';
import { runDetections, type Finding, type RunOptions } from '../src/detect/run.js';
import { resolveTrust } from '../src/detect/trust.js';
import { parameterDecrypt, s3Decrypt, secretDecrypt } from './helpers/service-decrypts.js';
import { at, identity, keyArn, kmsEvent, loadTrail, repeat, type CtRecord, type LoadedTrail } from './helpers/trail.js';

const A = '111111111111';
const secret = (name: string) => `arn:aws:secretsmanager:us-east-1:${A}:secret:${name}-AbCdEf`;
const parameter = (name: string) => `arn:aws:ssm:us-east-1:${A}:parameter/${name}`;
const object = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

const K = {
  smDefault: keyArn(A, '5ec2e75a-0000-4000-8000-000000000001'), // aws/secretsmanager
  smCustom: keyArn(A, '5ec2e75a-0000-4000-8000-000000000002'),
  ssm: keyArn(A, '55a0a0a0-0000-4000-8000-000000000001'), // aws/ssm
  s3: keyArn(A, '53535353-0000-4000-8000-000000000001'),
  old: keyArn(A, '0ld00000-0000-4000-8000-000000000001'),
  cancelled: keyArn(A, '0ld00000-0000-4000-8000-000000000002'),
  legacy: keyArn(A, '1e9ac000-0000-4000-8000-000000000001'),
  xks: keyArn(A, 'c0ffee00-0000-4000-8000-000000000001'),
  pendingImport: keyArn(A, 'c0ffee00-0000-4000-8000-000000000002'),
  xks2: keyArn(A, 'c0ffee00-0000-4000-8000-000000000003'),
  byok: keyArn(A, 'b0b00000-0000-4000-8000-000000000001', 'us-west-2'),
  byok2: keyArn(A, 'b0b00000-0000-4000-8000-000000000002', 'us-west-2'),
  payments: keyArn(A, 'aaaa0000-0000-4000-8000-000000000001'),
  paymentsNext: keyArn(A, 'aaaa0000-0000-4000-8000-000000000002'),
  appV1: keyArn(A, 'aaaa0000-0000-4000-8000-000000000003'),
  appV2: keyArn(A, 'aaaa0000-0000-4000-8000-000000000004'),
  reportsOld: keyArn(A, 'aaaa0000-0000-4000-8000-000000000005'),
  mrk: keyArn(A, 'mrk-1234abcd12ab34cd56ef1234567890ab'),
  mrk2: keyArn(A, 'mrk-99999999999999999999999999999999'),
  locked: keyArn(A, '10c4ed00-0000-4000-8000-000000000001'),
  normal: keyArn(A, '10c4ed00-0000-4000-8000-000000000002'),
};

const who = {
  mallory: identity.user(A, 'mallory.dev'),
  ci: identity.role(A, 'CiRunnerRole', 'build-77'),
  loader: identity.role(A, 'ConfigLoaderRole', 'nightly'),
  checkout: identity.role(A, 'CheckoutLambdaRole', 'checkout'),
  rotation: identity.role(A, 'SecretsRotationRole', 'rotate'),
  analytics: identity.role(A, 'AnalyticsRole', 'notebook'),
  etl: identity.role(A, 'EtlRole', 'nightly'),
  ops: identity.user(A, 'ops.admin'),
  reporting: identity.role(A, 'ReportingRole', 'report'),
  batch: identity.role(A, 'BatchRole', 'job'),
  legacyApp: identity.role(A, 'LegacyAppRole', 'app'),
  xksApp: identity.role(A, 'XksAppRole', 'app'),
  payments: identity.role(A, 'PaymentsRole', 'api'),
  recon: identity.role(A, 'ReconRole', 'recon'),
  eve: identity.user(A, 'eve.ops'),
  deploy: identity.role(A, 'DeployRole', 'pipeline'),
  kms: identity.kmsInternal(A),
};

const arnOf = (i: Record<string, unknown>): string =>
  ((i.sessionContext as { sessionIssuer?: { arn?: string } } | undefined)?.sessionIssuer?.arn ?? (i.arn as string));

const pendingDeletion = (key: string) => `${key} is pending deletion.`;
const disabled = (key: string) => `${key} is disabled.`;

function trail(): CtRecord[] {
  const r: CtRecord[] = [];
  const ev = (o: Parameters<typeof kmsEvent>[0]) => r.push(kmsEvent(o));
  const days = (from: number, to: number, f: (d: number) => void) => {
    for (let d = from; d <= to; d++) f(d);
  };

  // ---- secret_harvest -----------------------------------------------------------------------
  // Mallory's user reads its 2 app secrets every morning, then on day 10 decrypts 20 distinct
  // secrets (on two keys) and 42 distinct parameters within 10 minutes.
  days(0, 9, (d) => range(2).forEach((i) => r.push(secretDecrypt(who.mallory, secret(`app/db-${i}`), at(d, 9, 0, i), K.smDefault))));
  range(20).forEach((i) => r.push(secretDecrypt(who.mallory, secret(`prod/credential-${i}`), at(10, 10, 0, i * 12), i % 2 ? K.smCustom : K.smDefault)));
  range(42).forEach((i) => r.push(parameterDecrypt(who.mallory, parameter(`credentials/param-${i}`), at(10, 10, 5, i * 7), K.ssm)));
  // A CI role reads 32 secrets one a minute: a burst over two 15-minute windows, on two keys.
  range(32).forEach((i) => r.push(secretDecrypt(who.ci, secret(`ci/token-${i}`), at(11, 14, i), i % 2 ? K.smCustom : K.smDefault)));
  // ... benign: a nightly loader reads the same 30 parameters every night (its own baseline) ...
  days(0, 13, (d) => range(30).forEach((i) => r.push(parameterDecrypt(who.loader, parameter(`config/setting-${i}`), at(d, 2, 0, i * 4), K.ssm))));
  // ... a function reads the same 3 secrets a thousand times a day each ...
  days(11, 12, (d) => r.push(...repeat(3000, at(d, 0), 1440, (t, i) => secretDecrypt(who.checkout, secret(`checkout/key-${i % 3}`), t, K.smDefault))));
  // ... and the rotation role reads 40 secrets each night, a few more on day 12.
  days(0, 13, (d) => range(d === 12 ? 45 : 40).forEach((i) => r.push(secretDecrypt(who.rotation, secret(`rotated/db-${i}`), at(d, 3, 0, i * 10), K.smDefault))));

  // ---- data_harvest -------------------------------------------------------------------------
  // A notebook role reads 5 objects a day, then 150 distinct objects of two buckets in 10 minutes.
  days(0, 9, (d) => range(5).forEach((i) => r.push(s3Decrypt(who.analytics, object('analytics', `daily/${i}.parquet`), at(d, 11, i), K.s3))));
  range(150).forEach((i) => r.push(s3Decrypt(who.analytics, object(i % 2 ? 'hr-exports' : 'finance-exports', `2024/${i}.csv`), at(12, 16, 0, i * 4), K.s3)));
  // ... benign: the nightly ETL reads the same 120 objects every night.
  days(0, 13, (d) => range(120).forEach((i) => r.push(s3Decrypt(who.etl, object('lake', `raw/${i}.json`), at(d, 1, 0, i * 3), K.s3))));

  // ---- pending_deletion_key_use -------------------------------------------------------------
  ev({ eventName: 'Decrypt', time: at(1, 8), identity: who.reporting, key: K.old });
  ev({
    eventName: 'ScheduleKeyDeletion', time: at(2, 9), identity: who.ops, key: K.old,
    requestParameters: { keyId: K.old, pendingWindowInDays: 7 },
    responseElements: { keyId: K.old, deletionDate: 'May 10, 2024, 9:00:00 AM', keyState: 'PendingDeletion', pendingWindowInDays: 7 },
  });
  range(5).forEach((i) => ev({ eventName: 'Decrypt', time: at(3, 8, i), identity: who.reporting, key: K.old, errorCode: 'KMSInvalidStateException', errorMessage: pendingDeletion(K.old) }));
  range(2).forEach((i) => ev({ eventName: 'GenerateDataKey', time: at(4, 22, i), identity: who.batch, key: K.old, errorCode: 'KMSInvalidStateException', errorMessage: pendingDeletion(K.old) }));
  // A key scheduled for deletion before the trail began (only the message says so), used once it began.
  ev({ eventName: 'EnableKeyRotation', time: at(0, 5), identity: who.ops, key: K.xks2 });
  ev({ eventName: 'Encrypt', time: at(2, 5), identity: who.batch, key: K.xks2, errorCode: 'KMSInvalidStateException', errorMessage: pendingDeletion(K.xks2) });
  // ... benign: an external key store proxy refusing a request (the AWS documentation's example
  // message), and a key still waiting for its imported material.
  ev({
    eventName: 'Decrypt', time: at(3, 12), identity: who.xksApp, key: K.xks, sourceIp: 'AWS Internal', errorCode: 'KMSInvalidStateException',
    errorMessage: 'The external key store proxy rejected the request because the specified ciphertext or additional authenticated data is corrupted, missing, or otherwise invalid.',
    extra: { additionalEventData: { customKeyStoreId: 'cks-9876543210fedcba9', xksKeyId: 'abc01234567890fe' } },
  });
  ev({ eventName: 'CreateKey', time: at(3, 13), identity: who.ops, key: K.pendingImport, requestParameters: { origin: 'EXTERNAL', keyUsage: 'ENCRYPT_DECRYPT', bypassPolicyLockoutSafetyCheck: false }, responseElements: { keyMetadata: { arn: K.pendingImport, keyState: 'PendingImport', origin: 'EXTERNAL' } } });
  ev({ eventName: 'Encrypt', time: at(3, 13, 5), identity: who.xksApp, key: K.pendingImport, errorCode: 'KMSInvalidStateException', errorMessage: `${K.pendingImport} is pending import.` });

  // ---- disabled_key_use ---------------------------------------------------------------------
  ev({ eventName: 'Decrypt', time: at(4, 10), identity: who.legacyApp, key: K.legacy });
  ev({ eventName: 'DisableKey', time: at(5, 9), identity: who.ops, key: K.legacy });
  range(12).forEach((i) => ev({ eventName: 'Decrypt', time: at(5 + (i % 2), 10, i), identity: who.legacyApp, key: K.legacy, errorCode: 'DisabledException', errorMessage: disabled(K.legacy) }));
  // A deletion cancelled leaves the key disabled: the batch job is refused.
  ev({ eventName: 'ScheduleKeyDeletion', time: at(6, 9), identity: who.ops, key: K.cancelled, requestParameters: { keyId: K.cancelled, pendingWindowInDays: 30 } });
  ev({ eventName: 'CancelKeyDeletion', time: at(6, 9, 30), identity: who.ops, key: K.cancelled });
  ev({ eventName: 'Decrypt', time: at(7, 2), identity: who.batch, key: K.cancelled, errorCode: 'DisabledException', errorMessage: disabled(K.cancelled) });
  // ... benign: the key re-enabled and used again; an access denial on the disabled key.
  ev({ eventName: 'EnableKey', time: at(8, 9), identity: who.ops, key: K.legacy });
  ev({ eventName: 'Decrypt', time: at(8, 10), identity: who.legacyApp, key: K.legacy });
  ev({ eventName: 'Decrypt', time: at(7, 3), identity: who.eve, key: K.cancelled, errorCode: 'AccessDeniedException' });

  // ---- expired_key_material -----------------------------------------------------------------
  ev({ eventName: 'CreateKey', time: at(0, 12), identity: who.ops, key: K.byok, requestParameters: { origin: 'EXTERNAL', bypassPolicyLockoutSafetyCheck: false }, responseElements: { keyMetadata: { arn: K.byok, keyState: 'PendingImport', origin: 'EXTERNAL' } } });
  ev({ eventName: 'ImportKeyMaterial', time: at(0, 12, 5), identity: who.ops, key: K.byok, requestParameters: { keyId: K.byok, validTo: 'May 10, 2024, 12:00:00 AM', expirationModel: 'KEY_MATERIAL_EXPIRES' } });
  days(1, 8, (d) => ev({ eventName: 'Decrypt', time: at(d, 6), identity: who.payments, key: K.byok }));
  ev({ eventName: 'DeleteExpiredKeyMaterial', time: at(9, 0), identity: who.kms, key: K.byok, requestParameters: null, extra: { serviceEventDetails: { keyId: K.byok.split('/')[1] } } });
  // ... benign: KMS rotating a key, and material a user deletes (key_loss reports that).
  ev({ eventName: 'RotateKey', time: at(9, 1), identity: who.kms, key: K.payments, requestParameters: null });
  ev({ eventName: 'ImportKeyMaterial', time: at(0, 13), identity: who.ops, key: K.byok2, requestParameters: { keyId: K.byok2, expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' } });
  ev({ eventName: 'DeleteImportedKeyMaterial', time: at(9, 2), identity: who.ops, key: K.byok2 });

  // ---- alias_changed ------------------------------------------------------------------------
  // Two services encrypt through alias/payments (by name and by alias ARN); eve re-points it.
  days(0, 10, (d) => ev({ eventName: 'GenerateDataKey', time: at(d, 7), identity: who.payments, key: K.payments, requestParameters: { keyId: 'alias/payments', keySpec: 'AES_256' } }));
  days(5, 10, (d) => ev({ eventName: 'Encrypt', time: at(d, 7, 30), identity: who.recon, key: K.payments, requestParameters: { keyId: `arn:aws:kms:us-east-1:${A}:alias/payments` } }));
  const aliasArn = (name: string, region = 'us-east-1') => `arn:aws:kms:${region}:${A}:alias/${name}`;
  const aliasResources = (name: string, key: string) => ({ resources: [{ accountId: A, type: 'AWS::KMS::Key', ARN: aliasArn(name) }, { accountId: A, type: 'AWS::KMS::Key', ARN: key }] });
  ev({ eventName: 'UpdateAlias', time: at(11, 23, 40), identity: who.eve, key: K.paymentsNext, requestParameters: { aliasName: 'alias/payments', targetKeyId: K.paymentsNext.split('/')[1] }, extra: aliasResources('payments', K.paymentsNext) });
  // The reporting role used alias/reports until its deletion.
  days(6, 9, (d) => ev({ eventName: 'Decrypt', time: at(d, 5), identity: who.reporting, key: K.reportsOld, requestParameters: { keyId: 'alias/reports' } }));
  ev({ eventName: 'DeleteAlias', time: at(12, 9), identity: who.eve, key: K.reportsOld, requestParameters: { aliasName: 'alias/reports' }, extra: aliasResources('reports', K.reportsOld) });
  // ... benign: a deployment creates its alias, uses it and re-points it (blue/green) ...
  ev({ eventName: 'CreateAlias', time: at(3, 15), identity: who.deploy, key: K.appV1, requestParameters: { aliasName: 'alias/app', targetKeyId: K.appV1 }, extra: aliasResources('app', K.appV1) });
  ev({ eventName: 'Encrypt', time: at(3, 15, 1), identity: who.deploy, key: K.appV1, requestParameters: { keyId: 'alias/app' } });
  ev({ eventName: 'UpdateAlias', time: at(4, 15), identity: who.deploy, key: K.appV2, requestParameters: { aliasName: 'alias/app', targetKeyId: K.appV2 }, extra: aliasResources('app', K.appV2) });
  // ... an alias nobody called here (only its namesake in another region was), deleted; and a
  // refused UpdateAlias of the payments alias.
  ev({ eventName: 'Decrypt', time: at(5, 5), identity: who.reporting, key: K.byok2, requestParameters: { keyId: 'alias/unused' } });
  ev({ eventName: 'DeleteAlias', time: at(6, 5), identity: who.eve, key: K.appV1, requestParameters: { aliasName: 'alias/unused' }, extra: aliasResources('unused', K.appV1) });
  ev({ eventName: 'UpdateAlias', time: at(10, 23), identity: who.mallory, key: K.appV1, requestParameters: { aliasName: 'alias/payments', targetKeyId: K.appV1 }, errorCode: 'AccessDeniedException' });

  // ---- key_store_loss and key_store_changed -------------------------------------------------
  const store = (name: string) => ({ customKeyStoreName: name, clusterId: `cluster-${name}` });
  ev({ eventName: 'DisconnectCustomKeyStore', time: at(4, 3), identity: who.eve, requestParameters: { customKeyStoreId: 'cks-aaaaaaaaaaaaaaaa1' }, extra: { additionalEventData: store('hsm-a') } });
  ev({ eventName: 'DeleteCustomKeyStore', time: at(5, 3), identity: who.eve, requestParameters: { customKeyStoreId: 'cks-bbbbbbbbbbbbbbbb2' }, extra: { additionalEventData: store('hsm-b') } });
  ev({
    eventName: 'UpdateCustomKeyStore', time: at(6, 3), identity: who.eve,
    requestParameters: { customKeyStoreId: 'cks-dddddddddddddddd4', xksProxyUriEndpoint: 'https://xks.example.net', xksProxyAuthenticationCredential: { accessKeyId: 'HIDDEN_DUE_TO_SECURITY_REASONS', rawSecretAccessKey: 'HIDDEN_DUE_TO_SECURITY_REASONS' } },
  });
  // ... benign: maintenance (disconnect, rename, reconnect within the hour) and a refused delete.
  ev({ eventName: 'DisconnectCustomKeyStore', time: at(7, 3), identity: who.ops, requestParameters: { customKeyStoreId: 'cks-cccccccccccccccc3' }, extra: { additionalEventData: store('hsm-c') } });
  ev({ eventName: 'UpdateCustomKeyStore', time: at(7, 3, 10), identity: who.ops, requestParameters: { customKeyStoreId: 'cks-cccccccccccccccc3', newCustomKeyStoreName: 'hsm-c-prod' } });
  ev({ eventName: 'ConnectCustomKeyStore', time: at(7, 3, 25), identity: who.ops, requestParameters: { customKeyStoreId: 'cks-cccccccccccccccc3' }, extra: { additionalEventData: store('hsm-c-prod') } });
  ev({ eventName: 'DeleteCustomKeyStore', time: at(7, 4), identity: who.ops, requestParameters: { customKeyStoreId: 'cks-cccccccccccccccc3' }, errorCode: 'CustomKeyStoreHasCMKsException' });

  // ---- key_region_change --------------------------------------------------------------------
  // The account uses us-east-1 and us-west-2 (above). A replica into ap-southeast-3 (KMS also logs
  // the replica's CreateKey there), and a primary moved; a replica into us-west-2 is benign.
  const replicate = (time: string, key: string, region: string) => {
    const replica = key.replace(':us-east-1:', `:${region}:`);
    ev({
      eventName: 'ReplicateKey', time, identity: who.ops, key,
      requestParameters: { keyId: key.split('/')[1], replicaRegion: region, bypassPolicyLockoutSafetyCheck: false, description: '' },
      responseElements: { replicaKeyMetadata: { arn: replica, keyState: 'Creating', multiRegion: true, multiRegionConfiguration: { multiRegionKeyType: 'REPLICA' } } },
    });
    ev({ eventName: 'CreateKey', time, identity: identity.via(who.ops, 'kms.amazonaws.com'), key: replica, region, requestParameters: { multiRegion: true, bypassPolicyLockoutSafetyCheck: false } });
  };
  replicate(at(8, 11), K.mrk, 'ap-southeast-3');
  replicate(at(8, 12), K.mrk2, 'us-west-2');
  const moved = { requestID: 'ee408f36-ea01-422b-ac14-b0f147c68334' };
  ev({ eventName: 'UpdatePrimaryRegion', time: at(9, 11), identity: who.ops, key: K.mrk2, requestParameters: { keyId: K.mrk2.split('/')[1], primaryRegion: 'us-west-2' }, extra: moved });
  ev({ eventName: 'UpdatePrimaryRegion', time: at(9, 11), identity: identity.via(who.ops, 'kms.amazonaws.com'), key: K.mrk2.replace(':us-east-1:', ':us-west-2:'), region: 'us-west-2', requestParameters: { keyId: K.mrk2.replace(':us-east-1:', ':us-west-2:'), primaryRegion: 'us-west-2' }, extra: moved });

  // ---- policy_lockout_bypass ----------------------------------------------------------------
  const ownPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:role/KeyAdmin` }, Action: 'kms:*', Resource: '*' }] });
  ev({ eventName: 'PutKeyPolicy', time: at(9, 16), identity: who.eve, key: K.locked, requestParameters: { keyId: K.locked, policyName: 'default', policy: ownPolicy, bypassPolicyLockoutSafetyCheck: true } });
  // ... benign: the default (false), and a PutKeyPolicy that does not mention it.
  ev({ eventName: 'CreateKey', time: at(9, 17), identity: who.ops, key: K.normal, requestParameters: { keyUsage: 'ENCRYPT_DECRYPT', bypassPolicyLockoutSafetyCheck: false }, responseElements: { keyMetadata: { arn: K.normal, keyState: 'Enabled', origin: 'AWS_KMS' } } });
  ev({ eventName: 'PutKeyPolicy', time: at(9, 18), identity: who.ops, key: K.normal, requestParameters: { keyId: K.normal, policyName: 'default', policy: ownPolicy } });

  return r;
}

const NEW_RULES = ['secret_harvest', 'data_harvest', 'pending_deletion_key_use', 'disabled_key_use', 'expired_key_material', 'alias_changed', 'key_store_loss', 'key_store_changed', 'key_region_change', 'policy_lockout_bypass'];
const rules = loadRules().filter((r) => NEW_RULES.includes(r.id));

let loaded: LoadedTrail;
let engine: DuckDBEngine;
let options: RunOptions;
/** Findings since day 1: the first night of the nightly jobs is history, not news. */
let all: Finding[];

beforeAll(async () => {
  loaded = await loadTrail(trail());
  engine = await DuckDBEngine.open(loaded.db);
  options = { since: '2024-05-02 00:00:00', trust: await resolveTrust(engine, null, null) };
  all = await runDetections(engine, rules, options);
}, 120_000);
afterAll(async () => {
  await engine?.close();
  loaded?.cleanup();
});

const of = (rule: string, findings = all) => findings.filter((f) => f.rule === rule);
const summary = (f: Finding) => [f.identity_arn, f.key_arn, f.first_seen, f.last_seen, f.event_count, f.detail];

describe('secret_harvest', () => {
  it('names the harvester once, with how many secrets and parameters, how long and its previous maximum', () => {
    expect(of('secret_harvest').map(summary)).toEqual([
      [who.mallory.arn, null, '2024-05-11T10:00:00Z', '2024-05-11T10:09:47Z', 62,
        'decrypted 20 distinct Secrets Manager secrets and 42 distinct SSM SecureString parameters in 10 min (62 Decrypt calls, at most 62 within 15 min); its previous maximum in 15 min was 2'],
      // One burst over two windows and two keys: one finding. The CI role was first seen in it: no
      // baseline to judge it by, so low (it stays below the fixed floor, extreme_distinct).
      [arnOf(who.ci), null, '2024-05-12T14:00:00Z', '2024-05-12T14:31:00Z', 32,
        'decrypted 32 distinct Secrets Manager secrets in 31 min (32 Decrypt calls, at most 15 within 15 min); its previous maximum in 15 min was 0; no baseline: the caller was first seen 2024-05-12 14:00 UTC, less than 24 h before'],
    ]);
    expect(of('secret_harvest')[0]).toMatchObject({ severity: 'high', source_ip: null, account_id: A, attack: ['T1555.006', 'T1552'] });
    expect(of('secret_harvest')[1].severity).toBe('low');
  });

  it("reports a nightly loader's very first night (no history yet) as low, and never again", async () => {
    const everything = await runDetections(engine, rules.filter((r) => r.id === 'secret_harvest'), { ...options, since: null });
    expect(everything.map((f) => [f.identity_arn, f.severity, f.first_seen])).toEqual([
      [who.mallory.arn, 'high', '2024-05-11T10:00:00Z'],
      [arnOf(who.loader), 'low', '2024-05-01T02:00:00Z'],
      [arnOf(who.rotation), 'low', '2024-05-01T03:00:00Z'],
      [arnOf(who.ci), 'low', '2024-05-12T14:00:00Z'],
    ]);
    // Past the fixed floor, no history is no excuse: the loader's 30 parameters against a floor of 25.
    const floored = await runDetections(engine, rules.filter((r) => r.id === 'secret_harvest'), { ...options, since: null, params: { secret_harvest: { extreme_distinct: 25 } } });
    expect(floored.find((f) => f.identity_arn === arnOf(who.loader))?.severity).toBe('high');
  });

  it('takes its parameters: a higher floor spares the CI role, a smaller factor flags the rotation role', async () => {
    const run = (params: Record<string, number>) => runDetections(engine, rules.filter((r) => r.id === 'secret_harvest'), { ...options, params: { secret_harvest: params } });
    expect((await run({ min_distinct: 40 })).map((f) => f.identity_arn)).toEqual([who.mallory.arn]);
    // 45 secrets on day 12 against 40 every night before: 1.1x.
    // Worst first: the rotation role has a history (high), the CI role none (low).
    expect((await run({ factor: 1.1 })).map((f) => [f.identity_arn, f.severity])).toEqual([[who.mallory.arn, 'high'], [arnOf(who.rotation), 'high'], [arnOf(who.ci), 'low']]);
  });
});

describe('data_harvest', () => {
  it('fires on a bulk read of many objects, not on the nightly ETL that reads as many every night', () => {
    expect(of('data_harvest').map(summary)).toEqual([
      [arnOf(who.analytics), K.s3, '2024-05-13T16:00:00Z', '2024-05-13T16:09:56Z', 150,
        'decrypted the data of 150 distinct S3 objects or buckets in 10 min (150 Decrypt calls, at most 150 within 15 min); its previous maximum in 15 min was 5'],
    ]);
    expect(of('data_harvest')[0]).toMatchObject({ severity: 'medium', source_ip: 'internal.amazonaws.com', attack: ['T1530', 'T1005'] });
  });
});

describe('pending_deletion_key_use', () => {
  it('fires once per key and deletion with the deletion date and the callers, not on other invalid-state errors', () => {
    expect(of('pending_deletion_key_use').map(summary)).toEqual([
      [arnOf(who.batch), K.xks2, '2024-05-03T05:00:00Z', '2024-05-03T05:00:00Z', 1,
        `1 calls refused while the key is pending deletion: Encrypt by ${arnOf(who.batch)}; cancel the deletion if the data is still needed`],
      [null, K.old, '2024-05-04T08:00:00Z', '2024-05-05T22:01:00Z', 7,
        `7 calls refused while the key is pending deletion (deletion May 10, 2024, 9:00:00 AM, scheduled by ${who.ops.arn}): Decrypt, GenerateDataKey by ${arnOf(who.batch)}, ${arnOf(who.reporting)}; cancel the deletion if the data is still needed`],
    ]);
  });
});

describe('disabled_key_use', () => {
  it('fires per key and disabling (a cancelled deletion leaves the key disabled), not on denials or a key pending import', () => {
    expect(of('disabled_key_use').map(summary)).toEqual([
      [arnOf(who.legacyApp), K.legacy, '2024-05-06T10:00:00Z', '2024-05-07T10:11:00Z', 12,
        `12 calls refused while the key is disabled (DisableKey by ${who.ops.arn} at 2024-05-06 09:00:00 UTC): Decrypt by ${arnOf(who.legacyApp)}`],
      [arnOf(who.batch), K.cancelled, '2024-05-08T02:00:00Z', '2024-05-08T02:00:00Z', 1,
        `1 calls refused while the key is disabled (CancelKeyDeletion by ${who.ops.arn} at 2024-05-07 09:30:00 UTC): Decrypt by ${arnOf(who.batch)}`],
    ]);
  });
});

describe('expired_key_material', () => {
  it('fires on KMS deleting expired material, naming the import and the callers that used the key', () => {
    expect(of('expired_key_material').map(summary)).toEqual([
      ['AWS Internal', K.byok, '2024-05-10T00:00:00Z', '2024-05-10T00:00:00Z', 1,
        `KMS deleted the expired imported key material; the key cannot be used until it is imported again (imported 2024-05-01 12:05:00 UTC by ${who.ops.arn}, valid to May 10, 2024, 12:00:00 AM); used by 1 caller(s) in 8 calls in the 30 days before`],
    ]);
  });
});

describe('alias_changed', () => {
  it('fires on an alias others use being re-pointed or deleted, not on a deployment re-pointing its own alias or an unused alias', () => {
    expect(of('alias_changed').map(summary)).toEqual([
      [who.eve.arn, K.payments, '2024-05-12T23:40:00Z', '2024-05-12T23:40:00Z', 1,
        `UpdateAlias re-pointed alias/payments from ${K.payments} to ${K.paymentsNext.split('/')[1]}; 2 other caller(s) used it in 17 calls in the 30 days before: ${arnOf(who.payments)}, ${arnOf(who.recon)}`],
      [who.eve.arn, K.reportsOld, '2024-05-13T09:00:00Z', '2024-05-13T09:00:00Z', 1,
        `DeleteAlias deleted alias/reports (it pointed to ${K.reportsOld}); 1 other caller(s) used it in 4 calls in the 30 days before: ${arnOf(who.reporting)}`],
    ]);
  });
});

describe('key_store_loss and key_store_changed', () => {
  it('fire on a delete, a disconnect left disconnected and a new proxy, not on maintenance or a rename', () => {
    expect(of('key_store_loss').map((f) => [f.identity_arn, f.detail])).toEqual([
      [who.eve.arn, 'DisconnectCustomKeyStore cks-aaaaaaaaaaaaaaaa1 (hsm-a, cluster-hsm-a) in us-east-1: its KMS keys cannot be used, and it was not reconnected within 60 min'],
      [who.eve.arn, 'DeleteCustomKeyStore cks-bbbbbbbbbbbbbbbb2 (hsm-b, cluster-hsm-b) in us-east-1: its KMS keys are gone with it'],
    ]);
    expect(of('key_store_changed').map((f) => [f.identity_arn, f.severity, f.detail])).toEqual([
      [who.eve.arn, 'medium', 'UpdateCustomKeyStore cks-dddddddddddddddd4 in us-east-1 changed the proxy endpoint, proxy credential (now https://xks.example.net)'],
    ]);
  });

  it('a shorter reconnect window makes the maintenance disconnect a finding', async () => {
    const findings = await runDetections(engine, rules.filter((r) => r.id === 'key_store_loss'), { ...options, params: { key_store_loss: { reconnect_minutes: 10 } } });
    expect(findings.map((f) => f.detail)).toContainEqual(expect.stringMatching(/^DisconnectCustomKeyStore cks-cccccccccccccccc3 /));
  });
});

describe('key_region_change', () => {
  it('fires on a replica in a region the account never used and on a primary moved (once for its two records), not on a replica into a used region', () => {
    expect(of('key_region_change').map(summary)).toEqual([
      [who.ops.arn, K.mrk, '2024-05-09T11:00:00Z', '2024-05-09T11:00:00Z', 1,
        `ReplicateKey created ${K.mrk.replace(':us-east-1:', ':ap-southeast-3:')} in ap-southeast-3, a region with no earlier KMS activity in account ${A}`],
      [who.ops.arn, K.mrk2, '2024-05-10T11:00:00Z', '2024-05-10T11:00:00Z', 1, 'UpdatePrimaryRegion moved the primary key from us-east-1 to us-west-2'],
    ]);
  });
});

describe('policy_lockout_bypass', () => {
  it('fires on a policy set with the safety check bypassed, not when it is false or absent', () => {
    expect(of('policy_lockout_bypass').map(summary)).toEqual([
      [who.eve.arn, K.locked, '2024-05-10T16:00:00Z', '2024-05-10T16:00:00Z', 1, 'PutKeyPolicy with bypassPolicyLockoutSafetyCheck true'],
    ]);
  });
});

describe('the new rules together', () => {
  it('find exactly the positives, each with its ATT&CK techniques', () => {
    expect(all.map((f) => f.rule).sort()).toEqual([
      'alias_changed', 'alias_changed', 'data_harvest', 'disabled_key_use', 'disabled_key_use', 'expired_key_material',
      'key_region_change', 'key_region_change', 'key_store_changed', 'key_store_loss', 'key_store_loss',
      'pending_deletion_key_use', 'pending_deletion_key_use', 'policy_lockout_bypass', 'secret_harvest', 'secret_harvest',
    ]);
    for (const f of all) expect(f.attack).toEqual(rules.find((r) => r.id === f.rule)!.attack);
  });
});

describe('key_loss, one finding per incident', () => {
  it('gives one finding for the deletion of five keys in three minutes, and another for a later, separate disabling', async () => {
    const keys = range(5).map((i) => keyArn(A, `dead0000-0000-4000-8000-00000000000${i}`));
    const later = keyArn(A, 'dead0000-0000-4000-8000-000000000009');
    const intruder = identity.role(A, 'CompromisedAdminRole', 'x');
    const t = await loadTrail([
      ...keys.map((key, i) => kmsEvent({
        eventName: 'ScheduleKeyDeletion', time: at(3, 4, 0, i * 40), identity: intruder, key, sourceIp: '198.51.100.200',
        requestParameters: { keyId: key, pendingWindowInDays: 7 }, responseElements: { keyId: key, keyState: 'PendingDeletion', pendingWindowInDays: 7 },
      })),
      kmsEvent({ eventName: 'DisableKey', time: at(5, 4), identity: intruder, key: later, sourceIp: '198.51.100.200' }),
    ]);
    const e = await DuckDBEngine.open(t.db);
    try {
      const found = await runDetections(e, loadRules().filter((r) => r.id === 'key_loss'), { since: null, trust: { trustedAccounts: [A], trustedOrgIds: [] } });
      expect(found.map((f) => [f.key_arn, f.first_seen, f.last_seen, f.event_count, f.detail])).toEqual([
        [null, '2024-05-04T04:00:00Z', '2024-05-04T04:02:40Z', 5, `5 keys: ${keys.map((k) => `ScheduleKeyDeletion (waiting period 7 days) of ${k}`).join('; ')}`],
        [later, '2024-05-06T04:00:00Z', '2024-05-06T04:00:00Z', 1, 'DisableKey'],
      ]);
      expect(found.every((f) => f.identity_arn === arnOf(intruder) && f.source_ip === '198.51.100.200')).toBe(true);
    } finally {
      await e.close();
      t.cleanup();
    }
  });
});
