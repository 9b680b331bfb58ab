import { Store } from './src/store/db.ts';
import { Batch, type ManifestEntry } from './src/store/load.ts';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
const mode = process.argv[2] ?? '';
const files: string[] = JSON.parse(readFileSync('/tmp/objects.json', 'utf8'));
rmSync('/tmp/iso.duckdb', { force: true }); rmSync('/tmp/iso.duckdb.wal', { force: true });
const store = await Store.open('/tmp/iso.duckdb');
if (mode) await store.run(mode);
const times = new Map<string, number>();
for (const m of ['run', 'all'] as const) {
  const orig = (Store.prototype as any)[m];
  (Store.prototype as any)[m] = async function (sql: string, ...rest: any[]) {
    const t = Date.now();
    try { return await orig.call(this, sql, ...rest); } finally { const k = sql.replace(/\s+/g, ' ').slice(0, 60); times.set(k, (times.get(k) ?? 0) + Date.now() - t); }
  };
}
copyFileSync('/tmp/staged.ndjson', '/tmp/iso-batch.ndjson');
const batch = new Batch('/tmp/iso-batch.ndjson');
(batch as any).stream = { end() {}, on() {}, once() {} };
for (const [i, f] of files.entries()) batch.entries.push({ ref: { uri: f, etag: 'e', size: 1, day: '2024-05-01' }, object: i, events: 10, kmsEvents: 0, status: 'ok', error: null, badRecords: [], kept: [], seenBefore: false } as ManifestEntry);
const t = Date.now();
await store.transaction(async () => {
  await (batch as any).stage(store, 1);
  await (batch as any).forgetReread(store);
  await (batch as any).insert(store);
  await (batch as any).insertManifest(store, 'src', 1);
});
const t2 = Date.now();
store.close();
console.log(mode || 'default', 'total', t2 - t, 'close', Date.now() - t2);
for (const [k, v] of [...times].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log('  ', v, k);
