// The one CSV writer (query, keys, report): RFC 4180 quoting, and a guard against spreadsheet
// formula injection, since user agents, ARNs and error messages in CloudTrail are attacker-controlled.

/** JSON-safe values: BigInt as a number when exact, dates as ISO text. */
export function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

const NUMBER_RE = /^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$/;

/**
 * One cell. Text that a spreadsheet would run as a formula (=, +, -, @, tab or CR first) gets a
 * leading apostrophe; numbers, and text that is only a number (a HUGEINT, a DECIMAL), stay as they are.
 */
export function csvCell(value: unknown): string {
  const v = plain(value);
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  let text = typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (/^[=+\-@\t\r]/.test(text) && !NUMBER_RE.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header line and one line per record, each ended by `eol` (RFC 4180: CRLF). */
export function toCsv(columns: readonly string[], records: Array<Record<string, unknown>>, eol = '\r\n'): string {
  const lines = [columns.map(csvCell).join(','), ...records.map((r) => columns.map((c) => csvCell(r[c])).join(','))];
  return lines.map((l) => l + eol).join('');
}
