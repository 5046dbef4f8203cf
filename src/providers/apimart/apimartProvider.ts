/**
 * The `apimart` provider: any APIMart-compatible gateway (APIMart itself, or another reelay) serves every
 * seed model with the same request body, so the mapping is the identity. Inputs the gateway holds are sent
 * inline as data URIs (the upstream cannot be assumed to reach this gateway's URLs); reelay's task id is
 * the Idempotency-Key, so a retried submit never starts a second job.
 */
import { listModels } from '../../models/registry.ts';
import { callJson, httpError, joinUrl, parseReply } from '../http.ts';
import { inputDataUri, replaceInputs } from '../inlineInputs.ts';
import { ProviderError, type ProviderContext, type StartRequest, type StatusResult, type UpstreamOperation, type VideoProvider } from '../types.ts';
import { errorOf, submitReply, taskReply } from './apimartApi.ts';

export interface ApimartOptions {
  baseUrl: string;
  apiKey: string;
  /** Per call, ms. */
  timeoutMs?: number;
  /** Send stored inputs as data URIs (default) rather than as this gateway's signed URLs. */
  inlineStoredImages?: boolean;
}

interface ApimartOperation {
  id: string;
  model: string;
}

const NAME = 'apimart';

export class ApimartProvider implements VideoProvider {
  readonly kind = NAME;
  private readonly ids = new Set(listModels().map((m) => m.id));

  constructor(private readonly o: ApimartOptions) {}

  supports(modelId: string): boolean {
    return this.ids.has(modelId);
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.o.apiKey}`, ...extra };
  }

  async start(req: StartRequest, ctx: ProviderContext): Promise<UpstreamOperation> {
    const inline = this.o.inlineStoredImages !== false;
    const params = await replaceInputs(req.request.params, req.inputs, async (i) => (inline && i.storageKey ? inputDataUri(i, ctx) : undefined));
    const model = req.upstreamModel ?? req.request.model;
    const body: Record<string, unknown> = { model, ...params };
    if (req.webhookUrl) body.callback_url = req.webhookUrl;
    const reply = await callJson(ctx.api, NAME, {
      method: 'POST',
      url: joinUrl(this.o.baseUrl, '/v1/videos/generations'),
      headers: this.headers({ 'idempotency-key': req.taskId }),
      body,
      timeoutMs: this.o.timeoutMs,
    });
    if (reply.status >= 400) {
      const e = errorOf(reply.json);
      throw httpError(NAME, reply, e.message, e.code);
    }
    const data = parseReply(NAME, submitReply, reply, 'submit').data;
    const id = Array.isArray(data) ? data[0].task_id : data.id;
    return { id, model } satisfies ApimartOperation;
  }

  async status(raw: UpstreamOperation, ctx: ProviderContext): Promise<StatusResult> {
    const op = raw as unknown as ApimartOperation;
    const reply = await callJson(ctx.api, NAME, {
      url: joinUrl(this.o.baseUrl, `/v1/tasks/${encodeURIComponent(op.id)}`),
      headers: this.headers(),
      timeoutMs: this.o.timeoutMs,
    });
    if (reply.status >= 400) {
      const e = errorOf(reply.json);
      throw httpError(NAME, reply, e.message ?? (reply.status === 404 ? `task ${op.id} is unknown upstream` : undefined), e.code);
    }
    const t = parseReply(NAME, taskReply, reply, 'task').data;
    switch (t.status) {
      case 'submitted':
      case 'pending':
      case 'queued':
        return { state: 'queued', progress: t.progress };
      case 'processing':
      case 'running':
      case 'in_progress':
        return { state: 'running', progress: t.progress };
      case 'completed':
      case 'succeeded': {
        const urls = (t.result?.videos ?? []).flatMap((v) => (Array.isArray(v.url) ? v.url : [v.url])).filter(Boolean);
        if (urls.length === 0) throw new ProviderError(`${NAME} reported task ${op.id} completed without a video URL`, { retryable: true });
        return { state: 'succeeded', outputs: urls.map((url) => ({ kind: 'url', url, contentType: 'video/mp4' })) };
      }
      case 'failed':
        return {
          state: 'failed',
          error: {
            code: 'upstream_error',
            message: t.error?.message ?? `${NAME} reported the task failed without a reason`,
            upstreamCode: t.error?.code === undefined ? undefined : String(t.error.code),
          },
        };
      case 'cancelled':
      case 'canceled':
        return { state: 'cancelled' };
      default:
        throw new ProviderError(`${NAME} reported an unknown status ${JSON.stringify(t.status)} for task ${op.id}`, { retryable: true });
    }
  }

  /** APIMart documents no cancel endpoint; reelay does (POST /v1/tasks/{id}/cancel). A 404 means "not supported". */
  async cancel(raw: UpstreamOperation, ctx: ProviderContext): Promise<void> {
    const op = raw as unknown as ApimartOperation;
    const reply = await callJson(ctx.api, NAME, {
      method: 'POST',
      url: joinUrl(this.o.baseUrl, `/v1/tasks/${encodeURIComponent(op.id)}/cancel`),
      headers: this.headers(),
      timeoutMs: this.o.timeoutMs,
    });
    if (reply.status >= 400 && reply.status !== 404 && reply.status !== 409) {
      const e = errorOf(reply.json);
      throw httpError(NAME, reply, e.message, e.code);
    }
  }
}
