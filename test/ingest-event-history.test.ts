// keytrail ingest event-history://: CloudTrail's Event history (LookupEvents) as a source, run as
// the CLI against a local CloudTrail that speaks LookupEvents' wire protocol (test/helpers/
// cloudtrail-server.ts: SigV4, paging, newest first, a rate limit per region) and a local STS and
// Account (test/helpers/kms-server.ts) for the caller's account and enabled regions. The endpoint
// allows more requests a second than AWS's 2 and the CLI is told so (--lookup-rate), as for a
// compatible endpoint: the same pacing and backoff, scaled. RATE where a test proves the pacing
// or the backoff; FAST elsewhere, where a request the endpoint refuses is retried like any other
// throttled one and changes nothing the test checks.
//
// The events are real records from test/fixtures/datasets (AWS's KMS documentation examples,
// Panther's CloudTrail test events, Stratus Red Team's trail-tampering detonations), placed in the
// last days (eventTime, awsRegion and recipientAccountId rewritten: Event history holds 90 days).

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listDays, readThrough } from '../src/source/event-history-days.js';
import { runCli, startCli } from './helpers/cli.js';
import { startCloudTrailServer, type CloudTrailCall, type CloudTrailRecord, type CloudTrailServer } from './helpers/cloudtrail-server.js';
import { sql } from './helpers/ingest.js';
import { startKmsServer, type KmsServer } from './helpers/kms-server.js';
import { datasetRecords, tempDir } from './helpers/log-objects.js';
import { writeTrail } from './helpers/trail.js';

const A = '111122223333';
const E1 = 'us-east-1';
const W1 = 'eu-west-1';
const KEY = 'AKIAHISTORYEXAMPLE';
const NO_LOOKUP = 'AKIANOLOOKUPEXAMPLE';
const KEPT = new Set(['kms.amazonaws.com', 'cloudtrail.amazonaws.com']);
/** LookupEvents requests a second per region, the endpoint's and the CLI's, where a test times them. */
const RATE = 10;
/** ... where none does. */
const FAST = 50;

const dayAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

/** Real records placed on `day` from 00:10 UTC, a minute apart, in `region` of account A. */
function placed(records: Record<string, unknown>[], region: string, day: string): CloudTrailRecord[] {
  return records.map((r, i) => ({
    ...r,
    eventTime: new Date(Date.parse(`${day}T00:10:00Z`) + i * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    awsRegion: region,
    recipientAccountId: A,
  })) as CloudTrailRecord[];
}

const kmsDocs = datasetRecords('awsdocs-kms-developer-guide/kms-cloudtrail-examples.jsonl');
const panther = datasetRecords('panther-analysis-cloudtrail-tests/cloudtrail-test-events.jsonl')
  .filter((r) => KEPT.has(String(r.eventSource)) && typeof r.eventID === 'string' && !Object.keys(r).some((k) => k.startsWith('p_')));
const tampering = ['cloudtrail-stop', 'cloudtrail-delete', 'cloudtrail-event-selectors']
  .flatMap((t) => datasetRecords(`stratus-red-team-detonation-logs/aws.defense-evasion.${t}.json`))
  .filter((r) => r.eventSource === 'cloudtrail.amazonaws.com');

/** The Event history of the tests: 2 regions, a day with two pages of KMS events, an empty day. */
function history(): Record<string, CloudTrailRecord[]> {
  return {
    [E1]: [...placed(kmsDocs.slice(0, 60), E1, dayAgo(4)), ...placed([...kmsDocs.slice(60), ...tampering], E1, dayAgo(3))],
    [W1]: placed(panther, W1, dayAgo(5)),
  };
}

/** What the database must hold: each kept event once, by eventID and the MD5 of its bytes. */
function expectedRows(records: CloudTrailRecord[], eventSource: string): string[] {
  return [...new Set(records.filter((r) => r.eventSource === eventSource)
    .map((r) => `${r.eventID} ${createHash('md5').update(JSON.stringify(r)).digest('hex')}`))].sort();
}

async function storedRows(db: string, table: string): Promise<string[]> {
  const rows = await sql<{ k: string }>(db, `SELECT event_id || ' ' || record_hash AS k FROM ${table} ORDER BY k`);
  return rows.map((r) => r.k);
}

/** The UTC day a LookupEvents call asked for (its StartTime). */
const callDay = (c: CloudTrailCall) => new Date((c.body.StartTime as number) * 1000).toISOString().slice(0, 10);
const dayReads = (calls: CloudTrailCall[]) => calls.filter((c) => c.op === 'LookupEvents' && c.body.StartTime !== undefined && c.outcome === 'ok');

let sts: KmsServer;
let cloudtrail: CloudTrailServer;
let work: { dir: string; cleanup: () => void };
let db: string;

function env(accessKey = KEY): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: accessKey, AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: E1, AWS_PROFILE: '',
    AWS_CONFIG_FILE: join(work.dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(work.dir, 'none'), AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_STS: sts.endpoint, AWS_ENDPOINT_URL_ACCOUNT: sts.endpoint, AWS_ENDPOINT_URL_CLOUDTRAIL: cloudtrail.endpoint,
  };
}

let rate = FAST;
/** The endpoint and the CLI at `r` requests a second from now on. */
const pace = (r: number) => {
  rate = r;
  cloudtrail.setLookupRate(r);
};
const ingest = (args: string[], accessKey?: string) => runCli(['ingest', ...args, '--lookup-rate', String(rate), '--db', db, '--json'], env(accessKey));

beforeAll(async () => {
  sts = await startKmsServer({ callerAccount: A, accessKeys: { [KEY]: 'secret', [NO_LOOKUP]: 'secret' }, enabledRegions: { [A]: [E1, W1] } });
});
afterAll(async () => {
  await sts.stop();
});
beforeEach(async () => {
  work = tempDir('keytrail-history-');
  db = join(work.dir, 'keytrail.duckdb');
  cloudtrail = await startCloudTrailServer({}, { accessKeys: { [KEY]: 'secret', [NO_LOOKUP]: 'secret' }, account: A, events: history(), lookupRate: FAST });
  rate = FAST;
});
afterEach(async () => {
  await cloudtrail.stop();
  work.cleanup();
});

describe('the days of Event history', () => {
  const now = new Date('2024-06-10T00:30:00Z');
  const days = async (since: string | null, until: string | null) => {
    const out = [];
    for await (const ref of listDays(`event-history://${A}/${E1}`, { since, until }, now)) out.push(ref);
    return out;
  };

  it('lists one object per day from 90 days ago to today, never before nor after', async () => {
    const all = await days(null, null);
    expect(all).toHaveLength(91);
    expect(all[0]).toMatchObject({ uri: `event-history://${A}/${E1}/2024-03-12`, day: '2024-03-12', etag: 'complete' });
    expect(all.at(-1)!.day).toBe('2024-06-10');
    expect((await days('2023-01-01', '2030-01-01')).map((r) => r.day)).toEqual(all.map((r) => r.day));
    expect((await days('2024-06-01', '2024-06-03')).map((r) => r.day)).toEqual(['2024-06-01', '2024-06-02', '2024-06-03']);
  });

  it('names a day open until an hour after it ended, and says up to when it was read', async () => {
    const all = await days('2024-06-08', null);
    expect(all.map((r) => r.etag)).toEqual(['complete', 'open 2024-06-10T00:30:00.000Z', 'open 2024-06-10T00:30:00.000Z']);
    expect(readThrough('2024-06-08', 'complete')).toBe('2024-06-09T00:00:00Z');
    expect(readThrough('2024-06-09', all[1].etag)).toBe('2024-06-10T00:30:00Z');
  });
});

describe('keytrail ingest event-history://', () => {
  it('loads exactly the KMS and CloudTrail events the endpoint holds, within its rate, and a second run reads only what is new', async () => {
    pace(RATE);
    const first = await ingest([`event-history://${E1},${W1}`, '--since', dayAgo(7)]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout) as { source: string; objects: number; kmsEvents: number };
    expect(summary.source).toBe(`event-history://${A}`);
    expect(summary.objects).toBe(2 * 8);

    const held = Object.values(history()).flat();
    expect(await storedRows(db, 'kms_events')).toEqual(expectedRows(held, 'kms.amazonaws.com'));
    expect(await storedRows(db, 'trail_events')).toEqual(expectedRows(held, 'cloudtrail.amazonaws.com'));
    expect(summary.kmsEvents).toBe(expectedRows(held, 'kms.amazonaws.com').length);

    // Every request signed, both event sources asked for every day, two pages where 60 events are.
    const reads = dayReads(cloudtrail.calls);
    expect(new Set(reads.map((c) => c.accessKey))).toEqual(new Set([KEY]));
    for (const region of [E1, W1]) {
      const mine = reads.filter((c) => c.region === region);
      const pages = (source: string, day: string) => mine.filter((c) => callDay(c) === day && (c.body.LookupAttributes as Array<{ AttributeValue: string }>)[0].AttributeValue === source).length;
      for (let n = 0; n <= 7; n++) expect(pages('cloudtrail.amazonaws.com', dayAgo(n))).toBe(1);
      expect(pages('kms.amazonaws.com', dayAgo(4))).toBe(region === E1 ? 2 : 1);
      expect(mine.every((c) => c.body.MaxResults === 50)).toBe(true);
      // Never above RATE requests a second in a region: the server's bucket refused none.
      const all = cloudtrail.calls.filter((c) => c.region === region);
      expect(all.filter((c) => c.outcome === 'ThrottlingException')).toEqual([]);
      expect(all.length - 1).toBeLessThanOrEqual(RATE * ((all.at(-1)!.at - all[0].at) / 1000));
    }

    // The manifest: one row per region and day, the open days named so.
    const manifest = await sql<{ object_uri: string; etag: string; kms_events: number }>(db, 'SELECT object_uri, etag, kms_events FROM ingested_objects ORDER BY object_uri');
    expect(manifest.find((m) => m.object_uri === `event-history://${A}/${E1}/${dayAgo(4)}`)).toMatchObject({
      etag: 'complete', kms_events: kmsDocs.slice(0, 60).filter((r) => r.eventSource === 'kms.amazonaws.com').length,
    });
    const open = manifest.filter((m) => m.etag !== 'complete').map((m) => m.object_uri.split('/').pop()!);
    expect(open).toContain(dayAgo(0));

    // New events reach Event history; the second run (no --since) reads the open days only.
    const fresh = placed(kmsDocs.slice(0, 3).map((r) => ({ ...r, eventID: `${String(r.eventID).slice(0, -4)}beef` })), E1, dayAgo(0))
      .map((r) => ({ ...r, eventTime: new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z') }));
    cloudtrail.addEvents(E1, fresh);
    const before = cloudtrail.calls.length;
    const second = await ingest([`event-history://${E1},${W1}`]);
    expect(second.code).toBe(0);
    const again = dayReads(cloudtrail.calls.slice(before));
    const lastListed = manifest.map((m) => m.object_uri.split('/').pop()!).sort().at(-1)!;
    const expected = new Set([...open, ...[dayAgo(0)].filter((d) => d > lastListed)]);
    expect(new Set(again.map(callDay))).toEqual(expected);
    expect(JSON.parse(second.stdout).newRows).toBe(3);
    expect(await storedRows(db, 'kms_events')).toEqual(expectedRows([...held, ...fresh], 'kms.amazonaws.com'));
  }, 120_000);

  it('run killed in the middle of a region and run again: every event exactly once, committed days not read again', async () => {
    const since = dayAgo(6);
    // The second page of the day with 60 KMS events is never answered.
    const page = cloudtrail.hold((c) => c.region === E1 && c.body.NextToken !== undefined);
    const run = startCli(['ingest', `event-history://${E1},${W1}`, '--since', since, '--db', db, '--batch-objects', '1', '--lookup-rate', String(rate)], env());
    await page.arrived;
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');

    const committed = await sql<{ object_uri: string; etag: string }>(db, 'SELECT object_uri, etag FROM ingested_objects');
    const done = new Set(committed.filter((m) => m.etag === 'complete').map((m) => m.object_uri));
    expect([...done].some((u) => u.includes(`/${E1}/${dayAgo(4)}`))).toBe(false); // the held day is not
    const before = cloudtrail.calls.length;
    const second = await ingest([`event-history://${E1},${W1}`, '--since', since]);
    expect(second.code).toBe(0);

    const held = Object.values(history()).flat();
    expect(await storedRows(db, 'kms_events')).toEqual(expectedRows(held, 'kms.amazonaws.com'));
    expect(await storedRows(db, 'trail_events')).toEqual(expectedRows(held, 'cloudtrail.amazonaws.com'));
    const reread = dayReads(cloudtrail.calls.slice(before)).map((c) => `event-history://${A}/${c.region}/${callDay(c)}`);
    expect(reread.filter((u) => done.has(u))).toEqual([]);
    expect(reread).toContain(`event-history://${A}/${E1}/${dayAgo(4)}`);
  }, 120_000);

  it('stores once the events a trail delivered and Event history holds too', async () => {
    const trail = join(work.dir, 'trail');
    const held = history()[E1];
    writeTrail(trail, held);
    expect((await runCli(['ingest', trail, '--db', db, '--json'])).code).toBe(0);
    const fromTrail = await storedRows(db, 'kms_events');

    const out = await ingest([`event-history://${E1}`, '--since', dayAgo(4), '--until', dayAgo(3)]);
    expect(out.code).toBe(0);
    const summary = JSON.parse(out.stdout) as { kmsEvents: number; newRows: number };
    expect(summary.kmsEvents).toBe(expectedRows(held, 'kms.amazonaws.com').length);
    expect(summary.newRows).toBe(0);
    expect(await storedRows(db, 'kms_events')).toEqual(fromTrail);
    expect(await storedRows(db, 'trail_events')).toEqual(expectedRows(held, 'cloudtrail.amazonaws.com'));
    // The rows stay the trail's; Event history is noted as another object that delivered them.
    const [{ n }] = await sql<{ n: number }>(db, `SELECT count(*) AS n FROM kms_events WHERE source_object LIKE 'event-history://%'`);
    expect(n).toBe(0);
    const [{ r }] = await sql<{ r: number }>(db, `SELECT count(DISTINCT event_id) AS r FROM event_redeliveries WHERE object_uri LIKE 'event-history://%'`);
    expect(r).toBeGreaterThan(0);
  }, 120_000);

  it('retries throttled requests with backoff and loses nothing', async () => {
    pace(RATE);
    cloudtrail.throttle(E1, 3);
    const out = await ingest([`event-history://${E1}`, '--since', dayAgo(4), '--until', dayAgo(3)]);
    expect(out.code).toBe(0);
    const throttled = cloudtrail.calls.filter((c) => c.outcome === 'ThrottlingException');
    expect(throttled).toHaveLength(3);
    // Each throttled request was asked again, after a pause: pacing alone would allow one request
    // interval (1000 / RATE ms); the backoff, doubled on each throttle, makes it at least two.
    for (const t of throttled) {
      const retry = cloudtrail.calls.find((c) => c.at > t.at && c.outcome === 'ok' && JSON.stringify(c.body) === JSON.stringify(t.body));
      expect(retry).toBeDefined();
      expect(retry!.at - t.at).toBeGreaterThanOrEqual(2 * (1000 / RATE));
    }
    expect(await storedRows(db, 'kms_events')).toEqual(expectedRows(history()[E1], 'kms.amazonaws.com'));
  }, 120_000);

  it('without cloudtrail:LookupEvents: a clear error naming the permission, exit 2, nothing loaded', async () => {
    cloudtrail.denyAccessKey(NO_LOOKUP);
    const out = await ingest([`event-history://${E1}`, '--since', dayAgo(2)], NO_LOOKUP);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('AccessDeniedException');
    expect(out.stderr).toContain('cloudtrail:LookupEvents');
    expect(out.stdout).toBe('');
  });

  it("reads the account's enabled regions by default, and leaves out a region that is denied, saying so", async () => {
    cloudtrail.deny(W1);
    const out = await ingest(['event-history://', '--since', dayAgo(3), '--until', dayAgo(3)]);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain(`event-history://${W1} left out: AccessDeniedException`);
    expect(new Set(dayReads(cloudtrail.calls).map((c) => c.region))).toEqual(new Set([E1]));
    const explicit = await ingest(['event-history://', '--regions', `${E1},${W1}`, '--since', dayAgo(3), '--until', dayAgo(3)]);
    expect(explicit.code).toBe(2);
    expect(explicit.stderr).toContain(`event-history://${W1}: AccessDeniedException`);
  }, 60_000);

  it('detect, report, status and verify work on what it loaded', async () => {
    const loaded = await ingest([`event-history://${E1},${W1}`, '--since', dayAgo(5), '--until', dayAgo(3)]);
    expect(loaded.stdout).not.toContain('"quarantined": [\n');
    expect(loaded.code).toBe(0);
    const detect = await runCli(['detect', '--db', db, '--format', 'json']);
    const rules = new Set((JSON.parse(detect.stdout) as Array<{ rule: string }>).map((f) => f.rule));
    expect(rules).toContain('trail_logging_stopped');
    expect(rules).toContain('trail_deleted');

    const report = await runCli(['report', '--db', db, '--format', 'json']);
    expect(report.code).toBe(0);
    const body = JSON.parse(report.stdout) as { summary: { calls: number }; ingest: { event_history_days: number; event_history_events: number } };
    expect(body.summary.calls).toBe(expectedRows(Object.values(history()).flat(), 'kms.amazonaws.com').length);
    expect(body.ingest).toMatchObject({ event_history_days: 6, event_history_events: body.summary.calls });
    const markdown = await runCli(['report', '--db', db, '--format', 'md']);
    expect(markdown.stdout).toContain('CloudTrail Event history');

    const status = await runCli(['status', '--db', db, '--format', 'json']);
    const s = JSON.parse(status.stdout) as { event_history: Array<Record<string, unknown>> };
    expect(s.event_history).toEqual([
      { account_id: A, aws_region: W1, first_day: dayAgo(5), last_day: dayAgo(3), days: 3, events: panther.length, kms_events: panther.filter((r) => r.eventSource === 'kms.amazonaws.com').length, problem_days: 0, read_through: `${dayAgo(2)}T00:00:00Z`, lag_seconds: expect.any(Number) },
      { account_id: A, aws_region: E1, first_day: dayAgo(5), last_day: dayAgo(3), days: 3, events: kmsDocs.length - 2 + tampering.length, kms_events: 67, problem_days: 0, read_through: `${dayAgo(2)}T00:00:00Z`, lag_seconds: expect.any(Number) },
    ]);
    const table = await runCli(['status', '--db', db]);
    expect(table.stdout).toContain('Event history read per account and region');

    const verify = await runCli(['verify', `event-history://${E1}`]);
    expect(verify.code).toBe(2);
    expect(verify.stderr).toContain('no digest files');
  }, 120_000);
});
