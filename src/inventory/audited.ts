// Whether the database holds a live keys audit: what the audit checks, the policy-change analysis
// and keys access all ask first.

import type { QueryEngine } from '../engine.js';

/** True when the database holds at least one audit (an older database has no inventory tables). */
export async function hasAudit(engine: QueryEngine): Promise<boolean> {
  if (engine.name !== 'duckdb') return false;
  const rows = await engine.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'inventory_runs'");
  if (Number(rows[0]?.n ?? 0) === 0) return false;
  return Number((await engine.query('SELECT count(*) AS n FROM inventory_runs'))[0]?.n ?? 0) > 0;
}
