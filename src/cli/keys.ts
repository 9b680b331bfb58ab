// keytrail keys: one line per KMS key, as the trail leaves it (the kms_key_state view).

import { DuckDBEngine } from '../engine.js';
import { DEFAULT_DB, EXIT, UsageError, WAIT_OPTION, oneOf, parse, waitMs } from './args.js';
import { FORMATS, formatRows } from './format.js';

const HELP = `usage: keytrail keys [--db FILE] [--format table|csv|json|ndjson] [--account ID] [--state STATE]
       keytrail keys audit [options]     read the live keys through the KMS API and check them
       keytrail keys show KEY [options]  one key's whole story (id, ARN or alias)
       keytrail keys access [KEY]        who can use each key, and who did

Prints the state of every KMS key seen in the trail (the kms_key_state view), read-only:
key_arn, key_id, key_account, aws_region, first_seen, last_seen, key_state (Enabled, Disabled,
PendingDeletion, PendingImport, Deleted, or empty when the trail does not say), state_changed_at,
deletion_date (of a pending deletion), rotation (on/off as last seen), rotation_changed_at,
origin (AWS_KMS, EXTERNAL for imported material, ...), material_expires (imported material),
last_policy_change, last_policy_changed_by, callers_30d and calls_30d (the 30 days up to the
newest event in the database).

options:
  --db FILE        database file (default ${DEFAULT_DB})
  --format FORMAT  table (default), csv, json or ndjson
  --account ID     only keys of this account
  --state STATE    only keys in this state (e.g. PendingDeletion)
  --wait SECONDS   wait up to SECONDS while an ingest holds the database (default 60)
  -h, --help       show this help`;

const COLUMNS = [
  'key_arn', 'key_id', 'key_account', 'aws_region', 'first_seen', 'last_seen', 'key_state', 'state_changed_at',
  'deletion_date', 'rotation', 'rotation_changed_at', 'origin', 'material_expires', 'last_policy_change',
  'last_policy_changed_by', 'callers_30d', 'calls_30d',
];

/** The columns a table shows: the full ARN is long, the id and account say the same. */
const TABLE_COLUMNS = [
  'key_id', 'key_account', 'aws_region', 'key_state', 'deletion_date', 'rotation', 'origin', 'material_expires',
  'last_policy_change', 'callers_30d', 'calls_30d', 'last_seen',
];

export async function run(argv: string[]): Promise<number> {
  // Subcommands: the live audit and one key's story; without one, the state table as before.
  if (argv[0] === 'audit') return (await import('./keys-audit.js')).run(argv.slice(1));
  if (argv[0] === 'show') return (await import('./keys-show.js')).run(argv.slice(1));
  if (argv[0] === 'access') return (await import('./keys-access.js')).run(argv.slice(1));
  const { values } = parse(
    argv,
    HELP,
    {
      ...WAIT_OPTION,
      db: { type: 'string', default: DEFAULT_DB },
      format: { type: 'string' },
      account: { type: 'string' },
      state: { type: 'string' },
    },
    false,
  );
  const format = oneOf(values.format, '--format', FORMATS, 'table');
  if (values.account !== undefined && !/^\d{12}$/.test(values.account)) throw new UsageError(`--account: '${values.account}' is not a 12-digit account id`);
  const engine = await DuckDBEngine.open(values.db!, waitMs(values.wait));
  try {
    let rows;
    try {
      rows = await engine.query(
        `SELECT ${COLUMNS.join(', ')} FROM kms_key_state
         WHERE ($account IS NULL OR key_account = $account) AND ($state IS NULL OR lower(key_state) = lower($state))
         ORDER BY key_account, aws_region, key_arn`,
        { account: values.account ?? null, state: values.state ?? null },
      );
    } catch (err) {
      if (/kms_key_state does not exist/i.test((err as Error).message)) {
        throw new UsageError(`${values.db} has no kms_key_state view yet: run keytrail ingest on it once with this version`);
      }
      throw err;
    }
    console.log(formatRows(rows, format === 'table' ? TABLE_COLUMNS : COLUMNS, format));
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}
