// Where the ingest's writer (DuckDB, one thread) spends its time: a folder ingest run in this
// process with every SQL statement of the store timed and named by the method that ran it (from
// the call stack), per batch, plus opening and closing the database (the close checkpoints).
// A measuring tool: it wraps Store's methods at run time and changes nothing in src/store.
//   node dist/scripts/bench-writer.js FOLDER DB

import { rmSync } from 'node:fs';
import { ingest } from '../src/ingest.js';
import { Store } from '../src/store/db.js';
import { Batch } from '../src/store/load.js';
import { openLocalSource } from '../src/source/local.js';

const [folder, db] = process.argv.slice(2);
if (!folder || !db) throw new Error('usage: bench-writer FOLDER DB');
rmSync(db, { force: true });
rmSync(`${db}.wal`, { force: true });

/** Seconds per step of the batch being committed (null: outside a commit). */
let current: Map<string, number> | null = null;
const batches: Map<string, number>[] = [];
const outside = new Map<string, number>();
const add = (step: string, seconds: number) => {
  const into = current ?? outside;
  into.set(step, (into.get(step) ?? 0) + seconds);
};
const since = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;

/** 'method: first words of the statement', the method being the nearest Batch/ingest frame. */
function stepName(sql: string): string {
  const frames = (new Error().stack ?? '').split('\n').slice(3);
  const caller = frames.map((f) => /at (?:async )?(?:Batch\.)?(\w+) \(.*(load|ingest|manifest)\.js/.exec(f)).find((m) => m);
  const words = sql.replace(/\s+/g, ' ').trim().split(' ').slice(0, 6).join(' ').slice(0, 48);
  return `${caller ? caller[1] : '?'}: ${words}`;
}

for (const method of ['run', 'all'] as const) {
  const original = Store.prototype[method] as (this: Store, sql: string, ...rest: unknown[]) => Promise<unknown>;
  (Store.prototype as unknown as Record<string, unknown>)[method] = async function (this: Store, sql: string, ...rest: unknown[]) {
    const name = stepName(sql);
    const t = process.hrtime.bigint();
    try {
      return await original.call(this, sql, ...rest);
    } finally {
      add(name, since(t));
    }
  };
}
const open = Store.open.bind(Store);
let opens = 0;
Store.open = async (...args: Parameters<typeof Store.open>) => {
  const t = process.hrtime.bigint();
  const store = await open(...args);
  opens++;
  add('open the database', since(t));
  const close = store.close.bind(store);
  store.close = () => {
    const c = process.hrtime.bigint();
    close();
    add('close (checkpoint)', since(c));
  };
  return store;
};
const commit = Batch.prototype.commit;
Batch.prototype.commit = async function (this: Batch, ...args: Parameters<Batch['commit']>) {
  current = new Map();
  const t = process.hrtime.bigint();
  try {
    return await commit.apply(this, args);
  } finally {
    current.set('commit, in all', since(t));
    current.set(`records (lines staged): ${this.lines}`, 0);
    batches.push(current);
    current = null;
  }
};

const started = process.hrtime.bigint();
const summary = await ingest(await openLocalSource(folder), db, { range: { since: null, until: null }, concurrency: 64 });
const wall = since(started);
console.log(`${summary.objects} objects, ${summary.kmsEvents} KMS events, ${batches.length} batches, ${wall.toFixed(1)} s in all\n`);

const steps = [...new Set(batches.flatMap((b) => [...b.keys()]))].filter((s) => !s.startsWith('records'));
const total = (s: string) => batches.reduce((a, b) => a + (b.get(s) ?? 0), 0);
console.log('| step | ' + batches.map((_, i) => `batch ${i + 1}`).join(' | ') + ' | all batches | share of commits |');
console.log('| --- |' + ' ---: |'.repeat(batches.length + 2));
const commits = total('commit, in all');
for (const s of steps.sort((a, b) => total(b) - total(a))) {
  console.log(`| ${s} | ${batches.map((b) => (b.get(s) ?? 0).toFixed(2)).join(' | ')} | ${total(s).toFixed(2)} | ${((100 * total(s)) / commits).toFixed(0)}% |`);
}
console.log(`| records staged | ${batches.map((b) => [...b.keys()].find((k) => k.startsWith('records'))!.split(': ')[1]).join(' | ')} | | |`);
console.log(`\nOutside the commits (manifest look-ups, run start and end; the database opened ${opens} times in all):`);
for (const [s, v] of [...outside].sort((a, b) => b[1] - a[1])) console.log(`  ${s.padEnd(60)} ${v.toFixed(2)} s`);
