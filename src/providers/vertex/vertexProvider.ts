/**
 * The `vertex` provider: Veo 3.1 on Vertex AI with service-account credentials, UPSTREAMS.md §5b. The body is
 * the shared Veo mapping (google/veoMapping.ts); every call carries `Authorization: Bearer <OAuth token>`.
 *
 * - Submit: POST {base}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:predictLongRunning.
 *   No idempotency key exists here either: a submit retried after a lost reply can start a second job.
 * - Poll: POST …/models/{model}:fetchPredictOperation {operationName} (Vertex's documented read for Veo
 *   operations, not a GET on the operation); pending reads as queued (§7).
 * - Results: inline `bytesBase64Encoded` (→ base64 output, which the engine stores at once) unless the channel
 *   sets `storageUri`, in which case Veo writes to that bucket and answers `gcsUri`. A gs:// URI is not an
 *   HTTP URL: openOutput reads it through the Cloud Storage JSON API
 *   (GET {storage}/download/storage/v1/b/{bucket}/o/{object}?alt=media) with the same OAuth token, which
 *   needs storage read access on the bucket for the service account.
 * - No cancel: Vertex documents none for Veo operations.
 */
import { callJson, joinUrl, parseReply, type JsonReply } from '../http.ts';
import { openUpstreamOutput } from '../openOutput.ts';
import { ProviderError, type OpenedOutput, type ProviderContext, type StartRequest, type StatusResult, type UpstreamOperation, type UpstreamOutput, type VideoProvider } from '../types.ts';
import type { ValidatedRequest } from '../../models/validate.ts';
import { googleHttpError } from '../google/googleErrors.ts';
import { buildVeoRequest, mapVeoParameters } from '../google/veoMapping.ts';
import { servesVeoModel, veoModelId } from '../google/veoModels.ts';
import { finishedVeoStatus, type VeoOperation } from '../google/veoResult.ts';
import { operationReply, parseGcsUri, submitReply, type VertexVideo } from './vertexApi.ts';
import { loadServiceAccount, ServiceAccountTokens } from './vertexAuth.ts';

export const STORAGE_BASE_URL = 'https://storage.googleapis.com';

export interface VertexOptions {
  project: string;
  location?: string;
  /** Service-account key: the JSON object, or the path of its file. */
  credentials: string | Record<string, unknown>;
  /** Default https://{location}-aiplatform.googleapis.com (https://aiplatform.googleapis.com for `global`). */
  baseUrl?: string;
  /** Cloud Storage JSON API base, for gcsUri results (default https://storage.googleapis.com). */
  storageBaseUrl?: string;
  /** gs://bucket/prefix/ for Veo to write results to; absent = results come back inline. */
  storageUri?: string;
  /** Per call, ms. */
  timeoutMs?: number;
}

const NAME = 'vertex';

export function vertexBaseUrl(location: string): string {
  return location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
}

export class VertexProvider implements VideoProvider {
  readonly kind = NAME;
  private readonly tokens: ServiceAccountTokens;
  private readonly location: string;
  private readonly baseUrl: string;
  private readonly storageBaseUrl: string;

  constructor(private readonly o: VertexOptions) {
    this.location = o.location ?? 'us-central1';
    this.baseUrl = o.baseUrl ?? vertexBaseUrl(this.location);
    this.storageBaseUrl = o.storageBaseUrl ?? STORAGE_BASE_URL;
    this.tokens = new ServiceAccountTokens(loadServiceAccount(o.credentials, 'vertex credentials'), { timeoutMs: o.timeoutMs });
  }

  supports(modelId: string): boolean {
    return servesVeoModel('vertex', modelId);
  }

  canServe(request: ValidatedRequest): true | string {
    return mapVeoParameters('vertex', request).refused ?? true;
  }

  async start(req: StartRequest, ctx: ProviderContext): Promise<UpstreamOperation> {
    const model = veoModelId('vertex', req);
    const body = await buildVeoRequest('vertex', req, ctx);
    if (this.o.storageUri) body.parameters.storageUri = this.o.storageUri;
    const reply = await this.post(this.modelUrl(model, 'predictLongRunning'), body, ctx);
    const { name } = parseReply(NAME, submitReply, reply, 'predictLongRunning');
    return { name, model, count: req.plan.count, seconds: req.plan.seconds } satisfies VeoOperation;
  }

  async status(raw: UpstreamOperation, ctx: ProviderContext): Promise<StatusResult> {
    const op = raw as unknown as VeoOperation;
    const reply = await this.post(this.modelUrl(op.model, 'fetchPredictOperation'), { operationName: op.name }, ctx);
    const o = parseReply(NAME, operationReply, reply, 'fetchPredictOperation');
    if (!o.done) return { state: 'queued' };
    return finishedVeoStatus(NAME, op, {
      error: o.error,
      outputs: (o.response?.videos ?? []).flatMap(outputOf),
      raiMediaFilteredCount: o.response?.raiMediaFilteredCount,
      raiMediaFilteredReasons: o.response?.raiMediaFilteredReasons,
    });
  }

  /** A bound property: the engine and the contract call `provider.openOutput` detached from the provider. */
  readonly openOutput = async (output: UpstreamOutput, ctx: ProviderContext): Promise<OpenedOutput> => {
    const gcs = output.kind === 'url' ? parseGcsUri(output.url) : undefined;
    if (!gcs) return openUpstreamOutput(output, ctx);
    const url = joinUrl(this.storageBaseUrl, `/download/storage/v1/b/${encodeURIComponent(gcs.bucket)}/o/${encodeURIComponent(gcs.object)}?alt=media`);
    const headers = { authorization: `Bearer ${await this.tokens.accessToken()}` };
    // The storage host is the operator's setting, not a URL from a reply: the API client takes it, as for the API.
    return openUpstreamOutput({ kind: 'url', url, headers, contentType: output.contentType }, { ...ctx, fetch: ctx.api });
  };

  private modelUrl(model: string, method: string): string {
    const e = encodeURIComponent;
    return joinUrl(this.baseUrl, `/v1/projects/${e(this.o.project)}/locations/${e(this.location)}/publishers/google/models/${e(model)}:${method}`);
  }

  private async post(url: string, body: unknown, ctx: ProviderContext): Promise<JsonReply> {
    const token = await this.tokens.accessToken();
    const reply = await callJson(ctx.api, NAME, { method: 'POST', url, headers: { authorization: `Bearer ${token}` }, body, timeoutMs: this.o.timeoutMs, signal: ctx.signal });
    if (reply.status === 401) {
      // The token was refused (revoked, or expired early): the next attempt exchanges the key for a new one.
      this.tokens.invalidate();
      const e = googleHttpError(NAME, reply);
      throw new ProviderError(e.message, { retryable: true, status: 401, upstreamCode: e.upstreamCode });
    }
    if (reply.status >= 400) throw googleHttpError(NAME, reply);
    return reply;
  }
}

function outputOf(video: VertexVideo): UpstreamOutput[] {
  const contentType = video.mimeType ?? 'video/mp4';
  if (video.bytesBase64Encoded) return [{ kind: 'base64', data: video.bytesBase64Encoded, contentType }];
  if (video.gcsUri) return [{ kind: 'url', url: video.gcsUri, contentType }];
  return [];
}
