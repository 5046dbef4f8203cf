/** POST /v1/videos/generations, and create-then-wait on top of Tasks.waitFor. */
import { randomUUID } from 'node:crypto';
import type { HttpCore } from '../core.ts';
import { unwrap } from '../core.ts';
import { ReelayError } from '../errors.ts';
import type { VideoGenerationRequest } from '../models.generated.ts';
import type { CreateVideoResult, Task } from '../types.ts';
import type { Tasks, WaitOptions } from './tasks.ts';

export interface CreateOptions {
  /** Defaults to a fresh UUID per call; pass your own to make a create safe across process restarts. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export class Videos {
  readonly #core: HttpCore;
  readonly #tasks: Tasks;

  constructor(core: HttpCore, tasks: Tasks) {
    this.#core = core;
    this.#tasks = tasks;
  }

  async create(body: VideoGenerationRequest, opts: CreateOptions = {}): Promise<CreateVideoResult> {
    // Minted once, before the retry loop in HttpCore: every retry carries the same key, so a request that
    // reached the gateway but whose answer was lost can never start (and charge) a second task.
    const idempotencyKey = opts.idempotencyKey ?? randomUUID();
    const res = await this.#core.request<unknown>({
      method: 'POST',
      path: '/v1/videos/generations',
      body,
      headers: { 'idempotency-key': idempotencyKey },
      signal: opts.signal,
    });
    const data = unwrap<unknown>(res.body);
    const first = Array.isArray(data) ? data[0] : data;
    const taskId = (first as { task_id?: unknown } | undefined)?.task_id;
    if (typeof taskId !== 'string') throw new ReelayError('create answer has no data[0].task_id', { status: res.status });
    return { taskId, replayed: res.headers.get('idempotency-replayed') === 'true' };
  }

  /** Submits and polls until the task finishes; resolves with the final task (completed, failed or cancelled). */
  async createAndWait(body: VideoGenerationRequest, opts: WaitOptions & CreateOptions = {}): Promise<Task> {
    const { taskId } = await this.create(body, opts);
    return this.#tasks.waitFor(taskId, opts);
  }
}
