// Shared command-line plumbing: argument errors, the --db default, exit codes.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDay } from '../source/layout.js';

/** Bad usage: printed with the command's help hint, exit code 2. */
export class UsageError extends Error {}

export const EXIT = { ok: 0, findings: 1, usage: 2, quarantined: 3, failed: 4 } as const;

export const DEFAULT_DB = './keytrail.duckdb';

/** -h / --help was given and the command's help printed: exit code 0. */
export class HelpShown extends Error {}

const HELP_OPTION = { help: { type: 'boolean', short: 'h', default: false } } as const;

/** A command's options (and -h / --help, which prints `help` and ends the command). */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[], help: string, options: T, allowPositionals = true,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, ...HELP_OPTION }, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(help);
    throw new HelpShown();
  }
  return parsed;
}

/** --wait SECONDS, for every command that opens the database: how long to wait for another process's lock. */
export const WAIT_OPTION = { wait: { type: 'string' } } as const;
export const DEFAULT_WAIT_SECONDS = 60;

/** --wait's value in ms (default 60 s; 0 fails at once). */
export function waitMs(value: string | undefined): number {
  if (value === undefined) return DEFAULT_WAIT_SECONDS * 1000;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--wait: '${value}' is not a number of seconds`);
  return Math.round(n * 1000);
}

export function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name}: '${value}' is not a positive whole number`);
  return n;
}

export function oneOf<T extends string>(value: string | undefined, name: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) throw new UsageError(`${name}: '${value}' is not one of ${choices.join(', ')}`);
  return value as T;
}

/** A DATE option ('YYYY-MM-DD'), or null when absent. */
export function dayOption(value: string | undefined, name: string): string | null {
  if (value === undefined) return null;
  try {
    return parseDay(value, name);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
