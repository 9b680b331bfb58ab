// npm run demo: a sample trail in a local S3 server, ingested from s3:// as a nightly job would,
// then the whole audit on it: queries, the keys read live from a local endpoint that speaks KMS,
// IAM, STS and Account (serving the sample organization's keys), the trail verified against its
// signed digests (one log object tampered with on purpose), detections sent to a local webhook,
// and the report. Everything stays on this machine, under .sample/.

import { spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { digestMetadata, makeTrailKey } from './cloudtrail/index.js';
import { startCloudTrailServer } from './local-aws/cloudtrail-server.js';
import { createIamService } from './local-aws/iam-server.js';
import { startKmsServer } from './local-aws/kms-server.js';
import { listenLocally } from './local-aws/local-server.js';
import { startLocalS3, uploadFolder } from './local-s3.js';
import { serveSampleKeys } from './sample/live-keys.js';
import { ACCOUNT_REGIONS } from './sample/organization.js';
import { ORG_ACCOUNTS, generateTrail, sampleOrganization, type TrailSummary } from './trail-generator.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), import.meta.url.endsWith('.ts') ? '..' : '../..');
const work = join(root, '.sample');
const trail = join(work, 'trail');
const db = join(work, 'keytrail.duckdb');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const BUCKET = 'acme-org-cloudtrail';
const AUDITOR = { AWS_ACCESS_KEY_ID: 'AKIADEMOAUDITOR00001', AWS_SECRET_ACCESS_KEY: 'demo-auditor-secret' };
const NOTIFY_SECRET = 'demo-webhook-secret';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
}

/** Runs the CLI without blocking this process, which serves the local endpoints it calls. */
function keytrail(args: string[], env: Record<string, string> = {}): Promise<number> {
  console.log(`\n$ keytrail ${args.map((a) => (/[\s*]/.test(a) ? `"${a}"` : a)).join(' ')}`);
  const child = spawn(process.execPath, [cli, ...args], { stdio: 'inherit', env: { ...process.env, ...env } });
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('exit', (code) => done(code ?? 1));
  });
}

/** Removes one KMS record from a log object a digest lists, as someone covering their tracks would. */
function tamperWithOneLog(sample: TrailSummary): { key: string; removed: Record<string, unknown> } {
  for (const digest of Object.keys(sample.digestSignatures).sort()) {
    const { logFiles } = JSON.parse(gunzipSync(readFileSync(join(trail, digest))).toString()) as { logFiles: Array<{ s3Object: string }> };
    for (const { s3Object } of logFiles) {
      const path = join(trail, s3Object);
      const log = JSON.parse(gunzipSync(readFileSync(path)).toString()) as { Records: Array<Record<string, unknown>> };
      const i = log.Records.findIndex((r) => r.eventSource === 'kms.amazonaws.com' && r.eventName === 'Decrypt');
      if (i < 0) continue;
      const [removed] = log.Records.splice(i, 1);
      writeFileSync(path, gzipSync(JSON.stringify(log)));
      return { key: s3Object, removed: removed! };
    }
  }
  throw new Error('no log object a digest lists has a Decrypt record to remove');
}

rmSync(work, { recursive: true, force: true });
console.log('Generating a sample organization trail (3 accounts, 21 days, seeded), its digests signed as CloudTrail signs them…');
// The key that stands in for CloudTrail's signing key; the local CloudTrail serves its public half.
const signer = makeTrailKey();
const sample = generateTrail({ out: trail, org: true, targetMb: 2, bucket: BUCKET, digestSigner: signer });
console.log(
  `  ${sample.objects} log objects (${(sample.bytesGz / 1e6).toFixed(1)} MB gzip), ${sample.records} events of which ` +
    `${sample.kmsRecords} KMS, ${sample.digestObjects} digest objects and ${sample.badObjects.length} deliberately broken objects`,
);
const tampered = tamperWithOneLog(sample);
console.log(`  and one log object tampered with after delivery: its Decrypt by ${String((tampered.removed.userIdentity as { arn?: string }).arn)} ` +
  `at ${String(tampered.removed.eventTime)} removed (${tampered.key.split('/').pop()})`);

const s3 = await startLocalS3(join(work, 's3'));
const cloudtrail = await startCloudTrailServer(Object.fromEntries(Object.values(ACCOUNT_REGIONS).flat().map((region) => [region, [signer]])));
const iam = createIamService();
const kms = await startKmsServer({
  callerAccount: ORG_ACCOUNTS[2], // the organization's security account
  accessKeys: { [AUDITOR.AWS_ACCESS_KEY_ID]: AUDITOR.AWS_SECRET_ACCESS_KEY },
  roles: ORG_ACCOUNTS.map((account) => `arn:aws:iam::${account}:role/SecurityAuditRole`),
  enabledRegions: ACCOUNT_REGIONS,
  iam,
});
serveSampleKeys(sampleOrganization(sample.seed), kms, iam);
const received: Array<{ text: string; signed: boolean }> = [];
const webhook = await listenLocally((req, res, body) => {
  const expected = Buffer.from(`sha256=${createHmac('sha256', NOTIFY_SECRET).update(body).digest('hex')}`);
  const given = Buffer.from(String(req.headers['x-keytrail-signature'] ?? ''));
  received.push({ text: (JSON.parse(body.toString()) as { text: string }).text, signed: given.length === expected.length && timingSafeEqual(given, expected) });
  res.writeHead(204).end();
});
// No profile or instance role of this machine: the demo's credentials only.
const isolated = { AWS_CONFIG_FILE: join(work, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'), AWS_EC2_METADATA_DISABLED: 'true' };
const auditEnv = { ...isolated, ...AUDITOR, AWS_REGION: 'us-east-1' };

try {
  const all = files(trail);
  console.log(`Uploading them to s3://${BUCKET} on a local S3 server (s3rver, ${s3.endpoint}), digests with their signatures…`);
  await uploadFolder(s3.client, BUCKET, trail, all, 16, (key) => {
    const signature = sample.digestSignatures[key];
    return signature ? digestMetadata(signature) : undefined;
  });

  const ingest = ['ingest', `s3://${BUCKET}/`, '--endpoint-url', s3.endpoint, '--db', db];
  const code = await keytrail(ingest, { ...isolated, ...s3.env });
  console.log(`(exit code ${code}: 3 means some objects were quarantined; the broken ones above are, on purpose)`);
  await keytrail(ingest, { ...isolated, ...s3.env });
  console.log('(the second run finds nothing new: a nightly cron job can run it forever)');

  await keytrail(['query', '--db', db, `SELECT identity_arn, count(*) AS calls, count(DISTINCT key_arn) AS keys, count(DISTINCT source_ip) AS ips,
  count(*) FILTER (WHERE error_code IS NOT NULL) AS errors FROM kms_events GROUP BY ALL ORDER BY calls DESC LIMIT 8`]);
  await keytrail(['query', '--db', db, `SELECT event_time, event_name, identity_arn, key_arn FROM kms_events
  WHERE event_name IN ('DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy', 'DisableKeyRotation') ORDER BY event_time`]);
  await keytrail(['keys', '--db', db]);

  console.log(`\nCan the logs be trusted? The digests are checked with the public key a local CloudTrail serves (ListPublicKeys, ${cloudtrail.endpoint}):`);
  const verified = await keytrail(['verify', `s3://${BUCKET}/`, '--endpoint-url', s3.endpoint, '--db', db],
    { ...isolated, ...s3.env, AWS_ENDPOINT_URL_CLOUDTRAIL: cloudtrail.endpoint });
  console.log(`(exit code ${verified}: 1 means problems: the log object tampered with above, and only it, is found. The sample's digests`);
  console.log(' cover three hours of its first day, so its other logs are counted as not covered by a digest, not as problems)');

  console.log(`\nThe keys as they are now, read through the KMS API of a local endpoint (${kms.endpoint}, also STS, Account and IAM),`);
  console.log('one SecurityAuditRole per account:');
  await keytrail(['keys', 'audit', '--endpoint-url', kms.endpoint, '--db', db,
    ...ORG_ACCOUNTS.flatMap((account) => ['--role-arn', `arn:aws:iam::${account}:role/SecurityAuditRole`])], auditEnv);
  const secrets = sampleOrganization(sample.seed).key(ORG_ACCOUNTS[1], 'us-east-1', 'secrets');
  await keytrail(['keys', 'show', secrets.arn, '--db', db]);
  await keytrail(['keys', 'access', '--principal', `arn:aws:iam::${ORG_ACCOUNTS[0]}:user/carol.ops`, '--db', db]);

  console.log('\nThe detections, with the audit\'s findings, each new one sent once to a webhook (a local HTTP server in this process);');
  console.log('a note on stderr for each finding whose events come from log objects no digest vouches for:');
  await keytrail(['detect', '--db', db, '--notify', `${webhook.endpoint}/kms-findings`], { KEYTRAIL_NOTIFY_SECRET: NOTIFY_SECRET });
  console.log(`\nThe webhook received ${received.length} POSTs (${received.filter((r) => r.signed).length} with a valid X-Keytrail-Signature):`);
  for (const r of received) console.log(`  ${r.text}`);

  const report = join(work, 'report.html');
  await keytrail(['report', '--db', db, '--format', 'html', '--out', report]);
  console.log(`\nThe report is ${report}: one file, open it in a browser (it works offline); it has the key`);
  console.log('configuration the audit read and the integrity of the trail beside the activity and the findings.');
  console.log(`The database is ${db}: open it with keytrail query, or any DuckDB client.`);
} finally {
  await Promise.all([s3.stop(), cloudtrail.stop(), kms.stop(), webhook.stop()]);
}
