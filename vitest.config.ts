// Two workers, one per core: the suite is CPU-bound (a third worker measured no faster), and
// vitest's default of one per core less one ran it one file at a time on a 2-core machine. Time
// limits that catch a hang rather than a busy machine.
// dt-sql-parser's grammars (the Athena tests) are bundled once per run by the optimizer: Node cannot
// load the package as it is, and vite's transform of its modules cost ~3 CPU-s in each test file.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    maxWorkers: 2, testTimeout: 120_000, hookTimeout: 180_000,
    deps: { optimizer: { ssr: { enabled: true, include: ['dt-sql-parser/dist/parser/trino/index.js', 'dt-sql-parser/dist/parser/hive/index.js'] } } },
  },
});
