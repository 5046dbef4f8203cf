import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import { openStore, createKey, prefillTasks } from '/work/main/bench/lib/prefill.ts';
import Database from 'better-sqlite3';
const dir = process.argv[2];
let ids: string[];
if (!fs.existsSync(path.join(dir, 'ids.json'))) {
  fs.mkdirSync(dir, { recursive: true });
  const store = openStore(dir); const key = await createKey(store);
  ids = prefillTasks(store, key.id, 100000); store.db.pragma('wal_checkpoint(TRUNCATE)'); await store.close();
  fs.writeFileSync(path.join(dir, 'ids.json'), JSON.stringify(ids));
} else ids = JSON.parse(fs.readFileSync(path.join(dir, 'ids.json'), 'utf8'));
const file = fs.readdirSync(dir).find((f) => f.endsWith('.db') || f.endsWith('.sqlite'))!;
console.log('db', file, (fs.statSync(path.join(dir, file)).size / 2 ** 20).toFixed(0), 'MiB');
for (const variant of ['cache64', 'cache64+mmap', 'cache256']) {
  const db = new Database(path.join(dir, file));
  db.pragma('journal_mode = WAL');
  db.pragma(variant === 'cache256' ? 'cache_size = -262144' : 'cache_size = -65536');
  if (variant.includes('mmap')) db.pragma('mmap_size = 1073741824');
  const st = db.prepare('SELECT id, key_id, model, status, progress, created_at, completed_at, estimated_seconds, cost_micros, error, result FROM tasks WHERE id = ?').raw();
  for (let i = 0; i < 300000; i++) st.get(ids[(Math.random() * ids.length) | 0]);
  const n = 300000; const t = process.hrtime.bigint(); const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) st.get(ids[(Math.random() * ids.length) | 0]);
  const c = process.cpuUsage(c0);
  console.log(variant.padEnd(14), (Number(process.hrtime.bigint() - t) / n / 1000).toFixed(2), 'µs wall', ((c.user) / n).toFixed(2), 'user', (c.system / n).toFixed(2), 'sys', 'rss', (process.memoryUsage().rss / 2 ** 20).toFixed(0));
  db.close();
}
