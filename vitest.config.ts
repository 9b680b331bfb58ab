// Two workers, one per core: the suite is CPU-bound (a third worker measured no faster), and
// vitest's default of one per core less one ran it one file at a time on a 2-core machine. Time
// limits that catch a hang rather than a busy machine. Readers' DuckDB on one thread: with both cores
// taken by the workers, a second thread per database cost the reader-heavy files 13% more CPU.
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { maxWorkers: 2, testTimeout: 120_000, hookTimeout: 180_000, env: { KEYTRAIL_THREADS: '1' } } });
