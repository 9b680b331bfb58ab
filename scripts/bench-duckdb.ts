// The baseline of the benchmark: DuckDB's own JSON reader over the same log objects, in one
// statement (read_json over all files, unnest(Records), keep the KMS events), into a table.

import { DuckDBInstance } from '@duckdb/node-api';

const [glob, db] = process.argv.slice(2);
const instance = await DuckDBInstance.create(db);
const connection = await instance.connect();
await connection.run(
  `CREATE OR REPLACE TABLE kms AS
   SELECT r FROM (SELECT unnest(Records) AS r FROM read_json($1, columns = {Records: 'JSON[]'}))
   WHERE r->>'eventSource' = 'kms.amazonaws.com'`,
  [glob],
);
const reader = await connection.runAndReadAll('SELECT count(*)::INTEGER AS n FROM kms');
process.stdout.write(`${JSON.stringify({ kmsEvents: reader.getRowObjectsJS()[0].n })}\n`);
connection.closeSync();
instance.closeSync();
