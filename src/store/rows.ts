/**
 * Row ↔ record mapping shared by the SQLite and PostgreSQL stores (same column names in both).
 * JSON columns hold the parts of a task that are read and written whole.
 */
import type { ApiKeyRecord, LedgerEntry, TaskViewFields, WebhookDelivery, WebhookAttempt } from './types.ts';
import type { TaskError, TaskOutcome, TaskRecord, TaskResult } from '../tasks/task.ts';
import type { LedgerMove } from '../billing/settlement.ts';

type Row = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const json = <T>(v: unknown): T => (v === null || v === undefined ? (null as T) : typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

export function toKey(r: Row): ApiKeyRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    prefix: String(r.prefix),
    hash: String(r.hash),
    balanceMicros: num(r.balance_micros),
    heldMicros: num(r.held_micros),
    spentMicros: num(r.spent_micros),
    rateLimitRpm: numOrNull(r.rate_limit_rpm),
    maxConcurrentTasks: numOrNull(r.max_concurrent_tasks),
    models: json<string[] | null>(r.models),
    webhookSecret: String(r.webhook_secret),
    createdAt: num(r.created_at),
    revokedAt: numOrNull(r.revoked_at),
  };
}

export function toLedger(r: Row): LedgerEntry {
  return {
    id: num(r.id),
    keyId: String(r.key_id),
    taskId: r.task_id === null ? null : String(r.task_id),
    kind: r.kind as LedgerEntry['kind'],
    balanceDelta: num(r.balance_delta),
    heldDelta: num(r.held_delta),
    spentDelta: num(r.spent_delta),
    balanceAfter: num(r.balance_after),
    note: (r.note as string | null) ?? null,
    createdAt: num(r.created_at),
  };
}

/** The columns of a task's view, in the order `toTaskView` reads them from a raw row. */
export const TASK_VIEW_COLUMNS = 'id, key_id, model, status, progress, created_at, completed_at, estimated_seconds, cost_micros, error, result';

/** A row of TASK_VIEW_COLUMNS as an array (better-sqlite3's raw mode, pg's rowMode 'array'). */
export function toTaskView(r: unknown[]): TaskViewFields {
  return {
    id: String(r[0]),
    keyId: String(r[1]),
    model: String(r[2]),
    status: r[3] as TaskRecord['status'],
    progress: num(r[4]),
    createdAt: num(r[5]),
    completedAt: numOrNull(r[6]),
    estimatedSeconds: num(r[7]),
    costMicros: num(r[8]),
    error: json(r[9]),
    result: json(r[10]),
  };
}

export function toTask(r: Row): TaskRecord {
  return {
    id: String(r.id),
    keyId: String(r.key_id),
    model: String(r.model),
    mode: r.mode as TaskRecord['mode'],
    params: json(r.params),
    inputs: json<TaskRecord['inputs'] | null>(r.inputs) ?? [],
    plan: json(r.plan),
    status: r.status as TaskRecord['status'],
    phase: r.phase as TaskRecord['phase'],
    progress: num(r.progress),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    completedAt: numOrNull(r.completed_at),
    estimatedSeconds: num(r.estimated_seconds),
    deadlineAt: num(r.deadline_at),
    priceMicros: num(r.price_micros),
    costMicros: num(r.cost_micros),
    billedSeconds: num(r.billed_seconds),
    upstream: json(r.upstream),
    failedChannels: json<string[] | null>(r.failed_channels) ?? [],
    attempts: num(r.attempts),
    facts: json(r.facts),
    error: json(r.error),
    result: json(r.result),
    callbackUrl: (r.callback_url as string | null) ?? null,
    idempotencyKey: (r.idempotency_key as string | null) ?? null,
    nextCheckAt: num(r.next_check_at),
    leaseOwner: (r.lease_owner as string | null) ?? null,
    leaseUntil: numOrNull(r.lease_until),
  };
}

export function toDelivery(r: Row): WebhookDelivery {
  return {
    id: num(r.id),
    taskId: String(r.task_id),
    keyId: String(r.key_id),
    url: String(r.url),
    event: String(r.event),
    attempts: num(r.attempts),
    nextAttemptAt: num(r.next_attempt_at),
    deliveredAt: numOrNull(r.delivered_at),
    abandonedAt: numOrNull(r.abandoned_at),
    lastStatus: numOrNull(r.last_status),
    lastError: (r.last_error as string | null) ?? null,
    createdAt: num(r.created_at),
  };
}

export function toAttempt(r: Row): WebhookAttempt {
  return {
    deliveryId: num(r.delivery_id),
    attempt: num(r.attempt),
    at: num(r.at),
    status: numOrNull(r.status),
    error: (r.error as string | null) ?? null,
    durationMs: num(r.duration_ms),
  };
}

/**
 * Column values of a task row, in TASK_COLUMN_NAMES order (JSON columns serialised). SQLite binds them by
 * position: binding 30 named values looks each name up on the object from C++, 4–6 µs more per insert.
 */
export function taskValues(t: TaskRecord): unknown[] {
  return [
    t.id,
    t.keyId,
    t.model,
    t.mode,
    t.status,
    t.phase,
    t.progress,
    t.createdAt,
    t.updatedAt,
    t.completedAt,
    t.estimatedSeconds,
    t.deadlineAt,
    t.priceMicros,
    t.costMicros,
    t.billedSeconds,
    t.attempts,
    t.nextCheckAt,
    t.leaseOwner,
    t.leaseUntil,
    t.idempotencyKey,
    t.callbackUrl,
    t.result?.expiresAt ?? null,
    JSON.stringify(t.params),
    JSON.stringify(t.inputs),
    JSON.stringify(t.plan),
    t.upstream ? JSON.stringify(t.upstream) : null,
    JSON.stringify(t.failedChannels),
    t.facts ? JSON.stringify(t.facts) : null,
    t.error ? JSON.stringify(t.error) : null,
    t.result ? JSON.stringify(t.result) : null,
  ];
}

export const TASK_COLUMN_NAMES = [
  'id', 'key_id', 'model', 'mode', 'status', 'phase', 'progress', 'created_at', 'updated_at', 'completed_at',
  'estimated_seconds', 'deadline_at', 'price_micros', 'cost_micros', 'billed_seconds', 'attempts', 'next_check_at',
  'lease_owner', 'lease_until', 'idempotency_key', 'callback_url', 'result_expires_at', 'params', 'inputs', 'plan', 'upstream',
  'failed_channels', 'facts', 'error', 'result',
] as const;

/** Column values of a task row by column name (JSON columns serialised). */
export function taskColumns(t: TaskRecord): Record<string, unknown> {
  const values = taskValues(t);
  const row: Record<string, unknown> = {};
  TASK_COLUMN_NAMES.forEach((name, i) => (row[name] = values[i]));
  return row;
}

/**
 * Builds a full record for a new task from what the API supplies.
 *
 * Every property is written out rather than spread from `t`: in V8 (Node 20) an object spread followed by new
 * properties misses the map-transition cache, and this record cost 22 µs to build that way — a sixth of a
 * submit — against 0.1 µs as a plain literal (docs/decisions/0012-performance.md, item 23).
 */
export function newTaskRecord(t: import('../tasks/task.ts').NewTask): TaskRecord {
  return {
    id: t.id,
    keyId: t.keyId,
    model: t.model,
    mode: t.mode,
    params: t.params,
    inputs: t.inputs,
    plan: t.plan,
    status: 'pending',
    phase: 'queued',
    progress: 0,
    createdAt: t.createdAt,
    updatedAt: t.createdAt,
    completedAt: null,
    estimatedSeconds: t.estimatedSeconds,
    deadlineAt: t.deadlineAt,
    priceMicros: t.priceMicros,
    costMicros: 0,
    billedSeconds: t.billedSeconds,
    upstream: null,
    failedChannels: [],
    attempts: 0,
    facts: null,
    error: null,
    result: null,
    callbackUrl: t.callbackUrl,
    idempotencyKey: t.idempotencyKey,
    nextCheckAt: t.nextCheckAt,
    leaseOwner: null,
    leaseUntil: null,
  };
}

/** What a finish writes into the task row beside its moves: the same in every store and on every path. */
export interface FinishFields {
  status: TaskOutcome['status'];
  /** What the task was charged: its settle move's amount (0 without one). */
  cost: number;
  billed: number;
  result: TaskResult | null;
  expires: number | null;
  error: TaskError | null;
}

/** `moves`: the task's finishMoves for `outcome`. */
export function finishFields(task: TaskRecord, outcome: TaskOutcome, moves: readonly LedgerMove[]): FinishFields {
  const result = outcome.status === 'completed' ? outcome.result : null;
  return {
    status: outcome.status,
    cost: moves.find((m) => m.kind === 'settle')?.spentDelta ?? 0,
    billed: outcome.status === 'completed' ? outcome.billedSeconds : task.billedSeconds,
    result,
    expires: result?.expiresAt ?? null,
    error: outcome.status === 'completed' ? null : (outcome.error ?? null),
  };
}
