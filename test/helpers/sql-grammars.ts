// Athena's grammars (dt-sql-parser): Hive for the tables' DDL, Trino for queries and views, asked of
// the run's grammar service (grammar-service.ts, started by the global setup grammar-setup.ts): the
// parsers' warm-up, most of their cost, is paid once per run instead of once per test file. A file
// run without the global setup starts a service of its own.

import { inject } from 'vitest';
import { startGrammarService } from './grammar-setup.js';

/** A parse error as dt-sql-parser reports it (1-based lines and columns). */
export interface ParseError { startLine: number; endLine: number; startColumn: number; endColumn: number; message: string }

let endpoint: Promise<string> | null = null;
const service = () => (endpoint ??= (async () => inject('grammars') ?? (await startGrammarService()).endpoint)());

export class Grammar {
  constructor(readonly name: 'trino' | 'hive') {}

  /** The parse errors of sql: [] when it parses. */
  async validate(sql: string): Promise<ParseError[]> {
    const res = await fetch(`${await service()}/${this.name}`, { method: 'POST', body: sql });
    if (!res.ok) throw new Error(`the grammar service failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as ParseError[];
  }
}

export const trino = new Grammar('trino');
export const hive = new Grammar('hive');
