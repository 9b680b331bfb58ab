// keytrail status: is the nightly job keeping up? For people and for monitoring checks (exit 1).

import { Store } from '../store/db.js';
import { collectStatus, duration, parseDuration, type Status } from '../status/status.js';
import { formatBytes } from './engine-options.js';
import { DEFAULT_DB, EXIT, UsageError, WAIT_OPTION, oneOf, parse, positiveInt, waitMs } from './args.js';
import { formatRows } from './format.js';

const HELP = `usage: keytrail status [--db FILE] [--format table|json] [--max-lag DURATION]

Prints, read-only: the last ingest runs (start, end, objects, events, status); the log objects
that are not (all) in the database, with the reason: quarantined (unreadable content), failed
(could not be fetched this time; retried by the next run) and unreadable (can never be fetched:
access denied, deleted); the newest event per account and region and how far behind now it is;
for CloudTrail Event history (ingest event-history://), the days read per account and region,
their events and up to when they were read; the size of the database.

options:
  --db FILE            database file (default ${DEFAULT_DB})
  --format FORMAT      table (default) or json
  --max-lag DURATION   the newest event may be this old before the check fails: Ns, Nm, Nh or Nd
                       (default 26h: a nightly job plus CloudTrail's delivery delay)
  --runs N             runs shown (default 5)
  --objects N          problem objects listed (default 20)
  --wait SECONDS       wait up to SECONDS while an ingest holds the database (default 60)
  -h, --help           show this help

exit codes: 0 all is well; 1 the last ingest failed, no ingest has run, or the newest event is
older than --max-lag (the reasons are printed first); 2 bad usage or unusable database.

example (a monitoring check): keytrail status --max-lag 30h >/dev/null || page-someone`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    HELP,
    {
      ...WAIT_OPTION,
      db: { type: 'string', default: DEFAULT_DB },
      format: { type: 'string' },
      'max-lag': { type: 'string' },
      runs: { type: 'string' },
      objects: { type: 'string' },
    },
    false,
  );
  const format = oneOf(values.format, '--format', ['table', 'json'] as const, 'table');
  const maxLag = values['max-lag'] === undefined ? 26 * 3600 : parseDuration(values['max-lag']);
  if (maxLag === null) throw new UsageError(`--max-lag: '${values['max-lag']}' is not a duration (e.g. 26h, 90m, 2d)`);
  const options = { maxLagSeconds: maxLag, runs: positiveInt(values.runs, '--runs', 5), objects: positiveInt(values.objects, '--objects', 20), now: new Date() };
  const store = await Store.open(values.db!, { readOnly: true, waitMs: waitMs(values.wait) });
  let status: Status;
  try {
    status = await collectStatus(store, options);
  } finally {
    store.close();
  }
  console.log(format === 'json' ? JSON.stringify(status, null, 2) : describe(status));
  return status.problems.length > 0 ? EXIT.findings : EXIT.ok;
}

const RUN_COLUMNS = ['run_id', 'source', 'started_at', 'finished_at', 'status', 'objects', 'kms_events', 'new_rows', 'quarantined', 'failed'];

function describe(s: Status): string {
  const o = s.objects;
  const lines = [
    `${s.database.path}: ${formatBytes(s.database.bytes)}, checked ${s.checked_at}`,
    ...(s.problems.length === 0 ? ['OK'] : s.problems.map((p) => `PROBLEM: ${p}`)),
    '',
    'last ingest runs:',
    formatRows(s.runs, RUN_COLUMNS, 'table'),
    '',
    `log objects: ${o.total} (${o.ok} ok, ${o.quarantined} quarantined, ${o.failed} failed, ${o.unreadable} unreadable)`,
  ];
  // One object per entry, whole: the end of a key (account, region, time) is what tells them apart.
  for (const p of s.problem_objects) lines.push(`  ${p.status} ${p.object_uri} (run ${p.run_id}, ${p.ingested_at})`, `    ${p.error ?? ''}`);
  if (s.problem_objects_more > 0) lines.push(`  … and ${s.problem_objects_more} more (--objects N, or keytrail query on ingested_objects)`);
  const stopped = s.interrupted_run;
  if (stopped) {
    lines.push('', `run ${stopped.run_id} (started ${stopped.started_at}) stopped before it finished, after committing ${stopped.objects_committed} objects; ` +
      'the next ingest lists these streams again from where they were read through (and any stream never read, from its first day):');
    for (const u of stopped.unfinished_streams.slice(0, 20)) lines.push(`  ${u.stream} (read through ${u.read_through ?? '-'})`);
    if (stopped.unfinished_streams.length > 20) lines.push(`  … and ${stopped.unfinished_streams.length - 20} more (SELECT * FROM ingest_streams)`);
  }
  lines.push('', `newest event per account and region (stale: older than ${duration(s.max_lag_seconds)}):`);
  const rows = s.freshness.map((f) => ({ ...f, lag: duration(f.lag_seconds), stale: f.stale ? 'STALE' : '' }));
  lines.push(formatRows(rows, ['account_id', 'aws_region', 'newest_event', 'lag', 'stale'], 'table'));
  if (s.event_history.length > 0) {
    const read = s.event_history.map((r) => ({ ...r, lag: r.lag_seconds === null ? '' : duration(r.lag_seconds) }));
    lines.push('', 'Event history read per account and region (days read, their events, read up to when):');
    lines.push(formatRows(read, ['account_id', 'aws_region', 'first_day', 'last_day', 'days', 'events', 'kms_events', 'problem_days', 'read_through', 'lag'], 'table'));
  }
  return lines.join('\n');
}
