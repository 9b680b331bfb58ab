// Grows a keytrail database to millions of events by SQL, as years of nightly runs would leave it,
// without ingesting years of logs: the rows (and manifest rows) of a template database, ingested
// from a sample trail, copied into earlier periods with new event ids and keys, oldest first.

import { Store } from '../src/store/db.js';
import { EVENT_KEY } from '../src/store/staging.js';
import { openStore } from '../src/store/schema.js';

export interface GrowOptions {
  /** The template, a database written by keytrail's own ingest (the same version). */
  template: string;
  /** The template's span in days: copy g is shifted g spans back, so copies never overlap. */
  spanDays: number;
  /** Copies to add, numbered from..to (copy g lies g spans before the template; 0 on it), written oldest first. */
  from: number;
  to: number;
}

/** The events tables a copy fills (those the template has rows in). */
const EVENT_TABLES = ['kms_events', 'trail_events'];

/**
 * Adds copies `from`..`to` of the template's events and manifest rows to the database at `path`,
 * opened through keytrail's Store so that its tables are the ones keytrail creates. Each copy gets
 * its own event ids (so its own event_key, computed as the ingest computes it), event times,
 * object URIs and delivery days. Works whether or not the tables carry a key.
 */
export async function growStore(path: string, options: GrowOptions): Promise<void> {
  const store = await openStore(path);
  try {
    // Building is not what is measured: give DuckDB both cores and room to sort.
    await store.run(`SET threads = 2`);
    await store.run(`SET memory_limit = '2GB'`);
    await store.run(`ATTACH '${options.template.replaceAll("'", "''")}' AS template (READ_ONLY)`);
    const shift = `to_days((g * ${options.spanDays})::INTEGER)`;
    // The day folder of a CloudTrail key (…/YYYY/MM/DD/…) moved with the copy, so URIs stay unique
    // and name their new day; a URI without one gets the copy's number.
    const moved = (column: string) => {
      const day = `try_strptime(regexp_extract(${column}, '/(\\d{4}/\\d{2}/\\d{2})/', 1), '%Y/%m/%d')`;
      return `coalesce(regexp_replace(${column}, '/\\d{4}/\\d{2}/\\d{2}/', strftime(${day} - ${shift}, '/%Y/%m/%d/')), ${column} || '~' || g)`;
    };
    // One copy per statement, oldest first: each copy's rows lie together, as a run's would (no
    // sort: it doubled the cost).
    for (let g = options.to; g >= options.from; g--) {
      await store.transaction(async () => {
        for (const table of EVENT_TABLES) {
          await store.run(
            `INSERT INTO ${table} BY NAME
             SELECT * REPLACE (${EVENT_KEY} AS event_key) FROM (
               SELECT t.* REPLACE (
                        t.event_id || '~' || g AS event_id,
                        t.event_time - ${shift} AS event_time,
                        ${moved('t.source_object')} AS source_object)
               FROM template.${table} t, (SELECT ${g} AS g))`,
          );
        }
        await store.run(
          `INSERT INTO ingested_objects BY NAME
           SELECT * EXCLUDE (g) REPLACE (${moved('object_uri')} AS object_uri, object_day - ${shift} AS object_day)
           FROM template.ingested_objects, (SELECT ${g} AS g)
           WHERE object_day IS NOT NULL`,
        );
      });
    }
  } finally {
    store.close();
  }
}

/** Events in the database's events tables. */
export async function countEvents(path: string): Promise<number> {
  const store = await Store.open(path, { readOnly: true });
  try {
    const [{ n }] = await store.all<{ n: number }>(`SELECT (SELECT count(*) FROM kms_events) + (SELECT count(*) FROM trail_events) AS n`);
    return Number(n);
  } finally {
    store.close();
  }
}
