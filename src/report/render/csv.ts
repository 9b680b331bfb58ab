// The report as CSV: one table per section (see TABLES), full ARNs and raw numbers, RFC 4180 quoting.

import { TABLES, TABLE_COLUMNS, tableRows, type Report, type TableName } from '../model.js';

export function renderCsvTable(report: Report, name: TableName): string {
  const columns = TABLE_COLUMNS[name];
  const lines = [columns.join(',')];
  for (const row of tableRows(report, name)) {
    const record = row as Record<string, unknown>;
    lines.push(columns.map((c) => csvCell(record[c])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Every table, as file name -> CSV text. */
export function renderCsvFiles(report: Report): Map<string, string> {
  return new Map(TABLES.map((name) => [`${name}.csv`, renderCsvTable(report, name)]));
}

/**
 * One cell. Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first: user agents
 * and error messages are attacker-controlled) gets a leading apostrophe; numbers stay numbers.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
