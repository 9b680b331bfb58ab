// Every event is stored once, however many times and in however many objects it is delivered, and
// an object read again replaces exactly what it alone gave.

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFolder, sql } from './helpers/ingest.js';
import { openStore } from '../src/store/schema.js';
import { logObjectKey, tempDir, writeLogObject } from './helpers/log-objects.js';
import { at, identity, keyArn, kmsEvent, type CtRecord } from './helpers/trail.js';

const ACCOUNT = '111111111111';
const decrypt = (minute: number) =>
  kmsEvent({ eventName: 'Decrypt', time: at(0, 10, minute), identity: identity.user(ACCOUNT, 'alice'), key: keyArn(ACCOUNT, 'k1') });

describe('exact rows', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  function setup() {
    const t = tempDir();
    cleanup = t.cleanup;
    const trail = join(t.dir, 'trail');
    const db = join(t.dir, 'kt.duckdb');
    const key = (n: number) => logObjectKey(ACCOUNT, 'us-east-1', at(0, 10, 5 + n));
    const keys = [key(0), key(1), key(2)];
    return { trail, db, write: (i: number, records: CtRecord[]) => writeLogObject(trail, keys[i], records) };
  }

  const rows = (db: string) =>
    sql<{ event_id: string; source_object: string }>(db, 'SELECT event_id, source_object FROM kms_events ORDER BY event_time');

  it('stores a record delivered twice in one object once', async () => {
    const { trail, db, write } = setup();
    const e = decrypt(1);
    write(0, [e, e, decrypt(2)]);
    const summary = await ingestFolder(trail, db);
    expect(summary.newRows).toBe(2);
    expect((await rows(db)).map((r) => r.event_id)).toEqual([e.eventID, expect.any(String)]);
    expect(await sql(db, 'SELECT count(*) AS n FROM event_redeliveries')).toEqual([{ n: 0 }]);
  });

  it('stores an event delivered in two objects, in one run or in two, once', async () => {
    const { trail, db, write } = setup();
    const e = decrypt(1);
    const a = write(0, [e]);
    const b = write(1, [e]);
    await ingestFolder(trail, db);
    expect(await rows(db)).toEqual([{ event_id: e.eventID, source_object: a }]);
    expect(await sql(db, 'SELECT object_uri FROM event_redeliveries')).toEqual([{ object_uri: b }]);
    const c = write(2, [e]);
    const later = await ingestFolder(trail, db);
    expect(later.newRows).toBe(0);
    expect(await rows(db)).toEqual([{ event_id: e.eventID, source_object: a }]);
    expect(await sql(db, 'SELECT object_uri FROM event_redeliveries ORDER BY 1')).toEqual([{ object_uri: b }, { object_uri: c }]);
  });

  it('re-reading a changed object replaces what it alone gave, and keeps what another object gave too', async () => {
    const { trail, db, write } = setup();
    const [e1, e2, e3] = [decrypt(1), decrypt(2), decrypt(3)];
    const a = write(0, [e1, e2]);
    const b = write(1, [e2]);
    await ingestFolder(trail, db);
    expect(await rows(db)).toEqual([{ event_id: e1.eventID, source_object: a }, { event_id: e2.eventID, source_object: a }]);

    write(0, [e1, e3]); // A changed in place: e2 left it, e3 came
    await ingestFolder(trail, db, { full: true });
    expect(await rows(db)).toEqual([
      { event_id: e1.eventID, source_object: a },
      { event_id: e2.eventID, source_object: b }, // still delivered by B
      { event_id: e3.eventID, source_object: a },
    ]);
    expect(await sql(db, 'SELECT count(*) AS n FROM event_redeliveries')).toEqual([{ n: 0 }]);

    write(1, []); // B emptied: e2 is gone from every object now
    await ingestFolder(trail, db, { full: true });
    expect((await rows(db)).map((r) => r.event_id)).toEqual([e1.eventID, e3.eventID]);
  });

  it('the store refuses a second copy of an event even when the manifest has forgotten its object', async () => {
    const { trail, db, write } = setup();
    write(0, [decrypt(1), decrypt(2)]);
    await ingestFolder(trail, db);
    // Not the manifest skipping a known object: the object is read again, and the insert itself
    // finds its events among the rows of their event time.
    const store = await openStore(db);
    try {
      await store.run('DELETE FROM ingested_objects');
    } finally {
      store.close();
    }
    const again = await ingestFolder(trail, db);
    expect(again).toMatchObject({ objects: 1, kmsEvents: 2, newRows: 0 });
    expect(await sql(db, 'SELECT count(*) AS n, count(DISTINCT event_key) AS keys FROM kms_events')).toEqual([{ n: 2, keys: 2 }]);
  });
});
