// npm run demo: a sample trail in a local S3 server, ingested from s3:// as a nightly job would,
// then a few of the questions keytrail answers. Everything stays on this machine, under .sample/.

import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalS3, uploadFolder } from './local-s3.js';
import { generateTrail } from './trail-generator.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), import.meta.url.endsWith('.ts') ? '..' : '../..');
const work = join(root, '.sample');
const trail = join(work, 'trail');
const db = join(work, 'keytrail.duckdb');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const BUCKET = 'acme-org-cloudtrail';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
}

function keytrail(args: string[], env: Record<string, string> = {}): number {
  console.log(`\n$ keytrail ${args.map((a) => (/[\s*]/.test(a) ? `"${a}"` : a)).join(' ')}`);
  const result = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

rmSync(work, { recursive: true, force: true });
console.log('Generating a sample organization trail (3 accounts, 21 days, seeded)…');
const sample = generateTrail({ out: trail, org: true, targetMb: 2 });
console.log(
  `  ${sample.objects} log objects (${(sample.bytesGz / 1e6).toFixed(1)} MB gzip), ${sample.records} events of which ` +
    `${sample.kmsRecords} KMS, ${sample.digestObjects} digest objects and ${sample.badObjects.length} deliberately broken objects`,
);

const s3 = await startLocalS3(join(work, 's3'));
try {
  const all = files(trail);
  console.log(`Uploading them to s3://${BUCKET} on a local S3 server (s3rver, ${s3.endpoint})…`);
  await uploadFolder(s3.client, BUCKET, trail, all);

  const code = keytrail(['ingest', `s3://${BUCKET}/`, '--endpoint-url', s3.endpoint, '--db', db], s3.env);
  console.log(`(exit code ${code}: 3 means some objects were quarantined; the broken ones above are, on purpose)`);
  keytrail(['ingest', `s3://${BUCKET}/`, '--endpoint-url', s3.endpoint, '--db', db], s3.env);
  console.log('(the second run finds nothing new: a nightly cron job can run it forever)');
} finally {
  await s3.stop();
}

keytrail(['query', '--db', db, `SELECT identity_arn, count(*) AS calls, count(DISTINCT key_arn) AS keys, count(DISTINCT source_ip) AS ips,
  count(*) FILTER (WHERE error_code IS NOT NULL) AS errors FROM kms_events GROUP BY ALL ORDER BY calls DESC LIMIT 8`]);
keytrail(['query', '--db', db, `SELECT c.category, count(*) AS events FROM kms_events e JOIN kms_event_catalogue c USING (event_name)
  GROUP BY ALL ORDER BY events DESC`]);
keytrail(['query', '--db', db, `SELECT event_time, event_name, identity_arn, key_arn FROM kms_events
  WHERE event_name IN ('DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy', 'DisableKeyRotation') ORDER BY event_time`]);
keytrail(['query', '--db', db, `SELECT status, count(*) AS objects, any_value(error) AS example FROM ingested_objects GROUP BY ALL`]);
keytrail(['keys', '--db', db]);
console.log('\nThe sample has anomalies injected on purpose; keytrail detect should find each of them:');
keytrail(['detect', '--db', db]);
const report = join(work, 'report.html');
keytrail(['report', '--db', db, '--format', 'html', '--out', report]);
console.log(`\nThe report is ${report}: one file, open it in a browser (it works offline).`);
console.log(`The database is ${db}: open it with keytrail query, or any DuckDB client.`);
