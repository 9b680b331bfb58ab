// Small, realistic CloudTrail records for tests that need exact control: an IAM user's KMS call (or
// an S3 object call), built by scripts/cloudtrail with ids from a fixed seed.

import { iamUser, keyArn, kmsCall, s3ObjectCall, seededIds, type KmsContext, type S3ObjectCall } from '../../scripts/cloudtrail/index.js';

export interface RecordOptions {
  eventName?: string;
  eventSource?: string;
  time?: string;
  account?: string;
  region?: string;
  keyId?: string;
  user?: string;
  sourceIp?: string;
  errorCode?: string;
  extra?: Record<string, unknown>;
}

let ids = seededIds('test/helpers/records');
/** Ids from the seed's start again: test/helpers/per-file.ts calls it before each test file. */
export const restartRecordIds = () => void (ids = seededIds('test/helpers/records'));

export function cloudTrailRecord(o: RecordOptions = {}): Record<string, unknown> {
  const account = o.account ?? '111111111111';
  const region = o.region ?? 'us-east-1';
  const user = iamUser({ account, name: o.user ?? 'alice', id: 'AIDAEXAMPLE', accessKeyId: 'AKIAEXAMPLE' });
  const x: KmsContext = {
    ids,
    time: o.time ?? '2024-05-01T10:00:00Z',
    caller: { identity: user, sourceIp: o.sourceIp ?? '203.0.113.10', userAgent: 'aws-cli/2.15.0', tls: false },
    region,
    account,
    error: o.errorCode ? [o.errorCode, `${o.errorCode} for test`] : undefined,
  };
  const source = o.eventSource ?? 'kms.amazonaws.com';
  if (source === 'kms.amazonaws.com') {
    const key = { arn: keyArn(account, o.keyId ?? '1234abcd-12ab-34cd-56ef-1234567890ab', region) };
    return { ...kmsCall(x, key, o.eventName ?? 'Decrypt', { encryptionContext: { app: 'test' } }), ...o.extra };
  }
  if (source !== 's3.amazonaws.com') throw new Error(`cloudTrailRecord builds KMS or S3 records, not ${source}`);
  const eventName = (o.eventName ?? 'GetObject') as S3ObjectCall['eventName'];
  return { ...s3ObjectCall(x, { eventName, bucket: 'b', key: 'k', sseKms: false, bytes: 1024 }, { error: x.error }), ...o.extra };
}

/** `kms` KMS records and `other` S3 records, interleaved. */
export function mixedRecords(kms: number, other: number, o: RecordOptions = {}): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < Math.max(kms, other); i++) {
    if (i < kms) out.push(cloudTrailRecord(o));
    if (i < other) out.push(cloudTrailRecord({ ...o, eventSource: 's3.amazonaws.com' }));
  }
  return out;
}
