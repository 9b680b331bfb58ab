// The Chromium the browser tests drive through playwright-core, found without any system package:
// KEYTRAIL_CHROMIUM when set; else the one inside the @sparticuz/chromium npm package (unpacked
// to the temp folder on first use); else a system chromium on PATH (a machine where the packaged
// binary cannot run, e.g. not x86-64 Linux).

import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

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
  let packaged: Error;
  try {
    const { default: chromium } = await import('@sparticuz/chromium');
    return { executablePath: await chromium.executablePath(), from: '@sparticuz/chromium' };
  } catch (err) {
    packaged = err as Error;
  }
  const system = onPath(SYSTEM_NAMES);
  if (system) return { executablePath: system, from: 'PATH' };
  throw new Error(
    `no Chromium: @sparticuz/chromium failed (${packaged.message}) and none of ${SYSTEM_NAMES.join(', ')} is on PATH; ` +
      'run npm ci, or set KEYTRAIL_CHROMIUM to a Chromium binary',
  );
}

function onPath(names: string[]): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of names) if (existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}
