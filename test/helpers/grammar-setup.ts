// Vitest global setup: the grammar service (grammar-service.ts) for the whole run, its address given
// to the test files as inject('grammars'). Started here, the parsers' warm-up is paid once per run.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

declare module 'vitest' {
  export interface ProvidedContext {
    grammars: string;
  }
}

/** Starts grammar-service.ts; it loads a grammar on its first request, so an unused service costs a Node start. */
export async function startGrammarService(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const script = fileURLToPath(new URL('./grammar-service.ts', import.meta.url));
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the grammar service exited with code ${code}`)));
    child.stdout!.once('data', (data) => resolve(Number(String(data).trim())));
  });
  // The process that started it may exit without stopping it: the service then sees its stdin close.
  child.unref();
  for (const pipe of [child.stdin, child.stdout]) (pipe as unknown as { unref(): void }).unref();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      await exited;
    },
  };
}

export default async function setup({ provide }: { provide: (key: 'grammars', value: string) => void }): Promise<() => Promise<void>> {
  const service = await startGrammarService();
  provide('grammars', service.endpoint);
  return service.stop;
}
