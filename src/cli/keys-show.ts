// keytrail keys show KEY: one key's whole story, from the latest audit and the CloudTrail history.

import { DuckDBEngine } from '../engine.js';
import { TrustError, loadTrustConfig, parseAccountList, resolveTrust, type TrustConfig } from '../detect/trust.js';
import { auditedAccounts } from '../inventory/checks.js';
import { KeyNotFoundError, keyStory, resolveKey, type KeyStory } from '../inventory/story.js';
import { DEFAULT_DB, EXIT, UsageError, oneOf, parse } from './args.js';
import { formatRows } from './format.js';
import { ACCESS_COLUMNS } from './keys-access.js';

const HELP = `usage: keytrail keys show KEY [--db FILE] [--format table|md|json]
                         [--trusted-accounts IDS | --config FILE]

One key's whole story, read-only: its current state (from the latest keytrail keys audit,
else as the CloudTrail history leaves it), aliases, tags, rotation, its key policy
pretty-printed with the analysis's verdict per statement, its grants, who can use and
administer it and who did (as keytrail keys access); then its timeline from
CloudTrail (creation, every policy, grant, state, rotation, alias and tag change, with what
each policy change added and removed) and its callers per month.

KEY is a key id, a key ARN, an alias name (alias/name) or an alias ARN.

options:
  --db FILE                 database file (default ${DEFAULT_DB})
  --format FORMAT           table (default), md or json
  --trusted-accounts IDS    comma-separated account ids inside the zone of trust (the key's own
                            account always is; default: the accounts of the trail and the audit)
  --config FILE             JSON {"trustedAccounts": [...], "trustedOrgIds": ["o-..."]}
  -h, --help                show this help`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, HELP, {
    db: { type: 'string', default: DEFAULT_DB },
    format: { type: 'string' },
    'trusted-accounts': { type: 'string' },
    config: { type: 'string' },
  });
  const format = oneOf(values.format, '--format', ['table', 'md', 'json'] as const, 'table');
  if (positionals.length !== 1) throw new UsageError(`give exactly one KEY (a key id, key ARN or alias), not ${positionals.length}`);
  let trustedAccounts: string[] | null = null;
  let config: TrustConfig | null = null;
  try {
    if (values['trusted-accounts'] !== undefined) trustedAccounts = parseAccountList(values['trusted-accounts']);
    if (values.config !== undefined) config = loadTrustConfig(values.config);
  } catch (err) {
    if (err instanceof TrustError) throw new UsageError(err.message);
    throw err;
  }
  const engine = await DuckDBEngine.open(values.db!);
  try {
    let story: KeyStory;
    try {
      const keyArn = await resolveKey(engine, positionals[0]);
      const trust = await resolveTrust(engine, trustedAccounts, config);
      if (trust.accountsFrom === 'data') trust.trustedAccounts = [...new Set([...trust.trustedAccounts, ...(await auditedAccounts(engine))])];
      story = await keyStory(engine, keyArn, trust);
    } catch (err) {
      if (err instanceof KeyNotFoundError) throw new UsageError(`${err.message} in ${values.db}`);
      throw err;
    }
    console.log(format === 'json' ? JSON.stringify(story, null, 2) : render(story, format));
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}

/** The story as text: sections with a heading each, tables in the chosen form. */
export function render(story: KeyStory, format: 'table' | 'md'): string {
  const md = format === 'md';
  const out: string[] = [];
  const heading = (text: string) => out.push(md ? `\n## ${text}\n` : `\n${text}\n${'='.repeat(text.length)}`);
  const rows = (list: Array<Record<string, unknown>>, columns: string[]) => out.push(list.length === 0 ? '(none)' : md ? mdTable(list, columns) : formatRows(list, columns, 'table'));
  const block = (text: string) => out.push(md ? `\`\`\`\n${text}\n\`\`\`` : text);

  out.push(md ? `# ${story.key_arn}` : story.key_arn);
  heading(story.state_from === 'audit' ? 'State (latest audit)' : story.state_from === 'cloudtrail' ? 'State (from the CloudTrail history)' : 'State (unknown: not audited, no state change in the history)');
  if (story.state) rows(Object.entries(story.state).filter(([, v]) => v !== null && v !== '').map(([field, value]) => ({ field, value })), ['field', 'value']);
  if (story.state_from === 'audit') {
    out.push(`aliases: ${story.aliases.join(', ') || '(none)'}`);
    out.push(`tags: ${Object.entries(story.tags).map(([k, v]) => `${k}=${v}`).join(', ') || '(none)'}`);
    const r = story.rotation;
    out.push(`rotation: ${!r ? 'unknown (not read)' : !r.rotation_supported ? 'not supported for this key' : r.rotation_enabled ? `on, every ${r.rotation_period_days} days, next ${r.next_rotation_date ?? '?'}` : 'off'}`);
    if (story.unreadable.length > 0) {
      heading('Could not be read');
      rows(story.unreadable, ['operation', 'error_code', 'error_message']);
    }
    heading('Key policy');
    if (!story.policy) out.push('(not read)');
    else {
      for (const s of story.policy.statements) {
        const verdict = s.verdict === 'exposes' ? `EXPOSES: ${s.reasons.join('; ')}` : s.verdict === 'deny' ? 'Deny' : 'inside the zone of trust';
        out.push(`${md ? '**' : ''}Statement[${s.index}]${s.sid ? ` "${s.sid}"` : ''}: ${verdict}${md ? '**' : ''}`);
        block(JSON.stringify(s.statement, null, 2));
      }
    }
    heading('Grants');
    if (md) rows(story.grants, ['grant_id', 'grantee_principal', 'retiring_principal', 'operations', 'creation_date', 'verdict']);
    else {
      // The verdict is a sentence: below the table, whole, rather than cut to a cell.
      rows(story.grants, ['grant_id', 'grantee_principal', 'retiring_principal', 'operations', 'creation_date']);
      for (const g of story.grants) out.push(`${String(g.grant_id)}: ${g.verdict}`);
    }
    if (story.access) {
      heading('Who can use it, and who did');
      rows(story.access.rows as unknown as Array<Record<string, unknown>>, ACCESS_COLUMNS.filter((c) => c !== 'key_arn'));
      for (const note of story.access.notes) out.push(`note: ${note}`);
    }
  }
  heading('Timeline (CloudTrail)');
  if (md) rows(story.timeline.map((t) => ({ ...t, summary: t.summary.replaceAll('\n', '<br>') })), ['event_time', 'event_name', 'identity_arn', 'error_code', 'summary']);
  else if (story.timeline.length === 0) out.push('(none)');
  else {
    for (const t of story.timeline) {
      out.push(`${t.event_time}  ${t.event_name}${t.error_code ? ` (failed: ${t.error_code})` : ''}  by ${t.identity_arn ?? '?'} from ${t.source_ip ?? '?'}`);
      for (const line of t.summary.split('\n').filter(Boolean)) out.push(`    ${line}`);
    }
  }
  heading('Callers per month (CloudTrail)');
  rows(story.callers_by_month, ['month', 'identity_arn', 'calls', 'errors', 'operations']);
  return out.join('\n');
}

function mdTable(list: Array<Record<string, unknown>>, columns: string[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)).replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
  return [`| ${columns.join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`, ...list.map((r) => `| ${columns.map((c) => cell(r[c])).join(' | ')} |`)].join('\n');
}
