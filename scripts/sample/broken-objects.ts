// Broken objects in the sample: a corrupt and a truncated gzip, an S3 error page instead of JSON, a
// JSON without Records, and one record without a valid eventTime among good ones; ingest must name
// them and keep every good record.

import { gzipSync } from 'node:zlib';
import { assumedRole, DAY, HOUR, kmsKeyRead, ec2Describe, Rng, SEC, type Caller, type CtRecord } from '../cloudtrail/index.js';
import { UA, type Catalog } from './organization.js';
import type { BadObject, BadObjectKind } from './types.js';
import { WIN } from './windows.js';
import type { Writer } from './writer.js';

export function writeBadObjects(cat: Catalog, writer: Writer, start: number, days: number, seed: number): BadObject[] {
  const rng = new Rng(seed, 5);
  const bad: BadObject[] = [];
  const spots: [BadObjectKind, string, string, number][] = [
    ['corrupt_gzip', '111111111111', 'us-east-1', 3],
    ['truncated_gzip', '222222222222', 'us-east-1', 5],
    ['not_json', '333333333333', 'us-east-1', 8],
    ['no_records', '111111111111', 'us-west-2', 11],
    ['bad_record', '222222222222', 'eu-west-1', 12],
  ];
  for (const [kind, account, region, d0] of spots) {
    const day = Math.min(days - 1, d0);
    const t0 = start + day * DAY + rng.range(1, 22) * HOUR + rng.range(0, 11) * WIN;
    const delivery = t0 + WIN + rng.range(30, 300) * SEC;
    const path = writer.logPath(rng, account, region, delivery);
    const role = cat.role(account, 'SecurityAuditRole');
    const keys = [...cat.keys.values()].filter((k) => k.account === account && k.region === region);
    const mkRecs = (n: number): CtRecord[] => {
      const out: CtRecord[] = [];
      for (let i = 0; i < n; i++) {
        const t = t0 + i * 7 * SEC;
        const c: Caller = { identity: assumedRole(role, 'bad-object-fixture', { time: t }), sourceIp: cat.ip('prowler'), userAgent: UA.prowler, tls: true };
        const k = keys[i % keys.length]!;
        out.push(i % 4 === 3 ? ec2Describe({ ids: rng, time: t, caller: c, region, account }) : kmsKeyRead({ ids: rng, time: t, caller: c }, k, 'DescribeKey', k.arn));
      }
      return out;
    };
    let body: Buffer;
    const entry: BadObject = { path, kind };
    if (kind === 'corrupt_gzip' || kind === 'truncated_gzip') {
      const gz = gzipSync(JSON.stringify({ Records: mkRecs(40) }));
      if (kind === 'corrupt_gzip') {
        body = Buffer.from(gz);
        const mid = Math.floor(body.length / 2);
        for (let i = mid - 16; i < mid + 16; i++) body[i] = body[i]! ^ 0xa5;
        // also break the trailer so no decoder can accept it silently
        body[body.length - 6] = body[body.length - 6]! ^ 0xff;
      } else body = gz.subarray(0, Math.floor(gz.length / 2));
    } else if (kind === 'not_json') {
      body = gzipSync('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>\n');
    } else if (kind === 'no_records') {
      body = gzipSync(JSON.stringify({ foo: 1 }));
    } else {
      const recs = mkRecs(5);
      const broken = { ...recs[2]!, eventTime: 'not-a-time' };
      recs[2] = broken;
      body = gzipSync(JSON.stringify({ Records: recs }));
      entry.records = recs.length;
      entry.kmsRecords = recs.filter((r) => r.eventSource === 'kms.amazonaws.com').length - 1;
      entry.badRecords = 1;
    }
    writer.put(path, body);
    bad.push(entry);
  }
  return bad;
}
