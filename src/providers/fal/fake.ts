/**
 * A fake fal queue on loopback (UPSTREAMS.md §6a): `Authorization: Key <id:secret>` with fal's own 401s,
 * submit per endpoint (inputs checked against fakeEndpoints.ts, 422 `detail` arrays when wrong), status
 * IN_QUEUE (queue_position) → IN_PROGRESS (logs with ?logs=1) → COMPLETED, the result (`video.url` on
 * /media, or a 422 model error for "fake:fail" prompts), cancel (202 CANCELLATION_REQUESTED, 400
 * ALREADY_COMPLETED), and the `fal_webhook` callback when a job ends.
 *
 * Like fal, the status/result/cancel URLs it returns drop the endpoint's subpath (owner/app only).
 */
import { FakeServer, type FakeResponse } from '../fakes/fakeServer.ts';
import { FakeJobs, FAKE_FAIL_REASON, type FakeJob } from '../fakes/fakeJobs.ts';
import { serveFakeMedia } from '../fakes/fakeMedia.ts';
import type { FalWebhookBody } from './falApi.ts';
import { FAKE_FAL_ENDPOINTS, validateFakeInput } from './fakeEndpoints.ts';

export const FAKE_FAL_KEY = 'fake-key-id:fake-key-secret';

export interface FalFakeOptions {
  apiKey?: string;
  /** Fill in the result video's width, height and duration (fal does for some endpoints). */
  reportVideoFacts?: boolean;
  /** Answer submits with queue URLs on another origin (to test that the adapter does not follow them). */
  foreignQueueUrls?: string;
}

interface FalJobFacts {
  endpoint: string;
  app: string;
  webhook?: string;
}

export interface WebhookDelivery {
  url: string;
  body: FalWebhookBody;
  /** The receiver's HTTP status, or the network error. */
  outcome: number | string;
}

const appOf = (endpoint: string): string => endpoint.split('/').slice(0, 2).join('/');
const detail = (status: number, text: string, extra: Record<string, unknown> = {}): FakeResponse => ({ status, body: { detail: text, ...extra } });

export class FalFake {
  readonly server = new FakeServer();
  readonly jobs = new FakeJobs();
  readonly webhookDeliveries: WebhookDelivery[] = [];
  url = '';
  private readonly facts = new Map<string, FalJobFacts>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly opts: FalFakeOptions = {}) {
    const key = opts.apiKey ?? FAKE_FAL_KEY;
    const refusal = (authorization: string | undefined): FakeResponse | undefined => {
      if (authorization === `Key ${key}`) return undefined;
      // fal's answers to a malformed and to an unknown key (fal-ai/fal#1068, gokayfem/ComfyUI-fal-API#20).
      if (!/^Key [^:\s]+:\S+$/.test(authorization ?? '')) return detail(401, "Invalid Key Authorization header format. Expected '<key_id>:<key_secret>'.");
      return detail(401, 'No user found for Key ID and Secret');
    };

    this.server.route('GET', '/:owner/:app/requests/:id/status', 'status', (req) => {
      const found = refusal(req.headers.authorization) ?? this.find(req.params);
      return 'job' in found ? { body: this.statusView(found.job, req.query.logs === '1') } : found;
    });
    this.server.route('GET', '/:owner/:app/requests/:id', 'response', (req) => {
      const found = refusal(req.headers.authorization) ?? this.find(req.params);
      return 'job' in found ? this.resultView(found.job) : found;
    });
    this.server.route('PUT', '/:owner/:app/requests/:id/cancel', 'cancel', (req) => {
      const found = refusal(req.headers.authorization) ?? this.find(req.params);
      if (!('job' in found)) return found;
      return this.jobs.cancel(found.job) ? { status: 202, body: { status: 'CANCELLATION_REQUESTED' } } : { status: 400, body: { status: 'ALREADY_COMPLETED' } };
    });
    serveFakeMedia(this.server);
    // Registered last: it matches any POST path.
    this.server.route('POST', '/:endpoint*', 'submit', (req) => refusal(req.headers.authorization) ?? this.submit(req.params.endpoint, req.body, req.query.fal_webhook));
  }

  private submit(endpoint: string, body: unknown, webhook: string | undefined): FakeResponse {
    const schema = FAKE_FAL_ENDPOINTS.get(endpoint);
    if (!schema) {
      const app = appOf(endpoint);
      const known = [...FAKE_FAL_ENDPOINTS.keys()].some((e) => appOf(e) === app);
      return known ? detail(404, 'Not Found') : detail(404, `Application "${app}" not found`);
    }
    const errors = validateFakeInput(schema, body);
    if (errors.length) return { status: 422, body: { detail: errors } };
    const input = body as Record<string, unknown>;
    const job = this.jobs.create(typeof input.prompt === 'string' ? input.prompt : '', input, 1, 'req');
    this.facts.set(job.id, { endpoint, app: appOf(endpoint), webhook });
    if (webhook) this.scheduleWebhook(job, webhook);
    return { body: { request_id: job.id, ...this.urls(job), queue_position: 0 } };
  }

  private urls(job: FakeJob): Record<string, string> {
    const base = `${this.opts.foreignQueueUrls ?? this.url}/${this.facts.get(job.id)!.app}/requests/${job.id}`;
    return { response_url: base, status_url: `${base}/status`, cancel_url: `${base}/cancel` };
  }

  /** The job, if the id is known under this app (fal keys requests on owner/app). */
  private find(params: Record<string, string>): { job: FakeJob } | FakeResponse {
    const job = this.jobs.get(params.id);
    if (!job || this.facts.get(job.id)?.app !== `${params.owner}/${params.app}`) return detail(404, 'Request not found');
    return { job };
  }

  private statusView(job: FakeJob, withLogs: boolean): Record<string, unknown> {
    const now = Date.now();
    const base = { request_id: job.id, ...this.urls(job) };
    switch (this.jobs.state(job, now)) {
      case 'queued': {
        // Positions count down as the job nears its start (10 ms a place), so pollers see them move.
        const startsAt = job.createdAt + job.latencyMs * 0.3;
        return { ...base, status: 'IN_QUEUE', queue_position: Math.max(0, Math.ceil((startsAt - now) / 10)) };
      }
      case 'running':
        return { ...base, status: 'IN_PROGRESS', logs: withLogs ? [{ message: `generating (${this.jobs.progress(job, now)}%)`, level: 'INFO', source: 'user', timestamp: new Date(now).toISOString() }] : null };
      default:
        // Succeeded, failed and cancelled jobs are all COMPLETED; the result call tells them apart.
        return { ...base, status: 'COMPLETED', logs: withLogs ? [] : null, metrics: { inference_time: job.latencyMs / 1000 } };
    }
  }

  private resultView(job: FakeJob): FakeResponse {
    switch (this.jobs.state(job)) {
      case 'queued':
      case 'running':
        return detail(400, 'Request is still in progress');
      case 'cancelled':
        // A request error (https://fal.ai/docs/documentation/model-apis/request-errors): client_cancelled, 499.
        return { status: 499, headers: { 'x-fal-error-type': 'client_cancelled' }, body: { detail: 'Request was cancelled by the client', error_type: 'client_cancelled' } };
      case 'failed':
        return { status: 422, body: { detail: [{ loc: ['body', 'prompt'], msg: FAKE_FAIL_REASON, type: 'content_policy_violation', url: 'https://docs.fal.ai/errors#content_policy_violation' }] } };
      case 'succeeded': {
        const facts = this.opts.reportVideoFacts ? { width: 320, height: 180, duration: 1, fps: 24 } : {};
        const video = { url: `${this.url}/media/${job.id}.mp4`, content_type: 'video/mp4', file_name: `${job.id}.mp4`, ...facts };
        return { body: { video, seed: 42 } };
      }
    }
  }

  /** fal POSTs {request_id, status: OK|ERROR, payload, error} when the request ends (not when cancelled). */
  private scheduleWebhook(job: FakeJob, url: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const state = this.jobs.state(job);
      if (state === 'cancelled' || state === 'queued' || state === 'running') return;
      const result = this.resultView(job);
      const ok = (result.status ?? 200) < 400;
      const body: FalWebhookBody = {
        request_id: job.id,
        gateway_request_id: job.id,
        status: ok ? 'OK' : 'ERROR',
        payload: result.body,
        error: ok ? null : `Invalid status code: ${result.status}`,
      };
      void fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) })
        .then((res) => this.webhookDeliveries.push({ url, body, outcome: res.status }))
        .catch((e: Error) => this.webhookDeliveries.push({ url, body, outcome: e.message }));
    }, job.latencyMs + 5);
    this.timers.add(timer);
  }

  /** The endpoint a request was submitted to. */
  endpointOf(requestId: string): string | undefined {
    return this.facts.get(requestId)?.endpoint;
  }

  async start(): Promise<string> {
    this.url = await this.server.start();
    return this.url;
  }

  close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    return this.server.close();
  }
}
