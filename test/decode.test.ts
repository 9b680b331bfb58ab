import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeObject, ObjectError } from '../src/decode/decode.js';
import { scanRecords } from '../src/decode/scan.js';

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
  const lines = (staged: Uint8Array) => Buffer.from(staged).toString().split('\n').filter(Boolean).map((l) => JSON.parse(l));

  it('stages KMS and CloudTrail records as they are, counts every record', () => {
    const trail = { eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', eventID: 't-1' };
    const records = [kms(), { eventSource: 's3.amazonaws.com', eventName: 'GetObject' }, kms({ eventID: 'e-2' }), trail];
    const decoded = decodeObject(gzipSync(JSON.stringify({ Records: records })), 7);
    expect(decoded.events).toBe(4);
    expect(decoded.kept).toEqual([1, 3, 4]);
    const staged = lines(decoded.staged);
    expect(staged.map((l) => [l.o, l.n, l.r])).toEqual([[7, 1, records[0]], [7, 3, records[2]], [7, 4, trail]]);
    expect(staged[0].h).toBe(createHash('md5').update(JSON.stringify(records[0])).digest('hex'));
    expect(decoded.badRecords).toEqual([]);
  });

  it('stages a record whose eventSource a writer escaped, and folds a pretty-printed one onto one line', () => {
    const escaped = JSON.stringify({ Records: [kms()] }).replace('"kms.amazonaws.com"', '"\\u006bms.amazonaws.com"');
    expect(decodeObject(bytes(escaped), 0).kept).toEqual([1]);
    const pretty = JSON.stringify({ Records: [kms(), kms({ eventID: 'e-2' })] }, null, 2);
    const staged = lines(decodeObject(bytes(pretty), 0).staged);
    expect(staged.map((l) => l.r.eventID)).toEqual(['e-1', 'e-2']);
  });

  it('stages the identity of other records once, for the principals directory', () => {
    const role = {
      type: 'AssumedRole', principalId: 'AROADECODETEST0000001:s1', arn: 'arn:aws:sts::111111111111:assumed-role/R/s1',
      sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROADECODETEST0000001', arn: 'arn:aws:iam::111111111111:role/p/R' } },
    };
    const other = (userIdentity: unknown) => ({ eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', userIdentity });
    const decoded = decodeObject(bytes(JSON.stringify({ Records: [other(role), other(role), other({ type: 'AWSService', invokedBy: 'x' })] })), 0);
    expect(decoded.kept).toEqual([]);
    expect(lines(decoded.staged)).toEqual([{ o: 0, n: 1, r: { userIdentity: role } }]);
  });

  it('reports records that are not objects', () => {
    const decoded = decodeObject(gzipSync(JSON.stringify({ Records: [kms(), 'a string', kms({ eventID: 'e-3' })] })), 0);
    expect(decoded.kept).toEqual([1, 3]);
    expect(decoded.badRecords).toEqual(['record 2: not a JSON object']);
  });

  it('names corrupt and truncated gzip', () => {
    const gz = gzipSync(JSON.stringify({ Records: [kms()] }));
    expect(() => decodeObject(gz.subarray(0, gz.length >> 1), 0)).toThrow(/gzip: .*truncated object/);
    const flipped = Buffer.from(gz);
    for (let i = 12; i < flipped.length - 8; i++) flipped[i] ^= 0x55;
    expect(() => decodeObject(flipped, 0)).toThrow(/^gzip: /);
  });

  it('refuses a gzip bomb while inflating it', () => {
    const bomb = gzipSync(Buffer.alloc(64 * 2 ** 20, 0x20)); // 64 MB of spaces, 64 KB of gzip
    expect(bomb.byteLength).toBeLessThan(2 ** 20);
    expect(() => decodeObject(bomb, 0, 8 * 2 ** 20)).toThrow(/too large: more than 8 MB uncompressed/);
  });
});
