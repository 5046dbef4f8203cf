/**
 * Wire shapes of the gateway's answers (CONTRACT.md §4). Field names stay as they are on the wire
 * (snake_case), as openai-node does, so the docs and the SDK read the same.
 */

export type TaskStatus = 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled';

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

export function isTerminalStatus(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

export interface TaskVideo {
  /** URLs of one video as the gateway serves it (signed; stop working at expires_at). */
  url: string[];
  expires_at: number;
}

export interface Task {
  id: string;
  status: TaskStatus;
  /** 0–100, never going back. */
  progress: number;
  /** Unix seconds. */
  created: number;
  completed?: number;
  /** Seconds the gateway expects the task to take in all. */
  estimated_time: number;
  actual_time?: number;
  /** What was charged: the price once completed, 0 when failed or cancelled. */
  cost: number;
  /** Present in list answers; GET /v1/tasks/{id} may omit it. */
  model?: string;
  result?: { videos: TaskVideo[] };
  error?: { code: string; message: string };
}

export interface CreateVideoResult {
  taskId: string;
  /** True when the gateway answered an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

export interface UploadedImage {
  url: string;
  filename: string;
  content_type: string;
  bytes: number;
  created_at: number;
}

/** A model's option as GET /v1/models describes it. */
export interface ModelField {
  type: string;
  description: string;
  required: boolean | string[];
  default?: unknown;
  values?: (string | number)[];
  minimum?: number;
  maximum?: number;
  max_length?: number;
  modes?: string[];
  [key: string]: unknown;
}

/** GET /v1/models entry. */
export interface ModelInfo {
  id: string;
  object?: 'model';
  family?: string;
  description?: string;
  modes?: { mode: string; name: string; description: string }[];
  fields?: Record<string, ModelField>;
  pricing?: { unit: 'per_second'; per_second: Record<string, number>; with_audio_per_second?: Record<string, number>; per_mode_per_second?: Record<string, Record<string, number>> };
  estimated_time?: number;
  max_run_seconds?: number;
  [key: string]: unknown;
}

/** GET /v1/balance: APIMart's fields plus the key's own figures. */
export interface Balance {
  /** What the key can spend now. */
  remain_balance: number;
  /** Charged for completed tasks. */
  used_balance: number;
  /** Held for unfinished tasks. */
  held_balance: number;
  unlimited_quota?: boolean;
  key?: { id: string; name: string; prefix: string; rate_limit_rpm: number | null; max_concurrent_tasks: number | null; models: string[] | null };
  [key: string]: unknown;
}
