// Athena's grammars (dt-sql-parser): Hive for the tables' DDL, Trino for queries and views. From their
// own modules: the package's index loads all eight of its dialects, 20 MB of JavaScript that vitest
// transforms for each test file (Node cannot load the package as it is), ~7 CPU-s where two take 2.
export { HiveSQL } from 'dt-sql-parser/dist/parser/hive/index.js';
export { TrinoSQL } from 'dt-sql-parser/dist/parser/trino/index.js';
