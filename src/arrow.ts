// A DuckDB result as an Arrow IPC stream (apache-arrow), typed from DuckDB's column types, for
// pandas (pyarrow), polars and DuckDB to read without guessing: numbers stay numbers, timestamps
// timestamps. Nested values (lists, structs, maps) travel as their JSON text.

import {
  Bool, DateDay, Float64, Int32, Int64, Table, TimestampMicrosecond, Utf8, tableToIPC, vectorFromArray,
  type DataType, type Vector,
} from 'apache-arrow';
import { DuckDBTypeId, type DuckDBResultReader, type DuckDBValue } from '@duckdb/node-api';

/** A value Arrow's Int64 cannot hold (HUGEINT beyond 64 bits): the query should CAST it. */
export class ArrowConversionError extends Error {}

const INT32 = new Set([DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT]);
const INT64 = new Set([DuckDBTypeId.BIGINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.HUGEINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT]);
const FLOAT = new Set([DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.DECIMAL]);
const TIMESTAMPS = new Set([DuckDBTypeId.TIMESTAMP]); // microseconds; the _S, _MS and _NS kinds go as text

const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;

export function resultToArrow(reader: DuckDBResultReader): Uint8Array {
  const names = reader.columnNames();
  const types = reader.columnTypes();
  const values = reader.getColumns();
  const json = reader.getColumnsJson();
  const columns: Record<string, Vector> = {};
  names.forEach((name, i) => {
    const [type, convert] = arrowType(types[i].typeId, name);
    const cells = values[i].map((v, row) => (v === null ? null : convert(v, json[i][row])));
    columns[unique(name, columns)] = vectorFromArray(cells, type);
  });
  return tableToIPC(new Table(columns), 'stream');
}

type Convert = (value: DuckDBValue, json: unknown) => unknown;

function arrowType(id: DuckDBTypeId, column: string): [DataType, Convert] {
  if (id === DuckDBTypeId.BOOLEAN) return [new Bool(), (v) => v];
  if (INT32.has(id)) return [new Int32(), (v) => v];
  if (INT64.has(id)) {
    return [new Int64(), (v) => {
      const n = BigInt(v as bigint | number);
      if (n < MIN_INT64 || n > MAX_INT64) throw new ArrowConversionError(`column ${column}: ${n} does not fit Arrow's Int64; CAST it to DOUBLE or VARCHAR`);
      return n;
    }];
  }
  if (FLOAT.has(id)) return [new Float64(), (_v, j) => Number(j)];
  // Arrow's builder takes milliseconds since the epoch (fractions keep the microseconds).
  if (TIMESTAMPS.has(id)) return [new TimestampMicrosecond(), (v) => Number((v as unknown as { micros: bigint }).micros) / 1000];
  if (id === DuckDBTypeId.TIMESTAMP_TZ) return [new TimestampMicrosecond('UTC'), (v) => Number((v as unknown as { micros: bigint }).micros) / 1000];
  if (id === DuckDBTypeId.DATE) return [new DateDay(), (v) => new Date((v as unknown as { days: number }).days * 86_400_000)];
  return [new Utf8(), (_v, j) => (typeof j === 'string' ? j : JSON.stringify(j))];
}

/** Arrow tables need distinct column names; SQL results need not (SELECT 1, 1). */
function unique(name: string, taken: Record<string, unknown>): string {
  let candidate = name;
  for (let n = 2; candidate in taken; n++) candidate = `${name}_${n}`;
  return candidate;
}
