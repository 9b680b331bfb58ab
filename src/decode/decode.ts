// One log object's bytes in, its KMS events out: gunzip, find the records, parse only those
// that can be KMS events, normalise them. Pure CPU work, run in worker threads (pool.ts).

import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { KMS_EVENT_SOURCE, RecordError, isKmsRecord, normalizeKmsRecord, type KmsEventRow } from '../kms/normalize.js';
import { ObjectError, scanRecords } from './scan.js';

export { ObjectError };

export interface DecodedObject {
  /** Records in the object. */
  events: number;
  rows: KmsEventRow[];
  /** Records that could not be read (KMS events, or records that are not JSON objects). */
  badRecords: string[];
  minTime: string | null;
  maxTime: string | null;
}

const MARKER = Buffer.from(KMS_EVENT_SOURCE);
const ESCAPE = Buffer.from('\\u');
const MAX_BAD_RECORDS_LISTED = 5;

export function gunzipObject(raw: Uint8Array): Buffer {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (buf[0] !== 0x1f || buf[1] !== 0x8b) return buf; // plain .json
  try {
    return gunzipSync(buf);
  } catch (err) {
    const message = (err as Error).message;
    const hint = /unexpected end/i.test(message) ? ' (truncated object?)' : '';
    throw new ObjectError(`gzip: ${message}${hint}`);
  }
}

/** Throws ObjectError when the object as a whole cannot be read. */
export function decodeObject(raw: Uint8Array, sourceObject: string): DecodedObject {
  const buf = gunzipObject(raw);
  const spans = scanRecords(buf);
  const rows: KmsEventRow[] = [];
  const badRecords: string[] = [];
  let minTime: string | null = null;
  let maxTime: string | null = null;
  // A KMS record always spells its eventSource out, unless a writer escaped it (\u006bms...):
  // records with either are parsed, the rest are only counted.
  let nextMarker = buf.indexOf(MARKER);
  let nextEscape = buf.indexOf(ESCAPE);

  spans.forEach((span, index) => {
    if (!span.isObject) {
      badRecords.push(`record ${index + 1}: not a JSON object`);
      return;
    }
    while (nextMarker !== -1 && nextMarker < span.start) nextMarker = buf.indexOf(MARKER, span.start);
    while (nextEscape !== -1 && nextEscape < span.start) nextEscape = buf.indexOf(ESCAPE, span.start);
    const candidate = (nextMarker !== -1 && nextMarker < span.end) || (nextEscape !== -1 && nextEscape < span.end);
    if (!candidate) return;

    const bytes = buf.subarray(span.start, span.end);
    let record: unknown;
    try {
      record = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      badRecords.push(`record ${index + 1}: ${(err as Error).message}`);
      return;
    }
    if (!isKmsRecord(record)) return;
    const hash = createHash('md5').update(bytes).digest('hex');
    try {
      const row = normalizeKmsRecord(record, hash, sourceObject);
      rows.push(row);
      if (minTime === null || row.event_time < minTime) minTime = row.event_time;
      if (maxTime === null || row.event_time > maxTime) maxTime = row.event_time;
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      const id = (record as { eventID?: unknown }).eventID;
      badRecords.push(`record ${index + 1}${typeof id === 'string' ? ` (eventID ${id})` : ''}: ${err.message}`);
    }
  });
  return { events: spans.length, rows, badRecords, minTime, maxTime };
}

/** One line for the manifest's error column. */
export function describeBadRecords(badRecords: string[]): string {
  const shown = badRecords.slice(0, MAX_BAD_RECORDS_LISTED).join('; ');
  const more = badRecords.length - MAX_BAD_RECORDS_LISTED;
  return `${badRecords.length} unreadable record(s): ${shown}${more > 0 ? `; and ${more} more` : ''}`;
}
