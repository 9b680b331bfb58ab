// Who can use each key, and who did: the access rows of the latest audit (inventory_access, worked
// out by src/kms/access.ts) per key, principal and capability, beside the successful calls that
// CloudTrail holds for the key (kms_events.identity_arn: a role's sessions are the role). A caller
// with no access row today is listed too (via 'cloudtrail'): access since removed, or a way in
// keytrail does not model. Data only; `keys access`, `keys show` and the report render it.

import type { QueryEngine } from '../engine.js';
import { ADMIN_ACTIONS, USE_ACTIONS, type Capability } from '../kms/access.js';
import { isoTime } from '../detect/run.js';

export interface AccessEntry {
  key_arn: string;
  principal: string;
  capability: Capability;
  /** 'key_policy', 'iam_policy', 'grant' (comma-separated when several), or 'cloudtrail' for a caller without access today. */
  via: string;
  detail: string;
  conditional: string | null;
  /** The last successful call of this capability on the key by the principal, in the history. */
  last_used: string | null;
  calls: number;
}

export interface AccessTable {
  rows: AccessEntry[];
  /** What the table cannot say: accounts whose IAM was not read. */
  notes: string[];
}

/** The CloudTrail event names of each capability (ReEncryptFrom and ReEncryptTo are one ReEncrypt event). */
const EVENTS: Record<Capability, string[]> = {
  use: [...new Set(USE_ACTIONS.map((a) => a.replace(/^kms:/, '').replace(/^ReEncrypt(From|To)$/, 'ReEncrypt')))],
  admin: ADMIN_ACTIONS.map((a) => a.replace(/^kms:/, '')),
};

/** `arn:aws:sts::A:assumed-role/R/session` -> the role, as identity_arn names it (path unknown: matched by name). */
function asIdentity(principal: string): string {
  const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(principal);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : principal;
}

/** Does an access row's principal take in this caller? Exact, a role by name, "*", or any principal of an account. */
export function covers(principal: string, caller: string): boolean {
  if (principal === caller || principal === '*') return true;
  const wildcardAccount = /^arn:[^:]+:iam::(\d{12}):\*$/.exec(principal)?.[1];
  if (wildcardAccount) return new RegExp(`^arn:[^:]+:(iam|sts)::${wildcardAccount}:`).test(caller);
  const role = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;
  const [a, b] = [role.exec(principal), role.exec(caller)];
  return a !== null && b !== null && a[1] === b[1] && a[2] === b[2];
}

export async function accessTable(engine: QueryEngine, filter: { keyArn?: string | null; principal?: string | null } = {}): Promise<AccessTable> {
  const keyArn = filter.keyArn ?? null;
  const granted = await engine.query(
    `SELECT k.key_arn, a.principal, a.capability,
            string_agg(DISTINCT a.via, ', ' ORDER BY a.via) AS via,
            string_agg(a.detail, '; ' ORDER BY a.via, a.detail) AS detail,
            CASE WHEN bool_or(a.conditional IS NULL) THEN NULL ELSE string_agg(DISTINCT a.conditional, '; ' ORDER BY a.conditional) END AS conditional
     FROM inventory_current_keys k
     JOIN inventory_access a ON a.run_id = k.run_id AND a.key_arn = k.key_arn
     WHERE $key IS NULL OR k.key_arn = $key
     GROUP BY k.key_arn, a.principal, a.capability`,
    { key: keyArn },
  );
  // The event names are keytrail's own constants, written into the SQL as literals.
  const list = (names: string[]) => `[${names.map((e) => `'${e}'`).join(', ')}]`;
  const calls = await engine.query(
    `SELECT e.key_arn, e.identity_arn,
            CASE WHEN list_contains(${list(EVENTS.use)}, e.event_name) THEN 'use' ELSE 'admin' END AS capability,
            max(e.event_time) AS last_used, count(*) AS calls
     FROM kms_events e
     JOIN inventory_current_keys k ON k.key_arn = e.key_arn
     WHERE e.error_code IS NULL AND e.identity_arn IS NOT NULL
       AND (list_contains(${list(EVENTS.use)}, e.event_name) OR list_contains(${list(EVENTS.admin)}, e.event_name))
       AND ($key IS NULL OR e.key_arn = $key)
     GROUP BY ALL`,
    { key: keyArn },
  );
  const rows: AccessEntry[] = granted.map((r) => ({
    key_arn: String(r.key_arn), principal: String(r.principal), capability: r.capability as Capability, via: String(r.via),
    detail: String(r.detail ?? ''), conditional: r.conditional === null ? null : String(r.conditional), last_used: null, calls: 0,
  }));
  // A call counts for the caller's own row; a "*" or account-wide row takes the calls nobody's own row does.
  for (const c of calls) {
    const caller = String(c.identity_arn);
    const same = rows.filter((r) => r.key_arn === c.key_arn && r.capability === c.capability);
    const own = same.filter((r) => r.principal === caller || (covers(r.principal, caller) && !r.principal.endsWith('*')));
    const targets = own.length > 0 ? own : same.filter((r) => covers(r.principal, caller));
    const used = isoTime(c.last_used);
    if (targets.length === 0) {
      rows.push({ key_arn: String(c.key_arn), principal: caller, capability: c.capability as Capability, via: 'cloudtrail', detail: 'called in the history; no access found in the latest audit', conditional: null, last_used: used, calls: Number(c.calls) });
      continue;
    }
    for (const t of targets) {
      t.calls += Number(c.calls);
      if (used && (!t.last_used || used > t.last_used)) t.last_used = used;
    }
  }
  const wanted = filter.principal ? asIdentity(filter.principal) : null;
  const kept = rows.filter((r) => wanted === null || covers(r.principal, wanted))
    .sort((a, b) => a.key_arn.localeCompare(b.key_arn) || a.capability.localeCompare(b.capability) || a.principal.localeCompare(b.principal));
  return { rows: kept, notes: await iamNotes(engine, keyArn) };
}

/** Accounts of the keys asked about whose IAM the latest audit did not read. */
async function iamNotes(engine: QueryEngine, keyArn: string | null): Promise<string[]> {
  const rows = await engine.query(
    `SELECT DISTINCT k.account_id, i.status, i.error
     FROM inventory_current_keys k
     LEFT JOIN inventory_iam i ON i.run_id = k.run_id AND i.account_id = k.account_id
     WHERE ($key IS NULL OR k.key_arn = $key) AND coalesce(i.status, '') <> 'ok'
     ORDER BY k.account_id`,
    { key: keyArn },
  );
  return rows.map((r) => `IAM of account ${String(r.account_id)} was not read (${r.error === null ? 'the audit did not read IAM' : String(r.error)}): `
    + 'the users and roles its account root lets in through IAM policies are not listed, the root stands for them');
}
