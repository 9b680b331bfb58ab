// What a usage report holds: typed rows of each section of queries/reports, the findings, and
// where and when it was made. Renderers read only this; they never query.

import type { Finding } from '../detect/run.js';
import type { IntegritySection } from '../integrity/evidence.js';

export type { Finding };

/** What the report covers. Days are UTC 'YYYY-MM-DD', both inclusive; null for no bound. */
export interface ReportOptions {
  since: string | null;
  until: string | null;
  /** Only events delivered to this account (recipientAccountId). */
  account: string | null;
  /** How many principals and keys the calls-per-day series follow. */
  top: number;
  /** Where the data came from, shown in the header: the DuckDB file, or an Athena database. */
  source: string;
  /** The report's clock (tests pin it). */
  now?: Date;
}

/** The scope a findings provider reports on: UTC times, `until` exclusive. */
export interface FindingsScope {
  since: string | null;
  until: string | null;
  account: string | null;
}

export interface ReportMeta {
  title: string;
  generated_at: string;
  source: string;
  engine: string;
  keytrail_version: string;
  /** The options as given. */
  since: string | null;
  until: string | null;
  account: string | null;
  top: number;
  /** The days the report spans: the options' bounds, else the first and last event's day. */
  first_day: string | null;
  last_day: string | null;
  /** Distinct accounts (recipientAccountId) and regions with events in the period. */
  accounts: string[];
  regions: string[];
}

export interface Summary {
  calls: number;
  principals: number;
  keys: number;
  accounts: number;
  regions: number;
  source_ips: number;
  errors: number;
  first_event: string | null;
  last_event: string | null;
}

export interface ScopeRow {
  account_id: string | null;
  aws_region: string | null;
  calls: number;
  principals: number;
  keys: number;
  errors: number;
  first_event: string;
  last_event: string;
}

/** Calls by kind of operation: see queries/reports/principals.sql. */
export interface OperationCounts {
  decrypt: number;
  encrypt: number;
  generate_data_key: number;
  other_crypto: number;
  describe_list: number;
  management: number;
}

export interface PrincipalRow extends OperationCounts {
  identity_arn: string | null;
  principal_type: string | null;
  principal_account: string | null;
  calls: number;
  keys: number;
  source_ips: number;
  errors: number;
  error_rate: number;
  first_seen: string;
  last_seen: string;
  busiest_day: string | null;
  busiest_day_calls: number;
}

export interface PrincipalOperationRow {
  identity_arn: string | null;
  event_name: string;
  category: string | null;
  calls: number;
  errors: number;
  keys: number;
}

/** A key's state from the kms_key_state view: as of the newest event in the database. */
export interface KeyState {
  key_state: string | null;
  rotation: string | null;
  origin: string | null;
  deletion_date: string | null;
  material_expires: string | null;
  last_policy_change: string | null;
  last_policy_changed_by: string | null;
}

export interface KeyRow extends OperationCounts, KeyState {
  key_arn: string;
  key_id: string | null;
  key_account: string | null;
  aws_region: string | null;
  calls: number;
  callers: number;
  source_ips: number;
  errors: number;
  error_rate: number;
  policy_changes: number;
  first_seen: string;
  last_seen: string;
}

export interface KeyCallerRow {
  key_arn: string;
  identity_arn: string | null;
  calls: number;
  crypto_calls: number;
  errors: number;
  source_ips: number;
  first_seen: string;
  last_seen: string;
}

export interface KeyOperationRow {
  key_arn: string;
  event_name: string;
  calls: number;
  errors: number;
}

export interface DailyTotalRow {
  day: string;
  calls: number;
  errors: number;
  principals: number;
  keys: number;
}

export interface DailyPrincipalRow {
  day: string;
  identity_arn: string | null;
  rnk: number;
  calls: number;
  errors: number;
}

export interface DailyKeyRow {
  day: string;
  key_arn: string;
  rnk: number;
  calls: number;
  errors: number;
}

export interface IngestInfo {
  objects: number;
  quarantined: number;
  failed: number;
  last_ingest: string | null;
  /** Region-days read from CloudTrail Event history, and the KMS events first read from them. */
  event_history_days: number;
  event_history_events: number;
}

export type Severity = Finding['severity'];
export const SEVERITY_ORDER: readonly Severity[] = ['high', 'medium', 'low'];

export interface FindingsSection {
  /** ok: the detections ran; unavailable: not part of this build or engine; failed: they threw. */
  status: 'ok' | 'unavailable' | 'failed';
  /** Why they are unavailable or failed, or how they were judged. */
  note: string | null;
  by_severity: Record<Severity, number>;
  items: Finding[];
}

/** An optional section the database could not provide (a missing view): named, with why. */
export interface Gap {
  section: string;
  reason: string;
}

/** A key as the latest live audit (keytrail keys audit) read it. */
export interface KeyConfigRow {
  key_arn: string;
  account_id: string;
  aws_region: string;
  aliases: string | null;
  key_state: string | null;
  key_manager: string | null;
  key_spec: string | null;
  origin: string | null;
  /** 'on (365 days)', 'off', 'n/a' (cannot be rotated automatically), null (not read). */
  rotation: string | null;
  deletion_date: string | null;
  material_expires: string | null;
  grants: number;
  tags: string | null;
  /** The calls that failed for the key, or null. */
  unreadable: string | null;
  /** Who may use the key ('principal (via)', ...), from the audit's access rows; null: nobody listed. */
  can_use: string | null;
  /** Who did in the period ('identity_arn (calls)', ...); null: nobody. */
  used_by: string | null;
  audited_at: string;
}

export interface Report {
  meta: ReportMeta;
  summary: Summary;
  scope: ScopeRow[];
  principals: PrincipalRow[];
  principal_operations: PrincipalOperationRow[];
  keys: KeyRow[];
  key_callers: KeyCallerRow[];
  key_operations: KeyOperationRow[];
  daily_totals: DailyTotalRow[];
  daily_principals: DailyPrincipalRow[];
  daily_keys: DailyKeyRow[];
  findings: FindingsSection;
  /** Empty when the database holds no live audit (or the engine has no inventory tables). */
  key_configuration: KeyConfigRow[];
  /** Null when the engine has no ingest manifest (Athena). */
  ingest: IngestInfo | null;
  /** Whether kms_key_state was there: when not, the keys' state columns are all null. */
  key_state_available: boolean;
  gaps: Gap[];
  /** Verification of the objects behind the numbers (src/integrity/evidence.ts); null or absent when it never ran. */
  integrity?: IntegritySection | null;
}

/** The tables of a report, by name: one CSV file each, in this order. */
export const TABLES = [
  'summary', 'scope', 'principals', 'principal_operations', 'keys', 'key_callers', 'key_operations',
  'daily_totals', 'daily_principals', 'daily_keys', 'findings', 'key_configuration',
] as const;
export type TableName = (typeof TABLES)[number];

const OPERATION_COLUMNS = ['decrypt', 'encrypt', 'generate_data_key', 'other_crypto', 'describe_list', 'management'] as const;

/** Column order of each table, as in CSV and as the SQL returns them. */
export const TABLE_COLUMNS: Record<TableName, readonly string[]> = {
  summary: ['calls', 'principals', 'keys', 'accounts', 'regions', 'source_ips', 'errors', 'first_event', 'last_event'],
  scope: ['account_id', 'aws_region', 'calls', 'principals', 'keys', 'errors', 'first_event', 'last_event'],
  principals: [
    'identity_arn', 'principal_type', 'principal_account', 'calls', ...OPERATION_COLUMNS, 'keys', 'source_ips', 'errors',
    'error_rate', 'first_seen', 'last_seen', 'busiest_day', 'busiest_day_calls',
  ],
  principal_operations: ['identity_arn', 'event_name', 'category', 'calls', 'errors', 'keys'],
  keys: [
    'key_arn', 'key_id', 'key_account', 'aws_region', 'calls', ...OPERATION_COLUMNS, 'callers', 'source_ips', 'errors',
    'error_rate', 'policy_changes', 'first_seen', 'last_seen', 'key_state', 'rotation', 'origin', 'deletion_date',
    'material_expires', 'last_policy_change', 'last_policy_changed_by',
  ],
  key_callers: ['key_arn', 'identity_arn', 'calls', 'crypto_calls', 'errors', 'source_ips', 'first_seen', 'last_seen'],
  key_operations: ['key_arn', 'event_name', 'calls', 'errors'],
  daily_totals: ['day', 'calls', 'errors', 'principals', 'keys'],
  daily_principals: ['day', 'identity_arn', 'rnk', 'calls', 'errors'],
  daily_keys: ['day', 'key_arn', 'rnk', 'calls', 'errors'],
  findings: [
    'severity', 'rule', 'title', 'identity_arn', 'source_ip', 'key_arn', 'account_id', 'first_seen', 'last_seen',
    'event_count', 'detail',
  ],
  key_configuration: [
    'key_arn', 'account_id', 'aws_region', 'aliases', 'key_state', 'key_manager', 'key_spec', 'origin', 'rotation',
    'deletion_date', 'material_expires', 'grants', 'tags', 'unreadable', 'can_use', 'used_by', 'audited_at',
  ],
};

/** A table's rows as plain records, for the CSV and JSON renderers. */
export function tableRows(report: Report, name: TableName): ReadonlyArray<object> {
  switch (name) {
    case 'summary':
      return [report.summary];
    case 'findings':
      return report.findings.items;
    default:
      return report[name];
  }
}
