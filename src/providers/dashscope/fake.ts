/**
 * A fake DashScope on loopback speaking the async video-synthesis protocol: Bearer key, the mandatory
 * `X-DashScope-Async: enable` (without it: 403 AccessDenied "current user api does not support synchronous
 * calls", as the real service answers), per-model body checks (fakeProtocol.ts), the real status sequence
 * PENDING → RUNNING → SUCCEEDED | FAILED, CANCELED for cancelled PENDING tasks, UNKNOWN for unknown or
 * expired ids, `{request_id, code, message}` error bodies, results at `/media/<task>.mp4`, and each
 * family's own `usage` block.
 */
import { randomUUID } from 'node:crypto';
import { FakeServer, type FakeResponse } from '../fakes/fakeServer.ts';
import { FakeJobs, FAKE_FAIL_REASON, type FakeJob } from '../fakes/fakeJobs.ts';
import { serveFakeMedia } from '../fakes/fakeMedia.ts';
import { SUBMIT_PATH } from './dashscopeApi.ts';
import { FAKE_MODELS, protocolViolation, type FakeModelSpec } from './fakeProtocol.ts';

export interface DashscopeFakeOptions {
  apiKey?: string;
}

interface SubmittedBody {
  model: string;
  input?: { prompt?: string };
  parameters?: Record<string, unknown>;
}

const DAY_MS = 24 * 3600 * 1000;

function fail(status: number, code: string, message: string): FakeResponse {
  return { status, body: { request_id: randomUUID(), code, message } };
}

export class DashscopeFake {
  readonly server = new FakeServer();
  readonly jobs = new FakeJobs();
  url = '';
  /** Tasks older than this answer UNKNOWN, as DashScope forgets task ids after 24 h. */
  taskTtlMs = DAY_MS;
  /** Length of the source video a video-edit job pretends to have read, seconds. */
  editSourceSeconds = 6.62;

  constructor(readonly opts: DashscopeFakeOptions = {}) {
    const key = opts.apiKey ?? 'sk-fake-dashscope';
    const authed = (h: Record<string, string>) => h.authorization === `Bearer ${key}`;
    const unauthorized = fail(401, 'InvalidApiKey', 'Invalid API-key provided.');

    this.server.route('POST', SUBMIT_PATH, 'submit', (req) => {
      if (!authed(req.headers)) return unauthorized;
      const body = req.body as SubmittedBody | undefined;
      if (!body || typeof body.model !== 'string' || body.model === '') return fail(400, 'BadRequest.EmptyModel', 'Required parameter "model" missing from request.');
      const spec = FAKE_MODELS[body.model];
      // The model is looked up before the async check: without the header an unknown model still answers
      // 404, a known one 403 (measured by a Bailian client, see dashscopeMapping.ts sources).
      if (!spec) return fail(404, 'InvalidParameter', 'Model not exist.');
      if (req.headers['x-dashscope-async'] !== 'enable') return fail(403, 'AccessDenied', 'current user api does not support synchronous calls');
      if (body.input === undefined) return fail(400, 'BadRequest.EmptyInput', 'Required input parameter missing from request.');
      const violation = protocolViolation(spec, body);
      if (violation) return fail(400, 'InvalidParameter', violation);
      const job = this.jobs.create(String(body.input.prompt ?? ''), body, 1, 'task');
      return { body: { request_id: randomUUID(), output: { task_id: job.id, task_status: 'PENDING' } } };
    });

    this.server.route('GET', '/api/v1/tasks/:id', 'status', (req) => {
      if (!authed(req.headers)) return unauthorized;
      return { body: { request_id: randomUUID(), ...this.view(req.params.id) } };
    });

    this.server.route('POST', '/api/v1/tasks/:id/cancel', 'cancel', (req) => {
      if (!authed(req.headers)) return unauthorized;
      const job = this.live(req.params.id);
      if (!job || this.jobs.state(job) !== 'queued') {
        return fail(400, 'UnsupportedOperation', 'Failed to cancel the task, please confirm if the task is in PENDING status.');
      }
      this.jobs.cancel(job);
      return { body: { request_id: randomUUID() } };
    });
    serveFakeMedia(this.server);
  }

  /** The job behind an id, unless it never existed or has expired. */
  private live(id: string): FakeJob | undefined {
    const job = this.jobs.get(id);
    return job && Date.now() - job.createdAt <= this.taskTtlMs ? job : undefined;
  }

  private view(id: string): { output: Record<string, unknown>; usage?: Record<string, unknown> } {
    const job = this.live(id);
    if (!job) return { output: { task_id: id, task_status: 'UNKNOWN' } };
    const base = { task_id: job.id, submit_time: timestamp(job.createdAt) };
    switch (this.jobs.state(job)) {
      case 'queued':
        return { output: { ...base, task_status: 'PENDING' } };
      case 'running':
        return { output: { ...base, task_status: 'RUNNING', scheduled_time: timestamp(job.createdAt + 1) } };
      case 'succeeded': {
        const body = job.request as SubmittedBody;
        const done = { ...base, scheduled_time: timestamp(job.createdAt + 1), end_time: timestamp(job.createdAt + job.latencyMs) };
        return {
          output: { ...done, task_status: 'SUCCEEDED', orig_prompt: body.input?.prompt ?? '', video_url: `${this.url}/media/${job.id}.mp4` },
          usage: this.usage(FAKE_MODELS[body.model], body),
        };
      }
      case 'failed':
        return { output: { ...base, task_status: 'FAILED', code: 'DataInspectionFailed', message: FAKE_FAIL_REASON } };
      case 'cancelled':
        return { output: { ...base, task_status: 'CANCELED' } };
    }
  }

  /** The `usage` block in the model family's own shape. */
  private usage(spec: FakeModelSpec, body: SubmittedBody): Record<string, unknown> {
    const p = body.parameters ?? {};
    const seconds = typeof p.duration === 'number' ? p.duration : 5;
    const sr = Number.parseInt(String(p.resolution ?? '720'), 10) || 720;
    switch (spec.usage) {
      case 'wan':
        return { video_duration: seconds, video_count: 1, SR: sr };
      case 'vidu':
        return { duration: seconds, video_count: 1 };
      case 'happyhorse': {
        const edit = body.model.endsWith('-video-edit');
        const input = edit ? this.editSourceSeconds : 0;
        const output = edit ? Math.min(this.editSourceSeconds, 15) : seconds;
        return { duration: input + output, input_video_duration: input, output_video_duration: output, video_count: 1, SR: sr };
      }
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

/** DashScope's "2026-04-20 17:55:17.075" timestamps (its own clock; UTC here). */
function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
