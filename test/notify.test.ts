// keytrail detect --notify: findings reach a real HTTP listener on 127.0.0.1 and
// SNS (the real SDK against test/helpers/sns-server.ts) exactly once each, signed, retried, and
// recorded in the database; failures exit 4 with the reason and are delivered by the next run.

import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { ingestFolder, sql } from './helpers/ingest.js';
import { startSnsServer, type SnsServer } from './helpers/sns-server.js';
import { at, identity, keyArn, kmsEvent, loadTrail, writeTrail, type LoadedTrail } from './helpers/trail.js';

const A = '111111111111';
const X = '999999999999';
const key = keyArn(A, '1234abcd-12ab-34cd-56ef-1234567890ab');
const SECRET = 'correct horse battery staple';

interface Received { headers: IncomingHttpHeaders; raw: string; answered: number; at: number }

let listeners = 0;

/** A webhook receiver: answers each POST with the next status of `statuses` (the last one repeats). */
async function listener(statuses: number[]) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => {
      const answered = statuses[Math.min(received.length, statuses.length - 1)];
      received.push({ headers: req.headers, raw, answered, at: Date.now() });
      res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered === 200 ? 'ok' : 'try later');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/T000/B${++listeners}/secretpath`;
  return { url, received, statuses, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let trail: LoadedTrail;
let sns: SnsServer;
beforeAll(async () => {
  trail = await loadTrail([
    kmsEvent({ eventName: 'Decrypt', time: at(0), identity: identity.user(A, 'alice'), key }),
    kmsEvent({ eventName: 'DisableKey', time: at(1, 9), identity: identity.user(A, 'alice'), key }),
    kmsEvent({ eventName: 'Decrypt', time: at(2, 3), identity: identity.role(X, 'PartnerRole'), key, sourceIp: '192.0.2.50' }),
    kmsEvent({ eventName: 'DescribeKey', time: at(3, 15), identity: identity.root(A), key, sourceIp: '203.0.113.99' }),
  ]);
  sns = await startSnsServer();
  retryConfig = join(trail.trail, '..', 'retry.json');
  writeFileSync(retryConfig, JSON.stringify({ notifyRetrySeconds: RETRY_SECONDS }));
}, 60_000);
afterAll(async () => {
  await sns?.close();
  trail?.cleanup();
});

/** Webhook retries after 50, 100, 200 ms instead of 0.5, 1, 2 s: the config's notifyRetrySeconds. */
const RETRY_SECONDS = 0.05;
let retryConfig: string;

const SNS_ENV = { AWS_ENDPOINT_URL_SNS: '', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1' };
const detect = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(['detect', '--db', trail.db, '--format', 'json', ...(args.includes('--config') ? [] : ['--config', retryConfig]), ...args], { ...SNS_ENV, AWS_ENDPOINT_URL_SNS: sns.endpoint, ...env });

const body = (r: Received) => JSON.parse(r.raw) as { text: string; finding: Record<string, unknown> };

describe('detect --notify with a webhook', () => {
  it('POSTs each finding once, signed, retrying a 500; a second run posts nothing', async () => {
    const hook = await listener([500, 200]);
    try {
      const first = await detect(['--notify', hook.url, '--notify-secret', SECRET]);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      const findings = JSON.parse(first.stdout) as Array<Record<string, unknown>>;
      expect(findings.map((f) => f.rule)).toEqual(['cross_account_use', 'key_loss', 'root_use']);

      // The first POST was answered 500 and sent again; then one POST per finding.
      expect(hook.received.map((r) => r.answered)).toEqual([500, 200, 200, 200]);
      expect(hook.received[0].raw).toBe(hook.received[1].raw);
      for (const r of hook.received) {
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.headers['x-keytrail-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(r.raw).digest('hex')}`);
      }
      const delivered = hook.received.slice(1).map(body);
      expect(delivered.map((b) => b.finding)).toEqual(findings);
      expect(delivered[0].text).toMatch(/^\[HIGH\] .+ \(cross_account_use\) · by arn:aws:iam::999999999999:role\/PartnerRole from 192\.0\.2\.50 · key arn:aws:kms:/);
      expect(delivered[0].text).not.toContain('\n');

      const ledger = await sql(trail.db, `SELECT rule, status, attempts, target, delivered_at IS NOT NULL AS done FROM notifications ORDER BY rule`);
      expect(ledger.map((r) => [r.rule, r.status, r.attempts, r.done])).toEqual([
        ['cross_account_use', 'delivered', 2, true], ['key_loss', 'delivered', 1, true], ['root_use', 'delivered', 1, true],
      ]);
      // The webhook's path (Slack-style, a secret) is not kept in the database.
      expect(ledger.every((r) => r.target === new URL(hook.url).origin + '/…')).toBe(true);

      const second = await detect(['--notify', hook.url, '--notify-secret', SECRET]);
      expect(second.code).toBe(0);
      expect(second.stdout).toBe(first.stdout);
      expect(hook.received).toHaveLength(4);
    } finally {
      await hook.close();
    }
  });

  it('sends only findings at or above --notify-min-severity (default medium), unsigned without a secret', async () => {
    const high = await listener([200]);
    const low = await listener([200]);
    try {
      expect((await detect(['--notify', high.url, '--notify-min-severity', 'high'])).code).toBe(0);
      expect(high.received.map((r) => body(r).finding.rule)).toEqual(['cross_account_use', 'key_loss']);
      expect(high.received[0].headers['x-keytrail-signature']).toBeUndefined();

      // root_use (medium) is now due as well; the two high ones were delivered already.
      expect((await detect(['--notify', high.url])).code).toBe(0);
      expect(high.received.map((r) => body(r).finding.rule)).toEqual(['cross_account_use', 'key_loss', 'root_use']);

      // A rule that finds nothing here sends nothing even at low.
      expect((await detect(['--notify', low.url, '--notify-min-severity', 'low', '--rule', 'volume_spike'])).code).toBe(0);
      expect(low.received).toHaveLength(0);
    } finally {
      await high.close();
      await low.close();
    }
  });

  it('exits 4 naming the reason when a delivery finally fails; the next run delivers it', async () => {
    const hook = await listener([503]);
    try {
      const failed = await detect(['--notify', hook.url, '--rule', 'key_loss'], { KEYTRAIL_NOTIFY_SECRET: SECRET });
      expect(failed.code).toBe(4);
      expect(failed.stderr).toContain(`could not notify ${new URL(hook.url).origin}/… of key_loss: HTTP 503 Service Unavailable (after 4 attempts)`);
      expect(JSON.parse(failed.stdout)).toHaveLength(1);
      expect(hook.received).toHaveLength(4);
      // Asked again after a wait that doubles: notifyRetrySeconds, then twice, then four times it.
      for (let i = 1; i < 4; i++) expect(hook.received[i].at - hook.received[i - 1].at).toBeGreaterThanOrEqual(RETRY_SECONDS * 1000 * 2 ** (i - 1));
      expect(hook.received[0].headers['x-keytrail-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(hook.received[0].raw).digest('hex')}`);

      hook.statuses.splice(0, 1, 200);
      const retried = await detect(['--notify', hook.url, '--rule', 'key_loss']);
      expect(retried.stderr).toBe('');
      expect(retried.code).toBe(0);
      expect(hook.received.map((r) => r.answered)).toEqual([503, 503, 503, 503, 200]);
      expect(body(hook.received[4]).finding.rule).toBe('key_loss');
      const [row] = await sql(trail.db, `SELECT status, attempts, error FROM notifications WHERE target = $1 AND rule = 'key_loss'`, [`${new URL(hook.url).origin}/…`]);
      expect(row).toEqual({ status: 'delivered', attempts: 5, error: null });

      expect((await detect(['--notify', hook.url, '--rule', 'key_loss'])).code).toBe(0);
      expect(hook.received).toHaveLength(5);
    } finally {
      await hook.close();
    }
  });

  it('a webhook nobody listens on fails with the connection error', async () => {
    const hook = await listener([200]);
    await hook.close();
    const failed = await detect(['--notify', hook.url, '--rule', 'key_loss']);
    expect(failed.code).toBe(4);
    expect(failed.stderr).toMatch(/of key_loss: ECONNREFUSED \(after 4 attempts\)/);
  });

  it('a redirect or a 4xx is not retried: it needs fixing, not asking again', async () => {
    for (const status of [302, 404]) {
      const hook = await listener([status]);
      try {
        const failed = await detect(['--notify', hook.url, '--rule', 'key_loss']);
        expect(failed.code).toBe(4);
        expect(failed.stderr).toMatch(new RegExp(`of key_loss: HTTP ${status} .+ \\(after 1 attempt\\)`));
        expect(hook.received).toHaveLength(1);
      } finally {
        await hook.close();
      }
    }
  });

  it('a finding that goes on (later events, same start) is not sent again', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'keytrail-notify-'));
    const hook = await listener([200]);
    try {
      const db = join(dir, 'kt.duckdb');
      const partner = (day: number) => kmsEvent({ eventName: 'Decrypt', time: at(day, 3), identity: identity.role(X, 'PartnerRole'), key, sourceIp: '192.0.2.50' });
      writeTrail(join(dir, 'day1'), [partner(2)]);
      await ingestFolder(join(dir, 'day1'), db);
      const run = () => runCli(['detect', '--db', db, '--format', 'json', '--rule', 'cross_account_use', '--notify', hook.url]);
      expect((await run()).code).toBe(0);
      writeTrail(join(dir, 'day2'), [partner(4)]);
      await ingestFolder(join(dir, 'day2'), db);
      const later = await run();
      expect(JSON.parse(later.stdout)[0]).toMatchObject({ event_count: 2, first_seen: '2024-05-03T03:00:00Z', last_seen: '2024-05-05T03:00:00Z' });
      expect(hook.received).toHaveLength(1);
    } finally {
      await hook.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes targets and secret from --config; rejects bad targets as usage errors', async () => {
    const hook = await listener([200]);
    try {
      const config = join(trail.trail, '..', 'notify.json');
      writeFileSync(config, JSON.stringify({ trustedAccounts: [A], notify: [hook.url], notifySecret: SECRET, notifyMinSeverity: 'high' }));
      expect((await detect(['--config', config])).code).toBe(0);
      expect(hook.received.map((r) => body(r).finding.rule)).toEqual(['cross_account_use', 'key_loss']);
      expect(hook.received[0].headers['x-keytrail-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(hook.received[0].raw).digest('hex')}`);
    } finally {
      await hook.close();
    }
    const slow = join(trail.trail, '..', 'slow.json');
    writeFileSync(slow, JSON.stringify({ notify: [hook.url], notifyRetrySeconds: -1 }));
    for (const [args, message] of [
      [['--config', slow], 'notifyRetrySeconds must be a number of seconds from 0 to 3600'],
      [['--notify', 'ftp://example.com/x'], 'a webhook is http:// or https://'],
      [['--notify', 'sns:arn:aws:sns:us-east-1:1234:t'], 'not an SNS topic ARN'],
      [['--notify', 'nothing'], 'not a URL'],
      [['--notify-secret', 'x'], '--notify-secret and --notify-min-severity go with --notify'],
      [['--notify', 'https://example.com/', '--notify-min-severity', 'urgent'], "'urgent' is not one of low, medium, high"],
    ] as const) {
      const r = await detect([...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });
});

describe('detect --notify with SNS', () => {
  it('publishes each finding once with severity and rule attributes, through the SDK retry of a 500', async () => {
    const topic = sns.createTopic('keytrail-findings');
    sns.fail(1);
    const first = await detect(['--notify', `sns:${topic}`]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const findings = JSON.parse(first.stdout) as Array<Record<string, unknown>>;
    expect(sns.actions.filter((a) => a === 'Publish')).toHaveLength(4);
    const mine = sns.published.filter((p) => p.topicArn === topic);
    expect(mine.map((p) => JSON.parse(p.message).finding)).toEqual(findings);
    expect(mine.map((p) => p.attributes)).toEqual(findings.map((f) => ({
      severity: { dataType: 'String', value: f.severity }, rule: { dataType: 'String', value: f.rule },
    })));
    expect(mine[0].subject).toBe('keytrail high: cross_account_use');

    expect((await detect(['--notify', `sns:${topic}`])).code).toBe(0);
    expect(sns.published.filter((p) => p.topicArn === topic)).toHaveLength(3);
  });

  it('a topic that does not exist: exit 4 with SNS\'s error', async () => {
    const r = await detect(['--notify', `sns:arn:aws:sns:us-east-1:${A}:no-such-topic`, '--rule', 'key_loss']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('of key_loss: NotFoundException: Topic does not exist');
  });
});
