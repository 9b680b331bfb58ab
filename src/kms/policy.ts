/**
 * Static analysis of AWS KMS key policies and grants, modelled on the
 * external-access findings IAM Access Analyzer produces for AWS::KMS::Key.
 *
 * Pure functions, no I/O. The caller supplies its zone of trust (accounts and,
 * optionally, organization ids); every Allow statement and every grant that
 * reaches outside it is reported as a {@link PolicyExposure}.
 *
 * Rules:
 *
 * - Only `Effect: "Allow"` statements grant access. Statements without an
 *   Effect, without a Principal/NotPrincipal, or without an Action/NotAction
 *   grant nothing and are skipped (KMS would reject them anyway).
 * - Principal forms: `"*"`, `{"AWS": "*"}`, account ids, ARNs (root, role,
 *   user, assumed-role, ...), `{"Service": ...}`, `{"Federated": ...}`,
 *   `{"CanonicalUser": ...}`, as strings or arrays. A wildcard in the account
 *   field of an ARN (`arn:aws:iam::*:root`) behaves like `"*"`.
 *   Allow with NotPrincipal = everyone except those = treated like `"*"`.
 * - Service principals are NOT reported, even without aws:SourceAccount /
 *   aws:SourceArn (deliberate simplification: the confused-deputy risk is not
 *   account exposure). IAM unique ids (`AROA...`, `AIDA...`, left behind when a
 *   role/user is deleted) match nobody and are not reported. Federated
 *   providers that are not ARNs (`accounts.google.com`, Cognito) are treated
 *   like `"*"`; CanonicalUser ids and unrecognised strings cannot be attributed
 *   and are reported as `untrusted_account` with an empty `accounts` list.
 * - Conditions narrow a statement (conditions are ANDed, so any one narrowing
 *   condition is enough). Narrowing operators: StringEquals,
 *   StringEqualsIgnoreCase, StringLike, ArnEquals, ArnLike, optionally
 *   prefixed with `ForAnyValue:`. Never narrowing: `ForAllValues:` (it is true
 *   when the request has no value for the key), any `...IfExists` operator
 *   (true when the key is absent), negated operators, and any value that holds
 *   a wildcard or a policy variable where the account/org is decided.
 *   Keys (case-insensitive): aws:PrincipalAccount, kms:CallerAccount,
 *   aws:SourceAccount, aws:SourceOwner (account ids); aws:PrincipalArn,
 *   aws:SourceArn (account field of the ARN); aws:PrincipalOrgID,
 *   aws:PrincipalOrgPaths (organization); aws:SourceVpc, aws:SourceVpce
 *   (network: makes `"*"` not public, does not change who a named principal
 *   is). kms:ViaService narrows nothing on its own.
 * - Organizations: an org condition is trusted when its ids are all in
 *   `trustedOrgIds`; when `trustedOrgIds` is absent or empty, ANY literal org
 *   id counts as "the organization" and is trusted. A `"*"` limited only to an
 *   untrusted org is reported as `public` (we cannot enumerate its accounts).
 *   A trusted-org condition also suppresses named untrusted accounts: such an
 *   account is either a member of the trusted org or gets nothing.
 * - `"*"` narrowed to specific accounts that are not all trusted (for example
 *   kms:CallerAccount = an outside account) is reported as
 *   `untrusted_account` listing the untrusted ones, not as `public`.
 * - Deny statements never create exposure, but these Deny "guards" restrict
 *   every Allow statement whose actions they cover (`*`, `kms:*`, or patterns
 *   that match each allowed action; an Allow with NotAction is covered only by
 *   `*` / `kms:*`):
 *     * Principal `"*"` + StringNotEquals / StringNotEqualsIgnoreCase /
 *       StringNotLike / ArnNotEquals / ArnNotLike (optionally IfExists) on
 *       aws:PrincipalOrgID, aws:PrincipalOrgPaths, aws:PrincipalAccount,
 *       kms:CallerAccount or aws:PrincipalArn: only principals matching the
 *       values survive. Several such keys in one Deny (survivor = union) count
 *       only when every one of them is trusted. The only other condition
 *       tolerated in a guard is `Bool aws:PrincipalIsAWSService = false`.
 *     * Principal `"*"` with no condition: denies everyone.
 *     * NotPrincipal (no condition): only the listed accounts survive.
 *     * A named account (`123456789012` or `...:root`), no condition: that
 *       account is denied.
 */

export interface TrustContext {
  /** Account ids inside the zone of trust (normally including the key's own account). */
  trustedAccounts: ReadonlySet<string>;
  /** Organization ids inside the zone of trust. Absent/empty: any organization condition counts as trusted. */
  trustedOrgIds?: ReadonlySet<string>;
}

export interface PolicyExposure {
  /** `public`: "*"-like principal with no condition limiting it to known accounts; `untrusted_account`: access for accounts outside the zone of trust. */
  kind: 'public' | 'untrusted_account';
  /** 0-based index into the policy's Statement array; -1 for grants. */
  statementIndex: number;
  sid?: string;
  /** "*", the ARN / account id / provider as written, "NotPrincipal: ..." for Allow+NotPrincipal, or the grant principal. */
  principal: string;
  /** Untrusted account ids involved (empty for public and for principals that cannot be attributed to an account). */
  accounts: string[];
  /** Statement Action(s) as written, "NotAction: x" per NotAction entry, or the grant operations. */
  actions: string[];
  /** One human sentence explaining the finding. */
  reason: string;
}

// ---------------------------------------------------------------------------
// Principal helpers

const ACCOUNT_RE = /^\d{12}$/;
const UNIQUE_ID_RE = /^A(IDA|ROA|GPA|IPA|NPA|NVA|SIA|KIA|PKA|CCA)[A-Z0-9]{8,}$/;
const ORG_ID_RE = /^o-[a-z0-9]{10,32}$/i;

/**
 * The account id a principal belongs to: a bare 12-digit account id or the
 * account field of any ARN (`arn:aws:iam::123456789012:root`,
 * `arn:aws:sts::123456789012:assumed-role/r/s`, ...). Service principals,
 * "*", wildcard accounts and anything unrecognised give null.
 */
export function accountOfPrincipal(p: string): string | null {
  const s = p.trim();
  if (ACCOUNT_RE.test(s)) return s;
  const arn = parseArn(s);
  if (arn && ACCOUNT_RE.test(arn.account)) return arn.account;
  return null;
}

interface Arn { partition: string; service: string; region: string; account: string; resource: string }

function parseArn(s: string): Arn | null {
  if (!s.startsWith('arn:')) return null;
  const parts = s.split(':');
  if (parts.length < 6) return null;
  return {
    partition: parts[1] ?? '',
    service: parts[2] ?? '',
    region: parts[3] ?? '',
    account: parts[4] ?? '',
    resource: parts.slice(5).join(':'),
  };
}

function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?') || s.includes('${');
}

export function isServicePrincipal(s: string): boolean {
  const v = s.trim().toLowerCase();
  return v === 'aws internal' || /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/.test(v) || /^[a-z0-9.-]+\.(amazon|aws)\.internal$/.test(v);
}

type PrincipalClass =
  | { c: 'any' }                       // "*" or a wildcard account
  | { c: 'account'; account: string }  // attributable to one account
  | { c: 'ignored' }                   // service principal, dangling unique id
  | { c: 'unattributable' };           // canonical user, unknown string

function classifyPrincipal(type: string, raw: string): PrincipalClass {
  const v = raw.trim();
  if (v === '') return { c: 'ignored' };
  if (type === 'service') return { c: 'ignored' };
  if (type === 'canonicaluser') return { c: 'unattributable' };
  if (v === '*') return { c: 'any' };
  if (ACCOUNT_RE.test(v)) return { c: 'account', account: v };
  const arn = parseArn(v);
  if (arn) {
    if (ACCOUNT_RE.test(arn.account)) return { c: 'account', account: arn.account };
    if (hasWildcard(arn.account)) return { c: 'any' };
    return { c: 'unattributable' };
  }
  if (type === 'federated') return { c: 'any' }; // web identity provider, not bound to an account
  if (UNIQUE_ID_RE.test(v)) return { c: 'ignored' };
  if (isServicePrincipal(v)) return { c: 'ignored' };
  if (hasWildcard(v)) return { c: 'any' };
  return { c: 'unattributable' };
}

export interface PrincipalEntry { type: string; value: string }

/** Flatten a Principal / NotPrincipal element. Returns null when absent. */
export function principalEntries(p: unknown): PrincipalEntry[] | null {
  if (p === undefined || p === null) return null;
  if (typeof p === 'string' || typeof p === 'number') return [{ type: 'aws', value: String(p) }];
  if (Array.isArray(p)) return p.flatMap((x) => (typeof x === 'string' || typeof x === 'number' ? [{ type: 'aws', value: String(x) }] : []));
  if (typeof p !== 'object') return [];
  const out: PrincipalEntry[] = [];
  for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
    const type = k.toLowerCase();
    for (const s of strings(v)) out.push({ type, value: s });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Generic helpers

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** String or array of strings (numbers/booleans stringified); anything else is dropped. */
export function strings(v: unknown): string[] {
  const one = (x: unknown): string[] =>
    typeof x === 'string' ? [x] : typeof x === 'number' || typeof x === 'boolean' ? [String(x)] : [];
  return Array.isArray(v) ? v.flatMap(one) : one(v);
}

export function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function quote(s: string): string {
  return `"${s}"`;
}

// ---------------------------------------------------------------------------
// Conditions

/** A restriction on who can match a statement (or who survives a Deny guard). */
type Constraint =
  | { t: 'accounts'; accounts: ReadonlySet<string>; key: string }   // principal's account ∈ set
  | { t: 'org'; orgIds: string[]; trusted: boolean; key: string }    // principal ∈ one of the orgs
  | { t: 'network'; key: string }                                     // request from a given VPC / endpoint
  | { t: 'trusted'; key: string }                                     // known to admit only trusted principals
  | { t: 'exclude'; accounts: ReadonlySet<string>; key: string };     // these accounts are denied

export interface ParsedOperator { base: string; set: 'any' | 'all' | null; ifExists: boolean }

export function parseOperator(op: string): ParsedOperator {
  let rest = op.trim().toLowerCase();
  let set: ParsedOperator['set'] = null;
  if (rest.startsWith('foranyvalue:')) { set = 'any'; rest = rest.slice('foranyvalue:'.length); }
  else if (rest.startsWith('forallvalues:')) { set = 'all'; rest = rest.slice('forallvalues:'.length); }
  let ifExists = false;
  if (rest.endsWith('ifexists')) { ifExists = true; rest = rest.slice(0, -'ifexists'.length); }
  return { base: rest, set, ifExists };
}

const POSITIVE_OPS = new Set(['stringequals', 'stringequalsignorecase', 'stringlike', 'arnequals', 'arnlike']);
const NEGATED_OPS = new Set(['stringnotequals', 'stringnotequalsignorecase', 'stringnotlike', 'arnnotequals', 'arnnotlike']);

const ACCOUNT_KEYS = new Set(['aws:principalaccount', 'kms:calleraccount', 'aws:sourceaccount', 'aws:sourceowner']);
const ARN_KEYS = new Set(['aws:principalarn', 'aws:sourcearn']);
const NETWORK_KEYS = new Set(['aws:sourcevpc', 'aws:sourcevpce']);
/** Keys a Deny guard may negate. */
const GUARD_KEYS = new Set(['aws:principalorgid', 'aws:principalorgpaths', 'aws:principalaccount', 'kms:calleraccount', 'aws:principalarn']);

function orgTrusted(orgIds: string[], trust: TrustContext): boolean {
  const orgs = trust.trustedOrgIds;
  if (!orgs || orgs.size === 0) return true;
  const lower = new Set([...orgs].map((o) => o.toLowerCase()));
  return orgIds.every((o) => lower.has(o.toLowerCase()));
}

/**
 * The constraint a key/value set expresses ("the caller's <key> is one of
 * <values>"), or null when it limits nothing we can reason about.
 */
function constraintFor(key: string, values: string[], trust: TrustContext, label: string = key): Constraint | null {
  const c = constraintForKey(key, values, trust);
  return c ? { ...c, key: label } : null;
}

function constraintForKey(key: string, values: string[], trust: TrustContext): Constraint | null {
  if (values.length === 0) return null;
  if (ACCOUNT_KEYS.has(key)) {
    if (!values.every((v) => ACCOUNT_RE.test(v.trim()))) return null;
    return { t: 'accounts', accounts: new Set(values.map((v) => v.trim())), key };
  }
  if (ARN_KEYS.has(key)) {
    const accounts: string[] = [];
    for (const v of values) {
      const arn = parseArn(v.trim());
      if (!arn || !ACCOUNT_RE.test(arn.account)) return null; // wildcard / empty account field
      accounts.push(arn.account);
    }
    return { t: 'accounts', accounts: new Set(accounts), key };
  }
  if (key === 'aws:principalorgid') {
    if (!values.every((v) => ORG_ID_RE.test(v.trim()))) return null;
    const orgIds = values.map((v) => v.trim());
    return { t: 'org', orgIds, trusted: orgTrusted(orgIds, trust), key };
  }
  if (key === 'aws:principalorgpaths') {
    const orgIds: string[] = [];
    for (const v of values) {
      const first = v.trim().split('/')[0] ?? '';
      if (!ORG_ID_RE.test(first)) return null; // "o-*/..." or "*" narrows nothing
      orgIds.push(first);
    }
    return { t: 'org', orgIds, trusted: orgTrusted(orgIds, trust), key };
  }
  if (NETWORK_KEYS.has(key)) {
    if (values.some((v) => hasWildcard(v) || v.trim() === '')) return null;
    return { t: 'network', key };
  }
  return null;
}

export interface ConditionEntry { op: string; key: string; rawKey: string; values: string[] }

export function conditionEntries(cond: unknown): ConditionEntry[] {
  if (!isRecord(cond)) return [];
  const out: ConditionEntry[] = [];
  for (const [op, block] of Object.entries(cond)) {
    if (!isRecord(block)) continue;
    for (const [key, v] of Object.entries(block)) out.push({ op, key: key.toLowerCase(), rawKey: key, values: strings(v) });
  }
  return out;
}

/** Narrowing constraints of an Allow statement's Condition element. */
function allowConstraints(cond: unknown, trust: TrustContext): Constraint[] {
  const out: Constraint[] = [];
  for (const { op, key, rawKey, values } of conditionEntries(cond)) {
    const p = parseOperator(op);
    if (!POSITIVE_OPS.has(p.base) || p.ifExists || p.set === 'all') continue;
    const c = constraintFor(key, values, trust, rawKey);
    if (c) out.push(c);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Actions

function statementActions(st: Record<string, unknown>): { written: string[]; patterns: string[] | null } | null {
  if (st['Action'] !== undefined) {
    const a = strings(st['Action']);
    return a.length ? { written: a, patterns: a } : null;
  }
  if (st['NotAction'] !== undefined) {
    const a = strings(st['NotAction']);
    return { written: a.map((x) => `NotAction: ${x}`), patterns: null };
  }
  return null;
}

function isAllActions(p: string): boolean {
  const v = p.trim().toLowerCase();
  return v === '*' || v === 'kms:*';
}

/** Does a Deny with Action `deny` cover every action an Allow grants? (`allow` null = NotAction.) */
function actionsCovered(deny: string[], allow: string[] | null): boolean {
  if (deny.some(isAllActions)) return true;
  if (allow === null) return false;
  const res = deny.map(globToRegExp);
  return allow.every((a) => res.some((r) => r.test(a.trim())));
}

// ---------------------------------------------------------------------------
// Deny guards

interface Guard { actions: string[]; constraint: Constraint }

function isExemption(op: string, key: string, values: string[]): boolean {
  const p = parseOperator(op);
  return p.base === 'bool' && p.set === null && key === 'aws:principalisawsservice' && values.length === 1 && values[0]?.trim().toLowerCase() === 'false';
}

function isTrustedConstraint(c: Constraint, trust: TrustContext): boolean {
  switch (c.t) {
    case 'accounts': return [...c.accounts].every((a) => trust.trustedAccounts.has(a));
    case 'org': return c.trusted;
    case 'trusted': return true;
    default: return false;
  }
}

function guardOf(st: Record<string, unknown>, trust: TrustContext): Guard | null {
  const acts = statementActions(st);
  if (!acts || acts.patterns === null) return null; // Deny+NotAction: not modelled
  const actions = acts.patterns;
  const conds = conditionEntries(st['Condition']);

  const notPrincipal = principalEntries(st['NotPrincipal']);
  if (notPrincipal !== null) {
    if (conds.some((c) => !isExemption(c.op, c.key, c.values))) return null;
    const accounts = new Set<string>();
    for (const e of notPrincipal) {
      const k = classifyPrincipal(e.type, e.value);
      if (k.c === 'any') return null; // "deny everyone except everyone"
      if (k.c === 'account') accounts.add(k.account);
      if (k.c === 'unattributable') return null;
    }
    return { actions, constraint: { t: 'accounts', accounts, key: 'NotPrincipal' } };
  }

  const principal = principalEntries(st['Principal']);
  if (principal === null || principal.length === 0) return null;
  const classes = principal.map((e) => ({ e, k: classifyPrincipal(e.type, e.value) }));

  if (classes.some((x) => x.k.c === 'any')) {
    const terms: Constraint[] = [];
    for (const { op, key, rawKey, values } of conds) {
      if (isExemption(op, key, values)) continue;
      const p = parseOperator(op);
      if (!NEGATED_OPS.has(p.base) || p.set !== null || !GUARD_KEYS.has(key)) return null;
      const c = constraintFor(key, values, trust, `Deny guard on ${rawKey}`);
      if (!c) return null;
      terms.push(c);
    }
    if (terms.length === 0) return { actions, constraint: { t: 'accounts', accounts: new Set(), key: 'Deny "*"' } };
    if (terms.length === 1 && terms[0]) return { actions, constraint: terms[0] };
    if (terms.every((c) => isTrustedConstraint(c, trust))) return { actions, constraint: { t: 'trusted', key: terms.map((c) => c.key).join(' / ') } };
    return null;
  }

  // Named principals, unconditional: whole accounts (root / bare id) are denied.
  if (conds.length > 0) return null;
  const denied = new Set<string>();
  for (const { e, k } of classes) {
    if (k.c !== 'account') continue;
    const v = e.value.trim();
    if (ACCOUNT_RE.test(v) || parseArn(v)?.resource === 'root') denied.add(k.account);
  }
  if (denied.size === 0) return null;
  return { actions, constraint: { t: 'exclude', accounts: denied, key: 'Deny' } };
}

// ---------------------------------------------------------------------------
// Evaluation

type Verdict =
  | { v: 'none' }
  | { v: 'public'; why: string }
  | { v: 'accounts'; accounts: string[]; why: string };

function describeKey(c: Constraint): string {
  if (c.key === 'NotPrincipal') return 'a Deny with NotPrincipal';
  if (c.key.startsWith('Deny')) return `a ${c.key}`;
  return `condition ${c.key}`;
}

/**
 * Who can actually use a statement for a principal class, after the
 * statement's own conditions and the Deny guards that cover it.
 */
function evaluate(k: PrincipalClass, constraints: Constraint[], trust: TrustContext): Verdict {
  const trustedBy = constraints.find((c) => (c.t === 'org' && c.trusted) || c.t === 'trusted');
  if (trustedBy) return { v: 'none' };

  const excluded = new Set<string>();
  for (const c of constraints) if (c.t === 'exclude') for (const a of c.accounts) excluded.add(a);

  const accountSets: ReadonlySet<string>[] = [];
  const accountKeys: string[] = [];
  for (const c of constraints) {
    if (c.t !== 'accounts') continue;
    accountKeys.push(describeKey(c));
    accountSets.push(c.accounts);
  }
  // ANDed conditions: the principal's account must be in every set.
  const allowed: ReadonlySet<string> | null = accountSets.length === 0
    ? null
    : new Set([...(accountSets[0] ?? [])].filter((a) => accountSets.every((set) => set.has(a))));

  if (k.c === 'account') {
    if (trust.trustedAccounts.has(k.account) || excluded.has(k.account)) return { v: 'none' };
    if (allowed !== null && !allowed.has(k.account)) return { v: 'none' };
    return { v: 'accounts', accounts: [k.account], why: '' };
  }

  if (allowed !== null) {
    const untrusted = [...allowed].filter((a) => !trust.trustedAccounts.has(a) && !excluded.has(a)).sort();
    if (untrusted.length === 0) return { v: 'none' };
    return { v: 'accounts', accounts: untrusted, why: `${accountKeys.join(' and ')} limits it to account(s) ${untrusted.join(', ')} outside the trusted accounts` };
  }

  if (k.c === 'unattributable') return { v: 'accounts', accounts: [], why: '' };

  // k.c === 'any'
  const org = constraints.find((c): c is Extract<Constraint, { t: 'org' }> => c.t === 'org');
  if (org) return { v: 'public', why: `${describeKey(org)} limits it only to organization(s) ${org.orgIds.join(', ')}, which are not trusted` };
  if (constraints.some((c) => c.t === 'network')) return { v: 'none' };
  return { v: 'public', why: 'with no condition that limits it to trusted accounts or the organization' };
}

export function parsePolicy(policy: unknown): Record<string, unknown> {
  let doc: unknown = policy;
  if (typeof policy === 'string') {
    try {
      doc = JSON.parse(policy);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new Error(`KMS key policy is not valid JSON: ${msg}`);
    }
  }
  if (!isRecord(doc)) {
    throw new Error(`KMS key policy must be a JSON object, got ${doc === null ? 'null' : Array.isArray(doc) ? 'an array' : typeof doc}`);
  }
  return doc;
}

/**
 * Report every Allow statement of a key policy that gives access outside the
 * zone of trust. `policy` is the JSON string from CloudTrail
 * `requestParameters.policy` (PutKeyPolicy / CreateKey) or an already parsed
 * document. Throws an Error when the string is not valid JSON or the document
 * is not an object.
 */
export function analyzeKeyPolicy(policy: unknown, trust: TrustContext): PolicyExposure[] {
  const doc = parsePolicy(policy);
  const raw = doc['Statement'];
  const statements: unknown[] = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];

  const guards: Guard[] = [];
  statements.forEach((st) => {
    if (isRecord(st) && String(st['Effect'] ?? '').toLowerCase() === 'deny') {
      const g = guardOf(st, trust);
      if (g) guards.push(g);
    }
  });

  const out: PolicyExposure[] = [];
  statements.forEach((st, i) => {
    if (!isRecord(st) || String(st['Effect'] ?? '').toLowerCase() !== 'allow') return;
    const acts = statementActions(st);
    if (!acts) return;
    const sid = typeof st['Sid'] === 'string' && st['Sid'] !== '' ? st['Sid'] : undefined;
    const label = `Statement[${i}]${sid ? ` (${quote(sid)})` : ''}`;
    const actionText = acts.written.join(', ') || '(no actions)';

    const constraints = allowConstraints(st['Condition'], trust);
    for (const g of guards) if (actionsCovered(g.actions, acts.patterns)) constraints.push(g.constraint);

    const base = { statementIndex: i, ...(sid ? { sid } : {}), actions: acts.written };

    const notPrincipal = principalEntries(st['NotPrincipal']);
    if (notPrincipal !== null && st['Principal'] === undefined) {
      const listed = notPrincipal.map((e) => e.value).join(', ');
      const principal = `NotPrincipal: ${listed}`;
      const r = evaluate({ c: 'any' }, constraints, trust);
      if (r.v === 'public') {
        out.push({ ...base, kind: 'public', principal, accounts: [], reason: `${label} allows ${actionText} to every principal except ${listed || 'none'} (Allow with NotPrincipal) ${r.why}` });
      } else if (r.v === 'accounts') {
        out.push({ ...base, kind: 'untrusted_account', principal, accounts: r.accounts, reason: `${label} allows ${actionText} to every principal except ${listed || 'none'} (Allow with NotPrincipal), but ${r.why}` });
      }
      return;
    }

    const entries = principalEntries(st['Principal']);
    if (entries === null) return;
    for (const e of entries) {
      const k = classifyPrincipal(e.type, e.value);
      if (k.c === 'ignored') continue;
      const r = evaluate(k, constraints, trust);
      const principal = e.value.trim();
      if (r.v === 'none') continue;
      if (r.v === 'public') {
        out.push({ ...base, kind: 'public', principal, accounts: [], reason: `${label} allows ${actionText} to Principal ${quote(principal)} ${r.why}` });
      } else if (k.c === 'account') {
        out.push({ ...base, kind: 'untrusted_account', principal, accounts: r.accounts, reason: `${label} allows ${actionText} to ${quote(principal)} in account ${k.account}, which is not a trusted account` });
      } else if (k.c === 'unattributable' && r.why === '') {
        out.push({ ...base, kind: 'untrusted_account', principal, accounts: [], reason: `${label} allows ${actionText} to ${quote(principal)}, which cannot be attributed to a trusted account` });
      } else {
        out.push({ ...base, kind: 'untrusted_account', principal, accounts: r.accounts, reason: `${label} allows ${actionText} to Principal ${quote(principal)}, but ${r.why}` });
      }
    }
  });
  return out;
}

/**
 * Report the grantee and retiring principals of a CloudTrail CreateGrant
 * `requestParameters` that lie outside the zone of trust. `keyAccount` (the
 * key's own account, derived from an ARN `keyId` when null) is always trusted.
 * Service principals ("dynamodb.us-east-1.amazonaws.com", "AWS Internal") are
 * never reported. Grant exposures carry statementIndex -1; the retiring
 * principal's action is "kms:RetireGrant".
 */
export function analyzeGrant(requestParameters: unknown, keyAccount: string | null, trust: TrustContext): PolicyExposure[] {
  if (!isRecord(requestParameters)) return [];
  const keyId = typeof requestParameters['keyId'] === 'string' ? requestParameters['keyId'] : '';
  const own = keyAccount ?? (keyId ? accountOfPrincipal(keyId) : null);
  const operations = strings(requestParameters['operations']);
  const keyText = keyId ? ` on key ${keyId}` : '';

  const out: PolicyExposure[] = [];
  const check = (field: 'granteePrincipal' | 'retiringPrincipal', actions: string[], role: string): void => {
    const v = requestParameters[field];
    if (typeof v !== 'string' || v.trim() === '') return;
    const principal = v.trim();
    const k = classifyPrincipal('aws', principal);
    if (k.c === 'ignored') return;
    const what = actions.length ? actions.join(', ') : '(no operations)';
    if (k.c === 'any') {
      out.push({ kind: 'public', statementIndex: -1, principal, accounts: [], actions, reason: `CreateGrant${keyText} names ${role} ${quote(principal)}, which matches any account, for ${what}` });
      return;
    }
    if (k.c === 'unattributable') {
      out.push({ kind: 'untrusted_account', statementIndex: -1, principal, accounts: [], actions, reason: `CreateGrant${keyText} gives ${what} to ${role} ${quote(principal)}, which cannot be attributed to a trusted account` });
      return;
    }
    if (k.account === own || trust.trustedAccounts.has(k.account)) return;
    out.push({ kind: 'untrusted_account', statementIndex: -1, principal, accounts: [k.account], actions, reason: `CreateGrant${keyText} gives ${what} to ${role} ${quote(principal)} in account ${k.account}, which is not a trusted account` });
  };
  check('granteePrincipal', operations, 'grantee principal');
  check('retiringPrincipal', ['kms:RetireGrant'], 'retiring principal');
  return out;
}
