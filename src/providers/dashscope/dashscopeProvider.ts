/**
 * The `dashscope` provider: Alibaba Cloud Model Studio's async video synthesis (UPSTREAMS.md §2–3) for
 * wan2.5-preview, happyhorse-1.0 (one upstream model per mode) and, in the Beijing region, viduq3 /
 * viduq3-mix through the Vidu relay. Request bodies come from the declarative tables in
 * dashscopeMapping.ts; inputs the gateway holds go inline as data URIs (DashScope accepts base64 images in
 * `img_url` and `media[].url`) because the upstream cannot be assumed to reach this gateway's URLs.
 *
 * DashScope documents no idempotency key, so a submit that times out after DashScope accepted it can
 * start a second job when retried; nothing in the protocol prevents that.
 */
import type { Mode } from '../../models/spec.ts';
import { callJson, joinUrl, parseReply, type JsonReply } from '../http.ts';
import { inputDataUri, replaceInputs } from '../inlineInputs.ts';
import {
  ProviderError,
  type MediaInput,
  type ProviderContext,
  type StartRequest,
  type StatusResult,
  type UpstreamOperation,
  type VideoProvider,
} from '../types.ts';
import { ASYNC_HEADER, SUBMIT_PATH, cancelPath, errorOf, submitReply, taskPath, taskReply, type TaskUsage } from './dashscopeApi.ts';
import { PROVIDER_NAME, dashscopeError, expiredTaskFailure, taskFailure } from './dashscopeErrors.ts';
import { buildBody, UnmappableRequestError } from './dashscopeMapper.ts';
import { DASHSCOPE_MODELS, mappingFor } from './dashscopeMapping.ts';
import { DASHSCOPE_REGIONS, DEFAULT_REGION, type DashscopeRegion } from './dashscopeRegions.ts';

export interface DashscopeOptions {
  apiKey: string;
  /** Region of the key and models; picks the endpoint and which relayed models are served. */
  region?: DashscopeRegion;
  /** Overrides the region's endpoint (a workspace domain, a proxy, a fake); the region still applies. */
  baseUrl?: string;
  /** Per call, ms. */
  timeoutMs?: number;
}

/** Persisted with the task: enough to poll, and to bill a video edit by its capped source length. */
interface DashscopeOperation {
  id: string;
  upstreamModel: string;
  mode: Mode;
  /** Video edit: the most seconds billed (the upstream truncates sources to this). */
  editCapSeconds?: number;
}

export class DashscopeProvider implements VideoProvider {
  readonly kind = PROVIDER_NAME;
  readonly region: DashscopeRegion;
  readonly baseUrl: string;

  constructor(private readonly o: DashscopeOptions) {
    this.region = o.region ?? DEFAULT_REGION;
    this.baseUrl = o.baseUrl ?? DASHSCOPE_REGIONS[this.region];
  }

  /** A model is served when some mode of it is hosted in this provider's region. */
  supports(modelId: string): boolean {
    const modes = DASHSCOPE_MODELS[modelId];
    return modes !== undefined && Object.values(modes).some((m) => !m.regions || m.regions.includes(this.region));
  }

  canServe(request: { model: string; mode: Mode }): true | string {
    const mapping = mappingFor(request.model, request.mode);
    if (!mapping) return `DashScope has no upstream model for ${request.model} in ${request.mode} mode`;
    if (mapping.regions && !mapping.regions.includes(this.region)) {
      return `DashScope serves ${mapping.family}${mapping.modeSuffix} only in ${mapping.regions.join(', ')}, not in ${this.region}`;
    }
    return true;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.o.apiKey}`, ...extra };
  }

  async start(req: StartRequest, ctx: ProviderContext): Promise<UpstreamOperation> {
    const { model, mode } = req.request;
    const fits = this.canServe(req.request);
    if (fits !== true) throw new ProviderError(fits, { retryable: false });
    const mapping = mappingFor(model, mode)!;
    const isImage = (i: MediaInput) => ['image', 'images'].includes(req.spec.fields[i.field]?.type ?? '');
    // Only images may be inlined: source videos and audio must be URLs (happyhorse-1.0 seed: "Base64 is not supported").
    const params = await replaceInputs(req.request.params, req.inputs, async (i) => (i.storageKey && isImage(i) ? inputDataUri(i, ctx) : undefined));
    let body;
    try {
      body = buildBody(mapping, params, req.upstreamModel);
    } catch (e) {
      if (e instanceof UnmappableRequestError) throw new ProviderError(e.message, { retryable: false });
      throw e;
    }
    const reply = await callJson(ctx.api, PROVIDER_NAME, {
      method: 'POST',
      url: joinUrl(this.baseUrl, SUBMIT_PATH),
      headers: this.headers({ [ASYNC_HEADER]: 'enable' }),
      body,
      timeoutMs: this.o.timeoutMs,
      signal: ctx.signal,
    });
    if (reply.status >= 400 || carriesOnlyAnError(reply)) throw dashscopeError(reply);
    const { output } = parseReply(PROVIDER_NAME, submitReply, reply, 'submit');
    const op: DashscopeOperation = { id: output.task_id, upstreamModel: body.model, mode };
    if (mode === 'EDIT' && req.spec.output.editCapSeconds !== undefined) op.editCapSeconds = req.spec.output.editCapSeconds;
    return { ...op };
  }

  async status(raw: UpstreamOperation, ctx: ProviderContext): Promise<StatusResult> {
    const op = raw as unknown as DashscopeOperation;
    const reply = await callJson(ctx.api, PROVIDER_NAME, {
      url: joinUrl(this.baseUrl, taskPath(op.id)),
      headers: this.headers(),
      timeoutMs: this.o.timeoutMs,
      signal: ctx.signal,
    });
    if (reply.status >= 400 || carriesOnlyAnError(reply)) throw dashscopeError(reply);
    const { output, usage } = parseReply(PROVIDER_NAME, taskReply, reply, 'task');
    switch (output.task_status) {
      case 'PENDING':
        return { state: 'queued' };
      case 'RUNNING':
        return { state: 'running' };
      case 'SUCCEEDED': {
        if (!output.video_url) throw new ProviderError(`${PROVIDER_NAME} reported task ${op.id} succeeded without a video_url`, { retryable: true });
        const seconds = outputSeconds(usage ?? undefined, op);
        return {
          state: 'succeeded',
          outputs: [{ kind: 'url', url: output.video_url, contentType: 'video/mp4' }],
          ...(seconds !== undefined ? { billedSeconds: seconds, videos: [{ seconds }] } : {}),
        };
      }
      case 'FAILED':
        return { state: 'failed', error: taskFailure(output.code, output.message, op.id) };
      case 'CANCELED':
        return { state: 'cancelled' };
      case 'UNKNOWN':
        return { state: 'failed', error: expiredTaskFailure(op.id) };
      default:
        throw new ProviderError(`${PROVIDER_NAME} reported an unknown task_status ${JSON.stringify(output.task_status)} for task ${op.id}`, { retryable: true });
    }
  }

  /** DashScope cancels PENDING tasks only; a running one answers 400 UnsupportedOperation and runs on. */
  async cancel(raw: UpstreamOperation, ctx: ProviderContext): Promise<void> {
    const op = raw as unknown as DashscopeOperation;
    const reply = await callJson(ctx.api, PROVIDER_NAME, {
      method: 'POST',
      url: joinUrl(this.baseUrl, cancelPath(op.id)),
      headers: this.headers(),
      timeoutMs: this.o.timeoutMs,
      signal: ctx.signal,
    });
    if (reply.status < 400 && !carriesOnlyAnError(reply)) return;
    if (errorOf(reply.json).code === 'UnsupportedOperation') {
      throw new ProviderError(`${PROVIDER_NAME} cannot cancel task ${op.id}: it has already started (only PENDING tasks can be cancelled)`, {
        retryable: false,
        status: reply.status,
        upstreamCode: 'UnsupportedOperation',
      });
    }
    throw dashscopeError(reply);
  }
}

/** ComfyUI guards against a 200 reply that has `code`/`message` but no `output`; treat it as the error it is. */
function carriesOnlyAnError(reply: JsonReply): boolean {
  const json = reply.json as { output?: unknown } | undefined;
  return typeof json === 'object' && json !== null && json.output === undefined && errorOf(json).code !== undefined;
}

/**
 * Seconds of the video DashScope made, from `usage`: `output_video_duration` (happyhorse) or
 * `video_duration` (wan), else `duration` — except in video edit, where `duration` counts the input as well,
 * so the source length stands in. Edits are capped at the seconds the upstream keeps of a source.
 */
function outputSeconds(usage: TaskUsage | undefined, op: DashscopeOperation): number | undefined {
  if (!usage) return undefined;
  if (op.mode === 'EDIT') {
    const seconds = usage.output_video_duration ?? usage.input_video_duration;
    return seconds === undefined ? undefined : Math.min(seconds, op.editCapSeconds ?? seconds);
  }
  return usage.output_video_duration ?? usage.video_duration ?? usage.duration;
}
