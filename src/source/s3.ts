// Log objects in S3, through the AWS SDK: the standard credential chain and region resolution,
// --endpoint-url or AWS_ENDPOINT_URL(_S3) for S3-compatible servers (path-style then).
// Listing knows the CloudTrail layout, so a date range lists only the days in it.

import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Lister } from '../aws/s3-list.js';
import { describeS3Error, makeS3Client, splitS3Uri } from '../aws/s3-client.js';
import { dayFolder, daysOf, deliveryDay, inRange, isLogObjectKey, type DayRange } from './layout.js';
import { ReadError, SourceError, type LogObjectRef, type LogSource } from './source.js';

export interface S3Options {
  endpointUrl?: string;
  concurrency: number;
  /** Reads of an object whose body was cut short before it is left for the next run. */
  bodyAttempts?: number;
}

export async function openS3Source(uri: string, options: S3Options): Promise<LogSource> {
  const parts = splitS3Uri(uri);
  if (!parts) throw new SourceError(`${uri}: not an s3://bucket[/prefix] URI`);
  const { bucket, prefix } = parts;
  // One retry layer: the SDK's retries (throttling, 5xx, connection errors; exponential backoff with
  // jitter), plus a new read of a body cut short, which the SDK cannot see. Its 'adaptive' mode was
  // tried: its client-side rate limiter took a 1,120-object ingest with 1 GET in 13 throttled from
  // 19 s to over 180 s. AWS_MAX_ATTEMPTS, the SDK's own setting, decides when it is set.
  const client = await makeS3Client({ ...options, maxAttempts: process.env.AWS_MAX_ATTEMPTS ? undefined : 8 });
  const lister = new Lister(client, bucket);
  const bodyAttempts = options.bodyAttempts ?? 3;
  return {
    name: `s3://${bucket}/${prefix}`,
    streams: () => lister.streams(prefix),
    list: (stream, range) => lister.list(stream, range),
    read: (ref) => readObject(client, bucket, ref, bodyAttempts),
    close: () => client.destroy(),
  };
}

async function readObject(client: S3Client, bucket: string, ref: LogObjectRef, bodyAttempts: number): Promise<Uint8Array> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await getObject(client, bucket, ref);
    } catch (err) {
      if (err instanceof CutShort && attempt < bodyAttempts) continue;
      throw new ReadError(`${ref.uri}: ${describeS3Error(err)}${hint(err)}`, isPermanent(err));
    }
  }
}

/** The body ended before Content-Length: the connection dropped mid-object. */
class CutShort extends Error {}

async function getObject(client: S3Client, bucket: string, ref: LogObjectRef): Promise<Uint8Array> {
  const key = ref.uri.slice(`s3://${bucket}/`.length);
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: ref.etag || undefined }));
  if (!out.Body) throw new Error('empty response body');
  let bytes: Uint8Array;
  try {
    bytes = await out.Body.transformToByteArray();
  } catch (err) {
    throw new CutShort(`connection dropped mid-object: ${(err as Error).message}`);
  }
  if (out.ContentLength !== undefined && bytes.byteLength !== out.ContentLength) {
    throw new CutShort(`connection dropped: ${bytes.byteLength} of ${out.ContentLength} bytes`);
  }
  return bytes;
}

/**
 * No access (403: the role may not read it, or it is SSE-KMS encrypted under a key the role may not
 * use) or no object (404: deleted after listing): trying again will not help until something changes.
 */
function isPermanent(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return status === 403 || status === 404 || ['AccessDenied', 'NoSuchKey', 'NotFound', 'InvalidObjectState'].includes(e.name ?? '');
}

function hint(err: unknown): string {
  const e = err as { message?: string; $metadata?: { httpStatusCode?: number } };
  if (e.$metadata?.httpStatusCode === 403 && /kms|key/i.test(e.message ?? '')) {
    return ' (an SSE-KMS object: the reading role needs kms:Decrypt on the key that encrypts the trail)';
  }
  return '';
}


const MAX_DAY_LISTINGS = 62;
const REGION_PREFIX_RE = /(?:^|\/)CloudTrail\/[^/]+\/$/;

class Lister {
  private readonly s3: S3Lister;

  constructor(client: S3Client, private readonly bucket: string) {
    this.s3 = new S3Lister(client, bucket);
  }

  /** The region folders under the prefix, or the prefix itself when it holds no CloudTrail layout. */
  async *streams(prefix: string): AsyncGenerator<string> {
    let found = false;
    for await (const regionPrefix of this.s3.regionFolders(prefix, 'CloudTrail', false)) {
      found = true;
      yield regionPrefix;
    }
    if (!found) yield prefix; // not the CloudTrail layout: filter by name
  }

  list(stream: string, range: DayRange): AsyncGenerator<LogObjectRef> {
    return REGION_PREFIX_RE.test(stream) ? this.listDays(stream, range) : this.listFiltered(stream, range);
  }

  /** Every object under the prefix whose name says it is a log in range. */
  private async *listFiltered(prefix: string, range: DayRange, startAfter?: string): AsyncGenerator<LogObjectRef> {
    for await (const page of this.s3.pages(prefix, startAfter)) {
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? '';
        if (!isLogObjectKey(key)) continue;
        const day = deliveryDay(key);
        if (range.until !== null && day !== null && day > range.until) return; // keys sort by day within a region
        if (!inRange(day, range)) continue;
        yield { uri: `s3://${this.bucket}/${key}`, etag: object.ETag ?? '', size: object.Size ?? 0, day };
      }
    }
  }

  /**
   * One region's objects in the range. A bounded range of up to MAX_DAY_LISTINGS days lists each
   * day folder (nothing outside the range is listed); an open or long one lists from its first
   * day on (StartAfter) and stops at the first key past its last day.
   */
  private async *listDays(regionPrefix: string, range: DayRange): AsyncGenerator<LogObjectRef> {
    const days = range.since && range.until ? daysOf({ since: range.since, until: range.until }) : [];
    if (days.length > 0 && days.length <= MAX_DAY_LISTINGS) {
      for (const day of days) yield* this.listFiltered(regionPrefix + dayFolder(day), range);
    } else {
      yield* this.listFiltered(regionPrefix, range, range.since ? regionPrefix + dayFolder(range.since).slice(0, -1) : undefined);
    }
  }
}
