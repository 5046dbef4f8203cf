/**
 * What the HTTP layer needs from the rest of the gateway. Built by runtime/gateway.ts; tests build it
 * with their own parts.
 */
import type { ReelayConfig } from '../config/schema.ts';
import type { Store } from '../store/types.ts';
import type { ObjectStorage } from '../media/storage/types.ts';
import type { UrlSigner } from '../media/signedUrls.ts';
import type { PriceBook } from '../billing/prices.ts';
import type { ChannelRouter } from '../channels/router.ts';
import type { ApiKeys } from '../accounts/apiKeys.ts';
import type { SubmitService } from '../tasks/submit.ts';
import type { TaskRecord } from '../tasks/task.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Metrics } from '../runtime/metrics.ts';
import type { RateLimiter } from './rateLimiter.ts';
import type { HookUrls } from '../channels/hookUrls.ts';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: unknown;
}

export interface AppContext {
  config: ReelayConfig;
  store: Store;
  storage: ObjectStorage;
  signer: UrlSigner;
  prices: PriceBook;
  router: ChannelRouter;
  keys: ApiKeys;
  submit: SubmitService;
  limiter: RateLimiter;
  metrics: Metrics;
  logger: Logger;
  adminToken: string;
  /** Signs and checks the per-task callback URLs given to upstreams. */
  hooks: HookUrls;
  /** A result or upload URL for a stored object (gateway-signed, or the storage's presigned URL). */
  urlFor(key: string, expiresAt: number): string;
  /** A task reached a terminal state outside the engine (a client's cancel): metrics, webhooks. */
  taskFinished(task: TaskRecord): void;
  /** Best-effort: tell the upstream to stop a task that was cancelled. */
  cancelUpstream(task: TaskRecord): Promise<void>;
  /** An upstream called us back about a task: check it now. */
  wakeTask(taskId: string): void;
  readiness(): Promise<ReadinessCheck[]>;
  /** False once shutdown has begun: new work is refused with 503. */
  accepting(): boolean;
}
