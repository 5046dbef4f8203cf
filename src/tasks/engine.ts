/**
 * The worker loop: claims due tasks with a lease, runs each through the TaskRunner with bounded concurrency,
 * and sleeps until the next task is due or something wakes it (a new task, an upstream webhook).
 * All state lives in the store, so a restarted or second worker picks up where this one stopped.
 */
import type { Store } from '../store/types.ts';
import type { Logger } from '../runtime/logger.ts';
import type { TaskRunner } from './runner.ts';
import { WakeableSleep } from '../runtime/wakeableSleep.ts';

export interface EngineOptions {
  workerId: string;
  leaseMs: number;
  /** Tasks worked on at once by this process. */
  maxInFlight: number;
  /** Longest sleep when nothing is due, ms (bounds how late a task submitted by another process is seen). */
  idleSleepMs: number;
}

export class TaskEngine {
  private running = false;
  private readonly active = new Set<Promise<void>>();
  private readonly sleeper = new WakeableSleep();
  private loopDone: Promise<void> | null = null;
  /** Ids asked for by webhooks: claimed at once, ahead of the due queue. */
  private readonly urgent = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly runner: TaskRunner,
    private readonly logger: Logger,
    private readonly opts: EngineOptions,
  ) {}

  get inFlight(): number {
    return this.active.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Look for due work now (a task was submitted); with an id, check that task now (upstream webhook). */
  wake(taskId?: string): void {
    if (taskId) this.urgent.add(taskId);
    this.sleeper.wake();
  }

  /** Stops claiming, waits for running steps (each ends by releasing its lease), then returns. */
  async stop(graceMs = 30_000): Promise<void> {
    this.running = false;
    this.sleeper.wake();
    await this.loopDone;
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.active]), timeout]);
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((e) => this.logger.error({ err: e }, 'task step crashed')).finally(() => {
      this.active.delete(tracked);
      this.sleeper.wake();
    });
    this.active.add(tracked);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const claimed = await this.claim();
        if (claimed > 0 && this.active.size < this.opts.maxInFlight) continue;
        await this.sleep(await this.sleepFor());
      } catch (e) {
        this.logger.error({ err: e }, 'engine loop error');
        await this.sleep(1000);
      }
    }
  }

  private async claim(): Promise<number> {
    const now = Date.now();
    let claimed = 0;
    for (const id of [...this.urgent]) {
      if (this.active.size >= this.opts.maxInFlight) break;
      this.urgent.delete(id);
      const task = await this.store.claimTask(id, this.opts.workerId, now, this.opts.leaseMs);
      if (task) (this.track(this.runner.run(task)), claimed++);
    }
    const free = this.opts.maxInFlight - this.active.size;
    if (free <= 0) return claimed;
    const tasks = await this.store.claimTasks(this.opts.workerId, now, this.opts.leaseMs, free);
    for (const t of tasks) this.track(this.runner.run(t));
    return claimed + tasks.length;
  }

  private async sleepFor(): Promise<number> {
    if (this.active.size >= this.opts.maxInFlight || this.urgent.size > 0) return this.opts.idleSleepMs;
    const next = await this.store.nextDueAt();
    if (next === undefined) return this.opts.idleSleepMs;
    return Math.max(0, Math.min(this.opts.idleSleepMs, next - Date.now()));
  }

  private sleep(ms: number): Promise<void> {
    return this.running ? this.sleeper.sleep(ms) : Promise.resolve();
  }
}
