/**
 * The task SQL of the PostgreSQL store, as plain functions over a `Db`. Leases work as in SQLite: while a
 * task is leased its next_check_at is the lease end, so "due" (next_check_at <= now) also means "unleased or
 * lease lapsed", and the partial index tasks_due serves the claim. Claims lock the rows they pick with
 * FOR UPDATE SKIP LOCKED, so workers in different processes never pick the same task and never wait on
 * each other.
 */
import { createHash } from 'node:crypto';
import { TASK_COLUMN_NAMES, TASK_VIEW_COLUMNS, taskColumns, taskValues, type FinishFields } from '../rows.ts';
import type { TaskPatch, TaskQuery } from '../types.ts';
import type { TaskRecord, TaskStatus } from '../../tasks/task.ts';
import { BATCH_MOVES, batchMovesJson, ms, msOrNull, type Move } from './queries.ts';
import type { Db, Row } from './transaction.ts';

const JSON_COLUMNS = new Set<string>(['params', 'inputs', 'plan', 'upstream', 'failed_channels', 'facts', 'error', 'result']);
/** Integer columns that are not money; see `ms()` for why they are rounded. */
const ROUNDED_COLUMNS = new Set<string>(['created_at', 'updated_at', 'completed_at', 'deadline_at', 'next_check_at', 'lease_until', 'result_expires_at', 'estimated_seconds']);

const INSERT_TASK = `INSERT INTO tasks (${TASK_COLUMN_NAMES.join(', ')})
  VALUES (${TASK_COLUMN_NAMES.map((c, i) => `$${i + 1}${JSON_COLUMNS.has(c) ? '::jsonb' : ''}`).join(', ')})`;

const first = (r: { rows: Row[] }): Row | undefined => r.rows[0];
const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

export async function insertTask(db: Db, t: TaskRecord): Promise<void> {
  const c = taskColumns(t);
  await db.query(
    INSERT_TASK,
    TASK_COLUMN_NAMES.map((n) => (ROUNDED_COLUMNS.has(n) ? msOrNull(c[n] as number | null) : c[n])),
  );
}

/**
 * A new task with its hold, in one statement: the guarded update of the key's figures (as moveMoney), the
 * hold's ledger row, and the task row — each written only if the one before it was. One round trip and no
 * explicit transaction, so the key's row lock is held only while this statement commits, not across five
 * round trips. False (nothing written) when the balance is short or there is no such key.
 */
const INSERT_HELD_TASK = `WITH moved AS (
    UPDATE api_keys SET balance_micros = balance_micros + $1, held_micros = held_micros + $2, spent_micros = spent_micros + $3
    WHERE id = $4 AND balance_micros + $1 >= 0 RETURNING balance_micros),
  held AS (
    INSERT INTO ledger (key_id, task_id, kind, balance_delta, held_delta, spent_delta, balance_after, note, created_at)
    SELECT $4, $5::text, $6::text, $1, $2, $3, balance_micros, $7::text, $8::bigint FROM moved RETURNING 1)
  INSERT INTO tasks (${TASK_COLUMN_NAMES.join(', ')})
  SELECT ${TASK_COLUMN_NAMES.map((c, i) => `$${i + 9}${JSON_COLUMNS.has(c) ? '::jsonb' : ''}`).join(', ')} FROM held`;

export async function insertHeldTask(db: Db, t: TaskRecord, hold: Move, at: number): Promise<boolean> {
  const c = taskColumns(t);
  const values = [
    hold.balanceDelta,
    hold.heldDelta,
    hold.spentDelta,
    t.keyId,
    t.id,
    hold.kind,
    hold.note,
    ms(at),
    ...TASK_COLUMN_NAMES.map((n) => (ROUNDED_COLUMNS.has(n) ? msOrNull(c[n] as number | null) : c[n])),
  ];
  // Prepared: planning this 38-parameter statement cost more than running it.
  const r = await db.query(INSERT_HELD_TASK, values, 'reelay_insert_held_task');
  return r.rowCount === 1;
}

/**
 * New tasks with their holds, of any keys, in one statement (heldTaskBatches.ts). For each key in the batch:
 * its figures moved once by its tasks' total, guarded as one move is (the deltas only take from the balance,
 * so every running balance is at least the last); a ledger row per task, in the batch's order, each with the
 * balance after it; then the task rows. A key whose balance does not cover its total gets none of its rows.
 *
 * The money part is BATCH_MOVES (queries.ts), which locks the keys in id order, so batches over the same keys
 * queue rather than deadlock; every other writer locks keys after any task row. The rows go as two JSON
 * arrays: the tasks read through the tasks table's own row type, so only the moves need their types spelled
 * out. Returns the ids of the tasks written, and the balance (as locked, before
 * this statement) of each key that got none.
 */
const INSERT_HELD_TASKS = `WITH ${BATCH_MOVES},
  inserted AS (
    INSERT INTO tasks (${TASK_COLUMN_NAMES.join(', ')})
    SELECT ${TASK_COLUMN_NAMES.join(', ')} FROM jsonb_populate_recordset(NULL::tasks, $2::jsonb) WHERE key_id IN (SELECT id FROM moved)
    RETURNING id)
  SELECT id AS task_id, NULL AS key_id, NULL::bigint AS balance FROM inserted
  UNION ALL
  SELECT NULL, l.id, l.balance_micros FROM locked l WHERE NOT EXISTS (SELECT 1 FROM moved WHERE moved.id = l.id)`;

/** A task row as a JSON object: JSON columns embedded as they are, not as strings; times rounded as `ms()`. */
function taskJson(t: TaskRecord): string {
  const values = taskValues(t);
  let out = '{';
  for (let i = 0; i < TASK_COLUMN_NAMES.length; i++) {
    const name = TASK_COLUMN_NAMES[i];
    const v = values[i];
    const text = v === null || v === undefined ? 'null' : JSON_COLUMNS.has(name) ? (v as string) : JSON.stringify(ROUNDED_COLUMNS.has(name) ? ms(v as number) : v);
    out += `${i ? ',' : ''}"${name}":${text}`;
  }
  return `${out}}`;
}

/** What a batch wrote: its tasks' ids, and the balance of each existing key whose total it did not cover. */
export interface HeldTasksWritten {
  written: Set<string>;
  shortKeys: Map<string, number>;
}

/** The tasks, each with its hold (see INSERT_HELD_TASKS). */
export async function insertHeldTasks(db: Db, batch: readonly { task: TaskRecord; hold: Move }[]): Promise<HeldTasksWritten> {
  const moves = batchMovesJson(batch.map(({ task, hold }) => ({ keyId: task.keyId, taskId: task.id, move: hold, at: task.createdAt })));
  const rows = `[${batch.map(({ task }) => taskJson(task)).join(',')}]`;
  const r = await db.query(INSERT_HELD_TASKS, [moves, rows], 'reelay_insert_held_tasks');
  const out: HeldTasksWritten = { written: new Set(), shortKeys: new Map() };
  for (const row of r.rows) {
    if (row.task_id !== null) out.written.add(String(row.task_id));
    else out.shortKeys.set(String(row.key_id), Number(row.balance));
  }
  return out;
}

/** `lock` takes the row lock finishTask serialises on, so two finishes of one task run one after the other. */
export async function taskById(db: Db, id: string, lock = false): Promise<Row | undefined> {
  return first(await db.query(`SELECT * FROM tasks WHERE id = $1${lock ? ' FOR NO KEY UPDATE' : ''}`, [id]));
}

const VIEW_COLUMNS = TASK_VIEW_COLUMNS.split(', ');

/** Every column by name, for statements that are prepared (a prepared `RETURNING *` breaks on a new column). */
const TASK_RETURNING = TASK_COLUMN_NAMES.join(', ');

/** Names of statements whose text is built from parts: the same text, the same name (a few shapes, kept). */
const preparedNames = new Map<string, string>();
function preparedName(prefix: string, text: string): string {
  let name = preparedNames.get(text);
  if (!name) preparedNames.set(text, (name = `${prefix}_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`));
  return name;
}

/** A task's view columns, in TASK_VIEW_COLUMNS order (rows.ts's toTaskView reads them so). */
export async function taskViewById(db: Db, id: string): Promise<unknown[] | undefined> {
  const row = first(await db.query(`SELECT ${TASK_VIEW_COLUMNS} FROM tasks WHERE id = $1`, [id], 'reelay_task_view'));
  return row ? VIEW_COLUMNS.map((c) => row[c]) : undefined;
}

/**
 * The view columns of several tasks in one statement (taskViewBatches.ts), keyed by id; ids not found are
 * absent. Prepared like the single read: the array is its one parameter, whatever its length.
 */
export async function taskViewsByIds(db: Db, ids: readonly string[]): Promise<Map<string, unknown[]>> {
  const r = await db.query(`SELECT ${TASK_VIEW_COLUMNS} FROM tasks WHERE id = ANY($1::text[])`, [ids], 'reelay_task_views');
  return new Map(r.rows.map((row) => [String(row.id), VIEW_COLUMNS.map((c) => row[c])]));
}

export async function countActiveOfKey(db: Db, keyId: string): Promise<number> {
  return Number(first(await db.query("SELECT count(*) AS n FROM tasks WHERE key_id = $1 AND phase <> 'done'", [keyId]))?.n);
}

/** Unfinished tasks of each key (keys with none are absent). */
export async function countActiveOfKeys(db: Db, keyIds: readonly string[]): Promise<Map<string, number>> {
  const r = await db.query(
    "SELECT key_id, count(*) AS n FROM tasks WHERE key_id = ANY($1::text[]) AND phase <> 'done' GROUP BY key_id",
    [keyIds],
    'reelay_count_active_of_keys',
  );
  return new Map(r.rows.map((row) => [String(row.key_id), Number(row.n)]));
}

/** Whole task rows by id (not prepared: `SELECT *`, see Db.query); ids not found are absent. */
export async function tasksByIds(db: Db, ids: readonly string[]): Promise<Map<string, Row>> {
  const r = await db.query('SELECT * FROM tasks WHERE id = ANY($1::text[])', [ids]);
  return new Map(r.rows.map((row) => [String(row.id), row]));
}

export async function listTasks(db: Db, keyId: string, q: TaskQuery): Promise<Row[]> {
  const values: unknown[] = [keyId, q.limit + 1];
  const where = ['key_id = $1'];
  if (q.status) where.push(`status = $${values.push(q.status)}`);
  if (q.model) where.push(`model = $${values.push(q.model)}`);
  if (q.cursor) where.push(`id < $${values.push(q.cursor)}`);
  return (await db.query(`SELECT * FROM tasks WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $2`, values)).rows;
}

export async function claimDue(db: Db, owner: string, now: number, until: number, limit: number): Promise<Row[]> {
  const r = await db.query(
    `UPDATE tasks SET lease_owner = $1, lease_until = $3, next_check_at = $3
     WHERE id IN (SELECT id FROM tasks WHERE phase <> 'done' AND next_check_at <= $2
                  AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_check_at LIMIT $4 FOR UPDATE SKIP LOCKED)
     RETURNING ${TASK_RETURNING}`,
    [owner, ms(now), ms(until), limit],
    'reelay_claim_due',
  );
  // RETURNING order is unspecified; SQLite's comes out in insertion order, which time-ordered ids follow.
  return r.rows.sort((a, b) => (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0));
}

/** One task, due or not, if unfinished and not leased (an UPDATE waits for a row lock and re-checks). */
export async function claimOne(db: Db, id: string, owner: string, now: number, until: number): Promise<Row | undefined> {
  return first(
    await db.query(
      `UPDATE tasks SET lease_owner = $2, lease_until = $4, next_check_at = $4
       WHERE id = $1 AND phase <> 'done' AND (lease_until IS NULL OR lease_until <= $3) RETURNING ${TASK_RETURNING}`,
      [id, owner, ms(now), ms(until)],
      'reelay_claim_one',
    ),
  );
}

/** Gives the SQL of one value of a patch: a parameter, or a column of a batch's rows. */
type ValueRef = (field: string, type: 'text' | 'integer' | 'bigint' | 'jsonb', value: unknown) => string;

/**
 * The SET clauses of a patch (the SQLite store's patchSql), for `UPDATE tasks t`: the same text for every
 * patch that sets the same fields, whatever their values.
 */
function patchSets(p: TaskPatch, ref: ValueRef): string[] {
  const sets: string[] = [];
  // pending → processing only; a processing task never goes back to pending.
  if (p.status !== undefined) sets.push(`status = CASE WHEN t.status = 'processing' THEN t.status ELSE ${ref('status', 'text', p.status)} END`);
  if (p.phase !== undefined) sets.push(`phase = ${ref('phase', 'text', p.phase)}`);
  if (p.progress !== undefined) sets.push(`progress = GREATEST(t.progress, ${ref('progress', 'integer', Math.min(99, Math.max(0, Math.floor(p.progress))))})`);
  if (p.estimatedSeconds !== undefined) sets.push(`estimated_seconds = ${ref('estimated_seconds', 'integer', Math.round(p.estimatedSeconds))}`);
  if (p.upstream !== undefined) sets.push(`upstream = ${ref('upstream', 'jsonb', p.upstream)}`);
  if (p.failedChannels !== undefined) sets.push(`failed_channels = ${ref('failed_channels', 'jsonb', p.failedChannels)}`);
  if (p.attempts !== undefined) sets.push(`attempts = ${ref('attempts', 'integer', p.attempts)}`);
  if (p.facts !== undefined) sets.push(`facts = ${ref('facts', 'jsonb', p.facts)}`);
  if (p.params !== undefined) sets.push(`params = ${ref('params', 'jsonb', p.params)}`);
  if (p.plan !== undefined) sets.push(`plan = ${ref('plan', 'jsonb', p.plan)}`);
  if (p.error !== undefined) sets.push(`error = ${ref('error', 'jsonb', p.error)}`);
  if (p.release) {
    sets.push(`lease_owner = NULL, lease_until = NULL, next_check_at = ${ref('next_check_at', 'bigint', ms(p.nextCheckAt ?? Date.now()))}`);
  } else if (p.nextCheckAt !== undefined) {
    // While leased, next_check_at mirrors the lease end so the claim query skips leased rows.
    const next = ref('next_check_at', 'bigint', ms(p.nextCheckAt));
    sets.push(`lease_until = ${next}, next_check_at = ${next}`);
  }
  return sets;
}

/** Applies a patch if `owner` holds the lease and the task is unfinished. */
export async function patchTask(db: Db, id: string, owner: string, p: TaskPatch, now: number): Promise<Row | undefined> {
  const values: unknown[] = [id, owner, ms(now)];
  const sets = patchSets(p, (_, type, v) => (type === 'jsonb' ? `$${values.push(json(v))}::jsonb` : `$${values.push(v)}`));
  sets.push('updated_at = $3');
  // Prepared under a name per shape of patch: a worker sends a handful of shapes, each many times.
  const text = `UPDATE tasks t SET ${sets.join(', ')} WHERE t.id = $1 AND t.lease_owner = $2 AND t.phase <> 'done' RETURNING ${TASK_RETURNING}`;
  return first(await db.query(text, values, preparedName('reelay_patch', text)));
}

/** A patch ready to go into a batch: its shape (patches of one shape share a statement) and its row. */
export interface BatchPatch {
  shape: string;
  columns: string;
  row: Record<string, unknown>;
}

export function batchPatch(id: string, owner: string, p: TaskPatch, now: number): BatchPatch {
  const row: Record<string, unknown> = { id, owner, now: ms(now) };
  const columns = ['id text', 'owner text', 'now bigint'];
  const sets = patchSets(p, (field, type, v) => {
    if (!(field in row)) columns.push(`${field} ${type}`);
    row[field] = v;
    return `x.${field}`;
  });
  sets.push('updated_at = x.now');
  return { shape: sets.join(', '), columns: columns.join(', '), row };
}

/**
 * Patches of one shape, for distinct tasks, in one statement (patchBatches.ts): each row's patch applied as
 * `patchTask` would apply it, under the same conditions. Returns the updated rows by id.
 */
export async function patchTasks(db: Db, batch: readonly BatchPatch[]): Promise<Map<string, Row>> {
  const { shape, columns } = batch[0];
  // The rows are locked in id order first (`locked`; the UPDATE only changes rows it has handed on, which this
  // statement then already holds), as finish batches lock theirs: two statements or transactions holding the
  // same tasks then queue instead of deadlocking.
  const text = `WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(${columns})),
    locked AS (SELECT id FROM tasks WHERE id IN (SELECT id FROM x) ORDER BY id FOR NO KEY UPDATE)
    UPDATE tasks t SET ${shape} FROM x JOIN locked l ON l.id = x.id
    WHERE t.id = x.id AND t.lease_owner = x.owner AND t.phase <> 'done' RETURNING ${TASK_COLUMN_NAMES.map((c) => `t.${c}`).join(', ')}`;
  const r = await db.query(text, [JSON.stringify(batch.map((b) => b.row))], preparedName('reelay_patches', text));
  return new Map(r.rows.map((row) => [String(row.id), row]));
}

/** A finish's row: which task, when, and what it writes (rows.ts finishFields). */
export type FinishColumns = { id: string; now: number } & FinishFields;

export async function finishRow(db: Db, f: FinishColumns): Promise<Row | undefined> {
  return first(
    await db.query(
      `UPDATE tasks SET status = $2, phase = 'done', progress = 100, completed_at = $3, updated_at = $3,
         cost_micros = $4, billed_seconds = $5, result = $6::jsonb, result_expires_at = $7, error = $8::jsonb,
         lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND phase <> 'done' RETURNING *`,
      [f.id, f.status, ms(f.now), f.cost, f.billed, json(f.result), msOrNull(f.expires), json(f.error)],
    ),
  );
}

/** Locks tasks, finished or not, in id order (the row lock a finish serialises on) and reads them whole. */
export async function lockTasks(db: Db, ids: readonly string[]): Promise<Row[]> {
  return (await db.query('SELECT * FROM tasks WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE', [ids])).rows;
}

/** finishRow for several tasks in one statement. Returns the finished rows (a task already done is absent). */
export async function finishRows(db: Db, rows: readonly FinishColumns[]): Promise<Row[]> {
  // Read through the tasks table's own row type, so no column's type is spelled out twice.
  const values = rows.map((f) => ({
    id: f.id,
    status: f.status,
    completed_at: ms(f.now),
    cost_micros: f.cost,
    billed_seconds: f.billed,
    result: f.result,
    result_expires_at: msOrNull(f.expires),
    error: f.error,
  }));
  const r = await db.query(
    `UPDATE tasks t SET status = f.status, phase = 'done', progress = 100, completed_at = f.completed_at, updated_at = f.completed_at,
       cost_micros = f.cost_micros, billed_seconds = f.billed_seconds, result = f.result, result_expires_at = f.result_expires_at,
       error = f.error, lease_owner = NULL, lease_until = NULL
     FROM jsonb_populate_recordset(NULL::tasks, $1::jsonb) f
     WHERE t.id = f.id AND t.phase <> 'done' RETURNING t.*`,
    [JSON.stringify(values)],
  );
  return r.rows;
}

export async function leaseOwners(db: Db): Promise<string[]> {
  const r = await db.query("SELECT DISTINCT lease_owner AS o FROM tasks WHERE lease_owner IS NOT NULL AND phase <> 'done'");
  return r.rows.map((x) => String(x.o));
}

export async function releaseLeases(db: Db, owner: string, now: number): Promise<number> {
  const r = await db.query(
    "UPDATE tasks SET lease_owner = NULL, lease_until = NULL, next_check_at = $2 WHERE lease_owner = $1 AND phase <> 'done'",
    [owner, ms(now)],
  );
  return r.rowCount ?? 0;
}

export async function nextDue(db: Db): Promise<number | undefined> {
  const t = first(await db.query("SELECT min(next_check_at) AS t FROM tasks WHERE phase <> 'done'"))?.t;
  return t === null || t === undefined ? undefined : Number(t);
}

export async function countUnfinished(db: Db, model?: string): Promise<number> {
  const r = model
    ? await db.query("SELECT count(*) AS n FROM tasks WHERE phase <> 'done' AND model = $1", [model])
    : await db.query("SELECT count(*) AS n FROM tasks WHERE phase <> 'done'");
  return Number(first(r)?.n);
}

export async function overdue(db: Db, now: number, limit: number): Promise<Row[]> {
  return (await db.query("SELECT * FROM tasks WHERE phase <> 'done' AND deadline_at < $1 ORDER BY deadline_at LIMIT $2", [ms(now), limit])).rows;
}

/** result_expires_at is in Unix seconds (TaskResult.expiresAt). */
export async function expiredResults(db: Db, nowSeconds: number, limit: number): Promise<Row[]> {
  return (
    await db.query('SELECT * FROM tasks WHERE result IS NOT NULL AND result_expires_at < $1 ORDER BY result_expires_at LIMIT $2', [
      ms(nowSeconds),
      limit,
    ])
  ).rows;
}

export async function clearResult(db: Db, id: string): Promise<void> {
  await db.query('UPDATE tasks SET result = NULL WHERE id = $1', [id]);
}
