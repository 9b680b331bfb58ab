// The report as CSV: one table per section (see TABLES), full ARNs and raw numbers, RFC 4180 quoting.

import { toCsv } from '../../csv.js';
import { TABLES, TABLE_COLUMNS, tableRows, type Report, type TableName } from '../model.js';

export { csvCell } from '../../csv.js';

export function renderCsvTable(report: Report, name: TableName): string {
  return toCsv(TABLE_COLUMNS[name], tableRows(report, name) as Array<Record<string, unknown>>);
}

/** Every table, as file name -> CSV text. */
export function renderCsvFiles(report: Report): Map<string, string> {
  return new Map(TABLES.map((name) => [`${name}.csv`, renderCsvTable(report, name)]));
}
