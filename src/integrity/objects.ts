// The objects verification reads: digests (listed per account and region under CloudTrail-Digest/),
// log objects (listed by the source layer), and any object a digest names, with its S3 metadata.
// In a folder (an `aws s3 sync` copy of the bucket or of its prefix), the key a digest names is
// found under the same folder that holds the digest's AWSLogs/ tree.

import { opendir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { inRange, type DayRange } from '../source/layout.js';
import { openLocalSource } from '../source/local.js';
import { listUris, type LogSource } from '../source/source.js';
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
  if (!source.startsWith('s3://')) return openFolderObjects(source);
  const { openS3Objects } = await import('./s3-objects.js'); // the SDK loads only for S3
  return openS3Objects(source, options);
}

async function openFolderObjects(folder: string): Promise<TrailObjects> {
  const logs: LogSource = await openLocalSource(folder);
  const root = resolve(folder);
  return {
    name: logs.name,
    folder: true,
    digests: (range) => walkDigests(root, range),
    logs: (range) => listUris(logs, range),
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
