// keytrail ingest SOURCE: wires a source, the database and the pipeline; prints the summary.

import { ingest, type IngestProgress, type IngestSummary } from '../ingest.js';
import { verifyAfterIngest } from '../integrity/after-ingest.js';
import { PublicKeyError, loadPublicKeysFile, type PublicKeyRing } from '../integrity/public-keys.js';
import type { VerifyResult } from '../integrity/verify.js';
import { isEventHistory, parseRegions } from '../source/event-history-days.js';
import { openSource } from '../source/open.js';
import { DEFAULT_LOOKBACK_DAYS } from '../store/streams.js';
import { DEFAULT_DB, EXIT, UsageError, dayOption, parse, positiveInt } from './args.js';

const HELP = `usage: keytrail ingest SOURCE [options]

Loads the KMS events of CloudTrail log objects into a DuckDB file. SOURCE is s3://bucket[/prefix]
(the trail's bucket and prefix, or any folder of its AWSLogs/ layout) or a local folder (an
'aws s3 sync' copy, or any tree of *.json.gz / *.json log objects). Safe to re-run and to kill:
objects already loaded are skipped, and every batch commits with its manifest rows.

SOURCE event-history://[REGION[,REGION...]] reads CloudTrail's Event history instead (LookupEvents,
the last 90 days of management events, no trail needed; needs cloudtrail:LookupEvents): one
object per region and UTC day, its KMS and CloudTrail events. Regions: those named, else
--regions, else the account's enabled regions. A day that ended less than an hour ago is read
again by the next run; events already loaded (from a trail too) are not stored twice.

options:
  --db FILE            database file (default ${DEFAULT_DB})
  --since DATE         first delivery day to read, YYYY-MM-DD (default: each account and region
                       from --lookback days before the last day it was read through, one never
                       read from its first day; Event history: never before 90 days ago)
  --until DATE         last delivery day to read (default: no limit)
  --lookback DAYS      list each account and region again from this many days before where the
                       last run got to, for late deliveries into day folders already read (default 7)
  --regions LIST       event-history:// only: the regions to read, comma-separated
  --lookup-rate N      event-history:// only: LookupEvents requests a second per region (default 2,
                       AWS's quota): lower to leave room for other tools reading the account's
                       Event history, or what a compatible endpoint (--endpoint-url) allows
  --full               list all of SOURCE, not just the days since the last run
  --retry-quarantined  read quarantined and unreadable objects again
  --max-object-mb N    quarantine an object larger than N MB uncompressed (default 1024)
  --concurrency N      objects fetched at once (default 32 for S3, 64 for a folder, every day of
                       every region for Event history, which reads 2 requests/s per region)
  --workers N          decoding threads at most (default: one per core; a few objects take one)
  --batch-objects N    at most N objects per transaction (default 50000; a batch also commits at
                       32,768 rows, 48 MB of rows or after 60 s: the most a killed run reads again)
  --endpoint-url URL   S3-compatible endpoint (also AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL); path-style;
                       for event-history://, the endpoint of CloudTrail, STS and Account
  --verify             also verify the range read, as 'keytrail verify' does (digest chain,
                       signatures, the SHA-256 of each log object, hashed while it is decoded: only
                       the digests and logs not read by this run are read for it); results go to
                       verified_objects and delivery_gaps, problems make the exit code 1
  --public-keys FILE   with --verify: CloudTrail's public keys as \`aws cloudtrail list-public-keys\`
                       prints them (default: ListPublicKeys in each region the digests name)
  --wait               wait for another ingest into the same database to finish instead of failing
  --json               print the summary as JSON
  -h, --help           show this help

The database is open only while a batch commits: query, detect, report ... work during an ingest.

exit codes: 0 all read; 2 bad usage or unusable source/database; 3 some objects quarantined
(unreadable content, see ingested_objects); 4 some objects could not be fetched: transient errors
are retried by the next run, permanent ones (403, 404) are reported by every run and 'keytrail status'.
With --verify, when the ingest itself exits 0: 1 verification found problems (the objects are
loaded all the same; detect and report say which findings rest on them), 3 some objects or
public keys could not be read for verification, 4 verification could not run at all.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, HELP, {
    db: { type: 'string', default: DEFAULT_DB },
    since: { type: 'string' },
    until: { type: 'string' },
    full: { type: 'boolean', default: false },
    lookback: { type: 'string' },
    'retry-quarantined': { type: 'boolean', default: false },
    concurrency: { type: 'string' },
    workers: { type: 'string' },
    'batch-objects': { type: 'string' },
    'max-object-mb': { type: 'string' },
    'endpoint-url': { type: 'string' },
    regions: { type: 'string' },
    'lookup-rate': { type: 'string' },
    verify: { type: 'boolean', default: false },
    'public-keys': { type: 'string' },
    wait: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('expected exactly one SOURCE (s3://bucket[/prefix], event-history://REGION or a folder)');
  const [spec] = positionals;
  const isS3 = spec.startsWith('s3://');
  const history = isEventHistory(spec);
  if (values.regions !== undefined && !history) throw new UsageError('--regions goes with an event-history:// SOURCE');
  if (values['lookup-rate'] !== undefined && !history) throw new UsageError('--lookup-rate goes with an event-history:// SOURCE');
  const lookupRate = values['lookup-rate'] === undefined ? undefined : Number(values['lookup-rate']);
  if (lookupRate !== undefined && !(lookupRate > 0 && Number.isFinite(lookupRate))) throw new UsageError(`--lookup-rate: '${values['lookup-rate']}' is not a positive number of requests a second`);
  if (values.verify && history) throw new UsageError('--verify: CloudTrail Event history has no digest files to check (only a trail delivers them)');
  const regions = values.regions === undefined ? null : regionsOption(values.regions);
  const range = {
    since: dayOption(values.since, '--since'),
    until: dayOption(values.until, '--until'),
  };
  if (range.since && range.until && range.since > range.until) throw new UsageError('--since is after --until');
  const workers = values.workers === undefined ? undefined : positiveInt(values.workers, '--workers', 1);
  const lookbackDays = values.lookback === '0' ? 0 : positiveInt(values.lookback, '--lookback', DEFAULT_LOOKBACK_DAYS);
  const batchObjects = positiveInt(values['batch-objects'], '--batch-objects', 50_000);
  const maxObjectBytes = positiveInt(values['max-object-mb'], '--max-object-mb', 1024) * 2 ** 20;

  if (values['public-keys'] !== undefined && !values.verify) throw new UsageError('--public-keys goes with --verify');
  const publicKeys = values['public-keys'] === undefined ? null : await publicKeysFrom(values['public-keys']);

  const { source, concurrency, notes } = await openSource(spec, {
    endpointUrl: values['endpoint-url'], regions, lookupRate,
    concurrency: values.concurrency === undefined ? undefined : positiveInt(values.concurrency, '--concurrency', 1),
  });
  for (const note of notes) console.error(`keytrail ingest: ${note}`);
  try {
    const progress = process.stderr.isTTY && !values.json ? progressLine() : null;
    const sha256 = values.verify ? new Map<string, string>() : undefined;
    const summary = await ingest(source, values.db!, {
      range, full: values.full, lookbackDays, retryQuarantined: values['retry-quarantined'], concurrency, workers, batchObjects,
      maxObjectBytes, lockWaitMs: values.wait ? 24 * 3600_000 : 0, onProgress: progress?.update, sha256,
    });
    progress?.done();
    let verified: VerifyResult | undefined;
    let verifyError: string | null = null;
    if (sha256) {
      try {
        verified = await verifyAfterIngest(spec, values.db!, {
          range: summary.range, publicKeys, knownSha256: sha256, endpointUrl: values['endpoint-url'], concurrency, now: new Date(),
        });
      } catch (err) {
        verifyError = (err as Error).message; // the ingest is committed: say so, then fail
      }
    }
    const verification = verified && describeVerification(verified);
    console.log(values.json ? JSON.stringify({ ...summary, ...(verification ? { verification } : {}) }, null, 2) : describe(summary, verification));
    if (verifyError !== null) console.error(`keytrail ingest --verify: verification failed, objects loaded but not verified: ${verifyError}`);
    for (const message of [...(verified?.unreadable ?? []), ...(verified?.keyErrors ?? [])]) console.error(`keytrail ingest --verify: ${message}`);
    if (summary.failed.length + summary.unreadable.length > 0 || verifyError !== null) return EXIT.failed;
    if (summary.quarantined.length > 0) return EXIT.quarantined;
    if (verified && verified.problems.length > 0) return EXIT.findings;
    const unchecked = verified !== undefined && isS3 && verified.keyErrors.length > 0 && verified.signatures !== 'checked';
    return (verified?.unreadable.length ?? 0) > 0 || unchecked ? EXIT.quarantined : EXIT.ok;
  } finally {
    source.close();
  }
}

function regionsOption(value: string): string[] {
  try {
    return parseRegions(value, '--regions');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const LISTED = 10;

async function publicKeysFrom(file: string): Promise<PublicKeyRing> {
  try {
    return await loadPublicKeysFile(file);
  } catch (err) {
    if (!(err instanceof PublicKeyError)) throw err;
    throw new UsageError(`--public-keys: ${err.message}`);
  }
}

type Verification = ReturnType<typeof describeVerification>;

/** What --verify found, counted by kind and status, with every problem and gap. */
function describeVerification(r: VerifyResult) {
  const counts = (kind: 'log' | 'digest') => {
    const out: Record<string, number> = { verified: 0, unsigned: 0, failed: 0, unverified: 0 };
    for (const o of r.objects) if (o.kind === kind) out[o.status]++;
    return out;
  };
  return { digests: counts('digest'), logs: counts('log'), signatures: r.signatures, problems: r.problems, gaps: r.gaps, unreadable: r.unreadable };
}

function describe(s: IngestSummary, v?: Verification): string {
  const days = s.range.since || s.range.until ? ` (days ${s.range.since ?? '…'} to ${s.range.until ?? '…'})` : '';
  const lines = [
    `keytrail ingest: ${s.objects} objects read (${mb(s.bytes)} MB) from ${s.source}${days}, ` +
      `${s.skipped} already loaded, ${s.streams} account/region streams${s.newStreams > 0 ? ` (${s.newStreams} new, listed from their first day)` : ''}; ${s.events} events, ${s.kmsEvents} KMS events, ${s.newRows} new rows; ` +
      `${s.quarantined.length} quarantined, ${s.failed.length} failed, ${s.unreadable.length} unreadable; ${s.seconds.toFixed(1)} s`,
  ];
  const list = (what: string, problems: IngestSummary['failed']) => {
    for (const p of problems.slice(0, LISTED)) lines.push(`  ${what} ${p.uri}: ${p.error}`);
    if (problems.length > LISTED) lines.push(`  … and ${problems.length - LISTED} more ${what}: SELECT * FROM ingested_objects WHERE status = '${what}'`);
  };
  list('quarantined', s.quarantined);
  list('failed', s.failed);
  list('unreadable', s.unreadable);
  if (s.unreadableBefore > 0) {
    lines.push(`  ${s.unreadableBefore} objects found unreadable by earlier runs are still unread (keytrail status; --retry-quarantined)`);
  }
  if (v) {
    const n = (c: Record<string, number>) => Object.entries(c).filter(([, k]) => k > 0).map(([status, k]) => `${k} ${status}`).join(', ') || 'none';
    lines.push(`verify: digests ${n(v.digests)}; logs ${n(v.logs)}; ${v.problems.length} problem(s), ${v.gaps.length} delivery gap(s)` +
      (v.digests.verified + v.digests.unsigned + v.digests.failed === 0 ? ' (no digests: is log file validation enabled on the trail?)' : '') +
      (v.signatures === 'checked' ? '' : `; signatures ${v.signatures.replace('_', ' ')}`));
    for (const p of v.problems.slice(0, LISTED)) lines.push(`  ${p.problem} ${p.object}: ${p.detail}`);
    if (v.problems.length > LISTED) lines.push(`  … and ${v.problems.length - LISTED} more: SELECT * FROM verified_objects WHERE status = 'failed'`);
    for (const g of v.gaps.slice(0, LISTED)) lines.push(`  delivery gap ${g.account_id} ${g.region} ${g.trail}: ${g.from} to ${g.until} (${g.hours} h)`);
  }
  return lines.join('\n');
}

/** One self-rewriting line on stderr, at most four times a second. */
function progressLine() {
  const started = Date.now();
  let last = 0;
  const render = (p: IngestProgress) => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    process.stderr.write(
      `\r${p.objects} objects  ${mb(p.bytes)} MB  ${p.kmsEvents} KMS of ${p.events} events  ${Math.round(p.events / seconds)} events/s   `,
    );
  };
  return {
    update: (p: IngestProgress) => {
      if (Date.now() - last < 250) return;
      last = Date.now();
      render(p);
    },
    done: () => process.stderr.write('\r\x1b[K'),
  };
}
