/**
 * fal's queue wire format (UPSTREAMS.md §6a), as zod schemas.
 *
 * Sources: https://docs.fal.ai/model-endpoints/queue (submit reply and status types),
 * https://fal.ai/docs/documentation/model-apis/errors (model errors: `detail` is an array of {loc, msg, type}),
 * https://fal.ai/docs/documentation/model-apis/request-errors (request errors: `detail` is a string, with
 * `error_type` and the X-Fal-Error-Type header), vercel/ai packages/fal/src/fal-video-model.ts (result shape
 * `video.url`, and "Request is still in progress" on an early result call).
 */
import { z } from 'zod';

/** POST queue.fal.run/{endpoint} → the request id and the URLs to use from then on (they drop the subpath). */
export const submitReply = z
  .object({
    request_id: z.string().min(1),
    status_url: z.string().optional(),
    response_url: z.string().optional(),
    cancel_url: z.string().optional(),
    queue_position: z.number().nullish(),
  })
  .passthrough();

/**
 * GET …/requests/{id}/status. The documented states are IN_QUEUE, IN_PROGRESS and COMPLETED; a schema
 * mirror also lists FAILED and CANCELED (UNCERTAIN), so any string is accepted and the adapter decides.
 */
export const statusReply = z
  .object({
    status: z.string(),
    queue_position: z.number().nullish(),
    response_url: z.string().optional(),
    logs: z.array(z.object({ message: z.string().optional() }).passthrough()).nullish(),
  })
  .passthrough();

/** The `File` every fal video endpoint returns; size and length are optional and not always filled in. */
const videoFile = z
  .object({
    url: z.string().min(1),
    content_type: z.string().nullish(),
    width: z.number().nullish(),
    height: z.number().nullish(),
    duration: z.number().nullish(),
    fps: z.number().nullish(),
  })
  .passthrough();

/** GET …/requests/{id}: every endpoint reelay maps (wan, veo, vidu, happy-horse) answers `{video: File, …}`. */
export const videoResult = z.object({ video: videoFile, seed: z.number().nullish() }).passthrough();
export type FalVideoResult = z.infer<typeof videoResult>;

const modelErrorItem = z.object({ loc: z.array(z.union([z.string(), z.number()])).optional(), msg: z.string(), type: z.string().optional() }).passthrough();

/** `detail` is a string (request errors), an array (model errors), or, as some endpoints answer, an object. */
const errorBody = z
  .object({
    detail: z.union([z.string(), z.array(modelErrorItem), z.object({ message: z.string().optional(), error: z.string().optional() }).passthrough()]),
    error_type: z.string().optional(),
  })
  .passthrough();

export interface FalErrorFacts {
  message?: string;
  /** fal's machine-readable category: `error_type`, the header, or the first model error's `type`. */
  type?: string;
}

/** What a fal error reply says, in one line: each model error as "field: message", joined. */
export function falErrorOf(json: unknown, headers: Record<string, string> = {}): FalErrorFacts {
  const header = headers['x-fal-error-type'];
  const parsed = errorBody.safeParse(json);
  if (!parsed.success) return { type: header };
  const { detail, error_type } = parsed.data;
  if (typeof detail === 'string') return { message: detail, type: error_type ?? header };
  if (Array.isArray(detail)) {
    const message = detail.map((d) => (fieldOf(d.loc) ? `${fieldOf(d.loc)}: ${d.msg}` : d.msg)).join('; ');
    return { message, type: detail[0]?.type ?? error_type ?? header };
  }
  return { message: detail.message, type: detail.error ?? error_type ?? header };
}

/** ["body", "image_url"] → "image_url"; ["body"] → undefined (a whole-request error). */
function fieldOf(loc: (string | number)[] | undefined): string | undefined {
  const path = (loc ?? []).filter((p) => p !== 'body');
  return path.length ? path.join('.') : undefined;
}

/** The body fal POSTs to `fal_webhook` (UPSTREAMS.md §6a; https://docs.fal.ai/model-endpoints/webhooks). */
export const webhookBody = z
  .object({
    request_id: z.string(),
    gateway_request_id: z.string().optional(),
    status: z.enum(['OK', 'ERROR']),
    payload: z.unknown().optional(),
    error: z.string().nullish(),
  })
  .passthrough();
export type FalWebhookBody = z.infer<typeof webhookBody>;
