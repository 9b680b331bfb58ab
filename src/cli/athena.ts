// keytrail athena ddl: the Athena DDL for the Parquet export, or for the raw CloudTrail table with a
// kms_events view over it; printed to paste into Athena, or run there with --apply.

import { existsSync } from 'node:fs';
import { AthenaEngine } from '../athena/client.js';
import {
  DEFAULT_REGIONS, DdlError, catalogueViewDdl, cloudTrailTableDdl, parquetTableDdl, rawKmsEventsViewDdl, rawPrincipalsViewDdl, statements,
} from '../athena/ddl.js';
import { Store } from '../store/db.js';
import { DEFAULT_DB, EXIT, UsageError, parse } from './args.js';
import { ENGINE_OPTIONS, engineErrorMessage, engineName, openEngine } from './engine-options.js';

const HELP = `usage: keytrail athena ddl --location s3://bucket/prefix [options]
       keytrail athena ddl --cloudtrail s3://bucket[/prefix] --accounts IDS [options]

Prints the Athena DDL, one statement after another, to run in the Athena console (one statement
at a time, in the database you query) or with --apply. Partition projection throughout: no
crawler, no MSCK REPAIR TABLE, new days are there as soon as their files are.

  --location S3URI    the Parquet export (what keytrail export --to was given): the table
                      kms_events over it, and the view kms_event_catalogue the reports use.
  --cloudtrail S3URI  no local ingest at all: the trail's bucket and prefix (AWSLogs/ is below it).
                      The AWS-documented CloudTrail table (cloudtrail_logs) over its objects, a
                      kms_events view presenting its KMS events as the local table has them, and
                      kms_event_catalogue. Every query reads the whole trail in the partitions it
                      touches (all services' events, gzipped JSON): see the README on cost.

options:
  --by-account        (--location) the export was made with --by-account
  --accounts IDS      account ids, comma-separated: the trail's accounts (--cloudtrail, required),
                      or the export's account partitions (--by-account; default: the --db's accounts)
  --org-id O-ID       (--cloudtrail) an organization trail (AWSLogs/o-.../ACCOUNT/...)
  --regions LIST      (--cloudtrail) regions, comma-separated (default: every commercial region)
  --since DATE        first day partitions are projected for, YYYY-MM-DD or NOW-3YEARS (default:
                      the first day in --db when it exists, else NOW-3YEARS)
  --table NAME        table name (default kms_events, or cloudtrail_logs with --cloudtrail)
  --view NAME         (--cloudtrail) the view's name (default kms_events)
  --db FILE           the local database, for the defaults above (default ${DEFAULT_DB})
  --apply             run the statements on Athena (with --athena-database etc.) instead of printing
  --athena-database NAME, --athena-workgroup NAME, --athena-output S3URI, --athena-region REGION
                      where --apply runs them (the database is created if missing)
  -h, --help          show this help

examples:
  keytrail export --to s3://audit-lake/keytrail
  keytrail athena ddl --location s3://audit-lake/keytrail
  keytrail detect --engine athena --athena-database keytrail --athena-output s3://audit-lake/athena-results/`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub !== 'ddl') throw new UsageError(`unknown subcommand '${sub}' (athena ddl)`);
  const { values } = parse(
    rest,
    HELP,
    {
      ...ENGINE_OPTIONS,
      location: { type: 'string' },
      cloudtrail: { type: 'string' },
      'by-account': { type: 'boolean', default: false },
      accounts: { type: 'string' },
      'org-id': { type: 'string' },
      regions: { type: 'string' },
      since: { type: 'string' },
      table: { type: 'string' },
      view: { type: 'string' },
      db: { type: 'string', default: DEFAULT_DB },
      apply: { type: 'boolean', default: false },
    },
    false,
  );
  if ((values.location === undefined) === (values.cloudtrail === undefined)) throw new UsageError('give --location (the Parquet export) or --cloudtrail (the trail)');
  if (values.engine !== undefined) throw new UsageError('--engine does not apply here (--apply runs on Athena)');
  if (values.apply) {
    engineName({ ...values, engine: 'athena' });
  } else if (values['athena-database'] === undefined && (values['athena-workgroup'] ?? values['athena-output'] ?? values['athena-region']) !== undefined) {
    throw new UsageError('--athena-* options go with --apply');
  }
  const split = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const local = await localDefaults(values.db!);
  const since = values.since ?? local.firstDay ?? 'NOW-3YEARS';

  const ddl: string[] = [];
  const database = values['athena-database'];
  try {
    if (database !== undefined) ddl.push(`CREATE DATABASE IF NOT EXISTS ${database}`);
    if (values.location !== undefined) {
      if (values.view !== undefined || values['org-id'] !== undefined || values.regions !== undefined) {
        throw new UsageError('--view, --org-id and --regions go with --cloudtrail');
      }
      let accounts: string[] | undefined;
      if (values['by-account']) {
        accounts = values.accounts !== undefined ? split(values.accounts) : local.accounts;
        if (!accounts || accounts.length === 0) throw new UsageError('--by-account needs --accounts (or a --db with events)');
      } else if (values.accounts !== undefined) {
        throw new UsageError('--accounts goes with --by-account or --cloudtrail');
      }
      ddl.push(parquetTableDdl({ location: values.location, since, accounts, table: values.table }));
    } else {
      if (values['by-account']) throw new UsageError('--by-account goes with --location');
      if (values.accounts === undefined) throw new UsageError('--cloudtrail needs --accounts (the accounts whose logs are in the trail)');
      const table = values.table ?? 'cloudtrail_logs';
      ddl.push(
        cloudTrailTableDdl({
          trail: values.cloudtrail!, orgId: values['org-id'], accounts: split(values.accounts),
          regions: values.regions !== undefined ? split(values.regions) : DEFAULT_REGIONS, since, table,
        }),
        rawPrincipalsViewDdl({ table }),
        rawKmsEventsViewDdl({ table, view: values.view }),
        rawKmsEventsViewDdl({ table, eventSource: 'cloudtrail.amazonaws.com' }),
      );
    }
    ddl.push(catalogueViewDdl());
  } catch (err) {
    if (err instanceof DdlError) throw new UsageError(err.message);
    throw err;
  }

  if (!values.apply) {
    console.log(ddl.map((s) => `${s};`).join('\n\n'));
    return EXIT.ok;
  }
  const [create, ...inDatabase] = statements(ddl);
  // CREATE DATABASE runs outside the database it creates.
  const bootstrap = new AthenaEngine({ database: 'default', workgroup: values['athena-workgroup'], outputLocation: values['athena-output'], region: values['athena-region'] });
  const engine = (await openEngine({ ...values, engine: 'athena' }, values.db!)) as AthenaEngine;
  try {
    await bootstrap.execute(create);
    for (const statement of inDatabase) await engine.execute(statement);
    console.error(`keytrail athena ddl: ${inDatabase.length + 1} statements applied in database ${database}`);
    return EXIT.ok;
  } catch (err) {
    const message = engineErrorMessage(err);
    if (message === null) throw err;
    console.error(`keytrail athena ddl: ${message}`);
    return EXIT.failed;
  } finally {
    await bootstrap.close();
    await engine.close();
  }
}

/** The first day and the accounts of the local database, when there is one. */
async function localDefaults(db: string): Promise<{ firstDay: string | null; accounts: string[] | undefined }> {
  if (!existsSync(db)) return { firstDay: null, accounts: undefined };
  let store: Store | null = null;
  try {
    store = await Store.open(db, { readOnly: true });
    const [first] = await store.all<{ day: string | null }>('SELECT CAST(CAST(min(event_time) AS DATE) AS VARCHAR) AS day FROM kms_events');
    const accounts = await store.all<{ a: string }>("SELECT DISTINCT coalesce(account_id, 'unknown') AS a FROM kms_events ORDER BY a");
    return { firstDay: first?.day ?? null, accounts: accounts.map((r) => r.a) };
  } catch {
    return { firstDay: null, accounts: undefined };
  } finally {
    store?.close();
  }
}
