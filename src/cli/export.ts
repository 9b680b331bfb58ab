// keytrail export --to DIR|s3://...: kms_events as Parquet, one partition per day, incrementally.

import { ExportTargetError, openTarget } from '../export/target.js';
import { exportParquet, type ExportSummary } from '../export/export.js';
import type { Store } from '../store/db.js';
import { openStore } from '../store/schema.js';
import { DEFAULT_DB, EXIT, UsageError, WAIT_OPTION, dayOption, parse, waitMs } from './args.js';

const HELP = `usage: keytrail export --to DIR|s3://bucket[/prefix] [options]

Writes kms_events as Parquet (zstd) under DEST/kms_events/, one Hive partition per UTC day of
event_time (event_date=YYYY-MM-DD/data.parquet), or per day and account with --by-account
(event_date=.../account=ID/data.parquet). Readable by DuckDB read_parquet(..., hive_partitioning
= true), pandas, polars, and Athena (keytrail athena ddl prints the table).

Incremental: only the days whose events changed since the last export to DEST are written, each
replacing its partition whole (one file per partition, replaced in one step); days that no longer
have events are removed. The state is kept in the database (table exported_days). Large files go
to S3 as multipart uploads.

options:
  --to DEST            a folder, or s3://bucket[/prefix] (required)
  --db FILE            database file (default ${DEFAULT_DB})
  --by-account         partition by account (recipientAccountId) as well as by day
  --since DATE         only look at days from DATE on (YYYY-MM-DD); other days are left as they are
  --until DATE         only look at days up to DATE, inclusive
  --full               write every day again, changed or not
  --dry-run            print what would be written and removed, change nothing
  --endpoint-url URL   S3-compatible endpoint (also AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL); path-style
  --wait SECONDS       wait up to SECONDS while an ingest holds the database (default 60)
  --json               print the summary as JSON
  -h, --help           show this help

exit codes: 0 done; 2 bad usage or unusable database; 4 a write to DEST failed (the days written
before it are recorded; the next run picks up the rest).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    HELP,
    {
      ...WAIT_OPTION,
      to: { type: 'string' },
      db: { type: 'string', default: DEFAULT_DB },
      'by-account': { type: 'boolean', default: false },
      since: { type: 'string' },
      until: { type: 'string' },
      full: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'endpoint-url': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    false,
  );
  if (!values.to) throw new UsageError('--to DIR|s3://bucket[/prefix] is required');
  const since = dayOption(values.since, '--since');
  const until = dayOption(values.until, '--until');
  if (since && until && since > until) throw new UsageError('--since is after --until');

  let target;
  try {
    target = await openTarget(values.to, { endpointUrl: values['endpoint-url'] });
  } catch (err) {
    if (err instanceof ExportTargetError) throw new UsageError(err.message);
    throw err;
  }
  let store: Store | null = null;
  try {
    store = await openStore(values.db!, { waitMs: waitMs(values.wait) });
    const progress = process.stderr.isTTY && !values.json;
    const summary = await exportParquet(store, target, {
      layout: values['by-account'] ? 'day/account' : 'day',
      since,
      until,
      full: values.full,
      dryRun: values['dry-run'],
      onDay: progress ? (day, action) => process.stderr.write(`\r${action} ${day}\x1b[K`) : undefined,
    });
    if (progress) process.stderr.write('\r\x1b[K');
    console.log(values.json ? JSON.stringify(summary, null, 2) : describe(summary));
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ExportTargetError) {
      console.error(`keytrail export: ${err.message}`);
      return EXIT.failed;
    }
    throw err;
  } finally {
    store?.close();
    target.close();
  }
}

function describe(s: ExportSummary): string {
  const days = (list: string[]) => (list.length === 0 ? '' : list.length <= 3 ? ` (${list.join(', ')})` : ` (${list[0]} .. ${list[list.length - 1]})`);
  const verb = s.dry_run ? 'would write' : 'wrote';
  const lines = [
    s.days_written.length === 0 && s.days_removed.length === 0
      ? `${s.destination}: up to date (${s.days_unchanged} day${s.days_unchanged === 1 ? '' : 's'} unchanged)`
      : `${s.destination}: ${verb} ${s.days_written.length} day${s.days_written.length === 1 ? '' : 's'}${days(s.days_written)}, ` +
        `${s.rows_written.toLocaleString('en-US')} events` +
        (s.dry_run ? '' : `, ${s.files_written} file${s.files_written === 1 ? '' : 's'}, ${mb(s.bytes_written)}`) +
        `; ${s.days_unchanged} unchanged` +
        (s.days_removed.length > 0 ? `; ${s.dry_run ? 'would remove' : 'removed'} ${s.days_removed.length} day${s.days_removed.length === 1 ? '' : 's'}${days(s.days_removed)}` : ''),
  ];
  return lines.join('\n');
}

const mb = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MB`;
