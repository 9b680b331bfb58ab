// Each test file leaves process.env as it found it. The files of a worker share one process (the
// suite runs them unisolated, see vitest.config.ts), and a file that points the SDK at its local
// endpoints or credentials in beforeAll must not hand them to the next file.

import { afterAll } from 'vitest';

const saved = { ...process.env };

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});
