/**
 * The SQL of the PostgreSQL store for keys, money, idempotency records, webhook deliveries and usage, as
 * plain functions over a `Db` (the pool, or a client inside a transaction). Statements are parameterised;
 * only column lists chosen in code are spliced in. Task SQL is in taskQueries.ts.
 */
import type { KeyPatch, LedgerKind, NewKey, WebhookAttempt } from '../types.ts';
import type { Db, Row } from './transaction.ts';

/**
 * Whole milliseconds for BIGINT/INTEGER time columns. SQLite keeps a fractional value (a jittered delay, a
 * Retry-After of 0.25 s) as REAL; PostgreSQL would refuse it, so it is rounded — a sub-millisecond
 * difference nobody can observe. Money is never rounded here: a fractional amount is a bug and is refused.
 */
export const ms = (v: number): number => Math.round(v);
export const msOrNull = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : Math.round(v));
const jsonOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

const first = (r: { rows: Row[] }): Row | undefined => r.rows[0];

// --- keys -------------------------------------------------------------------------------------------

export async function insertKey(db: Db, k: NewKey): Promise<void> {
  await db.query(
    `INSERT INTO api_keys (id, name, prefix, hash, rate_limit_rpm, max_concurrent_tasks, models, webhook_secret, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)`,
    [k.id, k.name, k.prefix, k.hash, k.rateLimitRpm, k.maxConcurrentTasks, jsonOrNull(k.models), k.webhookSecret, ms(k.createdAt)],
  );
}

/** `lock` takes the row lock money changes queue on (NO KEY UPDATE: what an UPDATE of the balance takes). */
export async function keyById(db: Db, id: string, lock = false): Promise<Row | undefined> {
  return first(await db.query(`SELECT * FROM api_keys WHERE id = $1${lock ? ' FOR NO KEY UPDATE' : ''}`, [id]));
}

export async function keyByHash(db: Db, hash: string): Promise<Row | undefined> {
  return first(await db.query('SELECT * FROM api_keys WHERE hash = $1', [hash]));
}

export async function listKeys(db: Db): Promise<Row[]> {
  return (await db.query('SELECT * FROM api_keys ORDER BY created_at, id')).rows;
}

export async function updateKey(db: Db, id: string, patch: KeyPatch): Promise<Row | undefined> {
  const sets: string[] = [];
  const values: unknown[] = [id];
  const set = (column: string, value: unknown, cast = '') => sets.push(`${column} = $${values.push(value)}${cast}`);
  if (patch.name !== undefined) set('name', patch.name);
  if (patch.rateLimitRpm !== undefined) set('rate_limit_rpm', patch.rateLimitRpm);
  if (patch.maxConcurrentTasks !== undefined) set('max_concurrent_tasks', patch.maxConcurrentTasks);
  if (patch.models !== undefined) set('models', jsonOrNull(patch.models), '::jsonb');
  if (sets.length === 0) return keyById(db, id);
  return first(await db.query(`UPDATE api_keys SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, values));
}

export async function revokeKey(db: Db, id: string, at: number): Promise<Row | undefined> {
  return first(await db.query('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING *', [id, ms(at)]));
}

// --- money ------------------------------------------------------------------------------------------

export interface Move {
  kind: LedgerKind;
  balanceDelta: number;
  heldDelta: number;
  spentDelta: number;
  note: string | null;
}

/**
 * The money part of a batch, as the CTEs of one statement (INSERT_HELD_TASKS for holds, applyMoves for
 * finishes). `moves` is $1, a JSON array of moves in the batch's order; each key's figures are moved once by
 * its moves' `totals`, under the guard a single move has (so a key whose balance does not cover its total
 * gets none of them); `held` writes a ledger row per move, each with the balance after it (a window sum in
 * the batch's order). The keys are `locked` in id order before any is changed: rows are locked as they
 * leave the sort, and `moved` can only change a row `locked` has handed it, so two batches over the same
 * keys queue rather than deadlock.
 */
export const BATCH_MOVES = `moves AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb)
      AS m(ord integer, key_id text, task_id text, kind text, balance_delta bigint, held_delta bigint, spent_delta bigint, note text, created_at bigint)),
  totals AS (
    SELECT key_id, sum(balance_delta)::bigint AS b, sum(held_delta)::bigint AS h, sum(spent_delta)::bigint AS s FROM moves GROUP BY key_id),
  locked AS (
    SELECT id, balance_micros FROM api_keys WHERE id IN (SELECT key_id FROM totals) ORDER BY id FOR NO KEY UPDATE),
  moved AS (
    UPDATE api_keys k SET balance_micros = k.balance_micros + x.b, held_micros = k.held_micros + x.h, spent_micros = k.spent_micros + x.s
    FROM (SELECT t.* FROM locked l JOIN totals t ON t.key_id = l.id) x
    WHERE k.id = x.key_id AND k.balance_micros + x.b >= 0
    RETURNING k.id, k.balance_micros - x.b AS before),
  held AS (
    INSERT INTO ledger (key_id, task_id, kind, balance_delta, held_delta, spent_delta, balance_after, note, created_at)
    SELECT m.key_id, m.task_id, m.kind, m.balance_delta, m.held_delta, m.spent_delta,
           moved.before + sum(m.balance_delta) OVER (PARTITION BY m.key_id ORDER BY m.ord), m.note, m.created_at
    FROM moves m JOIN moved ON moved.id = m.key_id ORDER BY m.ord
    RETURNING 1)`;

/** A move of a batch: whose key, for which task, at what time. */
export interface BatchMove {
  keyId: string;
  taskId: string;
  move: Move;
  at: number;
}

/** `BATCH_MOVES`'s $1. */
export function batchMovesJson(moves: readonly BatchMove[]): string {
  return JSON.stringify(
    moves.map(({ keyId, taskId, move: m, at }, ord) => ({
      ord,
      key_id: keyId,
      task_id: taskId,
      kind: m.kind,
      balance_delta: m.balanceDelta,
      held_delta: m.heldDelta,
      spent_delta: m.spentDelta,
      note: m.note,
      created_at: ms(at),
    })),
  );
}

/** Moves of several keys in one statement (see BATCH_MOVES); how many ledger rows it wrote. */
export async function applyMoves(db: Db, moves: readonly BatchMove[]): Promise<number> {
  const r = await db.query(`WITH ${BATCH_MOVES} SELECT count(*) AS n FROM held`, [batchMovesJson(moves)], 'reelay_apply_moves');
  return Number(r.rows[0].n);
}

export interface NewWebhook {
  taskId: string;
  keyId: string;
  url: string;
  event: string;
  now: number;
}

/** One webhook delivery per finished task with a callback URL (as insertWebhook, for several tasks). */
export async function insertWebhooks(db: Db, rows: readonly NewWebhook[]): Promise<void> {
  await db.query(
    `INSERT INTO webhook_deliveries (task_id, key_id, url, event, next_attempt_at, created_at)
     SELECT task_id, key_id, url, event, now, now FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS w(task_id, key_id, url, event, now)
     ON CONFLICT (task_id, event) DO NOTHING`,
    [rows.map((r) => r.taskId), rows.map((r) => r.keyId), rows.map((r) => r.url), rows.map((r) => r.event), rows.map((r) => ms(r.now))],
    'reelay_insert_webhooks',
  );
}

/**
 * One money movement in one statement: the guarded update of the key's figures and its ledger row (written
 * only if the update happened). Undefined when the balance would go below zero, or there is no such key.
 */
export async function moveMoney(db: Db, keyId: string, taskId: string | null, m: Move, at: number): Promise<number | undefined> {
  const r = first(
    await db.query(
      `WITH moved AS (
         UPDATE api_keys SET balance_micros = balance_micros + $2, held_micros = held_micros + $3, spent_micros = spent_micros + $4
         WHERE id = $1 AND balance_micros + $2 >= 0 RETURNING balance_micros)
       INSERT INTO ledger (key_id, task_id, kind, balance_delta, held_delta, spent_delta, balance_after, note, created_at)
       SELECT $1, $5::text, $6::text, $2, $3, $4, balance_micros, $7::text, $8::bigint FROM moved
       RETURNING balance_after`,
      [keyId, m.balanceDelta, m.heldDelta, m.spentDelta, taskId, m.kind, m.note, ms(at)],
    ),
  );
  return r ? Number(r.balance_after) : undefined;
}

/** Newest first below `cursor` (a ledger id); by task if given, else by key, else all. */
export async function listLedger(db: Db, q: { keyId: string | null; taskId?: string; cursor: number; limit: number }): Promise<Row[]> {
  const [column, value] = q.taskId ? ['task_id', q.taskId] : q.keyId ? ['key_id', q.keyId] : [null, null];
  const where = column ? `${column} = $3 AND ` : '';
  const values = column ? [q.cursor, q.limit, value] : [q.cursor, q.limit];
  return (await db.query(`SELECT * FROM ledger WHERE ${where}id < $1 ORDER BY id DESC LIMIT $2`, values)).rows;
}

// --- idempotency ------------------------------------------------------------------------------------

export const IDEMPOTENCY_CONSTRAINT = 'idempotency_pkey';

export async function idempotencyGet(db: Db, keyId: string, idemKey: string): Promise<Row | undefined> {
  return first(await db.query('SELECT * FROM idempotency WHERE key_id = $1 AND idem_key = $2', [keyId, idemKey]));
}

export async function idempotencyDelete(db: Db, keyId: string, idemKey: string): Promise<void> {
  await db.query('DELETE FROM idempotency WHERE key_id = $1 AND idem_key = $2', [keyId, idemKey]);
}

export async function idempotencyInsert(db: Db, keyId: string, idemKey: string, requestHash: string, taskId: string, at: number): Promise<void> {
  await db.query('INSERT INTO idempotency (key_id, idem_key, request_hash, task_id, created_at) VALUES ($1, $2, $3, $4, $5)', [
    keyId,
    idemKey,
    requestHash,
    taskId,
    ms(at),
  ]);
}

/**
 * Locks the keys' rows in id order (FOR NO KEY UPDATE, the lock every money move takes) and reads their
 * balances as locked. The order is the one INSERT_HELD_TASKS locks in, so batches over the same keys queue
 * rather than deadlock. Keys that do not exist are absent.
 */
export async function lockKeys(db: Db, ids: readonly string[]): Promise<Map<string, number>> {
  const r = await db.query('SELECT id, balance_micros FROM api_keys WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE', [ids], 'reelay_lock_keys');
  return new Map(r.rows.map((row) => [String(row.id), Number(row.balance_micros)]));
}

/** The idempotency records of (key id, Idempotency-Key) pairs, keyed by `idempotencyPair`. */
export async function idempotencyOfPairs(db: Db, pairs: readonly (readonly [string, string])[]): Promise<Map<string, Row>> {
  const r = await db.query(
    `SELECT i.key_id, i.idem_key, i.request_hash, i.task_id, i.created_at
     FROM idempotency i JOIN unnest($1::text[], $2::text[]) AS q(key_id, idem_key) ON i.key_id = q.key_id AND i.idem_key = q.idem_key`,
    [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    'reelay_idempotency_of_pairs',
  );
  return new Map(r.rows.map((row) => [idempotencyPair(String(row.key_id), String(row.idem_key)), row]));
}

/** One string per (key id, Idempotency-Key) pair, for maps and sets. */
export function idempotencyPair(keyId: string, idemKey: string): string {
  return JSON.stringify([keyId, idemKey]);
}

export interface IdempotencyRecord {
  keyId: string;
  idemKey: string;
  requestHash: string;
  taskId: string;
  at: number;
}

/** Records Idempotency-Keys, each replacing the pair's earlier record (one outside its window, or whose task is gone). */
export async function idempotencyPut(db: Db, rows: readonly IdempotencyRecord[]): Promise<void> {
  await db.query(
    `INSERT INTO idempotency (key_id, idem_key, request_hash, task_id, created_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
     ON CONFLICT (key_id, idem_key) DO UPDATE SET request_hash = EXCLUDED.request_hash, task_id = EXCLUDED.task_id, created_at = EXCLUDED.created_at`,
    [rows.map((r) => r.keyId), rows.map((r) => r.idemKey), rows.map((r) => r.requestHash), rows.map((r) => r.taskId), rows.map((r) => ms(r.at))],
    'reelay_idempotency_put',
  );
}

// --- webhooks ---------------------------------------------------------------------------------------

/** One delivery per task and event: a second finish (which cannot happen) or a replay adds nothing. */
export async function insertWebhook(db: Db, taskId: string, keyId: string, url: string, event: string, now: number): Promise<void> {
  await db.query(
    `INSERT INTO webhook_deliveries (task_id, key_id, url, event, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (task_id, event) DO NOTHING`,
    [taskId, keyId, url, event, ms(now)],
  );
}

/** Leases due deliveries by moving their next attempt to the lease end; SKIP LOCKED keeps two senders apart. */
export async function claimWebhooks(db: Db, now: number, until: number, limit: number): Promise<Row[]> {
  const r = await db.query(
    `UPDATE webhook_deliveries SET next_attempt_at = $2
     WHERE id IN (SELECT id FROM webhook_deliveries WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= $1
                  ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING *`,
    [ms(now), ms(until), limit],
  );
  // RETURNING order is unspecified; SQLite's comes out in rowid (= insertion = id) order, so sort by id.
  return r.rows.sort((a, b) => Number(a.id) - Number(b.id));
}

export async function recordAttempt(db: Db, a: WebhookAttempt, next: { deliveredAt?: number; abandonedAt?: number; nextAttemptAt?: number }): Promise<void> {
  // A repeated attempt number replaces the earlier record (SQLite: INSERT OR REPLACE).
  await db.query(
    `INSERT INTO webhook_attempts (delivery_id, attempt, at, status, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (delivery_id, attempt) DO UPDATE SET at = EXCLUDED.at, status = EXCLUDED.status, error = EXCLUDED.error, duration_ms = EXCLUDED.duration_ms`,
    [a.deliveryId, a.attempt, ms(a.at), a.status, a.error, ms(a.durationMs)],
  );
  await db.query(
    `UPDATE webhook_deliveries SET attempts = GREATEST(attempts, $2), last_status = $3, last_error = $4,
       delivered_at = COALESCE(delivered_at, $5::bigint), abandoned_at = $6::bigint, next_attempt_at = COALESCE($7::bigint, next_attempt_at)
     WHERE id = $1`,
    [a.deliveryId, a.attempt, a.status, a.error, msOrNull(next.deliveredAt), msOrNull(next.abandonedAt), msOrNull(next.nextAttemptAt)],
  );
}

export async function listDeliveries(db: Db, q: { taskId?: string; keyId?: string; limit: number }): Promise<Row[]> {
  const where: string[] = [];
  const values: unknown[] = [q.limit];
  if (q.taskId) where.push(`task_id = $${values.push(q.taskId)}`);
  if (q.keyId) where.push(`key_id = $${values.push(q.keyId)}`);
  const sql = `SELECT * FROM webhook_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $1`;
  return (await db.query(sql, values)).rows;
}

/** The attempt logs of several deliveries in one statement, in attempt order. */
export async function attemptsOf(db: Db, deliveryIds: unknown[]): Promise<Row[]> {
  if (deliveryIds.length === 0) return [];
  return (await db.query('SELECT * FROM webhook_attempts WHERE delivery_id = ANY($1::bigint[]) ORDER BY delivery_id, attempt', [deliveryIds])).rows;
}

// --- usage ------------------------------------------------------------------------------------------

/**
 * The UTC day of a task's creation, as SQLite computes it (strftime of created_at / 1000 truncated to whole
 * seconds), independent of the session's time zone; COLLATE "C" to sort like SQLite.
 */
const DAY = `(to_char(timestamp 'epoch' + (created_at / 1000) * interval '1 second', 'YYYY-MM-DD') COLLATE "C")`;

export async function usage(db: Db, q: { keyId?: string; model?: string; from?: string; to?: string }): Promise<Row[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  if (q.keyId) where.push(`key_id = $${values.push(q.keyId)}`);
  if (q.model) where.push(`model = $${values.push(q.model)}`);
  if (q.from) where.push(`${DAY} >= $${values.push(q.from)}`);
  if (q.to) where.push(`${DAY} <= $${values.push(q.to)}`);
  const sql = `
    SELECT key_id, model, ${DAY} AS day, count(*) AS tasks,
           count(*) FILTER (WHERE status = 'completed') AS completed,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
           sum(cost_micros) AS spent, sum(CASE WHEN status = 'completed' THEN billed_seconds ELSE 0 END) AS seconds
    FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    GROUP BY key_id, model, day ORDER BY day, key_id, model`;
  return (await db.query(sql, values)).rows;
}
