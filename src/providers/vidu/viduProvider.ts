/**
 * The `vidu` provider: ShengShu's official Vidu API serving viduq3 and viduq3-mix through
 * POST /ent/v2/reference2video, polled at GET /ent/v2/tasks/{id}/creations, cancelled at
 * POST /ent/v2/tasks/{id}/cancel. Every call carries `Authorization: Token <key>` — Token, not Bearer
 * (https://platform.vidu.com/docs/get-generation).
 *
 * Images the gateway holds are sent inline as data URIs (Vidu cannot be assumed to reach this gateway),
 * client URLs as given; Vidu's 20 MB body limit is checked before anything is sent. With a webhook URL,
 * Vidu calls back on each state change; that only wakes the task, whose state is read here again.
 */
import { viduq3 } from '../../models/families/viduq3.ts';
import type { ValidatedRequest } from '../../models/validate.ts';
import { callJson, joinUrl, parseReply } from '../http.ts';
import { inputDataUri, replaceInputs } from '../inlineInputs.ts';
import { ProviderError, type MediaInput, type ProviderContext, type StartRequest, type StatusResult, type UpstreamOperation, type VideoProvider } from '../types.ts';
import { createReply, creationsReply } from './viduApi.ts';
import { PROVIDER_NAME, viduHttpError } from './viduErrors.ts';
import { bodyLimitProblem, dataUriLength, inlineBodyProblem, jsonBytes, mapReference2Video, type MappingContext } from './viduMapping.ts';
import { viduStatus } from './viduStatus.ts';

export interface ViduOptions {
  /** Default https://api.vidu.com (international); the China platform is documented at platform.vidu.cn. */
  baseUrl?: string;
  apiKey: string;
  /** Per call, ms. */
  timeoutMs?: number;
}

interface ViduOperation {
  id: string;
  model: string;
}

export const VIDU_DEFAULT_BASE_URL = 'https://api.vidu.com';

/**
 * Vidu answers a cancel it cannot honour with 400 "task state is <state>, can not cancel" (the documented
 * example says "scheduled"). Matched on the words because the reason is the generic BadRequest.
 */
const CANNOT_CANCEL = /can ?not cancel/i;

export class ViduProvider implements VideoProvider {
  readonly kind = PROVIDER_NAME;
  private readonly models = new Set(Object.keys(viduq3.models));
  private readonly baseUrl: string;

  constructor(private readonly o: ViduOptions) {
    this.baseUrl = o.baseUrl ?? VIDU_DEFAULT_BASE_URL;
  }

  supports(modelId: string): boolean {
    return this.models.has(modelId);
  }

  canServe(request: ValidatedRequest, inputs: MediaInput[] = []): true | string {
    const stored = inputs.filter((i) => i.storageKey && i.bytes !== undefined).map((i) => ({ bytes: i.bytes!, contentType: i.contentType ?? 'image/png' }));
    return inlineBodyProblem(request, stored) ?? true;
  }

  private headers(): Record<string, string> {
    return { authorization: `Token ${this.o.apiKey}` };
  }

  async start(req: StartRequest, ctx: ProviderContext): Promise<UpstreamOperation> {
    const context: MappingContext = {
      model: req.upstreamModel ?? req.request.model,
      audio: req.plan.audio,
      taskId: req.taskId,
      callbackUrl: req.webhookUrl,
    };
    await this.checkBodyLimit(req, context, ctx);
    const params = await replaceInputs(req.request.params, req.inputs, async (i) => (i.storageKey ? inputDataUri(i, ctx) : undefined));
    const reply = await callJson(ctx.api, PROVIDER_NAME, {
      method: 'POST',
      url: joinUrl(this.baseUrl, '/ent/v2/reference2video'),
      headers: this.headers(),
      body: mapReference2Video(params, context),
      timeoutMs: this.o.timeoutMs,
      signal: ctx.signal,
    });
    if (reply.status >= 400) throw viduHttpError(reply);
    const created = parseReply(PROVIDER_NAME, createReply, reply, 'reference2video');
    return { id: created.task_id, model: context.model } satisfies ViduOperation;
  }

  /**
   * Measures the body from the stored images' sizes before reading them (up to 7 × 50 MB), and refuses
   * it — not retryable: no retry on this channel can make it fit — when Vidu would.
   */
  private async checkBodyLimit(req: StartRequest, context: MappingContext, ctx: ProviderContext): Promise<void> {
    const stored = req.inputs.filter((i): i is MediaInput & { storageKey: string } => i.storageKey !== undefined);
    if (stored.length === 0) return;
    const sizes = await Promise.all(stored.map((i) => ctx.storage.stat(i.storageKey)));
    const inlineBytes = sizes.reduce((sum, s) => sum + (s ? dataUriLength(s.bytes, s.contentType) : 0), 0);
    // Stored images as empty strings: what remains is the body around them, quotes included.
    const around = await replaceInputs(req.request.params, req.inputs, async (i) => (i.storageKey ? '' : undefined));
    const problem = bodyLimitProblem(jsonBytes(mapReference2Video(around, context)) + inlineBytes, stored.length);
    if (problem) throw new ProviderError(problem, { retryable: false, upstreamCode: 'body_too_large' });
  }

  async status(raw: UpstreamOperation, ctx: ProviderContext): Promise<StatusResult> {
    const op = raw as unknown as ViduOperation;
    const reply = await callJson(ctx.api, PROVIDER_NAME, {
      url: joinUrl(this.baseUrl, `/ent/v2/tasks/${encodeURIComponent(op.id)}/creations`),
      headers: this.headers(),
      timeoutMs: this.o.timeoutMs,
      signal: ctx.signal,
    });
    if (reply.status >= 400) throw viduHttpError(reply, reply.status === 404 ? `task ${op.id} is unknown to Vidu` : undefined);
    return viduStatus(parseReply(PROVIDER_NAME, creationsReply, reply, 'creations'), op.id);
  }

  /**
   * Vidu cancels only tasks that have not started (created, queueing). For a task already past that it
   * answers "can not cancel": the job runs to its end at Vidu and Vidu charges for it, while the gateway
   * has already refunded the client. That is logged and the call resolves — the upstream has nothing
   * more to stop, and a throw would leave the channel counting the task as in flight forever. A task Vidu
   * does not know (404) has nothing to cancel either. Anything else (auth, 429, 5xx) throws.
   */
  async cancel(raw: UpstreamOperation, ctx: ProviderContext): Promise<void> {
    const op = raw as unknown as ViduOperation;
    const reply = await callJson(ctx.api, PROVIDER_NAME, {
      method: 'POST',
      url: joinUrl(this.baseUrl, `/ent/v2/tasks/${encodeURIComponent(op.id)}/cancel`),
      headers: this.headers(),
      // The cancel page documents the id in the body as well as in the path.
      body: { id: op.id },
      timeoutMs: this.o.timeoutMs,
      signal: ctx.signal,
    });
    if (reply.status < 400 || reply.status === 404) return;
    const error = viduHttpError(reply);
    if (reply.status === 400 && CANNOT_CANCEL.test(error.message)) {
      ctx.logger.warn({ upstreamTask: op.id, err: error.message }, 'Vidu could not cancel the task; it will run to completion upstream and be charged there');
      return;
    }
    throw error;
  }
}
