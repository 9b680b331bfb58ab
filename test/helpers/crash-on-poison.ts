// See crashing-worker.ts.

import { parentPort } from 'node:worker_threads';
import type { DecodeRequest } from '../../src/decode/pool.js';

parentPort!.on('message', (requests: DecodeRequest[]) => {
  if (requests.some((r) => r.file?.includes('poison'))) process.exit(70);
});
