// The benchmark's store grower (scripts/grow-store.ts): copies of an ingested trail's rows into
// earlier periods must look like more nights of the same source to keytrail, every event once.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countEvents, growStore } from '../scripts/grow-store.js';
import { generateTrail, type TrailSummary } from '../scripts/trail-generator.js';
import { ingestFolder, sql } from './helpers/ingest.js';
import { tempDir } from './helpers/log-objects.js';

describe('growStore', () => {
  const tmp = tempDir('keytrail-grow-');
  const trail = join(tmp.dir, 'trail');
  const template = join(tmp.dir, 'template.duckdb');
  const grown = join(tmp.dir, 'grown.duckdb');
  let summary: TrailSummary;

  beforeAll(async () => {
    summary = generateTrail({ out: trail, days: 2, targetMb: 0.2, bad: false, anomalies: false, seed: 3 });
    await ingestFolder(trail, template);
    await growStore(grown, { template, spanDays: summary.days, from: 0, to: 2 });
  }, 120_000);
  afterAll(() => tmp.cleanup());

  it('holds each copy once, with its own ids and keys computed as the ingest computes them', async () => {
    expect(await countEvents(template)).toBe(summary.kmsRecords);
    expect(await countEvents(grown)).toBe(3 * summary.kmsRecords);
    const [row] = await sql<{ n: number; ids: number; keys: number; wrong_keys: number }>(
      grown,
      `SELECT count(*) AS n, count(DISTINCT event_id) AS ids, count(DISTINCT event_key) AS keys,
              count(*) FILTER (WHERE event_key <> md5_number(event_id || '|' || record_hash)) AS wrong_keys
       FROM kms_events`,
    );
    expect(row).toEqual({ n: 3 * summary.kmsRecords, ids: 3 * summary.kmsRecords, keys: 3 * summary.kmsRecords, wrong_keys: 0 });
  });

  it('moves each copy, its events, object URIs and delivery days, one span back per copy', async () => {
    const spans = await sql<{ copy: string; first: string; days: string }>(
      grown,
      `SELECT split_part(event_id, '~', 2) AS copy, strftime(min(event_time), '%Y-%m-%d') AS first,
              string_agg(DISTINCT regexp_extract(source_object, '/(\\d{4}/\\d{2}/\\d{2})/', 1), ',' ORDER BY 1) AS days
       FROM kms_events GROUP BY 1 ORDER BY 1`,
    );
    expect(spans.map((s) => s.copy)).toEqual(['0', '1', '2']);
    const [template0] = await sql<{ first: string }>(template, `SELECT strftime(min(event_time), '%Y-%m-%d') AS first FROM kms_events`);
    const day = (d: string, back: number) => new Date(Date.parse(`${d}T00:00:00Z`) - back * 86_400_000).toISOString().slice(0, 10);
    spans.forEach((s, g) => {
      expect(s.first).toBe(day(template0.first, g * summary.days));
      // URIs name the copy's own days.
      for (const d of s.days.split(',')) expect(d.replaceAll('/', '-') <= day(template0.first, g * summary.days - summary.days)).toBe(true);
    });
    const [manifest] = await sql<{ n: number; uris: number; orphans: number }>(
      grown,
      `SELECT count(*) AS n, count(DISTINCT object_uri) AS uris,
              (SELECT count(*) FROM kms_events k WHERE k.source_object NOT IN (SELECT object_uri FROM ingested_objects)) AS orphans
       FROM ingested_objects`,
    );
    const [templateObjects] = await sql<{ n: number }>(template, 'SELECT count(*) AS n FROM ingested_objects');
    expect(manifest).toEqual({ n: 3 * templateObjects.n, uris: 3 * templateObjects.n, orphans: 0 });
  });

  it('is, to the ingest, the same source already read: nothing is loaded twice', async () => {
    const again = await ingestFolder(trail, grown);
    expect(again.listed).toBeGreaterThan(0);
    expect(again.objects).toBe(0);
    expect(await countEvents(grown)).toBe(3 * summary.kmsRecords);
  });
});
