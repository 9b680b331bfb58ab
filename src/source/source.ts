// What every place log objects come from offers the ingester.

import type { DayRange } from './layout.js';

export interface LogObjectRef {
  /** s3://bucket/key or an absolute file path: the object's name in the manifest and in kms_events. */
  uri: string;
  /** Changes when the object's content changes: the S3 ETag, or size and mtime for a file. */
  etag: string;
  size: number;
  /** Delivery day from the key layout, or null. */
  day: string | null;
  /** A local file: the decoding worker reads it itself, instead of read(). */
  file?: string;
}

export interface LogSource {
  /** The SOURCE argument, normalised: the manifest groups objects by it. */
  readonly name: string;
  /** Log objects whose delivery day is in range (digests and other files are left out). */
  list(range: DayRange): AsyncIterable<LogObjectRef>;
  read(ref: LogObjectRef): Promise<Uint8Array>;
  close(): void;
}

/** The source itself is unusable (no such folder or bucket, no access): exit code 2. */
export class SourceError extends Error {}

/**
 * An object could not be read. Permanent: it cannot be as things stand (403, 404: no access, an
 * SSE-KMS object without kms:Decrypt, deleted after listing); the next run does not wait for it.
 */
export class ReadError extends Error {
  constructor(message: string, readonly permanent: boolean) {
    super(message);
  }
}
