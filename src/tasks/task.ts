/**
 * The task: its public status, the engine's phase, and the explicit transitions between them.
 *
 *   status      pending ──▶ processing ──▶ completed
 *                  │             │      └─▶ failed
 *                  └─────────────┴────────▶ failed | cancelled
 *
 *   phase       queued ──▶ submitted ──▶ collecting ──▶ done
 *   (queued: not yet sent upstream; submitted: the upstream has it and is polled; collecting: the upstream
 *    finished and its results are being copied into storage; done: terminal.)
 *
 * Terminal states are entered only through Store.finishTask, which moves the money in the same
 * transaction; a task leaves a terminal state never.
 */
import type { Mode } from '../models/spec.ts';
import type { InputFacts, OutputPlan } from '../models/output.ts';
import type { UpstreamOperation, UpstreamOutput } from '../providers/types.ts';

export type TaskStatus = 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled';
export type TaskPhase = 'queued' | 'submitted' | 'collecting' | 'done';

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];
export const ACTIVE_PHASES: readonly TaskPhase[] = ['queued', 'submitted', 'collecting'];

export function isTerminal(status: TaskStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** Allowed status moves outside finishTask (which handles the terminal ones). */
export const STATUS_MOVES: Record<TaskStatus, readonly TaskStatus[]> = {
  pending: ['pending', 'processing', 'completed', 'failed', 'cancelled'],
  processing: ['processing', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

export interface StoredVideo {
  /** Storage key of the copy reelay serves. */
  key: string;
  bytes: number;
  contentType: string;
  width?: number;
  height?: number;
  seconds?: number;
}

export interface TaskResult {
  videos: StoredVideo[];
  /** Unix seconds after which the stored copies are removed and their URLs stop working. */
  expiresAt: number;
}

export interface TaskError {
  code: string;
  message: string;
  upstreamCode?: string;
}

/** The upstream side of a task: which channel has it and the provider's opaque operation. */
export interface UpstreamState {
  channel: string;
  provider: string;
  operation: UpstreamOperation;
  /** When the upstream accepted the job, ms. */
  startedAt: number;
  /** Results reported by the upstream, kept while they are copied (phase collecting). */
  outputs?: UpstreamOutput[];
  billedSeconds?: number;
  videos?: { width?: number; height?: number; seconds?: number }[];
}

/** An input the gateway holds a copy of (an inline base64 image, or an upload referenced by URL). */
export interface StoredInput {
  field: string;
  index: number | null;
  key: string;
  contentType: string;
  bytes?: number;
}

export interface TaskRecord {
  id: string;
  keyId: string;
  model: string;
  mode: Mode;
  /** The validated request's effective parameters (inline images replaced by stored URLs). */
  params: Record<string, unknown>;
  /** Inputs stored by the gateway, by field; their URLs are in params. */
  inputs: StoredInput[];
  plan: OutputPlan;
  status: TaskStatus;
  phase: TaskPhase;
  progress: number;
  /** ms since epoch */
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
  /** Seconds the task is expected to take, as shown to clients. */
  estimatedSeconds: number;
  /** A task not finished by then fails with upstream_timeout (ms). */
  deadlineAt: number;
  /** Money held at submit, micro-units. */
  priceMicros: number;
  /** Money charged on completion, micro-units; 0 unless completed. */
  costMicros: number;
  billedSeconds: number;
  upstream: UpstreamState | null;
  /** Channels tried and failed for this task (failover never goes back to them). */
  failedChannels: string[];
  attempts: number;
  facts: InputFacts | null;
  error: TaskError | null;
  result: TaskResult | null;
  callbackUrl: string | null;
  idempotencyKey: string | null;
  /** When the engine should next look at the task (ms). */
  nextCheckAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
}

export type NewTask = Omit<
  TaskRecord,
  | 'status'
  | 'phase'
  | 'progress'
  | 'updatedAt'
  | 'completedAt'
  | 'costMicros'
  | 'upstream'
  | 'failedChannels'
  | 'attempts'
  | 'facts'
  | 'error'
  | 'result'
  | 'leaseOwner'
  | 'leaseUntil'
>;

/** How a task ends. Settlement or refund follows from it inside Store.finishTask. */
export type TaskOutcome =
  | { status: 'completed'; result: TaskResult; costMicros: number; billedSeconds: number }
  | { status: 'failed'; error: TaskError }
  | { status: 'cancelled'; error?: TaskError };
