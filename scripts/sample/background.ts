// Background traffic of the sample: the org's services, applications and people, each a stream of
// bursts (see windows.ts) that writes the records those callers really produce (S3 decrypting for
// a role, AWS Backup, Config, CI, console users, ...).

import {
  ALNUM, apiCall, assumedRole, awsDate, awsService, compactStamp, DAY, derivedId, EC2_DESCRIBE, ec2Describe, iamRoleRead, iamUser, iso, kmsCall,
  kmsDecrypt, kmsEncrypt, kmsGenerateDataKey, kmsGenerateDataKeyWithoutPlaintext, kmsKeylessCall, kmsKeyRead, kmsReEncrypt, MIN,
  s3ListBuckets, s3ObjectCall, secretEncryptionContext, secretsGetSecretValue, stsAssumeRole, stsGetCallerIdentity, viaService, ymd, type Caller,
  type KmsContext,
} from '../cloudtrail/index.js';
import { ACCOUNT_REGIONS, BUILD_INSTANCE, UA, type Catalog, type Key } from './organization.js';
import { ORG_ACCOUNTS } from './types.js';
import {
  defineStream, P_APP, P_EU_BUSINESS, P_FLAT, P_SERVICE, P_US_BUSINESS, pubIpFor, push, usable, type WindowRun, type StreamDef,
} from './windows.js';

export function buildStreams(cat: Catalog): StreamDef<unknown>[] {
  const A1 = '111111111111';
  const A2 = '222222222222';
  const A3 = '333333333333';
  const S: StreamDef<unknown>[] = [];
  const weekday = (_d: number, dow: number) => dow >= 1 && dow <= 5;

  // ---- A1 us-east-1: data lake -------------------------------------------------------------
  {
    const role = cat.role(A1, 'DataLakeAnalyticsRole');
    const curated = cat.key(A1, 'us-east-1', 'datalake-curated');
    const bucket = `acme-datalake-curated-${A1}`;
    const vpce = cat.vpce.get(`${A1}/us-east-1/s3`)!;
    const tables = ['sales', 'orders', 'customers', 'clickstream', 'inventory', 'payments'];
    type DlState = { session: string; table: string; day: string; glue: boolean };
    const dlUnit = (g: WindowRun, t: number, s: DlState, i: number): void => {
      const key = `${s.table}/dt=${s.day}/part-${String(i).padStart(5, '0')}-${g.rng.hex(8)}.c000.snappy.parquet`;
      const ui = assumedRole(role, s.session, { time: t });
      const c: Caller = s.glue
        ? { identity: ui, sourceIp: `10.20.${g.rng.range(0, 15)}.${g.rng.range(4, 250)}`, userAgent: UA.glue, tls: true, vpcEndpointId: vpce }
        : { identity: { ...ui, invokedBy: 'athena.amazonaws.com' }, sourceIp: 'athena.amazonaws.com', userAgent: 'athena.amazonaws.com', tls: false };
      if (g.rng.chance(0.1)) push(g, s3ObjectCall({ ids: g.rng, time: t - 30, caller: c, region: 'us-east-1', account: A1 }, { eventName: 'HeadObject', bucket, key, sseKms: true, bytes: 0 }), t - 30);
      if (g.rng.chance(0.75)) push(g, s3ObjectCall({ ids: g.rng, time: t, caller: c, region: 'us-east-1', account: A1 }, { eventName: 'GetObject', bucket, key, sseKms: true, bytes: g.rng.range(200_000, 64_000_000) }), t);
      push(g, kmsDecrypt({ ids: g.rng, time: t + 40, caller: viaService(ui, 's3.amazonaws.com'), encryptionContext: { 'aws:s3:arn': `arn:aws:s3:::${bucket}/${key}` } }, curated), t + 40);
    };
    const dlBegin = (glue: boolean) => (g: WindowRun): DlState => ({
      glue,
      session: glue ? 'GlueJobRunnerSession' : `athena-${g.rng.hex(8)}`,
      table: g.rng.pick(tables),
      day: ymd(g.dayStart - g.rng.int(30) * DAY),
    });
    // Glue job every 3 hours: the steady, high-volume S3-on-behalf-of-the-role Decrypt traffic (every day).
    S.push(
      defineStream<DlState>({
        id: 'datalake-glue',
        account: A1,
        region: 'us-east-1',
        bursts: 8,
        exp: 0,
        cron: Array.from({ length: 8 }, (_, h) => h * 180 + 20),
        size: { median: 26, sigma: 0.2, max: 2500, exp: 1, floor: 26 },
        gap: 2,
        begin: dlBegin(true),
        unit: dlUnit,
      }),
    );
    // Ad-hoc Athena queries: bursty, scales with the trail size.
    S.push(
      defineStream<DlState>({
        id: 'datalake-athena',
        account: A1,
        region: 'us-east-1',
        bursts: 8,
        exp: 1,
        size: { median: 10, sigma: 0.9, max: 2500 },
        profile: P_SERVICE,
        gap: 1,
        begin: dlBegin(false),
        unit: dlUnit,
      }),
    );
  }
  {
    const role = cat.role(A1, 'IngestLambdaRole');
    const raw = cat.key(A1, 'us-east-1', 'datalake-raw');
    const bucket = `acme-datalake-raw-${A1}`;
    S.push(
      defineStream<{ src: string }>({
        id: 'datalake-ingest',
        account: A1,
        region: 'us-east-1',
        bursts: 30,
        exp: 1,
        size: { median: 4, sigma: 0.8, max: 400 },
        profile: P_APP,
        gap: 2,
        begin: (g) => ({ src: g.rng.pick(['web', 'mobile', 'partner', 'iot']) }),
        unit: (g, t, s) => {
          const ui = assumedRole(role, 'ingest-events', { time: t });
          const key = `events/source=${s.src}/${iso(t).slice(0, 13).replace('T', '/')}/batch-${g.rng.hex(12)}.json.gz`;
          const c: Caller = { identity: ui, sourceIp: pubIpFor(g, `nat1/${A1}/us-east-1`), userAgent: UA.boto3Lambda, tls: true };
          push(g, s3ObjectCall({ ids: g.rng, time: t, caller: c, region: 'us-east-1', account: A1 }, { eventName: 'PutObject', bucket, key, sseKms: true, bytes: g.rng.range(2_000, 900_000) }), t);
          push(g, kmsGenerateDataKey({ ids: g.rng, time: t, caller: viaService(ui, 's3.amazonaws.com'), encryptionContext: { 'aws:s3:arn': `arn:aws:s3:::${bucket}/${key}` } }, raw), t);
        },
      }),
    );
  }
  for (const [acct, region, mult] of [
    [A1, 'us-east-1', 1],
    [A2, 'us-east-1', 0.8],
  ] as const) {
    const role = cat.role(acct, 'MonitoringReadOnlyRole');
    S.push(
      defineStream<{ ip: string }>({
        id: `monitoring-${acct}-${region}`,
        account: acct,
        region,
        bursts: 20 * mult,
        exp: 1,
        floor: 5,
        size: { median: 5, sigma: 0.5, max: 60 },
        profile: P_FLAT,
        gap: 0.4,
        begin: (g) => ({ ip: g.rng.chance(0.5) ? cat.ip('vendor1') : cat.ip('vendor2') }),
        unit: (g, t, s, i) => {
          const c: Caller = { identity: assumedRole(role, 'vendor-poller', { time: t }), sourceIp: s.ip, userAgent: UA.vendor, tls: true, tls12: true };
          if (i % 3 === 2)
            push(
              g,
              apiCall({ ids: g.rng, time: t, caller: c, region, account: acct }, 'monitoring', 'GetMetricData', {
                startTime: awsDate(t - 10 * MIN),
                endTime: awsDate(t),
                metricDataQueries: [{ id: 'm1', metricStat: { metric: { namespace: 'AWS/EC2', metricName: 'CPUUtilization' }, period: 300, stat: 'Average' } }],
              }),
              t,
            );
          else push(g, ec2Describe({ ids: g.rng, time: t, caller: c, region, account: acct }, i % EC2_DESCRIBE.length), t);
        },
      }),
    );
  }
  {
    const role = cat.role(A1, 'AWSServiceRoleForAutoScaling');
    const ebs = cat.key(A1, 'us-east-1', 'aws/ebs');
    S.push(
      defineStream<{ n: number }>({
        id: 'asg-ebs',
        account: A1,
        region: 'us-east-1',
        bursts: 5,
        exp: 1,
        floor: 1,
        size: { median: 2, sigma: 0.6, max: 30 },
        profile: P_APP,
        gap: 3,
        begin: () => ({ n: 0 }),
        unit: (g, t) => {
          const c = viaService(assumedRole(role, 'AutoScaling', { time: t }), 'autoscaling.amazonaws.com');
          const vol = 'vol-' + g.rng.hex(17);
          push(g, apiCall({ ids: g.rng, time: t, caller: c, region: 'us-east-1', account: A1 }, 'ec2', 'RunInstances', { instancesSet: { items: [{ imageId: 'ami-0' + g.rng.hex(16), minCount: 1, maxCount: 1 }] }, instanceType: 'm6i.large', launchTemplate: { launchTemplateId: 'lt-0' + g.rng.hex(16), version: '$Latest' } }, { readOnly: false }), t);
          push(g, kmsGenerateDataKeyWithoutPlaintext({ ids: g.rng, time: t + 2000, caller: c, encryptionContext: { 'aws:ebs:id': vol } }, ebs, 'alias/aws/ebs'), t + 2000);
          push(g, kmsDecrypt({ ids: g.rng, time: t + 4000, caller: c, encryptionContext: { 'aws:ebs:id': vol } }, ebs), t + 4000);
        },
      }),
    );
  }
  // AWS services assuming roles (sts AssumeRole by AWSService identities)
  for (const [acct, region, roleName, svc, session, mult] of [
    [A1, 'us-east-1', 'IngestLambdaRole', 'lambda.amazonaws.com', 'ingest-events', 1],
    [A1, 'us-east-1', 'DataLakeAnalyticsRole', 'glue.amazonaws.com', 'GlueJobRunnerSession', 1],
    [A2, 'us-east-1', 'AppBackendRole', 'ecs-tasks.amazonaws.com', 'ecs-task', 1.4],
    [A2, 'us-east-1', 'ReportingRole', 'lambda.amazonaws.com', 'report-builder', 0.3],
    [A2, 'eu-west-1', 'AppBackendRole', 'ecs-tasks.amazonaws.com', 'ecs-task', 0.7],
    [A3, 'us-east-1', 'BuildAgentRole', 'ec2.amazonaws.com', 'i-build', 0.4],
    [A3, 'us-west-2', 'OpsLambdaRole', 'lambda.amazonaws.com', 'cleanup-snapshots', 0.3],
  ] as const) {
    const role = cat.role(acct, roleName);
    S.push(
      defineStream<null>({
        id: `sts-${acct}-${region}-${roleName}`,
        account: acct,
        region,
        bursts: 10 * mult,
        exp: 1,
        size: { median: 1, sigma: 0.4, max: 6 },
        profile: P_APP,
        gap: 5,
        begin: () => null,
        unit: (g, t) => {
          const sess = session === 'ecs-task' ? g.rng.hex(32) : session === 'i-build' ? 'i-0' + g.rng.hex(16) : session;
          push(g, stsAssumeRole({ ids: g.rng, time: t, caller: { identity: awsService(svc), sourceIp: svc, userAgent: svc, tls: false }, region, account: acct }, role, sess), t);
        },
      }),
    );
  }
  // Config recorder (AWS service acting through its service-linked role): ec2 + KMS reads
  for (const [acct, region, keyAliases, mult] of [
    [A1, 'us-east-1', ['datalake-raw', 'datalake-curated', 'app-data'], 1],
    [A1, 'us-west-2', ['dr-data', 'legacy-archive'], 0.6],
    [A1, 'eu-west-1', ['eu-data'], 0.5],
    [A2, 'us-east-1', ['app-data', 'reports', 'secrets'], 1],
    [A2, 'eu-west-1', ['app-data-eu', 'payments-eu'], 0.5],
    [A3, 'us-east-1', ['org-cloudtrail-logs', 'shared-tools', 'build-artifacts'], 0.8],
    [A3, 'us-west-2', ['ops'], 0.5],
  ] as const) {
    const role = cat.role(acct, 'AWSServiceRoleForConfig');
    const keys = keyAliases.map((a) => cat.key(acct, region, a));
    S.push(
      defineStream<null>({
        id: `config-${acct}-${region}`,
        account: acct,
        region,
        bursts: 4 * mult,
        exp: 0.8,
        size: { median: 6, sigma: 0.5, max: 40 },
        profile: P_FLAT,
        gap: 1,
        begin: () => null,
        unit: (g, t, _s, i) => {
          const c = viaService(assumedRole(role, 'AWSConfig-Describe', { time: t }), 'config.amazonaws.com');
          if (i % 3 === 0) {
            const k = g.rng.pick(keys);
            const name = g.rng.pick(['DescribeKey', 'GetKeyRotationStatus', 'ListResourceTags', 'GetKeyPolicy']);
            push(g, kmsCall({ ids: g.rng, time: t, caller: c }, k, name, name === 'GetKeyPolicy' ? { keyId: k.arn, policyName: 'default' } : { keyId: k.arn }), t);
          } else push(g, ec2Describe({ ids: g.rng, time: t, caller: c, region, account: acct }), t);
        },
      }),
    );
  }

  // ---- A1 us-west-2 ------------------------------------------------------------------------
  for (const [region, full] of [
    ['us-east-1', false],
    ['us-west-2', false],
    ['us-east-1', true],
  ] as const) {
    const role = cat.role(A1, 'AWSBackupDefaultServiceRole');
    const key = cat.key(A1, region, 'backup');
    S.push(
      defineStream<{ job: string }>({
        id: `backup-${region}${full ? '-full' : ''}`,
        account: A1,
        region,
        bursts: 1,
        exp: 0,
        // nightly incremental; the weekly full backup (Sunday) is one of the few very busy windows
        cron: [full ? 3 * 60 + 50 : region === 'us-east-1' ? 3 * 60 + 5 : 3 * 60 + 35],
        active: full ? (_d, dow) => dow === 0 : (_d, dow) => dow !== 0,
        size: full ? { median: 360, sigma: 0.25, max: 2400, exp: 0.5, floor: 360 } : { median: 140, sigma: 0.35, max: 1800, exp: 0.7 },
        gap: 0.25,
        begin: (g) => ({ job: g.rng.uuid().toUpperCase() }),
        unit: (g, t, s) => {
          const c = viaService(assumedRole(role, 'AWSBackup-AWSBackupDefaultServiceRole', { time: t }), 'backup.amazonaws.com');
          const r = g.rng.float();
          const ec = { 'aws:backup:backup-vault': 'Default', 'aws:backup:source-resource': `arn:aws:ec2:${region}::snapshot/snap-${g.rng.hex(17)}` };
          if (r < 0.3) push(g, kmsGenerateDataKey({ ids: g.rng, time: t, caller: c, encryptionContext: ec }, key), t);
          else if (r < 0.5) push(g, kmsDecrypt({ ids: g.rng, time: t, caller: c, encryptionContext: ec }, key), t);
          else if (r < 0.55) push(g, kmsKeyRead({ ids: g.rng, time: t, caller: c }, key, 'DescribeKey', key.arn), t);
          else if (r < 0.75) push(g, ec2Describe({ ids: g.rng, time: t, caller: c, region, account: A1 }, 5), t);
          else
            push(
              g,
              apiCall({ ids: g.rng, time: t, caller: c, region, account: A1 }, 'ec2', 'CreateSnapshot', { volumeId: 'vol-0' + g.rng.hex(16), description: `This snapshot is created by the AWS Backup service. Job ${s.job}` }, { readOnly: false }),
              t,
            );
        },
      }),
    );
  }
  {
    const role = cat.role(A1, 'DrSyncRole');
    const key = cat.key(A1, 'us-west-2', 'dr-data');
    const bucket = `acme-dr-replica-${A1}`;
    S.push(
      defineStream<null>({
        id: 'dr-sync',
        account: A1,
        region: 'us-west-2',
        bursts: 8,
        exp: 1,
        size: { median: 5, sigma: 0.9, max: 600 },
        profile: P_SERVICE,
        gap: 2,
        begin: () => null,
        unit: (g, t) => {
          const ui = assumedRole(role, 'dr-sync', { time: t });
          const objKey = `replica/${ymd(t)}/${g.rng.hex(20)}.bin`;
          const c: Caller = { identity: ui, sourceIp: pubIpFor(g, `nat1/${A1}/us-west-2`), userAgent: UA.goSdk, tls: true };
          push(g, s3ObjectCall({ ids: g.rng, time: t, caller: c, region: 'us-west-2', account: A1 }, { eventName: 'PutObject', bucket, key: objKey, sseKms: true, bytes: g.rng.range(10_000, 20_000_000) }), t);
          if (usable(g, key, t)) push(g, kmsGenerateDataKey({ ids: g.rng, time: t, caller: viaService(ui, 's3.amazonaws.com'), encryptionContext: { 'aws:s3:arn': `arn:aws:s3:::${bucket}/${objKey}` } }, key), t);
        },
      }),
    );
  }
  {
    const role = cat.role(A1, 'ArchiveJobRole');
    const key = cat.key(A1, 'us-west-2', 'legacy-archive');
    S.push(
      defineStream<null>({
        id: 'archive-weekly',
        account: A1,
        region: 'us-west-2',
        bursts: 1,
        exp: 0,
        cron: [2 * 60 + 10],
        active: (_d, dow) => dow === 0,
        size: { median: 24, sigma: 0.2, max: 60 },
        gap: 3,
        begin: () => null,
        unit: (g, t) => {
          const c: Caller = { identity: assumedRole(role, 'archive-weekly', { time: t }), sourceIp: pubIpFor(g, `nat2/${A1}/us-west-2`), userAgent: UA.boto3, tls: true };
          const dis = g.disabled.get(key.arn);
          const err = dis !== undefined && t >= dis ? ([`DisabledException`, `${key.arn} is disabled.`] as const) : undefined;
          push(g, kmsCall({ ids: g.rng, time: t, caller: c, encryptionContext: { archive: 'legacy-ledger' }, error: err }, key, 'Decrypt', { encryptionContext: { archive: 'legacy-ledger' }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }), t);
        },
      }),
    );
  }

  // ---- A1 eu-west-1 (quiet) ------------------------------------------------------------------
  {
    const role = cat.role(A1, 'EuApiLambdaRole');
    const eu = cat.key(A1, 'eu-west-1', 'eu-data');
    const lam = cat.key(A1, 'eu-west-1', 'aws/lambda');
    S.push(
      defineStream<null>({
        id: 'eu-api',
        account: A1,
        region: 'eu-west-1',
        bursts: 10,
        exp: 0.8,
        size: { median: 3, sigma: 0.7, max: 100 },
        profile: P_EU_BUSINESS,
        gap: 4,
        begin: () => null,
        unit: (g, t) => {
          const ui = assumedRole(role, 'eu-api-handler', { time: t });
          const r = g.rng.float();
          if (r < 0.3) {
            push(g, kmsDecrypt({ ids: g.rng, time: t, caller: { identity: ui, sourceIp: 'AWS Internal', userAgent: 'AWS Internal', tls: false }, encryptionContext: { LambdaFunctionName: 'eu-api-handler' } }, lam), t);
          } else if (r < 0.65) {
            const c: Caller = { identity: ui, sourceIp: pubIpFor(g, `nat1/${A1}/eu-west-1`), userAgent: UA.boto3Lambda, tls: true };
            push(g, secretsGetSecretValue({ ids: g.rng, time: t, caller: c, region: 'eu-west-1', account: A1 }, 'prod/eu-api/db'), t);
            push(g, kmsDecrypt({ ids: g.rng, time: t + 120, caller: viaService(ui, 'secretsmanager.amazonaws.com'), encryptionContext: secretEncryptionContext(g.rng, 'eu-west-1', A1, 'prod/eu-api/db') }, eu), t + 120);
          } else {
            const c: Caller = { identity: ui, sourceIp: pubIpFor(g, `nat1/${A1}/eu-west-1`), userAgent: UA.boto3Lambda, tls: true };
            push(g, kmsEncrypt({ ids: g.rng, time: t, caller: c, encryptionContext: { tenant: `eu-${g.rng.range(100, 160)}` } }, eu), t);
          }
        },
      }),
    );
  }

  // ---- A2 us-east-1: applications ----------------------------------------------------------
  for (const [region, mult, keyNames] of [
    ['us-east-1', 1, ['app-data', 'secrets']],
    ['eu-west-1', 0.45, ['app-data-eu', 'payments-eu']],
  ] as const) {
    const role = cat.role(A2, 'AppBackendRole');
    const appKey = cat.key(A2, region, keyNames[0]);
    const k2 = cat.key(A2, region, keyNames[1]);
    const vpce = cat.vpce.get(`${A2}/${region}/kms`)!;
    S.push(
      defineStream<{ task: string; ip: string; vpce: boolean }>({
        id: `app-backend-${region}`,
        account: A2,
        region,
        bursts: 50 * mult,
        exp: 1,
        floor: 4 * mult,
        size: { median: 7, sigma: 1.0, max: 2500 },
        profile: P_APP,
        weekend: 0.75,
        gap: 0.8,
        begin: (g) => {
          const vp = g.rng.chance(0.4);
          return {
            // a handful of long-running ECS tasks per day
            task: derivedId('', `${region}|${g.day}|${g.rng.int(6)}`, 32).toLowerCase(),
            ip: vp ? `10.40.${g.rng.range(0, 31)}.${g.rng.range(4, 250)}` : pubIpFor(g, g.rng.chance(0.5) ? `nat1/${A2}/${region}` : `nat2/${A2}/${region}`),
            vpce: vp,
          };
        },
        unit: (g, t, s) => {
          const ui = assumedRole(role, s.task, { time: t });
          const c: Caller = { identity: ui, sourceIp: s.ip, userAgent: UA.javaEcs, tls: true, vpcEndpointId: s.vpce ? vpce : undefined };
          const ec = { tenant: `t-${g.rng.range(1000, 1400)}`, purpose: g.rng.pick(['session', 'profile', 'document']) };
          const deny = g.rng.chance(0.0008);
          const r = g.rng.float();
          const x: KmsContext = { ids: g.rng, time: t, caller: c, encryptionContext: ec, denied: deny };
          if (r < 0.2) push(g, kmsDecrypt(x, appKey), t);
          else if (r < 0.27) push(g, kmsEncrypt(x, appKey), t);
          else if (r < 0.33) push(g, kmsGenerateDataKey(x, appKey, g.rng.chance(0.5) ? appKey.alias! : appKey.arn), t);
          else if (r < 0.345) push(g, kmsReEncrypt({ ...x, denied: false }, appKey, k2), t); // re-encryption is never denied here
          else if (r < 0.47) {
            const cc: Caller = { ...c, vpcEndpointId: undefined, sourceIp: s.vpce ? pubIpFor(g, `nat1/${A2}/${region}`) : s.ip };
            const secret = g.rng.pick(['prod/app/db', 'prod/app/stripe', 'prod/app/jwt']);
            push(g, secretsGetSecretValue({ ids: g.rng, time: t, caller: cc, region, account: A2 }, secret), t);
            push(g, kmsDecrypt({ ids: g.rng, time: t + 90, caller: viaService(ui, 'secretsmanager.amazonaws.com'), encryptionContext: secretEncryptionContext(g.rng, region, A2, secret) }, k2), t + 90);
          } else if (r < 0.61) {
            const cc: Caller = { ...c, vpcEndpointId: undefined };
            push(g, apiCall({ ids: g.rng, time: t, caller: cc, region, account: A2 }, 'ssm', 'GetParameters', { names: ['/app/prod/feature-flags', '/app/prod/endpoints'], withDecryption: false }), t);
          } else if (r < 0.77) {
            const cc: Caller = { ...c, vpcEndpointId: undefined };
            push(g, apiCall({ ids: g.rng, time: t, caller: cc, region, account: A2 }, 'dynamodb', 'DescribeTable', { tableName: g.rng.pick(['orders', 'sessions', 'profiles']) }), t);
          } else {
            const cc: Caller = { ...c, vpcEndpointId: undefined };
            const bucket = `acme-app-uploads-${A2}${region === 'eu-west-1' ? '-eu' : ''}`;
            push(g, s3ObjectCall({ ids: g.rng, time: t, caller: cc, region, account: A2 }, { eventName: g.rng.chance(0.5) ? 'PutObject' : 'GetObject', bucket, key: `uploads/${g.rng.hex(2)}/${g.rng.uuid()}.pdf`, sseKms: false, bytes: g.rng.range(10_000, 5_000_000) }), t);
          }
        },
      }),
    );
  }
  {
    // The volume-spike role: steady ~60 Decrypts a day on alias/reports, every day.
    const role = cat.role(A2, 'ReportingRole');
    const reports = cat.key(A2, 'us-east-1', 'reports');
    S.push(
      defineStream<null>({
        id: 'reporting',
        account: A2,
        region: 'us-east-1',
        bursts: 12,
        exp: 0,
        // every 2 hours at hh:57 (the 23:57 run is delivered after midnight, in the next day's folder)
        cron: Array.from({ length: 12 }, (_, i) => i * 120 + 117),
        size: { median: REPORTING_PER_RUN, sigma: 0.05, max: REPORTING_PER_RUN },
        gap: 6,
        begin: () => null,
        unit: (g, t) => {
          const ui = assumedRole(role, 'report-builder', { time: t });
          const c: Caller = { identity: ui, sourceIp: pubIpFor(g, `nat2/${A2}/us-east-1`), userAgent: UA.nodeLambda, tls: true };
          const report = g.rng.pick(['daily-revenue', 'churn', 'inventory', 'kpi']);
          push(g, s3ObjectCall({ ids: g.rng, time: t - 400, caller: c, region: 'us-east-1', account: A2 }, { eventName: 'GetObject', bucket: `acme-reports-${A2}`, key: `staging/${report}/${ymd(t)}/input-${g.rng.hex(6)}.json.enc`, sseKms: false, bytes: g.rng.range(5_000, 900_000) }), t - 400);
          push(g, kmsDecrypt({ ids: g.rng, time: t, caller: c, encryptionContext: { report } }, reports), t);
          if (g.rng.chance(0.4)) push(g, s3ObjectCall({ ids: g.rng, time: t + 800, caller: c, region: 'us-east-1', account: A2 }, { eventName: 'PutObject', bucket: `acme-reports-${A2}`, key: `reports/${ymd(t)}/${g.rng.hex(10)}.csv`, sseKms: false, bytes: g.rng.range(5_000, 400_000) }), t + 800);
        },
      }),
    );
  }
  {
    const role = cat.role(A2, 'SigningServiceRole');
    const k = cat.key(A2, 'us-east-1', 'signing');
    S.push(
      defineStream<null>({
        id: 'signing',
        account: A2,
        region: 'us-east-1',
        bursts: 12,
        exp: 1,
        floor: 1.5,
        size: { median: 3, sigma: 0.6, max: 80 },
        profile: P_APP,
        gap: 2,
        begin: () => null,
        unit: (g, t) => {
          const c: Caller = { identity: assumedRole(role, 'signer', { time: t }), sourceIp: pubIpFor(g, `nat1/${A2}/us-east-1`), userAgent: UA.goSdk, tls: true };
          const name = g.rng.chance(0.7) ? 'Sign' : 'Verify';
          push(g, kmsCall({ ids: g.rng, time: t, caller: c }, k, name, { keyId: k.alias, signingAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256', messageType: 'DIGEST' }), t);
        },
      }),
    );
  }
  {
    // VendorExportRole's normal life (the external_key_use anomaly reuses this identity).
    const role = cat.role(A2, 'VendorExportRole');
    const app = cat.key(A2, 'us-east-1', 'app-data');
    S.push(
      defineStream<null>({
        id: 'vendor-export',
        account: A2,
        region: 'us-east-1',
        bursts: 2,
        exp: 0,
        size: { median: 3, sigma: 0.3, max: 8 },
        profile: P_FLAT,
        gap: 5,
        begin: () => null,
        unit: (g, t) => {
          const c: Caller = { identity: assumedRole(role, 'export-job', { time: t }), sourceIp: pubIpFor(g, `nat1/${A2}/us-east-1`), userAgent: UA.boto3, tls: true };
          push(g, kmsDecrypt({ ids: g.rng, time: t, caller: c, encryptionContext: { export: 'partner-feed' } }, app), t);
          push(g, s3ObjectCall({ ids: g.rng, time: t + 500, caller: c, region: 'us-east-1', account: A2 }, { eventName: 'GetObject', bucket: `acme-app-uploads-${A2}`, key: `exports/${ymd(t)}/feed-${g.rng.hex(6)}.csv`, sseKms: false, bytes: g.rng.range(1000, 90000) }), t + 500);
        },
      }),
    );
  }

  // ---- humans --------------------------------------------------------------------------------
  // A person at the CLI on weekdays, from the IP `ipFor` picks each burst.
  const cliUser = (id: string, account: string, user: string, aliases: string[], userAgent: string, ipFor: (g: WindowRun) => string) => {
    const u = cat.user(account, user);
    const keys = aliases.map((a) => cat.key(account, 'us-east-1', a));
    return defineStream<{ ip: string }>({
      id,
      account,
      region: 'us-east-1',
      bursts: 3,
      exp: 0,
      size: { median: 3, sigma: 0.5, max: 12 },
      profile: P_US_BUSINESS,
      active: weekday,
      gap: 40,
      begin: (g) => ({ ip: ipFor(g) }),
      unit: (g, t, s) => humanKmsUnit(g, t, { identity: iamUser(u), sourceIp: s.ip, userAgent, tls: true }, keys, 'us-east-1', account),
    });
  };
  // sam.rivera: always from home or office IP (the new_source_ip anomaly actor).
  S.push(cliUser('sam', A2, 'sam.rivera', ['app-data', 'reports', 'secrets'], UA.cliMac, (g) => (g.rng.chance(0.7) ? cat.ip('sam.office') : cat.ip('sam.home'))));
  // carol.ops: home IP until the end of the history; afterwards her (already known) office IP.
  S.push(cliUser('carol', A1, 'carol.ops', ['datalake-raw', 'datalake-curated', 'app-data'], UA.cliLinux, (g) => (g.day >= g.hist ? cat.ip('carol.office') : cat.ip('carol.home'))));
  {
    const u = cat.user(A1, 'jordan.lee');
    for (const region of ['us-east-1', 'us-west-2'] as const) {
      const keys = (region === 'us-east-1' ? ['datalake-raw', 'app-data'] : ['dr-data', 'legacy-archive']).map((a) => cat.key(A1, region, a));
      S.push(
        defineStream<null>({
          id: `jordan-${region}`,
          account: A1,
          region,
          bursts: 1.5,
          exp: 0,
          size: { median: 3, sigma: 0.5, max: 10 },
          profile: P_US_BUSINESS,
          active: weekday,
          gap: 50,
          begin: () => null,
          unit: (g, t) => {
            const c: Caller = { identity: iamUser(u), sourceIp: cat.ip('jordan.office'), userAgent: UA.cliWin, tls: true };
            const k = g.rng.pick(keys);
            const r = g.rng.float();
            if (r < 0.3) push(g, kmsKeylessCall({ ids: g.rng, time: t, caller: c, region, account: A1 }, 'ListAliases', { limit: 100 }), t);
            else if (r < 0.6) push(g, kmsKeyRead({ ids: g.rng, time: t, caller: c }, k, 'DescribeKey', k.alias ?? k.id), t);
            else if (r < 0.75) push(g, kmsCall({ ids: g.rng, time: t, caller: c }, k, 'GetKeyPolicy', { keyId: k.id, policyName: 'default' }), t);
            else if (r < 0.85) push(g, kmsKeyRead({ ids: g.rng, time: t, caller: c }, k, 'GetKeyRotationStatus', k.arn), t);
            else if (region === 'us-east-1') push(g, iamRoleRead({ ids: g.rng, time: t, caller: c, account: A1 }, 'DrSyncRole'), t);
            else push(g, ec2Describe({ ids: g.rng, time: t, caller: c, region, account: A1 }), t);
          },
        }),
      );
    }
  }
  {
    const u = cat.user(A2, 'ci-deployer');
    const keys = ['app-data', 'reports', 'secrets', 'signing'].map((a) => cat.key(A2, 'us-east-1', a));
    S.push(
      defineStream<{ ip: string }>({
        id: 'ci-deployer',
        account: A2,
        region: 'us-east-1',
        bursts: 3,
        exp: 0.3,
        size: { median: 22, sigma: 0.4, max: 120 },
        profile: P_US_BUSINESS,
        active: weekday,
        gap: 0.7,
        begin: (g) => ({ ip: cat.ip(g.rng.pick(['gh1', 'gh2', 'gh3'])) }),
        unit: (g, t, s) => {
          const c: Caller = { identity: iamUser(u), sourceIp: s.ip, userAgent: UA.terraform, tls: true };
          const k = g.rng.pick(keys);
          const r = g.rng.float();
          if (r < 0.12) push(g, kmsKeyRead({ ids: g.rng, time: t, caller: c }, k, 'DescribeKey', k.arn), t);
          else if (r < 0.2) push(g, kmsCall({ ids: g.rng, time: t, caller: c }, k, 'GetKeyPolicy', { keyId: k.arn, policyName: 'default' }), t);
          else if (r < 0.26) push(g, kmsKeyRead({ ids: g.rng, time: t, caller: c }, k, 'GetKeyRotationStatus', k.arn), t);
          else if (r < 0.31) push(g, kmsKeyRead({ ids: g.rng, time: t, caller: c }, k, 'ListResourceTags', k.arn), t);
          else if (r < 0.35) push(g, kmsKeylessCall({ ids: g.rng, time: t, caller: c, region: 'us-east-1', account: A2 }, 'ListAliases', {}), t);
          else if (r < 0.6) push(g, iamRoleRead({ ids: g.rng, time: t, caller: c, account: A2 }, g.rng.pick(['AppBackendRole', 'ReportingRole', 'SigningServiceRole'])), t);
          else if (r < 0.75) push(g, apiCall({ ids: g.rng, time: t, caller: c, region: 'us-east-1', account: A2 }, 'lambda', 'GetFunction20150331v2', { functionName: g.rng.pick(['report-builder', 'api-authorizer', 'thumbnailer']) }), t);
          else push(g, ec2Describe({ ids: g.rng, time: t, caller: c, region: 'us-east-1', account: A2 }), t);
        },
      }),
    );
  }
  {
    // SSO analysts (console) in A1: Athena + KMS reads, console sessions
    const role = cat.role(A1, 'DataAnalyst');
    const keys = ['datalake-curated', 'datalake-raw'].map((a) => cat.key(A1, 'us-east-1', a));
    S.push(
      defineStream<{ who: string; ip: string }>({
        id: 'analysts',
        account: A1,
        region: 'us-east-1',
        bursts: 6,
        exp: 0.4,
        size: { median: 5, sigma: 0.6, max: 40 },
        profile: P_US_BUSINESS,
        active: weekday,
        gap: 25,
        begin: (g) => (g.rng.chance(0.5) ? { who: 'ana.silva@example.com', ip: cat.ip('analyst1') } : { who: 'raj.patel@example.com', ip: cat.ip('analyst2') }),
        unit: (g, t, s) => {
          const ui = assumedRole(role, s.who, { time: t });
          const c: Caller = { identity: ui, sourceIp: s.ip, userAgent: UA.browser, tls: true, console: true };
          const r = g.rng.float();
          if (r < 0.35) {
            const qid = g.rng.uuid();
            push(g, apiCall({ ids: g.rng, time: t, caller: c, region: 'us-east-1', account: A1 }, 'athena', 'StartQueryExecution', { queryString: 'SELECT * FROM "curated"."sales" WHERE dt = \'' + ymd(t) + "' LIMIT 100", workGroup: 'analysts', queryExecutionContext: { database: 'curated' } }, { readOnly: false, responseElements: { queryExecutionId: qid } }), t);
            push(g, kmsGenerateDataKey({ ids: g.rng, time: t + 3000, caller: viaService(ui, 'athena.amazonaws.com'), encryptionContext: { 'aws:s3:arn': `arn:aws:s3:::acme-athena-results-${A1}/analysts/${qid}.csv` } }, keys[0]!), t + 3000);
          } else if (r < 0.55) push(g, apiCall({ ids: g.rng, time: t, caller: c, region: 'us-east-1', account: A1 }, 'glue', 'GetTables', { databaseName: 'curated' }), t);
          else if (r < 0.7) push(g, kmsKeylessCall({ ids: g.rng, time: t, caller: { ...c, userAgent: UA.internal }, region: 'us-east-1', account: A1 }, 'ListAliases', {}), t);
          else if (r < 0.85) {
            const k = g.rng.pick(keys);
            push(g, kmsKeyRead({ ids: g.rng, time: t, caller: { ...c, userAgent: UA.internal } }, k, 'DescribeKey', k.arn), t);
          } else push(g, s3ListBuckets({ ids: g.rng, time: t, caller: c, region: 'us-east-1', account: A1 }), t);
        },
      }),
    );
  }
  {
    // read-only SSO user in A2 eu-west-1 and us-east-1 (console)
    const role = cat.role(A2, 'ReadOnly');
    for (const region of ['us-east-1', 'eu-west-1'] as const) {
      const keys = (region === 'us-east-1' ? ['app-data', 'reports'] : ['app-data-eu', 'payments-eu']).map((a) => cat.key(A2, region, a));
      S.push(
        defineStream<null>({
          id: `readonly-${region}`,
          account: A2,
          region,
          bursts: 2,
          exp: 0.3,
          size: { median: 4, sigma: 0.5, max: 20 },
          profile: region === 'us-east-1' ? P_US_BUSINESS : P_EU_BUSINESS,
          active: weekday,
          gap: 30,
          begin: () => null,
          unit: (g, t) => {
            const c: Caller = { identity: assumedRole(role, 'mia.jones@example.com', { time: t }), sourceIp: cat.ip('readonly1'), userAgent: UA.internal, tls: true, console: true };
            const k = g.rng.pick(keys);
            const r = g.rng.float();
            if (r < 0.3) push(g, kmsKeylessCall({ ids: g.rng, time: t, caller: c, region, account: A2 }, 'ListKeys', { limit: 1000 }), t);
            else if (r < 0.6) push(g, kmsKeyRead({ ids: g.rng, time: t, caller: c }, k, 'DescribeKey', k.arn), t);
            else push(g, ec2Describe({ ids: g.rng, time: t, caller: c, region, account: A2 }, 0), t);
          },
        }),
      );
    }
  }

  // ---- A3 shared services ----------------------------------------------------------------------
  {
    // CloudTrail encrypting its own log files with the org log key (AWSService identity).
    const k = cat.key(A3, 'us-east-1', 'org-cloudtrail-logs');
    S.push(
      defineStream<null>({
        id: 'cloudtrail-sse',
        account: A3,
        region: 'us-east-1',
        bursts: 10,
        exp: 1,
        size: { median: 3, sigma: 0.6, max: 200 },
        profile: P_SERVICE,
        gap: 6,
        begin: () => null,
        unit: (g, t) => {
          const acct = g.rng.pick(ORG_ACCOUNTS);
          const region = g.rng.pick(ACCOUNT_REGIONS[acct]!);
          const c: Caller = { identity: awsService('cloudtrail.amazonaws.com'), sourceIp: 'cloudtrail.amazonaws.com', userAgent: 'cloudtrail.amazonaws.com', tls: false };
          push(
            g,
            kmsGenerateDataKey(
              {
                ids: g.rng,
                time: t,
                caller: c,
                encryptionContext: {
                  'aws:cloudtrail:arn': `arn:aws:cloudtrail:us-east-1:${A3}:trail/org-trail`,
                  'aws:s3:arn': `arn:aws:s3:::org-cloudtrail-logs-${A3}/AWSLogs/${acct}/CloudTrail/${region}/${ymd(t).replace(/-/g, '/')}/${acct}_CloudTrail_${region}_${compactStamp(t, false)}_${g.rng.str(ALNUM, 16)}.json.gz`,
                },
              },
              k,
            ),
            t,
          );
        },
      }),
    );
  }
  {
    const role = cat.role(A3, 'BuildAgentRole');
    const art = cat.key(A3, 'us-east-1', 'build-artifacts');
    const tools = cat.key(A3, 'us-east-1', 'shared-tools');
    S.push(
      defineStream<{ inst: string }>({
        id: 'build-agent',
        account: A3,
        region: 'us-east-1',
        bursts: 10,
        exp: 0.6,
        size: { median: 8, sigma: 0.7, max: 300 },
        profile: P_US_BUSINESS,
        weekend: 0.2,
        gap: 3,
        begin: (g) => ({ inst: g.rng.chance(0.85) ? BUILD_INSTANCE : 'i-0' + derivedId('', 'build' + g.day, 16).toLowerCase().replace(/[^0-9a-f]/g, 'a') }),
        unit: (g, t, s) => {
          const ui = assumedRole(role, s.inst, { time: t });
          const c: Caller = { identity: ui, sourceIp: cat.ip('build.eip'), userAgent: UA.cliLinux, tls: true };
          const r = g.rng.float();
          const bucket = `acme-build-artifacts-${A3}`;
          if (r < 0.35) {
            const key = `artifacts/${g.rng.pick(['api', 'web', 'worker'])}/${g.rng.hex(40)}.tar.gz`;
            push(g, s3ObjectCall({ ids: g.rng, time: t, caller: c, region: 'us-east-1', account: A3 }, { eventName: g.rng.chance(0.5) ? 'PutObject' : 'GetObject', bucket, key, sseKms: true, bytes: g.rng.range(1e6, 3e8) }), t);
            push(g, (g.rng.chance(0.5) ? kmsGenerateDataKey : kmsDecrypt)({ ids: g.rng, time: t, caller: viaService(ui, 's3.amazonaws.com'), encryptionContext: { 'aws:s3:arn': `arn:aws:s3:::${bucket}/${key}` } }, art), t);
          } else if (r < 0.5) push(g, kmsDecrypt({ ids: g.rng, time: t, caller: c, encryptionContext: { tool: g.rng.pick(['sonar', 'npm', 'docker']) } }, tools), t);
          else if (r < 0.7) push(g, apiCall({ ids: g.rng, time: t, caller: c, region: 'us-east-1', account: A3 }, 'ecr', 'GetAuthorizationToken', {}, { responseElements: null }), t);
          else push(g, stsGetCallerIdentity({ ids: g.rng, time: t, caller: c, region: 'us-east-1', account: A3 }), t);
        },
      }),
    );
  }
  {
    const role = cat.role(A3, 'OpsLambdaRole');
    const ops = cat.key(A3, 'us-west-2', 'ops');
    S.push(
      defineStream<null>({
        id: 'ops-cleanup',
        account: A3,
        region: 'us-west-2',
        bursts: 5,
        exp: 0.8,
        size: { median: 3, sigma: 0.6, max: 60 },
        profile: P_FLAT,
        gap: 2,
        begin: () => null,
        unit: (g, t) => {
          const c: Caller = { identity: assumedRole(role, 'cleanup-snapshots', { time: t }), sourceIp: pubIpFor(g, `nat1/${A3}/us-west-2`), userAgent: UA.boto3Lambda, tls: true };
          const r = g.rng.float();
          if (r < 0.5) push(g, ec2Describe({ ids: g.rng, time: t, caller: c, region: 'us-west-2', account: A3 }, 5), t);
          else if (r < 0.7) push(g, apiCall({ ids: g.rng, time: t, caller: c, region: 'us-west-2', account: A3 }, 'ec2', 'DeleteSnapshot', { snapshotId: 'snap-0' + g.rng.hex(16) }, { readOnly: false }), t);
          else push(g, kmsDecrypt({ ids: g.rng, time: t, caller: c, encryptionContext: { app: 'ops-cleanup' } }, ops), t);
        },
      }),
    );
  }
  // Daily security scan by an audit role in every account/region (session name varies by day)
  for (const acct of ORG_ACCOUNTS) {
    const role = cat.role(acct, 'SecurityAuditRole');
    for (const region of ACCOUNT_REGIONS[acct]!) {
      const keys = [...cat.keys.values()].filter((k) => k.account === acct && k.region === region && !['feature-flags', 'sqs-orders', 'byok-import'].includes(k.alias?.slice(6) ?? ''));
      S.push(
        defineStream<null>({
          id: `audit-${acct}-${region}`,
          account: acct,
          region,
          bursts: 1,
          exp: 0,
          cron: [6 * 60 + (region === 'us-east-1' ? 2 : region === 'us-west-2' ? 9 : 14)],
          size: { median: 12, sigma: 0.2, max: 40 },
          gap: 0.6,
          begin: () => null,
          unit: (g, t, _s, i) => {
            const c: Caller = { identity: assumedRole(role, `prowler-${ymd(t).replace(/-/g, '')}`, { time: t }), sourceIp: cat.ip('prowler'), userAgent: UA.prowler, tls: true };
            if (i === 0) return push(g, kmsKeylessCall({ ids: g.rng, time: t, caller: c, region, account: acct }, 'ListKeys', {}), t);
            if (i === 1) return push(g, kmsKeylessCall({ ids: g.rng, time: t, caller: c, region, account: acct }, 'ListAliases', {}), t);
            const k = keys[i % keys.length]!;
            const r = g.rng.float();
            if (r < 0.15) push(g, kmsKeyRead({ ids: g.rng, time: t, caller: c }, k, 'DescribeKey', k.arn), t);
            else if (r < 0.27) push(g, kmsCall({ ids: g.rng, time: t, caller: c }, k, 'GetKeyPolicy', { keyId: k.arn, policyName: 'default' }), t);
            else if (r < 0.36) push(g, kmsKeyRead({ ids: g.rng, time: t, caller: c }, k, 'GetKeyRotationStatus', k.arn), t);
            else if (r < 0.5 && region === 'us-east-1') push(g, iamRoleRead({ ids: g.rng, time: t, caller: c, account: acct }, 'SecurityAuditRole'), t);
            else push(g, ec2Describe({ ids: g.rng, time: t, caller: c, region, account: acct }), t);
          },
        }),
      );
    }
  }
  return S;
}

/** ReportingRole runs every 2 hours and decrypts 2 report inputs: ~24 Decrypts a day, every day. */
export const REPORTING_PER_RUN = 2;

/** Typical interactive KMS use by a human with the CLI. */
function humanKmsUnit(g: WindowRun, t: number, c: Caller, keys: Key[], region: string, account: string): void {
  const k = g.rng.pick(keys);
  const deny = g.rng.chance(0.01);
  const x: KmsContext = { ids: g.rng, time: t, caller: c, denied: deny, encryptionContext: { purpose: 'adhoc' } };
  const r = g.rng.float();
  if (r < 0.22) push(g, kmsDecrypt(x, k), t);
  else if (r < 0.32) push(g, kmsGenerateDataKey(x, k, k.alias ?? k.arn), t);
  else if (r < 0.4) push(g, kmsEncrypt(x, k), t);
  else if (r < 0.52) push(g, kmsKeyRead({ ids: g.rng, time: t, caller: c, denied: deny }, k, 'DescribeKey', k.alias ?? k.id), t);
  else if (r < 0.58) push(g, kmsKeylessCall({ ids: g.rng, time: t, caller: c, region, account }, 'ListAliases', {}), t);
  else if (r < 0.7) push(g, stsGetCallerIdentity({ ids: g.rng, time: t, caller: c, region, account }), t);
  else if (r < 0.85) push(g, s3ListBuckets({ ids: g.rng, time: t, caller: c, region, account }), t);
  else push(g, ec2Describe({ ids: g.rng, time: t, caller: c, region, account }), t);
}
