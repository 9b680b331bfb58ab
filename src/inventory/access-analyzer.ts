// IAM Access Analyzer beside keytrail's own verdict: its active findings for AWS::KMS::Key in each
// audited account and region (where an analyzer exists), compared key by key with keytrail's
// live_policy_exposure / live_grant_exposure findings.

import { ListAnalyzersCommand, ListFindingsCommand, type AnalyzerSummary, type FindingSummary, type ListFindingsCommandOutput } from '@aws-sdk/client-accessanalyzer';
import type { Finding } from '../detect/run.js';
import { callError, type CallError } from './client.js';
import type { AuditedTarget } from './audit.js';
import { analyzerClient, type ConnectOptions } from './targets.js';

export interface AnalyzerScope {
  account: string;
  region: string;
  analyzer: string | null;
  findings: FindingSummary[];
  error: CallError | null;
}

export async function readAnalyzerFindings(options: ConnectOptions, targets: AuditedTarget[]): Promise<AnalyzerScope[]> {
  const out: AnalyzerScope[] = [];
  for (const target of targets) {
    for (const region of target.regions) {
      const client = analyzerClient(options, target, region);
      const scope: AnalyzerScope = { account: target.account, region, analyzer: null, findings: [], error: null };
      try {
        const analyzers: AnalyzerSummary[] = [];
        let nextToken: string | undefined;
        do {
          const r = await client.send(new ListAnalyzersCommand({ nextToken }));
          analyzers.push(...(r.analyzers ?? []));
          nextToken = r.nextToken;
        } while (nextToken);
        // External access analyzers (account or organization) are the ones that judge key policies.
        const active = analyzers.find((a) => a.status === 'ACTIVE' && (a.type === 'ACCOUNT' || a.type === 'ORGANIZATION'));
        if (active) {
          scope.analyzer = active.arn ?? null;
          nextToken = undefined;
          do {
            const r: ListFindingsCommandOutput = await client.send(new ListFindingsCommand({
              analyzerArn: active.arn, nextToken,
              filter: { resourceType: { eq: ['AWS::KMS::Key'] }, status: { eq: ['ACTIVE'] } },
            }));
            scope.findings.push(...(r.findings ?? []));
            nextToken = r.nextToken;
          } while (nextToken);
        }
      } catch (err) {
        scope.error = callError('AccessAnalyzer', err);
      } finally {
        client.destroy();
      }
      out.push(scope);
    }
  }
  return out;
}

const EXPOSURE_RULES = new Set(['live_policy_exposure', 'live_grant_exposure']);

/** Findings where the two verdicts differ, per key; scopes without an analyzer say nothing. */
export function compareWithAnalyzer(scopes: AnalyzerScope[], findings: Finding[], auditedAt: string): Finding[] {
  const out: Finding[] = [];
  const ours = new Map<string, Finding[]>();
  for (const f of findings) if (EXPOSURE_RULES.has(f.rule) && f.key_arn) ours.set(f.key_arn, [...(ours.get(f.key_arn) ?? []), f]);
  const base = { source_ip: null, first_seen: auditedAt, last_seen: auditedAt, event_count: 0, attack: ['T1098'] };
  for (const scope of scopes) {
    if (!scope.analyzer) continue;
    const theirs = new Map<string, FindingSummary[]>();
    for (const f of scope.findings) if (f.resource) theirs.set(f.resource, [...(theirs.get(f.resource) ?? []), f]);
    for (const [key, list] of theirs) {
      if (ours.has(key)) continue;
      const who = list.map((f) => `${f.isPublic ? 'public: ' : ''}${JSON.stringify(f.principal ?? {})}`).join('; ');
      out.push({
        ...base, rule: 'access_analyzer_only', severity: 'medium', title: 'IAM Access Analyzer reports external access keytrail does not',
        identity_arn: null, key_arn: key, account_id: scope.account,
        detail: `Access Analyzer (${scope.analyzer}) has ${list.length} active finding(s): ${who}`,
      });
    }
    const prefix = `arn:aws:kms:${scope.region}:${scope.account}:`;
    for (const [key, list] of ours) {
      if (!key.startsWith(prefix) || theirs.has(key)) continue;
      out.push({
        ...base, rule: 'access_analyzer_missing', severity: 'low', title: 'keytrail reports external access IAM Access Analyzer does not',
        identity_arn: null, key_arn: key, account_id: scope.account,
        detail: `no active Access Analyzer finding (archived, or inside the analyzer's zone of trust) for: ${list.map((f) => f.detail).join('; ')}`,
      });
    }
  }
  return out;
}
