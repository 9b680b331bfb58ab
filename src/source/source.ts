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
  /**
   * The source's streams: one per account and region of the CloudTrail layout (the folder
   * …/AWSLogs/[o-id/]<account>/CloudTrail/<region>/), or one for what has no layout. Each stream
   * delivers its days in order, so the ingest keeps a resume point per stream (src/store/streams.ts).
   */
  streams(): AsyncIterable<string>;
  /** One stream's log objects whose delivery day is in range, oldest day first (digests and other files are left out). */
  list(stream: string, range: DayRange): AsyncIterable<LogObjectRef>;
  read(ref: LogObjectRef): Promise<Uint8Array>;
  close(): void;
}

/** Every log object of the source in range, stream after stream. */
export async function* listAll(source: LogSource, range: DayRange): AsyncGenerator<LogObjectRef> {
  for await (const stream of source.streams()) yield* source.list(stream, range);
}

/** The URIs of listAll. */
export async function* listUris(source: LogSource, range: DayRange): AsyncGenerator<string> {
  for await (const ref of listAll(source, range)) yield ref.uri;
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
