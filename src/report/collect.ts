// Runs the report's sections (queries/reports/*.sql) on a QueryEngine and types their rows into a
// Report. Works on any engine: optional sections whose table or view is missing are skipped and
// named in report.gaps; findings come from a provider, and without one the report says so.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QueryEngine, SqlValue } from '../engine.js';
import { packageRoot } from '../paths.js';
import type { Row } from '../store/db.js';
import type { FindingsProvider } from './findings.js';
import {
  SEVERITY_ORDER,
  type DailyKeyRow, type DailyPrincipalRow, type DailyTotalRow, type FindingsScope, type FindingsSection, type Gap,
  type IngestInfo, type KeyCallerRow, type KeyConfigRow, type KeyOperationRow, type KeyRow, type KeyState, type OperationCounts,
  type PrincipalOperationRow, type PrincipalRow, type Report, type ReportOptions, type ScopeRow, type Severity, type Summary,
} from './model.js';
import { loadSections } from './sections.js';

export const DEFAULT_TOP = 8;

export async function collectReport(engine: QueryEngine, options: ReportOptions, findings?: FindingsProvider): Promise<Report> {
  const sections = loadSections();
  const scope = findingsScope(options);
  const params: Record<string, SqlValue> = { since: scope.since, until: scope.until, account: scope.account, top: options.top };
  const gaps: Gap[] = [];

  const run = async (id: string): Promise<Row[] | null> => {
    const section = sections.get(id);
    if (!section) throw new Error(`queries/reports/${id}.sql is missing`);
    if (section.requires && !(await relationExists(engine, section.requires))) {
      gaps.push({ section: id, reason: `the database has no ${section.requires}` });
      return null;
    }
    return engine.query(section.sql, params);
  };
  const rows = async (id: string): Promise<Row[]> => (await run(id)) ?? [];

  const summary = toSummary((await rows('summary'))[0] ?? {});
  const scopeRows = (await rows('scope')).map(toScope);
  const keyStates = await run('key_state');
  const states = new Map((keyStates ?? []).map((r) => [str(r.key_arn), toKeyState(r)]));
  const ingestRows = await run('ingest');

  const report: Report = {
    meta: {
      title: 'KMS key usage report',
      generated_at: isoSeconds(options.now ?? new Date()),
      source: options.source,
      engine: engine.name,
      keytrail_version: version(),
      since: options.since,
      until: options.until,
      account: options.account,
      top: options.top,
      first_day: options.since ?? day(summary.first_event),
      last_day: options.until ?? day(summary.last_event),
      accounts: uniqueSorted(scopeRows.map((r) => r.account_id)),
      regions: uniqueSorted(scopeRows.map((r) => r.aws_region)),
    },
    summary,
    scope: scopeRows,
    principals: (await rows('principals')).map(toPrincipal),
    principal_operations: (await rows('principal_operations')).map(toPrincipalOperation),
    keys: (await rows('keys')).map((r) => toKey(r, states.get(str(r.key_arn)) ?? NO_STATE)),
    key_callers: (await rows('key_callers')).map(toKeyCaller),
    key_operations: (await rows('key_operations')).map(toKeyOperation),
    daily_totals: (await rows('daily_totals')).map(toDailyTotal),
    daily_principals: (await rows('daily_principals')).map(toDailyPrincipal),
    daily_keys: (await rows('daily_keys')).map(toDailyKey),
    findings: await collectFindings(engine, scope, findings),
    // Only a database with the inventory tables has a live audit; elsewhere the section is just empty.
    // An audit stored by an older keytrail, read-only: no access table until the next ingest or audit.
    key_configuration: (await relationExists(engine, 'inventory_current_keys')) && (await relationExists(engine, 'inventory_access'))
      ? (await rows('key_configuration')).map(toKeyConfig) : [],
    ingest: ingestRows?.[0] ? toIngest(ingestRows[0]) : null,
    key_state_available: keyStates !== null,
    gaps,
  };
  return report;
}

/** The options' inclusive days as the UTC times the SQL binds ($until exclusive). */
export function findingsScope(options: Pick<ReportOptions, 'since' | 'until' | 'account'>): FindingsScope {
  return {
    since: options.since === null ? null : `${options.since} 00:00:00`,
    until: options.until === null ? null : `${nextDay(options.until)} 00:00:00`,
    account: options.account,
  };
}

async function collectFindings(engine: QueryEngine, scope: FindingsScope, provider: FindingsProvider | undefined): Promise<FindingsSection> {
  const empty = (): Record<Severity, number> => ({ high: 0, medium: 0, low: 0 });
  if (!provider) {
    return { status: 'unavailable', note: 'detections are not available for this report', by_severity: empty(), items: [] };
  }
  try {
    const items = await provider(engine, scope);
    const bySeverity = empty();
    for (const f of items) bySeverity[f.severity] += 1;
    items.sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
    return { status: 'ok', note: null, by_severity: bySeverity, items };
  } catch (err) {
    return { status: 'failed', note: `the detections failed: ${(err as Error).message}`, by_severity: empty(), items: [] };
  }
}

async function relationExists(engine: QueryEngine, name: string): Promise<boolean> {
  const found = await engine.query('SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $name', { name });
  return Number(found[0]?.n ?? 0) > 0;
}

// ---- rows to types -----------------------------------------------------------------------------

const NO_STATE: KeyState = {
  key_state: null, rotation: null, origin: null, deletion_date: null, material_expires: null,
  last_policy_change: null, last_policy_changed_by: null,
};

function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}

function str(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

function strOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** 'YYYY-MM-DD HH:MM:SS[.fff]' (DuckDB, Trino) -> 'YYYY-MM-DD HH:MM:SS', UTC. */
function time(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/.exec(String(value));
  return m ? `${m[1]} ${m[2]}` : String(value);
}

function day(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return String(value).slice(0, 10);
}

function operations(r: Row): OperationCounts {
  return {
    decrypt: num(r.decrypt), encrypt: num(r.encrypt), generate_data_key: num(r.generate_data_key),
    other_crypto: num(r.other_crypto), describe_list: num(r.describe_list), management: num(r.management),
  };
}

const toSummary = (r: Row): Summary => ({
  calls: num(r.calls), principals: num(r.principals), keys: num(r.keys), accounts: num(r.accounts), regions: num(r.regions),
  source_ips: num(r.source_ips), errors: num(r.errors), first_event: time(r.first_event), last_event: time(r.last_event),
});

const toScope = (r: Row): ScopeRow => ({
  account_id: strOrNull(r.account_id), aws_region: strOrNull(r.aws_region), calls: num(r.calls), principals: num(r.principals),
  keys: num(r.keys), errors: num(r.errors), first_event: str(time(r.first_event)), last_event: str(time(r.last_event)),
});

const toPrincipal = (r: Row): PrincipalRow => ({
  identity_arn: strOrNull(r.identity_arn), principal_type: strOrNull(r.principal_type),
  principal_account: strOrNull(r.principal_account), calls: num(r.calls), ...operations(r), keys: num(r.keys),
  source_ips: num(r.source_ips), errors: num(r.errors), error_rate: num(r.error_rate), first_seen: str(time(r.first_seen)),
  last_seen: str(time(r.last_seen)), busiest_day: day(r.busiest_day), busiest_day_calls: num(r.busiest_day_calls),
});

const toPrincipalOperation = (r: Row): PrincipalOperationRow => ({
  identity_arn: strOrNull(r.identity_arn), event_name: str(r.event_name), category: strOrNull(r.category),
  calls: num(r.calls), errors: num(r.errors), keys: num(r.keys),
});

const toKeyState = (r: Row): KeyState => ({
  key_state: strOrNull(r.key_state), rotation: strOrNull(r.rotation), origin: strOrNull(r.origin),
  deletion_date: time(r.deletion_date), material_expires: time(r.material_expires),
  last_policy_change: time(r.last_policy_change), last_policy_changed_by: strOrNull(r.last_policy_changed_by),
});

const toKey = (r: Row, state: KeyState): KeyRow => ({
  key_arn: str(r.key_arn), key_id: strOrNull(r.key_id), key_account: strOrNull(r.key_account),
  aws_region: strOrNull(r.aws_region), calls: num(r.calls), ...operations(r), callers: num(r.callers),
  source_ips: num(r.source_ips), errors: num(r.errors), error_rate: num(r.error_rate), policy_changes: num(r.policy_changes),
  first_seen: str(time(r.first_seen)), last_seen: str(time(r.last_seen)), ...state,
});

const toKeyConfig = (r: Row): KeyConfigRow => ({
  key_arn: str(r.key_arn), account_id: str(r.account_id), aws_region: str(r.aws_region), aliases: strOrNull(r.aliases),
  key_state: strOrNull(r.key_state), key_manager: strOrNull(r.key_manager), key_spec: strOrNull(r.key_spec), origin: strOrNull(r.origin),
  rotation: strOrNull(r.rotation), deletion_date: time(r.deletion_date), material_expires: time(r.material_expires),
  grants: num(r.grants), tags: strOrNull(r.tags), unreadable: strOrNull(r.unreadable), can_use: strOrNull(r.can_use),
  used_by: strOrNull(r.used_by), audited_at: str(time(r.audited_at)),
});

const toKeyCaller = (r: Row): KeyCallerRow => ({
  key_arn: str(r.key_arn), identity_arn: strOrNull(r.identity_arn), calls: num(r.calls), crypto_calls: num(r.crypto_calls),
  errors: num(r.errors), source_ips: num(r.source_ips), first_seen: str(time(r.first_seen)), last_seen: str(time(r.last_seen)),
});

const toKeyOperation = (r: Row): KeyOperationRow => ({
  key_arn: str(r.key_arn), event_name: str(r.event_name), calls: num(r.calls), errors: num(r.errors),
});

const toDailyTotal = (r: Row): DailyTotalRow => ({
  day: str(day(r.day)), calls: num(r.calls), errors: num(r.errors), principals: num(r.principals), keys: num(r.keys),
});

const toDailyPrincipal = (r: Row): DailyPrincipalRow => ({
  day: str(day(r.day)), identity_arn: strOrNull(r.identity_arn), rnk: num(r.rnk), calls: num(r.calls), errors: num(r.errors),
});

const toDailyKey = (r: Row): DailyKeyRow => ({
  day: str(day(r.day)), key_arn: str(r.key_arn), rnk: num(r.rnk), calls: num(r.calls), errors: num(r.errors),
});

const toIngest = (r: Row): IngestInfo => ({
  objects: num(r.objects), quarantined: num(r.quarantined), failed: num(r.failed), last_ingest: time(r.last_ingest),
  event_history_days: num(r.event_history_days), event_history_events: num(r.event_history_events),
});

// ---- small helpers -----------------------------------------------------------------------------

function uniqueSorted(values: Array<string | null>): string[] {
  return [...new Set(values.filter((v): v is string => v !== null))].sort();
}

export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

let cachedVersion: string | null = null;
function version(): string {
  if (cachedVersion === null) {
    try {
      cachedVersion = String((JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: unknown }).version ?? '');
    } catch {
      cachedVersion = '';
    }
  }
  return cachedVersion;
}

