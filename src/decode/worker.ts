// Worker thread: reads (local files) and decodes log objects for pool.ts, answers with their staged records.

import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { decodeObject, ObjectError } from './decode.js';
import type { DecodeRequest, DecodeResult } from './pool.js';

parentPort!.on('message', (requests: DecodeRequest[]) => {
  const results = requests.map(decode);
  parentPort!.postMessage(results, results.flatMap((r) => (r.ok ? [r.staged.buffer as ArrayBuffer] : [])));
});

/** A file that is gone or may not be read stays so: the next run need not wait for it. */
const PERMANENT_FILE_ERRORS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR']);

function decode({ id, bytes, file, object, maxBytes, sha256 }: DecodeRequest): DecodeResult {
  let input: Uint8Array;
  try {
    input = file ? readFileSync(file) : new Uint8Array(bytes!);
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    return { id, ok: false, kind: 'read', permanent: PERMANENT_FILE_ERRORS.has(code ?? ''), error: message };
  }
  try {
    // The staged lines are moved, not copied, to the main thread, which writes them out as they are.
    return { id, ok: true, bytes: input.byteLength, ...decodeObject(input, object, maxBytes, sha256) };
  } catch (err) {
    if (err instanceof ObjectError) return { id, ok: false, kind: 'object', permanent: true, error: err.message };
    return { id, ok: false, kind: 'crash', permanent: false, error: String((err as Error)?.stack ?? err) };
  }
}
