// The checks on the latest audit snapshot: one SQL file each in queries/audit/, with the same header,
// loader, runner and policy/grant analysis as the CloudTrail detections, so their findings have
// detect's shape (key_arn set). `keytrail detect` adds them through auditFindings.

import { join } from 'node:path';
import type { QueryEngine } from '../engine.js';
import type { Trust } from '../detect/analyze.js';
import { loadRules, type Rule } from '../detect/rules.js';
import { runDetections, type Finding, type ParamOverrides } from '../detect/run.js';
import { queriesDir } from '../paths.js';
import { hasAudit } from './audited.js';

export const auditChecksDir = join(queriesDir, 'audit');

export function loadAuditChecks(): Rule[] {
  return loadRules(auditChecksDir);
}

/** Runs the checks on the current snapshot (the latest audit of each account and region). */
export async function runAuditChecks(engine: QueryEngine, checks: Rule[], trust: Trust, params: ParamOverrides = {}): Promise<Finding[]> {
  const findings = await runDetections(engine, checks, { since: null, trust, params });
  // The grant analysis words its reasons for CreateGrant events; these are grants as they are now.
  for (const f of findings) if (f.rule === 'live_grant_exposure' && f.detail) f.detail = f.detail.replaceAll('CreateGrant on key', 'The grant on key');
  return findings;
}

/** The findings of the latest audit with default parameters, or none when there is no audit. */
export async function auditFindings(engine: QueryEngine, trust: Trust): Promise<Finding[]> {
  if (!(await hasAudit(engine))) return [];
  return runAuditChecks(engine, loadAuditChecks(), trust);
}

/** The accounts the audits have read, for a zone of trust that defaults to "our own accounts". */
export async function auditedAccounts(engine: QueryEngine): Promise<string[]> {
  if (!(await hasAudit(engine))) return [];
  return (await engine.query('SELECT DISTINCT account_id FROM inventory_current_scopes ORDER BY account_id')).map((r) => String(r.account_id));
}
