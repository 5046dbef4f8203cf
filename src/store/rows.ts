/**
 * Row ↔ record mapping shared by the SQLite and PostgreSQL stores (same column names in both).
 * JSON columns hold the parts of a task that are read and written whole.
 */
import type { ApiKeyRecord, LedgerEntry, TaskViewFields, WebhookDelivery, WebhookAttempt } from './types.ts';
import type { TaskRecord } from '../tasks/task.ts';

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

/** Column values of a new task row (JSON columns serialised). */
export function taskColumns(t: TaskRecord): Record<string, unknown> {
  return {
    id: t.id,
    key_id: t.keyId,
    model: t.model,
    mode: t.mode,
    status: t.status,
    phase: t.phase,
    progress: t.progress,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
    completed_at: t.completedAt,
    estimated_seconds: t.estimatedSeconds,
    deadline_at: t.deadlineAt,
    price_micros: t.priceMicros,
    cost_micros: t.costMicros,
    billed_seconds: t.billedSeconds,
    attempts: t.attempts,
    next_check_at: t.nextCheckAt,
    lease_owner: t.leaseOwner,
    lease_until: t.leaseUntil,
    idempotency_key: t.idempotencyKey,
    callback_url: t.callbackUrl,
    result_expires_at: t.result?.expiresAt ?? null,
    params: JSON.stringify(t.params),
    inputs: JSON.stringify(t.inputs),
    plan: JSON.stringify(t.plan),
    upstream: t.upstream ? JSON.stringify(t.upstream) : null,
    failed_channels: JSON.stringify(t.failedChannels),
    facts: t.facts ? JSON.stringify(t.facts) : null,
    error: t.error ? JSON.stringify(t.error) : null,
    result: t.result ? JSON.stringify(t.result) : null,
  };
}

export const TASK_COLUMN_NAMES = [
  'id', 'key_id', 'model', 'mode', 'status', 'phase', 'progress', 'created_at', 'updated_at', 'completed_at',
  'estimated_seconds', 'deadline_at', 'price_micros', 'cost_micros', 'billed_seconds', 'attempts', 'next_check_at',
  'lease_owner', 'lease_until', 'idempotency_key', 'callback_url', 'result_expires_at', 'params', 'inputs', 'plan', 'upstream',
  'failed_channels', 'facts', 'error', 'result',
] as const;

/** Builds a full record for a new task from what the API supplies. */
export function newTaskRecord(t: import('../tasks/task.ts').NewTask): TaskRecord {
  return {
    ...t,
    status: 'pending',
    phase: 'queued',
    progress: 0,
    updatedAt: t.createdAt,
    completedAt: null,
    costMicros: 0,
    upstream: null,
    failedChannels: [],
    attempts: 0,
    facts: null,
    error: null,
    result: null,
    leaseOwner: null,
    leaseUntil: null,
  };
}
