// Keeps verification results in the database (schemas/duckdb/50_verification.sql): the latest
// result per object, and the delivery gaps of the window that was verified.

import { LIST, VARCHAR, DOUBLE, listValue } from '@duckdb/node-api';
import type { Store } from '../store/db.js';
import type { Gap } from './chain.js';
import type { ObjectResult } from './verify.js';

/** ISO time -> DuckDB TIMESTAMP text, UTC as written. */
const ts = (iso: string): string => iso.replace('T', ' ').replace(/Z$/, '');

export async function recordVerification(
  store: Store, source: string, objects: ObjectResult[], gaps: Gap[], window: { start: string | null; end: string | null }, at: Date,
): Promise<void> {
  const verifiedAt = ts(at.toISOString());
  const column = (pick: (o: ObjectResult) => string | null) => listValue(objects.map(pick));
  await store.transaction(async () => {
    await store.run('DELETE FROM verified_objects WHERE object_uri IN (SELECT unnest($1::VARCHAR[]))', [column((o) => o.uri)], [LIST(VARCHAR)]);
    await store.run(
      `INSERT INTO verified_objects
       SELECT unnest($1::VARCHAR[]), $2, unnest($3::VARCHAR[]), unnest($4::VARCHAR[]), unnest($5::VARCHAR[]),
              unnest($6::VARCHAR[])::DATE, unnest($7::VARCHAR[]), unnest($8::VARCHAR[]), unnest($9::VARCHAR[]),
              unnest($10::VARCHAR[]), unnest($11::VARCHAR[]), unnest($12::VARCHAR[]), unnest($13::VARCHAR[]), $14::TIMESTAMP`,
      [
        column((o) => o.uri), source, column((o) => o.kind), column((o) => o.account_id), column((o) => o.region),
        column((o) => o.day), column((o) => o.status), column((o) => o.problem), column((o) => o.detail),
        column((o) => o.digest_uri), column((o) => o.sha256), column((o) => o.expected_sha256), column((o) => o.signature), verifiedAt,
      ],
      [LIST(VARCHAR), VARCHAR, LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR),
        LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR), VARCHAR],
    );
    await store.run(
      `DELETE FROM delivery_gaps WHERE source = $1
         AND ($2::TIMESTAMP IS NULL OR gap_end > $2::TIMESTAMP) AND ($3::TIMESTAMP IS NULL OR gap_start < $3::TIMESTAMP)`,
      [source, window.start && ts(window.start), window.end && ts(window.end)],
      [VARCHAR, VARCHAR, VARCHAR],
    );
    if (gaps.length === 0) return;
    await store.run(
      `INSERT INTO delivery_gaps
       SELECT $1, unnest($2::VARCHAR[]), unnest($3::VARCHAR[]), unnest($4::VARCHAR[]), unnest($5::VARCHAR[])::TIMESTAMP,
              unnest($6::VARCHAR[])::TIMESTAMP, unnest($7::DOUBLE[]), $8::TIMESTAMP`,
      [
        source, listValue(gaps.map((g) => g.account_id)), listValue(gaps.map((g) => g.region)), listValue(gaps.map((g) => g.trail)),
        listValue(gaps.map((g) => ts(g.from))), listValue(gaps.map((g) => ts(g.until))), listValue(gaps.map((g) => g.hours)), verifiedAt,
      ],
      [VARCHAR, LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR), LIST(DOUBLE), VARCHAR],
    );
  });
}
