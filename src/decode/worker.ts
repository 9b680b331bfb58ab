// Worker thread: reads (local files) and decodes log objects for pool.ts, answers with their rows as NDJSON.

import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { decodeObject, ObjectError } from './decode.js';
import type { DecodeRequest, DecodeResult } from './pool.js';

const encoder = new TextEncoder();

parentPort!.on('message', (requests: DecodeRequest[]) => {
  const results = requests.map(decode);
  parentPort!.postMessage(results, results.flatMap((r) => (r.ok ? [r.ndjson.buffer as ArrayBuffer] : [])));
});

function decode({ id, bytes, file, uri }: DecodeRequest): DecodeResult {
  try {
    const input = file ? readFileSync(file) : new Uint8Array(bytes!);
    const decoded = decodeObject(input, uri);
    // Encoded here into a buffer of its own (not Node's shared pool), and moved, not copied, to the
    // main thread, which writes it out as it is.
    const ndjson = encoder.encode(decoded.rows.map((row) => JSON.stringify(row)).join('\n'));
    return {
      id,
      ok: true,
      events: decoded.events,
      kmsEvents: decoded.rows.length,
      bytes: input.byteLength,
      ndjson,
      hashes: decoded.rows.map((row) => row.record_hash),
      minTime: decoded.minTime,
      maxTime: decoded.maxTime,
      badRecords: decoded.badRecords,
    };
  } catch (err) {
    const bad = err instanceof ObjectError;
    return { id, ok: false, objectError: bad, error: bad ? (err as Error).message : String((err as Error)?.stack ?? err) };
  }
}
