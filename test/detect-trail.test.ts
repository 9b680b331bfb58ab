// The demo's sample trail (scripts/trail-generator.ts): keytrail's detections find every anomaly the
// generator injects, and nothing on its benign traffic (steady services, weekly jobs, containers
// changing addresses, KMS's own events, AWS-managed-key style policies, grants inside the org ...).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateTrail, type InjectedAnomaly, type TrailSummary } from '../scripts/trail-generator.js';
import { DuckDBEngine } from '../src/engine.js';
import { loadRules } from '../src/detect/rules.js';
import { runDetections, type Finding } from '../src/detect/run.js';
import { resolveTrust } from '../src/detect/trust.js';
import { ingestFolder } from './helpers/ingest.js';
import { tempDir } from './helpers/log-objects.js';

/** Which rule reports which anomaly; key_state by the operation. */
const RULES: Record<InjectedAnomaly['kind'], string[]> = {
  volume_spike: ['volume_spike'],
  new_source_ip: ['new_source_ip'],
  access_denied_burst: ['access_denied_burst'],
  cross_account_use: ['cross_account_use'],
  external_key_use: ['external_key_use'],
  key_state: ['key_loss', 'key_weakened', 'ransom_key_setup'],
  key_policy_exposure: ['key_policy_exposure'],
  grant_exposure: ['grant_exposure'],
  root_use: ['root_use'],
};
const KEY_STATE_RULE: Record<string, string | null> = {
  CreateKey: null, // creating a key (even with EXTERNAL origin) is not a finding by itself
  ImportKeyMaterial: null, // ransom_key_setup reports the key's import with its other steps (checked below)
  DisableKeyRotation: 'key_weakened',
  DeleteImportedKeyMaterial: 'key_loss',
  DisableKey: 'key_loss',
  ScheduleKeyDeletion: 'key_loss',
};

const day = (iso: string | null) => (iso ?? '').slice(0, 10);

/**
 * Does the finding report the anomaly? Same rule family, same caller (the generator's principal_arn
 * is the IAM form keytrail calls identity_arn), a key of the anomaly (or none when it spans keys),
 * its day, and its source address when the anomaly has one.
 */
function reports(f: Finding, a: InjectedAnomaly): boolean {
  if (!RULES[a.kind].includes(f.rule)) return false;
  if (f.identity_arn !== a.principal_arn) return false;
  if (f.key_arn !== null && a.key_arns.length > 0 && !a.key_arns.includes(f.key_arn)) return false;
  if (!(day(f.first_seen) <= a.day && a.day <= day(f.last_seen))) return false;
  if (a.source_ip !== null && f.source_ip !== null && f.source_ip !== a.source_ip) return false;
  return true;
}

async function detect(options: { anomalies: boolean; seed: number }): Promise<{ summary: TrailSummary; findings: Finding[] }> {
  const { dir, cleanup } = tempDir('keytrail-sample-');
  try {
    // Two weeks at 0.2 MB (not the demo's three at 2 MB): the smallest trail that still holds every
    // anomaly with its baseline; the objects, not the megabytes, set the cost.
    const summary = generateTrail({ out: join(dir, 'trail'), seed: options.seed, days: 14, targetMb: 0.2, bad: false, anomalies: options.anomalies });
    const db = join(dir, 'keytrail.duckdb');
    await ingestFolder(join(dir, 'trail'), db);
    const engine = await DuckDBEngine.open(db);
    try {
      const trust = await resolveTrust(engine, null, null);
      expect(trust.trustedAccounts).toEqual(summary.accounts);
      return { summary, findings: await runDetections(engine, loadRules(), { since: null, trust }) };
    } finally {
      await engine.close();
    }
  } finally {
    cleanup();
  }
}

describe.each([42, 7])('the sample trail (seed %i)', (seed) => {
  let withAnomalies: { summary: TrailSummary; findings: Finding[] };
  const show = (fs: Finding[]) => fs.map((f) => `${f.rule} ${f.identity_arn} ${f.source_ip} ${f.key_arn} ${f.first_seen}: ${f.detail}`).join('\n');

  it('finds every injected anomaly', async () => {
    withAnomalies = await detect({ anomalies: true, seed });
    const { summary, findings } = withAnomalies;
    expect(summary.anomalies.map((a) => a.kind).sort()).toEqual(
      ['access_denied_burst', 'cross_account_use', 'external_key_use', 'grant_exposure', 'key_policy_exposure', 'key_policy_exposure',
        'key_state', 'key_state', 'new_source_ip', 'root_use', 'volume_spike'],
    );
    for (const a of summary.anomalies) {
      const found = findings.filter((f) => reports(f, a));
      expect(found, `${a.kind} ${a.principal_arn} ${a.day} not found in\n${show(findings)}`).not.toEqual([]);
      if (a.kind === 'key_state') {
        // Every state-changing operation of the anomaly is named in exactly one finding of its rule
        // (key_loss reports a burst, such as DisableKey then ScheduleKeyDeletion, as one incident).
        for (const name of a.event_names) {
          const rule = KEY_STATE_RULE[name];
          if (rule) expect(found.filter((f) => f.rule === rule && new RegExp(`(^|; )${name}( |;|$)`).test(f.detail ?? '')), `${name} of ${a.key_arn}`).toHaveLength(1);
        }
      }
    }
  }, 120_000);

  it('reports nothing else', () => {
    const unexplained = withAnomalies.findings.filter((f) => !withAnomalies.summary.anomalies.some((a) => reports(f, a)));
    expect(unexplained, show(unexplained)).toEqual([]);
  });

  it('finds nothing on the same trail without anomalies', async () => {
    const { findings } = await detect({ anomalies: false, seed });
    expect(findings, show(findings)).toEqual([]);
  }, 120_000);
});

