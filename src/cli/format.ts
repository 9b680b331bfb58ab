// Rows to text: an aligned table, CSV, JSON or NDJSON. Shared by every command that prints rows.

export type Format = 'table' | 'csv' | 'json' | 'ndjson';
export const FORMATS: readonly Format[] = ['table', 'csv', 'json', 'ndjson'];

type Row = Record<string, unknown>;

/** JSON-safe values: BigInt as a number when exact, dates as ISO text. */
export function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

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
      return [columns, ...rows.map((r) => columns.map((c) => text(r[c])))].map((cells) => cells.map(csvCell).join(',')).join('\n');
    case 'table':
      return table(rows, columns);
  }
}

function csvCell(cell: string): string {
  return /[",\n\r]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
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
