// Post-steps for exposures SQL cannot judge. A rule with `-- analyze: NAME` selects candidate events
// and puts the analyzer's input in `detail`; the analyzer keeps the rows that expose a key and
// replaces `detail` with the reason. Same behaviour whichever engine ran the SQL.
//
//   key_policy: detail = the key policy document (JSON text, or a JSON object) of a CreateKey /
//               PutKeyPolicy; kept when src/kms/policy.ts finds a public or untrusted-account grant.
//   grant:      detail = the CreateGrant requestParameters (JSON text or object); kept when the
//               grantee or retiring principal lies outside the trusted accounts.
//   key_policy_change: detail = a policy change (see policy-change.ts: the new policy, the previous
//               one when the data has it); kept when the change matters, with its severity. The
//               previous policy of a key's first change in the data comes from the live audit
//               (inventory tables) when the engine has one.

import type { QueryEngine } from '../engine.js';
import { accountOfPrincipal, analyzeGrant, analyzeKeyPolicy, type PolicyExposure, type TrustContext } from '../kms/policy.js';
import type { Severity } from './severity.js';
import { judgePolicyChange, loadAuditPolicies, type AuditPolicies } from './policy-change.js';

export interface Trust {
  /** Account ids inside the zone of trust. */
  trustedAccounts: string[];
  /** Organization ids inside the zone of trust (empty: any organization condition counts as trusted). */
  trustedOrgIds: string[];
}

/** A detection's row as the analyzer sees it: the common columns, `detail` holding the input. */
export interface CandidateRow {
  key_arn: string | null;
  account_id: string | null;
  detail: unknown;
}

/** A finding's detail with its own severity (at most the rule's). */
export interface Verdict {
  detail: string;
  severity: Severity;
}

/** What an analyzer may need beyond the row, read once per rule run. */
export interface AnalyzerContext {
  /** Key policies of the live audits, per key ARN (empty on an engine without the audit tables). */
  auditPolicies: AuditPolicies;
}

/** The finding's detail (or detail and severity), or null when the candidate exposes nothing. */
export type Analyzer = (row: CandidateRow, trust: Trust, context: AnalyzerContext) => string | Verdict | null;

export const ANALYZERS = {
  key_policy: (row: CandidateRow, trust: Trust): string | null => {
    let exposures: PolicyExposure[];
    try {
      exposures = analyzeKeyPolicy(row.detail, trustFor(row, trust));
    } catch (err) {
      // KMS accepted the call, so the document was valid: a truncated or redacted record. Say so
      // rather than stay silent about a policy change nobody checked.
      return `the key policy could not be analyzed: ${(err as Error).message}`;
    }
    return describe(exposures);
  },
  grant: (row: CandidateRow, trust: Trust): string | null => {
    let params: unknown = row.detail;
    if (typeof params === 'string') {
      try {
        params = JSON.parse(params);
      } catch {
        return null;
      }
    }
    const [judged, renamed] = infrastructurePrincipals(params);
    return describe(analyzeGrant(judged, keyAccount(row), trustFor(row, trust)), renamed);
  },
  key_policy_change: (row: CandidateRow, _trust: Trust, context: AnalyzerContext): Verdict | null =>
    judgePolicyChange(row.detail, row.key_arn, row.account_id, context.auditPolicies),
} satisfies Record<string, Analyzer>;

export type AnalyzerName = keyof typeof ANALYZERS;

/** Reads what the named analyzer needs from the engine (nothing for most). */
export async function analyzerContext(engine: QueryEngine, name: AnalyzerName): Promise<AnalyzerContext> {
  return { auditPolicies: name === 'key_policy_change' ? await loadAuditPolicies(engine) : new Map() };
}

function describe(exposures: PolicyExposure[], renamed: Map<string, string> = new Map()): string | null {
  if (exposures.length === 0) return null;
  let text = exposures.map((e) => e.reason).join('; ');
  for (const [as, original] of renamed) text = text.replaceAll(`"${as}"`, `"${original}"`);
  return text;
}

/**
 * EC2 creates EBS grants for 'ACCOUNT:aws:ec2-infrastructure:i-...', an AWS principal acting inside
 * ACCOUNT that src/kms/policy.ts cannot attribute. Rewritten to the bare account id for the analysis
 * (and back in the reason), so such a grant is judged by its account.
 */
function infrastructurePrincipals(params: unknown): [unknown, Map<string, string>] {
  const renamed = new Map<string, string>();
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return [params, renamed];
  const copy: Record<string, unknown> = { ...(params as Record<string, unknown>) };
  for (const field of ['granteePrincipal', 'retiringPrincipal']) {
    const v = copy[field];
    const m = typeof v === 'string' ? /^(\d{12}):aws:[a-z0-9-]+:\S+$/.exec(v.trim()) : null;
    if (m) {
      copy[field] = m[1];
      renamed.set(m[1], String(v).trim());
    }
  }
  return [copy, renamed];
}

function keyAccount(row: CandidateRow): string | null {
  return row.key_arn ? accountOfPrincipal(row.key_arn) : null;
}

/** The zone of trust for one key: the trusted accounts plus the key's own account. */
function trustFor(row: CandidateRow, trust: Trust): TrustContext {
  const accounts = new Set(trust.trustedAccounts);
  const own = keyAccount(row);
  if (own) accounts.add(own);
  return { trustedAccounts: accounts, trustedOrgIds: new Set(trust.trustedOrgIds) };
}
