// Detections on real CloudTrail records (test/fixtures/datasets): Panther's KMS rule tests, each
// record alone with the upstream verdict (see fixtures/panther-kms-rules.md), the AWS
// documentation's example records of every KMS operation, and Stratus Red Team's credential-access
// detonations.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDBEngine } from '../src/engine.js';
import { loadRules } from '../src/detect/rules.js';
import { runDetections, type Finding } from '../src/detect/run.js';
import { resolveTrust } from '../src/detect/trust.js';
import { datasetRecords, fixturesDir } from './helpers/log-objects.js';
import { impliedDecrypts } from './helpers/service-decrypts.js';
import { loadTrail, type CtRecord } from './helpers/trail.js';

const rules = loadRules();

async function detect(records: CtRecord[]): Promise<Finding[]> {
  const trail = await loadTrail(records);
  const engine = await DuckDBEngine.open(trail.db);
  try {
    return await runDetections(engine, rules, { since: null, trust: await resolveTrust(engine, null, null) });
  } finally {
    await engine.close();
    trail.cleanup();
  }
}

describe("Panther's KMS rule tests", () => {
  const panther = datasetRecords('panther-analysis-cloudtrail-tests/cloudtrail-test-events.jsonl');
  const line = (n: number) => panther[n - 1];

  it.each([
    [191, 'KMS Key Disabled', 'key_loss', true],
    [192, 'KMS Key Scheduled For Deletion', 'key_loss', true],
    [193, 'KMS Key Non Deletion Event', 'key_loss', false],
    [194, 'KMS Key Scheduled For Deletion - missing resources', 'key_loss', true],
    [195, 'KMS Disable Key Error', 'key_loss', false],
    [296, 'Wildcard Principal No Conditions', 'key_policy_exposure', true],
    [300, 'KMS Key Restricted Access', 'key_policy_exposure', false],
  ])('line %i (%s): %s alerts = %s', async (n, _name, rule, alerts) => {
    expect(line(n).eventSource).toBe('kms.amazonaws.com');
    const findings = await detect([line(n)]);
    expect(findings.filter((f) => f.rule === rule)).toHaveLength(alerts ? 1 : 0);
    // And no other rule has anything to say about these single, ordinary events.
    expect(findings.filter((f) => f.rule !== rule)).toEqual([]);
  }, 60_000);

  it('explains what it found', async () => {
    const findings = await detect([line(192), line(296)]);
    expect(findings.map((f) => [f.rule, f.identity_arn, f.key_arn, f.detail])).toEqual([
      ['key_loss', 'arn:aws:iam::123456789012:role/tester', 'arn:aws:kms:us-west-2:123456789012:key/1', 'ScheduleKeyDeletion (waiting period 30 days, deletion Jan 1, 2019 12:00:00 AM)'],
      // The record has no identity ARN, account or key: what is known is still reported.
      ['key_policy_exposure', null, null, 'Statement[0] allows kms:Decrypt to Principal "*" with no condition that limits it to trusted accounts or the organization'],
    ]);
  }, 60_000);
});

describe("the AWS documentation's KMS examples", () => {
  it('report the state changes, imported material, rotation off, and grants to unattributable principals', async () => {
    const records = datasetRecords('awsdocs-kms-developer-guide/kms-cloudtrail-examples.jsonl').filter((r) => r.eventSource === 'kms.amazonaws.com');
    const findings = await detect(records);
    const alice = 'arn:aws:iam::111122223333:user/Alice';
    const key = (id: string, region = 'us-west-2') => `arn:aws:kms:${region}:111122223333:key/${id}`;
    expect(findings.map((f) => [f.rule, f.identity_arn, f.key_arn, f.detail])).toEqual([
      // KMS's own event: the imported material expired.
      ['expired_key_material', 'AWS Internal', key('1234abcd-12ab-34cd-56ef-1234567890ab'),
        'KMS deleted the expired imported key material; the key cannot be used until it is imported again (imported 2020-07-26 00:08:00 UTC by arn:aws:iam::111122223333:user/Alice, valid to Jan 1, 2021 8:00:00 PM); not used in the 30 days before'],
      // The example grant names the placeholder "EX_PRINCIPAL_ID": no account can be tied to it.
      ['grant_exposure', alice, key('1234abcd-12ab-34cd-56ef-1234567890ab'), expect.stringContaining('grantee principal "EX_PRINCIPAL_ID", which cannot be attributed to a trusted account')],
      ['key_loss', alice, key('1234abcd-12ab-34cd-56ef-1234567890ab'), 'DisableKey'],
      ['key_loss', alice, key('1234abcd-12ab-34cd-56ef-1234567890ab'), 'ScheduleKeyDeletion (waiting period 20 days, deletion Apr 12, 2021 18:58:30 PM)'],
      ['key_loss', alice, key('0987dcba-09fe-87dc-65ba-ab0987654321'), 'ScheduleKeyDeletion (waiting period 30 days, deletion Nov 2, 2021, 11:25:25 PM)'],
      ['key_loss', alice, key('mrk-1234abcd12ab34cd56ef1234567890ab'), 'ScheduleKeyDeletion (waiting period 30 days)'],
      // The key store examples all carry the same second: the DisconnectCustomKeyStore counts as reconnected.
      ['key_store_loss', alice, null, 'DeleteCustomKeyStore cks-1234567890abcdef0 (ExampleKeyStore, cluster-1a23b4cdefg) in us-east-1: its KMS keys are gone with it'],
      // Logged in both regions under one request id: one finding.
      ['key_region_change', alice, key('mrk-1234abcd12ab34cd56ef1234567890ab'), 'UpdatePrimaryRegion moved the primary key from us-west-2 to ap-northeast-1'],
      ['key_store_changed', alice, null, 'UpdateCustomKeyStore cks-1234567890abcdef0 in us-east-1 changed the CloudHSM cluster (now cluster-1a23b4cdefg)'],
      ['key_weakened', alice, key('1234abcd-12ab-34cd-56ef-1234567890ab'), 'DisableKeyRotation'],
      // The pages reuse one key id for the EXTERNAL key's whole life: one incident, medium (the
      // material was valid for 160 days, not a short-lived ransom key; KMS deleted it at its expiry).
      ['ransom_key_setup', alice, key('1234abcd-12ab-34cd-56ef-1234567890ab'),
        'created with origin EXTERNAL; import parameters fetched 1x; key material imported (KEY_MATERIAL_EXPIRES, valid to Jan 1, 2021 8:00:00 PM: 3836 h after the import); used 8x by arn:aws:iam::111122223333:role/Admins, arn:aws:iam::111122223333:role/ProjectDev, arn:aws:iam::111122223333:user/Alice; then DeleteExpiredKeyMaterial at 2021-01-01 16:00 (weight 4)'],
      // Alice's examples span 2014-2022 from 192.0.2.0; one page uses a placeholder address.
      ['new_source_ip', alice, key('1234abcd-12ab-34cd-56ef-1234567890ab', 'eu-west-1'), expect.stringMatching(/^first call from 172\.01\.01\.001 /)],
      // The external key store page's CreateKey (its key named in resources[] under another account): the origin alone, low.
      ['ransom_key_setup', alice, 'arn:aws:kms:us-east-1:227179770375:key/39c5eb22-f37c-4956-92ca-89e8f8b57ab2', 'created with origin EXTERNAL_KEY_STORE (weight 1)'],
    ]);
    // Not findings: the Decrypt an external key store proxy refused (KMSInvalidStateException, but the
    // message says why, and it is not a pending deletion); the CreateKey calls with
    // bypassPolicyLockoutSafetyCheck false; EBS's grant to "111122223333:aws:ec2-infrastructure:i-81e2f56c" (its own account),
    // EnableKeyRotation, KMS's RotateKey / DeleteKey / DeleteExpiredKeyMaterial, the default key policy.
  }, 60_000);
});

describe('the Stratus Red Team detonation logs (credential access through Secrets Manager and SSM)', () => {
  const files = readdirSync(join(fixturesDir, 'datasets', 'stratus-red-team-detonation-logs')).filter((f) => f.endsWith('.json'));
  const all = files.flatMap((f) => datasetRecords(`stratus-red-team-detonation-logs/${f}`));

  it('hold no KMS event: as recorded, keytrail says only what the defense-evasion detonations did to the trails', async () => {
    expect(all.filter((r) => r.eventSource === 'kms.amazonaws.com')).toEqual([]);
    expect((await detect(all)).map((f) => f.rule).sort()).toEqual(['trail_deleted', 'trail_logging_stopped', 'trail_selectors_weakened']);
  }, 60_000);

  it('with the KMS Decrypts their reads cause, name each harvesting IAM user once', async () => {
    const keyIds = { secretsmanager: '5ec2e75a-0000-4000-8000-000000000001', ssm: '55a0a0a0-0000-4000-8000-000000000002' };
    const decrypts = all.flatMap((r) => impliedDecrypts(r, keyIds));
    expect(decrypts).toHaveLength(20 + 42); // 20 GetSecretValue; 5 GetParameters of 42 names in all
    const findings = (await detect([...all, ...decrypts])).filter((f) => !f.rule.startsWith('trail_'));
    // Each detonation is the user's first activity in its log: no baseline, so low (below the floor).
    expect(findings.map((f) => [f.rule, f.severity, f.identity_arn, f.first_seen, f.last_seen, f.event_count, f.detail])).toEqual([
      ['secret_harvest', 'low', 'arn:aws:iam::903144391865:user/christophe', '2024-07-31T12:36:48Z', '2024-07-31T12:36:52Z', 20,
        'decrypted 20 distinct Secrets Manager secrets in 4 s (20 Decrypt calls, at most 20 within 15 min); its previous maximum in 15 min was 0; no baseline: the caller was first seen 2024-07-31 12:36 UTC, less than 24 h before'],
      ['secret_harvest', 'low', 'arn:aws:iam::933175858973:user/christophe', '2024-08-01T15:26:56Z', '2024-08-01T15:26:58Z', 42,
        'decrypted 42 distinct SSM SecureString parameters in 2 s (42 Decrypt calls, at most 42 within 15 min); its previous maximum in 15 min was 0; no baseline: the caller was first seen 2024-08-01 15:26 UTC, less than 24 h before'],
    ]);
    expect(findings[0].attack).toEqual(['T1555.006', 'T1552']);
  }, 60_000);
});
