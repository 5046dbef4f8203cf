/**
 * The `gemini` provider: Veo 3.1 on the Gemini API (AI Studio key), UPSTREAMS.md §5a. The request body is
 * the shared Veo mapping (google/veoMapping.ts); every call carries the key as `x-goog-api-key`.
 *
 * - Submit: POST /v1beta/models/{model}:predictLongRunning → operation name. Google takes no idempotency key
 *   here, so a submit retried after a lost reply can start a second job.
 * - Poll: GET /v1beta/{name} until `done`; no progress is reported, so a pending job reads as queued (§7).
 * - Results are Files API URIs that need the key: openOutput adds it, and only for the configured API host,
 *   so the key never leaves for a host an upstream reply names.
 * - No cancel: Google documents none for Veo operations (js-genai offers only operations.get).
 * - Omni-Flash-Ext is not served: the Interactions API that runs Gemini Omni Flash documents no fields for
 *   its duration, 4k resolution or 3-image fusion (see the report); the `apimart` provider serves it.
 */
import { callJson, joinUrl, parseReply } from '../http.ts';
import { openUpstreamOutput } from '../openOutput.ts';
import type { OpenedOutput, ProviderContext, StartRequest, StatusResult, UpstreamOperation, UpstreamOutput, VideoProvider } from '../types.ts';
import type { ValidatedRequest } from '../../models/validate.ts';
import { googleHttpError } from '../google/googleErrors.ts';
import { buildVeoRequest, mapVeoParameters } from '../google/veoMapping.ts';
import { servesVeoModel, veoModelId } from '../google/veoModels.ts';
import { finishedVeoStatus, type VeoOperation } from '../google/veoResult.ts';
import { operationReply, submitReply, type GeminiVideo } from './geminiApi.ts';

export const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com';

export interface GeminiOptions {
  baseUrl?: string;
  apiKey: string;
  /** Per call, ms. */
  timeoutMs?: number;
}

const NAME = 'gemini';

export class GeminiProvider implements VideoProvider {
  readonly kind = NAME;
  private readonly baseUrl: string;

  constructor(private readonly o: GeminiOptions) {
    this.baseUrl = o.baseUrl ?? GEMINI_BASE_URL;
  }

  supports(modelId: string): boolean {
    return servesVeoModel('gemini', modelId);
  }

  canServe(request: ValidatedRequest): true | string {
    return mapVeoParameters('gemini', request).refused ?? true;
  }

  private headers(): Record<string, string> {
    return { 'x-goog-api-key': this.o.apiKey };
  }

  async start(req: StartRequest, ctx: ProviderContext): Promise<UpstreamOperation> {
    const model = veoModelId('gemini', req);
    const body = await buildVeoRequest('gemini', req, ctx);
    const reply = await callJson(ctx.api, NAME, {
      method: 'POST',
      url: joinUrl(this.baseUrl, `/v1beta/models/${encodeURIComponent(model)}:predictLongRunning`),
      headers: this.headers(),
      body,
      timeoutMs: this.o.timeoutMs,
      signal: ctx.signal,
    });
    if (reply.status >= 400) throw googleHttpError(NAME, reply);
    const { name } = parseReply(NAME, submitReply, reply, 'predictLongRunning');
    return { name, model, count: req.plan.count, seconds: req.plan.seconds } satisfies VeoOperation;
  }

  async status(raw: UpstreamOperation, ctx: ProviderContext): Promise<StatusResult> {
    const op = raw as unknown as VeoOperation;
    const reply = await callJson(ctx.api, NAME, {
      url: joinUrl(this.baseUrl, `/v1beta/${op.name}`),
      headers: this.headers(),
      timeoutMs: this.o.timeoutMs,
      signal: ctx.signal,
    });
    if (reply.status >= 400) throw googleHttpError(NAME, reply);
    const o = parseReply(NAME, operationReply, reply, 'operation');
    if (!o.done) return { state: 'queued' };
    const videos = o.response?.generateVideoResponse;
    return finishedVeoStatus(NAME, op, {
      error: o.error,
      outputs: (videos?.generatedSamples ?? []).flatMap((s) => outputOf(s.video)),
      raiMediaFilteredCount: videos?.raiMediaFilteredCount,
      raiMediaFilteredReasons: videos?.raiMediaFilteredReasons,
    });
  }

  /** A bound property: the engine and the contract call `provider.openOutput` detached from the provider. */
  readonly openOutput = (output: UpstreamOutput, ctx: ProviderContext): Promise<OpenedOutput> => {
    if (output.kind === 'url' && new URL(output.url).origin === new URL(this.baseUrl).origin) {
      return openUpstreamOutput({ ...output, headers: { ...output.headers, ...this.headers() } }, ctx);
    }
    return openUpstreamOutput(output, ctx);
  };
}

function outputOf(video: GeminiVideo | undefined): UpstreamOutput[] {
  if (video?.uri) return [{ kind: 'url', url: video.uri, contentType: 'video/mp4' }];
  if (video?.encodedVideo) return [{ kind: 'base64', data: video.encodedVideo, contentType: video.encoding ?? 'video/mp4' }];
  return [];
}
