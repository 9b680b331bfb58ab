// Small, realistic CloudTrail records for tests that need exact control.

import { randomUUID } from 'node:crypto';

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

export function cloudTrailRecord(o: RecordOptions = {}): Record<string, unknown> {
  const account = o.account ?? '111111111111';
  const region = o.region ?? 'us-east-1';
  const source = o.eventSource ?? 'kms.amazonaws.com';
  const keyArn = `arn:aws:kms:${region}:${account}:key/${o.keyId ?? '1234abcd-12ab-34cd-56ef-1234567890ab'}`;
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${account}:user/${o.user ?? 'alice'}`,
      accountId: account, accessKeyId: 'AKIAEXAMPLE', userName: o.user ?? 'alice',
    },
    eventTime: o.time ?? '2024-05-01T10:00:00Z',
    eventSource: source,
    eventName: o.eventName ?? (source === 'kms.amazonaws.com' ? 'Decrypt' : 'GetObject'),
    awsRegion: region,
    sourceIPAddress: o.sourceIp ?? '203.0.113.10',
    userAgent: 'aws-cli/2.15.0',
    ...(o.errorCode ? { errorCode: o.errorCode, errorMessage: `${o.errorCode} for test` } : {}),
    requestParameters: source === 'kms.amazonaws.com' ? { encryptionContext: { app: 'test' } } : { bucketName: 'b', key: 'k' },
    responseElements: null,
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: true,
    resources: source === 'kms.amazonaws.com' ? [{ accountId: account, type: 'AWS::KMS::Key', ARN: keyArn }] : [],
    eventType: 'AwsApiCall',
    managementEvent: source === 'kms.amazonaws.com',
    recipientAccountId: account,
    eventCategory: 'Management',
    ...o.extra,
  };
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
