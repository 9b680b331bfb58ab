// Finds the records of a CloudTrail log object ({"Records":[...]}) without parsing them.
// JSON.parse is the cost of ingest and about half the records are not KMS events, so the
// decoder only parses the records that can be KMS events; this scan finds their byte ranges.

/** The object is not a readable CloudTrail log object. */
export class ObjectError extends Error {}

const QUOTE = 0x22, BACKSLASH = 0x5c, COLON = 0x3a, COMMA = 0x2c;
const LBRACE = 0x7b, RBRACE = 0x7d, LBRACKET = 0x5b, RBRACKET = 0x5d;

export interface RecordSpan { start: number; end: number; isObject: boolean }

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export function scanRecords(buf: Uint8Array): RecordSpan[] {
  const n = buf.length;
  let i = 0;
  const skipSpace = () => {
    while (i < n && isSpace(buf[i])) i++;
  };
  const expect = (c: number, what: string) => {
    skipSpace();
    if (i >= n) throw new ObjectError(`truncated JSON: ended where ${what} was expected`);
    if (buf[i] !== c) throw new ObjectError(`not JSON: expected ${what} at byte ${i}`);
    i++;
  };

  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3; // UTF-8 byte order mark
  skipSpace();
  if (i >= n) throw new ObjectError('empty object');
  if (buf[i] !== LBRACE) throw new ObjectError('not JSON: the object does not start with {');
  i++;

  let records: RecordSpan[] | null = null;
  skipSpace();
  if (buf[i] === RBRACE) i++;
  else {
    for (;;) {
      skipSpace();
      if (buf[i] !== QUOTE) throw new ObjectError(`not JSON: expected a key at byte ${i}`);
      const keyStart = i + 1;
      i = skipString(buf, i);
      const key = Buffer.from(buf.buffer, buf.byteOffset + keyStart, i - 1 - keyStart).toString();
      expect(COLON, ':');
      skipSpace();
      if (key === 'Records' && buf[i] === LBRACKET) {
        i++;
        records = [];
        skipSpace();
        if (buf[i] === RBRACKET) i++;
        else {
          for (;;) {
            skipSpace();
            const start = i;
            i = skipValue(buf, i);
            records.push({ start, end: i, isObject: buf[start] === LBRACE });
            skipSpace();
            if (i >= n) throw new ObjectError('truncated JSON: the Records array does not end');
            if (buf[i] === COMMA) { i++; continue; }
            if (buf[i] === RBRACKET) { i++; break; }
            throw new ObjectError(`not JSON: expected , or ] after record ${records.length} at byte ${i}`);
          }
        }
      } else {
        i = skipValue(buf, i);
      }
      skipSpace();
      if (i >= n) throw new ObjectError('truncated JSON: the top-level object does not end');
      if (buf[i] === COMMA) { i++; continue; }
      if (buf[i] === RBRACE) { i++; break; }
      throw new ObjectError(`not JSON: expected , or } at byte ${i}`);
    }
  }
  skipSpace();
  if (i < n) throw new ObjectError(`not JSON: unexpected data after the top-level object at byte ${i}`);
  if (!records) throw new ObjectError('no Records array: not a CloudTrail log object');
  return records;
}

function skipString(buf: Uint8Array, i: number): number {
  const n = buf.length;
  i++; // opening quote
  while (i < n) {
    const c = buf[i++];
    if (c === QUOTE) return i;
    if (c === BACKSLASH) i++;
  }
  throw new ObjectError('truncated JSON: a string does not end');
}

/** Skips one JSON value; only the nesting is checked here, JSON.parse checks the rest. */
export function skipValue(buf: Uint8Array, i: number): number {
  const n = buf.length;
  if (i >= n) throw new ObjectError('truncated JSON: ended where a value was expected');
  const first = buf[i];
  if (first === QUOTE) return skipString(buf, i);
  if (first === LBRACE || first === LBRACKET) {
    let depth = 0;
    while (i < n) {
      const c = buf[i++];
      if (c === QUOTE) {
        while (i < n) {
          const d = buf[i++];
          if (d === QUOTE) break;
          if (d === BACKSLASH) i++;
        }
      } else if (c === LBRACE || c === LBRACKET) depth++;
      else if (c === RBRACE || c === RBRACKET) {
        if (--depth === 0) return i;
      }
    }
    throw new ObjectError('truncated JSON: a value does not end');
  }
  const start = i;
  while (i < n) {
    const c = buf[i];
    if (c === COMMA || c === RBRACE || c === RBRACKET || isSpace(c)) break;
    i++;
  }
  if (i === start) throw new ObjectError(`not JSON: expected a value at byte ${i}`);
  return i;
}
