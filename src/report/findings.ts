// The report's findings: the detections of queries/detections, run on the same engine and cut to
// the report's period and account. The one place the report depends on src/detect.

import type { QueryEngine } from '../engine.js';
import { loadRules } from '../detect/rules.js';
import { runDetections, type Finding } from '../detect/run.js';
import { resolveTrust, type TrustConfig } from '../detect/trust.js';
import { auditFindings } from '../inventory/checks.js';
import type { FindingsScope } from './model.js';

/** Runs detections for a report; the report works without one (it says findings are unavailable). */
export type FindingsProvider = (engine: QueryEngine, scope: FindingsScope) => Promise<Finding[]>;

/**
 * Every detection rule, with the zone of trust `keytrail detect` would use for the same
 * --trusted-accounts and --config (by default the accounts in the data).
 */
export function detectFindingsWith(trustedAccounts: string[] | null, config: TrustConfig | null): FindingsProvider {
  return async (engine, scope) => {
    const trust = await resolveTrust(engine, trustedAccounts, config);
    const findings = await runDetections(engine, loadRules(), { since: scope.since, trust });
    // The latest live audit's configuration findings, as keytrail detect adds them (dated by the audit).
    findings.push(...(await auditFindings(engine, trust)));
    return findings.filter((f) => inScope(f, scope));
  };
}

/** Every detection rule, trusting the accounts in the data, as `keytrail detect` does by default. */
export const detectFindings: FindingsProvider = detectFindingsWith(null, null);

/** Detections take a start only: the end and the account are applied to their findings. */
export function inScope(finding: Finding, scope: FindingsScope): boolean {
  if (scope.until !== null && finding.first_seen !== null && isoToSql(finding.first_seen) >= scope.until) return false;
  if (scope.account !== null && finding.account_id !== scope.account) return false;
  return true;
}

/** '2024-05-01T10:00:00Z' -> '2024-05-01 10:00:00', comparable with the scope's times. */
const isoToSql = (iso: string): string => iso.replace('T', ' ').replace(/Z$/, '');
