// Every timestamp keytrail writes is UTC, whatever the machine's zone: the CLI runs here under
// zones far from UTC on either side, and what it wrote is compared with the clock.

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli } from './helpers/cli.js';
import { sql } from './helpers/ingest.js';
import { tempDir } from './helpers/log-objects.js';
import { at, identity, keyArn, kmsEvent, writeTrail } from './helpers/trail.js';

describe('UTC everywhere', () => {
  const { dir, cleanup } = tempDir();
  afterAll(cleanup);
  writeTrail(join(dir, 'trail'), [kmsEvent({ eventName: 'Decrypt', time: at(0, 23, 30), identity: identity.user('111111111111', 'a'), key: keyArn('111111111111', 'k') })]);

  it.each(['Asia/Kolkata', 'America/New_York'])('under TZ=%s, runs, objects and events are written in UTC', async (zone) => {
    const db = join(dir, `${zone.replace('/', '-')}.duckdb`);
    const before = Date.now();
    const result = await spawnCli(['ingest', join(dir, 'trail'), '--db', db], { TZ: zone }); // a process started in the zone
    expect(result.code, result.stderr).toBe(0);
    const after = Date.now();
    const epoch = (column: string, table: string) =>
      sql<{ ms: number }>(db, `SELECT epoch_ms(${column}) AS ms FROM ${table}`).then((rows) => rows.map((r) => r.ms));
    for (const ms of [...(await epoch('started_at', 'ingest_runs')), ...(await epoch('finished_at', 'ingest_runs')), ...(await epoch('ingested_at', 'ingested_objects'))]) {
      expect(ms).toBeGreaterThanOrEqual(before - 1000);
      expect(ms).toBeLessThanOrEqual(after + 1000);
    }
    // 23:30 UTC stays on its day, not on the next (Kolkata) or at 19:30 (New York).
    expect(await sql(db, "SELECT strftime(event_time, '%Y-%m-%d %H:%M') AS t FROM kms_events")).toEqual([{ t: '2024-05-01 23:30' }]);
  });
});
