// What detections and reports need from a SQL engine: DuckDB here, Athena when one machine is not enough.

import { Store, type Row } from './store/db.js';

/** A bound parameter value: never spliced into SQL text. */
export type SqlValue = string | number | boolean | null;

export interface QueryEngine {
  readonly name: 'duckdb' | 'athena';
  /**
   * Runs one query. Parameters are named in the SQL as $name and bound from `params`;
   * rows come back as plain JSON values (numbers, strings, parsed JSON, 'YYYY-MM-DD HH:MM:SS' times).
   */
  query(sql: string, params?: Record<string, SqlValue>): Promise<Row[]>;
  close(): Promise<void>;
}

export class DuckDBEngine implements QueryEngine {
  readonly name = 'duckdb';
  constructor(readonly store: Store) {}

  /** Read-only; waits up to `waitMs` while another process holds the database (an ingest committing). */
  static async open(path: string, waitMs = 0): Promise<DuckDBEngine> {
    return new DuckDBEngine(await Store.open(path, { readOnly: true, waitMs }));
  }

  async query(sql: string, params: Record<string, SqlValue> = {}): Promise<Row[]> {
    // Only the parameters the SQL names are bound: DuckDB rejects extra ones.
    const used = Object.fromEntries(Object.entries(params).filter(([name]) => new RegExp(`\\$${name}\\b`).test(sql)));
    return this.store.allNamed(sql, used);
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
