// One audit run: resolve the accounts and regions, read every scope through KMS, keep the result.

import { readScope, type ScopeRead } from './client.js';
import { kmsClient, resolveTargets, type ConnectOptions, type Target } from './targets.js';
import type { RunRecord } from './snapshot.js';

export interface AuditOptions extends ConnectOptions {
  roleArns: string[];
  /** null: every enabled region of each account. */
  regions: string[] | null;
  /** KMS calls in flight at once per scope. */
  concurrency: number;
  /** Progress lines (stderr on a terminal). */
  progress?: (line: string) => void;
}

/** A target whose account is known: after the run, every target's is. */
export type AuditedTarget = Target & { account: string };

export interface AuditRead extends RunRecord {
  targets: AuditedTarget[];
}

export async function readInventory(options: AuditOptions): Promise<AuditRead> {
  const startedAt = new Date();
  const { targets, failures } = await resolveTargets(options);
  const scopes: ScopeRead[] = [];
  for (const target of targets) {
    for (const region of target.regions) {
      const kms = kmsClient(options, target, region);
      try {
        const scope = await readScope(kms, target.account ?? '', region, options.concurrency);
        if (target.account === null) target.account = scope.account = accountOf(scope);
        options.progress?.(`${target.account} ${region}: ${scope.status === 'ok' ? `${scope.keys.length} keys` : `failed (${scope.error!.code})`}`);
        scopes.push(scope);
      } finally {
        kms.destroy();
      }
    }
  }
  const unreachable = failures.map((f) => ({ account: f.account ?? '', error: f.error }));
  return {
    startedAt, finishedAt: new Date(), scopes, unreachable, targets: targets.map((t) => ({ ...t, account: t.account ?? 'unknown' })),
    options: { regions: options.regions, roleArns: options.roleArns, endpointUrl: options.endpointUrl ?? null, profile: options.profile ?? null },
  };
}

/** The account a scope's ARNs name (every region has the predefined alias/aws/... aliases). */
function accountOf(scope: ScopeRead): string {
  const arn = scope.keys[0]?.keyArn ?? scope.aliases.find((a) => a.AliasArn)?.AliasArn;
  return arn?.split(':')[4] || 'unknown';
}

/** Keys with at least one failed call, scopes that failed, accounts not reached. */
export function unreadable(run: RunRecord): { keys: number; scopes: number; accounts: number } {
  return {
    keys: run.scopes.reduce((n, s) => n + s.keys.filter((k) => k.errors.length > 0).length, 0),
    scopes: run.scopes.filter((s) => s.status === 'failed').length,
    accounts: run.unreachable.length,
  };
}
