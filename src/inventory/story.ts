// One key's whole story (keytrail keys show): its state as the latest audit saw it (or as the trail
// leaves it), aliases, tags, rotation, its policy with the analysis's verdict per statement, its
// grants; then its timeline from CloudTrail (every change, with the policy diff) and its callers per
// month. Data only; src/cli/keys-show.ts renders it.

import type { QueryEngine } from '../engine.js';
import type { Trust } from '../detect/analyze.js';
import { accountOfPrincipal, analyzeGrant, analyzeKeyPolicy, type TrustContext } from '../kms/policy.js';
import type { Row } from '../store/db.js';
import { accessTable, type AccessTable } from './access-table.js';

/** The key asked for cannot be found, or the name matches several keys: exit code 2. */
export class KeyNotFoundError extends Error {}

export interface StatementVerdict {
  index: number;
  sid: string | null;
  effect: string;
  /** 'exposes' with the reasons, 'trusted' (an Allow inside the zone of trust), 'deny'. */
  verdict: 'exposes' | 'trusted' | 'deny';
  reasons: string[];
  statement: unknown;
}

export interface TimelineEntry {
  event_time: string;
  event_name: string;
  identity_arn: string | null;
  source_ip: string | null;
  error_code: string | null;
  summary: string;
}

export interface KeyStory {
  key_arn: string;
  /** 'audit': the latest keytrail keys audit; 'cloudtrail': the kms_key_state view; null: neither knows it. */
  state_from: 'audit' | 'cloudtrail' | null;
  state: Row | null;
  aliases: string[];
  tags: Record<string, string>;
  rotation: Row | null;
  policy: { text: string; statements: StatementVerdict[] } | null;
  grants: Array<Row & { verdict: string }>;
  unreadable: Row[];
  /** Who can use and administer the key (latest audit), and who did (CloudTrail); null when not audited. */
  access: AccessTable | null;
  timeline: TimelineEntry[];
  callers_by_month: Row[];
}

const KEY_ARN_RE = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

async function exists(engine: QueryEngine, table: string): Promise<boolean> {
  const rows = await engine.query('SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $t', { t: table });
  return Number(rows[0]?.n ?? 0) > 0;
}

/** A key id, key ARN, alias name (alias/x) or alias ARN -> the key's ARN, from the audit or the trail. */
export async function resolveKey(engine: QueryEngine, name: string): Promise<string> {
  const audited = await exists(engine, 'inventory_keys');
  if (KEY_ARN_RE.test(name)) return name;
  const alias = /^(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:)?(alias\/.+)$/.exec(name)?.[1];
  const found = new Set<string>();
  if (alias) {
    if (audited) {
      for (const r of await engine.query(
        `SELECT DISTINCT a.target_key_arn FROM inventory_aliases a JOIN inventory_current_scopes c USING (run_id, account_id, aws_region)
         WHERE a.alias_name = $alias AND a.target_key_arn IS NOT NULL AND ($arn IS NULL OR a.alias_arn = $arn)`,
        { alias, arn: name.startsWith('arn:') ? name : null },
      )) found.add(String(r.target_key_arn));
    }
    if (found.size === 0) {
      const rows = await engine.query(
        `SELECT key_arn FROM kms_events
         WHERE event_name IN ('CreateAlias', 'UpdateAlias') AND error_code IS NULL AND key_arn IS NOT NULL
           AND json_extract_string(request_parameters, '$.aliasName') = $alias
         ORDER BY event_time DESC LIMIT 1`,
        { alias },
      );
      for (const r of rows) found.add(String(r.key_arn));
    }
  } else {
    if (audited) for (const r of await engine.query('SELECT DISTINCT key_arn FROM inventory_keys WHERE key_id = $id', { id: name })) found.add(String(r.key_arn));
    for (const r of await engine.query('SELECT DISTINCT key_arn FROM kms_events WHERE key_id = $id AND key_arn IS NOT NULL', { id: name })) found.add(String(r.key_arn));
  }
  if (found.size === 0) throw new KeyNotFoundError(`no key '${name}' in the latest audit or the CloudTrail history (give a key id, key ARN or alias)`);
  if (found.size > 1) throw new KeyNotFoundError(`'${name}' names ${found.size} keys: ${[...found].sort().join(', ')}; give the key ARN`);
  return [...found][0];
}

function trustFor(keyArn: string, trust: Trust): TrustContext {
  const accounts = new Set(trust.trustedAccounts);
  const own = accountOfPrincipal(keyArn);
  if (own) accounts.add(own);
  return { trustedAccounts: accounts, trustedOrgIds: new Set(trust.trustedOrgIds) };
}

/** Each statement of a policy with the analysis's verdict. */
export function judgePolicy(text: string, keyArn: string, trust: Trust): StatementVerdict[] {
  const doc = JSON.parse(text) as { Statement?: unknown };
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement === undefined ? [] : [doc.Statement];
  const exposures = analyzeKeyPolicy(doc, trustFor(keyArn, trust));
  return statements.map((st, index) => {
    const s = (st ?? {}) as Record<string, unknown>;
    const effect = String(s.Effect ?? '');
    const reasons = exposures.filter((e) => e.statementIndex === index).map((e) => e.reason);
    const verdict = reasons.length > 0 ? 'exposes' : effect.toLowerCase() === 'deny' ? 'deny' : 'trusted';
    return { index, sid: typeof s.Sid === 'string' && s.Sid !== '' ? s.Sid : null, effect, verdict, reasons, statement: st };
  });
}

export async function keyStory(engine: QueryEngine, keyArn: string, trust: Trust): Promise<KeyStory> {
  const story: KeyStory = {
    key_arn: keyArn, state_from: null, state: null, aliases: [], tags: {}, rotation: null, policy: null, grants: [], unreadable: [], access: null,
    timeline: [], callers_by_month: [],
  };
  const k = { k: keyArn };
  if (await exists(engine, 'inventory_keys')) {
    const [state] = await engine.query(
      `SELECT key_arn, key_id, account_id, aws_region, key_state, key_manager, key_spec, key_usage, origin, description,
              creation_date, deletion_date, valid_to, expiration_model, custom_key_store_id, multi_region, audited_at, run_id
       FROM inventory_current_keys WHERE key_arn = $k`, k);
    if (state) {
      const run = { k: keyArn, run: Number(state.run_id) };
      delete state.run_id;
      story.state_from = 'audit';
      story.state = state;
      story.aliases = (await engine.query('SELECT alias_name FROM inventory_aliases WHERE run_id = $run AND target_key_arn = $k ORDER BY alias_name', run)).map((r) => String(r.alias_name));
      story.tags = Object.fromEntries((await engine.query('SELECT tag_key, tag_value FROM inventory_tags WHERE run_id = $run AND key_arn = $k ORDER BY tag_key', run)).map((r) => [String(r.tag_key), String(r.tag_value ?? '')]));
      [story.rotation = null] = await engine.query('SELECT rotation_supported, rotation_enabled, rotation_period_days, next_rotation_date FROM inventory_rotation WHERE run_id = $run AND key_arn = $k', run);
      const [policy] = await engine.query('SELECT policy FROM inventory_policies WHERE run_id = $run AND key_arn = $k', run);
      if (policy) story.policy = { text: JSON.stringify(JSON.parse(String(policy.policy)), null, 2), statements: judgePolicy(String(policy.policy), keyArn, trust) };
      const grants = await engine.query(
        `SELECT grant_id, grant_name, grantee_principal, retiring_principal, operations, constraints, creation_date
         FROM inventory_grants WHERE run_id = $run AND key_arn = $k ORDER BY creation_date, grant_id`, run);
      story.grants = grants.map((g) => {
        const exposures = analyzeGrant({ keyId: keyArn, granteePrincipal: g.grantee_principal, retiringPrincipal: g.retiring_principal, operations: g.operations }, accountOfPrincipal(keyArn), trustFor(keyArn, trust));
        return { ...g, verdict: exposures.length ? exposures.map((e) => e.reason.replace('CreateGrant on key', 'The grant on key')).join('; ') : 'inside the zone of trust' };
      });
      story.unreadable = await engine.query('SELECT operation, error_code, error_message FROM inventory_errors WHERE run_id = $run AND key_arn = $k ORDER BY operation', run);
      if (await exists(engine, 'inventory_access')) story.access = await accessTable(engine, { keyArn });
    }
  }
  if (!story.state && (await exists(engine, 'kms_key_state'))) {
    const [state] = await engine.query('SELECT * FROM kms_key_state WHERE key_arn = $k', k);
    if (state) {
      story.state_from = 'cloudtrail';
      story.state = state;
    }
  }
  const events = await engine.query(
    `SELECT e.event_time, e.event_name, e.identity_arn, e.source_ip, e.error_code, e.request_parameters, e.response_elements
     FROM kms_events e JOIN kms_event_catalogue c ON c.event_name = e.event_name
     WHERE e.key_arn = $k AND c.category NOT IN ('data', 'read')
     ORDER BY e.event_time, e.event_id`, k);
  let policy: unknown = null;
  for (const e of events) {
    const request = (e.request_parameters ?? {}) as Record<string, unknown>;
    let summary = summarize(String(e.event_name), request, (e.response_elements ?? {}) as Record<string, unknown>);
    if (!e.error_code && (e.event_name === 'PutKeyPolicy' || e.event_name === 'CreateKey') && typeof request.policy === 'string') {
      const next = parseJson(request.policy);
      summary = [summary, policy === null ? (e.event_name === 'PutKeyPolicy' ? 'the policy before is not in the history' : '') : policyDiff(policy, next)].filter(Boolean).join('; ');
      policy = next;
    }
    story.timeline.push({
      event_time: String(e.event_time), event_name: String(e.event_name), identity_arn: (e.identity_arn as string | null) ?? null,
      source_ip: (e.source_ip as string | null) ?? null, error_code: (e.error_code as string | null) ?? null, summary,
    });
  }
  story.callers_by_month = await engine.query(
    `SELECT strftime(e.event_time, '%Y-%m') AS month, e.identity_arn, count(*) AS calls, count(e.error_code) AS errors,
            string_agg(DISTINCT e.event_name, ', ' ORDER BY e.event_name) AS operations
     FROM kms_events e JOIN kms_event_catalogue c ON c.event_name = e.event_name AND c.category = 'data'
     WHERE e.key_arn = $k
     GROUP BY ALL ORDER BY month, calls DESC, e.identity_arn`, k);
  if (!story.state_from && events.length === 0 && story.callers_by_month.length === 0) {
    throw new KeyNotFoundError(`no key '${keyArn}' in the latest audit or the CloudTrail history`);
  }
  return story;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** One line for what a change event did. */
function summarize(name: string, req: Record<string, unknown>, res: Record<string, unknown>): string {
  const s = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  switch (name) {
    case 'CreateKey':
      return `created: ${s(req.keySpec ?? req.customerMasterKeySpec ?? 'SYMMETRIC_DEFAULT')}, ${s(req.keyUsage ?? 'ENCRYPT_DECRYPT')}, origin ${s(req.origin ?? 'AWS_KMS')}`;
    case 'ScheduleKeyDeletion':
      return `deletion scheduled${res.deletionDate ? ` for ${s(res.deletionDate)}` : ''} (${s(req.pendingWindowInDays ?? res.pendingWindowInDays ?? 30)} days)`;
    case 'EnableKeyRotation':
      return `rotation on${req.rotationPeriodInDays ? ` every ${s(req.rotationPeriodInDays)} days` : ''}`;
    case 'DisableKeyRotation':
      return 'rotation off';
    case 'CreateGrant':
      return `grant ${s(res.grantId)} to ${s(req.granteePrincipal)}${req.retiringPrincipal ? ` (retiring: ${s(req.retiringPrincipal)})` : ''}: ${(Array.isArray(req.operations) ? req.operations : []).join(', ')}`;
    case 'RetireGrant':
    case 'RevokeGrant':
      return `grant ${s(req.grantId ?? req.grantToken)} ${name === 'RevokeGrant' ? 'revoked' : 'retired'}`;
    case 'ImportKeyMaterial':
      return `key material imported (${s(req.expirationModel ?? 'KEY_MATERIAL_DOES_NOT_EXPIRE')}${req.validTo ? `, valid to ${s(req.validTo)}` : ''})`;
    case 'CreateAlias':
    case 'UpdateAlias':
    case 'DeleteAlias':
      return `${s(req.aliasName)}`;
    case 'TagResource':
      return (Array.isArray(req.tags) ? req.tags : []).map((t) => `${s((t as Record<string, unknown>).tagKey)}=${s((t as Record<string, unknown>).tagValue)}`).join(', ');
    case 'UntagResource':
      return (Array.isArray(req.tagKeys) ? req.tagKeys : []).map(s).join(', ');
    case 'UpdateKeyDescription':
      return s(req.description);
    default:
      return '';
  }
}

/** Statements removed and added between two policies, each named by its Sid or position. */
export function policyDiff(before: unknown, after: unknown): string {
  const list = (doc: unknown): unknown[] => {
    const st = (doc as { Statement?: unknown } | null)?.Statement;
    return Array.isArray(st) ? st : st === undefined ? [] : [st];
  };
  const canon = (v: unknown): string => JSON.stringify(sortKeys(v));
  const old = list(before).map(canon);
  const now = list(after).map(canon);
  const label = (c: string, i: number) => {
    const st = JSON.parse(c) as Record<string, unknown>;
    return `${typeof st.Sid === 'string' && st.Sid ? `"${st.Sid}"` : `#${i}`}: ${c}`;
  };
  const removed = old.map((c, i) => [c, i] as const).filter(([c]) => !now.includes(c)).map(([c, i]) => `- ${label(c, i)}`);
  const added = now.map((c, i) => [c, i] as const).filter(([c]) => !old.includes(c)).map(([c, i]) => `+ ${label(c, i)}`);
  return removed.length + added.length === 0 ? 'policy unchanged' : [...removed, ...added].join('\n');
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}
