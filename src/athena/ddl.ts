// The Athena DDL keytrail prints (keytrail athena ddl): the templates in schemas/athena/, filled in.
//
//   parquet:    the table over keytrail export's Parquet (partition projection on event_date, and
//               account with --by-account) + the kms_event_catalogue view the reports join on.
//   cloudtrail: the AWS-documented CloudTrail table over the trail's own objects (projection on
//               account, region and delivery day; organization trails too) + a kms_events view in
//               the shape of the local table + the catalogue view. No local ingest at all.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KMS_EVENT_CATALOGUE } from '../kms/catalogue.js';
import { schemasDir } from '../paths.js';
import { cloudTrailSql } from '../store/staging.js';
import { toTrino, trinoLiteral } from './dialect.js';

export class DdlError extends Error {}

export interface ParquetDdlOptions {
  /** The export's destination: s3://bucket/prefix (what was given to keytrail export --to). */
  location: string;
  /** First day partition projection covers: YYYY-MM-DD, or Athena's relative form (NOW-3YEARS). */
  since: string;
  /** Accounts, when the export was made with --by-account. */
  accounts?: string[];
  table?: string;
}

export interface CloudTrailDdlOptions {
  /** The trail's bucket and prefix: s3://bucket[/prefix] (AWSLogs/ is below it). */
  trail: string;
  /** Organization trails write under AWSLogs/<o-id>/. */
  orgId?: string;
  accounts: string[];
  regions: string[];
  /** First delivery day: YYYY-MM-DD, or NOW-3YEARS style. */
  since: string;
  table?: string;
  view?: string;
}

/** Commercial regions, for --regions' default. */
export const DEFAULT_REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'af-south-1', 'ap-east-1', 'ap-south-1', 'ap-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7',
  'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ca-central-1', 'ca-west-1', 'eu-central-1', 'eu-central-2',
  'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-south-1', 'eu-south-2', 'eu-north-1', 'il-central-1', 'me-south-1',
  'me-central-1', 'mx-central-1', 'sa-east-1',
];

const NAME_RE = /^[a-z_][a-z0-9_]*$/;
const ACCOUNT_RE = /^(\d{12}|unknown)$/;
const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ORG_RE = /^o-[a-z0-9]{10,32}$/;
const SINCE_RE = /^(\d{4}-\d{2}-\d{2}|NOW-\d+(YEARS|MONTHS|WEEKS|DAYS))$/;

function template(file: string, values: Record<string, string>): string {
  const text = readFileSync(join(schemasDir, 'athena', file), 'utf8');
  return text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`schemas/athena/${file}: no value for {{${name}}}`);
    return values[name];
  }).trimEnd();
}

/** s3://bucket/prefix -> s3://bucket/prefix/ (checked: it goes into quoted DDL). */
function s3Folder(uri: string, what: string): string {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/[^'\\]*)?$/.exec(uri);
  if (!m) throw new DdlError(`${what}: '${uri}' is not an s3://bucket[/prefix] URI`);
  const path = (m[2] ?? '/').replace(/\/+$/, '');
  return `s3://${m[1]}${path}/`;
}

function name(value: string, what: string): string {
  if (!NAME_RE.test(value)) throw new DdlError(`${what}: '${value}' must be lowercase letters, digits and _`);
  return value;
}

/** Athena's date projection takes yyyy-MM-dd (or NOW-N...) in the table's own format. */
function since(value: string, format: 'dash' | 'slash'): string {
  if (!SINCE_RE.test(value)) throw new DdlError(`--since: '${value}' is not YYYY-MM-DD or NOW-3YEARS`);
  return format === 'slash' && !value.startsWith('NOW') ? value.replaceAll('-', '/') : value;
}

function list(values: string[], re: RegExp, what: string): string {
  if (values.length === 0) throw new DdlError(`${what}: none given`);
  for (const v of values) if (!re.test(v)) throw new DdlError(`${what}: '${v}' is not valid`);
  return [...new Set(values)].join(',');
}

export function parquetTableDdl(o: ParquetDdlOptions): string {
  const location = s3Folder(o.location, '--location');
  const byAccount = o.accounts !== undefined;
  return template('10_kms_events_parquet.sql', {
    table: name(o.table ?? 'kms_events', '--table'),
    location,
    since: since(o.since, 'dash'),
    account_partition: byAccount ? ', account string' : '',
    account_projection: byAccount
      ? `\n    'projection.account.type' = 'enum',\n    'projection.account.values' = '${list(o.accounts!, ACCOUNT_RE, '--accounts')}',`
      : '',
    account_template: byAccount ? 'account=${account}/' : '',
  });
}

export function cloudTrailTableDdl(o: CloudTrailDdlOptions): string {
  const trail = s3Folder(o.trail, '--cloudtrail');
  if (o.orgId !== undefined && !ORG_RE.test(o.orgId)) throw new DdlError(`--org-id: '${o.orgId}' is not an organization id (o-...)`);
  const logs = `${trail.endsWith('AWSLogs/') ? trail : `${trail}AWSLogs/`}${o.orgId ? `${o.orgId}/` : ''}`;
  return template('20_cloudtrail_logs.sql', {
    table: name(o.table ?? 'cloudtrail_logs', '--table'),
    logs,
    accounts: list(o.accounts, /^\d{12}$/, '--accounts'),
    regions: list(o.regions, REGION_RE, '--regions'),
    since: since(o.since, 'slash'),
  });
}

/** The columns of kms_events, as the Parquet table lists them. */
export const KMS_EVENTS_COLUMNS = [...readFileSync(join(schemasDir, 'athena', '10_kms_events_parquet.sql'), 'utf8')
  .matchAll(/^ {4}(\w+) +\w+,?$/gm)].map((m) => m[1]);

/** The principals directory view over the raw CloudTrail table. */
export function rawPrincipalsViewDdl(o: Pick<CloudTrailDdlOptions, 'table'> & { principals?: string }): string {
  const source = name(o.table ?? 'cloudtrail_logs', '--table');
  return template('25_principals_view.sql', {
    view: name(o.principals ?? 'keytrail_principals', '--principals-view'),
    principals: fromDuckDb(cloudTrailSql('principals', { records: RECORDS }), { [RECORDS]: source }),
  });
}

/**
 * kms_events (or, for eventSource cloudtrail.amazonaws.com, trail_events) over the raw CloudTrail
 * table, through the local ingest's own normalize.sql.
 */
export function rawKmsEventsViewDdl(
  o: Pick<CloudTrailDdlOptions, 'table' | 'view'> & { principals?: string; eventSource?: 'kms.amazonaws.com' | 'cloudtrail.amazonaws.com' },
): string {
  const source = name(o.table ?? 'cloudtrail_logs', '--table');
  const eventSource = o.eventSource ?? 'kms.amazonaws.com';
  const records = `(SELECT t.*, "$path" AS source_object, CAST(NULL AS varchar) AS record_hash,
         replace(t."timestamp", '/', '-') AS record_ref
     FROM ${source} t WHERE t.eventsource = '${eventSource}')`;
  return template('30_kms_events_view.sql', {
    view: name(o.view ?? (eventSource === 'kms.amazonaws.com' ? 'kms_events' : 'trail_events'), '--view'),
    principals: name(o.principals ?? 'keytrail_principals', '--principals-view'),
    columns: KMS_EVENTS_COLUMNS.map((c) => `n.${c}`).join(', '),
    normalized: fromDuckDb(cloudTrailSql('normalize', { records: RECORDS, principals: PRINCIPALS }), {
      [RECORDS]: records,
      [PRINCIPALS]: name(o.principals ?? 'keytrail_principals', '--principals-view'),
    }),
  });
}

const RECORDS = 'keytrail_records_relation';
const PRINCIPALS = 'keytrail_principals_relation';

/** A schemas/cloudtrail query in Trino SQL, its placeholder relations replaced by Trino text. */
function fromDuckDb(sql: string, relations: Record<string, string>): string {
  let text = toTrino(sql).sql;
  for (const [placeholder, relation] of Object.entries(relations)) text = text.replaceAll(placeholder, relation);
  return text;
}

export function catalogueViewDdl(): string {
  const rows = KMS_EVENT_CATALOGUE.map((k) => `        (${trinoLiteral(k.eventName)}, ${trinoLiteral(k.category)}, ${k.emittedByKms})`);
  return template('40_kms_event_catalogue.sql', { rows: rows.join(',\n') });
}

/** The statements of printed DDL, comments removed: what --apply sends, one query each. */
export function statements(ddl: string[]): string[] {
  return ddl.map((s) => s.split('\n').filter((line) => !/^\s*--/.test(line)).join('\n').trim()).filter((s) => s !== '');
}
