// keytrail keys access [KEY] [--principal ARN]: who can use or administer each key (latest audit)
// and who did (CloudTrail), one row per key, principal and capability.

import { DuckDBEngine } from '../engine.js';
import { hasAudit } from '../inventory/audited.js';
import { accessTable } from '../inventory/access-table.js';
import { KeyNotFoundError, resolveKey } from '../inventory/story.js';
import { DEFAULT_DB, EXIT, UsageError, WAIT_OPTION, oneOf, parse, waitMs } from './args.js';
import { formatRows } from './format.js';

const HELP = `usage: keytrail keys access [KEY] [--principal ARN] [--db FILE] [--format table|json|csv]

Who can use each key and who did, read-only, from the latest keytrail keys audit (key policies,
grants, and each account's IAM policies) and the CloudTrail history. One row per key, principal
and capability:

  capability   use (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*) or admin (PutKeyPolicy,
               ScheduleKeyDeletion, DisableKey, CreateGrant, ImportKeyMaterial, UpdateAlias ...)
  via          key_policy, iam_policy, grant (several, comma-separated), or cloudtrail: a caller
               the history shows with no access in the latest audit
  detail       the key policy statement (index and Sid), IAM policy and statement, or grant id
  conditional  the conditions keytrail cannot decide (kms:ViaService, encryption context ...);
               empty when the access is unconditional
  last_used    the last successful call of that capability on the key by the principal
  calls        successful calls in the history (a role's sessions count as the role)

A principal "*" is anyone; arn:aws:iam::ACCOUNT:* is any principal of ACCOUNT (a "*" narrowed by
kms:CallerAccount). The account root of the key's account stands for the users and roles that
IAM lets in; they are listed by name where the audit could read the account's IAM.

KEY is a key id, key ARN or alias (default: every key of the latest audit).

options:
  --principal ARN  only rows that take in this principal (a user or role ARN, or a role session
                   arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)
  --db FILE        database file (default ${DEFAULT_DB})
  --format FORMAT  table (default), json or csv
  --wait SECONDS   wait up to SECONDS while an ingest holds the database (default 60)
  -h, --help       show this help`;

export const ACCESS_COLUMNS = ['key_arn', 'principal', 'capability', 'via', 'detail', 'conditional', 'last_used', 'calls'];

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, HELP, {
    ...WAIT_OPTION,
    db: { type: 'string', default: DEFAULT_DB },
    format: { type: 'string' },
    principal: { type: 'string' },
  });
  const format = oneOf(values.format, '--format', ['table', 'json', 'csv'] as const, 'table');
  if (positionals.length > 1) throw new UsageError(`give at most one KEY (a key id, key ARN or alias), not ${positionals.length}`);
  const principal = values.principal;
  if (principal !== undefined && !/^arn:aws[a-z-]*:(iam|sts)::\d{12}:\S+$/.test(principal)) {
    throw new UsageError(`--principal: '${principal}' is not an IAM principal ARN (arn:aws:iam::123456789012:role/Name)`);
  }
  const engine = await DuckDBEngine.open(values.db!, waitMs(values.wait));
  try {
    if (!(await hasAudit(engine))) throw new UsageError(`${values.db} holds no keys audit: run keytrail keys audit first`);
    const [{ n }] = await engine.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'inventory_access'");
    if (Number(n) === 0) throw new UsageError(`${values.db} was audited by an older keytrail: run keytrail keys audit again with this version`);
    let keyArn: string | null = null;
    if (positionals[0] !== undefined) {
      try {
        keyArn = await resolveKey(engine, positionals[0]);
      } catch (err) {
        if (err instanceof KeyNotFoundError) throw new UsageError(`${err.message} in ${values.db}`);
        throw err;
      }
    }
    const table = await accessTable(engine, { keyArn, principal: principal ?? null });
    const columns = format === 'table' && keyArn !== null ? ACCESS_COLUMNS.filter((c) => c !== 'key_arn') : ACCESS_COLUMNS;
    console.log(formatRows(table.rows as unknown as Array<Record<string, unknown>>, columns, format));
    for (const note of table.notes) console.error(`keytrail keys access: ${note}`);
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}
