/**
 * The one store interface: keys, balances and their ledger, tasks and their leases, idempotency records and
 * webhook deliveries. SQLite (embedded default) and PostgreSQL implement it; both run the shared contract
 * suite in test/contracts/store.contract.ts and the money invariants in test/money/.
 *
 * Every method that moves money or changes a task's state is one transaction. Money moves only as ledger
 * rows written in the same transaction as the balance they change.
 */
import type { NewTask, TaskOutcome, TaskPhase, TaskRecord, TaskStatus, UpstreamState, TaskError } from '../tasks/task.ts';
import type { InputFacts, OutputPlan } from '../models/output.ts';

/** What GET /v1/tasks/{id} shows of a task (api/taskView.ts), and the owner it checks. */
export type TaskViewFields = Pick<
  TaskRecord,
  'id' | 'keyId' | 'model' | 'status' | 'progress' | 'createdAt' | 'completedAt' | 'estimatedSeconds' | 'costMicros' | 'error' | 'result'
>;

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The first characters of the key, shown to operators to tell keys apart. */
  prefix: string;
  hash: string;
  /** What the key can spend now, micro-units (holds already taken out). */
  balanceMicros: number;
  /** Held for unfinished tasks. */
  heldMicros: number;
  /** Settled for completed tasks. */
  spentMicros: number;
  rateLimitRpm: number | null;
  maxConcurrentTasks: number | null;
  /** Models the key may use; null = all. */
  models: string[] | null;
  /** Signs this key's webhook deliveries (HMAC-SHA256). */
  webhookSecret: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface NewKey {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  balanceMicros: number;
  rateLimitRpm: number | null;
  maxConcurrentTasks: number | null;
  models: string[] | null;
  webhookSecret: string;
  createdAt: number;
}

export type KeyPatch = Partial<Pick<ApiKeyRecord, 'name' | 'rateLimitRpm' | 'maxConcurrentTasks' | 'models'>>;

export type LedgerKind = 'topup' | 'adjustment' | 'hold' | 'settle' | 'release' | 'refund';

/**
 * One movement of money. Deltas are signed micro-units on the key's balance, held and spent figures:
 *   topup      +a, 0, 0        adjustment  ±a, 0, 0
 *   hold       −p, +p, 0       settle      0, −c, +c
 *   release    +r, −r, 0  (the unused part of a hold, e.g. an EDIT source shorter than the cap)
 *   refund     +p, −p, 0  (failed, cancelled, timed out)
 */
export interface LedgerEntry {
  id: number;
  keyId: string;
  taskId: string | null;
  kind: LedgerKind;
  balanceDelta: number;
  heldDelta: number;
  spentDelta: number;
  balanceAfter: number;
  note: string | null;
  createdAt: number;
}

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; null on the last page. */
  nextCursor: string | null;
}

export interface CreateTaskOptions {
  /** Idempotency-Key with the hash of the body it was sent with. */
  idempotency?: { key: string; requestHash: string; windowMs: number };
  /** The key's limit of unfinished tasks (null = none). */
  maxConcurrentTasks: number | null;
}

export interface CreateTaskResult {
  task: TaskRecord;
  /** True when an earlier task with the same Idempotency-Key and body was returned. */
  replayed: boolean;
}

/** Fields the engine may change on a task it holds the lease of. Progress only ever rises. */
export interface TaskPatch {
  status?: Extract<TaskStatus, 'pending' | 'processing'>;
  phase?: Exclude<TaskPhase, 'done'>;
  progress?: number;
  estimatedSeconds?: number;
  upstream?: UpstreamState | null;
  failedChannels?: string[];
  attempts?: number;
  facts?: InputFacts | null;
  plan?: OutputPlan;
  params?: Record<string, unknown>;
  /** Error of the last failed attempt (kept while retrying), or null to clear it. */
  error?: TaskError | null;
  nextCheckAt?: number;
  /** Release the lease (true) or keep it. */
  release?: boolean;
}

export interface FinishResult {
  task: TaskRecord;
  /** False when the task had already finished: nothing was moved (exactly-once). */
  changed: boolean;
}

export interface TaskQuery {
  status?: TaskStatus;
  model?: string;
  cursor?: string;
  limit: number;
}

export interface WebhookDelivery {
  id: number;
  taskId: string;
  keyId: string;
  url: string;
  /** The terminal status that triggered it; the body is the task object, rendered when sent. */
  event: string;
  attempts: number;
  nextAttemptAt: number;
  deliveredAt: number | null;
  /** Given up after the retry window. */
  abandonedAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
}

export interface WebhookAttempt {
  deliveryId: number;
  attempt: number;
  at: number;
  status: number | null;
  error: string | null;
  durationMs: number;
}

export interface UsageRow {
  keyId: string;
  model: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  tasks: number;
  completed: number;
  failed: number;
  cancelled: number;
  spentMicros: number;
  billedSeconds: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  close(): Promise<void>;

  // --- keys and money ---
  createKey(key: NewKey): Promise<ApiKeyRecord>;
  findKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  getKey(id: string): Promise<ApiKeyRecord | undefined>;
  listKeys(): Promise<ApiKeyRecord[]>;
  updateKey(id: string, patch: KeyPatch): Promise<ApiKeyRecord | undefined>;
  revokeKey(id: string, at: number): Promise<ApiKeyRecord | undefined>;
  /** Top-up (positive) or adjustment (signed); an adjustment may not take the balance below zero. */
  adjustBalance(id: string, amountMicros: number, kind: 'topup' | 'adjustment', note: string | null, at: number): Promise<ApiKeyRecord | undefined>;
  listLedger(keyId: string | null, q: { cursor?: string; limit: number; taskId?: string }): Promise<Page<LedgerEntry>>;

  // --- tasks ---
  /**
   * One transaction: replays an Idempotency-Key, checks the key's concurrency limit, holds the price
   * (payment_required if the balance is short), inserts the task and its hold ledger row.
   */
  createTask(task: NewTask, opts: CreateTaskOptions): Promise<CreateTaskResult>;
  getTask(id: string): Promise<TaskRecord | undefined>;
  /** Only the fields a poll answers (GET /v1/tasks/{id}): the hottest read, so it reads no more. */
  getTaskView(id: string): Promise<TaskViewFields | undefined>;
  /**
   * The same read answered at once, by a store that reads synchronously (the embedded one); absent where a
   * read must wait. The poll's fast path uses it to answer in the turn it reads requests in.
   */
  getTaskViewNow?(id: string): TaskViewFields | undefined;
  /**
   * Runs `read`, whose store reads are synchronous (`getTaskViewNow`), in one read transaction: one lock
   * for a run of reads instead of one per statement. Offered by the embedded store; `read` must not write.
   */
  readTogether?<T>(read: () => T): T;
  listTasks(keyId: string, q: TaskQuery): Promise<Page<TaskRecord>>;
  /** Leases up to `limit` unfinished tasks that are due; a lease that expires lets another worker claim. */
  claimTasks(owner: string, now: number, leaseMs: number, limit: number): Promise<TaskRecord[]>;
  /** Claims one task now, whatever its due time, if it is unfinished and unleased (webhook wake-ups). */
  claimTask(id: string, owner: string, now: number, leaseMs: number): Promise<TaskRecord | undefined>;
  /** Changes a task the caller holds the lease of; undefined if it finished or the lease was lost. */
  updateTask(id: string, owner: string, patch: TaskPatch, now: number): Promise<TaskRecord | undefined>;
  /**
   * updateTask for a caller that goes on without the changed task (a status check that found the job still
   * running, a release, a retry): true if the task was changed, false if it finished or the lease was lost.
   * The embedded store then neither returns the row nor builds a TaskRecord of it: about a fifth of the
   * store's share of a status check (docs/decisions/0012-performance.md, item 53).
   */
  patchTask(id: string, owner: string, patch: TaskPatch, now: number): Promise<boolean>;
  /**
   * Ends a task and moves its money, in one transaction: settle on completion (releasing any unused
   * hold), full refund on failure or cancellation; enqueues its webhook. A task already finished is left
   * as it is (`changed: false`), which makes duplicate results and double cancels harmless.
   */
  finishTask(id: string, outcome: TaskOutcome, now: number): Promise<FinishResult | undefined>;
  /** Owners holding leases now (to find those of dead processes). */
  leaseOwners(): Promise<string[]>;
  /** Makes an owner's tasks claimable at once (its process is known to be gone). */
  releaseLeases(owner: string, now: number): Promise<number>;
  /** The earliest next check of an unleased unfinished task, for the engine's sleep. */
  nextDueAt(): Promise<number | undefined>;
  /** Unfinished tasks: all, or of one model (queue limits). */
  countUnfinished(model?: string): Promise<number>;
  /** Unfinished tasks whose deadline has passed (the timeout sweeper). */
  findOverdue(now: number, limit: number): Promise<TaskRecord[]>;
  /** Tasks whose results expired before `now` and still hold storage keys (retention sweeper). */
  findExpiredResults(now: number, limit: number): Promise<TaskRecord[]>;
  /** Deletes up to `limit` Idempotency-Key records made before `before` (past the replay window); returns how many. */
  pruneIdempotency(before: number, limit: number): Promise<number>;
  /** Forgets a task's stored result after its files were removed. */
  clearResult(id: string): Promise<void>;

  // --- webhooks ---
  claimWebhooks(now: number, leaseMs: number, limit: number): Promise<WebhookDelivery[]>;
  recordWebhookAttempt(attempt: WebhookAttempt, next: { deliveredAt?: number; abandonedAt?: number; nextAttemptAt?: number }): Promise<void>;
  listWebhookDeliveries(q: { taskId?: string; keyId?: string; limit: number }): Promise<(WebhookDelivery & { attemptLog: WebhookAttempt[] })[]>;

  // --- usage ---
  usage(q: { keyId?: string; model?: string; from?: string; to?: string }): Promise<UsageRow[]>;
}
