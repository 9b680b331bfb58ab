// Delivers findings to the --notify targets, each finding once per target: new findings at or
// above the minimum severity, plus those a previous run failed to deliver.

import { atOrAbove, type Finding } from '../detect/run.js';
import type { Severity } from '../detect/rules.js';
import { readLedger, recordAttempts, type Attempt } from './ledger.js';
import { body, fingerprint } from './message.js';
import { SnsPublisher } from './sns.js';
import type { Target } from './target.js';
import { postWebhook, type WebhookOptions } from './webhook.js';

export interface NotifyOptions {
  targets: Target[];
  secret: string | null;
  minSeverity: Severity;
  /** The DuckDB file that keeps the delivery records. */
  db: string;
  /** How long to wait for another process's lock on `db`. */
  waitMs: number;
  webhook?: Omit<WebhookOptions, 'secret'>;
}

export interface NotifyResult {
  sent: number;
  /** Of `sent`, those a previous run had failed to deliver. */
  retried: number;
  /** Findings at or above the minimum severity already delivered before. */
  skipped: number;
  failed: Array<{ target: string; rule: string; error: string }>;
}

export async function notify(findings: Finding[], options: NotifyOptions): Promise<NotifyResult> {
  const due = new Map(atOrAbove(findings, options.minSeverity).map((f) => [fingerprint(f), f]));
  const ledger = await readLedger(options.db, options.waitMs);
  const result: NotifyResult = { sent: 0, retried: 0, skipped: 0, failed: [] };
  const attempts: Attempt[] = [];
  const sns = new SnsPublisher();
  try {
    for (const target of options.targets) {
      const mine = new Map(ledger.filter((r) => r.target_id === target.id).map((r) => [r.fingerprint, r]));
      const pending = new Map([...due].filter(([fp]) => mine.get(fp)?.status !== 'delivered'));
      result.skipped += due.size - pending.size;
      // Failed before and no longer found (the --since window moved on): still owed.
      for (const row of mine.values()) {
        if (row.status === 'failed' && !pending.has(row.fingerprint) && atOrAbove([row.finding], options.minSeverity).length > 0) {
          pending.set(row.fingerprint, row.finding);
        }
      }
      for (const [fp, finding] of pending) {
        const attempt = await deliver(target, finding, options, sns);
        attempts.push({ fingerprint: fp, targetId: target.id, target: target.label, finding, ...attempt });
        if (attempt.ok) {
          result.sent++;
          if (mine.has(fp)) result.retried++;
        } else result.failed.push({ target: target.label, rule: finding.rule, error: attempt.error! });
      }
    }
  } finally {
    sns.close();
    // Whatever was sent is recorded, even when a later delivery threw.
    await recordAttempts(options.db, options.waitMs, attempts, new Date());
  }
  return result;
}

async function deliver(
  target: Target, finding: Finding, options: NotifyOptions, sns: SnsPublisher,
): Promise<{ ok: boolean; attempts: number; error: string | null }> {
  try {
    if (target.kind === 'webhook') {
      const attempts = await postWebhook(target.url, body(finding), { ...options.webhook, secret: options.secret });
      return { ok: true, attempts, error: null };
    }
    await sns.publish(target.topicArn, target.region, finding);
    return { ok: true, attempts: 1, error: null };
  } catch (err) {
    const e = err as Error & { attempts?: number; $metadata?: { attempts?: number } };
    return { ok: false, attempts: e.attempts ?? e.$metadata?.attempts ?? 1, error: `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` };
  }
}
