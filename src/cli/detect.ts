// keytrail detect: runs the detections of queries/detections on the database and prints findings.

import type { QueryEngine } from '../engine.js';
import { DetectionError, ParamError, atOrAbove, parseParamOverrides, runDetections, sortFindings, type Finding } from '../detect/run.js';
import { explainRule, formatExplanation } from '../detect/explain.js';
import { RuleError, SEVERITIES, loadRules, type Rule, type Severity } from '../detect/rules.js';
import { TrustError, loadTrustConfig, parseAccountList, resolveTrust } from '../detect/trust.js';
import { auditFindings } from '../inventory/checks.js';
import { evidenceNotes, withEvidence } from '../integrity/evidence.js';
import { DEFAULT_DB, EXIT, UsageError, WAIT_OPTION, oneOf, parse, waitMs } from './args.js';
import { ENGINE_HELP, ENGINE_OPTIONS, engineErrorMessage, openEngine } from './engine-options.js';
import { formatRows, wrap } from './format.js';
import { NOTIFY_HELP, NOTIFY_OPTIONS, deliverFindings, notifySettings } from './notify-options.js';

const FORMATS = ['table', 'json', 'ndjson'] as const;
type DetectFormat = (typeof FORMATS)[number];

const HELP = `usage: keytrail detect [options]

Runs the detections (one SQL file each in queries/detections) on the database, read-only, and
prints their findings, worst first. Each finding: rule, severity, title, identity_arn, source_ip,
key_arn, account_id, first_seen, last_seen (UTC), event_count, detail, and attack (the rule's
MITRE ATT&CK techniques). When the database holds a live audit (keytrail keys audit), the findings
of its checks are included unless --rule is given.

options:
  --db FILE                 database file (default ${DEFAULT_DB})
  --rule ID                 run only this rule; repeat, or give several as ID,ID (default: all)
  --since DATE              report only what happened at or after DATE: YYYY-MM-DD, an ISO time
                            (2024-05-01T12:00:00Z), or Nd / Nh for N days / hours before now.
                            Earlier events still serve as baselines.
  --format FORMAT           table (default), json (an array of findings) or ndjson
  --fail-on SEVERITY        exit with code 1 when a finding of SEVERITY or worse exists:
                            low, medium or high (for cron and CI)
  --trusted-accounts IDS    comma-separated account ids inside the zone of trust
  --config FILE             JSON {"trustedAccounts": [...], "trustedOrgIds": ["o-..."],
                            "notify": [...], "notifySecret": "...", "notifyMinSeverity": "...",
                            "notifyRetrySeconds": 0.5 (first wait before a webhook is asked again,
                            doubled each time)}; the command line wins over it
  --param RULE.NAME=VALUE   override a rule's parameter; repeat for several
  --list                    list the rules with their severity, ATT&CK techniques, parameters
                            and description
  --explain RULE            print RULE's header, its parameters with their values, and how many
                            findings it gives on the database as they are and with each numeric
                            parameter halved and doubled (to tune it on your own data)
${NOTIFY_HELP}
  --wait SECONDS            wait up to SECONDS while an ingest holds the database (default 60)
${ENGINE_HELP}
  -h, --help                show this help

Trusted accounts default to the accounts that own the trail's data: the distinct
recipientAccountId values in the database. Cross-account use, external key use and policy and
grant exposure are judged against them (a key's own account is always trusted). Organization ids
(trustedOrgIds) only matter for key policy conditions; without any, a policy condition naming
any organization counts as trusted.

exit codes: 0 done (findings or not, unless --fail-on); 1 a finding at or above --fail-on;
2 bad usage, unusable database or config; 4 a detection failed to run, or a notification could
not be delivered (the reason on stderr; the next run tries again).

examples:
  keytrail detect --since 1d --fail-on high
  keytrail detect --rule volume_spike --param volume_spike.factor=5 --format json
  keytrail detect --notify https://hooks.example.com/kms
  keytrail detect --notify sns:arn:aws:sns:us-east-1:111111111111:kms --notify-min-severity high
  keytrail detect --list
  keytrail detect --explain secret_harvest --param secret_harvest.min_distinct=20`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    HELP,
    {
      ...ENGINE_OPTIONS,
      ...NOTIFY_OPTIONS,
      ...WAIT_OPTION,
      db: { type: 'string', default: DEFAULT_DB },
      rule: { type: 'string', multiple: true },
      since: { type: 'string' },
      format: { type: 'string' },
      'fail-on': { type: 'string' },
      'trusted-accounts': { type: 'string' },
      config: { type: 'string' },
      param: { type: 'string', multiple: true },
      list: { type: 'boolean', default: false },
      explain: { type: 'string' },
    },
    false,
  );
  const format = oneOf(values.format, '--format', FORMATS, 'table');
  let all: Rule[];
  try {
    all = loadRules();
  } catch (err) {
    if (err instanceof RuleError) throw new UsageError(`a detection rule is unusable: ${err.message}`);
    throw err;
  }
  if (values.list) {
    console.log(listRules(all, format));
    return EXIT.ok;
  }

  const rules = selectRules(all, values.explain !== undefined ? [values.explain] : values.rule ?? []);
  const failOn = values['fail-on'] === undefined ? null : oneOf<Severity>(values['fail-on'], '--fail-on', SEVERITIES, 'high');
  const since = values.since === undefined ? null : parseSince(values.since, new Date());
  let params;
  let trustedAccounts: string[] | null = null;
  let config = null;
  try {
    params = parseParamOverrides(values.param ?? [], all);
    if (values['trusted-accounts'] !== undefined) trustedAccounts = parseAccountList(values['trusted-accounts']);
    if (values.config !== undefined) config = loadTrustConfig(values.config);
  } catch (err) {
    if (err instanceof ParamError || err instanceof TrustError) throw new UsageError(err.message);
    throw err;
  }

  const wait = waitMs(values.wait);
  const notifying = notifySettings(values, values.config, values.db!, wait);
  const engine: QueryEngine = await openEngine(values, values.db!, wait);
  let findings: Finding[];
  let shown: Finding[];
  try {
    const trust = await resolveTrust(engine, trustedAccounts, config);
    if (process.stderr.isTTY) {
      const from = { option: '--trusted-accounts', config: values.config, data: 'the accounts in the data' }[trust.accountsFrom];
      console.error(`trusted accounts (${from}): ${trust.trustedAccounts.join(', ') || 'none'}`);
    }
    if (values.explain !== undefined) {
      const explanation = await explainRule(engine, rules[0], { since, trust, params });
      console.log(format === 'table' ? formatExplanation(explanation) : JSON.stringify(explanation, null, format === 'json' ? 2 : undefined));
      return EXIT.ok;
    }
    findings = await runDetections(engine, rules, { since, trust, params, onSkip: (rule, why) => console.error(`keytrail detect: ${rule} skipped: ${why}`) });
    // The configuration findings of the latest `keytrail keys audit`, unless --rule picks rules.
    if (values.rule === undefined) findings = sortFindings([...findings, ...(await auditFindings(engine, trust))]);
    shown = await withEvidence(engine, findings); // where verification ran: what each finding rests on
  } catch (err) {
    const message = err instanceof DetectionError ? err.message : engineErrorMessage(err);
    if (message === null) throw err;
    console.error(`keytrail detect: ${message}`);
    return EXIT.failed;
  } finally {
    await engine.close();
  }
  console.log(formatFindings(shown, format));
  for (const note of evidenceNotes(shown)) console.error(note);
  if (notifying && (await deliverFindings(findings, notifying)) !== EXIT.ok) return EXIT.failed;
  return failOn !== null && atOrAbove(findings, failOn).length > 0 ? EXIT.findings : EXIT.ok;
}

const COLUMNS = ['severity', 'rule', 'identity_arn', 'source_ip', 'key_arn', 'account_id', 'first_seen', 'last_seen', 'event_count', 'detail'];

export function formatFindings(findings: Finding[], format: DetectFormat): string {
  if (format === 'table') return formatRows(findings as unknown as Record<string, unknown>[], COLUMNS, 'table');
  return formatRows(findings as unknown as Record<string, unknown>[], [], format);
}

function listRules(rules: Rule[], format: DetectFormat): string {
  const rows = rules.map((r) => ({
    id: r.id,
    severity: r.severity,
    title: r.title,
    attack: r.attack.join(', '),
    params: r.params.map((p) => `${p.name}=${p.default}`).join(', '),
    ...(r.analyze ? { analyze: r.analyze } : {}),
    description: r.description,
  }));
  if (format !== 'table') return formatRows(rows, [], format);
  return rows
    .map((r) => [`${r.id} (${r.severity}): ${r.title}`, `  attack: ${r.attack}`, ...(r.params ? [`  params: ${r.params}`] : []), ...wrap(r.description, 96).map((l) => `  ${l}`)].join('\n'))
    .join('\n\n');
}

function selectRules(all: Rule[], specs: string[]): Rule[] {
  const ids = specs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (ids.length === 0) return all;
  const unknown = ids.filter((id) => !all.some((r) => r.id === id));
  if (unknown.length > 0) throw new UsageError(`no rule ${unknown.join(', ')} (rules: ${all.map((r) => r.id).join(', ')})`);
  return all.filter((r) => ids.includes(r.id));
}

/** --since: YYYY-MM-DD, an ISO time, or Nd / Nh before `now` -> 'YYYY-MM-DD HH:MM:SS' (UTC). */
export function parseSince(value: string, now: Date): string {
  const v = value.trim();
  const rel = /^(\d+)([dh])$/.exec(v);
  let t: number;
  if (rel) {
    t = now.getTime() - Number(rel[1]) * (rel[2] === 'd' ? 86_400_000 : 3_600_000);
  } else {
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(v);
    if (!m) throw new UsageError(`--since: '${value}' is not a date (YYYY-MM-DD, an ISO time, or Nd / Nh)`);
    const [, y, mo, d, h = '00', mi = '00', s = '00', zone = 'Z'] = m;
    const offset = zone === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
    t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${offset}`);
    const check = new Date(Date.UTC(+y, +mo - 1, +d));
    if (Number.isNaN(t) || check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d) {
      throw new UsageError(`--since: '${value}' is not a valid date`);
    }
  }
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}
