// Worker thread: decodes log objects posted by pool.ts and answers with their rows as NDJSON.

import { parentPort } from 'node:worker_threads';
import { decodeObject, ObjectError } from './decode.js';
import type { DecodeRequest, DecodeResult } from './pool.js';

parentPort!.on('message', ({ id, bytes, uri }: DecodeRequest) => {
  let result: DecodeResult;
  try {
    const decoded = decodeObject(new Uint8Array(bytes), uri);
    result = {
      id,
      ok: true,
      events: decoded.events,
      kmsEvents: decoded.rows.length,
      ndjson: decoded.rows.map((row) => JSON.stringify(row)).join('\n'),
      minTime: decoded.minTime,
      maxTime: decoded.maxTime,
      badRecords: decoded.badRecords,
    };
  } catch (err) {
    const bad = err instanceof ObjectError;
    result = { id, ok: false, objectError: bad, error: bad ? (err as Error).message : String((err as Error)?.stack ?? err) };
  }
  parentPort!.postMessage(result);
});
