/**
 * A fake Vidu on loopback, speaking the protocol of UPSTREAMS.md §4: `Authorization: Token <key>`,
 * POST /ent/v2/reference2video, GET /ent/v2/tasks/{id}/creations with the real state sequence
 * (created → queueing → processing → success | failed + err_code), POST /ent/v2/tasks/{id}/cancel (only
 * while created or queueing), results under /media, and errors in Vidu's `{code, reason, message,
 * metadata: {trace_id}}` shape. With a `callback_url`, it POSTs the creations body there, signed as Vidu
 * signs, when the task reaches processing, success or failed — the states Vidu's docs list for callbacks —
 * retrying a final delivery up to three times as Vidu does.
 */
import crypto from 'node:crypto';
import { FakeServer, type FakeResponse } from '../fakes/fakeServer.ts';
import { FakeJobs, type FakeJob } from '../fakes/fakeJobs.ts';
import { serveFakeMedia } from '../fakes/fakeMedia.ts';
import type { ViduState } from './viduApi.ts';
import { signedCallbackHeaders } from './viduCallbackSignature.ts';

export interface ViduFakeOptions {
  apiKey?: string;
  /** The err_code of a job whose prompt has the fail marker (default AuditSubmitIllegal, a moderation refusal). */
  failErrCode?: string;
}

/** reference2video models and their durations (UPSTREAMS.md §4); the older ones accept anything here. */
const DURATIONS: Record<string, { min: number; max: number } | null> = {
  viduq3: { min: 3, max: 16 },
  'viduq3-mix': { min: 1, max: 16 },
  'viduq2-pro': null,
  viduq2: null,
  viduq1: null,
  'vidu2.0': null,
};
const IMAGE = /^(https?:\/\/\S+|data:image\/(png|jpeg|jpg|webp);base64,[A-Za-z0-9+/]+=*)$/;
const CALLBACK_RETRY_MS = 40;

/** Vidu's error body; also usable as a FakeServer fault. */
export function viduError(status: number, reason: string, message: string): { status: number; body: unknown } {
  return { status, body: { code: status, reason, message, metadata: { trace_id: crypto.randomBytes(16).toString('hex') } } };
}

export class ViduFake {
  readonly server = new FakeServer();
  readonly jobs = new FakeJobs();
  url = '';
  private readonly timers = new Map<string, NodeJS.Timeout[]>();
  private readonly key: string;

  constructor(readonly opts: ViduFakeOptions = {}) {
    this.key = opts.apiKey ?? 'vidu-fake-key';
    this.server.route('POST', '/ent/v2/reference2video', 'submit', (req) => this.authed(req.headers) ?? this.create(req.body));
    this.server.route('GET', '/ent/v2/tasks/:id/creations', 'status', (req) => {
      const job = this.jobs.get(req.params.id);
      return this.authed(req.headers) ?? (job ? { body: this.view(job) } : viduError(404, 'TaskNotFound', 'task not found'));
    });
    this.server.route('POST', '/ent/v2/tasks/:id/cancel', 'cancel', (req) => this.authed(req.headers) ?? this.cancel(req.params.id));
    serveFakeMedia(this.server);
  }

  private authed(headers: Record<string, string>): FakeResponse | undefined {
    return headers.authorization === `Token ${this.key}` ? undefined : viduError(401, 'Unauthorized', 'unauthorized');
  }

  private create(raw: unknown): FakeResponse {
    const body = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const model = String(body.model ?? '');
    if (!(model in DURATIONS)) return viduError(400, 'FieldInvalid', 'invalid field: model');
    if (typeof body.prompt !== 'string' || body.prompt.trim() === '') return viduError(400, 'FieldLacking', 'field is missing or empty: prompt');
    const images = body.images;
    if (!Array.isArray(images) || images.length === 0) return viduError(400, 'FieldLacking', 'field is missing or empty: images');
    if (images.length > 7) return viduError(400, 'FieldItemCountOutOfRange', 'field item count out of range: images');
    if (!images.every((i) => typeof i === 'string' && IMAGE.test(i))) return viduError(400, 'FieldInvalid', 'invalid field: images');
    const range = DURATIONS[model];
    const duration = body.duration ?? 5;
    if (typeof duration !== 'number' || (range && (duration < range.min || duration > range.max))) return viduError(400, 'FieldInvalid', 'invalid field: duration');

    const job = this.jobs.create(body.prompt, body, 1, 'vidu');
    if (typeof body.callback_url === 'string') this.scheduleCallbacks(job, body.callback_url);
    return {
      body: {
        task_id: job.id,
        state: 'created',
        model,
        prompt: body.prompt,
        images,
        duration,
        // Vidu picks a seed when none (or 0) is given, and reports the one it used.
        seed: typeof body.seed === 'number' && body.seed !== 0 ? body.seed : crypto.randomInt(1, 2 ** 31 - 1),
        aspect_ratio: body.aspect_ratio ?? '16:9',
        resolution: body.resolution ?? '720p',
        movement_amplitude: 'auto',
        payload: body.payload ?? '',
        off_peak: false,
        credits: duration * 10,
        created_at: new Date(job.createdAt).toISOString(),
      },
    };
  }

  private cancel(id: string): FakeResponse {
    const job = this.jobs.get(id);
    if (!job) return viduError(404, 'TaskNotFound', 'task not found');
    const state = this.state(job);
    if (state !== 'created' && state !== 'queueing') return viduError(400, 'BadRequest', `task state is ${state}, can not cancel`);
    this.jobs.cancel(job);
    this.clearTimers(job.id);
    const callbackUrl = (job.request as Record<string, unknown>).callback_url;
    if (typeof callbackUrl === 'string') void this.deliver(job, callbackUrl, 3);
    return { body: {} };
  }

  /** The job's state in Vidu's words; a cancelled job reads as failed with UserCancelled (see viduStatus). */
  state(job: FakeJob, now = Date.now()): ViduState {
    switch (this.jobs.state(job, now)) {
      case 'queued':
        return now - job.createdAt < job.latencyMs * 0.1 ? 'created' : 'queueing';
      case 'running':
        return 'processing';
      case 'succeeded':
        return 'success';
      case 'failed':
      case 'cancelled':
        return 'failed';
    }
  }

  private view(job: FakeJob): Record<string, unknown> {
    const state = this.state(job);
    const request = job.request as Record<string, unknown>;
    const errCode = state !== 'failed' ? '' : job.cancelledAt !== undefined ? 'UserCancelled' : (this.opts.failErrCode ?? 'AuditSubmitIllegal');
    const creations =
      state === 'success' ? [{ id: `${job.id}-c0`, url: `${this.url}/media/${job.id}-0.mp4`, cover_url: `${this.url}/media/${job.id}-0.png` }] : [];
    return {
      id: job.id,
      state,
      err_code: errCode,
      credits: state === 'success' ? Number(request.duration ?? 5) * 10 : 0,
      payload: request.payload ?? '',
      bgm: false,
      off_peak: false,
      creations,
    };
  }

  private scheduleCallbacks(job: FakeJob, callbackUrl: string): void {
    const at = (fraction: number, retries: number, last: boolean) =>
      setTimeout(() => {
        if (last) this.timers.delete(job.id);
        void this.deliver(job, callbackUrl, retries);
      }, job.latencyMs * fraction + 1);
    // processing begins at 30 % of the latency (FakeJobs) and is sent once; the final state at 100 % is retried.
    this.timers.set(job.id, [at(0.3, 0, false), at(1, 3, true)]);
  }

  private async deliver(job: FakeJob, callbackUrl: string, retries: number): Promise<void> {
    for (let attempt = 0; attempt <= retries && this.url; attempt++) {
      try {
        const res = await fetch(callbackUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signedCallbackHeaders(this.key, callbackUrl) },
          body: JSON.stringify(this.view(job)),
        });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // The receiver is down: try again, as Vidu does for final states.
      }
      await new Promise((r) => setTimeout(r, CALLBACK_RETRY_MS));
    }
  }

  private clearTimers(jobId: string): void {
    for (const t of this.timers.get(jobId) ?? []) clearTimeout(t);
    this.timers.delete(jobId);
  }

  async start(): Promise<string> {
    this.url = await this.server.start();
    return this.url;
  }

  async close(): Promise<void> {
    for (const id of [...this.timers.keys()]) this.clearTimers(id);
    this.url = '';
    await this.server.close();
  }
}
