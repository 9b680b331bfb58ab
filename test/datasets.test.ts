// Every KMS record of the public datasets (test/fixtures/datasets) loads, with the right key.

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetRecords, logObjectKey, tempDir, writeLogObject } from './helpers/log-objects.js';
import { Store } from '../src/store/db.js';
import { ingestFolder, sql } from './helpers/ingest.js';

const DATASETS = [
  'awsdocs-kms-developer-guide/kms-cloudtrail-examples.jsonl',
  'awsdocs-cloudtrail-user-guide/cloudtrail-examples.jsonl',
  'panther-analysis-cloudtrail-tests/cloudtrail-test-events.jsonl',
  ...['aws.credential-access.ssm-retrieve-securestring-parameters.json', 'aws.impact.bedrock-invoke-model.json']
    .map((f) => `stratus-red-team-detonation-logs/${f}`),
];

const KEY_ARN = /^arn:[\w-]+:kms:[\w-]+:\d{12}:key\/.+$/;

/** The key a record names, found independently of src/kms/normalize.ts: any AWS::KMS::Key ARN it holds. */
function keyArnsNamed(record: Record<string, unknown>): string[] {
  const arns: string[] = [];
  for (const r of (record.resources as Array<Record<string, unknown>> | undefined) ?? []) {
    if (typeof r?.ARN === 'string' && KEY_ARN.test(r.ARN)) arns.push(r.ARN);
  }
  const params = record.requestParameters as Record<string, unknown> | null | undefined;
  if (params && typeof params === 'object' && typeof params.keyId === 'string' && KEY_ARN.test(params.keyId)) arns.push(params.keyId);
  return arns;
}

describe('public datasets', () => {
  const { dir, cleanup } = tempDir();
  const db = join(dir, 'kt.duckdb');
  afterAll(cleanup);

  it('loads every KMS record, and only those', async () => {
    let expected = 0;
    DATASETS.forEach((path, i) => {
      const records = datasetRecords(path);
      expected += records.filter((r) => r.eventSource === 'kms.amazonaws.com').length;
      writeLogObject(join(dir, 'trail'), logObjectKey('123456789012', 'us-east-1', `2024-05-0${i + 1}T00:05:00Z`), records);
    });
    expect(expected).toBe(67 + 1 + 10); // SUMMARY.md of the datasets
    const summary = await ingestFolder(join(dir, 'trail'), db);
    expect(summary.quarantined).toEqual([]);
    expect(summary.kmsEvents).toBe(expected);
    const [{ n }] = await sql<{ n: number }>(db, 'SELECT count(*) AS n FROM kms_events');
    expect(n).toBe(expected);
  });

  it('gives each record the key ARN it names', async () => {
    const store = await Store.open(db, { readOnly: true }); // one reader for the 78 look-ups
    try {
      for (const path of DATASETS.slice(0, 3)) {
        for (const record of datasetRecords(path).filter((r) => r.eventSource === 'kms.amazonaws.com')) {
          const named = keyArnsNamed(record);
          const rows = await store.all<{ key_arn: string | null }>(
            `SELECT key_arn FROM kms_events WHERE event_name = $1 AND event_id = coalesce($2, event_id)
               AND request_parameters IS NOT DISTINCT FROM $3::JSON`,
            [String(record.eventName), typeof record.eventID === 'string' ? record.eventID : null,
              record.requestParameters == null ? null : JSON.stringify(record.requestParameters)],
          );
          expect(rows.length, `${path}: ${record.eventName} ${record.eventID}`).toBeGreaterThan(0);
          for (const row of rows) {
            if (named.length > 0) expect(named, `${path}: ${record.eventName}`).toContain(row.key_arn);
          }
        }
      }
    } finally {
      store.close();
    }
  });

  it('re-running adds nothing', async () => {
    const summary = await ingestFolder(join(dir, 'trail'), db, { full: true });
    expect(summary.objects).toBe(0);
    expect(summary.skipped).toBe(DATASETS.length);
    const [{ n }] = await sql<{ n: number }>(db, 'SELECT count(*) AS n FROM kms_events');
    expect(n).toBe(78);
  });
});
