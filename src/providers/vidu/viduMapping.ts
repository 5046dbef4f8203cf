/**
 * The APIMart viduq3 / viduq3-mix request → Vidu's POST /ent/v2/reference2video body, as one declarative
 * table walked by one mapper (Portkey's shape): each Vidu field names where its value comes from. The
 * validator has already applied defaults and canonical spellings, and they are Vidu's own spellings, so no
 * field needs a transform.
 *
 * Field facts (UPSTREAMS.md §4; https://platform.vidu.com/docs/reference-to-video as mirrored by
 * doc.aimanyi.top, docs.powertokens.ai, doc.vtrix.ai): `images` 1–7, URL or `data:image/...;base64,...`;
 * `prompt` ≤ 5000; `duration` q3-mix 1–16, q3 3–16; `seed` 0/absent = random; `aspect_ratio`;
 * `resolution`; `audio` (bool); `payload` (≤ 1 MB, echoed back); `callback_url`.
 */
import type { ValidatedRequest } from '../../models/validate.ts';

/**
 * "The post body of the HTTP request should not exceed 20MB" (every Vidu create page). Whether Vidu means
 * 20 × 10⁶ or 20 × 2²⁰ bytes is not said: the smaller is used.
 */
export const VIDU_BODY_LIMIT_BYTES = 20_000_000;

/** What the mapper reads besides the request's params. */
export interface MappingContext {
  /** The upstream model id: the channel's mapping, else the request's model (Vidu's ids are the same). */
  model: string;
  /** Whether the video has sound, as the output plan (and the price) says. */
  audio: boolean;
  taskId: string;
  callbackUrl?: string;
}

type FieldSource = { param: string } | { context: keyof MappingContext };

/** Vidu field ← source. A source without a value leaves the Vidu field out, so Vidu's own default applies. */
export const REFERENCE2VIDEO_FIELDS: Readonly<Record<string, FieldSource>> = {
  model: { context: 'model' },
  // Client URLs as given; images the gateway holds arrive here already as data URIs (see viduProvider).
  images: { param: 'image_urls' },
  prompt: { param: 'prompt' },
  duration: { param: 'duration' },
  // Left out when absent: Vidu picks a random seed for 0 or absent, so there is nothing to fill in.
  seed: { param: 'seed' },
  aspect_ratio: { param: 'aspect_ratio' },
  resolution: { param: 'resolution' },
  // The seed has no audio field, and the family's output plan says the video has sound. Vidu's default is
  // `true` for viduq3 but documented as `false` "for other models" on one mirror (powertokens) and as on
  // for viduq3-mix on another (modelstream): sent explicitly so the video matches what was priced.
  audio: { context: 'audio' },
  // Vidu has no idempotency key; its pass-through `payload` echoes reelay's task id in the creations
  // reply, the callbacks and Vidu's task list, so an operator can tie a Vidu task to a reelay task.
  payload: { context: 'taskId' },
  callback_url: { context: 'callbackUrl' },
};

export function mapReference2Video(params: Record<string, unknown>, context: MappingContext): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [field, source] of Object.entries(REFERENCE2VIDEO_FIELDS)) {
    const value = 'param' in source ? params[source.param] : context[source.context];
    if (value !== undefined) body[field] = value;
  }
  return body;
}

/** Length of `data:<type>;base64,<payload>` for `bytes` bytes: what one inline image adds to the body. */
export function dataUriLength(bytes: number, contentType: string): number {
  return `data:${contentType};base64,`.length + 4 * Math.ceil(bytes / 3);
}

export function jsonBytes(body: unknown): number {
  return Buffer.byteLength(JSON.stringify(body));
}

/** Why a body of `bytes` cannot go to Vidu, or undefined when it fits. */
export function bodyLimitProblem(bytes: number, inlineImages: number): string | undefined {
  if (bytes <= VIDU_BODY_LIMIT_BYTES) return undefined;
  const mb = (n: number) => (n / 1_000_000).toFixed(1);
  return (
    `the request to Vidu would be ${mb(bytes)} MB with ${inlineImages} inline image(s), over Vidu's ` +
    `${mb(VIDU_BODY_LIMIT_BYTES)} MB body limit; pass the images as URLs Vidu can fetch, or make them smaller`
  );
}

// Room for what canServe cannot see yet: the channel's model id, the callback URL, the task id.
const UNSEEN_FIELDS_BYTES = 4096;

/**
 * canServe's check: the body this request would make, counting every image given inline as a data URI
 * and every image the gateway stored (sent inline by start) at its stored size. Uploads referenced by URL
 * have no known size here, so start() checks again with what storage reports.
 */
export function inlineBodyProblem(request: ValidatedRequest, stored: { bytes: number; contentType: string }[] = []): string | undefined {
  const images = request.params.image_urls;
  const inline = Array.isArray(images) ? images.filter((i) => typeof i === 'string' && i.startsWith('data:')).length : 0;
  if (inline + stored.length === 0) return undefined;
  const body = mapReference2Video(request.params, { model: request.model, audio: true, taskId: '' });
  const storedBytes = stored.reduce((n, s) => n + dataUriLength(s.bytes, s.contentType), 0);
  return bodyLimitProblem(jsonBytes(body) + storedBytes + UNSEEN_FIELDS_BYTES, inline + stored.length);
}
