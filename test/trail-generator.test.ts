import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  DIGEST_OBJECT_RE,
  LOG_OBJECT_RE,
  UNTRUSTED_ACCOUNT,
  generateTrail,
  type InjectedAnomaly,
  type TrailSummary,
} from '../scripts/trail-generator.js';

interface Rec {
  eventSource: string;
  eventName: string;
  eventTime: string;
  eventID: string;
  awsRegion: string;
  sourceIPAddress: string;
  recipientAccountId: string;
  errorCode?: string;
  eventType?: string;
  userIdentity: { type?: string; arn?: string; accountId?: string; invokedBy?: string };
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  resources?: { ARN: string; accountId?: string }[];
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out;
}

function hashTree(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of listFiles(dir)) m.set(f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex'));
  return m;
}

/** Seed under test (override with TRAIL_TEST_SEED to try others). */
const SEED = Number(process.env.TRAIL_TEST_SEED ?? 7);

const tmpDirs: string[] = [];
function tmp(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `keytrail-gen-${tag}-`));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('trail generator', () => {
  let dir: string;
  let summary: TrailSummary;
  let files: string[];
  /** good log objects: path -> records */
  const objects = new Map<string, Rec[]>();
  const all: Rec[] = [];

  beforeAll(() => {
    dir = tmp('main');
    summary = generateTrail({ out: dir, seed: SEED });
    files = listFiles(dir);
    const bad = new Set(summary.badObjects.map((b) => b.path));
    for (const f of files) {
      if (bad.has(f) || DIGEST_OBJECT_RE.test(f)) continue;
      const recs = (JSON.parse(gunzipSync(readFileSync(join(dir, f))).toString('utf8')) as { Records: Rec[] }).Records;
      objects.set(f, recs);
      for (const r of recs) all.push(r);
    }
  });

  it('same seed gives byte-identical output', () => {
    const again = tmp('again');
    const s2 = generateTrail({ out: again, seed: SEED });
    expect(s2).toEqual(summary);
    const h1 = hashTree(dir);
    const h2 = hashTree(again);
    expect([...h2.keys()]).toEqual([...h1.keys()]);
    for (const [k, v] of h1) expect(h2.get(k), k).toBe(v);
    // and a different seed gives a different trail
    const other = tmp('other');
    generateTrail({ out: other, seed: SEED + 1, days: 3, anomalies: false, bad: false });
    const names = new Set(listFiles(other));
    expect(files.filter((f) => names.has(f)).length).toBe(0);
  });

  it('uses the CloudTrail S3 layout and file names', () => {
    const accounts = new Set(summary.accounts);
    let digests = 0;
    for (const f of files) {
      const m = LOG_OBJECT_RE.exec(f);
      if (m) {
        expect(accounts.has(m[1]!)).toBe(true);
        expect(summary.accountRegions[m[1]!]).toContain(m[2]);
        // the YYYY/MM/DD folder is the delivery date in the file name
        expect(`${m[3]}${m[4]}${m[5]}`).toBe(m[6]);
        continue;
      }
      const d = DIGEST_OBJECT_RE.exec(f);
      expect(d, f).not.toBeNull();
      expect(`${d![3]}${d![4]}${d![5]}`).toBe(d![6]);
      digests++;
      const body = JSON.parse(gunzipSync(readFileSync(join(dir, f))).toString('utf8'));
      expect(body.awsAccountId).toBe(d![1]);
      expect(body.digestS3Object).toBe(f);
      expect(Array.isArray(body.logFiles)).toBe(true);
      for (const lf of body.logFiles) expect(objects.has(lf.s3Object)).toBe(true);
    }
    expect(digests).toBe(summary.digestObjects);
    expect(digests).toBeGreaterThan(0);
    expect(objects.size).toBe(summary.objects);
    // delivery a few minutes after the events: some objects just after midnight hold the previous day
    const crossMidnight = [...objects].filter(([f, recs]) => {
      const m = LOG_OBJECT_RE.exec(f)!;
      const folder = `${m[3]}-${m[4]}-${m[5]}`;
      return recs.some((r) => r.eventTime.slice(0, 10) < folder);
    });
    expect(crossMidnight.length).toBeGreaterThan(0);
    for (const [f, recs] of objects) {
      const m = LOG_OBJECT_RE.exec(f)!;
      const delivery = Date.UTC(+m[6]!.slice(0, 4), +m[6]!.slice(4, 6) - 1, +m[6]!.slice(6, 8), +m[7]!.slice(0, 2), +m[7]!.slice(2, 4));
      for (const r of recs) {
        expect(r.recipientAccountId).toBe(m[1]);
        expect(r.awsRegion).toBe(m[2]);
        const t = Date.parse(r.eventTime);
        expect(t).toBeLessThanOrEqual(delivery + 60_000);
        expect(delivery - t).toBeLessThan(20 * 60_000);
      }
    }
  });

  it('org layout puts objects under AWSLogs/o-xxxxxxxxxx/<account>/', () => {
    const d = tmp('org');
    const s = generateTrail({ out: d, seed: SEED, days: 2, org: true, anomalies: false, bad: false, targetMb: 0.5 });
    expect(s.orgId).toMatch(/^o-[a-z0-9]{10}$/);
    const fs = listFiles(d);
    expect(fs.length).toBeGreaterThan(0);
    for (const f of fs) {
      expect(f.startsWith(`AWSLogs/${s.orgId}/`)).toBe(true);
      expect(LOG_OBJECT_RE.test(f) || DIGEST_OBJECT_RE.test(f), f).toBe(true);
    }
    expect(s.anomalies).toEqual([]);
    expect(s.badObjects).toEqual([]);
  });

  it('summary counts match an independent count of the good objects', () => {
    let bytes = 0;
    for (const f of objects.keys()) bytes += statSync(join(dir, f)).size;
    expect(all.length).toBe(summary.records);
    expect(all.filter((r) => r.eventSource === 'kms.amazonaws.com').length).toBe(summary.kmsRecords);
    expect(bytes).toBe(summary.bytesGz);
    expect(new Set(all.map((r) => r.eventID)).size).toBe(all.length);
  });

  it('looks like real traffic: ~45% KMS, mostly small objects, realistic records', () => {
    const share = summary.kmsRecords / summary.records;
    expect(share).toBeGreaterThan(0.38);
    expect(share).toBeLessThan(0.55);
    const sizes = [...objects.values()].map((r) => r.length);
    expect(sizes.filter((n) => n < 50).length / sizes.length).toBeGreaterThan(0.8);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(200);
    expect(summary.bytesGz / 1048576).toBeGreaterThan(1);
    expect(summary.bytesGz / 1048576).toBeLessThan(4);
    const sources = new Set(all.map((r) => r.eventSource));
    for (const s of ['s3.amazonaws.com', 'sts.amazonaws.com', 'ec2.amazonaws.com', 'iam.amazonaws.com', 'lambda.amazonaws.com']) expect(sources).toContain(s);
    const kms = all.filter((r) => r.eventSource === 'kms.amazonaws.com');
    const names = new Set(kms.map((r) => r.eventName));
    for (const n of ['Decrypt', 'Encrypt', 'GenerateDataKey', 'ReEncrypt', 'GenerateDataKeyWithoutPlaintext', 'Sign', 'DescribeKey', 'ListAliases', 'CreateKey', 'CreateAlias', 'EnableKeyRotation', 'TagResource', 'CreateGrant', 'RotateKey'])
      expect(names, n).toContain(n);
    // Decrypt names the key only in resources[]; Encrypt uses an alias
    for (const r of kms.filter((x) => x.eventName === 'Decrypt').slice(0, 500)) {
      expect(r.requestParameters?.keyId).toBeUndefined();
      expect(r.resources?.[0]?.ARN).toMatch(/^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})$/);
    }
    expect(kms.some((r) => r.eventName === 'Encrypt' && String(r.requestParameters?.keyId).startsWith('alias/'))).toBe(true);
    expect(kms.some((r) => r.resources?.some((x) => x.ARN.includes(':key/mrk-')))).toBe(true);
    // identities: assumed roles, IAM users, services acting for users, AWSService, KMS internal
    const types = new Set(all.map((r) => r.userIdentity.type ?? '(none)'));
    for (const t of ['AssumedRole', 'IAMUser', 'AWSService', 'Root', '(none)']) expect(types, t).toContain(t);
    expect(kms.some((r) => r.userIdentity.invokedBy === 's3.amazonaws.com' && r.sourceIPAddress === 's3.amazonaws.com')).toBe(true);
    expect(all.some((r) => r.sourceIPAddress === 'AWS Internal')).toBe(true);
    const rotate = kms.filter((r) => r.eventName === 'RotateKey');
    expect(rotate.length).toBeGreaterThan(0);
    for (const r of rotate) {
      expect(r.eventType).toBe('AwsServiceEvent');
      expect(r.userIdentity).toEqual({ accountId: r.recipientAccountId, invokedBy: 'AWS Internal' });
    }
    // a few AccessDenied errors outside the injected burst
    const burst = summary.anomalies.find((a) => a.kind === 'access_denied_burst')!;
    expect(kms.filter((r) => r.errorCode === 'AccessDenied' && r.userIdentity.arn !== burst.identity_arn).length).toBeGreaterThan(0);
    // steady service volume: hundreds of s3-invoked Decrypts per day, every day
    const perDay = new Map<string, number>();
    for (const r of kms) if (r.eventName === 'Decrypt' && r.userIdentity.invokedBy === 's3.amazonaws.com') perDay.set(r.eventTime.slice(0, 10), (perDay.get(r.eventTime.slice(0, 10)) ?? 0) + 1);
    expect(perDay.size).toBe(summary.days);
    for (const [day, n] of perDay) if (day > summary.start) expect(n, day).toBeGreaterThan(80);
  });

  it('bad objects are really bad', () => {
    const kinds = summary.badObjects.map((b) => b.kind).sort();
    expect(kinds).toEqual(['bad_record', 'corrupt_gzip', 'no_records', 'not_json', 'truncated_gzip']);
    for (const b of summary.badObjects) {
      expect(LOG_OBJECT_RE.test(b.path), b.path).toBe(true);
      const raw = readFileSync(join(dir, b.path));
      if (b.kind === 'corrupt_gzip' || b.kind === 'truncated_gzip') {
        expect(() => gunzipSync(raw)).toThrow();
        continue;
      }
      const text = gunzipSync(raw).toString('utf8');
      if (b.kind === 'not_json') {
        expect(() => JSON.parse(text)).toThrow();
        continue;
      }
      const body = JSON.parse(text) as { Records?: Rec[] };
      if (b.kind === 'no_records') {
        expect(Array.isArray(body.Records)).toBe(false);
        continue;
      }
      const recs = body.Records!;
      expect(recs.length).toBe(b.records);
      const unreadable = recs.filter((r) => Number.isNaN(Date.parse(r.eventTime)));
      expect(unreadable.length).toBe(1);
      expect(unreadable[0]!.eventSource).toBe('kms.amazonaws.com');
      expect(recs.filter((r) => r.eventSource === 'kms.amazonaws.com' && !Number.isNaN(Date.parse(r.eventTime))).length).toBe(b.kmsRecords);
    }
  });

  describe('injected anomalies', () => {
    const matches = (a: InjectedAnomaly, r: Rec): boolean => {
      if (r.eventSource !== 'kms.amazonaws.com' || r.userIdentity.arn !== a.identity_arn) return false;
      if (r.eventTime.slice(0, 10) !== a.day || !a.event_names.includes(r.eventName)) return false;
      if (a.source_ip !== null && r.sourceIPAddress !== a.source_ip) return false;
      if (a.kind === 'access_denied_burst' && r.errorCode !== 'AccessDenied') return false;
      const keys = (r.resources ?? []).filter((x) => x.ARN.includes(':key/'));
      return keys.length === 0 || keys.some((x) => a.key_arns.includes(x.ARN));
    };
    const recsOf = (a: InjectedAnomaly) => all.filter((r) => matches(a, r));
    const one = (kind: string) => {
      const xs = summary.anomalies.filter((a) => a.kind === kind);
      expect(xs.length, kind).toBeGreaterThan(0);
      return xs;
    };

    it('lists every kind, after the 14 days of history, with matching records in the files', () => {
      const kinds = new Set(summary.anomalies.map((a) => a.kind));
      expect([...kinds].sort()).toEqual(
        ['access_denied_burst', 'cross_account_use', 'external_key_use', 'grant_exposure', 'key_policy_exposure', 'key_state', 'new_source_ip', 'root_use', 'volume_spike'].sort(),
      );
      for (const a of summary.anomalies) {
        expect(a.day >= '2024-05-15' && a.day <= '2024-05-21', `${a.kind} ${a.day}`).toBe(true);
        const recs = recsOf(a);
        expect(recs.length, a.kind).toBeGreaterThan(0);
        expect(recs.length, a.kind).toBe(a.count);
        expect(new Set(recs.map((r) => r.eventName))).toEqual(new Set(a.event_names));
        for (const r of recs) expect(r.recipientAccountId).toBe(a.account_id);
      }
    });

    it('volume_spike is ~30x the steady daily baseline', () => {
      const [a] = one('volume_spike');
      const perDay = new Map<string, number>();
      for (const r of all)
        if (r.eventSource === 'kms.amazonaws.com' && r.eventName === 'Decrypt' && r.userIdentity.arn === a!.identity_arn && r.resources?.some((x) => x.ARN === a!.key_arn))
          perDay.set(r.eventTime.slice(0, 10), (perDay.get(r.eventTime.slice(0, 10)) ?? 0) + 1);
      const baseline = [...perDay].filter(([d]) => d < a!.day).map(([, n]) => n);
      expect(baseline.length).toBeGreaterThanOrEqual(14);
      const mean = baseline.reduce((x, y) => x + y, 0) / baseline.length;
      expect(Math.min(...baseline)).toBeGreaterThan(mean * 0.5);
      expect(perDay.get(a!.day)! / mean).toBeGreaterThan(20);
      expect(perDay.get(a!.day)! / mean).toBeLessThan(45);
    });

    it('new_source_ip: the IP was never used by the user before; the look-alike IP was', () => {
      const [a] = one('new_source_ip');
      const before = all.filter((r) => r.userIdentity.arn === a!.identity_arn && r.eventTime.slice(0, 10) < a!.day);
      const ips = new Set(before.map((r) => r.sourceIPAddress));
      expect(ips.size).toBeGreaterThanOrEqual(1);
      expect(ips.size).toBeLessThanOrEqual(2);
      expect(ips.has(a!.source_ip!)).toBe(false);
      const look = summary.benign.find((b) => b.kind === 'known_second_ip')!;
      const lookRecs = all.filter((r) => r.userIdentity.arn === look.identity_arn);
      const firstDay = lookRecs.filter((r) => r.sourceIPAddress === look.source_ip).map((r) => r.eventTime.slice(0, 10)).sort()[0]!;
      expect(firstDay < '2024-05-15').toBe(true);
      expect(lookRecs.filter((r) => r.sourceIPAddress === look.source_ip && r.eventTime.slice(0, 10) >= '2024-05-15').length).toBeGreaterThan(0);
    });

    it('access_denied_burst: 25+ AccessDenied within 10 minutes across 3 keys', () => {
      const [a] = one('access_denied_burst');
      const recs = recsOf(a!);
      expect(recs.length).toBeGreaterThanOrEqual(25);
      const ts = recs.map((r) => Date.parse(r.eventTime)).sort((x, y) => x - y);
      expect(ts.at(-1)! - ts[0]!).toBeLessThanOrEqual(10 * 60_000);
      expect(new Set(recs.map((r) => r.resources![0]!.ARN)).size).toBe(3);
    });

    it('cross_account_use and external_key_use involve account 999999999999 as described', () => {
      const [x] = one('cross_account_use');
      for (const r of recsOf(x!)) {
        expect(r.userIdentity.type).toBe('AssumedRole');
        expect(r.userIdentity.accountId).toBe(UNTRUSTED_ACCOUNT);
        expect(r.userIdentity.arn).toMatch(/^arn:aws:sts::999999999999:assumed-role\//);
        expect(r.recipientAccountId).toBe('111111111111');
        expect(r.resources![0]!.ARN.split(':')[4]).toBe('111111111111');
      }
      const [e] = one('external_key_use');
      for (const r of recsOf(e!)) {
        expect(r.resources![0]!.ARN.split(':')[4]).toBe(UNTRUSTED_ACCOUNT);
        expect(r.resources![0]!.accountId).toBe(UNTRUSTED_ACCOUNT);
        expect(r.recipientAccountId).toBe(r.userIdentity.accountId);
        expect(summary.accounts).toContain(r.recipientAccountId);
      }
    });

    it('key_state, key_policy_exposure, grant_exposure and root_use records have the expected content', () => {
      const ks = one('key_state').flatMap((a) => recsOf(a));
      expect(new Set(ks.map((r) => r.eventName))).toEqual(new Set(['CreateKey', 'ImportKeyMaterial', 'DeleteImportedKeyMaterial', 'DisableKeyRotation', 'DisableKey', 'ScheduleKeyDeletion']));
      for (const r of ks) expect(r.userIdentity.type).toBe('IAMUser');
      const sched = ks.find((r) => r.eventName === 'ScheduleKeyDeletion')!;
      expect(sched.requestParameters!.pendingWindowInDays).toBe(7);
      expect(sched.responseElements!.keyState).toBe('PendingDeletion');
      expect(sched.responseElements!.deletionDate).toBeTruthy();
      expect(ks.find((r) => r.eventName === 'CreateKey')!.requestParameters!.origin).toBe('EXTERNAL');
      const imp = ks.find((r) => r.eventName === 'ImportKeyMaterial')!;
      expect(imp.requestParameters!.expirationModel).toBe('KEY_MATERIAL_EXPIRES');
      expect(imp.requestParameters!.validTo).toBeTruthy();

      type Stmt = { Principal?: { AWS?: string | string[] } | string; Action?: string | string[]; Condition?: unknown };
      const stmts = (r: Rec): Stmt[] => (JSON.parse(String(r.requestParameters!.policy)) as { Statement: Stmt[] }).Statement;
      const principals = (s: Stmt): string[] => (typeof s.Principal === 'string' ? [s.Principal] : [s.Principal?.AWS ?? []].flat());
      const pol = one('key_policy_exposure').flatMap((a) => recsOf(a));
      expect(pol.length).toBe(2);
      expect(pol.some((r) => stmts(r).some((s) => principals(s).includes('*') && s.Action === 'kms:*' && s.Condition === undefined))).toBe(true);
      expect(pol.some((r) => stmts(r).some((s) => principals(s).includes('arn:aws:iam::999999999999:root')))).toBe(true);
      // benign look-alike: Principal "*" restricted by kms:CallerAccount + kms:ViaService
      const benignPol = all.filter(
        (r) =>
          (r.eventName === 'PutKeyPolicy' || r.eventName === 'CreateKey') &&
          typeof r.requestParameters?.policy === 'string' &&
          stmts(r).some((s) => principals(s).includes('*') && JSON.stringify(s.Condition ?? {}).includes('kms:CallerAccount') && JSON.stringify(s.Condition ?? {}).includes('kms:ViaService')),
      );
      expect(benignPol.length).toBeGreaterThanOrEqual(2);

      const grants = one('grant_exposure').flatMap((a) => recsOf(a));
      expect(grants.map((r) => r.requestParameters!.granteePrincipal)).toEqual(['arn:aws:iam::999999999999:role/x']);
      const inOrg = all.filter((r) => r.eventName === 'CreateGrant' && /^arn:aws:iam::(111111111111|222222222222|333333333333):role\//.test(String(r.requestParameters!.granteePrincipal)));
      expect(inOrg.length).toBeGreaterThanOrEqual(2);

      const root = one('root_use').flatMap((a) => recsOf(a));
      expect(new Set(root.map((r) => r.eventName))).toEqual(new Set(['Decrypt', 'DescribeKey']));
      for (const r of root) {
        expect(r.userIdentity.type).toBe('Root');
        expect(r.userIdentity.arn).toBe('arn:aws:iam::222222222222:root');
      }
      // benign EnableKeyRotation by a user
      expect(all.some((r) => r.eventName === 'EnableKeyRotation' && r.userIdentity.type === 'IAMUser')).toBe(true);
    });
  });
});
