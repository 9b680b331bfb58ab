/**
 * Effective access to one KMS key: who may use or administer it, and through what. Pure functions,
 * no I/O; src/inventory/snapshot.ts runs them on each audited key and stores the rows.
 *
 * Three ways in (`via`):
 *   key_policy  an Allow statement of the key policy names the principal. The account root of the
 *               key's own account is a row of its own AND hands the decision to IAM (below).
 *               Principal "*" narrowed by kms:CallerAccount / aws:PrincipalAccount to literal
 *               accounts becomes `arn:aws:iam::ACCOUNT:*` (any principal of that account);
 *               kms:ViaService narrows nothing about who may call and stays in `conditional`.
 *   iam_policy  a user or role of the key's account whose identity policies (inline, attached
 *               managed, and those of the user's groups) allow the action on the key (Action /
 *               NotAction, Resource / NotResource, wildcards), where the key policy's root
 *               statement allows the same action.
 *   grant       a grant's grantee, for the grant's operations (constraints are `conditional`).
 * An explicit unconditional Deny (key policy, or the principal's own IAM policies) removes the
 * actions it covers; a conditional Deny leaves them, and says so in `conditional`.
 * Not modelled: permissions boundaries, SCPs, session policies, cross-account IAM.
 */

import { conditionEntries, globToRegExp, isRecord, principalEntries, strings } from './policy.js';

export const USE_ACTIONS = [
  'kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext', 'kms:GenerateDataKeyPair', 'kms:GenerateDataKeyPairWithoutPlaintext',
] as const;

export const ADMIN_ACTIONS = [
  'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:DisableKey', 'kms:EnableKey',
  'kms:CreateGrant', 'kms:RevokeGrant', 'kms:ImportKeyMaterial', 'kms:DeleteImportedKeyMaterial', 'kms:CreateAlias',
  'kms:UpdateAlias', 'kms:DeleteAlias', 'kms:EnableKeyRotation', 'kms:DisableKeyRotation', 'kms:UpdateKeyDescription',
  'kms:TagResource', 'kms:UntagResource', 'kms:ReplicateKey', 'kms:UpdatePrimaryRegion',
] as const;

const ALL_ACTIONS: readonly string[] = [...USE_ACTIONS, ...ADMIN_ACTIONS];

export type Capability = 'use' | 'admin';
export type Via = 'key_policy' | 'iam_policy' | 'grant';

export interface AccessRow {
  principal: string;
  capability: Capability;
  via: Via;
  /** Statement[i] "Sid" of the key policy, policy name and statement, or the grant id. */
  detail: string;
  /** The conditions keytrail cannot decide statically; null when the access is unconditional. */
  conditional: string | null;
  /** The actions of this capability that are allowed ('kms:Decrypt', ...). */
  actions: string[];
}

export interface IamPolicy {
  /** How the policy reaches the principal: 'inline', 'customer_managed' or 'aws_managed'. */
  kind: string;
  name: string;
  /** Set for a group's policy: the group's name. */
  group: string | null;
  /** The document (JSON text or object). */
  document: unknown;
}

export interface IamPrincipal {
  arn: string;
  policies: IamPolicy[];
}

export interface GrantInput {
  grantId: string;
  granteePrincipal: string | null;
  operations: string[];
  constraints: unknown;
}

/** A policy statement as access evaluation needs it. */
interface Statement {
  label: string;
  effect: 'allow' | 'deny';
  /** Does it cover this action (Action / NotAction)? */
  covers: (action: string) => boolean;
  raw: Record<string, unknown>;
  condition: string | null;
}

function statementsOf(document: unknown): Record<string, unknown>[] {
  let doc = document;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch {
      return [];
    }
  }
  if (!isRecord(doc)) return [];
  const raw = doc['Statement'];
  return (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter(isRecord);
}

/** 'kms:Decrypt' against patterns: case-insensitive, '*' and '?' wildcards. */
function matchesAny(value: string, patterns: string[]): boolean {
  return patterns.some((p) => globToRegExp(p.trim()).test(value));
}

function actionTest(st: Record<string, unknown>): ((action: string) => boolean) | null {
  if (st['Action'] !== undefined) {
    const list = strings(st['Action']);
    return (a) => matchesAny(a, list);
  }
  if (st['NotAction'] !== undefined) {
    const list = strings(st['NotAction']);
    return (a) => !matchesAny(a, list);
  }
  return null;
}

/** The Condition element as one line: 'StringEquals kms:ViaService=s3.us-east-1.amazonaws.com'. */
export function conditionText(cond: unknown, skip: (key: string) => boolean = () => false): string | null {
  const parts = conditionEntries(cond).filter((c) => !skip(c.key)).map((c) => `${c.op} ${c.rawKey}=${c.values.join('|')}`);
  return parts.length > 0 ? parts.join('; ') : null;
}

function parseStatements(document: unknown, label: (i: number, sid: string | null) => string): Statement[] {
  const out: Statement[] = [];
  statementsOf(document).forEach((st, i) => {
    const effect = String(st['Effect'] ?? '').toLowerCase();
    const covers = actionTest(st);
    if ((effect !== 'allow' && effect !== 'deny') || !covers) return;
    const sid = typeof st['Sid'] === 'string' && st['Sid'] !== '' ? st['Sid'] : null;
    out.push({ label: label(i, sid), effect, covers, raw: st, condition: conditionText(st['Condition']) });
  });
  return out;
}

const ACCOUNT_RE = /^\d{12}$/;
const CALLER_ACCOUNT_KEYS = new Set(['kms:calleraccount', 'aws:principalaccount']);

/** A principal as rows name it: a bare account id is its root. */
function principalName(value: string, partition: string): string {
  const v = value.trim();
  return ACCOUNT_RE.test(v) ? `arn:${partition}:iam::${v}:root` : v;
}

/** Principal "*" narrowed by kms:CallerAccount (positive operator, literal accounts): the accounts. */
function callerAccounts(cond: unknown): string[] | null {
  for (const c of conditionEntries(cond)) {
    const op = c.op.toLowerCase();
    if (!CALLER_ACCOUNT_KEYS.has(c.key) || !['stringequals', 'stringlike', 'stringequalsignorecase'].includes(op)) continue;
    if (c.values.length > 0 && c.values.every((v) => ACCOUNT_RE.test(v.trim()))) return c.values.map((v) => v.trim());
  }
  return null;
}

interface KeyPolicyGrant { principal: string; statement: Statement; conditional: string | null }

/** Who each Allow statement of the key policy names, with the conditions left to decide. */
function keyPolicyGrants(statements: Statement[], partition: string): KeyPolicyGrant[] {
  const out: KeyPolicyGrant[] = [];
  for (const st of statements) {
    if (st.effect !== 'allow') continue;
    const notPrincipal = principalEntries(st.raw['NotPrincipal']);
    if (notPrincipal !== null && st.raw['Principal'] === undefined) {
      const except = `everyone except ${notPrincipal.map((e) => e.value).join(', ')}`;
      out.push({ principal: '*', statement: st, conditional: [except, st.condition].filter(Boolean).join('; ') });
      continue;
    }
    for (const e of principalEntries(st.raw['Principal']) ?? []) {
      const value = e.value.trim();
      if (value === '*') {
        const accounts = callerAccounts(st.raw['Condition']);
        const rest = conditionText(st.raw['Condition'], accounts ? (k) => CALLER_ACCOUNT_KEYS.has(k) : undefined);
        for (const a of accounts ?? ['']) out.push({ principal: a ? `arn:${partition}:iam::${a}:*` : '*', statement: st, conditional: rest });
      } else {
        out.push({ principal: principalName(value, partition), statement: st, conditional: st.condition });
      }
    }
  }
  return out;
}

/** Does a key-policy Deny apply to this principal? */
function denies(st: Statement, principal: string, partition: string): boolean {
  const account = /^arn:[^:]+:iam::(\d{12}):/.exec(principal)?.[1];
  const names = (p: unknown) => (principalEntries(p) ?? []).map((e) => principalName(e.value, partition));
  const hits = (list: string[]) => list.some((n) => n === '*' || n === principal || (account !== undefined && n === `arn:${partition}:iam::${account}:root`));
  if (st.raw['NotPrincipal'] !== undefined) return !hits(names(st.raw['NotPrincipal']));
  return hits(names(st.raw['Principal']));
}

interface Allowed { action: string; conditions: string[]; sources: string[] }

/** Actions left after the Deny statements that apply; conditional Denies become conditions. */
function afterDenies(allowed: Allowed[], denyStatements: Statement[]): Allowed[] {
  const out: Allowed[] = [];
  for (const a of allowed) {
    const hit = denyStatements.filter((d) => d.covers(a.action));
    if (hit.some((d) => d.condition === null)) continue;
    out.push({ ...a, conditions: [...a.conditions, ...hit.map((d) => `unless ${d.label} denies it (${d.condition})`)] });
  }
  return out;
}

/** Allowed actions -> one row per capability. */
function rows(principal: string, via: Via, allowed: Allowed[]): AccessRow[] {
  const out: AccessRow[] = [];
  for (const [capability, list] of [['use', USE_ACTIONS], ['admin', ADMIN_ACTIONS]] as const) {
    const mine = allowed.filter((a) => (list as readonly string[]).includes(a.action));
    if (mine.length === 0) continue;
    const unique = (xs: string[]) => [...new Set(xs)];
    // Conditional only when every allowed action of the capability is.
    const conditional = mine.every((a) => a.conditions.length > 0) ? unique(mine.flatMap((a) => a.conditions)).join('; ') : null;
    out.push({ principal, capability, via, detail: unique(mine.flatMap((a) => a.sources)).join(', '), conditional, actions: mine.map((a) => a.action) });
  }
  return out;
}

function resourceMatches(st: Record<string, unknown>, keyArn: string): boolean {
  if (st['Resource'] !== undefined) return matchesAny(keyArn, strings(st['Resource']));
  if (st['NotResource'] !== undefined) return !matchesAny(keyArn, strings(st['NotResource']));
  return false;
}

/** What one IAM principal's own policies allow on the key, before the key policy has its say. */
function iamAllowed(principal: IamPrincipal, keyArn: string): Allowed[] {
  const statements = principal.policies.flatMap((p) => {
    const name = p.group ? `group ${p.group}: ${p.name}` : p.name;
    return parseStatements(p.document, (i, sid) => `${name} Statement[${i}]${sid ? ` "${sid}"` : ''}`)
      .filter((s) => resourceMatches(s.raw, keyArn));
  });
  const allowed: Allowed[] = [];
  for (const action of ALL_ACTIONS) {
    const allows = statements.filter((s) => s.effect === 'allow' && s.covers(action));
    if (allows.length === 0) continue;
    const unconditional = allows.filter((s) => s.condition === null);
    const used = unconditional.length > 0 ? unconditional : allows;
    allowed.push({ action, conditions: unconditional.length > 0 ? [] : allows.map((s) => s.condition!), sources: used.map((s) => s.label) });
  }
  return afterDenies(allowed, statements.filter((s) => s.effect === 'deny'));
}

const GRANT_OPERATIONS: Record<string, string> = { ReEncryptFrom: 'kms:ReEncryptFrom', ReEncryptTo: 'kms:ReEncryptTo' };

/**
 * Every principal that may use or administer the key. `policy` null: the key policy could not be
 * read (then nothing from it, nor from IAM, is claimed). `iam` null: IAM of the key's account was
 * not read (the account root's row stands for everyone IAM lets in).
 */
export function keyAccess(keyArn: string, policy: unknown | null, grants: GrantInput[], iam: IamPrincipal[] | null): AccessRow[] {
  const partition = keyArn.split(':')[1] || 'aws';
  const account = keyArn.split(':')[4] ?? '';
  const root = `arn:${partition}:iam::${account}:root`;
  const statements = policy === null ? [] : parseStatements(policy, (i, sid) => `Statement[${i}]${sid ? ` "${sid}"` : ''}`);
  const denyStatements = statements.filter((s) => s.effect === 'deny');
  const keyDenies = (principal: string) => denyStatements.filter((d) => denies(d, principal, partition));
  const named = keyPolicyGrants(statements, partition);
  const out: AccessRow[] = [];

  const byPrincipal = new Map<string, KeyPolicyGrant[]>();
  for (const g of named) byPrincipal.set(g.principal, [...(byPrincipal.get(g.principal) ?? []), g]);
  for (const [principal, list] of byPrincipal) {
    for (const g of list) {
      const allowed = ALL_ACTIONS.filter((a) => g.statement.covers(a)).map((action) => ({ action, conditions: g.conditional ? [g.conditional] : [], sources: [g.statement.label] }));
      out.push(...rows(principal, 'key_policy', afterDenies(allowed, keyDenies(principal))));
    }
  }

  // IAM decides for the key's own account where the key policy allows its root.
  const rootGrants = named.filter((g) => g.principal === root);
  if (iam && rootGrants.length > 0) {
    for (const p of iam) {
      const allowed: Allowed[] = [];
      for (const a of iamAllowed(p, keyArn)) {
        const through = rootGrants.filter((g) => g.statement.covers(a.action));
        if (through.length === 0) continue;
        const open = through.find((g) => g.conditional === null);
        allowed.push({ ...a, conditions: open ? a.conditions : [...a.conditions, ...through.map((g) => `key policy ${g.statement.label}: ${g.conditional}`)] });
      }
      out.push(...rows(p.arn, 'iam_policy', afterDenies(allowed, keyDenies(p.arn))));
    }
  }

  for (const g of grants) {
    if (!g.granteePrincipal) continue;
    const actions = g.operations.map((op) => GRANT_OPERATIONS[op] ?? `kms:${op}`)
      // A GenerateDataKey grant covers the operation's variants only as listed; take them as written.
      .filter((a) => ALL_ACTIONS.includes(a));
    const constraint = constraintText(g.constraints);
    const allowed = actions.map((action) => ({ action, conditions: constraint ? [constraint] : [], sources: [`grant ${g.grantId}`] }));
    out.push(...rows(g.granteePrincipal, 'grant', afterDenies(allowed, keyDenies(g.granteePrincipal))));
  }
  return out;
}

/** A grant's constraints as one line: 'EncryptionContextSubset aws:ebs:id=vol-1'. */
export function constraintText(constraints: unknown): string | null {
  if (!isRecord(constraints)) return null;
  const parts: string[] = [];
  for (const [kind, ctx] of Object.entries(constraints)) {
    if (!isRecord(ctx)) continue;
    const pairs = Object.entries(ctx).map(([k, v]) => `${k}=${String(v)}`);
    if (pairs.length > 0) parts.push(`${kind} ${pairs.join(', ')}`);
  }
  return parts.length > 0 ? parts.join('; ') : null;
}

/** One statement of an IAM policy, flattened for SQL (inventory_iam_statements). */
export interface FlatStatement {
  statement_index: number;
  sid: string | null;
  effect: string;
  actions: string[] | null;
  not_actions: string[] | null;
  resources: string[] | null;
  not_resources: string[] | null;
  conditions: string | null;
}

export function flattenStatements(document: unknown): FlatStatement[] {
  return statementsOf(document).map((st, i) => {
    const list = (k: string) => (st[k] === undefined ? null : strings(st[k]));
    return {
      statement_index: i, sid: typeof st['Sid'] === 'string' && st['Sid'] !== '' ? st['Sid'] : null, effect: String(st['Effect'] ?? ''),
      actions: list('Action'), not_actions: list('NotAction'), resources: list('Resource'), not_resources: list('NotResource'),
      conditions: conditionText(st['Condition']),
    };
  });
}
