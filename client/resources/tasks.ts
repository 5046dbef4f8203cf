/** GET /v1/tasks/{id}, GET /v1/tasks (cursor pages), POST /v1/tasks/{id}/cancel, and waiting on a task. */
import type { HttpCore } from '../core.ts';
import { unwrap } from '../core.ts';
import { WaitTimeoutError } from '../errors.ts';
import { PagePromise, type CursorPageAnswer } from '../pagination.ts';
import { poll } from '../poll.ts';
import { isTerminalStatus, type Task, type TaskStatus } from '../types.ts';

export interface ListTasksParams {
  status?: TaskStatus;
  model?: string;
  /** Page size (the gateway caps it); iteration still walks every page. */
  limit?: number;
}

export interface WaitOptions {
  /** Called with the task after every read, the final one included. */
  onProgress?: (task: Task) => void;
  /** Pause between reads; default 5000 ms. */
  pollIntervalMs?: number;
  /** Give up (WaitTimeoutError) after this long; the task goes on. Default: wait for ever. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class Tasks {
  readonly #core: HttpCore;

  constructor(core: HttpCore) {
    this.#core = core;
  }

  async get(id: string, opts: { signal?: AbortSignal } = {}): Promise<Task> {
    const res = await this.#core.request<unknown>({ method: 'GET', path: `/v1/tasks/${encodeURIComponent(id)}`, signal: opts.signal });
    return unwrap<Task>(res.body);
  }

  /** `await` for the first page, or `for await` over every task, newest first. */
  list(params: ListTasksParams = {}): PagePromise<Task> {
    return new PagePromise<Task>(async (cursor) => {
      const res = await this.#core.request<CursorPageAnswer<Task>>({
        method: 'GET',
        path: '/v1/tasks',
        query: { status: params.status, model: params.model, limit: params.limit, cursor },
      });
      return res.body;
    });
  }

  /** Cancels an unfinished task (refunded in full); a finished one answers ConflictError (409). */
  async cancel(id: string): Promise<Task> {
    const res = await this.#core.request<unknown>({ method: 'POST', path: `/v1/tasks/${encodeURIComponent(id)}/cancel` });
    return unwrap<Task>(res.body);
  }

  /**
   * Polls until the task is completed, failed or cancelled and returns it as it then is; a failed task
   * is returned, not thrown, so the caller can read its `error`.
   */
  waitFor(id: string, opts: WaitOptions = {}): Promise<Task> {
    return poll<Task>({
      read: (signal) => this.get(id, { signal }),
      isDone: (task) => isTerminalStatus(task.status),
      intervalMs: opts.pollIntervalMs,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      onUpdate: opts.onProgress,
      onTimeout: (last, ms) => new WaitTimeoutError(id, last?.status, ms),
    });
  }
}
