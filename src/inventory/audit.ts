// One audit run: resolve the accounts and regions, read every scope through KMS and each account's
// IAM (who the key policies' account root hands the decision to), keep the result.

import { readScope, type ScopeRead } from './client.js';
import { readIam, type IamRead } from './iam.js';
import { iamClient, kmsClient, resolveTargets, type ConnectOptions, type Target } from './targets.js';
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
  iam: IamRead[];
}

export async function readInventory(options: AuditOptions): Promise<AuditRead> {
  const startedAt = new Date();
  const { targets, failures } = await resolveTargets(options);
  const scopes: ScopeRead[] = [];
  const iam: IamRead[] = [];
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
    if (target.account !== null && target.regions.length > 0) {
      const client = iamClient(options, target, target.regions[0]);
      try {
        const read = await readIam(client, target.account);
        options.progress?.(`${target.account} IAM: ${read.status === 'ok' ? `${read.entities.length} users, groups and roles` : `not read (${read.error!.code})`}`);
        iam.push(read);
      } finally {
        client.destroy();
      }
    }
  }
  const unreachable = failures.map((f) => ({ account: f.account ?? '', error: f.error }));
  return {
    startedAt, finishedAt: new Date(), scopes, iam, unreachable, targets: targets.map((t) => ({ ...t, account: t.account ?? 'unknown' })),
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
