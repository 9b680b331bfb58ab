// Runs a benchmark's child process and measures its wall time and peak RSS.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measured { seconds: number; peakRssMb: number; stdout: string }

const peakRssPreload = new URL('./peak-rss.js', import.meta.url).href;

/**
 * Runs `args` with node (preloading peak-rss.js, which reports the exact peak at exit) or with
 * another `command` (its peak then comes from polling /proc/<pid>/status VmHWM every 20 ms).
 * Exit codes 0 and 3 (some objects quarantined) count as success.
 */
export function measure(args: string[], env: Record<string, string> = {}, command = process.execPath): Promise<Measured> {
  const isNode = command === process.execPath;
  const dir = mkdtempSync(join(tmpdir(), 'keytrail-rss-'));
  const rssFile = join(dir, 'peak');
  const argv = isNode ? ['--import', peakRssPreload, ...args] : args;
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, argv, { env: { ...process.env, ...env, KEYTRAIL_PEAK_RSS_FILE: rssFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let polledKb = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) polledKb = Math.max(polledKb, Number(m[1]));
      } catch { /* exited */ }
    }, 20);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      let reportedKb = 0;
      try {
        reportedKb = Number(readFileSync(rssFile, 'utf8'));
      } catch { /* not node, or killed */ }
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0 && code !== 3) reject(new Error(`${[command, ...args].join(' ')} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`));
      else resolvePromise({ seconds, peakRssMb: Math.max(reportedKb, polledKb) / 1024, stdout });
    });
  });
}
