// The objects verification reads in a bucket (src/integrity/objects.ts has the folder's): digests
// listed per region folder, log objects through the S3 source, any object with its user metadata.

import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3Lister } from '../aws/s3-list.js';
import { describeS3Error, makeS3Client, splitS3Uri } from '../aws/s3-client.js';
import { dayFolder, inRange, type DayRange } from '../source/layout.js';
import { openS3Source } from '../source/s3.js';
import { SourceError, listUris } from '../source/source.js';
import { s3Locate } from './check.js';
import { digestDay } from './digest.js';
import type { StoredObject, TrailObjects } from './objects.js';

export async function openS3Objects(uri: string, options: { endpointUrl?: string; concurrency: number }): Promise<TrailObjects> {
  const parts = splitS3Uri(uri);
  if (!parts) throw new SourceError(`${uri}: not an s3://bucket[/prefix] URI`);
  const client = await makeS3Client(options);
  const logs = await openS3Source(uri, options);
  const lister = new DigestLister(client, parts.bucket);
  return {
    name: logs.name,
    folder: false,
    digests: (range) => lister.list(parts.prefix, range),
    logs: (range) => listUris(logs, range),
    read: (objectUri) => getObject(client, objectUri),
    locate: () => s3Locate,
    close: () => {
      logs.close();
      client.destroy();
    },
  };
}

async function getObject(client: S3Client, uri: string): Promise<StoredObject | null> {
  const parts = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!parts) throw new Error(`${uri}: not an s3:// object URI`);
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: parts[1], Key: parts[2] }));
    if (!out.Body) throw new Error('empty response body');
    return { bytes: await out.Body.transformToByteArray(), metadata: out.Metadata ?? {} };
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return null;
    throw new Error(`${uri}: ${describeS3Error(err)}`);
  }
}

/**
 * Digest keys, listed region by region under AWSLogs/[<o-id>/]<account>/CloudTrail-Digest/<region>/.
 * Listing each region folder directly (not paging through AWSLogs/) is also what s3rver needs.
 */
class DigestLister {
  private readonly s3: S3Lister;

  constructor(client: S3Client, private readonly bucket: string) {
    this.s3 = new S3Lister(client, bucket);
  }

  async *list(prefix: string, range: DayRange): AsyncGenerator<string> {
    // A region or a day folder given as the prefix is listed itself.
    for await (const folder of this.s3.regionFolders(prefix, 'CloudTrail-Digest', true)) {
      const startAfter = range.since && folder.endsWith('/') && /CloudTrail-Digest\/[^/]+\/$/.test(folder)
        ? folder + dayFolder(range.since).slice(0, -1) : undefined;
      pages: for await (const page of this.s3.pages(folder, startAfter)) {
        for (const { Key: key } of page.Contents ?? []) {
          const day = key ? digestDay(key) : null;
          if (day === null) continue;
          if (range.until !== null && day > range.until) break pages; // keys sort by day within a region
          if (inRange(day, range)) yield `s3://${this.bucket}/${key}`;
        }
      }
    }
  }
}
