// The objects verification reads: digests (listed per account and region under CloudTrail-Digest/),
// log objects (listed by the source layer), and any object a digest names, with its S3 metadata.
// In a folder (an `aws s3 sync` copy of the bucket or of its prefix), the key a digest names is
// found under the same folder that holds the digest's AWSLogs/ tree.

import { opendir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3Lister } from '../aws/s3-list.js';
import { makeS3Client, splitS3Uri } from '../aws/s3-client.js';
import { dayFolder, inRange, type DayRange } from '../source/layout.js';
import { openLocalSource } from '../source/local.js';
import { describeS3Error } from '../aws/s3-client.js';
import { openS3Source } from '../source/s3.js';
import { SourceError, listAll, type LogSource } from '../source/source.js';
import type { Locate } from './check.js';
import { digestDay } from './digest.js';

export interface StoredObject {
  bytes: Uint8Array;
  /** S3 user metadata; null for a file. */
  metadata: Record<string, string> | null;
}

export interface TrailObjects {
  /** The SOURCE, normalised as the ingest names it. */
  readonly name: string;
  /** A folder: no S3 metadata, so no signatures. */
  readonly folder: boolean;
  /** Digest objects whose day folder is in range. */
  digests(range: DayRange): AsyncIterable<string>;
  /** Log objects whose delivery day is in range. */
  logs(range: DayRange): AsyncIterable<string>;
  /** An object's bytes and metadata, or null when it does not exist. */
  read(uri: string): Promise<StoredObject | null>;
  /** How the objects named by the digest at `digestUri` are found. */
  locate(digestUri: string): Locate;
  close(): void;
}

export const s3Locate: Locate = (bucket, key) => `s3://${bucket}/${key}`;

/**
 * In a folder, a key is found relative to the folder above the digest's AWSLogs/ (the copy's
 * root); a digest outside the layout names objects beside it.
 */
export function folderLocate(digestPath: string): Locate {
  const at = digestPath.lastIndexOf('/AWSLogs/');
  if (at === -1) return (_bucket, key) => join(dirname(digestPath), basename(key));
  const root = digestPath.slice(0, at + 1);
  return (_bucket, key) => {
    const tail = key.lastIndexOf('AWSLogs/');
    return join(root, tail === -1 || (tail > 0 && key[tail - 1] !== '/') ? basename(key) : key.slice(tail));
  };
}

export async function openTrailObjects(source: string, options: { endpointUrl?: string; concurrency: number }): Promise<TrailObjects> {
  return source.startsWith('s3://') ? openS3Objects(source, options) : openFolderObjects(source);
}

async function openFolderObjects(folder: string): Promise<TrailObjects> {
  const logs: LogSource = await openLocalSource(folder);
  const root = resolve(folder);
  return {
    name: logs.name,
    folder: true,
    digests: (range) => walkDigests(root, range),
    logs: (range) => uris(listAll(logs, range)),
    read: async (path) => {
      try {
        return { bytes: await readFile(path), metadata: null };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
        throw new Error(`${path}: ${(err as Error).message}`);
      }
    },
    locate: folderLocate,
    close: () => logs.close(),
  };
}

async function* uris(refs: AsyncIterable<{ uri: string }>): AsyncGenerator<string> {
  for await (const ref of refs) yield ref.uri;
}

async function* walkDigests(dir: string, range: DayRange): AsyncGenerator<string> {
  const files: string[] = [];
  const folders: string[] = [];
  for await (const entry of await opendir(dir)) {
    if (entry.isDirectory()) folders.push(entry.name);
    else if (entry.isFile()) files.push(entry.name);
  }
  for (const name of folders.sort()) yield* walkDigests(join(dir, name), range);
  for (const name of files.sort()) {
    const path = join(dir, name);
    const day = digestDay(path);
    if (day !== null && inRange(day, range)) yield path;
  }
}

async function openS3Objects(uri: string, options: { endpointUrl?: string; concurrency: number }): Promise<TrailObjects> {
  const parts = splitS3Uri(uri);
  if (!parts) throw new SourceError(`${uri}: not an s3://bucket[/prefix] URI`);
  const client = await makeS3Client(options);
  const logs = await openS3Source(uri, options);
  const lister = new DigestLister(client, parts.bucket);
  return {
    name: logs.name,
    folder: false,
    digests: (range) => lister.list(parts.prefix, range),
    logs: (range) => uris(listAll(logs, range)),
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
    const at = prefix.indexOf('AWSLogs/');
    const root = at === -1 ? `${prefix}AWSLogs/` : prefix.slice(0, at + 'AWSLogs/'.length);
    const parts = at === -1 ? [] : prefix.slice(root.length).split('/').filter(Boolean);
    for await (const folder of this.regionFolders(root, parts)) {
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

  private async *regionFolders(root: string, parts: string[]): AsyncGenerator<string> {
    const accountAt = parts[0]?.startsWith('o-') ? 1 : 0; // organization trails add AWSLogs/<o-id>/
    const here = root + parts.map((p) => `${p}/`).join('');
    if (parts.length <= accountAt) {
      for await (const child of this.s3.children(here)) yield* this.regionFolders(root, [...parts, child]);
    } else if (parts.length === accountAt + 1) {
      yield* this.regionFolders(root, [...parts, 'CloudTrail-Digest']);
    } else if (parts[accountAt + 1] !== 'CloudTrail-Digest') {
      return;
    } else if (parts.length === accountAt + 2) {
      for await (const region of this.s3.children(here)) yield `${here}${region}/`;
    } else {
      yield here; // a region or a day folder given as the prefix
    }
  }
}

