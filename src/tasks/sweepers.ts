/**
 * Periodic jobs that need no trigger: fail tasks that outlived their model's maximum time (also those left
 * behind by a crash), and delete stored results, inputs and uploads whose retention has passed.
 */
import type { Store } from '../store/types.ts';
import type { ObjectStorage } from '../media/storage/types.ts';
import type { Logger } from '../runtime/logger.ts';
import type { TaskRunner } from './runner.ts';

export interface SweeperOptions {
  workerId: string;
  leaseMs: number;
  timeoutEveryMs: number;
  retentionEveryMs: number;
  /** Uploaded images and stored inline inputs are kept this long, seconds. */
  uploadTtlSeconds: number;
  /** Idempotency-Key records older than this can no longer replay and are deleted. */
  idempotencyWindowMs: number;
}

export class Sweepers {
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly store: Store,
    private readonly storage: ObjectStorage,
    private readonly runner: TaskRunner,
    private readonly logger: Logger,
    private readonly opts: SweeperOptions,
  ) {}

  start(): void {
    const every = (ms: number, job: () => Promise<unknown>) => {
      const t = setInterval(() => {
        if (this.running) return;
        this.running = job()
          .catch((e) => this.logger.error({ err: e }, 'sweeper failed'))
          .finally(() => (this.running = null));
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.timeoutEveryMs, () => this.sweepTimeouts());
    every(this.opts.retentionEveryMs, () => this.sweepRetention());
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.running;
  }

  /** Claims overdue tasks and lets the runner end them (it fails and refunds a task past its deadline). */
  async sweepTimeouts(now = Date.now()): Promise<number> {
    let n = 0;
    for (const t of await this.store.findOverdue(now, 500)) {
      const task = await this.store.claimTask(t.id, this.opts.workerId, now, this.opts.leaseMs);
      if (!task) continue; // another worker holds it; its own deadline check will end it
      await this.runner.run(task);
      n++;
    }
    if (n) this.logger.info({ count: n }, 'timed-out tasks failed and refunded');
    return n;
  }

  /**
   * Removes expired results, uploads and stored inputs older than their retention, and Idempotency-Key
   * records past the replay window (returns the media removed).
   */
  async sweepRetention(now = Date.now()): Promise<number> {
    let removed = 0;
    for (;;) {
      const batch = await this.store.findExpiredResults(now, 200);
      if (batch.length === 0) break;
      for (const task of batch) {
        for (const v of task.result?.videos ?? []) await this.storage.delete(v.key);
        await this.store.clearResult(task.id);
        removed++;
      }
    }
    const cutoff = now - this.opts.uploadTtlSeconds * 1000;
    for (const prefix of ['uploads/', 'inputs/']) {
      for await (const obj of this.storage.list(prefix)) {
        const day = /^[a-z]+\/(\d{4}-\d{2}-\d{2})\//.exec(obj.key)?.[1];
        // Keys carry their day; a day's objects go once all of that day is older than the retention.
        if (day && Date.parse(`${day}T00:00:00Z`) + 86_400_000 < cutoff) {
          await this.storage.delete(obj.key);
          removed++;
        }
      }
    }
    if (removed) this.logger.info({ count: removed }, 'expired media removed');
    let pruned = 0;
    for (;;) {
      const n = await this.store.pruneIdempotency(now - this.opts.idempotencyWindowMs, 1000);
      pruned += n;
      if (n < 1000) break;
    }
    if (pruned) this.logger.info({ count: pruned }, 'expired Idempotency-Key records removed');
    return removed;
  }
}
