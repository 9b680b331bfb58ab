// Log objects in a folder: the CloudTrail layout (an `aws s3 sync` copy) or any tree of
// *.json.gz / *.json files.

import { statSync } from 'node:fs';
import { opendir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { deliveryDay, inRange, isLogObjectKey, type DayRange } from './layout.js';
import { SourceError, type LogObjectRef, type LogSource } from './source.js';

export async function openLocalSource(folder: string): Promise<LogSource> {
  const root = resolve(folder);
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) throw new SourceError(`${folder}: no such folder`);
  return {
    name: root,
    streams: () => streams(root),
    // The root stream is what lies outside the layout's region folders.
    list: (stream, range) => walk(stream, range, stream === root),
    read: async (ref) => readFile(ref.uri),
    close: () => {},
  };
}

/** A region folder of the layout: <...>/CloudTrail/<region>. */
const isRegionFolder = (path: string) => basename(dirname(path)) === 'CloudTrail';

interface Entries { files: string[]; folders: string[] }

async function entries(dir: string): Promise<Entries> {
  const files: string[] = [];
  const folders: string[] = [];
  for await (const entry of await opendir(dir)) {
    if (entry.isDirectory()) folders.push(entry.name);
    else if (entry.isFile()) files.push(entry.name);
  }
  // Sorted, so a run visits objects in the same order as an S3 listing and days in order.
  return { files: files.sort(), folders: folders.sort() };
}

/** The region folders under root, then root itself when log files lie outside them. */
async function* streams(root: string): AsyncGenerator<string> {
  let loose = false;
  async function* find(dir: string): AsyncGenerator<string> {
    const { files, folders } = await entries(dir);
    loose ||= files.some((f) => isLogObjectKey(f));
    for (const name of folders) {
      const path = join(dir, name);
      if (isRegionFolder(path)) yield `${path}/`; // named as S3 names a region prefix
      else yield* find(path);
    }
  }
  yield* find(root);
  if (loose) yield root;
}

/** Day folders (YYYY, YYYY/MM, YYYY/MM/DD under a region) wholly outside the range are not opened. */
function prunable(path: string, range: DayRange): boolean {
  const m = /\/CloudTrail\/[^/]+\/(\d{4})(?:\/(\d{2}))?(?:\/(\d{2}))?$/.exec(path);
  if (!m) return false;
  const from = `${m[1]}-${m[2] ?? '01'}-${m[3] ?? '01'}`;
  const to = `${m[1]}-${m[2] ?? '12'}-${m[3] ?? '31'}`;
  return (range.until !== null && from > range.until) || (range.since !== null && to < range.since);
}

async function* walk(dir: string, range: DayRange, skipRegions: boolean): AsyncGenerator<LogObjectRef> {
  const { files, folders } = await entries(dir);
  for (const name of folders) {
    const path = join(dir, name);
    if ((skipRegions && isRegionFolder(path)) || prunable(path, range)) continue;
    yield* walk(path, range, skipRegions);
  }
  for (const name of files) {
    const path = join(dir, name);
    if (!isLogObjectKey(path)) continue;
    const day = deliveryDay(path);
    if (!inRange(day, range)) continue;
    const { size, mtimeMs } = statSync(path); // sync: a stat is microseconds, a promise round trip is not
    yield { uri: path, etag: `${size}-${Math.trunc(mtimeMs)}`, size, day, file: path };
  }
}
