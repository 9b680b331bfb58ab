// Runs detection rules on a QueryEngine (DuckDB here, Athena later) and turns their rows into findings.

import type { QueryEngine, SqlValue } from '../engine.js';
import type { Row } from '../store/db.js';
import { ANALYZERS, analyzerContext, type Trust } from './analyze.js';
import { FINDING_COLUMNS, SEVERITIES, SEVERITY_COLUMN, typedValue, type Rule, type Severity } from './rules.js';

export interface Finding {
  rule: string;
  severity: Severity;
  title: string;
  identity_arn: string | null;
  source_ip: string | null;
  key_arn: string | null;
  account_id: string | null;
  /** UTC, ISO 8601 to the second: '2024-05-01T10:00:00Z'. */
  first_seen: string | null;
  last_seen: string | null;
  event_count: number;
  detail: string | null;
  /** The rule's MITRE ATT&CK techniques. */
  attack: string[];
}

/** Parameter values by rule id, then parameter name. */
export type ParamOverrides = Record<string, Record<string, number | string>>;

export interface RunOptions {
  /** Report only what happened at or after this UTC time ('YYYY-MM-DD HH:MM:SS'); earlier events still serve as baselines. */
  since: string | null;
  trust: Trust;
  params?: ParamOverrides;
  /** Told of each rule left out because the engine lacks a table it reads (see OPTIONAL_TABLES). */
  onSkip?: (rule: string, why: string) => void;
}

/**
 * Tables a rule may read that not every engine has: the Parquet export on Athena holds kms_events
 * only, so the trail-tampering rules (trail_events) are left out there, and said so. A database
 * audited by an older keytrail and opened read-only has no IAM or access tables yet (the next
 * ingest or audit creates them): the checks that read them are left out.
 */
const OPTIONAL_TABLES = ['trail_events', 'inventory_iam', 'inventory_iam_statements', 'inventory_access'];

/** Bad --param: unknown rule or parameter, or a value of the wrong kind. */
export class ParamError extends Error {}

/** A rule failed to run: names the rule. */
export class DetectionError extends Error {
  constructor(readonly rule: string, message: string) {
    super(`detection ${rule}: ${message}`);
  }
}

const RANK: Record<Severity, number> = { low: 1, medium: 2, high: 3 };

export function severityRank(severity: Severity): number {
  return RANK[severity];
}

/** Findings of `severity` or worse. */
export function atOrAbove(findings: Finding[], severity: Severity): Finding[] {
  return findings.filter((f) => RANK[f.severity] >= RANK[severity]);
}

/** Runs the rules one after the other; findings worst first, then by rule and time. */
export async function runDetections(engine: QueryEngine, rules: Rule[], options: RunOptions): Promise<Finding[]> {
  const missing = await missingTables(engine, rules);
  const findings: Finding[] = [];
  for (const rule of rules) {
    const lacks = missing.find((t) => readsTable(rule, t));
    if (lacks) options.onSkip?.(rule.id, `this engine has no ${lacks} table`);
    else findings.push(...(await runRule(engine, rule, options)));
  }
  return sortFindings(findings);
}

const readsTable = (rule: Rule, table: string) => new RegExp(`\\b${table}\\b`).test(rule.sql);

async function missingTables(engine: QueryEngine, rules: Rule[]): Promise<string[]> {
  const wanted = OPTIONAL_TABLES.filter((t) => rules.some((r) => readsTable(r, t)));
  if (wanted.length === 0) return [];
  const rows = await engine.query('SELECT table_name FROM information_schema.tables');
  const present = new Set(rows.map((r) => String(r.table_name).toLowerCase()));
  return wanted.filter((t) => !present.has(t));
}

export async function runRule(engine: QueryEngine, rule: Rule, options: RunOptions): Promise<Finding[]> {
  const params = bindings(rule, options);
  let rows: Row[];
  try {
    rows = await engine.query(rule.sql, params);
  } catch (err) {
    throw new DetectionError(rule.id, (err as Error).message);
  }
  const analyzer = rule.analyze ? ANALYZERS[rule.analyze] : null;
  const context = analyzer && rows.length > 0 ? await analyzerContext(engine, rule.analyze!) : null;
  const findings: Finding[] = [];
  for (const row of rows) {
    checkColumns(rule, row);
    let detail: string | null = text(row.detail);
    let severity = rowSeverity(rule, row);
    if (analyzer) {
      const verdict = analyzer({ key_arn: text(row.key_arn), account_id: text(row.account_id), detail: row.detail }, options.trust, context!);
      if (verdict === null) continue;
      if (typeof verdict === 'string') detail = verdict;
      else {
        detail = verdict.detail;
        severity = capped(rule, verdict.severity);
      }
    }
    findings.push({
      rule: rule.id,
      severity,
      title: rule.title,
      identity_arn: text(row.identity_arn),
      source_ip: text(row.source_ip),
      key_arn: text(row.key_arn),
      account_id: text(row.account_id),
      first_seen: isoTime(row.first_seen),
      last_seen: isoTime(row.last_seen),
      event_count: Number(row.event_count ?? 0),
      detail,
      attack: [...rule.attack],
    });
  }
  return findings;
}

/** The values bound for one rule: its parameters (defaults, then overrides) and the built-ins. */
export function bindings(rule: Rule, options: RunOptions): Record<string, SqlValue> {
  const values: Record<string, SqlValue> = {};
  const overrides = options.params?.[rule.id] ?? {};
  for (const p of rule.params) values[p.name] = overrides[p.name] ?? p.default;
  values.since = options.since;
  values.trusted_accounts = options.trust.trustedAccounts.join(',');
  return values;
}

/**
 * Parses `rule.name=value` specs (--param) against the rules. A parameter whose default is a
 * number only takes numbers.
 */
export function parseParamOverrides(specs: string[], rules: Rule[]): ParamOverrides {
  const out: ParamOverrides = {};
  for (const spec of specs) {
    const m = /^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)=(.*)$/s.exec(spec.trim());
    if (!m) throw new ParamError(`--param '${spec}' is not RULE.NAME=VALUE`);
    const [, ruleId, name, raw] = m;
    const rule = rules.find((r) => r.id === ruleId);
    if (!rule) throw new ParamError(`--param '${spec}': no rule '${ruleId}' (see keytrail detect --list)`);
    const param = rule.params.find((p) => p.name === name);
    if (!param) {
      const known = rule.params.map((p) => p.name).join(', ') || 'none';
      throw new ParamError(`--param '${spec}': rule ${ruleId} has no parameter '${name}' (its parameters: ${known})`);
    }
    const value = typedValue(raw.trim());
    if (typeof param.default === 'number' && typeof value !== 'number') {
      throw new ParamError(`--param '${spec}': ${ruleId}.${name} takes a number`);
    }
    (out[ruleId] ??= {})[name] = typeof param.default === 'number' ? value : raw;
  }
  return out;
}

export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      RANK[b.severity] - RANK[a.severity] ||
      a.rule.localeCompare(b.rule) ||
      (a.first_seen ?? '').localeCompare(b.first_seen ?? '') ||
      (a.identity_arn ?? '').localeCompare(b.identity_arn ?? '') ||
      (a.key_arn ?? '').localeCompare(b.key_arn ?? ''),
  );
}

function checkColumns(rule: Rule, row: Row): void {
  const names = Object.keys(row);
  const common = names.length === FINDING_COLUMNS.length || (names.length === FINDING_COLUMNS.length + 1 && SEVERITY_COLUMN in row);
  if (common && FINDING_COLUMNS.every((c) => c in row)) return;
  throw new DetectionError(rule.id, `returns the columns ${names.join(', ')}; a detection returns exactly ${FINDING_COLUMNS.join(', ')} (and optionally ${SEVERITY_COLUMN})`);
}

/** The row's own severity (the optional column), else the header's. */
function rowSeverity(rule: Rule, row: Row): Severity {
  const value = row[SEVERITY_COLUMN];
  if (value === undefined || value === null) return rule.severity;
  if (!SEVERITIES.includes(value as Severity)) throw new DetectionError(rule.id, `returns severity '${String(value)}', not one of ${SEVERITIES.join(', ')}`);
  return capped(rule, value as Severity);
}

/** A finding is never worse than its rule's header says. */
function capped(rule: Rule, severity: Severity): Severity {
  if (RANK[severity] > RANK[rule.severity]) {
    throw new DetectionError(rule.id, `reports a ${severity} finding, above the rule's header severity ${rule.severity}`);
  }
  return severity;
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** 'YYYY-MM-DD HH:MM:SS[.ffffff]' (DuckDB, Athena) or a Date -> 'YYYY-MM-DDTHH:MM:SSZ'. */
export function isoTime(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return `${value.toISOString().slice(0, 19)}Z`;
  const s = String(value);
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/.exec(s);
  return m ? `${m[1]}T${m[2]}Z` : s;
}

