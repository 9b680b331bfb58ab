// Benign look-alikes in the sample, present with or without anomalies: events a detection must NOT
// flag (KMS rotating keys, terraform creating keys, in-org grants, a second known IP, the AWS-managed
// key policy pattern, isolated AccessDenied errors, steady service volume).

import {
  assumedRole, DAY, defaultKeyPolicy, derivedId, HOUR, hourStart, iamUser, kmsCall, kmsCreateAlias, kmsCreateGrant, kmsCreateKey, kmsDecrypt,
  kmsKeyAdmin, kmsKeyRead, kmsPutKeyPolicy, kmsRotateKey, MIN, Rng, SEC, UPNUM, viaService, ymd, type Caller, type KmsContext,
} from '../cloudtrail/index.js';
import { track, type Tracked } from './ground-truth.js';
import { UA, type Catalog, type Key } from './organization.js';
import type { BenignLookalike } from './types.js';
import { historyFor, type Schedule } from './windows.js';

export function scheduleBenign(cat: Catalog, sched: Schedule, start: number, days: number, seed: number): Tracked<BenignLookalike>[] {
  const A1 = '111111111111';
  const A2 = '222222222222';
  const A3 = '333333333333';
  const hist = historyFor(days);
  const benign: Tracked<BenignLookalike>[] = [];
  const at = (day: number, h: number, m: number, s = 0) => start + day * DAY + h * HOUR + m * MIN + s * SEC;
  {
    const f = new Rng(seed, 3);
    const kmsRot = (day: number, k: Key, h: number) => {
      if (day >= days) return;
      const t = at(day, h, f.range(0, 59), f.range(0, 59));
      sched.add(kmsRotateKey(f, t, k), t, k.account);
    };
    const rotKeys: [number, Key][] = [
      [3, cat.key(A1, 'us-east-1', 'datalake-raw')],
      [9, cat.key(A2, 'us-east-1', 'reports')],
      [Math.min(days - 1, hist + 2), cat.key(A3, 'us-east-1', 'shared-tools')],
      [Math.min(days - 1, hist + 5), cat.key(A1, 'us-east-1', 'app-data')],
    ];
    for (const [d, k] of rotKeys) kmsRot(d, k, f.range(0, 23));
    for (const [, k] of rotKeys)
      track(benign, { kind: 'kms_rotate_key', identity_arn: null, principal_arn: '<internal>', key_arn: k.arn, source_ip: 'AWS Internal', account_id: k.account, region: k.region, day: null, event_names: ['RotateKey'], count: 0, note: 'AwsServiceEvent by KMS itself (userIdentity {accountId, invokedBy: "AWS Internal"}, no type).' }, { principal: '<internal>', identity: null, keys: [k.arn], ip: 'AWS Internal', names: ['RotateKey'] });

    // ci-deployer creates a key with terraform in the history (normal control plane)
    const ci = cat.user(A2, 'ci-deployer');
    const ciCall = (): Caller => ({ identity: iamUser(ci), sourceIp: cat.ip('gh2'), userAgent: UA.terraform, tls: true });
    const ff = cat.key(A2, 'us-east-1', 'feature-flags');
    if (days > 2) {
      let t = at(2, 15, 12, 4);
      sched.add(kmsCreateKey({ ids: f, time: t, caller: ciCall() }, ff, { description: 'feature flag payloads', policy: defaultKeyPolicy(A2), tags: [{ tagKey: 'team', tagValue: 'platform' }] }), t, A2);
      t += 3 * SEC;
      sched.add(kmsCreateAlias({ ids: f, time: t, caller: ciCall() }, ff, 'alias/feature-flags'), t, A2);
      t += 2 * SEC;
      sched.add(kmsKeyAdmin({ ids: f, time: t, caller: ciCall() }, ff, 'EnableKeyRotation', { keyId: ff.id }), t, A2);
      t += 2 * SEC;
      sched.add(kmsKeyAdmin({ ids: f, time: t, caller: ciCall() }, ff, 'TagResource', { keyId: ff.arn, tags: [{ tagKey: 'cost-center', tagValue: 'cc-4411' }] }), t, A2);
    }
    // benign CreateGrant to in-org roles and by RDS on behalf of a user
    const lee = cat.role(A1, 'AdministratorAccess');
    const leeCall = (t: number): Caller => ({ identity: assumedRole(lee, 'lee.chen@example.com', { time: t }), sourceIp: cat.ip('lee.office'), userAgent: UA.cliMac, tls: true });
    const curated = cat.key(A1, 'us-east-1', 'datalake-curated');
    const grant = (t: number, c: Caller, k: Key, grantee: string, ops: string[]) => {
      sched.add(kmsCreateGrant({ ids: f, time: t, caller: c }, k, { granteePrincipal: grantee, operations: ops }), t, k.account);
    };
    const benignGrantDays = [Math.min(5, days - 1), Math.min(days - 1, hist + 4)];
    grant(at(benignGrantDays[0]!, 17, 21, 9), leeCall(at(benignGrantDays[0]!, 17, 21, 9)), curated, `arn:aws:iam::${A2}:role/ReportingRole`, ['Decrypt', 'DescribeKey']);
    track(benign, { kind: 'grant_in_org', identity_arn: leeCall(0).identity.arn!, principal_arn: lee.arn, key_arn: curated.arn, source_ip: null, account_id: A1, region: 'us-east-1', day: null, event_names: ['CreateGrant'], count: 0, note: `CreateGrant to in-org roles (arn:aws:iam::${A2}:role/ReportingRole, arn:aws:iam::${A1}:role/DataLakeAnalyticsRole).` }, { principal: lee.arn, identity: null, keys: [curated.arn], ip: null, names: ['CreateGrant'] });
    grant(at(benignGrantDays[1]!, 14, 2, 44), leeCall(at(benignGrantDays[1]!, 14, 2, 44)), curated, `arn:aws:iam::${A1}:role/DataLakeAnalyticsRole`, ['Decrypt', 'GenerateDataKey', 'DescribeKey']);
    {
      const rdsUser = cat.user(A2, 'ci-deployer');
      const secrets = cat.key(A2, 'us-east-1', 'secrets');
      const t = at(Math.min(7, days - 1), 16, 40, 10);
      const c = viaService(iamUser(rdsUser), 'rds.amazonaws.com');
      sched.add(kmsCreateGrant({ ids: f, time: t, caller: c }, secrets, { granteePrincipal: 'rds.us-east-1.amazonaws.com', retiringPrincipal: 'rds.us-east-1.amazonaws.com', operations: ['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'CreateGrant', 'RetireGrant', 'DescribeKey'], constraints: { encryptionContextSubset: { 'aws:rds:db-id': 'db-' + f.str(UPNUM, 26) } } }), t, A2);
    }
    // normal PutKeyPolicy (own account root + a role) in the history
    {
      const k = cat.key(A1, 'us-east-1', 'datalake-raw');
      const t = at(Math.min(6, days - 1), 18, 3, 30);
      sched.add(kmsPutKeyPolicy({ ids: f, time: t, caller: leeCall(t) }, k, defaultKeyPolicy(A1, [{ Sid: 'Allow ingest', Effect: 'Allow', Principal: { AWS: cat.role(A1, 'IngestLambdaRole').arn }, Action: ['kms:GenerateDataKey', 'kms:Encrypt'], Resource: '*' }])), t, A1);
    }
    // carol.ops: her second (office) IP is already known in the history; she uses it daily afterwards.
    const carol = cat.user(A1, 'carol.ops');
    const carolKey = cat.key(A1, 'us-east-1', 'app-data');
    for (const d of [2, 9]) {
      if (d >= hist) continue;
      let t = at(d, 15, f.range(0, 50), f.range(0, 59));
      const c: Caller = { identity: iamUser(carol), sourceIp: cat.ip('carol.office'), userAgent: UA.cliLinux, tls: true };
      sched.add(kmsKeyRead({ ids: f, time: t, caller: c }, carolKey, 'DescribeKey', 'alias/app-data'), t, A1);
      t += 4 * SEC;
      sched.add(kmsDecrypt({ ids: f, time: t, caller: c, encryptionContext: { purpose: 'adhoc' } }, carolKey), t, A1);
    }
    track(benign, { kind: 'known_second_ip', identity_arn: carol.arn, principal_arn: carol.arn, key_arn: null, source_ip: cat.ip('carol.office'), account_id: A1, region: 'us-east-1', day: null, event_names: [], count: 0, note: `carol.ops used ${cat.ip('carol.office')} in the history (days 2 and 9) and uses it every weekday after day ${hist}; not a new IP.` }, { principal: carol.arn, identity: carol.arn, keys: [], ip: cat.ip('carol.office'), names: [] });
    // EnableKeyRotation by a user after the history (look-alike of DisableKeyRotation)
    {
      const d = Math.min(days - 1, hist + 1);
      const t = at(d, 16, 5, 12);
      const c: Caller = { identity: iamUser(carol), sourceIp: cat.ip('carol.office'), userAgent: UA.cliLinux, tls: true };
      sched.add(kmsKeyAdmin({ ids: f, time: t, caller: c }, carolKey, 'EnableKeyRotation', { keyId: carolKey.id, rotationPeriodInDays: 365 }), t, A1);
      track(benign, { kind: 'enable_key_rotation', identity_arn: carol.arn, principal_arn: carol.arn, key_arn: carolKey.arn, source_ip: null, account_id: A1, region: 'us-east-1', day: ymd(t), event_names: ['EnableKeyRotation'], count: 0, note: 'EnableKeyRotation by an IAM user (benign).' }, { principal: carol.arn, identity: carol.arn, keys: [carolKey.arn], ip: null, names: ['EnableKeyRotation'] });
    }
    // The AWS-managed-key style policy: Principal "*" restricted by kms:CallerAccount + kms:ViaService
    {
      const k = cat.key(A2, 'us-east-1', 'sqs-orders');
      const d = Math.min(days - 1, hist + 2);
      const pol = JSON.stringify(
        {
          Version: '2012-10-17',
          Id: 'auto-sqs-orders',
          Statement: [
            { Sid: 'Allow access through SQS for all principals in the account that are authorized to use SQS', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'], Resource: '*', Condition: { StringEquals: { 'kms:CallerAccount': A2, 'kms:ViaService': 'sqs.us-east-1.amazonaws.com' } } },
            { Sid: 'Allow direct access to key metadata to the account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A2}:root` }, Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant', 'kms:PutKeyPolicy'], Resource: '*' },
          ],
        },
        null,
        2,
      );
      let t = at(d, 19, 30, 2);
      sched.add(kmsCreateKey({ ids: f, time: t, caller: ciCall() }, k, { description: 'orders queue SSE', policy: pol }), t, A2);
      t += 4 * SEC;
      sched.add(kmsCreateAlias({ ids: f, time: t, caller: ciCall() }, k, 'alias/sqs-orders'), t, A2);
      if (d + 1 < days) {
        t = at(d + 1, 14, 11, 40);
        sched.add(kmsPutKeyPolicy({ ids: f, time: t, caller: ciCall() }, k, pol, k.arn), t, A2);
      }
      track(benign, { kind: 'policy_principal_star_with_conditions', identity_arn: ci.arn, principal_arn: ci.arn, key_arn: k.arn, source_ip: null, account_id: A2, region: 'us-east-1', day: null, event_names: ['CreateKey', 'PutKeyPolicy'], count: 0, note: 'Principal {"AWS":"*"} restricted by kms:CallerAccount = own account and kms:ViaService (AWS-managed key pattern).' }, { principal: ci.arn, identity: ci.arn, keys: [k.arn], ip: null, names: ['CreateKey', 'PutKeyPolicy'] });
    }
    // A few isolated AccessDenied errors from different callers (thin background noise, never a burst).
    {
      const analyst = cat.role(A1, 'DataAnalyst');
      const app = cat.role(A2, 'AppBackendRole');
      const deniers: [number, () => [Caller, Key, string, string]][] = [
        [1, () => [{ identity: assumedRole(analyst, 'raj.patel@example.com', { time: 0 }), sourceIp: cat.ip('analyst2'), userAgent: UA.internal, tls: true, console: true }, cat.key(A1, 'us-east-1', 'datalake-raw'), 'Decrypt', A1]],
        [4, () => [{ identity: iamUser(ci), sourceIp: cat.ip('gh3'), userAgent: UA.terraform, tls: true }, cat.key(A2, 'us-east-1', 'signing'), 'GetKeyPolicy', A2]],
        [8, () => [{ identity: assumedRole(app, derivedId('', 'denied-task', 32).toLowerCase(), { time: 0 }), sourceIp: cat.ip(`nat2/${A2}/us-east-1`), userAgent: UA.javaEcs, tls: true }, cat.key(A2, 'us-east-1', 'reports'), 'Decrypt', A2]],
        [12, () => [{ identity: iamUser(carol), sourceIp: cat.ip('carol.home'), userAgent: UA.cliLinux, tls: true }, cat.key(A1, 'us-east-1', 'datalake-curated'), 'GenerateDataKey', A1]],
        [hist + 3, () => [{ identity: iamUser(cat.user(A2, 'sam.rivera')), sourceIp: cat.ip('sam.office'), userAgent: UA.cliMac, tls: true }, cat.key(A2, 'us-east-1', 'signing'), 'Sign', A2]],
      ];
      for (const [d, who] of deniers) {
        if (d >= days) continue;
        const t = at(d, f.range(13, 21), f.range(0, 59), f.range(0, 59));
        const [c0, k, name] = who();
        const ui = c0.identity.type === 'AssumedRole' ? { ...c0.identity, accessKeyId: derivedId('ASIA', `${c0.identity.arn}|${hourStart(t)}`) } : c0.identity;
        const c: Caller = { ...c0, identity: ui };
        const x: KmsContext = { ids: f, time: t, caller: c, denied: true };
        const req =
          name === 'Decrypt'
            ? { encryptionContext: { purpose: 'adhoc' }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }
            : name === 'GenerateDataKey'
              ? { keyId: k.alias, keySpec: 'AES_256' }
              : name === 'Sign'
                ? { keyId: k.alias, signingAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256', messageType: 'DIGEST' }
                : { keyId: k.arn, policyName: 'default' };
        sched.add(kmsCall(x, k, name, req), t, k.account);
      }
    }
    const dl = cat.role(A1, 'DataLakeAnalyticsRole');
    track(benign, { kind: 'steady_service_volume', identity_arn: null, principal_arn: dl.arn, key_arn: curated.arn, source_ip: 's3.amazonaws.com', account_id: A1, region: 'us-east-1', day: null, event_names: ['Decrypt'], count: 0, note: 'S3 (invokedBy s3.amazonaws.com) decrypting for the data-lake role, hundreds per day, steady day to day.' }, { principal: dl.arn, identity: null, keys: [curated.arn], ip: 's3.amazonaws.com', names: ['Decrypt'] });
    const ct = cat.key(A3, 'us-east-1', 'org-cloudtrail-logs');
    track(benign, { kind: 'aws_service_principal', identity_arn: null, principal_arn: 'service:cloudtrail.amazonaws.com', key_arn: ct.arn, source_ip: 'cloudtrail.amazonaws.com', account_id: A3, region: 'us-east-1', day: null, event_names: ['GenerateDataKey'], count: 0, note: 'AWSService identity {"type":"AWSService","invokedBy":"cloudtrail.amazonaws.com"} encrypting log files.' }, { principal: 'service:cloudtrail.amazonaws.com', identity: null, keys: [ct.arn], ip: null, names: ['GenerateDataKey'] });
  }
  return benign;
}
