// Trail tampering as detections: the trail's own management events (eventSource
// cloudtrail.amazonaws.com), kept by the ingest in trail_events. Positive cases and their benign
// look-alikes, in the shapes CloudTrail records (the Stratus Red Team trails in
// test/fixtures/datasets: StopLogging, DeleteTrail, PutEventSelectors).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBEngine } from '../src/engine.js';
import { loadRules } from '../src/detect/rules.js';
import { runDetections, type Finding } from '../src/detect/run.js';
import { resolveTrust } from '../src/detect/trust.js';
import { datasetRecords } from './helpers/log-objects.js';
import { sql } from './helpers/ingest.js';
import { at, identity, loadTrail, type CtRecord, type LoadedTrail, type UserIdentity } from './helpers/trail.js';

const A = '111111111111';
const attacker = identity.user(A, 'mallory');
const admin = identity.role(A, 'PlatformAdmin', 'change-42');

function trailEvent(eventName: string, time: string, requestParameters: unknown, who: UserIdentity = attacker, extra: CtRecord = {}): CtRecord {
  return {
    eventVersion: '1.09', userIdentity: who, eventTime: time, eventSource: 'cloudtrail.amazonaws.com', eventName,
    awsRegion: 'us-east-1', sourceIPAddress: '198.51.100.7', userAgent: 'aws-cli/2.15.30', requestParameters,
    responseElements: null, requestID: `req-${eventName}-${time}`, eventID: `ev-${eventName}-${time}-${Math.random()}`,
    readOnly: false, eventType: 'AwsApiCall', managementEvent: true, recipientAccountId: A, eventCategory: 'Management', ...extra,
  };
}

const TRAIL = `arn:aws:cloudtrail:us-east-1:${A}:trail/org-trail`;

const records: CtRecord[] = [
  // Stopped and restarted 90 minutes later; stopped again and never restarted.
  trailEvent('StopLogging', at(0, 10), { name: TRAIL }),
  trailEvent('StartLogging', at(0, 11, 30), { name: 'org-trail' }, admin),
  trailEvent('StopLogging', at(2, 9), { name: 'audit-trail' }),
  // Look-alike: a StopLogging that was refused.
  trailEvent('StopLogging', at(1, 9), { name: 'org-trail' }, attacker, { errorCode: 'AccessDenied', errorMessage: 'not authorized' }),
  trailEvent('DeleteTrail', at(1, 12), { name: 'dev-trail' }),
  // Selectors: management events off; KMS excluded; advanced selectors without Management.
  trailEvent('PutEventSelectors', at(1, 13), { trailName: 'org-trail', eventSelectors: [{ readWriteType: 'All', includeManagementEvents: false, dataResources: [], excludeManagementEventSources: [] }] }),
  trailEvent('PutEventSelectors', at(1, 14), { trailName: 'org-trail', eventSelectors: [{ readWriteType: 'All', includeManagementEvents: true, dataResources: [], excludeManagementEventSources: ['kms.amazonaws.com'] }] }),
  trailEvent('PutAdvancedEventSelectors', at(1, 15), { trailName: 'org-trail', advancedEventSelectors: [{ name: 'S3 data only', fieldSelectors: [{ field: 'eventCategory', equals: ['Data'] }, { field: 'resources.type', equals: ['AWS::S3::Object'] }] }] }),
  // Look-alikes: selectors that add data events and keep management events (basic and advanced).
  trailEvent('PutEventSelectors', at(1, 16), { trailName: 'org-trail', eventSelectors: [{ readWriteType: 'All', includeManagementEvents: true, dataResources: [{ type: 'AWS::S3::Object', values: ['arn:aws:s3'] }], excludeManagementEventSources: [] }] }, admin),
  trailEvent('PutAdvancedEventSelectors', at(1, 17), { trailName: 'org-trail', advancedEventSelectors: [
    { name: 'Management', fieldSelectors: [{ field: 'eventCategory', equals: ['Management'] }] },
    { name: 'S3', fieldSelectors: [{ field: 'eventCategory', equals: ['Data'] }, { field: 'resources.type', equals: ['AWS::S3::Object'] }] },
  ] }, admin),
  // Delivery changed: another bucket and key; look-alike: only the SNS topic.
  trailEvent('UpdateTrail', at(3, 10), { name: 'org-trail', s3BucketName: 'exfil-bucket-999', kmsKeyId: `arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab` }),
  trailEvent('UpdateTrail', at(3, 11), { name: 'org-trail', snsTopicName: 'trail-notifications' }, admin),
];

let trail: LoadedTrail;
let findings: Finding[];
const of = (rule: string) => findings.filter((f) => f.rule === rule);

beforeAll(async () => {
  trail = await loadTrail(records);
  const engine = await DuckDBEngine.open(trail.db);
  try {
    findings = await runDetections(engine, loadRules(), { since: null, trust: await resolveTrust(engine, null, null) });
  } finally {
    await engine.close();
  }
}, 120_000);

afterAll(() => trail?.cleanup());

describe('trail tampering', () => {
  it('the ingest keeps the trail\'s own events in trail_events, not in kms_events', async () => {
    expect(await sql(trail.db, 'SELECT count(*) AS n FROM trail_events')).toEqual([{ n: records.length }]);
    expect(await sql(trail.db, 'SELECT count(*) AS n FROM kms_events')).toEqual([{ n: 0 }]);
  });

  it('trail_logging_stopped: each stop, with how long until logging restarted; not a refused stop', () => {
    expect(of('trail_logging_stopped').map((f) => [f.identity_arn, f.first_seen, f.last_seen, f.detail])).toEqual([
      [attacker.arn, '2024-05-01T10:00:00Z', '2024-05-01T11:30:00Z', 'logging stopped on org-trail: restarted 90 min later'],
      [attacker.arn, '2024-05-03T09:00:00Z', '2024-05-03T09:00:00Z', 'logging stopped on audit-trail: not restarted by the newest event recorded'],
    ]);
    expect(of('trail_logging_stopped')[0]).toMatchObject({ severity: 'high', attack: ['T1562.008'] });
  });

  it('trail_deleted: the DeleteTrail', () => {
    expect(of('trail_deleted').map((f) => f.detail)).toEqual(['DeleteTrail dev-trail']);
  });

  it('trail_selectors_weakened: management events off, KMS excluded, advanced selectors without Management; not added data events', () => {
    expect(of('trail_selectors_weakened').map((f) => f.detail)).toEqual([
      'PutEventSelectors on org-trail: drops management events (KMS calls among them)',
      'PutEventSelectors on org-trail: excludes kms.amazonaws.com',
      'PutAdvancedEventSelectors on org-trail: drops management events (KMS calls among them)',
    ]);
  });

  it('trail_changed: a new bucket and key, medium; not an SNS topic change', () => {
    const [f, ...rest] = of('trail_changed');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      severity: 'medium', key_arn: 'arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      detail: 'UpdateTrail org-trail: bucket exfil-bucket-999, KMS key arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
  });

  it('fires on the Stratus Red Team detonations of the three techniques, recorded as CloudTrail wrote them', async () => {
    const stratus = ['cloudtrail-stop', 'cloudtrail-delete', 'cloudtrail-event-selectors']
      .flatMap((t) => datasetRecords(`stratus-red-team-detonation-logs/aws.defense-evasion.${t}.json`));
    const loaded = await loadTrail(stratus);
    try {
      const engine = await DuckDBEngine.open(loaded.db);
      const found = await runDetections(engine, loadRules().filter((r) => r.id.startsWith('trail_')), { since: null, trust: await resolveTrust(engine, null, null) });
      await engine.close();
      expect(found.map((f) => f.rule).sort()).toEqual(['trail_deleted', 'trail_logging_stopped', 'trail_selectors_weakened']);
    } finally {
      loaded.cleanup();
    }
  });
});
