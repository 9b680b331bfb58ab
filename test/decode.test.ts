import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeObject, ObjectError } from '../src/decode/decode.js';
import { scanRecords } from '../src/decode/scan.js';
import { normalizeKmsRecord, parseEventTime } from '../src/kms/normalize.js';

const bytes = (text: string) => Buffer.from(text);
const kms = (over: Record<string, unknown> = {}) => ({
  eventVersion: '1.08', eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', eventTime: '2024-05-01T10:00:00Z',
  eventID: 'e-1', awsRegion: 'us-east-1', recipientAccountId: '111111111111',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111111111111:user/alice', accountId: '111111111111' },
  resources: [{ ARN: 'arn:aws:kms:us-east-1:111111111111:key/k1', type: 'AWS::KMS::Key' }],
  ...over,
});

describe('scanRecords', () => {
  it('finds each record, whatever its strings hold', () => {
    const records = [{ a: 'x}]"{' }, { b: ['\\', { c: '"' }] }, 1, null];
    const text = JSON.stringify({ Other: { x: [1] }, Records: records, After: 'y' });
    const spans = scanRecords(bytes(text));
    expect(spans.map((s) => JSON.parse(text.slice(s.start, s.end)))).toEqual(records);
    expect(spans.map((s) => s.isObject)).toEqual([true, true, false, false]);
  });

  it('reads pretty-printed objects with a byte order mark', () => {
    const text = '\ufeff' + JSON.stringify({ Records: [{ a: 1 }, { b: 2 }] }, null, 2);
    expect(scanRecords(bytes(text))).toHaveLength(2);
  });

  it.each([
    ['', 'empty object'],
    ['[1,2]', 'does not start with {'],
    ['{"Records":[{"a":1},', 'truncated JSON'],
    ['{"Records":[{"a":"x', 'truncated JSON'],
    ['{"foo":1}', 'no Records array'],
    ['{"Records":[{"a":1}]} trailing', 'after the top-level object'],
    ['{"Records":[{"a":1} {"b":2}]}', 'expected , or ]'],
    ['not json at all', 'does not start with {'],
  ])('rejects %j with a clear reason', (text, reason) => {
    expect(() => scanRecords(bytes(text))).toThrow(ObjectError);
    expect(() => scanRecords(bytes(text))).toThrow(reason);
  });
});

describe('decodeObject', () => {
  it('keeps only KMS events, counts every record', () => {
    const records = [kms(), { eventSource: 's3.amazonaws.com', eventName: 'GetObject', note: 'kms.amazonaws.com' }, kms({ eventID: 'e-2' })];
    const decoded = decodeObject(gzipSync(JSON.stringify({ Records: records })), 's3://b/k');
    expect(decoded.events).toBe(3);
    expect(decoded.rows.map((r) => r.event_id)).toEqual(['e-1', 'e-2']);
    expect(decoded.rows[0].source_object).toBe('s3://b/k');
    expect(decoded.badRecords).toEqual([]);
  });

  it('finds a KMS record whose eventSource a writer escaped', () => {
    const text = JSON.stringify({ Records: [kms()] }).replace('"kms.amazonaws.com"', '"\\u006bms.amazonaws.com"');
    expect(decodeObject(bytes(text), 'x').rows).toHaveLength(1);
  });

  it('reports unreadable KMS records and keeps the good ones', () => {
    const records = [kms(), kms({ eventID: 'bad', eventTime: 'not-a-time' }), 'a string', kms({ eventID: 'e-3' })];
    const decoded = decodeObject(gzipSync(JSON.stringify({ Records: records })), 'x');
    expect(decoded.rows.map((r) => r.event_id)).toEqual(['e-1', 'e-3']);
    expect(decoded.badRecords).toEqual([
      'record 2 (eventID bad): eventTime "not-a-time" is not a timestamp',
      'record 3: not a JSON object',
    ]);
  });

  it('names corrupt and truncated gzip', () => {
    const gz = gzipSync(JSON.stringify({ Records: [kms()] }));
    expect(() => decodeObject(gz.subarray(0, gz.length >> 1), 'x')).toThrow(/gzip: .*truncated object/);
    const flipped = Buffer.from(gz);
    for (let i = 12; i < flipped.length - 8; i++) flipped[i] ^= 0x55;
    expect(() => decodeObject(flipped, 'x')).toThrow(/^gzip: /);
  });
});

describe('normalizeKmsRecord', () => {
  const row = (over: Record<string, unknown>) => normalizeKmsRecord(kms(over), 'h', 'src');

  it('folds an assumed-role session into its role', () => {
    const identity = {
      type: 'AssumedRole', arn: 'arn:aws:sts::111111111111:assumed-role/App/i-123', accountId: '111111111111',
      sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111111111111:role/path/App', userName: 'App' } },
    };
    expect(row({ userIdentity: identity })).toMatchObject({
      identity_arn: 'arn:aws:iam::111111111111:role/path/App', principal_arn: identity.arn, user_name: 'App',
    });
    // Without a sessionIssuer (partial records), the role comes from the session ARN.
    expect(row({ userIdentity: { type: 'AssumedRole', arn: identity.arn } }).identity_arn).toBe('arn:aws:iam::111111111111:role/App');
  });

  it('names a service caller by the service, and KMS itself as AWS Internal', () => {
    expect(row({ userIdentity: { type: 'AWSService', invokedBy: 'workmail.amazonaws.com' } }).identity_arn).toBe('workmail.amazonaws.com');
    const own = row({ userIdentity: { accountId: '111111111111', invokedBy: 'AWS Internal' }, eventName: 'RotateKey' });
    expect(own).toMatchObject({ identity_arn: 'AWS Internal', principal_type: null, invoked_by: 'AWS Internal' });
  });

  it('finds the key in resources, an ARN keyId, or a bare key id in the caller account', () => {
    expect(row({})).toMatchObject({ key_arn: 'arn:aws:kms:us-east-1:111111111111:key/k1', key_id: 'k1', key_account: '111111111111' });
    const arn = 'arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(row({ resources: undefined, requestParameters: { keyId: arn } }).key_arn).toBe(arn);
    expect(row({ resources: undefined, requestParameters: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' } }).key_arn).toBe(
      'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    expect(row({ resources: undefined, requestParameters: { keyId: 'alias/app' } }).key_arn).toBeNull();
    expect(row({ resources: [{ ARN: 'arn:aws:kms:us-east-1:111111111111:alias/app' }], requestParameters: null }).key_arn).toBeNull();
  });

  it('reads odd types without failing', () => {
    const r = row({ readOnly: 'true', requestParameters: 'a string', eventID: undefined, recipientAccountId: 111111111111 });
    expect(r).toMatchObject({ read_only: true, request_parameters: 'a string', event_id: 'keytrail:h', account_id: '111111111111' });
    expect(row({ readOnly: null }).read_only).toBeNull();
  });

  it.each([
    ['2024-05-01T10:00:00Z', '2024-05-01 10:00:00.000000'],
    ['2024-05-01T10:00:00.123Z', '2024-05-01 10:00:00.123000'],
    ['2025-03-05 21:19:44.000000000', '2025-03-05 21:19:44.000000'],
    ['2021-10-19 00:56:05', '2021-10-19 00:56:05.000000'],
    ['2024-05-01T01:00:00+02:00', '2024-04-30 23:00:00.000000'],
    ['2024-13-01T00:00:00Z', null],
    ['yesterday', null],
    [1714557600, null],
  ])('parses eventTime %j', (value, expected) => {
    expect(parseEventTime(value)).toBe(expected);
  });
});
