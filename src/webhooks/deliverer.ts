/**
 * Delivers client webhooks: when a task with a callback_url reaches a terminal state, the store writes a
 * delivery row in the same transaction (an outbox), and this loop POSTs the task object to the URL, signed
 * with the key's webhook secret. Delivery is at least once: a 2xx ends it; anything else is retried with
 * exponential backoff until the retry window (≥ 1 h) has passed; every attempt is recorded.
 */
import type { Store, WebhookDelivery } from '../store/types.ts';
import type { SafeFetch } from '../media/safeFetch.ts';
import type { Logger } from '../runtime/logger.ts';
import { taskView, type UrlFor } from '../api/taskView.ts';
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature.ts';
import { WakeableSleep } from '../runtime/wakeableSleep.ts';

export interface DelivererOptions {
  timeoutMs: number;
  firstRetryMs: number;
  retryWindowMs: number;
  leaseMs: number;
  /** Deliveries sent at once. */
  concurrency: number;
  idleSleepMs: number;
}

const MAX_BACKOFF_MS = 15 * 60_000;

export class WebhookDeliverer {
  private running = false;
  private loopDone: Promise<void> | null = null;
  private readonly sleeper = new WakeableSleep();

  constructor(
    private readonly store: Store,
    private readonly fetch: SafeFetch,
    private readonly urlFor: UrlFor,
    private readonly logger: Logger,
    private readonly opts: DelivererOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  wake(): void {
    this.sleeper.wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.sleeper.wake();
    await this.loopDone;
  }

  /** The n-th retry waits first × 2^(n−1), capped, ±20%. */
  backoff(attempt: number): number {
    const base = Math.min(MAX_BACKOFF_MS, this.opts.firstRetryMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(base * (0.8 + 0.4 * Math.random()));
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const batch = await this.store.claimWebhooks(Date.now(), this.opts.leaseMs, this.opts.concurrency);
        await Promise.all(batch.map((d) => this.deliver(d)));
        if (batch.length === this.opts.concurrency) continue;
      } catch (e) {
        this.logger.error({ err: e }, 'webhook loop error');
      }
      await this.sleep(this.opts.idleSleepMs);
    }
  }

  /** One attempt at one delivery. */
  async deliver(d: WebhookDelivery): Promise<void> {
    const attempt = d.attempts + 1;
    const started = Date.now();
    const [task, key] = await Promise.all([this.store.getTask(d.taskId), this.store.getKey(d.keyId)]);
    if (!task || !key) {
      await this.store.recordWebhookAttempt({ deliveryId: d.id, attempt, at: started, status: null, error: 'task or key no longer exists', durationMs: 0 }, { abandonedAt: started });
      return;
    }
    const body = JSON.stringify(taskView(task, this.urlFor));
    const timestamp = Math.floor(started / 1000);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await this.fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'reelay-webhooks/1',
          'x-reelay-event': `task.${d.event}`,
          'x-reelay-delivery': String(d.id),
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(key.webhookSecret, timestamp, body),
        },
        body,
        headersTimeoutMs: this.opts.timeoutMs,
        bodyTimeoutMs: this.opts.timeoutMs,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        maxRedirects: 0,
      });
      status = res.status;
      res.body.resume();
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const now = Date.now();
    const record = { deliveryId: d.id, attempt, at: started, status, error, durationMs: now - started };
    if (error === null) {
      await this.store.recordWebhookAttempt(record, { deliveredAt: now });
      return;
    }
    if (now - d.createdAt >= this.opts.retryWindowMs) {
      this.logger.warn({ taskId: d.taskId, url: d.url.split('?')[0], attempts: attempt, error }, 'webhook abandoned after its retry window');
      await this.store.recordWebhookAttempt(record, { abandonedAt: now });
      return;
    }
    await this.store.recordWebhookAttempt(record, { nextAttemptAt: now + this.backoff(attempt) });
  }

  private sleep(ms: number): Promise<void> {
    return this.running ? this.sleeper.sleep(ms) : Promise.resolve();
  }
}
