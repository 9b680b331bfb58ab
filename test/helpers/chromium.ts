// The Chromium the browser tests drive through playwright-core, found without any system package:
// KEYTRAIL_CHROMIUM when set; else the one inside the @sparticuz/chromium npm package (x86-64
// Linux); else a system chromium on PATH.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';

export interface Browser {
  executablePath: string;
  /** Where it came from, for error messages. */
  from: string;
}

const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

export async function findChromium(): Promise<Browser> {
  const configured = process.env.KEYTRAIL_CHROMIUM;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`KEYTRAIL_CHROMIUM=${configured}: no such file`);
    return { executablePath: configured, from: 'KEYTRAIL_CHROMIUM' };
  }
  let packaged = 'the package ships an x86-64 Linux build only';
  if (process.platform === 'linux' && process.arch === 'x64') {
    try {
      return { executablePath: await unpackedChromium(), from: '@sparticuz/chromium' };
    } catch (err) {
      packaged = (err as Error).message;
    }
  }
  const system = onPath(SYSTEM_NAMES);
  if (system) return { executablePath: system, from: 'PATH' };
  throw new Error(
    `no Chromium: @sparticuz/chromium cannot be used (${packaged}) and none of ${SYSTEM_NAMES.join(', ')} is on PATH; ` +
      'run npm ci, or set KEYTRAIL_CHROMIUM to a Chromium binary',
  );
}

/**
 * The package unpacks its browser into os.tmpdir() and trusts whatever file is there, so runs
 * that unpack at the same time (or one killed halfway) could launch half a binary. Here it
 * unpacks into a folder of its own, which is moved into the checkout's cache only when complete.
 */
async function unpackedChromium(): Promise<string> {
  const require = createRequire(import.meta.url);
  const pkg = dirname(dirname(require.resolve('@sparticuz/chromium'))); // <pkg>/build/index.js
  const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string };
  const cacheRoot = join(pkg, '..', '..', '.cache', 'keytrail-chromium');
  const ready = join(cacheRoot, version);
  if (existsSync(join(ready, 'complete'))) return join(ready, 'chromium');

  mkdirSync(cacheRoot, { recursive: true });
  const staging = mkdtempSync(join(cacheRoot, `${version}.unpacking-`));
  const tmpdir = process.env.TMPDIR;
  process.env.TMPDIR = staging; // os.tmpdir() reads it on every call
  try {
    const { default: chromium } = await import('@sparticuz/chromium');
    await chromium.executablePath();
  } finally {
    if (tmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpdir;
  }
  writeFileSync(join(staging, 'complete'), '');
  try {
    renameSync(staging, ready);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another run got there first
  }
  return join(ready, 'chromium');
}

function onPath(names: string[]): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of names) if (existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}
