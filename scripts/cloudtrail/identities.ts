// The userIdentity shapes CloudTrail writes (CloudTrail User Guide, "CloudTrail userIdentity element",
// and the KMS Developer Guide's logging examples). Ids are derived from names, so the same principal
// always has the same principalId and access key id.

import { derivedId, fnv } from './rng.js';
import { hourStart, iso, MIN, toMillis, type Time } from './time.js';

export interface UserIdentity {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  sessionContext?: unknown;
  invokedBy?: string;
  onBehalfOf?: { userId: string; identityStoreArn: string };
  credentialId?: string;
}

/** An IAM user. `id` (AIDA…) and `accessKeyId` (AKIA…) default to ids derived from the ARN. */
export interface IamUserRef {
  account: string;
  name: string;
  id?: string;
  accessKeyId?: string;
}

/** An IAM role. `arn` defaults to a role at path "/"; `id` (AROA…) to an id derived from the ARN. */
export interface RoleRef {
  account: string;
  name: string;
  arn?: string;
  id?: string;
}

export const userArn = (account: string, name: string): string => `arn:aws:iam::${account}:user/${name}`;
export const roleArn = (r: RoleRef): string => r.arn ?? `arn:aws:iam::${r.account}:role/${r.name}`;
export const roleId = (r: RoleRef): string => r.id ?? derivedId('AROA', roleArn(r), 17);
export const rootArn = (account: string): string => `arn:aws:iam::${account}:root`;

/** Sessions without a known start begin here (the sample's first day). */
const DEFAULT_SESSION_START = Date.UTC(2024, 4, 1);

/** type IAMUser: long-term access key of an IAM user. */
export function iamUser(u: IamUserRef, invokedBy?: string): UserIdentity {
  const arn = userArn(u.account, u.name);
  return {
    type: 'IAMUser',
    principalId: u.id ?? derivedId('AIDA', arn, 17),
    arn,
    accountId: u.account,
    accessKeyId: u.accessKeyId ?? derivedId('AKIA', arn, 16),
    userName: u.name,
    invokedBy,
  };
}

export interface SessionOptions {
  /** Time of the call: the session started within the hour before it (stable per role and session name). */
  time?: Time;
  /** Explicit session start (creationDate). */
  sessionStart?: Time;
  mfa?: boolean;
  /** The AWS service that made the call for the session (S3, Athena, ...). */
  invokedBy?: string;
}

/** type AssumedRole: temporary credentials from sts:AssumeRole (also IAM Identity Center permission sets). */
export function assumedRole(role: RoleRef, session: string, o: SessionOptions = {}): UserIdentity {
  const arn = roleArn(role);
  const id = roleId(role);
  const start =
    o.sessionStart !== undefined
      ? toMillis(o.sessionStart)
      : o.time !== undefined
        ? hourStart(toMillis(o.time)) - (fnv(role.name + session) % 40) * MIN
        : DEFAULT_SESSION_START;
  return {
    type: 'AssumedRole',
    principalId: `${id}:${session}`,
    arn: `arn:aws:sts::${role.account}:assumed-role/${role.name}/${session}`,
    accountId: role.account,
    accessKeyId: derivedId('ASIA', `${arn}|${session}|${start}`),
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: id, arn, accountId: role.account, userName: role.name },
      webIdFederationData: {},
      attributes: { creationDate: iso(start), mfaAuthenticated: o.mfa ? 'true' : 'false' },
    },
    invokedBy: o.invokedBy,
  };
}

/**
 * type Root. With `time`, a console session (temporary credentials, MFA) as CloudTrail writes it for
 * API calls from the console; without, the bare form of a sign-in event.
 */
export function root(account: string, o: { time?: Time } = {}): UserIdentity {
  const bare: UserIdentity = { type: 'Root', principalId: account, arn: rootArn(account), accountId: account };
  if (o.time === undefined) return bare;
  const start = hourStart(toMillis(o.time)) - 7 * MIN;
  return {
    ...bare,
    accessKeyId: derivedId('ASIA', `root|${account}|${start}`),
    sessionContext: { sessionIssuer: {}, webIdFederationData: {}, attributes: { creationDate: iso(start), mfaAuthenticated: 'true' } },
  };
}

/** type AWSService: a service calling with its own service principal (CloudTrail encrypting its logs, ...). */
export const awsService = (service: string): UserIdentity => ({ type: 'AWSService', invokedBy: service });

/** KMS itself (RotateKey, DeleteKey after the waiting period, DeleteExpiredKeyMaterial): no type. */
export const kmsInternal = (account: string): UserIdentity => ({ accountId: account, invokedBy: 'AWS Internal' });

/**
 * type AWSAccount: a request made with another account's credentials, as the resource owner's trail
 * records it (cross-account use through a key policy).
 */
export function awsAccount(account: string, o: { principalId?: string; invokedBy?: string } = {}): UserIdentity {
  return { type: 'AWSAccount', principalId: o.principalId ?? derivedId('AIDA', `account|${account}`, 17), accountId: account, invokedBy: o.invokedBy };
}

/** type FederatedUser: credentials from sts:GetFederationToken called by an IAM user. */
export function federatedUser(issuer: IamUserRef, name: string, o: { sessionStart?: Time } = {}): UserIdentity {
  const issuerId = iamUser(issuer);
  const start = o.sessionStart !== undefined ? toMillis(o.sessionStart) : DEFAULT_SESSION_START;
  return {
    type: 'FederatedUser',
    principalId: `${issuer.account}:${name}`,
    arn: `arn:aws:sts::${issuer.account}:federated-user/${name}`,
    accountId: issuer.account,
    accessKeyId: derivedId('ASIA', `federated|${issuer.account}|${name}|${start}`),
    sessionContext: {
      sessionIssuer: { type: 'IAMUser', principalId: issuerId.principalId, arn: issuerId.arn, accountId: issuer.account, userName: issuer.name },
      webIdFederationData: {},
      attributes: { creationDate: iso(start), mfaAuthenticated: 'false' },
    },
  };
}

/** type IdentityCenterUser: a request made for an IAM Identity Center user (no ARN, onBehalfOf the user). */
export function identityCenterUser(account: string, userId: string, identityStoreId = 'd-1234567890'): UserIdentity {
  return {
    type: 'IdentityCenterUser',
    accountId: account,
    onBehalfOf: { userId, identityStoreArn: `arn:aws:identitystore::${account}:identitystore/${identityStoreId}` },
    credentialId: derivedId('', `idc|${account}|${userId}`, 48),
  };
}

/** The IAM Identity Center role of a permission set, as `assumedRole` takes it. */
export function identityCenterRole(account: string, permissionSet: string, suffix: string): RoleRef {
  const name = `AWSReservedSSO_${permissionSet}_${suffix}`;
  return { account, name, arn: `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/${name}` };
}

/** The same caller, with the AWS service that made the request for it (invokedBy). */
export const onBehalfOf = (caller: UserIdentity, service: string): UserIdentity => ({ ...caller, invokedBy: service });

/** The IAM form of the caller: the role for assumed roles, else the user / root ARN, `service:` for services. */
export function principalOf(ui: UserIdentity): string {
  const sc = ui.sessionContext as { sessionIssuer?: { arn?: string } } | undefined;
  if (sc?.sessionIssuer?.arn) return sc.sessionIssuer.arn;
  if (ui.arn) return ui.arn;
  if (ui.type === 'AWSService' && ui.invokedBy) return `service:${ui.invokedBy}`;
  return '<internal>';
}
