/**
 * A fake APIMart-compatible upstream on loopback: submit (either reply shape), task status with the real
 * status sequence (pending → processing → completed | failed | cancelled), cancel, and the result media.
 * Errors use APIMart's `{"error": {message, type, code}}` body.
 */
import { FakeServer } from '../fakes/fakeServer.ts';
import { FakeJobs, FAKE_FAIL_REASON, type FakeJob } from '../fakes/fakeJobs.ts';
import { serveFakeMedia } from '../fakes/fakeMedia.ts';

export interface ApimartFakeOptions {
  apiKey?: string;
  /** 'array' (classic) or 'object' (response version 2026-07-27) submit replies. */
  submitShape?: 'array' | 'object';
  /** Result url as an array of strings (documented) or a bare string (seen in the wild). */
  urlShape?: 'array' | 'string';
}

export class ApimartFake {
  readonly server = new FakeServer();
  readonly jobs = new FakeJobs();
  readonly idempotency = new Map<string, string>();
  url = '';

  constructor(readonly opts: ApimartFakeOptions = {}) {
    const key = opts.apiKey ?? 'sk-fake-apimart';
    const unauthorized = { status: 401, body: { error: { message: 'Invalid token', type: 'authentication_error', code: 'authentication_error' } } };
    const authed = (h: Record<string, string>) => h.authorization === `Bearer ${key}`;

    this.server.route('POST', '/v1/videos/generations', 'submit', (req) => {
      if (!authed(req.headers)) return unauthorized;
      const body = req.body as Record<string, unknown> | undefined;
      if (!body || typeof body.model !== 'string') {
        return { status: 400, body: { error: { message: 'model is required', type: 'invalid_request_error', code: 'invalid_request_error', param: 'model' } } };
      }
      const idem = req.headers['idempotency-key'];
      let job = idem ? this.jobs.get(this.idempotency.get(idem) ?? '') : undefined;
      if (!job) {
        const count = typeof body.sample_count === 'number' ? body.sample_count : 1;
        job = this.jobs.create(String(body.prompt ?? ''), body, count, 'task');
        if (idem) this.idempotency.set(idem, job.id);
      }
      return this.opts.submitShape === 'object'
        ? { body: { code: 200, data: { id: job.id, object: 'generation.task', status: 'submitted', created: Math.floor(job.createdAt / 1000) } } }
        : { body: { code: 200, data: [{ status: 'submitted', task_id: job.id }] } };
    });

    this.server.route('GET', '/v1/tasks/:id', 'status', (req) => {
      if (!authed(req.headers)) return unauthorized;
      const job = this.jobs.get(req.params.id);
      if (!job) return { status: 404, body: { error: { message: `task ${req.params.id} not found`, type: 'not_found', code: 'not_found' } } };
      return { body: { code: 200, data: this.view(job) } };
    });

    this.server.route('POST', '/v1/tasks/:id/cancel', 'cancel', (req) => {
      if (!authed(req.headers)) return unauthorized;
      const job = this.jobs.get(req.params.id);
      if (!job) return { status: 404, body: { error: { message: 'not found', type: 'not_found' } } };
      if (!this.jobs.cancel(job)) return { status: 409, body: { error: { message: 'task already finished', type: 'conflict' } } };
      return { body: { code: 200, data: this.view(job) } };
    });
    serveFakeMedia(this.server);
  }

  private view(job: FakeJob): Record<string, unknown> {
    const created = Math.floor(job.createdAt / 1000);
    const state = this.jobs.state(job);
    const base = { id: job.id, created, estimated_time: Math.ceil(job.latencyMs / 1000) };
    switch (state) {
      case 'queued':
        return { ...base, status: 'pending', progress: 0 };
      case 'running':
        return { ...base, status: 'processing', progress: this.jobs.progress(job) };
      case 'succeeded': {
        const videos = Array.from({ length: job.count }, (_, i) => {
          const url = `${this.url}/media/${job.id}-${i}.mp4`;
          return { url: this.opts.urlShape === 'string' ? url : [url], expires_at: created + 86400 };
        });
        return { ...base, status: 'completed', progress: 100, completed: created, result: { videos } };
      }
      case 'failed':
        return { ...base, status: 'failed', progress: 100, error: { code: 'task_failed', message: FAKE_FAIL_REASON } };
      case 'cancelled':
        return { ...base, status: 'cancelled', progress: 0 };
    }
  }

  async start(): Promise<string> {
    this.url = await this.server.start();
    return this.url;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
