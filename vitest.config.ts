// Two workers, one per core: the suite is CPU-bound (a third worker measured no faster), and
// vitest's default of one per core less one ran it one file at a time on a 2-core machine. Files
// not isolated: each worker process runs its files one after another and keeps the modules they
// import (DuckDB's 50 MB library, the AWS SDK, keytrail's own), which a process per file loaded 42
// times (suite 216 s and 376 CPU-s isolated, 165-169 s and 283-290 CPU-s not, all 530 tests passing;
// the vmForks pool, a fresh VM context per file, measured the same as isolated). The files still
// share no state: keytrail keeps none in its modules, runCli restores the console, env and umask it
// changes, and a setup file (test/helpers/per-file.ts) starts each file as it would start alone.
// Time limits that catch a hang rather than a busy machine. Readers' DuckDB on one thread: with both
// cores taken by the workers, a second thread per database cost the reader-heavy files 13% more CPU.
// dt-sql-parser's grammars (the Athena tests) run in one process per run, started by the global
// setup (test/helpers/grammar-setup.ts): their warm-up, ~7 CPU-s for the Trino grammar, was paid in
// each test file that validated SQL; and no test file loads (or vite transforms) the package.
import { basename } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The longest files, longest first, as measured: started last, one of them keeps a core busy while
 * the other idles. Vitest orders by the last run's durations, but a clean clone (CI) has none and
 * would start with the largest files in bytes, which are quick.
 */
const LONGEST_FIRST = [
  'athena-engine', 'store-growth', 'report', 'detect-trail', 'ingest-cli', 'ingest-resume', 'ingest-verify', 'keys-cli',
  'detect-datasets', 'ingest-event-history', 'export', 'notify', 'keys-audit', 'ingest-s3', 'detect-cli', 'normalize',
  'trail-generator', 'ingest', 'athena-client', 'verify',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.indexOf(basename(f.moduleId, '.test.ts'));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b)); // stable: the rest keep vitest's order
  }
}

export default defineConfig({
  test: {
    maxWorkers: 2, testTimeout: 120_000, hookTimeout: 180_000,
    // The SDK's warning about this Node version off, as the CLI's entry point turns it off: for the
    // whole worker, since a module that set it would do so once, for the first of its files.
    env: { KEYTRAIL_THREADS: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    sequence: { sequencer: LongestFirst },
    globalSetup: ['test/helpers/grammar-setup.ts'],
    isolate: false, setupFiles: ['test/helpers/per-file.ts'],
  },
});
