import Database from 'better-sqlite3';
import { TASK_COLUMN_NAMES } from '/work/main/src/store/rows.ts';
const db = new Database(':memory:');
db.exec(`CREATE TABLE t (${TASK_COLUMN_NAMES.map((c) => c + ' ANY').join(', ')})`);
const named = db.prepare(`INSERT INTO t VALUES (${TASK_COLUMN_NAMES.map((c) => '@' + c).join(', ')})`);
const pos = db.prepare(`INSERT INTO t VALUES (${TASK_COLUMN_NAMES.map(() => '?').join(', ')})`);
const obj: Record<string, unknown> = Object.fromEntries(TASK_COLUMN_NAMES.map((c, i) => [c, i % 3 === 0 ? 'text value ' + i : i % 3 === 1 ? i * 1000 : null]));
const arr = TASK_COLUMN_NAMES.map((c) => obj[c]);
function time(name: string, n: number, f: () => void) { db.exec('BEGIN'); for (let i = 0; i < n / 10; i++) f(); const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) f(); console.log(name.padEnd(12), (Number(process.hrtime.bigint() - t) / n / 1000).toFixed(2), 'µs'); db.exec('COMMIT'); db.exec('DELETE FROM t'); }
for (let r = 0; r < 2; r++) { time('named', 100000, () => named.run(obj)); time('positional', 100000, () => pos.run(arr)); }
