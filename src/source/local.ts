// Log objects in a folder: the CloudTrail layout (an `aws s3 sync` copy) or any tree of
// *.json.gz / *.json files.

import { statSync } from 'node:fs';
import { opendir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { deliveryDay, inRange, isLogObjectKey, type DayRange } from './layout.js';
import { SourceError, type LogObjectRef, type LogSource } from './source.js';

export async function openLocalSource(folder: string): Promise<LogSource> {
  const root = resolve(folder);
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) throw new SourceError(`${folder}: no such folder`);
  return {
    name: root,
    list: (range) => walk(root, range),
    read: async (ref) => readFile(ref.uri),
    close: () => {},
  };
}

async function* walk(dir: string, range: DayRange): AsyncGenerator<LogObjectRef> {
  const entries: string[] = [];
  const folders: string[] = [];
  for await (const entry of await opendir(dir)) {
    if (entry.isDirectory()) folders.push(entry.name);
    else if (entry.isFile()) entries.push(entry.name);
  }
  // Sorted, so a run visits objects in the same order as an S3 listing and days in order.
  for (const name of folders.sort()) yield* walk(join(dir, name), range);
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (!isLogObjectKey(path)) continue;
    const day = deliveryDay(path);
    if (!inRange(day, range)) continue;
    const { size, mtimeMs } = statSync(path); // sync: a stat is microseconds, a promise round trip is not
    yield { uri: path, etag: `${size}-${Math.trunc(mtimeMs)}`, size, day, file: path };
  }
}
