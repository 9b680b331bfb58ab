// Key policy changes as a diff: what a CreateKey / PutKeyPolicy took away or added compared with the
// key's previous policy. The rule key_policy_change selects the changes and hands over, as JSON,
//
//   {"event": "PutKeyPolicy", "at": "YYYY-MM-DD HH:MM:SS", "cloudtrail_key": true|false,
//    "previous": <policy document> | null, "policy": <policy document>}
//
// `previous` is the key's last policy change earlier in the data; without one, the policy of the
// latest live audit taken before the change (AuditPolicies), and for CreateKey KMS's default key
// policy (the account root may do kms:*). What counts, worst first:
//
//   high    the account root may no longer change the policy (its "Enable IAM" statement removed):
//           IAM policies stop granting access and only the principals the policy names control the
//           key (the ransom lockout); a Deny of
//           use for everyone but a few principals added (denial of service); a service principal
//           removed from a key CloudTrail encrypts its logs with (log delivery stops)
//   medium  another service principal removed
//   low     principals added or removed, everything else kept
//
// A change that alters none of these (a reworded Sid, reordered statements) is no finding, and nor is
// a policy with nothing earlier to compare with, unless it adds a Deny of use (AWS managed keys'
// policies, for one, have no root kms:* statement: its absence alone says nothing).

import type { QueryEngine } from '../engine.js';
import { hasAudit } from '../inventory/audited.js';
import type { Severity } from './severity.js';

/** Per key ARN, the audited policies, oldest first: [audit time 'YYYY-MM-DD HH:MM:SS', document text]. */
export type AuditPolicies = ReadonlyMap<string, ReadonlyArray<readonly [string, string]>>;

/** The 'default' key policies of every live audit, by key (none when the engine has no audit). */
export async function loadAuditPolicies(engine: QueryEngine): Promise<AuditPolicies> {
  const out = new Map<string, Array<readonly [string, string]>>();
  if (!(await hasAudit(engine))) return out;
  const rows = await engine.query(
    `SELECT p.key_arn, strftime(r.started_at, '%Y-%m-%d %H:%M:%S') AS audited_at, p.policy
     FROM inventory_policies p JOIN inventory_runs r ON r.run_id = p.run_id
     WHERE p.policy_name = 'default'
     ORDER BY p.key_arn, r.started_at`,
  );
  for (const r of rows) {
    const list = out.get(String(r.key_arn)) ?? [];
    list.push([String(r.audited_at), String(r.policy)]);
    out.set(String(r.key_arn), list);
  }
  return out;
}

interface Change {
  event: string;
  at: string;
  cloudtrail_key: boolean;
  previous: unknown;
  policy: unknown;
}

interface Facts {
  /**
   * The account root may change the key policy (kms:*, kms:PutKeyPolicy, a wildcard covering it)
   * without a condition: the account keeps control, IAM can grant it. AWS managed keys' policies
   * give the root only Describe/Get/List and PutKeyPolicy: still in control.
   */
  rootAdmin: boolean;
  /** Principals allowed anything, as written ('AWS arn:...', 'Service cloudtrail.amazonaws.com'). */
  principals: Set<string>;
  services: Set<string>;
  /** Deny statements of key use for everyone except the principals listed: their exemptions. */
  denyAllBut: string[][];
}

const USE_ACTIONS = /^kms:(\*|Decrypt|Encrypt|GenerateDataKey\*?|ReEncrypt\*?|ReEncryptFrom|ReEncryptTo)$|^\*$/i;
const EXEMPT_KEYS = /^aws:(principalarn|userid|username|principalaccount)$|^kms:calleraccount$/i;

export function judgePolicyChange(
  detail: unknown, keyArn: string | null, accountId: string | null, audits: AuditPolicies,
): { detail: string; severity: Severity } | null {
  let change: Change;
  let now: Facts;
  try {
    change = (typeof detail === 'string' ? JSON.parse(detail) : detail) as Change;
    now = facts(change.policy);
  } catch (err) {
    // KMS accepted the policy, so the record is truncated or redacted: say so rather than stay silent.
    return { detail: `the key policy could not be analyzed: ${(err as Error).message}`, severity: 'low' };
  }
  const account = keyArn ? (/^arn:[^:]+:kms:[^:]*:(\d{12}):/.exec(keyArn)?.[1] ?? accountId) : accountId;

  let before: Facts | null = null;
  let against: string;
  if (change.previous !== null && change.previous !== undefined) {
    before = safeFacts(change.previous);
    against = 'the previous policy in the trail';
  } else {
    const audited = [...(keyArn ? audits.get(keyArn) ?? [] : [])].reverse().find(([at]) => at <= change.at);
    if (audited) {
      before = safeFacts(audited[1]);
      against = `the policy of the live audit of ${audited[0]} UTC`;
    } else if (change.event === 'CreateKey' && account) {
      before = defaultFacts(account);
      against = 'the default key policy';
    } else against = 'nothing: no earlier policy in the trail or a live audit';
  }

  const found: Array<[Severity, string]> = [];
  if (before?.rootAdmin && !now.rootAdmin) {
    found.push(['high', `the account root (${account ?? 'the account'}) may no longer change the key policy ("Enable IAM" statement removed): IAM policies no longer grant access, only ${list(now.principals) || 'no principal'} can use or manage the key`]);
  }
  const beforeDenials = new Set((before?.denyAllBut ?? []).map((d) => d.join(',')));
  for (const exempt of now.denyAllBut) {
    if (beforeDenials.has(exempt.join(','))) continue;
    found.push(['high', `a Deny of key use for everyone${exempt.length ? ` but ${exempt.join(', ')}` : ''} was added`]);
  }
  if (before) {
    for (const s of [...before.services].filter((x) => !now.services.has(x)).sort()) {
      const delivery = /^cloudtrail\.amazonaws\.com$/i.test(s) && change.cloudtrail_key;
      found.push([delivery ? 'high' : 'medium', `service principal ${s} was removed${delivery ? ': CloudTrail encrypts its log files with this key, so log delivery stops' : ''}`]);
    }
    // A new key's own policy adding principals to the default is routine: only changes of a policy count.
    const routine = change.event === 'CreateKey' && against === 'the default key policy';
    const added = routine ? [] : [...now.principals].filter((p) => !before.principals.has(p) && !p.startsWith('Service ')).sort();
    const removed = routine ? [] : [...before.principals].filter((p) => !now.principals.has(p) && !p.startsWith('Service ')).sort();
    if (added.length) found.push(['low', `principals added: ${added.join(', ')}`]);
    if (removed.length) found.push(['low', `principals removed: ${removed.join(', ')}`]);
  }
  if (found.length === 0) return null;
  const worst: Severity = found.some(([s]) => s === 'high') ? 'high' : found.some(([s]) => s === 'medium') ? 'medium' : 'low';
  return { detail: `${change.event}, compared with ${against}: ${found.map(([, t]) => t).join('; ')}`, severity: worst };
}

function safeFacts(policy: unknown): Facts | null {
  try {
    return facts(policy);
  } catch {
    return null;
  }
}

function defaultFacts(account: string): Facts {
  return facts({ Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }] });
}

function facts(policy: unknown): Facts {
  const doc = typeof policy === 'string' ? JSON.parse(policy) : policy;
  if (typeof doc !== 'object' || doc === null) throw new Error('the policy is not a JSON object');
  const raw = (doc as Record<string, unknown>).Statement;
  const statements = (Array.isArray(raw) ? raw : [raw]).filter((s): s is Record<string, unknown> => typeof s === 'object' && s !== null);
  const out: Facts = { rootAdmin: false, principals: new Set(), services: new Set(), denyAllBut: [] };
  for (const st of statements) {
    const actions = strings(st.Action);
    const principals = principalList(st.Principal);
    const conditioned = typeof st.Condition === 'object' && st.Condition !== null && Object.keys(st.Condition).length > 0;
    if (st.Effect === 'Allow') {
      for (const p of principals) {
        out.principals.add(p);
        if (p.startsWith('Service ')) out.services.add(p.slice('Service '.length));
      }
      const admin = actions.some((a) => globToRegExp(a).test('kms:PutKeyPolicy'));
      if (admin && !conditioned && principals.some((p) => /^AWS (arn:[^:]+:iam::\d{12}:root|\d{12})$/.test(p))) out.rootAdmin = true;
    } else if (st.Effect === 'Deny' && actions.some((a) => USE_ACTIONS.test(a))) {
      if (st.NotPrincipal !== undefined) out.denyAllBut.push(principalList(st.NotPrincipal).map((p) => p.replace(/^\w+ /, '')).sort());
      else if (principals.some((p) => p === '*' || p === 'AWS *') && conditioned) {
        const exempt = negatedValues(st.Condition as Record<string, unknown>);
        if (exempt.length > 0) out.denyAllBut.push(exempt.sort());
      }
    }
  }
  return out;
}

/** Principal as 'AWS arn', 'Service name', or '*'. */
function principalList(p: unknown): string[] {
  if (p === '*') return ['*'];
  if (typeof p !== 'object' || p === null) return [];
  return Object.entries(p as Record<string, unknown>).flatMap(([type, v]) => strings(v).map((x) => `${type} ${x}`));
}

/** The values of StringNotEquals / ArnNotEquals / ...NotLike on caller keys: who a Deny spares. */
function negatedValues(cond: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [op, entries] of Object.entries(cond)) {
    if (!/Not(Equals|Like)/i.test(op) || typeof entries !== 'object' || entries === null) continue;
    for (const [key, v] of Object.entries(entries as Record<string, unknown>)) if (EXEMPT_KEYS.test(key)) out.push(...strings(v));
  }
  return out;
}

/** An IAM action pattern ('kms:*', 'kms:Put*', '*') as a case-insensitive regular expression. */
function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function list(principals: Set<string>): string {
  return [...principals].map((p) => p.replace(/^\w+ /, '')).sort().join(', ');
}
