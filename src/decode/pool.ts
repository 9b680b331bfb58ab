// A fixed pool of worker threads for the CPU work of ingest (gunzip, scan, parse, normalise).

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** An object to decode: its bytes, or a local file the worker reads itself. */
export interface DecodeRequest { id: number; uri: string; bytes?: ArrayBuffer; file?: string }

export type DecodeResult =
  | {
      id: number; ok: true; events: number; kmsEvents: number;
      /** Size of the object as read. */
      bytes: number;
      /** One kms_events row per line, UTF-8. */
      ndjson: Uint8Array;
      /** record_hash of each line of ndjson, in order. */
      hashes: string[];
      minTime: string | null; maxTime: string | null; badRecords: string[];
    }
  | { id: number; ok: false; objectError: boolean; error: string };

export type Decoded = Omit<Extract<DecodeResult, { ok: true }>, 'id' | 'ok'>;

/** The object cannot be read as a CloudTrail log object: it is quarantined. */
export class BadObjectError extends Error {}

// Under vitest the pool runs from the TypeScript sources: the worker then loads through tsx.
const fromSources = import.meta.url.endsWith('.ts');
const workerUrl = new URL(fromSources ? './worker.ts' : './worker.js', import.meta.url);

function startWorker(): Worker {
  if (!fromSources) return new Worker(workerUrl);
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(workerUrl.href)}); })`;
  return new Worker(boot, { eval: true });
}

const MAX_PER_MESSAGE = 32;

interface Pending { resolve: (d: Decoded) => void; reject: (e: Error) => void }

export class DecodePool {
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ request: DecodeRequest; pending: Pending }> = [];
  private readonly pending = new Map<number, Pending>();
  private readonly workers: Worker[] = [];
  private nextId = 0;
  private failure: Error | null = null;

  constructor(size = Math.max(1, availableParallelism())) {
    for (let i = 0; i < size; i++) {
      const worker = startWorker();
      worker.on('message', (results: DecodeResult[]) => this.settle(worker, results));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => code !== 0 && this.fail(new Error(`decode worker exited with code ${code}`)));
      worker.unref();
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  /** Decodes one object; the bytes are moved to the worker, not copied. */
  decode(bytes: Uint8Array, uri: string): Promise<Decoded> {
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
      ? bytes.buffer
      : bytes.slice().buffer;
    return this.submit({ id: this.nextId++, bytes: owned, uri });
  }

  /** Reads a local file in the worker and decodes it: the main thread does no I/O for it. */
  decodeFile(file: string, uri: string): Promise<Decoded> {
    return this.submit({ id: this.nextId++, file, uri });
  }

  private submit(request: DecodeRequest): Promise<Decoded> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, pending: { resolve, reject } });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /**
   * Hands queued objects to idle workers, several per message: a message between threads costs
   * about as much as decoding a small log object, and most log objects are small.
   */
  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const take = Math.min(MAX_PER_MESSAGE, Math.ceil(this.queue.length / (this.idle.length + 1)));
      const requests = this.queue.splice(0, take).map(({ request, pending }) => {
        this.pending.set(request.id, pending);
        return request;
      });
      worker.ref();
      worker.postMessage(requests, requests.flatMap((r) => (r.bytes ? [r.bytes] : [])));
    }
  }

  private settle(worker: Worker, results: DecodeResult[]): void {
    worker.unref();
    this.idle.push(worker);
    this.dispatch();
    for (const result of results) {
      const pending = this.pending.get(result.id);
      this.pending.delete(result.id);
      if (!pending) continue;
      if (result.ok) {
        const { id: _id, ok: _ok, ...decoded } = result;
        pending.resolve(decoded);
      } else {
        pending.reject(result.objectError ? new BadObjectError(result.error) : new Error(result.error));
      }
    }
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const pending of this.pending.values()) pending.reject(err);
    this.pending.clear();
    for (const { pending } of this.queue.splice(0)) pending.reject(err);
  }
}
