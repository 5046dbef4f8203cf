/**
 * The PostgreSQL store, for several gateway processes sharing one database. Same semantics as the SQLite
 * store; where SQLite gets them from running one writer at a time, this store gets them from transactions at
 * READ COMMITTED and row locks:
 *  - money moves lock the key row first (FOR NO KEY UPDATE), so submits, top-ups and settlements of one key
 *    queue on it, and the guarded UPDATE … WHERE balance + delta >= 0 sees the balance the one before left;
 *  - finishTask locks the task row, so a second finish waits, then sees the task finished and moves nothing;
 *  - claims pick rows with FOR UPDATE SKIP LOCKED; single-row updates re-check their WHERE after a lock wait.
 * Lock order is always task → key (never key → task), and a batch that locks several tasks or keys locks
 * them in id order (heldTaskBatches.ts, checkedTaskBatches.ts, finishBatches.ts), so these transactions cannot
 * deadlock on each other; a deadlock or serialization failure from elsewhere is retried by transaction().
 */
import pg from 'pg';
import { ApiError } from '../../errors.ts';
import { finishMoves, holdMove, type LedgerMove } from '../../billing/settlement.ts';
import { concurrencyLimitReached, idempotencyKeyReused, idempotencyRecordStands, insufficientBalance } from '../refusals.ts';
import { TERMINAL_STATUSES, type NewTask, type TaskOutcome, type TaskRecord } from '../../tasks/task.ts';
import { finishFields, newTaskRecord, toAttempt, toDelivery, toKey, toLedger, toTask, toTaskView } from '../rows.ts';
import type {
  ApiKeyRecord,
  CreateTaskOptions,
  CreateTaskResult,
  FinishResult,
  KeyPatch,
  LedgerEntry,
  NewKey,
  Page,
  Store,
  TaskPatch,
  TaskQuery,
  UsageRow,
  WebhookAttempt,
  WebhookDelivery,
  TaskViewFields,
} from '../types.ts';
import { migrate } from './migrations.ts';
import * as sql from './queries.ts';
import * as tasks from './taskQueries.ts';
import { db, transaction, type Db } from './transaction.ts';
import { HeldTaskBatches } from './heldTaskBatches.ts';
import { CheckedTaskBatches } from './checkedTaskBatches.ts';
import { FinishBatches } from './finishBatches.ts';
import { TaskViewBatches } from './taskViewBatches.ts';
import { TaskPatchBatches } from './patchBatches.ts';

export interface PostgresStoreOptions {
  /** Connections in the pool (pg's default is 10). */
  poolSize?: number;
  /** Errors of idle connections (the server restarted, the network dropped); the pool replaces them. */
  onPoolError?: (e: Error) => void;
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly db: Db;
  private closed: Promise<void> | undefined;

  /** Use `open()`, which migrates first; the constructor takes a pool already migrated. */
  constructor(readonly pool: pg.Pool) {
    this.db = db(pool);
    this.heldTasks = new HeldTaskBatches(this.db);
    this.checkedTasks = new CheckedTaskBatches(
      (fn) => transaction(pool, fn),
      (input, opts) => this.createCheckedTask(input, opts),
    );
    this.finishes = new FinishBatches(
      (fn) => transaction(pool, fn),
      (id, outcome, now) => this.finishTaskAlone(id, outcome, now),
    );
    this.taskViews = new TaskViewBatches(this.db);
    this.patches = new TaskPatchBatches(this.db);
  }

  /** A worker's task updates of one turn, written a statement per shape of patch. */
  private readonly patches: TaskPatchBatches;

  /** Polls of one turn, read in one statement. */
  private readonly taskViews: TaskViewBatches;

  /** New tasks without an Idempotency-Key or a concurrency limit, written a batch at a time. */
  private readonly heldTasks: HeldTaskBatches;

  /** New tasks with an Idempotency-Key or a concurrency limit, checked and written a batch at a time. */
  private readonly checkedTasks: CheckedTaskBatches;

  /** Finished tasks, settled a batch at a time. */
  private readonly finishes: FinishBatches;

  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10 });
    // Without a listener an idle connection's error would crash the process; the pool drops that connection.
    pool.on('error', opts.onPoolError ?? (() => undefined));
    try {
      await migrate(pool);
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresStore(pool);
  }

  /** Waits for transactions in flight, then closes every connection. Safe to call twice. */
  close(): Promise<void> {
    // Submits, finishes, polls and patches already handed to a batch get their answers before the pool goes.
    this.closed ??= Promise.all([this.heldTasks.idle(), this.checkedTasks.idle(), this.finishes.idle(), this.taskViews.idle(), this.patches.idle()]).then(() => this.pool.end());
    return this.closed;
  }

  // ------------------------------------------------------------------------------------------------
  // Keys and money

  async createKey(key: NewKey): Promise<ApiKeyRecord> {
    return transaction(this.pool, async (tx) => {
      await sql.insertKey(tx, key);
      if (key.balanceMicros > 0) await move(tx, key.id, null, { kind: 'topup', balanceDelta: key.balanceMicros, heldDelta: 0, spentDelta: 0, note: 'opening balance' }, key.createdAt);
      return toKey((await sql.keyById(tx, key.id))!);
    });
  }

  async findKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const r = await sql.keyByHash(this.db, hash);
    return r ? toKey(r) : undefined;
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const r = await sql.keyById(this.db, id);
    return r ? toKey(r) : undefined;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return (await sql.listKeys(this.db)).map(toKey);
  }

  async updateKey(id: string, patch: KeyPatch): Promise<ApiKeyRecord | undefined> {
    const r = await sql.updateKey(this.db, id, patch);
    return r ? toKey(r) : undefined;
  }

  async revokeKey(id: string, at: number): Promise<ApiKeyRecord | undefined> {
    const r = await sql.revokeKey(this.db, id, at);
    return r ? toKey(r) : undefined;
  }

  async adjustBalance(id: string, amount: number, kind: 'topup' | 'adjustment', note: string | null, at: number): Promise<ApiKeyRecord | undefined> {
    return transaction(this.pool, async (tx) => {
      if (!(await sql.keyById(tx, id, true))) return undefined;
      await move(tx, id, null, { kind, balanceDelta: amount, heldDelta: 0, spentDelta: 0, note }, at);
      return toKey((await sql.keyById(tx, id))!);
    });
  }

  async listLedger(keyId: string | null, q: { cursor?: string; limit: number; taskId?: string }): Promise<Page<LedgerEntry>> {
    const cursor = q.cursor ? Number(q.cursor) : Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(cursor)) throw new ApiError('invalid_cursor', 'cursor is not one this endpoint returned.', 'cursor');
    const rows = await sql.listLedger(this.db, { keyId, taskId: q.taskId, cursor, limit: q.limit + 1 });
    const items = rows.slice(0, q.limit).map(toLedger);
    return { items, nextCursor: rows.length > q.limit ? String(items[items.length - 1].id) : null };
  }

  // ------------------------------------------------------------------------------------------------
  // Tasks

  async createTask(input: NewTask, opts: CreateTaskOptions): Promise<CreateTaskResult> {
    if (!opts.idempotency && opts.maxConcurrentTasks === null) {
      // Nothing to check under the key lock but the balance, which the guarded UPDATE checks itself (at READ
      // COMMITTED it re-reads the row after waiting for its lock): the hold, its ledger row and the task go
      // in as one statement, together with the other submits that arrived meanwhile (heldTaskBatches.ts).
      const task = newTaskRecord(input);
      const hold = holdMove(task.priceMicros);
      if (await this.heldTasks.insert(task, hold)) return { task, replayed: false };
      throw await shortOf(this.db, task.keyId, hold);
    }
    return this.checkedTasks.create(input, opts);
  }

  /**
   * One submit with an Idempotency-Key or a concurrency limit, in a transaction of its own: what a batch of
   * them whose transaction failed falls back to (checkedTaskBatches.ts), so each gets its own answer.
   * A racing duplicate that slips past the key lock (it cannot while every writer takes it) would hit the
   * idempotency primary key; the retry then finds the winner's record and replays it.
   */
  private createCheckedTask(input: NewTask, opts: CreateTaskOptions): Promise<CreateTaskResult> {
    return transaction(
      this.pool,
      async (tx): Promise<CreateTaskResult> => {
        // Every submit of a key queues here: the idempotency check, the concurrency count and the hold below
        // all see what the submit before committed.
        await sql.keyById(tx, input.keyId, true);
        const idem = opts.idempotency;
        if (idem) {
          const prior = await sql.idempotencyGet(tx, input.keyId, idem.key);
          if (prior && idempotencyRecordStands(Number(prior.created_at), input.createdAt, idem.windowMs)) {
            if (prior.request_hash !== idem.requestHash) throw idempotencyKeyReused();
            const task = await tasks.taskById(tx, String(prior.task_id));
            if (task) return { task: toTask(task), replayed: true };
          }
          if (prior) await sql.idempotencyDelete(tx, input.keyId, idem.key);
        }
        if (opts.maxConcurrentTasks !== null) {
          const active = await tasks.countActiveOfKey(tx, input.keyId);
          if (active >= opts.maxConcurrentTasks) throw concurrencyLimitReached(active);
        }
        const task = newTaskRecord(input);
        await move(tx, task.keyId, task.id, holdMove(task.priceMicros), task.createdAt);
        await tasks.insertTask(tx, task);
        if (idem) await sql.idempotencyInsert(tx, input.keyId, idem.key, idem.requestHash, task.id, input.createdAt);
        return { task, replayed: false };
      },
      [sql.IDEMPOTENCY_CONSTRAINT],
    );
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const r = await tasks.taskById(this.db, id);
    return r ? toTask(r) : undefined;
  }

  async getTaskView(id: string): Promise<TaskViewFields | undefined> {
    const r = await this.taskViews.read(id);
    return r ? toTaskView(r) : undefined;
  }

  async listTasks(keyId: string, q: TaskQuery): Promise<Page<TaskRecord>> {
    const rows = await tasks.listTasks(this.db, keyId, q);
    const items = rows.slice(0, q.limit).map(toTask);
    return { items, nextCursor: rows.length > q.limit ? items[items.length - 1].id : null };
  }

  async claimTasks(owner: string, now: number, leaseMs: number, limit: number): Promise<TaskRecord[]> {
    return (await tasks.claimDue(this.db, owner, now, now + leaseMs, limit)).map(toTask);
  }

  async claimTask(id: string, owner: string, now: number, leaseMs: number): Promise<TaskRecord | undefined> {
    const r = await tasks.claimOne(this.db, id, owner, now, now + leaseMs);
    return r ? toTask(r) : undefined;
  }

  async updateTask(id: string, owner: string, patch: TaskPatch, now: number): Promise<TaskRecord | undefined> {
    const r = await this.patches.apply(id, owner, patch, now);
    return r ? toTask(r) : undefined;
  }

  /** The batch statement returns the row either way; only its conversion is saved. */
  async patchTask(id: string, owner: string, patch: TaskPatch, now: number): Promise<boolean> {
    return (await this.patches.apply(id, owner, patch, now)) !== undefined;
  }

  async finishTask(id: string, outcome: TaskOutcome, now: number): Promise<FinishResult | undefined> {
    return this.finishes.finish(id, outcome, now);
  }

  /** One finish in a transaction of its own: what a batch of them whose transaction failed falls back to (finishBatches.ts). */
  private finishTaskAlone(id: string, outcome: TaskOutcome, now: number): Promise<FinishResult | undefined> {
    return transaction(this.pool, async (tx): Promise<FinishResult | undefined> => {
      const row = await tasks.taskById(tx, id, true);
      if (!row) return undefined;
      const task = toTask(row);
      if (TERMINAL_STATUSES.includes(task.status)) return { task, changed: false };
      const moves = finishMoves(task, outcome);
      for (const m of moves) await move(tx, task.keyId, task.id, m, now);
      const finished = await tasks.finishRow(tx, { id, now, ...finishFields(task, outcome, moves) });
      if (task.callbackUrl) await sql.insertWebhook(tx, task.id, task.keyId, task.callbackUrl, outcome.status, now);
      return { task: toTask(finished!), changed: true };
    });
  }

  async leaseOwners(): Promise<string[]> {
    return tasks.leaseOwners(this.db);
  }

  async releaseLeases(owner: string, now: number): Promise<number> {
    return tasks.releaseLeases(this.db, owner, now);
  }

  async nextDueAt(): Promise<number | undefined> {
    return tasks.nextDue(this.db);
  }

  async countUnfinished(model?: string): Promise<number> {
    return tasks.countUnfinished(this.db, model);
  }

  async findOverdue(now: number, limit: number): Promise<TaskRecord[]> {
    return (await tasks.overdue(this.db, now, limit)).map(toTask);
  }

  async findExpiredResults(now: number, limit: number): Promise<TaskRecord[]> {
    return (await tasks.expiredResults(this.db, Math.floor(now / 1000), limit)).map(toTask);
  }

  async pruneIdempotency(before: number, limit: number): Promise<number> {
    const res = await this.db.query(
      `DELETE FROM idempotency WHERE (key_id, idem_key) IN
         (SELECT key_id, idem_key FROM idempotency WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [before, limit],
    );
    return res.rowCount ?? 0;
  }

  async clearResult(id: string): Promise<void> {
    await tasks.clearResult(this.db, id);
  }

  // ------------------------------------------------------------------------------------------------
  // Webhooks

  async claimWebhooks(now: number, leaseMs: number, limit: number): Promise<WebhookDelivery[]> {
    return (await sql.claimWebhooks(this.db, now, now + leaseMs, limit)).map(toDelivery);
  }

  async recordWebhookAttempt(a: WebhookAttempt, next: { deliveredAt?: number; abandonedAt?: number; nextAttemptAt?: number }): Promise<void> {
    await transaction(this.pool, (tx) => sql.recordAttempt(tx, a, next));
  }

  async listWebhookDeliveries(q: { taskId?: string; keyId?: string; limit: number }): Promise<(WebhookDelivery & { attemptLog: WebhookAttempt[] })[]> {
    const rows = await sql.listDeliveries(this.db, q);
    const attempts = (await sql.attemptsOf(this.db, rows.map((r) => r.id))).map(toAttempt);
    return rows.map((r) => {
      const d = toDelivery(r);
      return { ...d, attemptLog: attempts.filter((a) => a.deliveryId === d.id) };
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Usage

  async usage(q: { keyId?: string; model?: string; from?: string; to?: string }): Promise<UsageRow[]> {
    return (await sql.usage(this.db, q)).map((r) => ({
      keyId: String(r.key_id),
      model: String(r.model),
      day: String(r.day),
      tasks: Number(r.tasks),
      completed: Number(r.completed),
      failed: Number(r.failed),
      cancelled: Number(r.cancelled),
      spentMicros: Number(r.spent),
      billedSeconds: Number(r.seconds),
    }));
  }
}

/** Applies one ledger move to a key and records it; throws payment_required if the balance would go negative. */
async function move(tx: Db, keyId: string, taskId: string | null, m: LedgerMove, at: number): Promise<number> {
  const after = await sql.moveMoney(tx, keyId, taskId, m, at);
  if (after === undefined) throw await shortOf(tx, keyId, m);
  return after;
}

/** The payment_required error for a move the balance did not cover. */
async function shortOf(db: Db, keyId: string, m: LedgerMove): Promise<ApiError> {
  const key = await sql.keyById(db, keyId);
  const balance = key ? Number(key.balance_micros) : 0;
  return insufficientBalance(balance, -m.balanceDelta);
}
