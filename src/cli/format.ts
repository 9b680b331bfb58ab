// Rows to text: an aligned table, CSV, JSON or NDJSON. Shared by every command that prints rows.

import { plain, toCsv } from '../csv.js';

export type Format = 'table' | 'csv' | 'json' | 'ndjson';
export const FORMATS: readonly Format[] = ['table', 'csv', 'json', 'ndjson'];

type Row = Record<string, unknown>;

const text = (value: unknown): string => {
  const v = plain(value);
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
};

export function formatRows(rows: Row[], columns: string[], format: Format): string {
  switch (format) {
    case 'json':
      return JSON.stringify(rows.map(plain), null, 2);
    case 'ndjson':
      return rows.map((r) => JSON.stringify(plain(r))).join('\n');
    case 'csv':
      // Printed with console.log, which ends the last line.
      return toCsv(columns, rows, '\n').slice(0, -1);
    case 'table':
      return table(rows, columns);
  }
}

const MAX_CELL = 80;

function table(rows: Row[], columns: string[]): string {
  const cells = rows.map((r) => columns.map((c) => {
    const t = text(r[c]).replace(/\s+/g, ' ');
    return t.length > MAX_CELL ? `${t.slice(0, MAX_CELL - 1)}…` : t;
  }));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  const out = [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n');
}

/** Text broken into lines of at most `width` characters, at spaces (a longer word stands alone). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
