// One log object's bytes in, the records DuckDB should read out: gunzip, find the records, keep
// those that can be KMS or CloudTrail-management events as they are (no JSON.parse: DuckDB's
// reader parses them, src/store/load.ts), and, from the others, the caller identities that the
// principals directory learns from. Pure CPU work, run in worker threads (pool.ts).

import * as crypto from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { ObjectError, scanRecords, skipValue } from './scan.js';

export { ObjectError };

/** Event sources whose records are kept whole: KMS events, and the trail's own (tampering). */
export const KEPT_EVENT_SOURCES = ['kms.amazonaws.com', 'cloudtrail.amazonaws.com'] as const;

export interface DecodedObject {
  /** Records in the object. */
  events: number;
  /** Staged NDJSON lines (see src/store/staging.ts), UTF-8, '\n'-terminated. */
  staged: Uint8Array;
  /** Record numbers (1-based) of the kept records, in order: what DuckDB must give back. */
  kept: number[];
  /** Records that are not JSON objects. */
  badRecords: string[];
  /** Hex SHA-256 of the uncompressed content, as digests list it (only when asked: ingest --verify). */
  sha256?: string;
}

const MARKERS = KEPT_EVENT_SOURCES.map((s) => Buffer.from(s));
const ESCAPE = Buffer.from('\\u');
const USER_IDENTITY = Buffer.from('"userIdentity"');
const SESSION_ISSUER = Buffer.from('"sessionIssuer"');
const IAM_USER = Buffer.from('"IAMUser"');
const MAX_BAD_RECORDS_LISTED = 5;

/**
 * Hex MD5 of a record. The one-shot crypto.hash (Node 20.12+) costs 30% less than a Hash object
 * per record here, and records are small and many.
 */
const md5 = typeof crypto.hash === 'function'
  ? (data: Buffer) => crypto.hash('md5', data, 'hex')
  : (data: Buffer) => crypto.createHash('md5').update(data).digest('hex');
const QUOTE = 0x22, COLON = 0x3a, NEWLINE = 0x0a, RETURN = 0x0d;

/** Refuses an object whose uncompressed size passes `maxBytes` while gunzipping, not after. */
export function gunzipObject(raw: Uint8Array, maxBytes = Infinity): Buffer {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (buf[0] !== 0x1f || buf[1] !== 0x8b) {
    if (buf.byteLength > maxBytes) throw new ObjectError(tooLarge(maxBytes));
    return buf; // plain .json
  }
  try {
    return gunzipSync(buf, Number.isFinite(maxBytes) ? { maxOutputLength: maxBytes } : {});
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new ObjectError(tooLarge(maxBytes));
    const message = (err as Error).message;
    const hint = /unexpected end/i.test(message) ? ' (truncated object?)' : '';
    throw new ObjectError(`gzip: ${message}${hint}`);
  }
}

const tooLarge = (maxBytes: number) => `too large: more than ${Math.round(maxBytes / 2 ** 20)} MB uncompressed (--max-object-mb)`;

/**
 * Identities already staged by this thread (a session's issuer, or an IAM user, as text): each is
 * learned once per run and thread, not once per record.
 */
const learned = new Set<string>();

/**
 * Throws ObjectError when the object as a whole cannot be read. `object` numbers it in the batch.
 * `sha256`: also hash the uncompressed content, here where it is gunzipped anyway.
 */
export function decodeObject(raw: Uint8Array, object: number, maxBytes = Infinity, sha256 = false): DecodedObject {
  const buf = gunzipObject(raw, maxBytes);
  const hash = sha256 ? crypto.createHash('sha256').update(buf).digest('hex') : undefined;
  const spans = scanRecords(buf);
  const out = lines.start();
  const kept: number[] = [];
  const badRecords: string[] = [];
  // A kept record spells its eventSource out, unless a writer escaped it (\u006bms...): records
  // with either are staged (DuckDB decides), the rest are only counted.
  const next = [...MARKERS, ESCAPE].map((m) => ({ marker: m, at: buf.indexOf(m) }));
  let nextIdentity = buf.indexOf(USER_IDENTITY);

  spans.forEach((span, index) => {
    const n = index + 1;
    if (!span.isObject) {
      badRecords.push(`record ${n}: not a JSON object`);
      return;
    }
    let candidate = false;
    for (const m of next) {
      if (m.at !== -1 && m.at < span.start) m.at = buf.indexOf(m.marker, span.start);
      if (m.at !== -1 && m.at < span.end) candidate = true;
    }
    if (candidate) {
      const record = buf.subarray(span.start, span.end);
      const hash = md5(record);
      out.line(`{"o":${object},"n":${n},"h":"${hash}","r":`, record, '}');
      kept.push(n);
      return;
    }
    if (nextIdentity !== -1 && nextIdentity < span.start) nextIdentity = buf.indexOf(USER_IDENTITY, span.start);
    if (nextIdentity !== -1 && nextIdentity < span.end) {
      const identity = learnableIdentity(buf, nextIdentity, span.end);
      if (identity) out.line(`{"o":${object},"n":${n},"r":{"userIdentity":`, identity, '}}');
    }
  });
  return { events: spans.length, staged: out.done(), kept, badRecords, ...(hash ? { sha256: hash } : {}) };
}

/**
 * The userIdentity object at `keyAt` when the directory can learn from it (a session naming its
 * role, an IAM user) and this thread has not staged its unique id yet.
 */
function learnableIdentity(buf: Buffer, keyAt: number, end: number): Buffer | null {
  let i = keyAt + USER_IDENTITY.length;
  while (i < end && buf[i] !== COLON) i++;
  i++;
  while (i < end && buf[i] !== 0x7b && buf[i] !== QUOTE && buf[i] !== 0x6e) i++; // {, a string, or null
  if (buf[i] !== 0x7b) return null;
  let valueEnd: number;
  try {
    valueEnd = skipValue(buf, i);
  } catch {
    return null;
  }
  if (valueEnd > end) return null;
  const identity = buf.subarray(i, valueEnd);
  const key = learnableKey(identity);
  if (key === null || learned.has(key)) return null;
  learned.add(key);
  return identity;
}

/**
 * What the directory would learn from an identity, as text: its sessionIssuer object (the same for
 * every session of a role), or an IAM user's whole identity; null when there is nothing to learn.
 */
function learnableKey(identity: Buffer): string | null {
  const at = identity.indexOf(SESSION_ISSUER);
  if (at !== -1) {
    let i = at + SESSION_ISSUER.length;
    while (i < identity.length && identity[i] !== 0x7b) i++;
    try {
      return identity.toString('latin1', i, skipValue(identity, i));
    } catch {
      return null;
    }
  }
  return identity.includes(IAM_USER) ? identity.toString('latin1') : null;
}

/**
 * Builds the staged NDJSON: one line per record, pretty-printed records folded onto one line. One
 * writer per thread, its buffer reused from object to object: each object's lines are copied out
 * once, at their exact size, instead of growing a fresh buffer per object.
 */
class LineWriter {
  private static readonly SIZE = 1 << 20;
  private buf = Buffer.allocUnsafeSlow(LineWriter.SIZE);
  private length = 0;

  start(): this {
    this.length = 0;
    // A huge object's buffer is not kept for the small ones after it.
    if (this.buf.length > 16 * LineWriter.SIZE) this.buf = Buffer.allocUnsafeSlow(LineWriter.SIZE);
    return this;
  }

  line(head: string, body: Buffer, tail: string): void {
    this.reserve(head.length + body.length + tail.length + 1);
    this.length += this.buf.write(head, this.length, 'latin1');
    this.length += foldLines(body, this.buf, this.length);
    this.length += this.buf.write(tail, this.length, 'latin1');
    this.buf[this.length++] = NEWLINE;
  }

  /** The lines, in a buffer of their own (not Node's shared pool), so it can move between threads. */
  done(): Uint8Array {
    const own = new Uint8Array(this.length);
    own.set(this.buf.subarray(0, this.length));
    return own;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.length + bytes));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
}

const lines = new LineWriter();

/**
 * Copies a record into `into` at `at`, replacing line breaks (legal only between tokens: inside a
 * string they are escaped) with spaces, so that each record stays one NDJSON line. Returns its length.
 */
function foldLines(record: Buffer, into: Buffer, at: number): number {
  record.copy(into, at);
  if (record.indexOf(NEWLINE) === -1 && record.indexOf(RETURN) === -1) return record.length;
  for (let i = at; i < at + record.length; i++) if (into[i] === NEWLINE || into[i] === RETURN) into[i] = 0x20;
  return record.length;
}

/** One line for the manifest's error column. */
export function describeBadRecords(badRecords: string[]): string {
  const shown = badRecords.slice(0, MAX_BAD_RECORDS_LISTED).join('; ');
  const more = badRecords.length - MAX_BAD_RECORDS_LISTED;
  return `${badRecords.length} unreadable record(s): ${shown}${more > 0 ? `; and ${more} more` : ''}`;
}
