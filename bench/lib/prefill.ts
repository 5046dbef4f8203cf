/**
 * Filling a store before a benchmark, through the store API (not over HTTP): the same rows a submit writes
 * (task, hold, ledger row), then finished the way the engine finishes them (settle or refund, ledger rows).
 * Done with the gateway stopped, with synchronous=NORMAL for speed; the gateway then opens the file itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiKeys } from '../../src/accounts/apiKeys.ts';
import { PriceBook } from '../../src/billing/prices.ts';
import { findModel, listModels } from '../../src/models/registry.ts';
import { planOutput } from '../../src/models/output.ts';
import { validateRequest } from '../../src/models/validate.ts';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import { newTaskId } from '../../src/tasks/submit.ts';
import type { TaskOutcome, TaskRecord } from '../../src/tasks/task.ts';
import { newTaskRecord, taskValues, TASK_COLUMN_NAMES } from '../../src/store/rows.ts';
import { finishMoves, holdMove, type LedgerMove } from '../../src/billing/settlement.ts';
import { VALID_BODIES } from './bodies.ts';

export function openStore(dataDir: string): SqliteStore {
  return new SqliteStore(path.join(dataDir, 'reelay.db'), { synchronous: 'NORMAL' });
}

/** An API key with a balance no benchmark can spend. */
export async function createKey(store: SqliteStore): Promise<{ id: string; key: string }> {
  const { record, key } = await new ApiKeys(store).create({ name: 'bench', balanceMicros: 1e15 });
  return { id: record.id, key };
}

const prices = new PriceBook(listModels());

/** A valid body, validated, planned and priced once: every task made from it differs only in id and times. */
function template(body: Record<string, unknown>) {
  const request = validateRequest(body);
  const spec = findModel(request.model)!;
  const plan = planOutput(spec, request, {});
  const billedSeconds = plan.seconds * plan.count;
  return { request, spec, plan, billedSeconds, priceMicros: prices.price(spec, request.mode, request.params, plan, billedSeconds) };
}
type Template = ReturnType<typeof template>;

/** A new (queued) task record from a template, as submit would create it. */
function taskFrom(t: Template, keyId: string, createdAt: number, nextCheckAt: number): TaskRecord {
  return newTaskRecord({
    id: newTaskId(),
    keyId,
    model: t.spec.id,
    mode: t.request.mode,
    params: t.request.params,
    inputs: [],
    plan: t.plan,
    createdAt,
    estimatedSeconds: t.spec.estimatedSeconds,
    deadlineAt: createdAt + t.spec.maxRunSeconds * 1000,
    priceMicros: t.priceMicros,
    billedSeconds: t.billedSeconds,
    callbackUrl: null,
    idempotencyKey: null,
    nextCheckAt,
  });
}

const templates = VALID_BODIES.map(template);

export interface PrefillMix {
  /** Fractions of completed and failed tasks; the rest stay pending (queued, never started). */
  completed: number;
  failed: number;
}

export const DEFAULT_MIX: PrefillMix = { completed: 0.9, failed: 0.05 };

/** A key's running totals (balance, held, spent), micro-units. */
export interface KeyTotals {
  b: number;
  h: number;
  s: number;
}

/** A ledger row as both schemas have it (the id is assigned by the database). */
export interface PrefillLedgerRow {
  key_id: string;
  task_id: string;
  kind: LedgerMove['kind'];
  balance_delta: number;
  held_delta: number;
  spent_delta: number;
  balance_after: number;
  note: string | null;
  created_at: number;
}

/**
 * The rows of tasks `start` … `start + n - 1` of a prefill, whatever the store: each task as Store.createTask
 * makes it (the seed bodies in turn), finished as Store.finishTask would finish it (most of them), and the
 * ledger rows of every hold / settle / release / refund in order, with running balances taken from and
 * applied to `k`. The caller writes them and then the key's new totals.
 */
export function prefillRows(keyId: string, start: number, n: number, mix: PrefillMix, k: KeyTotals, now: number): { tasks: TaskRecord[]; ledger: PrefillLedgerRow[] } {
  const tasks: TaskRecord[] = [];
  const ledger: PrefillLedgerRow[] = [];
  const apply = (taskId: string, m: LedgerMove, at: number) => {
    k.b += m.balanceDelta;
    k.h += m.heldDelta;
    k.s += m.spentDelta;
    if (k.b < 0) throw new Error('bench key ran out of balance');
    ledger.push({ key_id: keyId, task_id: taskId, kind: m.kind, balance_delta: m.balanceDelta, held_delta: m.heldDelta, spent_delta: m.spentDelta, balance_after: k.b, note: m.note, created_at: at });
  };
  for (let i = 0; i < n; i++) {
    const t = templates[(start + i) % templates.length];
    const task = taskFrom(t, keyId, now, now);
    const id = task.id;
    apply(id, holdMove(task.priceMicros), now);
    const r = ((start + i) * 0.6180339887) % 1; // spread evenly, deterministic
    let outcome: TaskOutcome | null = null;
    if (r < mix.completed) {
      const videos = Array.from({ length: t.plan.count }, (_, v) => ({
        key: `results/${id}/${v}.mp4`,
        bytes: 4_000_000 + v,
        contentType: 'video/mp4',
        width: t.plan.width,
        height: t.plan.height,
        seconds: t.plan.seconds,
      }));
      outcome = { status: 'completed', result: { videos, expiresAt: Math.floor(now / 1000) + 7 * 86_400 }, costMicros: t.priceMicros, billedSeconds: t.billedSeconds };
    } else if (r < mix.completed + mix.failed) {
      outcome = { status: 'failed', error: { code: 'upstream_error', message: 'the input was flagged by content moderation (upstream)' } };
    }
    if (outcome) {
      const done = now + 1000;
      const moves = finishMoves(task, outcome);
      for (const m of moves) apply(id, m, done);
      Object.assign(task, {
        status: outcome.status,
        phase: 'done',
        progress: 100,
        completedAt: done,
        updatedAt: done,
        costMicros: moves.find((m) => m.kind === 'settle')?.spentDelta ?? 0,
        billedSeconds: outcome.status === 'completed' ? outcome.billedSeconds : task.billedSeconds,
        result: outcome.status === 'completed' ? outcome.result : null,
        error: outcome.status === 'completed' ? null : outcome.error,
      } satisfies Partial<TaskRecord>);
    }
    tasks.push(task);
  }
  return { tasks, ledger };
}

/**
 * Adds `count` tasks of `keyId` (the seed bodies in turn) and finishes most of them; returns the new ids.
 *
 * Through the Store API one task at a time costs 0.1–0.5 ms here (two transactions, each a savepoint in a
 * group commit), which makes a million tasks take many minutes. So the rows are written in large
 * transactions on the store's own connection, built by the store's own row mapping (rows.ts) and money
 * rules (billing/settlement.ts): the same task row, the same hold / settle / release / refund ledger rows
 * with running balances, the same key totals, as Store.createTask + Store.finishTask would leave.
 * `checkLedger` verifies the result.
 */
export function prefillTasks(store: SqliteStore, keyId: string, count: number, mix: PrefillMix = DEFAULT_MIX): string[] {
  const db = store.db;
  const cols = TASK_COLUMN_NAMES.join(', ');
  const insertTask = db.prepare(`INSERT INTO tasks (${cols}) VALUES (${TASK_COLUMN_NAMES.map(() => '?').join(', ')})`);
  const insertLedger = db.prepare(
    'INSERT INTO ledger (key_id, task_id, kind, balance_delta, held_delta, spent_delta, balance_after, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const readKey = db.prepare('SELECT balance_micros AS b, held_micros AS h, spent_micros AS s FROM api_keys WHERE id = ?');
  const writeKey = db.prepare('UPDATE api_keys SET balance_micros = ?, held_micros = ?, spent_micros = ? WHERE id = ?');
  const ids: string[] = [];
  const CHUNK = 10_000;
  const chunk = db.transaction((start: number, n: number) => {
    const k = readKey.get(keyId) as KeyTotals;
    const rows = prefillRows(keyId, start, n, mix, k, Date.now());
    for (const l of rows.ledger) insertLedger.run(keyId, l.task_id, l.kind, l.balance_delta, l.held_delta, l.spent_delta, l.balance_after, l.note, l.created_at);
    for (const task of rows.tasks) {
      ids.push(task.id);
      insertTask.run(taskValues(task));
    }
    writeKey.run(k.b, k.h, k.s, keyId);
  });
  // A large fill goes faster into bare tables: the secondary indexes are dropped and built again after
  // (the same definitions, read back from the schema), as a bulk load would.
  const bulk = count >= 50_000;
  const indexes = bulk
    ? (db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('tasks', 'ledger')").all() as { name: string; sql: string }[])
    : [];
  const cache = db.pragma('cache_size', { simple: true });
  db.pragma('cache_size = -524288');
  try {
    for (const ix of indexes) db.exec(`DROP INDEX ${ix.name}`);
    for (let start = 0; start < count; start += CHUNK) chunk.immediate(start, Math.min(CHUNK, count - start));
  } finally {
    for (const ix of indexes) db.exec(ix.sql);
    db.pragma(`cache_size = ${cache}`);
  }
  return ids;
}

/**
 * A store in `dir` with an unlimited key and `count` tasks, checkpointed so reads find the rows in the
 * database file rather than in a long WAL (as the measured stages do), and their ids written to `idsFile`
 * as a JSON array for the load's `{id}`. The store is closed again; a gateway opens the file itself.
 */
export async function prefillForLoad(dir: string, idsFile: string, count: number, mix?: PrefillMix): Promise<{ id: string; key: string }> {
  const store = openStore(dir);
  const key = await createKey(store);
  const ids = prefillTasks(store, key.id, count, mix);
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  await store.close();
  fs.writeFileSync(idsFile, JSON.stringify(ids));
  return key;
}

/** The key's totals equal the sums of its ledger rows (the invariant Store methods keep). */
export function checkLedger(store: SqliteStore, keyId: string): void {
  const sums = store.db
    .prepare('SELECT sum(balance_delta) AS b, sum(held_delta) AS h, sum(spent_delta) AS s FROM ledger WHERE key_id = ?')
    .get(keyId) as { b: number; h: number; s: number };
  const key = store.db.prepare('SELECT balance_micros AS b, held_micros AS h, spent_micros AS s FROM api_keys WHERE id = ?').get(keyId) as typeof sums;
  if (sums.b !== key.b || sums.h !== key.h || sums.s !== key.s) {
    throw new Error(`ledger of ${keyId} does not add up: ${JSON.stringify({ sums, key })}`);
  }
}

/**
 * Removes the tasks created at or after `since` — what a submit benchmark added — with their ledger rows,
 * and takes their moves back off their keys' totals, so a cost-curve stage measures the number of tasks it
 * names (a fast host's submit runs add a quarter of a million). Every key's ledger still adds up to its
 * totals (checkLedger). Returns how many tasks were removed.
 */
/** Tasks with an Idempotency-Key and idempotency records written since `since` (ms), read in one snapshot. */
export function keyedWritten(store: SqliteStore, since: number): { tasks: number; records: number } {
  const r = store.db
    .prepare('SELECT (SELECT count(*) FROM tasks WHERE created_at >= ? AND idempotency_key IS NOT NULL) AS tasks, (SELECT count(*) FROM idempotency WHERE created_at >= ?) AS records')
    .get(since, since) as { tasks: number; records: number };
  return { tasks: r.tasks, records: r.records };
}

export function removeSubmitted(store: SqliteStore, since: number): number {
  const db = store.db;
  return db.transaction(() => {
    const moved = db
      .prepare('SELECT key_id AS k, sum(balance_delta) AS b, sum(held_delta) AS h, sum(spent_delta) AS s FROM ledger WHERE task_id IN (SELECT id FROM tasks WHERE created_at >= ?) GROUP BY key_id')
      .all(since) as { k: string; b: number; h: number; s: number }[];
    const undo = db.prepare('UPDATE api_keys SET balance_micros = balance_micros - ?, held_micros = held_micros - ?, spent_micros = spent_micros - ? WHERE id = ?');
    for (const m of moved) undo.run(m.b, m.h, m.s, m.k);
    db.prepare('DELETE FROM ledger WHERE task_id IN (SELECT id FROM tasks WHERE created_at >= ?)').run(since);
    db.prepare('DELETE FROM idempotency WHERE created_at >= ?').run(since);
    return db.prepare('DELETE FROM tasks WHERE created_at >= ?').run(since).changes;
  })();
}

/**
 * Tasks already upstream, as the engine leaves them after a start (phase submitted, the upstream's
 * operation recorded, the price held, the next check scheduled) — for jobs that already exist at the fake
 * upstream. Next checks are spread over one poll interval, as a steady stream of submissions would leave
 * them. Written in short transactions: a running gateway shares the file.
 */
export function prefillInFlight(
  store: SqliteStore,
  keyId: string,
  jobs: [string, number][],
  o: { channel: string; provider: string; pollIntervalMs: number; bodies: Record<string, unknown>[] },
): string[] {
  const db = store.db;
  const insertTask = db.prepare(`INSERT INTO tasks (${TASK_COLUMN_NAMES.join(', ')}) VALUES (${TASK_COLUMN_NAMES.map(() => '?').join(', ')})`);
  const insertLedger = db.prepare(
    'INSERT INTO ledger (key_id, task_id, kind, balance_delta, held_delta, spent_delta, balance_after, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const hold = db.prepare('UPDATE api_keys SET balance_micros = balance_micros - ?, held_micros = held_micros + ? WHERE id = ? RETURNING balance_micros AS b');
  const made = o.bodies.map(template);
  const ids: string[] = [];
  const chunk = db.transaction((part: [string, number][], offset: number) => {
    const now = Date.now();
    part.forEach(([jobId, startedAt], i) => {
      const t = made[(offset + i) % made.length];
      const task = taskFrom(t, keyId, startedAt, now + Math.floor((((offset + i) * 0.7548776662) % 1) * o.pollIntervalMs));
      const id = task.id;
      ids.push(id);
      Object.assign(task, {
        status: 'processing',
        phase: 'submitted',
        progress: 1,
        updatedAt: now,
        facts: {},
        upstream: { channel: o.channel, provider: o.provider, operation: { id: jobId, model: t.spec.id }, startedAt },
      } satisfies Partial<TaskRecord>);
      const m = holdMove(task.priceMicros);
      const after = (hold.get(task.priceMicros, task.priceMicros, keyId) as { b: number }).b;
      insertLedger.run(keyId, id, m.kind, m.balanceDelta, m.heldDelta, m.spentDelta, after, m.note, startedAt);
      insertTask.run(taskValues(task));
    });
  });
  for (let i = 0; i < jobs.length; i += 1000) chunk.immediate(jobs.slice(i, i + 1000), i);
  return ids;
}
