// The notifications table: what was delivered where. Read on a read-only connection; written on a
// connection opened for writing only for the moment it takes, so it does not hold the database
// while webhooks answer.

import { existsSync } from 'node:fs';
import type { Finding } from '../detect/run.js';
import { Store } from '../store/db.js';
import { openStore } from '../store/schema.js';

export interface LedgerRow {
  fingerprint: string;
  target_id: string;
  status: 'delivered' | 'failed';
  attempts: number;
  finding: Finding;
}

export interface Attempt {
  fingerprint: string;
  targetId: string;
  target: string;
  finding: Finding;
  ok: boolean;
  attempts: number;
  error: string | null;
}

/** Every row; none when the database or the table does not exist yet. */
export async function readLedger(db: string, waitMs: number): Promise<LedgerRow[]> {
  if (!existsSync(db)) return [];
  const store = await Store.open(db, { readOnly: true, waitMs });
  try {
    return await store.all<LedgerRow & Record<string, unknown>>('SELECT fingerprint, target_id, status, attempts, finding FROM notifications');
  } catch (err) {
    if (/Table with name notifications does not exist/i.test((err as Error).message)) return [];
    throw err;
  } finally {
    store.close();
  }
}

/** Records a run's attempts in one transaction; a delivered row stays delivered. */
export async function recordAttempts(db: string, waitMs: number, attempts: Attempt[], now: Date): Promise<void> {
  if (attempts.length === 0) return;
  const at = now.toISOString().replace('T', ' ').replace('Z', '');
  const store = await openStore(db, { waitMs });
  try {
    await store.transaction(async () => {
      for (const a of attempts) {
        await store.run(
          `INSERT INTO notifications VALUES ($1, $2, $3, $4, $5, $6::JSON, $7, $8, $9, $10::TIMESTAMP, $10::TIMESTAMP, $11::TIMESTAMP)
           ON CONFLICT (fingerprint, target_id) DO UPDATE SET
             target = excluded.target, finding = excluded.finding, status = excluded.status,
             attempts = notifications.attempts + excluded.attempts, error = excluded.error,
             last_tried_at = excluded.last_tried_at, delivered_at = excluded.delivered_at`,
          [
            a.fingerprint, a.targetId, a.target, a.finding.rule, a.finding.severity, JSON.stringify(a.finding),
            a.ok ? 'delivered' : 'failed', a.attempts, a.error, at, a.ok ? at : null,
          ],
        );
      }
    });
  } finally {
    store.close();
  }
}
