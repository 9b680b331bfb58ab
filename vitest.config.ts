// Most tests wait on child processes and local servers, not on a core: vitest's default of one
// worker per core less one ran this suite one file at a time on a 2-core machine. Two workers,
// and time limits that catch a hang rather than a busy machine: a test that runs the CLI five
// times took 30 s with three workers on two loaded cores.
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { maxWorkers: 2, testTimeout: 120_000, hookTimeout: 180_000 } });
