// The KMS Decrypt records AWS services write when they decrypt for a caller, in the shapes AWS
// documents them:
// - Secrets Manager, for GetSecretValue: the caller's userIdentity with invokedBy, sourceIPAddress and
//   userAgent secretsmanager.amazonaws.com, encryptionContext {SecretARN, SecretVersionId}.
// - Parameter Store, for a SecureString read (GetParameter(s) WithDecryption): the caller's
//   userIdentity, sourceIPAddress "AWS Internal", encryptionContext {PARAMETER_ARN}.
// - S3, for an SSE-KMS object read: the caller's userIdentity with invokedBy internal.amazonaws.com
//   (test/fixtures/datasets/awsdocs-kms-developer-guide, line 65), encryptionContext {aws:s3:arn}.
// Plus the Decrypts a real Secrets Manager / Systems Manager record implies (the Stratus Red Team
// detonation logs hold those API calls, not the KMS events they cause).

import { createHash } from 'node:crypto';
import { identity, keyArn, kmsEvent, type CtRecord, type UserIdentity } from './trail.js';

const versionId = (secretArn: string): string => {
  const h = createHash('md5').update(secretArn).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

export function secretDecrypt(caller: UserIdentity, secretArn: string, time: string, key: string): CtRecord {
  return kmsEvent({
    eventName: 'Decrypt', time, key, identity: identity.via(caller, 'secretsmanager.amazonaws.com'),
    requestParameters: { encryptionContext: { SecretARN: secretArn, SecretVersionId: versionId(secretArn) }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
  });
}

export function parameterDecrypt(caller: UserIdentity, parameterArn: string, time: string, key: string): CtRecord {
  return kmsEvent({
    eventName: 'Decrypt', time, key, identity: caller, sourceIp: 'AWS Internal',
    requestParameters: { encryptionContext: { PARAMETER_ARN: parameterArn }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
  });
}

export function s3Decrypt(caller: UserIdentity, objectArn: string, time: string, key: string): CtRecord {
  return kmsEvent({
    eventName: 'Decrypt', time, key, identity: identity.via(caller, 'internal.amazonaws.com'),
    requestParameters: { encryptionContext: { 'aws:s3:arn': objectArn } },
  });
}

/**
 * The KMS Decrypts that a real Secrets Manager or Systems Manager record causes: one per
 * GetSecretValue, one per parameter a GetParameter(s) WithDecryption read (these are SecureString
 * parameters). BatchGetSecretValue records name a filter, not the secrets returned: nothing.
 * Same caller, time, account and region as the record; `keyIds` stand for the account's
 * aws/secretsmanager and aws/ssm keys, which the records do not name. Anything else gives [].
 */
export function impliedDecrypts(record: CtRecord, keyIds: { secretsmanager: string; ssm: string }): CtRecord[] {
  const caller = record.userIdentity as UserIdentity;
  const time = record.eventTime as string;
  const params = (record.requestParameters ?? {}) as Record<string, unknown>;
  const account = record.recipientAccountId as string;
  const region = record.awsRegion as string;
  const keys = { secretsmanager: keyArn(account, keyIds.secretsmanager, region), ssm: keyArn(account, keyIds.ssm, region) };
  const place = (r: CtRecord): CtRecord => ({ ...r, awsRegion: region, recipientAccountId: account });
  if (record.errorCode) return [];
  if (record.eventSource === 'secretsmanager.amazonaws.com' && record.eventName === 'GetSecretValue' && typeof params.secretId === 'string') {
    return [place(secretDecrypt(caller, params.secretId, time, keys.secretsmanager))];
  }
  if (record.eventSource === 'ssm.amazonaws.com' && ['GetParameter', 'GetParameters'].includes(record.eventName as string) && params.withDecryption === true) {
    const resources = (record.resources ?? []) as Array<{ ARN?: string }>;
    return resources.map((r) => r.ARN).filter((a): a is string => typeof a === 'string' && a.includes(':parameter/'))
      .map((arn) => place(parameterDecrypt(caller, arn, time, keys.ssm)));
  }
  return [];
}
