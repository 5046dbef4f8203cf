/**
 * What an upstream provider is, in the shape of vercel/ai's video-model spec: `start` returns an opaque
 * operation that is persisted on the task, `status` reports on it, `cancel` tells the upstream to stop where
 * it can, and `openOutput` streams a result so the gateway can copy it into its own storage.
 *
 * The core (tasks/engine) never knows which upstream it drives. The simulator implements this interface
 * exactly like a real upstream, and every provider runs the contract suite in test/contracts/.
 */
import type { Readable } from 'node:stream';
import type { ModelSpec } from '../models/spec.ts';
import type { ValidatedRequest } from '../models/validate.ts';
import type { OutputPlan, InputFacts } from '../models/output.ts';
import type { ObjectStorage } from '../media/storage/types.ts';
import type { SafeFetch } from '../media/safeFetch.ts';
import type { Logger } from '../runtime/logger.ts';

/** A media input as the provider may send it: a URL the upstream can fetch and, for stored inputs, the bytes. */
export interface MediaInput {
  field: string;
  index: number | null;
  /** A URL reachable by the upstream: the caller's own URL, or the gateway's signed URL of the stored copy. */
  url: string;
  /** Storage key when the gateway holds a copy (inline base64 and uploads); lets adapters inline the bytes. */
  storageKey?: string;
  contentType?: string;
  /** Size of the stored copy, when the gateway knows it (inline images). */
  bytes?: number;
}

export interface StartRequest {
  /** reelay's task id; adapters send it as the upstream's idempotency key where one exists. */
  taskId: string;
  spec: ModelSpec;
  request: ValidatedRequest;
  plan: OutputPlan;
  inputs: MediaInput[];
  facts: InputFacts;
  /** The upstream model id the channel maps this model to (channels may override the default). */
  upstreamModel?: string;
  /** Where the upstream may POST status changes for this task (a faster path than polling), if enabled. */
  webhookUrl?: string;
}

/** Opaque, JSON-serialisable state of an upstream job; persisted with the task so a restart loses nothing. */
export type UpstreamOperation = Record<string, unknown>;

export type UpstreamOutput =
  | { kind: 'url'; url: string; headers?: Record<string, string>; contentType?: string }
  | { kind: 'base64'; data: string; contentType: string }
  | { kind: 'file'; path: string; contentType: string }
  /** Already copied into the gateway's storage (inline bytes are written there at once, not kept in the task). */
  | { kind: 'stored'; key: string; contentType: string };

export type StatusResult =
  | { state: 'queued' | 'running'; progress?: number; etaSeconds?: number }
  | {
      state: 'succeeded';
      outputs: UpstreamOutput[];
      /** Seconds the upstream billed (EDIT: the source's, capped); defaults to the planned seconds × count. */
      billedSeconds?: number;
      /** Facts about the result the upstream reported (size, duration), when it reports them. */
      videos?: { width?: number; height?: number; seconds?: number }[];
    }
  | { state: 'failed'; error: UpstreamFailure }
  | { state: 'cancelled' };

export interface UpstreamFailure {
  /** reelay's code for the failure (upstream_error, content_filtered, upstream_timeout, ...). */
  code: string;
  /** What the upstream said, in plain words. */
  message: string;
  /** The upstream's own code, kept for operators. */
  upstreamCode?: string;
}

export interface ProviderContext {
  /** For URLs that come from clients or upstream replies: SSRF-guarded, https-only where asked. */
  fetch: SafeFetch;
  /** For the upstream's own API at the channel's configured base URL (trusted operator configuration). */
  api: SafeFetch;
  storage: ObjectStorage;
  logger: Logger;
  signal?: AbortSignal;
}

export interface OpenedOutput {
  body: Readable;
  contentType: string;
  bytes?: number;
}

export interface VideoProvider {
  /** The provider kind as written in channel config: simulator, apimart, dashscope, ... */
  readonly kind: string;
  /** Model ids this provider can serve. */
  supports(modelId: string): boolean;
  /**
   * Whether this upstream can take this particular request (e.g. a host that allows fewer reference images
   * than the seed model does). A string says why not: the channel is skipped for the task, and if no
   * channel can take it the task fails (refunded) with that reason. Absent = every supported request.
   */
  canServe?(request: ValidatedRequest, inputs: MediaInput[]): true | string;
  start(req: StartRequest, ctx: ProviderContext): Promise<UpstreamOperation>;
  status(op: UpstreamOperation, ctx: ProviderContext): Promise<StatusResult>;
  /** Asks the upstream to stop; absent when the upstream has no cancel. */
  cancel?(op: UpstreamOperation, ctx: ProviderContext): Promise<void>;
  /** Expected seconds from submit to result, shown as estimated_time; the model's typical time if absent. */
  estimateSeconds?(spec: ModelSpec, plan: OutputPlan): number;
  /** Streams one result; the default (openUpstreamOutput) handles url, base64 and file outputs. */
  openOutput?(output: UpstreamOutput, ctx: ProviderContext): Promise<OpenedOutput>;
}

/** An upstream call that failed; `retryable` decides between retry/failover and failing the task. */
export class ProviderError extends Error {
  readonly retryable: boolean;
  readonly status?: number;
  readonly upstreamCode?: string;
  readonly retryAfterMs?: number;
  /** The upstream's quota or rate limit: slow the channel down, do not count it against the task. */
  readonly rateLimited: boolean;

  constructor(
    message: string,
    opts: { retryable: boolean; status?: number; upstreamCode?: string; retryAfterMs?: number; rateLimited?: boolean },
  ) {
    super(message);
    this.name = 'ProviderError';
    this.retryable = opts.retryable;
    this.status = opts.status;
    this.upstreamCode = opts.upstreamCode;
    this.retryAfterMs = opts.retryAfterMs;
    this.rateLimited = opts.rateLimited ?? opts.status === 429;
  }
}

export function isProviderError(e: unknown): e is ProviderError {
  return e instanceof ProviderError;
}
