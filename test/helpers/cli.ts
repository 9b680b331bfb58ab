// The keytrail CLI, two ways:
//   runCli    the commands in this process (src/cli/commands.ts), their output captured: what most
//             tests need (output, exit codes, files), without half a second of Node and module
//             loading per call;
//   spawnCli  the built CLI (dist/, built by `npm test`'s pretest) as a child process: for what only
//             a process shows (a kill, a crash point, a time zone, a umask, two runs at once).

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { main } from '../../src/cli/commands.js';

export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export const spawnCli = (args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult> => startCli(args, env).done;

// One command at a time in this process: each owns the console, process.env and the umask while it runs.
let queue: Promise<unknown> = Promise.resolve();

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const run = queue.then(() => runHere(args, env));
  queue = run.catch(() => undefined);
  return run;
}

async function runHere(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const text = (chunk: string | Uint8Array) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
  const saved = {
    log: console.log, info: console.info, error: console.error, warn: console.warn,
    out: process.stdout.write, err: process.stderr.write,
  };
  console.log = console.info = (...a: unknown[]) => void (stdout += `${format(...a)}\n`);
  console.error = console.warn = (...a: unknown[]) => void (stderr += `${format(...a)}\n`);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += text(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += text(chunk)), true)) as typeof process.stderr.write;
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const umask = process.umask(0o077); // as the CLI's entry point sets it
  try {
    const code = await main(args);
    return { code, signal: null, stdout, stderr };
  } finally {
    process.umask(umask);
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    Object.assign(console, { log: saved.log, info: saved.info, error: saved.error, warn: saved.warn });
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
  }
}
