// Deterministic crash points, so tests can kill an ingest exactly where it hurts most instead of
// hoping a timer lands there: KEYTRAIL_FAULT=<point>:<batch number> makes the process SIGKILL
// itself there. Unset (always, outside tests), nothing happens.

export type CrashPoint = 'before-commit' | 'in-commit' | 'after-commit';

export function crashPoint(point: CrashPoint, batch: number): void {
  if (process.env.KEYTRAIL_FAULT === `${point}:${batch}`) process.kill(process.pid, 'SIGKILL');
}
