// KMS records in the shapes of the KMS Developer Guide's logging examples: cryptographic calls on a
// key, key management (create, import, policy, grants, state), custom key stores, and KMS's own
// service events. Each builder takes a KmsContext (a CallContext plus encryption context and errors).

import { apiCall, type CallContext, type CtRecord, type RecordOptions, type Resource } from './records.js';
import { internalCall } from './records.js';
import { kmsInternal, type UserIdentity } from './identities.js';
import type { Rng } from './rng.js';
import { awsDate, DAY, toMillis, type Time } from './time.js';

/** A KMS key: account, region and id come from the ARN; the alias, when known, names it in requests. */
export interface KmsKey {
  arn: string;
  alias?: string | null;
}

export const keyArn = (account: string, id: string, region = 'us-east-1'): string => `arn:aws:kms:${region}:${account}:key/${id}`;
export const aliasArn = (account: string, alias: string, region = 'us-east-1'): string => `arn:aws:kms:${region}:${account}:${alias.startsWith('alias/') ? alias : `alias/${alias}`}`;

export function keyParts(arn: string): { account: string; region: string; id: string } {
  const [scheme, , service, region, account, resource] = arn.split(':');
  if (scheme !== 'arn' || service !== 'kms' || region === undefined || account === undefined || !resource?.startsWith('key/')) throw new Error(`not a KMS key ARN: ${arn}`);
  return { region, account, id: resource.slice('key/'.length) };
}

export const kmsResource = (arn: string): Resource => ({ accountId: arn.split(':')[4]!, type: 'AWS::KMS::Key', ARN: arn });

export interface KmsContext extends CallContext {
  encryptionContext?: Record<string, string>;
  /** The caller lacks permission: errorCode AccessDenied with one of the two messages KMS writes. */
  denied?: boolean;
  /** Any other error: [errorCode, errorMessage]. */
  error?: readonly [string, string];
}

/** The AccessDenied message KMS writes (no identity policy allows it, or no resource policy does). */
export function accessDeniedMessage(ids: Rng, identity: UserIdentity, action: string, keyArn: string): string {
  return ids.chance(0.5)
    ? `User: ${identity.arn} is not authorized to perform: kms:${action} on resource: ${keyArn} because no identity-based policy allows the kms:${action} action`
    : `User: ${identity.arn} is not authorized to perform: kms:${action} on this resource because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access`;
}

const READ_ONLY = new Set([
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac', 'GenerateRandom', 'ReEncrypt', 'DescribeKey', 'ListAliases', 'ListKeys', 'ListGrants', 'ListResourceTags', 'GetKeyPolicy',
  'GetKeyRotationStatus', 'GetParametersForImport', 'GetPublicKey', 'DescribeCustomKeyStores', 'Sign', 'Verify', 'VerifyMac',
]);
/** readOnly as CloudTrail sets it for a KMS API. */
export const isKmsReadOnly = (eventName: string): boolean => READ_ONLY.has(eventName);

/**
 * Any KMS API call on one key (resources[] names it). Region and recipient default to the key's.
 * readOnly defaults to true: key management builders below set it false.
 */
export function kmsCall(x: KmsContext, key: KmsKey, eventName: string, requestParameters: unknown, o: RecordOptions = {}): CtRecord {
  const k = keyParts(key.arn);
  const error = x.error ?? (x.denied ? (['AccessDenied', accessDeniedMessage(x.ids, x.caller.identity, eventName, key.arn)] as const) : undefined);
  return apiCall({ ...x, region: x.region ?? k.region, account: x.account ?? k.account }, 'kms', eventName, requestParameters, { resources: [kmsResource(key.arn)], error, ...o });
}

/** A KMS call that names no key (ListAliases, ListKeys, custom key stores): region and account required. */
export function kmsKeylessCall(x: KmsContext, eventName: string, requestParameters: unknown, o: RecordOptions = {}): CtRecord {
  const error =
    x.error ??
    (x.denied
      ? (['AccessDenied', `User: ${x.caller.identity.arn} is not authorized to perform: kms:${eventName} on resource: * because no identity-based policy allows the kms:${eventName} action`] as const)
      : undefined);
  return apiCall(x, 'kms', eventName, requestParameters, { error, ...o });
}

// ---- cryptographic operations ---------------------------------------------------------------------

/** Decrypt (the key comes from the ciphertext: requests name no keyId). */
export const kmsDecrypt = (x: KmsContext, key: KmsKey, o: RecordOptions = {}): CtRecord =>
  kmsCall(x, key, 'Decrypt', { encryptionContext: x.encryptionContext, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }, o);

/** Encrypt; keyId as the caller named the key (default: its alias, else ARN). */
export const kmsEncrypt = (x: KmsContext, key: KmsKey, keyId?: string, o: RecordOptions = {}): CtRecord =>
  kmsCall(x, key, 'Encrypt', { keyId: keyId ?? key.alias ?? key.arn, encryptionContext: x.encryptionContext, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }, o);

/** GenerateDataKey (AES_256); keyId default: the ARN. */
export const kmsGenerateDataKey = (x: KmsContext, key: KmsKey, keyId?: string, o: RecordOptions = {}): CtRecord =>
  kmsCall(x, key, 'GenerateDataKey', { keyId: keyId ?? key.arn, encryptionContext: x.encryptionContext, keySpec: 'AES_256' }, o);

/** GenerateDataKeyWithoutPlaintext (AES_256); keyId default: the ARN. */
export const kmsGenerateDataKeyWithoutPlaintext = (x: KmsContext, key: KmsKey, keyId?: string, o: RecordOptions = {}): CtRecord =>
  kmsCall(x, key, 'GenerateDataKeyWithoutPlaintext', { keyId: keyId ?? key.arn, encryptionContext: x.encryptionContext, keySpec: 'AES_256' }, o);

/** ReEncrypt from `source` to `destination` (both in resources[]), same encryption context. */
export function kmsReEncrypt(x: KmsContext, source: KmsKey, destination: KmsKey): CtRecord {
  return kmsCall(
    x,
    source,
    'ReEncrypt',
    {
      sourceEncryptionContext: x.encryptionContext,
      sourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      destinationKeyId: destination.alias ?? destination.arn,
      destinationEncryptionContext: x.encryptionContext,
      destinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    },
    { resources: [kmsResource(source.arn), kmsResource(destination.arn)] },
  );
}

/** Sign or Verify a digest with an RSA key; keyId default: the alias, else ARN. */
export const kmsSign = (x: KmsContext, key: KmsKey, eventName: 'Sign' | 'Verify' = 'Sign', keyId?: string): CtRecord =>
  kmsCall(x, key, eventName, { keyId: keyId ?? key.alias ?? key.arn, signingAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256', messageType: 'DIGEST' });

/** additionalEventData of a call on a key in an external key store (XKS). */
export const xksEventData = (customKeyStoreId: string, xksKeyId: string) => ({ customKeyStoreId, xksKeyId });

// ---- reads of key configuration ----------------------------------------------------------------------

/** DescribeKey, GetKeyRotationStatus, ListResourceTags, ...: { keyId } (default: the key id). */
export const kmsKeyRead = (x: KmsContext, key: KmsKey, eventName: string, keyId?: string, o: RecordOptions = {}): CtRecord =>
  kmsCall(x, key, eventName, { keyId: keyId ?? keyParts(key.arn).id }, o);

/** GetKeyPolicy of the default policy; keyId default: the ARN. */
export const kmsGetKeyPolicy = (x: KmsContext, key: KmsKey, keyId?: string): CtRecord =>
  kmsCall(x, key, 'GetKeyPolicy', { keyId: keyId ?? key.arn, policyName: 'default' });

// ---- key management ------------------------------------------------------------------------------------

/** A key-management call (readOnly false); request default { keyId: <key id> }. */
export const kmsKeyAdmin = (x: KmsContext, key: KmsKey, eventName: string, requestParameters?: unknown, o: RecordOptions = {}): CtRecord =>
  kmsCall(x, key, eventName, requestParameters ?? { keyId: keyParts(key.arn).id }, { readOnly: false, ...o });

export type KeyOrigin = 'AWS_KMS' | 'EXTERNAL' | 'AWS_CLOUDHSM' | 'EXTERNAL_KEY_STORE';

export interface NewKey {
  description: string;
  origin?: KeyOrigin;
  /** The key policy as JSON text (omitted: KMS applies the default policy). */
  policy?: string;
  tags?: { tagKey: string; tagValue: string }[];
  multiRegion?: boolean;
  customKeyStoreId?: string;
  xksKeyId?: string;
}

/** keyMetadata as CreateKey / DescribeKey return it for a symmetric customer managed key. */
export function keyMetadata(key: KmsKey, created: Time, spec: NewKey) {
  const k = keyParts(key.arn);
  const origin = spec.origin ?? 'AWS_KMS';
  const pending = origin === 'EXTERNAL';
  return {
    keyMetadata: {
      aWSAccountId: k.account,
      keyId: k.id,
      arn: key.arn,
      creationDate: awsDate(toMillis(created)),
      enabled: !pending,
      description: spec.description,
      keyUsage: 'ENCRYPT_DECRYPT',
      keyState: pending ? 'PendingImport' : 'Enabled',
      origin,
      customKeyStoreId: spec.customKeyStoreId,
      keyManager: 'CUSTOMER',
      customerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      keySpec: 'SYMMETRIC_DEFAULT',
      encryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      multiRegion: spec.multiRegion === true,
      xksKeyConfiguration: spec.xksKeyId ? { id: spec.xksKeyId } : undefined,
    },
  };
}

/** CreateKey of `key` (EXTERNAL origin: created disabled, PendingImport). */
export function kmsCreateKey(x: KmsContext, key: KmsKey, spec: NewKey): CtRecord {
  return kmsCall(
    x,
    key,
    'CreateKey',
    {
      description: spec.description,
      keyUsage: 'ENCRYPT_DECRYPT',
      keySpec: 'SYMMETRIC_DEFAULT',
      customerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      origin: spec.origin ?? 'AWS_KMS',
      multiRegion: spec.multiRegion === true,
      bypassPolicyLockoutSafetyCheck: false,
      customKeyStoreId: spec.customKeyStoreId,
      xksKeyId: spec.xksKeyId,
      policy: spec.policy,
      tags: spec.tags,
    },
    { readOnly: false, responseElements: keyMetadata(key, x.time, spec) },
  );
}

/** CreateAlias: resources[] names the key and the alias. */
export function kmsCreateAlias(x: KmsContext, key: KmsKey, aliasName: string): CtRecord {
  const k = keyParts(key.arn);
  return kmsCall(x, key, 'CreateAlias', { aliasName, targetKeyId: key.arn }, {
    readOnly: false,
    resources: [kmsResource(key.arn), { accountId: k.account, type: 'AWS::KMS::Key', ARN: aliasArn(k.account, aliasName, k.region) }],
  });
}

/** PutKeyPolicy of the default policy (JSON text); keyId default: the key id. */
export const kmsPutKeyPolicy = (x: KmsContext, key: KmsKey, policy: string, keyId?: string): CtRecord =>
  kmsCall(x, key, 'PutKeyPolicy', { keyId: keyId ?? keyParts(key.arn).id, policyName: 'default', bypassPolicyLockoutSafetyCheck: false, policy }, { readOnly: false });

/** The default key policy (the account root may do kms:*), plus `extra` statements; pretty JSON as the console writes it. */
export function defaultKeyPolicy(account: string, extra: unknown[] = [], id = 'key-default-1'): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: id,
      Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }, ...extra],
    },
    null,
    2,
  );
}

export interface NewGrant {
  granteePrincipal: string;
  retiringPrincipal?: string;
  operations: string[];
  constraints?: { encryptionContextSubset?: Record<string, string>; encryptionContextEquals?: Record<string, string> };
}

/** CreateGrant (the new grant id in responseElements). */
export function kmsCreateGrant(x: KmsContext, key: KmsKey, g: NewGrant): CtRecord {
  const responseElements = { grantId: x.ids.hex(64), keyId: key.arn };
  return kmsCall(
    x,
    key,
    'CreateGrant',
    { keyId: key.arn, granteePrincipal: g.granteePrincipal, retiringPrincipal: g.retiringPrincipal, operations: g.operations, constraints: g.constraints },
    { readOnly: false, responseElements },
  );
}

/** GetParametersForImport: the first step of importing key material into an EXTERNAL key. */
export const kmsGetParametersForImport = (x: KmsContext, key: KmsKey, wrappingAlgorithm = 'RSAES_OAEP_SHA_256', wrappingKeySpec = 'RSA_4096'): CtRecord =>
  kmsCall(x, key, 'GetParametersForImport', { keyId: keyParts(key.arn).id, wrappingAlgorithm, wrappingKeySpec });

/** ImportKeyMaterial: material that expires at `validTo`, or never (KEY_MATERIAL_DOES_NOT_EXPIRE). */
export function kmsImportKeyMaterial(x: KmsContext, key: KmsKey, validTo: Time | null): CtRecord {
  const req =
    validTo === null
      ? { keyId: keyParts(key.arn).id, expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }
      : { keyId: keyParts(key.arn).id, validTo: awsDate(toMillis(validTo)), expirationModel: 'KEY_MATERIAL_EXPIRES' };
  return kmsCall(x, key, 'ImportKeyMaterial', req, { readOnly: false });
}

/** DeleteImportedKeyMaterial: the key becomes unusable (PendingImport) until material is imported again. */
export const kmsDeleteImportedKeyMaterial = (x: KmsContext, key: KmsKey): CtRecord => kmsKeyAdmin(x, key, 'DeleteImportedKeyMaterial');

/** ScheduleKeyDeletion after `days` (7 to 30). */
export function kmsScheduleKeyDeletion(x: KmsContext, key: KmsKey, days: number, keyId?: string): CtRecord {
  const t = toMillis(x.time);
  return kmsKeyAdmin(x, key, 'ScheduleKeyDeletion', { keyId: keyId ?? keyParts(key.arn).id, pendingWindowInDays: days }, {
    responseElements: { keyId: key.arn, deletionDate: awsDate(t + days * DAY), keyState: 'PendingDeletion', pendingWindowInDays: days },
  });
}

export interface NewCustomKeyStore {
  name: string;
  /** AWS_CLOUDHSM (with clusterId) or EXTERNAL_KEY_STORE (with the proxy's endpoint). */
  type: 'AWS_CLOUDHSM' | 'EXTERNAL_KEY_STORE';
  clusterId?: string;
  xksProxyUriEndpoint?: string;
  xksProxyConnectivity?: 'PUBLIC_ENDPOINT' | 'VPC_ENDPOINT_SERVICE';
}

/** CreateCustomKeyStore (names no key; the new store id in responseElements). */
export function kmsCreateCustomKeyStore(x: KmsContext, store: NewCustomKeyStore, customKeyStoreId?: string): CtRecord {
  const req =
    store.type === 'AWS_CLOUDHSM'
      ? { customKeyStoreName: store.name, clusterId: store.clusterId }
      : {
          customKeyStoreName: store.name,
          customKeyStoreType: 'EXTERNAL_KEY_STORE',
          xksProxyUriEndpoint: store.xksProxyUriEndpoint ?? 'https://xks.example.com',
          xksProxyUriPath: '/kms/xks/v1',
          xksProxyConnectivity: store.xksProxyConnectivity ?? 'PUBLIC_ENDPOINT',
        };
  const id = customKeyStoreId ?? `cks-${x.ids.hex(17)}`;
  return kmsKeylessCall(x, 'CreateCustomKeyStore', req, { readOnly: false, responseElements: { customKeyStoreId: id } });
}

// ---- KMS's own events -----------------------------------------------------------------------------

/** RotateKey: automatic rotation, an AwsServiceEvent by KMS itself (no requestID). */
export function kmsRotateKey(ids: Rng, time: Time, key: KmsKey): CtRecord {
  const k = keyParts(key.arn);
  return apiCall({ ids, time, caller: internalCall(kmsInternal(k.account)), region: k.region, account: k.account }, 'kms', 'RotateKey', null, {
    eventType: 'AwsServiceEvent',
    readOnly: false,
    resources: [kmsResource(key.arn)],
    eventVersion: '1.08',
  });
}

/** DeleteExpiredKeyMaterial: KMS itself deletes imported material at its validTo (an AwsServiceEvent, no request). */
export function kmsDeleteExpiredKeyMaterial(ids: Rng, time: Time, key: KmsKey): CtRecord {
  const k = keyParts(key.arn);
  return apiCall({ ids, time, caller: internalCall(kmsInternal(k.account)), region: k.region, account: k.account }, 'kms', 'DeleteExpiredKeyMaterial', null, {
    eventType: 'AwsServiceEvent',
    readOnly: false,
    resources: [kmsResource(key.arn)],
    eventVersion: '1.08',
  });
}
