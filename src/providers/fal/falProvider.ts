/**
 * The `fal` provider: fal.ai's queue API (UPSTREAMS.md §6a) in front of the fal-hosted seed models.
 *
 * Submit POSTs the mapped input to {baseUrl}/{endpoint} (with `?fal_webhook=` when the channel wants
 * callbacks) and keeps the status, response and cancel URLs fal returns: they drop the endpoint's subpath,
 * which is easy to get wrong by hand. Those URLs come from an upstream reply and are called with the key, so
 * they are used only when they lie under the configured base URL; otherwise they are rebuilt from it.
 *
 * fal reports a job that failed as COMPLETED; the failure (fal's `detail`) comes back from the result call
 * with a 4xx/5xx, and becomes a failed status here. fal documents no idempotency key for submit, so a submit
 * retried after a lost reply may start a second job.
 */
import { MODE_NAMES, type ModelSpec } from '../../models/spec.ts';
import type { ValidatedRequest } from '../../models/validate.ts';
import { callJson, joinUrl, parseReply, type JsonReply } from '../http.ts';
import { inputDataUri, replaceInputs } from '../inlineInputs.ts';
import { ProviderError, type MediaInput, type ProviderContext, type StartRequest, type StatusResult, type UpstreamOperation, type VideoProvider } from '../types.ts';
import { statusReply, submitReply } from './falApi.ts';
import { falHttpError, resultStatus } from './falResult.ts';
import { FAL_MODELS, falEndpointFor, type FalEndpoint } from './falMapping.ts';
import { appIdOf, endpointId, falInput, falRefusal } from './falRequest.ts';

export const FAL_QUEUE_URL = 'https://queue.fal.run';
const NAME = 'fal';

export interface FalOptions {
  /** Default https://queue.fal.run. */
  baseUrl?: string;
  /** fal's "key_id:key_secret", sent as `Authorization: Key <key>`. */
  apiKey: string;
  /** Per call, ms. */
  timeoutMs?: number;
}

/** What is persisted with the task; everything status and cancel need after a restart. */
export interface FalOperation {
  requestId: string;
  endpoint: string;
  statusUrl: string;
  responseUrl: string;
  cancelUrl: string;
  /** EDIT: the output is as long as the source, capped; fal's reported length is billed up to this. */
  editCapSeconds?: number;
}

export class FalProvider implements VideoProvider {
  readonly kind = NAME;
  private readonly baseUrl: string;

  constructor(private readonly o: FalOptions) {
    this.baseUrl = (o.baseUrl ?? FAL_QUEUE_URL).replace(/\/+$/, '');
  }

  supports(modelId: string): boolean {
    return FAL_MODELS.has(modelId);
  }

  canServe(request: ValidatedRequest): true | string {
    const entry = falEndpointFor(request.model, request.mode);
    if (!entry) return `fal has no endpoint for ${request.model} ${MODE_NAMES[request.mode]}`;
    return falRefusal(entry, request.params) ?? true;
  }

  private headers(): Record<string, string> {
    return { authorization: `Key ${this.o.apiKey}` };
  }

  async start(req: StartRequest, ctx: ProviderContext): Promise<UpstreamOperation> {
    const entry = this.entryFor(req);
    const endpoint = endpointId(entry, req.upstreamModel);
    // fal takes data URIs in its image fields; stored images go inline because fal cannot be assumed to reach
    // this gateway's own URLs. Videos stay URLs (APIMart accepts no inline video).
    const params = await replaceInputs(req.request.params, req.inputs, async (i) => (i.storageKey && isImageInput(req.spec, i) ? inputDataUri(i, ctx) : undefined));
    const query = req.webhookUrl ? `?fal_webhook=${encodeURIComponent(req.webhookUrl)}` : '';
    const reply = await callJson(ctx.api, NAME, {
      method: 'POST',
      url: `${joinUrl(this.baseUrl, endpoint)}${query}`,
      headers: this.headers(),
      body: falInput(entry, params),
      timeoutMs: this.o.timeoutMs,
    });
    if (reply.status >= 400) throw falHttpError(reply);
    const submitted = parseReply(NAME, submitReply, reply, 'submit');
    const ownUrl = joinUrl(this.baseUrl, `${appIdOf(endpoint)}/requests/${encodeURIComponent(submitted.request_id)}`);
    const op: FalOperation = {
      requestId: submitted.request_id,
      endpoint,
      statusUrl: this.trusted(submitted.status_url, `${ownUrl}/status`, ctx),
      responseUrl: this.trusted(submitted.response_url, ownUrl, ctx),
      cancelUrl: this.trusted(submitted.cancel_url, `${ownUrl}/cancel`, ctx),
    };
    if (req.request.mode === 'EDIT' && req.spec.output.editCapSeconds !== undefined) op.editCapSeconds = req.spec.output.editCapSeconds;
    return { ...op };
  }

  async status(raw: UpstreamOperation, ctx: ProviderContext): Promise<StatusResult> {
    const op = raw as unknown as FalOperation;
    const reply = await this.get(op.statusUrl, ctx);
    if (reply.status >= 400) throw falHttpError(reply, reply.status === 404 ? `request ${op.requestId} is unknown to fal` : undefined);
    const s = parseReply(NAME, statusReply, reply, 'status');
    switch (s.status) {
      case 'IN_QUEUE':
        return { state: 'queued' };
      case 'IN_PROGRESS':
        return { state: 'running' };
      // A failed job is COMPLETED too: the result call carries the outcome either way.
      case 'COMPLETED':
      case 'FAILED':
        return resultStatus(await this.get(op.responseUrl, ctx), op);
      case 'CANCELED':
      case 'CANCELLED':
        return { state: 'cancelled' };
      default:
        throw new ProviderError(`${NAME} reported an unknown status ${JSON.stringify(s.status)} for request ${op.requestId}`, { retryable: true });
    }
  }

  /** PUT cancel_url: 202 CANCELLATION_REQUESTED stops a queued job; a finished or unknown one needs nothing. */
  async cancel(raw: UpstreamOperation, ctx: ProviderContext): Promise<void> {
    const op = raw as unknown as FalOperation;
    const reply = await callJson(ctx.api, NAME, { method: 'PUT', url: op.cancelUrl, headers: this.headers(), timeoutMs: this.o.timeoutMs });
    if (reply.status < 400 || reply.status === 404) return;
    const said = (reply.json as { status?: unknown } | undefined)?.status;
    if (said === 'ALREADY_COMPLETED' || said === 'NOT_FOUND') return;
    throw falHttpError(reply);
  }

  private get(url: string, ctx: ProviderContext): Promise<JsonReply> {
    return callJson(ctx.api, NAME, { url, headers: this.headers(), timeoutMs: this.o.timeoutMs });
  }

  private entryFor(req: StartRequest): FalEndpoint {
    const { model, mode, params } = req.request;
    const entry = falEndpointFor(model, mode);
    if (!entry) throw new ProviderError(`fal has no endpoint for ${model} ${MODE_NAMES[mode]}`, { retryable: false });
    const refusal = falRefusal(entry, params, endpointId(entry, req.upstreamModel));
    if (refusal) throw new ProviderError(refusal, { retryable: false });
    return entry;
  }

  /** A URL from fal's reply, if it lies under our base URL (it is called with the key); else our own. */
  private trusted(url: string | undefined, fallback: string, ctx: ProviderContext): string {
    if (url && url.startsWith(`${this.baseUrl}/`)) return url;
    if (url) ctx.logger.warn({ url, baseUrl: this.baseUrl }, 'fal returned a queue URL outside its base URL; using the base URL instead');
    return fallback;
  }
}

function isImageInput(spec: ModelSpec, input: MediaInput): boolean {
  const type = spec.fields[input.field]?.type;
  return type === 'image' || type === 'images';
}
