// Where the package's own files (schemas/, queries/) are, from src/ under vitest or dist/src/ when built.

import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'schemas'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('keytrail: cannot find the package folder (schemas/ is missing)');
    dir = parent;
  }
  return dir;
}

export const packageRoot = findPackageRoot();
export const schemasDir = join(packageRoot, 'schemas');
export const queriesDir = join(packageRoot, 'queries');

/**
 * Under vitest the code runs from its TypeScript sources, but a worker thread or a child process it
 * starts runs JavaScript: the build's copy of `source` (npm test builds first) when it is newer than
 * `source` and every other source it runs; else null, and the caller loads the source through tsx
 * (half a second to a second of CPU each start).
 */
export function builtCopy(source: URL, alsoRuns: URL[] = []): URL | null {
  const built = (url: URL) => join(packageRoot, 'dist', relative(packageRoot, fileURLToPath(url))).replace(/\.ts$/, '.js');
  const current = [source, ...alsoRuns].every((url) => {
    const copy = built(url);
    return existsSync(copy) && statSync(copy).mtimeMs >= statSync(url).mtimeMs;
  });
  return current ? pathToFileURL(built(source)) : null;
}
