// Most tests wait on child processes and local servers, not on a core: vitest's default of one
// worker per core less one ran this suite one file at a time on a 2-core machine.
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { maxWorkers: 3 } });
