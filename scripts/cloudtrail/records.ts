// The CloudTrail record (CloudTrail User Guide, "CloudTrail record contents") and the records of
// services other than KMS that the sample uses as background (S3, STS, EC2, IAM, sign-in, ...).
// Every builder takes a CallContext: the id source (seeded: same seed, same ids), the time, the caller,
// and where the record lands (region, recipient account).

import { ALNUM, derivedId, type Rng } from './rng.js';
import { awsDate, eventTime, SEC, toMillis, type Time } from './time.js';
import type { UserIdentity } from './identities.js';

export interface Resource {
  accountId?: string;
  type?: string;
  ARN: string;
}

export interface CtRecord {
  eventVersion: string;
  userIdentity: UserIdentity;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters: unknown;
  responseElements: unknown;
  additionalEventData?: unknown;
  requestID?: string;
  eventID: string;
  readOnly?: boolean;
  resources?: Resource[];
  eventType: string;
  managementEvent?: boolean;
  recipientAccountId: string;
  sharedEventID?: string;
  vpcEndpointId?: string;
  vpcEndpointAccountId?: string;
  serviceEventDetails?: unknown;
  eventCategory?: string;
  tlsDetails?: unknown;
  sessionCredentialFromConsole?: string;
}

/** Who made the call and how it reached the service. */
export interface Caller {
  identity: UserIdentity;
  sourceIp: string;
  userAgent: string;
  /** A direct client call over TLS (adds tlsDetails); false for calls made by AWS services. */
  tls: boolean;
  /** TLS 1.2 instead of 1.3. */
  tls12?: boolean;
  /** Made from the console (sessionCredentialFromConsole). */
  console?: boolean;
  /** Reached the service through this VPC endpoint. */
  vpcEndpointId?: string;
}

/** A direct call by `identity` from `sourceIp` with `userAgent`, over TLS 1.3. */
export const directCall = (identity: UserIdentity, sourceIp: string, userAgent: string): Caller => ({ identity, sourceIp, userAgent, tls: true });

/** A call an AWS service made for `identity` (invokedBy, the service as source, no TLS details). */
export function viaService(identity: UserIdentity, service: string, sourceIp?: string): Caller {
  return { identity: { ...identity, invokedBy: service }, sourceIp: sourceIp ?? service, userAgent: service, tls: false };
}

/** A call made inside AWS with the caller's own identity (KMS for a Lambda function, KMS itself). */
export const internalCall = (identity: UserIdentity): Caller => ({ identity, sourceIp: 'AWS Internal', userAgent: 'AWS Internal', tls: false });

/**
 * The caller CloudTrail shows for an identity when nothing else is known: the invoking service as
 * source and agent, 'AWS Internal' for KMS itself, else a CLI user at a documentation address.
 */
export function callerFor(identity: UserIdentity, sourceIp?: string, userAgent?: string): Caller {
  const by = identity.invokedBy;
  if (by === 'AWS Internal') return { identity, sourceIp: sourceIp ?? 'AWS Internal', userAgent: userAgent ?? 'AWS Internal', tls: false };
  if (by) return { identity, sourceIp: sourceIp ?? by, userAgent: userAgent ?? by, tls: false };
  return { identity, sourceIp: sourceIp ?? '203.0.113.10', userAgent: userAgent ?? 'aws-cli/2.15.30 Python/3.11.8', tls: false };
}

export interface CallContext {
  /** Source of requestID / eventID and other random ids (see seededIds). */
  ids: Rng;
  time: Time;
  caller: Caller;
  /** Where the record lands; builders for a resource default to the resource's own. */
  region?: string;
  /** recipientAccountId: the account whose trail holds the record. */
  account?: string;
}

export interface RecordOptions {
  /** [errorCode, errorMessage]. */
  error?: readonly [string, string];
  readOnly?: boolean;
  eventType?: string;
  additionalEventData?: unknown;
  /** A data event (S3 object calls): managementEvent false, eventCategory Data. */
  dataEvent?: boolean;
  responseElements?: unknown;
  resources?: Resource[];
  eventVersion?: string;
  requestID?: string;
  /** Host header in tlsDetails (default <service>.<region>.amazonaws.com). */
  host?: string;
  sharedEventID?: string;
  serviceEventDetails?: unknown;
}

/** eventVersion per service as the sample writes them. */
const SERVICE_VERSION: Record<string, string> = {
  kms: '1.08',
  s3: '1.09',
  sts: '1.08',
  ec2: '1.09',
  iam: '1.08',
  lambda: '1.08',
  secretsmanager: '1.09',
  ssm: '1.08',
  dynamodb: '1.08',
  monitoring: '1.08',
  athena: '1.08',
  glue: '1.08',
  ecr: '1.08',
  signin: '1.08',
  logs: '1.08',
  backup: '1.08',
  rds: '1.08',
  cloudtrail: '1.10',
};

function tlsDetails(host: string, v12: boolean | undefined) {
  return v12
    ? { tlsVersion: 'TLSv1.2', cipherSuite: 'ECDHE-RSA-AES128-GCM-SHA256', clientProvidedHostHeader: host }
    : { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: host };
}

function where(x: CallContext): { region: string; account: string } {
  if (x.region === undefined || x.account === undefined) throw new Error('a record needs a region and a recipient account');
  return { region: x.region, account: x.account };
}

/**
 * Any API call to `service` (the short name: 'kms', 's3', ...). Service events (eventType
 * AwsServiceEvent) have no requestID.
 */
export function apiCall(x: CallContext, service: string, eventName: string, requestParameters: unknown, o: RecordOptions = {}): CtRecord {
  const { region, account } = where(x);
  const c = x.caller;
  const data = o.dataEvent === true;
  const host = o.host ?? `${service}.${region}.amazonaws.com`;
  return {
    eventVersion: o.eventVersion ?? SERVICE_VERSION[service] ?? '1.08',
    userIdentity: c.identity,
    eventTime: eventTime(x.time),
    eventSource: `${service}.amazonaws.com`,
    eventName,
    awsRegion: region,
    sourceIPAddress: c.sourceIp,
    userAgent: c.userAgent,
    errorCode: o.error?.[0],
    errorMessage: o.error?.[1],
    requestParameters,
    responseElements: o.responseElements ?? null,
    additionalEventData: o.additionalEventData,
    requestID: o.requestID ?? (o.eventType === 'AwsServiceEvent' ? undefined : x.ids.uuid()),
    eventID: x.ids.uuid(),
    readOnly: o.readOnly ?? true,
    resources: o.resources,
    eventType: o.eventType ?? 'AwsApiCall',
    managementEvent: !data,
    recipientAccountId: account,
    sharedEventID: o.sharedEventID,
    vpcEndpointId: c.vpcEndpointId,
    vpcEndpointAccountId: c.vpcEndpointId ? account : undefined,
    serviceEventDetails: o.serviceEventDetails,
    eventCategory: data ? 'Data' : 'Management',
    tlsDetails: c.tls ? tlsDetails(host, c.tls12) : undefined,
    sessionCredentialFromConsole: c.console ? 'true' : undefined,
  };
}

// ---- S3 ---------------------------------------------------------------------------------------

export interface S3ObjectCall {
  eventName: 'GetObject' | 'PutObject' | 'HeadObject';
  bucket: string;
  key: string;
  /** SSE-KMS (PutObject asks for aws:kms). */
  sseKms: boolean;
  bytes: number;
}

/** An S3 object data event. */
export function s3ObjectCall(x: CallContext, s: S3ObjectCall): CtRecord {
  const { region, account } = where(x);
  const put = s.eventName === 'PutObject';
  const host = `${s.bucket}.s3.${region}.amazonaws.com`;
  return apiCall(
    x,
    's3',
    s.eventName,
    { bucketName: s.bucket, Host: host, key: s.key, 'x-amz-server-side-encryption': put && s.sseKms ? 'aws:kms' : undefined },
    {
      dataEvent: true,
      readOnly: !put,
      host,
      requestID: x.ids.str('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 16),
      responseElements: put && s.sseKms ? { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': undefined } : null,
      additionalEventData: {
        SignatureVersion: 'SigV4',
        CipherSuite: 'TLS_AES_128_GCM_SHA256',
        bytesTransferredIn: put ? s.bytes : 0,
        SSEApplied: s.sseKms ? 'SSE_KMS' : 'Default_SSE_S3',
        AuthenticationMethod: 'AuthHeader',
        'x-amz-id-2': x.ids.str(ALNUM + '+/', 76),
        bytesTransferredOut: put ? 0 : s.bytes,
      },
      resources: [
        { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${s.bucket}/${s.key}` },
        { accountId: account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${s.bucket}` },
      ],
    },
  );
}

/** s3:ListBuckets (global endpoint). */
export const s3ListBuckets = (x: CallContext): CtRecord => apiCall(x, 's3', 'ListBuckets', { Host: 's3.amazonaws.com' }, { host: 's3.amazonaws.com' });

// ---- STS, sign-in ----------------------------------------------------------------------------------

/** sts:AssumeRole of `role` (its issued credentials in responseElements). */
export function stsAssumeRole(x: CallContext, role: { account: string; name: string; arn: string; id: string }, session: string, durationSeconds = 3600): CtRecord {
  const t = toMillis(x.time);
  const akid = derivedAccessKey(role.arn, session, t);
  return apiCall(
    x,
    'sts',
    'AssumeRole',
    { roleArn: role.arn, roleSessionName: session, durationSeconds },
    {
      responseElements: {
        credentials: { accessKeyId: akid, sessionToken: x.ids.str(ALNUM + '+/', 96), expiration: awsDate(t + durationSeconds * SEC) },
        assumedRoleUser: { assumedRoleId: `${role.id}:${session}`, arn: `arn:aws:sts::${role.account}:assumed-role/${role.name}/${session}` },
      },
      resources: [{ accountId: role.account, type: 'AWS::IAM::Role', ARN: role.arn }],
      sharedEventID: x.caller.identity.type === 'AWSService' ? x.ids.uuid() : undefined,
    },
  );
}

/** sts:GetCallerIdentity. */
export const stsGetCallerIdentity = (x: CallContext): CtRecord => apiCall(x, 'sts', 'GetCallerIdentity', null);

/** signin:ConsoleLogin (an AwsConsoleSignIn event). */
export function consoleLogin(x: CallContext, o: { mfa: boolean; success?: boolean }): CtRecord {
  const ok = o.success !== false;
  return apiCall(x, 'signin', 'ConsoleLogin', null, {
    eventType: 'AwsConsoleSignIn',
    readOnly: false,
    responseElements: { ConsoleLogin: ok ? 'Success' : 'Failure' },
    error: ok ? undefined : ['Failed authentication', 'Failed authentication'],
    additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true', MobileVersion: 'No', MFAUsed: o.mfa ? 'Yes' : 'No' },
    host: 'signin.aws.amazon.com',
  });
}

// ---- EC2, IAM, Secrets Manager ---------------------------------------------------------------------

/** The EC2 Describe* calls a poller or scanner makes, with their request parameters. */
export const EC2_DESCRIBE: readonly (readonly [string, unknown])[] = [
  ['DescribeInstances', { instancesSet: {}, filterSet: { items: [{ name: 'instance-state-name', valueSet: { items: [{ value: 'running' }] } }] } }],
  ['DescribeVolumes', { volumeSet: {}, filterSet: {} }],
  ['DescribeSecurityGroups', { securityGroupSet: {}, securityGroupIdSet: {}, filterSet: {} }],
  ['DescribeSubnets', { subnetSet: {}, filterSet: {} }],
  ['DescribeNetworkInterfaces', { networkInterfaceIdSet: {}, filterSet: {} }],
  ['DescribeSnapshots', { snapshotSet: {}, ownersSet: { items: [{ owner: 'self' }] }, filterSet: {} }],
  ['DescribeVpcs', { vpcSet: {}, filterSet: {} }],
];

/** One of EC2_DESCRIBE (`which`, else a random one). */
export function ec2Describe(x: CallContext, which?: number): CtRecord {
  const [name, req] = EC2_DESCRIBE[which ?? x.ids.int(EC2_DESCRIBE.length)]!;
  return apiCall(x, 'ec2', name, req, { host: `ec2.${x.region}.amazonaws.com` });
}

/** A random IAM read about a role (GetRole, ListAttachedRolePolicies, ListRolePolicies, ListRoles); IAM is global (us-east-1). */
export function iamRoleRead(x: CallContext, roleName: string): CtRecord {
  const which = x.ids.int(4);
  const name = ['GetRole', 'ListAttachedRolePolicies', 'ListRolePolicies', 'ListRoles'][which]!;
  const req = which === 3 ? { maxItems: 100 } : { roleName };
  return apiCall({ ...x, region: 'us-east-1' }, 'iam', name, req, { host: 'iam.amazonaws.com' });
}

/** secretsmanager:GetSecretValue (KMS Decrypt follows, made by Secrets Manager for the caller). */
export const secretsGetSecretValue = (x: CallContext, secretId: string, o: RecordOptions = {}): CtRecord =>
  apiCall(x, 'secretsmanager', 'GetSecretValue', { secretId }, o);

/** The encryption context Secrets Manager sends to KMS for a secret version. */
export function secretEncryptionContext(ids: Rng, region: string, account: string, secretName: string): Record<string, string> {
  return { SecretARN: `arn:aws:secretsmanager:${region}:${account}:secret:${secretName}-${ids.str(ALNUM, 6)}`, SecretVersionId: ids.uuid() };
}

/** The access key id STS issues for a role session started at `t` (stable). */
export const derivedAccessKey = (roleArn: string, session: string, t: number): string => derivedId('ASIA', `${roleArn}|${session}|${t}`);
