// The baseline of the benchmark: the strongest one-liner a user would write, DuckDB's own JSON
// reader over the same log objects in one statement (read_json over the list of files, Records as
// JSON[], unnest, keep the KMS events), into a table. (A typed STRUCT column list is 3-4x slower.)
//   bench-duckdb FILE-LIST DB: FILE-LIST holds one log object path per line.

import { readFileSync } from 'node:fs';
import { DuckDBInstance, listValue } from '@duckdb/node-api';

const [fileList, db] = process.argv.slice(2);
const logFiles = readFileSync(fileList, 'utf8').split('\n').filter(Boolean);
const instance = await DuckDBInstance.create(db);
const connection = await instance.connect();
await connection.run(
  `CREATE OR REPLACE TABLE kms AS
   SELECT r FROM (SELECT unnest(Records) AS r FROM read_json($1, columns = {Records: 'JSON[]'}))
   WHERE r->>'eventSource' = 'kms.amazonaws.com'`,
  [listValue(logFiles)],
);
const reader = await connection.runAndReadAll('SELECT count(*)::INTEGER AS n FROM kms');
process.stdout.write(`${JSON.stringify({ kmsEvents: reader.getRowObjectsJS()[0].n })}\n`);
connection.closeSync();
instance.closeSync();
