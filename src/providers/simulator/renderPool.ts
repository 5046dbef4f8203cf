/**
 * Runs simulator renders a few at a time, first come first served. Each render is an ffmpeg child process,
 * so the event loop never waits on one; the bound keeps a burst of tasks from starting hundreds of encoders.
 */
import os from 'node:os';
import path from 'node:path';
import { renderSimulatedVideo, type RenderOptions } from './render.ts';

export type Renderer = (opts: RenderOptions) => Promise<void>;

export interface RenderPoolOptions {
  /** Renders at once (default: the number of CPUs; at least 1). */
  concurrency?: number;
  /** What a render does; tests substitute their own. */
  renderer?: Renderer;
}

interface Job {
  opts: RenderOptions;
  controller: AbortController;
  resolve(): void;
  reject(e: unknown): void;
}

export class RenderPoolClosedError extends Error {
  constructor() {
    super('the render pool is closed');
    this.name = 'RenderPoolClosedError';
  }
}

export class RenderPool {
  readonly concurrency: number;
  private readonly renderer: Renderer;
  private readonly queue: Job[] = [];
  private readonly running = new Set<Job>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Work in flight or queued, by output path: a second request for the same file joins the first. */
  private readonly byPath = new Map<string, Promise<void>>();
  private closed = false;

  constructor(opts: RenderPoolOptions = {}) {
    const requested = opts.concurrency ?? os.availableParallelism();
    this.concurrency = Math.max(1, Math.floor(requested) || 1);
    this.renderer = opts.renderer ?? renderSimulatedVideo;
  }

  /** Renders waiting for a slot (the naming of p-queue: `size` waits, `pending` runs). */
  get size(): number {
    return this.queue.length;
  }

  /** Renders running now. */
  get pending(): number {
    return this.running.size;
  }

  /**
   * Renders `opts.outPath`. A request for a path already queued or rendering returns that render's promise
   * (the first request's options win). `opts.signal` cancels the render for everyone waiting on it.
   */
  render(opts: RenderOptions): Promise<void> {
    if (this.closed) return Promise.reject(new RenderPoolClosedError());
    const key = path.resolve(opts.outPath);
    const existing = this.byPath.get(key);
    if (existing) return existing;
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);

    const promise = new Promise<void>((resolve, reject) => {
      const signal = opts.signal;
      const onAbort = (): void => {
        // Queued: leave the queue now. Running: the render sees the abort and kills its child.
        const at = this.queue.indexOf(job);
        if (at >= 0) {
          this.queue.splice(at, 1);
          job.reject(signal!.reason);
        }
        job.controller.abort(signal!.reason);
      };
      const settle = (): void => {
        this.byPath.delete(key);
        signal?.removeEventListener('abort', onAbort);
      };
      const job: Job = {
        opts,
        controller: new AbortController(),
        resolve: () => (settle(), resolve()),
        reject: (e) => (settle(), reject(e)),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
    });
    this.byPath.set(key, promise);
    this.drain();
    return promise;
  }

  /** Stops everything: queued renders reject, running ffmpeg children are killed; resolves once they exit. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new RenderPoolClosedError();
    for (const job of this.queue.splice(0)) job.reject(error);
    for (const job of this.running) job.controller.abort(error);
    await Promise.allSettled([...this.inFlight]);
  }

  private drain(): void {
    while (this.running.size < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running.add(job);
      const run = Promise.resolve()
        .then(() => this.renderer({ ...job.opts, signal: job.controller.signal }))
        .then(job.resolve, job.reject)
        .finally(() => {
          this.running.delete(job);
          this.inFlight.delete(run);
          if (!this.closed) this.drain();
        });
      this.inFlight.add(run);
    }
  }
}
