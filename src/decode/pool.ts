// A pool of worker threads for the CPU work of ingest (read, gunzip, scan), started as work queues
// up. A worker that dies is replaced; the objects it held are tried once more, each on its own, and
// an object that kills a worker twice is given up as unreadable.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { builtCopy } from '../paths.js';
import { ReadError } from '../source/source.js';

/** An object to decode: its bytes, or a local file the worker reads itself. */
export interface DecodeRequest {
  id: number;
  /** Numbers the object in its batch: the staged lines carry it. */
  object: number;
  bytes?: ArrayBuffer;
  file?: string;
  /** Uncompressed size above which the object is refused. */
  maxBytes: number;
  /** Also answer with the SHA-256 of the uncompressed content (ingest --verify). */
  sha256?: boolean;
}

export type DecodeResult =
  | {
      id: number; ok: true;
      /** Size of the object as read. */
      bytes: number;
      events: number;
      /** Staged NDJSON lines, UTF-8 (src/store/staging.ts). */
      staged: Uint8Array;
      /** Record numbers of the kept records. */
      kept: number[];
      badRecords: string[];
      sha256?: string;
    }
  /** object: not a readable log object; read: the file could not be read; crash: a bug. */
  | { id: number; ok: false; kind: 'object' | 'read' | 'crash'; permanent: boolean; error: string };

export type Decoded = Omit<Extract<DecodeResult, { ok: true }>, 'id' | 'ok'>;

/** The object cannot be read as a CloudTrail log object: it is quarantined. */
export class BadObjectError extends Error {}

// Under vitest the pool runs from the TypeScript sources: its worker is then the build's when that is
// current, else worker.ts through tsx.
const fromSources = import.meta.url.endsWith('.ts');
const defaultWorker = fromSources ? sourcesWorker() : new URL('./worker.js', import.meta.url);

function sourcesWorker(): URL {
  const source = (name: string) => new URL(`./${name}.ts`, import.meta.url);
  return builtCopy(source('worker'), [source('decode'), source('scan')]) ?? source('worker');
}

function startWorker(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true });
}

const MAX_PER_MESSAGE = 32;
/**
 * Objects waiting, with every worker busy, before another worker starts: a thread costs ~55 ms of
 * CPU to start, an eighth of a whole three-object ingest, and a nightly run of a few objects has no
 * use for a second one. A big ingest queues this many in moments.
 */
const BACKLOG = 8;

interface Job {
  request: DecodeRequest;
  /** Sent to a worker that died holding it: sent again alone, once. */
  retry: boolean;
  resolve: (d: Decoded) => void;
  reject: (e: Error) => void;
}

export interface PoolOptions {
  size?: number;
  /** At most this many objects are submitted at once (ingest --concurrency): the backlog stays reachable. */
  inFlight?: number;
  /** The worker script (tests use one that crashes on purpose). */
  workerUrl?: URL;
}

export class DecodePool {
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  /** What each busy worker holds. */
  private readonly busy = new Map<Worker, Job[]>();
  private readonly size: number;
  /** Objects waiting, every worker busy, that start another worker. */
  private readonly backlog: number;
  private readonly workerUrl: URL;
  private nextId = 0;
  private closed = false;

  constructor(options: PoolOptions = {}) {
    this.size = options.size ?? Math.max(1, availableParallelism());
    this.workerUrl = options.workerUrl ?? defaultWorker;
    // With k workers busy at most inFlight - k objects wait: the last worker must still be reachable.
    this.backlog = Math.max(1, Math.min(BACKLOG, (options.inFlight ?? Infinity) - this.size + 1));
  }

  /**
   * Decodes one object. Its (compressed, small) bytes are copied to the worker rather than moved:
   * the copy here is what a retry sends when the worker dies.
   */
  decode(bytes: Uint8Array, object: number, maxBytes: number, sha256 = false): Promise<Decoded> {
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
      ? bytes.buffer
      : Uint8Array.prototype.slice.call(bytes).buffer; // a copy: a Buffer's own slice() shares its pool's memory
    return this.submit({ id: this.nextId++, object, bytes: owned, maxBytes, sha256 });
  }

  /** Reads a local file in the worker and decodes it: the main thread does no I/O for it. */
  decodeFile(file: string, object: number, maxBytes: number, sha256 = false): Promise<Decoded> {
    return this.submit({ id: this.nextId++, object, file, maxBytes, sha256 });
  }

  /** Worker threads started and alive. */
  get threads(): number {
    return this.idle.length + this.busy.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.idle, ...this.busy.keys()];
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private spawn(): Worker {
    const worker = startWorker(this.workerUrl);
    worker.on('message', (results: DecodeResult[]) => this.settle(worker, results));
    worker.on('error', (err) => this.died(worker, err.message));
    worker.on('exit', (code) => this.died(worker, `exited with code ${code}`));
    worker.unref();
    return worker;
  }

  private submit(request: DecodeRequest): Promise<Decoded> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, retry: false, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Hands queued objects to idle workers, several per message: a message between threads costs
   * about as much as decoding a small log object, and most log objects are small.
   */
  private dispatch(): void {
    // The first worker as soon as there is work, another while the work waiting calls for it.
    for (let workers = this.threads; workers < this.size; workers++) {
      if (this.queue.length - this.idle.length < (workers === 0 ? 1 : this.backlog)) break;
      this.idle.push(this.spawn());
    }
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const take = this.queue[0].retry ? 1 : Math.min(MAX_PER_MESSAGE, Math.ceil(this.queue.length / (this.idle.length + 1)));
      const jobs = this.queue.splice(0, take);
      this.busy.set(worker, jobs);
      worker.ref();
      worker.postMessage(jobs.map((j) => j.request));
    }
  }

  private settle(worker: Worker, results: DecodeResult[]): void {
    const jobs = new Map((this.busy.get(worker) ?? []).map((j) => [j.request.id, j]));
    this.busy.delete(worker);
    worker.unref();
    this.idle.push(worker);
    this.dispatch();
    for (const result of results) {
      const job = jobs.get(result.id);
      if (!job) continue;
      if (result.ok) {
        const { id: _id, ok: _ok, ...decoded } = result;
        job.resolve(decoded);
      } else {
        job.reject(
          result.kind === 'object' ? new BadObjectError(result.error)
            : result.kind === 'read' ? new ReadError(result.error, result.permanent)
              : new Error(result.error),
        );
      }
    }
  }

  private died(worker: Worker, why: string): void {
    if (this.closed) return;
    const jobs = this.busy.get(worker);
    const wasIdle = this.idle.indexOf(worker);
    if (!jobs && wasIdle === -1) return; // 'error' and 'exit' both report one death
    this.busy.delete(worker);
    if (wasIdle !== -1) this.idle.splice(wasIdle, 1);
    for (const job of jobs ?? []) {
      if (job.retry) {
        job.reject(new BadObjectError(`the decoding thread died on this object twice (${why})`));
      } else {
        this.queue.unshift({ ...job, retry: true });
      }
    }
    this.dispatch();
  }
}
