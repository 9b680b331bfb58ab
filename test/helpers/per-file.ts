// Each test file starts as it would alone, whichever files its worker ran before: the files of a
// worker share one process and its modules (the suite runs them unisolated, see vitest.config.ts).
// So a file gets back the process.env the worker had (a file that points the SDK at its local
// endpoints or credentials in beforeAll must not hand them on), and the helpers' seeded ids and
// object serials start over (a file's records, keys and their order are the same alone or not).

import { afterAll } from 'vitest';
import { restartSerials } from './log-objects.js';
import { restartRecordIds } from './records.js';
import { restartTrailIds } from './trail.js';

restartRecordIds();
restartTrailIds();
restartSerials();

const saved = { ...process.env };

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});
