// The sample organization's keys and IAM as the KMS and IAM APIs show them today, for the demo's
// `keytrail keys audit`: the keys the trail uses (the same ids), with the policies, grants,
// aliases and rotation the trail left them with, and a few things an audit should find that the
// trail does not show: a key administrator who can also decrypt, rotation off, an IAM policy that
// decrypts with every key. Keys the trail deleted (legacy-archive, its deletion window long past)
// are gone; the untrusted account's key is not the organization's to audit.

import { defaultKeyPolicy } from '../cloudtrail/index.js';
import type { IamService } from '../local-aws/iam-server.js';
import type { GrantSpec, KmsServer } from '../local-aws/kms-server.js';
import type { Catalog, Key } from './organization.js';
import { ORG_ACCOUNTS, UNTRUSTED_ACCOUNT } from './types.js';

const [A1, A2, A3] = ORG_ACCOUNTS;

/** Who the key policies name as key users, by account/region/alias: the roles and users the trail shows calling the key. */
const KEY_USERS: Record<string, string[]> = {
  [`${A1}/us-east-1/datalake-raw`]: ['role IngestLambdaRole', 'role DataAnalyst'],
  [`${A1}/us-east-1/datalake-curated`]: ['role DataLakeAnalyticsRole', 'role DataAnalyst'],
  [`${A1}/us-east-1/app-data`]: ['user carol.ops', 'user jordan.lee'],
  [`${A1}/us-east-1/backup`]: ['role AWSBackupDefaultServiceRole'],
  [`${A1}/us-west-2/backup`]: ['role AWSBackupDefaultServiceRole'],
  [`${A1}/us-west-2/dr-data`]: ['role DrSyncRole', 'user jordan.lee'],
  [`${A1}/eu-west-1/eu-data`]: ['role EuApiLambdaRole'],
  [`${A2}/us-east-1/app-data`]: ['role AppBackendRole', 'role VendorExportRole'],
  [`${A2}/us-east-1/reports`]: ['role ReportingRole'],
  [`${A2}/us-east-1/secrets`]: ['role AppBackendRole'],
  [`${A2}/us-east-1/signing`]: ['role SigningServiceRole'],
  [`${A2}/us-east-1/feature-flags`]: ['role AppBackendRole'],
  [`${A2}/eu-west-1/app-data-eu`]: ['role AppBackendRole'],
  [`${A2}/eu-west-1/payments-eu`]: ['role AppBackendRole'],
  [`${A3}/us-east-1/shared-tools`]: ['role BuildAgentRole'],
  [`${A3}/us-east-1/build-artifacts`]: ['role BuildAgentRole'],
  [`${A3}/us-east-1/secrets-vault`]: ['role OpsLambdaRole'],
  [`${A3}/us-west-2/ops`]: ['role OpsLambdaRole'],
};

/** Who administers the keys of each account: its administrators' permission set, or the CI user. */
const KEY_ADMINS: Record<string, string> = { [A1]: 'role AdministratorAccess', [A2]: 'user ci-deployer', [A3]: 'role AdministratorAccess' };

const USE = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'];
const ADMIN = ['kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*',
  'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion'];

const ALIAS_SERVICE: Record<string, string> = { 'aws/s3': 's3', 'aws/ebs': 'ec2', 'aws/lambda': 'lambda', 'aws/ssm': 'ssm' };

function principal(cat: Catalog, account: string, who: string): string {
  const [kind, name] = who.split(' ') as ['role' | 'user', string];
  return kind === 'role' ? cat.role(account, name).arn : cat.user(account, name).arn;
}

/** The key policy of an AWS managed key: anyone in the account, through its service only. */
function awsManagedPolicy(k: Key): unknown {
  const service = `${ALIAS_SERVICE[k.alias!.slice('alias/'.length)] ?? 's3'}.${k.region}.amazonaws.com`;
  return {
    Version: '2012-10-17', Id: `auto-${k.alias!.split('/').pop()}-2`,
    Statement: [
      { Sid: 'Allow access through the service for all principals in the account that are authorized to use it', Effect: 'Allow',
        Principal: { AWS: '*' }, Action: [...USE, 'kms:CreateGrant'], Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': k.account, 'kms:ViaService': service } } },
      { Sid: 'Allow direct access to key metadata to the account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${k.account}:root` },
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'], Resource: '*' },
    ],
  };
}

function customerPolicy(cat: Catalog, k: Key, place: string): string {
  const users = (KEY_USERS[place] ?? []).map((who) => principal(cat, k.account, who));
  // The imported key is its creator's.
  const admin = principal(cat, k.account, place === `${A1}/us-west-2/byok-import` ? 'user jordan.lee' : KEY_ADMINS[k.account]!);
  const extra: unknown[] = [
    // The secrets key's administrator was given kms:* when it was set up: it can decrypt too.
    place === `${A2}/us-east-1/secrets`
      ? { Sid: 'Allow access for Key Administrators', Effect: 'Allow', Principal: { AWS: admin }, Action: 'kms:*', Resource: '*' }
      : { Sid: 'Allow access for Key Administrators', Effect: 'Allow', Principal: { AWS: admin }, Action: ADMIN, Resource: '*' },
  ];
  if (users.length) extra.push({ Sid: 'Allow use of the key', Effect: 'Allow', Principal: { AWS: users }, Action: USE, Resource: '*' });
  if (place === `${A3}/us-east-1/org-cloudtrail-logs`) {
    extra.push({
      Sid: 'Allow CloudTrail to encrypt logs', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'kms:GenerateDataKey*', Resource: '*',
      Condition: { StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': 'arn:aws:cloudtrail:*:*:trail/*' } },
    });
  }
  // The trail's PutKeyPolicy calls that opened two keys are still in force.
  if (place === `${A3}/us-east-1/shared-tools`) extra.push({ Sid: 'AllowEveryone', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*' });
  if (place === `${A2}/eu-west-1/payments-eu`) {
    extra.push({ Sid: 'Allow use of the key by partner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:root` }, Action: USE, Resource: '*' });
  }
  return defaultKeyPolicy(k.account, extra);
}

function grants(cat: Catalog, place: string): GrantSpec[] {
  if (place === `${A1}/us-east-1/datalake-raw`) {
    // The trail's CreateGrant to another account's role, never retired.
    return [{ granteePrincipal: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:role/x`, operations: ['Decrypt', 'DescribeKey', 'CreateGrant'] }];
  }
  if (place === `${A1}/us-east-1/datalake-curated`) {
    return [
      { granteePrincipal: cat.role(A2, 'ReportingRole').arn, operations: ['Decrypt', 'DescribeKey'] },
      { granteePrincipal: cat.role(A1, 'DataLakeAnalyticsRole').arn, operations: ['Decrypt', 'GenerateDataKey', 'DescribeKey'] },
    ];
  }
  if (place === `${A2}/us-east-1/secrets`) {
    return [{
      granteePrincipal: 'rds.us-east-1.amazonaws.com', retiringPrincipal: 'rds.us-east-1.amazonaws.com',
      operations: ['Decrypt', 'Encrypt', 'GenerateDataKey', 'ReEncryptFrom', 'ReEncryptTo', 'CreateGrant', 'RetireGrant', 'DescribeKey'],
      constraints: { EncryptionContextSubset: { 'aws:rds:db-id': 'db-ORDERSPRIMARY' } },
    }];
  }
  return [];
}

/** Rotation is on for every customer managed symmetric key but these two. */
const ROTATION_OFF = new Set([`${A2}/us-east-1/secrets`, `${A1}/us-west-2/dr-data`]);

/** Adds the organization's live keys to `kms` and its IAM to `iam`. */
export function serveSampleKeys(cat: Catalog, kms: Pick<KmsServer, 'addKey'>, iam: Pick<IamService, 'addPolicy' | 'addGroup' | 'addRole' | 'addUser'>): void {
  for (const k of cat.keys.values()) {
    const name = k.alias?.slice('alias/'.length) ?? k.id;
    const place = `${k.account}/${k.region}/${name}`;
    if (k.account === UNTRUSTED_ACCOUNT || name === 'legacy-archive') continue;
    const created = name === 'byok-import' || name === 'feature-flags' || name === 'sqs-orders';
    kms.addKey(k.account, k.region, {
      keyId: k.id,
      keyManager: k.managed ? 'AWS' : 'CUSTOMER',
      keySpec: k.spec,
      description: k.managed ? `Default key that protects my ${ALIAS_SERVICE[name] ?? ''} data when no other key is defined` : name,
      creationDate: created ? '2024-05-10T12:00:00Z' : '2023-03-01T09:00:00Z',
      // byok-import: the trail deleted its imported material, so it waits for an import.
      ...(name === 'byok-import' ? { origin: 'EXTERNAL' as const, keyState: 'PendingImport' as const } : {}),
      multiRegion: k.multiRegion,
      policy: k.managed ? awsManagedPolicy(k) : customerPolicy(cat, k, place),
      rotation: { enabled: k.managed || (k.spec === 'SYMMETRIC_DEFAULT' && !ROTATION_OFF.has(place)) },
      grants: grants(cat, place),
      tags: k.managed ? {} : { team: k.account === A1 ? 'data' : k.account === A2 ? 'platform' : 'ops' },
      aliases: k.alias ? [k.alias] : [],
    });
  }
  // The on-call group's break-glass policy decrypts with every key of the account.
  const breakGlass = iam.addPolicy(A1, 'KmsBreakGlass', {
    Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*' }],
  });
  iam.addGroup(A1, 'oncall', { attached: [breakGlass] });
  for (const role of cat.roles.values()) {
    if (role.account === UNTRUSTED_ACCOUNT) continue;
    const path = role.arn.slice(role.arn.indexOf(':role/') + ':role'.length, role.arn.lastIndexOf('/') + 1);
    iam.addRole(role.account, role.name, { path });
  }
  // sam.rivera decrypts with the keys of the apps he supports, named one by one.
  const samsKeys = ['app-data', 'reports', 'secrets'].map((alias) => cat.key(A2, 'us-east-1', alias).arn);
  const support = { 'kms-app-support': { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: samsKeys }] } };
  for (const user of cat.users.values()) {
    iam.addUser(user.account, user.name, user.name === 'carol.ops' ? { groups: ['oncall'] } : user.name === 'sam.rivera' ? { inline: support } : {});
  }
}
