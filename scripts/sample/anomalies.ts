// Anomalies injected into the sample after its history: what each KMS detection must find (volume
// spike, new source IP, AccessDenied burst, cross-account and external key use, key state changes,
// exposing key policies and grants, root use), with the ground truth to check the findings against.

import {
  assumedRole, consoleLogin, DAY, defaultKeyPolicy, HOUR, iamUser, iso, kmsCreateGrant, kmsCreateKey, kmsDecrypt, kmsDeleteImportedKeyMaterial,
  kmsEncrypt, kmsGenerateDataKey, kmsGetKeyPolicy, kmsGetParametersForImport, kmsImportKeyMaterial, kmsKeyAdmin, kmsKeylessCall, kmsKeyRead,
  kmsPutKeyPolicy, kmsScheduleKeyDeletion, MIN, Rng, root, SEC, stsGetCallerIdentity, ymd, type Caller, type KmsContext, type UserIdentity,
} from '../cloudtrail/index.js';
import { track, type Tracked } from './ground-truth.js';
import { BUILD_INSTANCE, UA, type Catalog } from './organization.js';
import { REPORTING_PER_RUN } from './background.js';
import { UNTRUSTED_ACCOUNT, type AnomalyKind, type InjectedAnomaly } from './types.js';
import { historyFor, type Schedule } from './windows.js';

export interface ScheduledAnomalies {
  anomalies: Tracked<InjectedAnomaly>[];
  /** Key ARN -> time it was disabled (the streams stop using it, or fail). */
  disabled: Map<string, number>;
}

export function scheduleAnomalies(cat: Catalog, sched: Schedule, start: number, days: number, seed: number): ScheduledAnomalies {
  const A1 = '111111111111';
  const A2 = '222222222222';
  const A3 = '333333333333';
  const hist = historyFor(days);
  const span = Math.max(1, days - hist);
  const anomalyDay = (offset: number) => Math.min(days - 1, hist + (offset % span));
  const anomalies: Tracked<InjectedAnomaly>[] = [];
  const disabled = new Map<string, number>();
  const at = (day: number, h: number, m: number, s = 0) => start + day * DAY + h * HOUR + m * MIN + s * SEC;

  const a = new Rng(seed, 4);
  const mk = (
    kind: AnomalyKind,
    identity: string,
    principal: string,
    keys: string[],
    ip: string | null,
    account: string,
    region: string,
    day: number,
    names: string[],
    note: string,
    error?: string,
    matchIp = ip,
  ) =>
    track(anomalies, { kind, identity_arn: identity, principal_arn: principal, key_arn: keys[0] ?? '', key_arns: keys, source_ip: ip, account_id: account, region, day: ymd(start + day * DAY), event_names: names, count: 0, first_event_time: null, last_event_time: null, note }, { principal, identity, keys, ip: matchIp, names, error });

  // 1. volume_spike: ReportingRole/report-builder, alias/reports, ~30x its ~60/day baseline
  {
    const d = anomalyDay(2);
    const role = cat.role(A2, 'ReportingRole');
    const k = cat.key(A2, 'us-east-1', 'reports');
    const extra = 29 * 12 * REPORTING_PER_RUN;
    const t0 = at(d, 1, 12, 0);
    let t = t0;
    for (let i = 0; i < extra; i++) {
      t += Math.max(500, Math.round(a.exp((2.5 * HOUR) / extra)));
      const ui = assumedRole(role, 'report-builder', { time: t });
      const c: Caller = { identity: ui, sourceIp: cat.ip(`nat2/${A2}/us-east-1`), userAgent: UA.nodeLambda, tls: true };
      sched.add(kmsDecrypt({ ids: a, time: t, caller: c, encryptionContext: { report: a.pick(['daily-revenue', 'churn', 'inventory', 'kpi', 'customer-export']) } }, k), t, A2);
    }
    const ui = assumedRole(role, 'report-builder', { time: t0 });
    mk('volume_spike', ui.arn!, role.arn, [k.arn], null, A2, 'us-east-1', d, ['Decrypt'], `Decrypt by ReportingRole/report-builder on alias/reports: ${extra} extra calls between ${iso(t0)} and ~${iso(t)} on top of a steady baseline of ~${12 * REPORTING_PER_RUN}/day (count = all that day).`, undefined, null);
  }
  // 2. new_source_ip: sam.rivera from a never-seen public IP
  {
    const d = anomalyDay(1);
    const u = cat.user(A2, 'sam.rivera');
    const keys = ['app-data', 'secrets', 'reports'].map((x) => cat.key(A2, 'us-east-1', x));
    const ip = cat.ip('sam.new');
    const c: Caller = { identity: iamUser(u), sourceIp: ip, userAgent: 'aws-cli/2.13.25 Python/3.11.6 Linux/5.15.0-86-generic exe/x86_64.ubuntu.22 prompt/off', tls: true };
    let t = at(d, 23 - 20, 47, 10); // 03:47 UTC: an odd hour for this user
    sched.add(stsGetCallerIdentity({ ids: a, time: t, caller: c, region: 'us-east-1', account: A2 }), t, A2);
    t += 9 * SEC;
    sched.add(kmsKeylessCall({ ids: a, time: t, caller: c, region: 'us-east-1', account: A2 }, 'ListAliases', {}), t, A2);
    const names = new Set<string>(['ListAliases']);
    for (let i = 0; i < 9; i++) {
      t += a.range(5, 40) * SEC;
      const k = keys[i % 3]!;
      if (i % 3 === 2) {
        sched.add(kmsKeyRead({ ids: a, time: t, caller: c }, k, 'DescribeKey', k.arn), t, A2);
        names.add('DescribeKey');
      } else {
        sched.add(kmsDecrypt({ ids: a, time: t, caller: c, encryptionContext: { purpose: 'adhoc' } }, k), t, A2);
        names.add('Decrypt');
      }
    }
    mk('new_source_ip', u.arn, u.arn, keys.map((k) => k.arn), ip, A2, 'us-east-1', d, [...names], `IAM user sam.rivera always called from ${cat.ip('sam.office')} / ${cat.ip('sam.home')}; here KMS calls from ${ip} (count = KMS calls from that IP).`);
  }
  // 3. access_denied_burst: BuildAgentRole instance session, 27 AccessDenied within ~9 minutes on 3 keys
  {
    const d = anomalyDay(4);
    const role = cat.role(A3, 'BuildAgentRole');
    const keys = ['org-cloudtrail-logs', 'secrets-vault', 'shared-tools'].map((x) => cat.key(A3, 'us-east-1', x));
    let t = at(d, 22, 14, 3);
    const t0 = t;
    let tLast = t;
    const names = new Set<string>();
    for (let i = 0; i < 27; i++) {
      tLast = t;
      const k = keys[i % 3]!;
      const ui = assumedRole(role, BUILD_INSTANCE, { time: t });
      const c: Caller = { identity: ui, sourceIp: cat.ip('build.eip'), userAgent: UA.cliLinux, tls: true };
      const name = a.pick(['Decrypt', 'Decrypt', 'GenerateDataKey', 'DescribeKey', 'GetKeyPolicy']);
      names.add(name);
      const x: KmsContext = { ids: a, time: t, caller: c, denied: true, encryptionContext: name === 'Decrypt' || name === 'GenerateDataKey' ? { tool: 'probe' } : undefined };
      if (name === 'Decrypt') sched.add(kmsDecrypt(x, k), t, A3);
      else if (name === 'GenerateDataKey') sched.add(kmsGenerateDataKey(x, k, k.arn), t, A3);
      else if (name === 'GetKeyPolicy') sched.add(kmsGetKeyPolicy(x, k), t, A3);
      else sched.add(kmsKeyRead(x, k, 'DescribeKey', k.arn), t, A3);
      t += a.range(8, 30) * SEC;
    }
    const ui = assumedRole(role, BUILD_INSTANCE, { time: t0 });
    mk('access_denied_burst', ui.arn!, role.arn, keys.map((k) => k.arn), null, A3, 'us-east-1', d, [...names].sort(), `27 AccessDenied KMS errors from ${iso(t0)} to ${iso(tLast)} across 3 keys (Decrypt/GenerateDataKey/DescribeKey/GetKeyPolicy).`, 'AccessDenied');
  }
  // 4. cross_account_use: 999999999999 role decrypting with a key of 111111111111
  {
    const d = anomalyDay(3);
    const role = cat.role(UNTRUSTED_ACCOUNT, 'PartnerIntegrationRole');
    const k = cat.key(A1, 'us-east-1', 'datalake-curated');
    const ip = cat.ip('partner');
    let t = at(d, 2, 11, 30);
    let ui: UserIdentity = {};
    for (let i = 0; i < 14; i++) {
      ui = assumedRole(role, 'partner-sync', { time: t });
      const c: Caller = { identity: ui, sourceIp: ip, userAgent: UA.boto3, tls: true };
      sched.add(kmsDecrypt({ ids: a, time: t, caller: c, account: A1, encryptionContext: { 'aws:s3:arn': `arn:aws:s3:::acme-datalake-curated-${A1}/customers/dt=${ymd(t - 2 * DAY)}/part-${String(i).padStart(5, '0')}.parquet` } }, k), t, A1);
      t += a.range(30, 200) * SEC;
    }
    mk('cross_account_use', ui.arn!, role.arn, [k.arn], ip, A1, 'us-east-1', d, ['Decrypt'], `A principal of untrusted account ${UNTRUSTED_ACCOUNT} uses a key of ${A1} (recorded in the key owner's trail, recipientAccountId ${A1}).`);
  }
  // 5. external_key_use: an org role encrypting with a key owned by 999999999999
  {
    const d = anomalyDay(5);
    const role = cat.role(A2, 'VendorExportRole');
    const k = cat.key(UNTRUSTED_ACCOUNT, 'us-east-1', 'partner-exchange');
    let t = at(d, 16, 20, 0);
    let ui: UserIdentity = {};
    const names = ['Encrypt', 'GenerateDataKey'];
    for (let i = 0; i < 10; i++) {
      ui = assumedRole(role, 'export-job', { time: t });
      const c: Caller = { identity: ui, sourceIp: cat.ip(`nat1/${A2}/us-east-1`), userAgent: UA.boto3, tls: true };
      const x: KmsContext = { ids: a, time: t, caller: c, account: A2, region: 'us-east-1', encryptionContext: { feed: 'customers', batch: String(i) } };
      sched.add(i % 2 === 0 ? kmsEncrypt(x, k, k.arn) : kmsGenerateDataKey(x, k, k.arn), t, A2);
      t += a.range(20, 90) * SEC;
    }
    mk('external_key_use', ui.arn!, role.arn, [k.arn], null, A2, 'us-east-1', d, names, `Org role uses a key owned by ${UNTRUSTED_ACCOUNT} (resources[] ARN in that account, recipientAccountId ${A2}).`);
  }
  // 6a. key_state on an imported (EXTERNAL origin) key: CreateKey EXTERNAL, import, delete imported material
  {
    const d = anomalyDay(0);
    const u = cat.user(A1, 'jordan.lee');
    const k = cat.key(A1, 'us-west-2', 'byok-import');
    const c: Caller = { identity: iamUser(u), sourceIp: cat.ip('jordan.office'), userAgent: UA.cliWin, tls: true };
    let t = at(d, 14, 12, 40);
    sched.add(kmsCreateKey({ ids: a, time: t, caller: c }, k, { description: 'byok test', origin: 'EXTERNAL' }), t, A1);
    t += 95 * SEC;
    sched.add(kmsGetParametersForImport({ ids: a, time: t, caller: c }, k), t, A1);
    t += 4 * MIN + 12 * SEC;
    sched.add(kmsImportKeyMaterial({ ids: a, time: t, caller: c }, k, t + 30 * DAY - (t % DAY)), t, A1);
    t = at(d, 17, 41, 5);
    sched.add(kmsDeleteImportedKeyMaterial({ ids: a, time: t, caller: c }, k), t, A1);
    mk('key_state', u.arn, u.arn, [k.arn], null, A1, 'us-west-2', d, ['CreateKey', 'ImportKeyMaterial', 'DeleteImportedKeyMaterial'], 'IAM user creates an EXTERNAL-origin key, imports key material that expires (KEY_MATERIAL_EXPIRES), then deletes the imported material.');
  }
  // 6b. key_state on an existing key: DisableKeyRotation, DisableKey, ScheduleKeyDeletion (7 days)
  {
    const d = anomalyDay(6);
    const u = cat.user(A1, 'jordan.lee');
    const k = cat.key(A1, 'us-west-2', 'legacy-archive');
    const c: Caller = { identity: iamUser(u), sourceIp: cat.ip('jordan.office'), userAgent: UA.cliWin, tls: true };
    let t = at(d, 20, 3, 17);
    sched.add(kmsKeyAdmin({ ids: a, time: t, caller: c }, k, 'DisableKeyRotation', { keyId: k.arn }), t, A1);
    t += 2 * MIN + 41 * SEC;
    sched.add(kmsKeyAdmin({ ids: a, time: t, caller: c }, k, 'DisableKey', { keyId: k.id }), t, A1);
    disabled.set(k.arn, t);
    t += 3 * MIN + 5 * SEC;
    sched.add(kmsScheduleKeyDeletion({ ids: a, time: t, caller: c }, k, 7), t, A1);
    mk('key_state', u.arn, u.arn, [k.arn], null, A1, 'us-west-2', d, ['DisableKeyRotation', 'DisableKey', 'ScheduleKeyDeletion'], 'IAM user disables rotation, disables the key and schedules its deletion with a 7-day window.');
  }
  // 7a. key_policy_exposure: Principal {"AWS":"*"} with kms:* and no Condition
  {
    const d = anomalyDay(1);
    const role = cat.role(A3, 'AdministratorAccess');
    const k = cat.key(A3, 'us-east-1', 'shared-tools');
    const t = at(d, 18, 26, 51);
    const ui = assumedRole(role, 'pat.kim@example.com', { time: t, mfa: true });
    const c: Caller = { identity: ui, sourceIp: cat.ip('pat.office'), userAgent: UA.internal, tls: true, console: true };
    const pol = defaultKeyPolicy(A3, [{ Sid: 'AllowEveryone', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*' }]);
    sched.add(kmsPutKeyPolicy({ ids: a, time: t, caller: c }, k, pol), t, A3);
    mk('key_policy_exposure', ui.arn!, role.arn, [k.arn], null, A3, 'us-east-1', d, ['PutKeyPolicy'], 'PutKeyPolicy with a statement Principal {"AWS":"*"}, Action kms:*, no Condition (key open to everyone).');
  }
  // 7b. key_policy_exposure: policy names arn:aws:iam::999999999999:root
  {
    const d = anomalyDay(4);
    const u = cat.user(A2, 'ci-deployer');
    const k = cat.key(A2, 'eu-west-1', 'payments-eu');
    const t = at(d, 13, 7, 22);
    const c: Caller = { identity: iamUser(u), sourceIp: cat.ip('gh1'), userAgent: UA.terraform, tls: true };
    const pol = defaultKeyPolicy(A2, [{ Sid: 'Allow use of the key by partner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:root` }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'], Resource: '*' }]);
    sched.add(kmsPutKeyPolicy({ ids: a, time: t, caller: c }, k, pol, k.arn), t, A2);
    mk('key_policy_exposure', u.arn, u.arn, [k.arn], null, A2, 'eu-west-1', d, ['PutKeyPolicy'], `PutKeyPolicy granting use of the key to arn:aws:iam::${UNTRUSTED_ACCOUNT}:root (an account outside the org).`);
  }
  // 8. grant_exposure: CreateGrant to a role of 999999999999
  {
    const d = anomalyDay(5);
    const role = cat.role(A1, 'AdministratorAccess');
    const k = cat.key(A1, 'us-east-1', 'datalake-raw');
    const t = at(d, 21, 48, 9);
    const ui = assumedRole(role, 'lee.chen@example.com', { time: t });
    const c: Caller = { identity: ui, sourceIp: cat.ip('lee.office'), userAgent: UA.cliMac, tls: true };
    sched.add(kmsCreateGrant({ ids: a, time: t, caller: c }, k, { granteePrincipal: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:role/x`, operations: ['Decrypt', 'DescribeKey', 'CreateGrant'] }), t, A1);
    mk('grant_exposure', ui.arn!, role.arn, [k.arn], null, A1, 'us-east-1', d, ['CreateGrant'], `CreateGrant with granteePrincipal arn:aws:iam::${UNTRUSTED_ACCOUNT}:role/x (outside the org).`);
  }
  // 9. root_use: root of 222222222222 in the console, DescribeKey + Decrypt
  {
    const d = anomalyDay(2);
    const ip = cat.ip('root.admin');
    let t = at(d, 15, 2, 33);
    const signin: Caller = { identity: root(A2), sourceIp: ip, userAgent: UA.browser, tls: true };
    sched.add(consoleLogin({ ids: a, time: t, caller: signin, region: 'us-east-1', account: A2 }, { mfa: true }), t, A2);
    const keys = ['reports', 'secrets'].map((x) => cat.key(A2, 'us-east-1', x));
    const names: string[] = [];
    for (let i = 0; i < 5; i++) {
      t += a.range(20, 120) * SEC;
      const c: Caller = { identity: root(A2, { time: t }), sourceIp: ip, userAgent: UA.internal, tls: true, console: true };
      const k = keys[i % 2]!;
      if (i < 2) {
        sched.add(kmsKeyRead({ ids: a, time: t, caller: c }, k, 'DescribeKey', k.arn), t, A2);
        names.push('DescribeKey');
      } else {
        sched.add(kmsDecrypt({ ids: a, time: t, caller: c, encryptionContext: { report: 'kpi' } }, k), t, A2);
        names.push('Decrypt');
      }
    }
    mk('root_use', `arn:aws:iam::${A2}:root`, `arn:aws:iam::${A2}:root`, keys.map((k) => k.arn), ip, A2, 'us-east-1', d, [...new Set(names)], 'Root user (console session) calling KMS.');
  }
  anomalies.sort((x, y) => (x.entry.day < y.entry.day ? -1 : x.entry.day > y.entry.day ? 1 : 0));
  return { anomalies, disabled };
}
