/**
 * The embedded store: one SQLite file in WAL mode under REELAY_DATA_DIR.
 *
 * better-sqlite3 is synchronous, so each method runs its whole transaction without yielding to the event
 * loop: within a process nothing interleaves, and BEGIN IMMEDIATE plus busy_timeout serialise writers across
 * processes. Every money movement is a ledger row written in the same transaction as the balance change.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ApiError } from '../../errors.ts';
import { finishMoves, holdMove, type LedgerMove } from '../../billing/settlement.ts';
import { TERMINAL_STATUSES, type NewTask, type TaskOutcome, type TaskRecord } from '../../tasks/task.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';
import { GroupCommit } from './groupCommit.ts';
import { FileMap } from './fileMap.ts';
import { concurrencyLimitReached, idempotencyKeyReused, idempotencyRecordStands, insufficientBalance } from '../refusals.ts';
import { WalCheckpointer } from './checkpointer.ts';
import { finishFields, newTaskRecord, taskValues, TASK_COLUMN_NAMES, toAttempt, toDelivery, toKey, toLedger, toTask, toTaskView, TASK_VIEW_COLUMNS } from '../rows.ts';
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

type Row = Record<string, unknown>;

/**
 * With checkpoints on their own thread the writing connection checkpoints only if the WAL grows this long
 * (the thread has fallen behind or stopped): SQLite's automatic checkpoint as a safety net.
 */
const SAFETY_CHECKPOINT_PAGES = 20_000;

/** Page cache, MiB: see the constructor. */
export const DEFAULT_CACHE_MIB = 16;
/**
 * Memory-mapped part of the file, MiB: SQLite's own ceiling (SQLITE_MAX_MMAP_SIZE, 0x7fff0000 bytes in
 * better-sqlite3's build; larger values are cut to it). Pages beyond it are read with read(2).
 */
export const DEFAULT_MMAP_MIB = 2047;

export interface SqliteStoreOptions {
  /** PRAGMA synchronous: FULL survives power loss, NORMAL survives a process crash (WAL). */
  synchronous?: 'FULL' | 'NORMAL';
  /** Most memory the page cache may hold, MiB (default 16). */
  cacheMiB?: number;
  /** How much of the file is read through a memory map, MiB (default 2047, SQLite's own ceiling; 0: none). */
  mmapMiB?: number;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly patchStatements = new Map<string, Database.Statement>();
  private readonly s;
  /** Every write goes through here: one transaction and one fsync per event-loop turn's worth of writes. */
  readonly commit: GroupCommit;

  constructor(file: string, opts: SqliteStoreOptions = {}) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL: the WAL is synced before any write is reported done. The group commit does that sync itself,
    // off the event loop (groupCommit.ts), so the connection only needs NORMAL: WAL commits unsynced,
    // checkpoints synced.
    const durable = (opts.synchronous ?? 'FULL') === 'FULL' && file !== ':memory:';
    this.db.pragma(`synchronous = ${durable ? 'NORMAL' : (opts.synchronous ?? 'FULL')}`);
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('foreign_keys = ON');
    // Reads go through a memory map of the file: polls read task rows at random across the whole table, and
    // a page found in the map costs no read(2) and no copy. The page cache then holds what transactions
    // write and what the WAL holds, so it is kept small, 16 MiB: SQLite scans every page of it at the end of
    // the first commit after a B-tree split that renumbered pages (pcache1TruncateUnsafe, reached through
    // balance_nonroot's temporary page number), which took 2–16 ms on the event loop every few seconds of
    // submits with the 256 MiB cache this replaced, and 0.1–1.9 ms with 16 MiB
    // (docs/decisions/0012-performance.md, item 46).
    const cacheMiB = opts.cacheMiB ?? DEFAULT_CACHE_MIB;
    this.db.pragma(`cache_size = ${-Math.round(cacheMiB * 1024)}`);
    const mmapBytes = file === ':memory:' ? 0 : Math.round((opts.mmapMiB ?? DEFAULT_MMAP_MIB) * 1024 * 1024);
    this.db.pragma(`mmap_size = ${mmapBytes}`);
    // The map does not follow the file as it grows by itself (fileMap.ts).
    this.fileMap = mmapBytes > 0 ? new FileMap(this.db, file, mmapBytes, cacheMiB * 1024 * 1024) : null;
    // A write of a group commit that runs in a SAVEPOINT (after a refusal) has SQLite copy every page it changes
    // into a sub-journal first — a temporary file by default: 26 pwrite(2) calls per submitted task, a third
    // of a submit's CPU time (strace). In memory it costs a memcpy; it only ever serves a rollback to the
    // savepoint, never recovery, so nothing durable moves (docs/decisions/0012-performance.md).
    this.db.pragma('temp_store = MEMORY');
    this.migrate();
    this.s = this.prepare();
    this.readTransaction = this.db.transaction((read: () => unknown) => read());
    this.walFile = `${file}-wal`;
    // Durable mode checkpoints on a thread of its own (checkpointer.ts), at the group commit's syncs.
    this.checkpointer = durable ? new WalCheckpointer(file, mmapBytes) : null;
    if (this.checkpointer) this.db.pragma(`wal_autocheckpoint = ${SAFETY_CHECKPOINT_PAGES}`);
    const checkpoints = this.checkpointer && {
      backfill: () => this.checkpointer!.backfill(),
      finish: (synced: () => void) => this.checkpointer!.finish(synced),
      disable: (e: unknown) => {
        // Whatever went wrong on the thread, SQLite's own checkpoints keep the WAL from growing.
        if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
        process.emitWarning(`reelay: WAL checkpoints are back on the event loop: ${e instanceof Error ? e.message : String(e)}`);
      },
    };
    this.commit = new GroupCommit(this.db, 256, durable ? () => this.syncWal() : null, checkpoints);
  }

  private readonly walFile: string;
  /** Maps the file again as it grows (null without a map). */
  readonly fileMap: FileMap | null;
  private readonly readTransaction: Database.Transaction<(read: () => unknown) => unknown>;
  private readonly checkpointer: WalCheckpointer | null;
  private wal: Promise<fs.promises.FileHandle> | null = null;

  /** fdatasync of the WAL file: makes every commit so far durable, as synchronous=FULL would at COMMIT. */
  private async syncWal(): Promise<void> {
    this.wal ??= fs.promises.open(this.walFile, 'r+');
    try {
      await (await this.wal).datasync();
    } catch (e) {
      this.wal = null;
      throw e;
    }
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const apply = this.db.transaction(() => {
      const done = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((r) => Number(r.version)));
      for (const m of SQLITE_MIGRATIONS) {
        if (done.has(m.version)) continue;
        if (m.sql) this.db.exec(m.sql);
        m.apply?.(this.db);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }
    });
    apply.immediate();
  }

  private prepare() {
    const db = this.db;
    const cols = TASK_COLUMN_NAMES.join(', ');
    const params = TASK_COLUMN_NAMES.map(() => '?').join(', ');
    return {
      insertKey: db.prepare(
        `INSERT INTO api_keys (id, name, prefix, hash, rate_limit_rpm, max_concurrent_tasks, models, webhook_secret, created_at)
         VALUES (@id, @name, @prefix, @hash, @rateLimitRpm, @maxConcurrentTasks, @models, @webhookSecret, @createdAt)`,
      ),
      keyById: db.prepare('SELECT * FROM api_keys WHERE id = ?'),
      keyByHash: db.prepare('SELECT * FROM api_keys WHERE hash = ?'),
      listKeys: db.prepare('SELECT * FROM api_keys ORDER BY created_at, id'),
      revokeKey: db.prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING *'),
      // No RETURNING: SQLite gathers RETURNING rows in an ephemeral table, which cost more than the update
      // itself (4–6 against ~2 µs in a loop); the ledger row reads the balance back in the same transaction.
      moveMoney: db.prepare(
        `UPDATE api_keys SET balance_micros = balance_micros + ?, held_micros = held_micros + ?, spent_micros = spent_micros + ?
         WHERE id = ? AND balance_micros + ? >= 0`,
      ),
      insertLedger: db.prepare(
        `INSERT INTO ledger (key_id, task_id, kind, balance_delta, held_delta, spent_delta, balance_after, note, created_at)
         VALUES (?, ?, ?, ?, ?, ?, (SELECT balance_micros FROM api_keys WHERE id = ?), ?, ?)`,
      ),
      ledgerByKey: db.prepare('SELECT * FROM ledger WHERE key_id = @key AND id < @cursor ORDER BY id DESC LIMIT @limit'),
      ledgerAll: db.prepare('SELECT * FROM ledger WHERE id < @cursor ORDER BY id DESC LIMIT @limit'),
      ledgerByTask: db.prepare('SELECT * FROM ledger WHERE task_id = @task AND id < @cursor ORDER BY id DESC LIMIT @limit'),
      idemGet: db.prepare('SELECT * FROM idempotency WHERE key_id = ? AND idem_key = ?'),
      idemDelete: db.prepare('DELETE FROM idempotency WHERE key_id = ? AND idem_key = ?'),
      idemPrune: db.prepare('DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency WHERE created_at < ? ORDER BY created_at LIMIT ?)'),
      idemInsert: db.prepare('INSERT INTO idempotency (key_id, idem_key, request_hash, task_id, created_at) VALUES (?, ?, ?, ?, ?)'),
      activeByKey: db.prepare("SELECT count(*) AS n FROM tasks WHERE key_id = ? AND phase != 'done'"),
      insertTask: db.prepare(`INSERT INTO tasks (${cols}) VALUES (${params})`),
      taskById: db.prepare('SELECT * FROM tasks WHERE id = ?'),
      // Rows as arrays: better-sqlite3 would otherwise build an object with a property per column.
      taskViewById: db.prepare(`SELECT ${TASK_VIEW_COLUMNS} FROM tasks WHERE id = ?`).raw(),
      claim: db.prepare(
        `UPDATE tasks SET lease_owner = @owner, lease_until = @until, next_check_at = @until
         WHERE id IN (SELECT id FROM tasks WHERE phase != 'done' AND next_check_at <= @now
                      AND (lease_until IS NULL OR lease_until <= @now) ORDER BY next_check_at LIMIT @limit)
         RETURNING *`,
      ),
      claimOne: db.prepare(
        `UPDATE tasks SET lease_owner = @owner, lease_until = @until, next_check_at = @until
         WHERE id = @id AND phase != 'done' AND (lease_until IS NULL OR lease_until <= @now) RETURNING *`,
      ),
      finish: db.prepare(
        `UPDATE tasks SET status = @status, phase = 'done', progress = 100, completed_at = @now, updated_at = @now,
           cost_micros = @cost, billed_seconds = @billed, result = @result, result_expires_at = @expires, error = @error,
           lease_owner = NULL, lease_until = NULL
         WHERE id = @id AND phase != 'done'`,
      ),
      leaseOwners: db.prepare("SELECT DISTINCT lease_owner AS o FROM tasks WHERE lease_owner IS NOT NULL AND phase != 'done'"),
      releaseLeases: db.prepare(
        "UPDATE tasks SET lease_owner = NULL, lease_until = NULL, next_check_at = @now WHERE lease_owner = @owner AND phase != 'done'",
      ),
      nextDue: db.prepare("SELECT min(next_check_at) AS t FROM tasks WHERE phase != 'done'"),
      countActive: db.prepare("SELECT count(*) AS n FROM tasks WHERE phase != 'done'"),
      countActiveModel: db.prepare("SELECT count(*) AS n FROM tasks WHERE phase != 'done' AND model = ?"),
      overdue: db.prepare("SELECT * FROM tasks WHERE phase != 'done' AND deadline_at < ? ORDER BY deadline_at LIMIT ?"),
      expiredResults: db.prepare('SELECT * FROM tasks WHERE result IS NOT NULL AND result_expires_at < ? ORDER BY result_expires_at LIMIT ?'),
      clearResult: db.prepare('UPDATE tasks SET result = NULL WHERE id = ?'),
      insertWebhook: db.prepare(
        `INSERT OR IGNORE INTO webhook_deliveries (task_id, key_id, url, event, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      claimWebhooks: db.prepare(
        `UPDATE webhook_deliveries SET next_attempt_at = @until
         WHERE id IN (SELECT id FROM webhook_deliveries WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= @now
                      ORDER BY next_attempt_at LIMIT @limit)
         RETURNING *`,
      ),
      insertAttempt: db.prepare(
        'INSERT OR REPLACE INTO webhook_attempts (delivery_id, attempt, at, status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      updateDelivery: db.prepare(
        `UPDATE webhook_deliveries SET attempts = max(attempts, @attempt), last_status = @status, last_error = @error,
           delivered_at = COALESCE(delivered_at, @delivered), abandoned_at = @abandoned, next_attempt_at = COALESCE(@next, next_attempt_at)
         WHERE id = @id`,
      ),
      attemptsOf: db.prepare('SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt'),
    };
  }

  async close(): Promise<void> {
    // No backfill starts from now on: the checkpoint thread ends below, and a request sent after its end
    // would fail and put checkpoints back on this connection (with a warning) as if the thread had broken.
    this.commit.stopCheckpoints();
    // Let writes already queued commit (and sync) first.
    await this.commit.settled();
    await this.checkpointer?.close();
    this.fileMap?.stop();
    if (this.db.open) this.db.close();
    const wal = this.wal;
    this.wal = null;
    if (wal) await (await wal).close().catch(() => undefined);
  }

  // ------------------------------------------------------------------------------------------------
  // Keys and money

  async createKey(key: NewKey): Promise<ApiKeyRecord> {
    return this.commit.run(() => {
      this.s.insertKey.run({ ...key, models: key.models ? JSON.stringify(key.models) : null });
      if (key.balanceMicros > 0) this.move(key.id, null, { kind: 'topup', balanceDelta: key.balanceMicros, heldDelta: 0, spentDelta: 0, note: 'opening balance' }, key.createdAt);
      return toKey(this.s.keyById.get(key.id) as Row);
    });
  }

  async findKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const r = this.s.keyByHash.get(hash) as Row | undefined;
    return r ? toKey(r) : undefined;
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const r = this.s.keyById.get(id) as Row | undefined;
    return r ? toKey(r) : undefined;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return (this.s.listKeys.all() as Row[]).map(toKey);
  }

  async updateKey(id: string, patch: KeyPatch): Promise<ApiKeyRecord | undefined> {
    const sets: string[] = [];
    const values: Record<string, unknown> = { id };
    if (patch.name !== undefined) (sets.push('name = @name'), (values.name = patch.name));
    if (patch.rateLimitRpm !== undefined) (sets.push('rate_limit_rpm = @rpm'), (values.rpm = patch.rateLimitRpm));
    if (patch.maxConcurrentTasks !== undefined) (sets.push('max_concurrent_tasks = @mct'), (values.mct = patch.maxConcurrentTasks));
    if (patch.models !== undefined) (sets.push('models = @models'), (values.models = patch.models ? JSON.stringify(patch.models) : null));
    if (sets.length === 0) return this.getKey(id);
    return this.commit.run(() => {
      const r = this.db.prepare(`UPDATE api_keys SET ${sets.join(', ')} WHERE id = @id RETURNING *`).get(values) as Row | undefined;
      return r ? toKey(r) : undefined;
    });
  }

  async revokeKey(id: string, at: number): Promise<ApiKeyRecord | undefined> {
    return this.commit.run(() => {
      const r = this.s.revokeKey.get(at, id) as Row | undefined;
      return r ? toKey(r) : undefined;
    });
  }

  async adjustBalance(id: string, amount: number, kind: 'topup' | 'adjustment', note: string | null, at: number): Promise<ApiKeyRecord | undefined> {
    return this.commit.run(() => {
      if (!this.s.keyById.get(id)) return undefined;
      this.move(id, null, { kind, balanceDelta: amount, heldDelta: 0, spentDelta: 0, note }, at);
      return toKey(this.s.keyById.get(id) as Row);
    });
  }

  /** Applies one ledger move to a key and records it; throws payment_required if the balance would go negative. */
  private move(keyId: string, taskId: string | null, m: LedgerMove, at: number): void {
    if (this.s.moveMoney.run(m.balanceDelta, m.heldDelta, m.spentDelta, keyId, m.balanceDelta).changes === 0) {
      const key = this.s.keyById.get(keyId) as Row | undefined;
      const balance = key ? Number(key.balance_micros) : 0;
      throw insufficientBalance(balance, -m.balanceDelta);
    }
    this.s.insertLedger.run(keyId, taskId, m.kind, m.balanceDelta, m.heldDelta, m.spentDelta, keyId, m.note, at);
  }

  async listLedger(keyId: string | null, q: { cursor?: string; limit: number; taskId?: string }): Promise<Page<LedgerEntry>> {
    const cursor = q.cursor ? Number(q.cursor) : Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(cursor)) throw new ApiError('invalid_cursor', 'cursor is not one this endpoint returned.', 'cursor');
    const args = { key: keyId, task: q.taskId, cursor, limit: q.limit + 1 };
    const rows = (q.taskId ? this.s.ledgerByTask.all(args) : keyId ? this.s.ledgerByKey.all(args) : this.s.ledgerAll.all(args)) as Row[];
    const items = rows.slice(0, q.limit).map(toLedger);
    return { items, nextCursor: rows.length > q.limit ? String(items[items.length - 1].id) : null };
  }

  // ------------------------------------------------------------------------------------------------
  // Tasks

  async createTask(input: NewTask, opts: CreateTaskOptions): Promise<CreateTaskResult> {
    return this.commit.run((): CreateTaskResult => {
      const idem = opts.idempotency;
      if (idem) {
        const prior = this.s.idemGet.get(input.keyId, idem.key) as Row | undefined;
        if (prior && idempotencyRecordStands(Number(prior.created_at), input.createdAt, idem.windowMs)) {
          if (prior.request_hash !== idem.requestHash) {
            throw idempotencyKeyReused();
          }
          const task = this.s.taskById.get(prior.task_id) as Row | undefined;
          if (task) return { task: toTask(task), replayed: true };
        }
        if (prior) this.s.idemDelete.run(input.keyId, idem.key);
      }
      if (opts.maxConcurrentTasks !== null) {
        const active = Number((this.s.activeByKey.get(input.keyId) as Row).n);
        if (active >= opts.maxConcurrentTasks) {
          throw concurrencyLimitReached(active);
        }
      }
      const task = newTaskRecord(input);
      this.move(task.keyId, task.id, holdMove(task.priceMicros), task.createdAt);
      // Spread, not an array: better-sqlite3 reads an array's 30 elements through V8's C++ Get, 1–1.5 µs more
      // per task in a loop than taking them as arguments.
      this.s.insertTask.run(...taskValues(task));
      if (idem) this.s.idemInsert.run(input.keyId, idem.key, idem.requestHash, task.id, input.createdAt);
      return { task, replayed: false };
    });
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const r = this.s.taskById.get(id) as Row | undefined;
    return r ? toTask(r) : undefined;
  }

  async getTaskView(id: string): Promise<TaskViewFields | undefined> {
    return this.getTaskViewNow(id);
  }

  /**
   * Reads in one transaction (see `Store.readTogether`). Outside one, every SELECT takes and drops the WAL
   * read lock itself — two fcntl(2) calls and an fstat(2) each — which was 40 % of a read by id: 6.7 → 4.0 µs
   * per read by id in runs of 32 (docs/decisions/0012-performance.md).
   */
  readTogether<T>(read: () => T): T {
    return this.readTransaction.deferred(read) as T;
  }

  /** `getTaskView` without a promise: this store reads synchronously (see `Store.getTaskViewNow`). */
  getTaskViewNow(id: string): TaskViewFields | undefined {
    const r = this.s.taskViewById.get(id) as unknown[] | undefined;
    return r ? toTaskView(r) : undefined;
  }

  async listTasks(keyId: string, q: TaskQuery): Promise<Page<TaskRecord>> {
    const where = ['key_id = @key'];
    if (q.status) where.push('status = @status');
    if (q.model) where.push('model = @model');
    if (q.cursor) where.push('id < @cursor');
    const sql = `SELECT * FROM tasks WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT @limit`;
    const rows = this.db.prepare(sql).all({ key: keyId, status: q.status, model: q.model, cursor: q.cursor, limit: q.limit + 1 }) as Row[];
    const items = rows.slice(0, q.limit).map(toTask);
    return { items, nextCursor: rows.length > q.limit ? items[items.length - 1].id : null };
  }

  async claimTasks(owner: string, now: number, leaseMs: number, limit: number): Promise<TaskRecord[]> {
    return this.commit.run(() => (this.s.claim.all({ owner, until: now + leaseMs, now, limit }) as Row[]).map(toTask));
  }

  async claimTask(id: string, owner: string, now: number, leaseMs: number): Promise<TaskRecord | undefined> {
    return this.commit.run(() => {
      const r = this.s.claimOne.get({ id, owner, until: now + leaseMs, now }) as Row | undefined;
      return r ? toTask(r) : undefined;
    });
  }

  async updateTask(id: string, owner: string, patch: TaskPatch, now: number): Promise<TaskRecord | undefined> {
    const { stmt, values } = this.patchStatement(id, owner, patch, now, true);
    return this.commit.run(() => {
      const r = stmt.get(values) as Row | undefined;
      return r ? toTask(r) : undefined;
    });
  }

  async patchTask(id: string, owner: string, patch: TaskPatch, now: number): Promise<boolean> {
    const { stmt, values } = this.patchStatement(id, owner, patch, now, false);
    return this.commit.run(() => stmt.run(values).changes > 0);
  }

  /** The UPDATE of a patch's columns (prepared once per set of columns), with or without the changed row. */
  private patchStatement(id: string, owner: string, patch: TaskPatch, now: number, returning: boolean) {
    const { sql, values } = patchSql(patch);
    const cacheKey = returning ? sql : `${sql}|`;
    let stmt = this.patchStatements.get(cacheKey);
    if (!stmt) {
      stmt = this.db.prepare(
        `UPDATE tasks SET ${sql} updated_at = @now WHERE id = @id AND lease_owner = @owner AND phase != 'done'${returning ? ' RETURNING *' : ''}`,
      );
      this.patchStatements.set(cacheKey, stmt);
    }
    // Added to patchSql's own object, not spread into a new one (a spread plus new properties is slow in V8).
    values.id = id;
    values.owner = owner;
    values.now = now;
    return { stmt, values };
  }

  async finishTask(id: string, outcome: TaskOutcome, now: number): Promise<FinishResult | undefined> {
    return this.commit.run((): FinishResult | undefined => {
      const row = this.s.taskById.get(id) as Row | undefined;
      if (!row) return undefined;
      const task = toTask(row);
      if (TERMINAL_STATUSES.includes(task.status)) return { task, changed: false };
      const moves = finishMoves(task, outcome);
      for (const m of moves) this.move(task.keyId, task.id, m, now);
      const f = finishFields(task, outcome, moves);
      this.s.finish.run({ ...f, id, now, result: f.result ? JSON.stringify(f.result) : null, error: f.error ? JSON.stringify(f.error) : null });
      if (task.callbackUrl) this.s.insertWebhook.run(task.id, task.keyId, task.callbackUrl, outcome.status, now, now);
      return { task: toTask(this.s.taskById.get(id) as Row), changed: true };
    });
  }

  async leaseOwners(): Promise<string[]> {
    return (this.s.leaseOwners.all() as Row[]).map((r) => String(r.o));
  }

  async releaseLeases(owner: string, now: number): Promise<number> {
    return this.commit.run(() => this.s.releaseLeases.run({ owner, now }).changes);
  }

  async nextDueAt(): Promise<number | undefined> {
    const r = this.s.nextDue.get() as Row;
    return r.t === null ? undefined : Number(r.t);
  }

  /** Counted on the checkpointer's thread where there is one: off the event loop (checkpointer.ts). */
  async countUnfinished(model?: string): Promise<number> {
    const count = model ? this.s.countActiveModel : this.s.countActive;
    const args = model ? [model] : [];
    if (this.checkpointer) {
      try {
        return Number(await this.checkpointer.readValue(count.source, args));
      } catch {
        // The thread failed (it says so where checkpoints fall back); count here.
      }
    }
    return Number((count.get(...args) as Row).n);
  }

  async findOverdue(now: number, limit: number): Promise<TaskRecord[]> {
    return (this.s.overdue.all(now, limit) as Row[]).map(toTask);
  }

  async findExpiredResults(now: number, limit: number): Promise<TaskRecord[]> {
    return (this.s.expiredResults.all(Math.floor(now / 1000), limit) as Row[]).map(toTask);
  }

  async pruneIdempotency(before: number, limit: number): Promise<number> {
    return this.commit.run(() => this.s.idemPrune.run(before, limit).changes);
  }

  async clearResult(id: string): Promise<void> {
    await this.commit.run(() => this.s.clearResult.run(id));
  }

  // ------------------------------------------------------------------------------------------------
  // Webhooks

  async claimWebhooks(now: number, leaseMs: number, limit: number): Promise<WebhookDelivery[]> {
    return this.commit.run(() => (this.s.claimWebhooks.all({ now, until: now + leaseMs, limit }) as Row[]).map(toDelivery));
  }

  async recordWebhookAttempt(a: WebhookAttempt, next: { deliveredAt?: number; abandonedAt?: number; nextAttemptAt?: number }): Promise<void> {
    await this.commit.run(() => {
      this.s.insertAttempt.run(a.deliveryId, a.attempt, a.at, a.status, a.error, a.durationMs);
      this.s.updateDelivery.run({
        id: a.deliveryId,
        attempt: a.attempt,
        status: a.status,
        error: a.error,
        delivered: next.deliveredAt ?? null,
        abandoned: next.abandonedAt ?? null,
        next: next.nextAttemptAt ?? null,
      });
    });
  }

  async listWebhookDeliveries(q: { taskId?: string; keyId?: string; limit: number }) {
    const where: string[] = [];
    if (q.taskId) where.push('task_id = @taskId');
    if (q.keyId) where.push('key_id = @keyId');
    const sql = `SELECT * FROM webhook_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    const rows = this.db.prepare(sql).all({ taskId: q.taskId, keyId: q.keyId, limit: q.limit }) as Row[];
    return rows.map((r) => ({ ...toDelivery(r), attemptLog: (this.s.attemptsOf.all(r.id) as Row[]).map(toAttempt) }));
  }

  // ------------------------------------------------------------------------------------------------
  // Usage

  async usage(q: { keyId?: string; model?: string; from?: string; to?: string }): Promise<UsageRow[]> {
    const where: string[] = [];
    if (q.keyId) where.push('key_id = @keyId');
    if (q.model) where.push('model = @model');
    if (q.from) where.push("strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') >= @from");
    if (q.to) where.push("strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') <= @to");
    const sql = `
      SELECT key_id, model, strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS day,
             count(*) AS tasks,
             sum(status = 'completed') AS completed, sum(status = 'failed') AS failed, sum(status = 'cancelled') AS cancelled,
             sum(cost_micros) AS spent, sum(CASE WHEN status = 'completed' THEN billed_seconds ELSE 0 END) AS seconds
      FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      GROUP BY key_id, model, day ORDER BY day, key_id, model`;
    const rows = this.db.prepare(sql).all(q) as Row[];
    return rows.map((r) => ({
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

/** SQL SET clauses for a patch; the clause text (not the values) keys the statement cache. */
function patchSql(p: TaskPatch): { sql: string; values: Record<string, unknown> } {
  let sql = '';
  const v: Record<string, unknown> = {};
  // pending → processing only; a processing task never goes back to pending.
  if (p.status !== undefined) (sql += "status = CASE WHEN status = 'processing' THEN status ELSE @status END, "), (v.status = p.status);
  if (p.phase !== undefined) (sql += 'phase = @phase, '), (v.phase = p.phase);
  if (p.progress !== undefined) (sql += 'progress = max(progress, @progress), '), (v.progress = Math.min(99, Math.max(0, Math.floor(p.progress))));
  if (p.estimatedSeconds !== undefined) (sql += 'estimated_seconds = @est, '), (v.est = p.estimatedSeconds);
  if (p.upstream !== undefined) (sql += 'upstream = @upstream, '), (v.upstream = p.upstream ? JSON.stringify(p.upstream) : null);
  if (p.failedChannels !== undefined) (sql += 'failed_channels = @failed, '), (v.failed = JSON.stringify(p.failedChannels));
  if (p.attempts !== undefined) (sql += 'attempts = @attempts, '), (v.attempts = p.attempts);
  if (p.facts !== undefined) (sql += 'facts = @facts, '), (v.facts = p.facts ? JSON.stringify(p.facts) : null);
  if (p.params !== undefined) (sql += 'params = @params, '), (v.params = JSON.stringify(p.params));
  if (p.plan !== undefined) (sql += 'plan = @plan, '), (v.plan = JSON.stringify(p.plan));
  if (p.error !== undefined) (sql += 'error = @error, '), (v.error = p.error ? JSON.stringify(p.error) : null);
  if (p.release) {
    sql += 'lease_owner = NULL, lease_until = NULL, next_check_at = @next, ';
    v.next = p.nextCheckAt ?? Date.now();
  } else if (p.nextCheckAt !== undefined) {
    // While leased, next_check_at mirrors the lease end so the claim query skips leased rows.
    sql += 'lease_until = @next, next_check_at = @next, ';
    v.next = p.nextCheckAt;
  }
  return { sql, values: v };
}
