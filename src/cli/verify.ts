// keytrail verify: are the trail's objects complete and untouched? The checks of
// `aws cloudtrail validate-logs`, for every account and region of a bucket or folder.

import { isEventHistory } from '../source/event-history-days.js';
import { addDays } from '../source/layout.js';
import { openStore } from '../store/schema.js';
import { openTrailObjects } from '../integrity/objects.js';
import { PublicKeyError, loadPublicKeysFile, type PublicKeyRing } from '../integrity/public-keys.js';
import { recordVerification } from '../integrity/record.js';
import { verifySource, type ObjectResult, type VerifyResult } from '../integrity/verify.js';
import { EXIT, UsageError, dayOption, oneOf, parse } from './args.js';
import { formatRows } from './format.js';

const HELP = `usage: keytrail verify SOURCE [--public-keys FILE] [--since DATE] [--until DATE]
                       [--endpoint-url URL] [--db FILE] [--format table|json]

Checks a trail's objects as aws cloudtrail validate-logs does, for every account and region
under SOURCE (s3://bucket[/prefix] or a folder; plain and organization trails): the digest chain
under CloudTrail-Digest/, each digest's SHA256withRSA signature (its S3 metadata, checked with
CloudTrail's public keys), and the SHA-256 of every log object a digest lists. Reports logs
modified, missing, or present but listed by no digest of their hour; digests missing, modified
or moved, or with a bad signature; and, apart from those, delivery gaps: hours no digest covers.
A folder has no S3 metadata: there, hashes and the chain are checked and signatures are
reported as not checked.

options:
  --public-keys FILE  CloudTrail's public keys as \`aws cloudtrail list-public-keys\` prints them
                      (offline); default: ListPublicKeys in each region the digests name
                      (AWS_ENDPOINT_URL_CLOUDTRAIL points it at another endpoint)
  --since DATE        first day (YYYY-MM-DD, UTC day folders) to verify
  --until DATE        last day; gaps are looked for up to its end (default: the newest digest)
  --endpoint-url URL  S3-compatible endpoint (path-style)
  --db FILE           also store the result per object (verified_objects, delivery_gaps)
  --format FORMAT     table (default) or json
  -h, --help          show this help

An event-history:// SOURCE has no digests: verify says so (exit 2).

exit codes: 0 every object verified, 1 problems found, 2 bad usage or no digests,
3 some objects or public keys could not be read`;

const CONCURRENCY = 16;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, HELP, {
    'public-keys': { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    'endpoint-url': { type: 'string' },
    db: { type: 'string' },
    format: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `one SOURCE expected, got ${positionals.join(' ')}` : 'SOURCE is required');
  const format = oneOf(values.format, '--format', ['table', 'json'] as const, 'table');
  if (isEventHistory(positionals[0])) {
    console.error(`keytrail verify: ${positionals[0]}: CloudTrail Event history has no digest files, so there is nothing to verify ` +
      "(only a trail's log objects in S3 come with digests: verify the trail's bucket)");
    return EXIT.usage;
  }
  const range = { since: dayOption(values.since, '--since'), until: dayOption(values.until, '--until') };
  if (range.since && range.until && range.since > range.until) throw new UsageError(`--since ${range.since} is after --until ${range.until}`);

  let publicKeys: PublicKeyRing | null = null;
  if (values['public-keys']) {
    try {
      publicKeys = await loadPublicKeysFile(values['public-keys']);
    } catch (err) {
      if (!(err instanceof PublicKeyError)) throw err;
      throw new UsageError(`--public-keys: ${err.message}`);
    }
  }

  const now = new Date();
  const untilEnd = range.until ? `${addDays(range.until, 1)}T00:00:00Z` : null;
  const windowEnd = untilEnd && Date.parse(untilEnd) > now.getTime() ? now.toISOString() : untilEnd;
  const objects = await openTrailObjects(positionals[0], { endpointUrl: values['endpoint-url'], concurrency: CONCURRENCY });
  let result: VerifyResult;
  try {
    result = await verifySource(objects, { range, publicKeys, concurrency: CONCURRENCY, windowEnd });
  } finally {
    objects.close();
  }

  const digests = result.objects.filter((o) => o.kind === 'digest');
  if (digests.length === 0) {
    console.error(`keytrail verify: no CloudTrail digests under ${result.source}${range.since || range.until ? ' in that range' : ''} ` +
      '(is log file validation enabled on the trail?)');
    return EXIT.usage;
  }
  if (values.db) {
    const store = await openStore(values.db);
    try {
      await recordVerification(store, result.source, result.objects, result.gaps, {
        start: range.since ? `${range.since}T00:00:00Z` : null, end: windowEnd,
      }, now);
    } finally {
      store.close();
    }
  }

  const report = summarise(result, range);
  console.log(format === 'json' ? JSON.stringify(report, null, 2) : table(report));
  for (const message of [...result.unreadable, ...result.keyErrors]) console.error(`keytrail verify: ${message}`);
  if (result.problems.length > 0) return EXIT.findings;
  const unchecked = result.keyErrors.length > 0 && result.signatures !== 'checked' && !objectsAreFiles(result);
  return result.unreadable.length > 0 || unchecked ? EXIT.quarantined : EXIT.ok;
}

const objectsAreFiles = (result: VerifyResult): boolean => !result.source.startsWith('s3://');

const count = (objects: ObjectResult[], status?: ObjectResult['status']) => objects.filter((o) => !status || o.status === status).length;

function summarise(result: VerifyResult, range: { since: string | null; until: string | null }) {
  const digests = result.objects.filter((o) => o.kind === 'digest');
  const logs = result.objects.filter((o) => o.kind === 'log');
  const regions = new Map<string, ObjectResult[]>();
  for (const o of result.objects) {
    const id = `${o.account_id ?? '?'}/${o.region ?? '?'}`;
    if (!regions.has(id)) regions.set(id, []);
    regions.get(id)!.push(o);
  }
  return {
    problems: result.problems,
    source: result.source,
    since: range.since,
    until: range.until,
    verified: result.problems.length === 0,
    signatures: result.signatures,
    signatures_note: result.signatures === 'checked' ? null
      : objectsAreFiles(result) ? 'a folder has no S3 metadata: hashes and the chain were checked, signatures not'
      : 'some signatures could not be checked: public keys unavailable',
    digests: { total: digests.length, verified: count(digests, 'verified'), unsigned: count(digests, 'unsigned'), failed: count(digests, 'failed') },
    logs: {
      total: logs.length, verified: count(logs, 'verified'), unsigned: count(logs, 'unsigned'),
      failed: count(logs, 'failed'), unverified: count(logs, 'unverified'),
    },
    regions: [...regions.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, objects]) => {
      const gaps = result.gaps.filter((g) => g.account_id === objects[0].account_id && g.region === objects[0].region);
      return {
        account_id: objects[0].account_id, region: objects[0].region,
        digests: objects.filter((o) => o.kind === 'digest').length,
        logs: objects.filter((o) => o.kind === 'log').length,
        failed: count(objects, 'failed'),
        unverified: count(objects, 'unverified'),
        gaps: gaps.length,
        gap_hours: Math.round(gaps.reduce((sum, g) => sum + g.hours, 0) * 10) / 10,
      };
    }),
    gaps: result.gaps,
    unreadable: result.unreadable,
    backfill_digests_skipped: result.backfillSkipped,
  };
}

function table(report: ReturnType<typeof summarise>): string {
  const out: string[] = [];
  if (report.problems.length > 0) {
    // Not a table: object names are long, and cut short they would be useless.
    out.push(`Problems (${report.problems.length})`);
    for (const p of report.problems) out.push(`  ${p.problem.padEnd(24)} ${p.object}`, `  ${' '.repeat(24)} ${p.detail}`);
    out.push('');
  }
  const regionColumns = ['account_id', 'region', 'digests', 'logs', 'failed', 'unverified', 'gaps', 'gap_hours'];
  out.push('Per account and region', formatRows(report.regions, regionColumns, 'table'), '');
  if (report.gaps.length > 0) {
    out.push('Delivery gaps (hours no digest covers: missing evidence, not tampering)',
      formatRows(report.gaps.map((g) => ({ ...g })), ['account_id', 'region', 'trail', 'from', 'until', 'hours'], 'table'), '');
  }
  if (report.signatures_note) out.push(`Signatures ${report.signatures.replace('_', ' ')}: ${report.signatures_note}`);
  const d = report.digests;
  const l = report.logs;
  out.push(
    `${d.total} digests (${d.verified} verified, ${d.unsigned} unsigned, ${d.failed} failed), ` +
      `${l.total} logs (${l.verified} verified, ${l.unsigned} unsigned, ${l.failed} failed, ${l.unverified} not covered by a digest): ` +
      (report.verified ? 'no problems' : `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`),
  );
  return out.join('\n');
}
