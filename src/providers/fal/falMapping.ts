/**
 * Which fal endpoint serves each (seed model, mode), and how each validated APIMart parameter becomes a fal
 * input field: one declarative entry per pair, walked by the generic mapper in falRequest.ts (the Portkey
 * pattern). Every APIMart parameter of the mode is either mapped, sent as a fixed value, or listed under
 * `dropped` with the reason, and fal.test.ts checks that none is forgotten.
 *
 * Endpoint ids are `base + subpath`; a channel's model_map (`upstreamModel`) replaces the base, so
 * `veo3.1-fast-official: fal-ai/veo3.1/lite` routes to fal-ai/veo3.1/lite/image-to-video in I2V.
 *
 * Schemas were read from fal's own model pages (fal.ai/models/<endpoint>/llms.txt and /api); where fal's
 * page was cut short the gap is marked UNCERTAIN in the entry.
 */
import type { Mode } from '../../models/spec.ts';

export type Transform = (value: unknown) => unknown;

export interface FieldMapping {
  /** fal's field name. */
  to: string;
  transform?: Transform;
}

/** What fal accepts where it is narrower than the APIMart model; checked by canServe before a submit. */
export interface FalLimits {
  /** Fields fal requires that the APIMart model leaves optional in this mode. */
  required?: string[];
  maxLength?: Record<string, number>;
  maxItems?: Record<string, number>;
  /** The only values fal can honour, for fields where the APIMart model allows more. */
  oneOf?: Record<string, readonly unknown[]>;
}

export interface FalEndpoint {
  model: string;
  mode: Mode;
  /** Default endpoint base; a channel's upstreamModel replaces it. */
  base: string;
  /** Appended to the base for this mode ('' = the base itself). */
  subpath: string;
  /** APIMart parameter → fal field. */
  fields: Record<string, FieldMapping>;
  /** Sent on every request, where fal's default differs from what the APIMart model promises. */
  fixed?: Record<string, unknown>;
  /** APIMart parameters with no fal counterpart, each with why dropping it is acceptable. */
  dropped?: Record<string, string>;
  limits?: FalLimits;
  /** fal's schema page for the endpoint. */
  source: string;
}

/** 8 → "8s" (Veo's DurationEnum). */
const secondsWithSuffix: Transform = (v) => `${String(v)}s`;
/** 5 → "5" (Wan 2.5's DurationEnum is a string). */
const asText: Transform = (v) => String(v);
/** "4K" → "4k", "1080P" → "1080p": fal spells resolutions in lower case. */
const lowerCase: Transform = (v) => String(v).toLowerCase();
/** ["a"] → "a": an APIMart one-item list where fal takes a single URL. */
const firstItem: Transform = (v) => (Array.isArray(v) ? v[0] : v);

const to = (field: string, transform?: Transform): FieldMapping => ({ to: field, transform });
const same = (...names: string[]): Record<string, FieldMapping> => Object.fromEntries(names.map((n) => [n, to(n)]));

const FAL_PAGE = (endpoint: string) => `https://fal.ai/models/${endpoint}/llms.txt`;

// --- Wan 2.5 preview -------------------------------------------------------------------------------------
const WAN_BASE = 'fal-ai/wan-25-preview';
const WAN_DROPPED = {
  // fal's schema has no audio switch; APIMart only allows audio=true, and Wan 2.5 generates audio unless
  // told otherwise (UNCERTAIN on fal: its page documents only audio_url).
  audio: 'always true for this model; fal has no switch for it',
  watermark: 'fal exposes no watermark switch (APIMart default false)',
};
const WAN_FIELDS = {
  ...same('prompt', 'negative_prompt', 'seed', 'audio_url'),
  resolution: to('resolution', lowerCase),
  duration: to('duration', asText),
  prompt_extend: to('enable_prompt_expansion'),
};

// --- Veo 3.1 (fast and quality share every field) -----------------------------------------------------------
function veoEntries(model: string, base: string): FalEndpoint[] {
  const fields = {
    ...same('prompt', 'negative_prompt', 'aspect_ratio', 'seed', 'generate_audio'),
    duration: to('duration', secondsWithSuffix),
    resolution: to('resolution', lowerCase),
  };
  const dropped = {
    enhance_prompt: 'APIMart only allows true, which is what Veo does; fal has no switch',
    person_generation: 'fal has no policy switch; only the default allow_adult is accepted (limits)',
    sample_count: 'fal returns one video per request; only 1 is accepted (limits)',
  };
  // fal crops images that are not 16:9 or 9:16 (fal veo3.1 image-to-video page), so APIMart's
  // resize_mode (default pad) cannot be honoured; dropping it keeps image-to-video available.
  const imageDropped = { ...dropped, resize_mode: 'fal crops to 16:9 or 9:16 and has no pad/crop switch' };
  const limits: FalLimits = { oneOf: { person_generation: ['allow_adult'], sample_count: [1] } };
  return [
    { model, mode: 'T2V', base, subpath: '', fields, dropped, limits, source: FAL_PAGE(base) },
    {
      model,
      mode: 'I2V',
      base,
      subpath: '/image-to-video',
      fields: { ...fields, first_frame_image: to('image_url') },
      dropped: imageDropped,
      limits,
      source: FAL_PAGE(`${base}/image-to-video`),
    },
    {
      model,
      mode: 'FLF',
      base,
      subpath: '/first-last-frame-to-video',
      fields: { ...fields, first_frame_image: to('first_frame_url'), last_frame_image: to('last_frame_url') },
      dropped: imageDropped,
      limits,
      source: FAL_PAGE(`${base}/first-last-frame-to-video`),
    },
  ];
}

// --- HappyHorse 1.0 ---------------------------------------------------------------------------------------
const HAPPY_BASE = 'alibaba/happy-horse';
// fal's happy-horse pages list no watermark field, so the APIMart default (true) cannot be passed on;
// whether fal's output carries Alibaba's watermark is UNCERTAIN.
const HAPPY_DROPPED = { watermark: 'fal exposes no watermark switch' };
const HAPPY_COMMON = {
  ...same('prompt', 'seed'),
  resolution: to('resolution', lowerCase),
  // fal's DurationEnum lists the integers 3–15 but shows its default as "5": integers are sent (UNCERTAIN).
  duration: to('duration'),
};

export const FAL_ENDPOINTS: readonly FalEndpoint[] = [
  {
    model: 'wan2.5-preview',
    mode: 'T2V',
    base: WAN_BASE,
    subpath: '/text-to-video',
    fields: { ...WAN_FIELDS, size: to('aspect_ratio') },
    dropped: WAN_DROPPED,
    limits: { oneOf: { size: ['16:9', '9:16', '1:1'] } },
    source: FAL_PAGE(`${WAN_BASE}/text-to-video`),
  },
  {
    model: 'wan2.5-preview',
    mode: 'I2V',
    base: WAN_BASE,
    subpath: '/image-to-video',
    fields: { ...WAN_FIELDS, image_urls: to('image_url', firstItem) },
    dropped: WAN_DROPPED,
    // fal's image-to-video requires the prompt ("Max 800 characters"); APIMart makes it optional.
    limits: { required: ['prompt'], maxLength: { prompt: 800 } },
    source: FAL_PAGE(`${WAN_BASE}/image-to-video`),
  },
  ...veoEntries('veo3.1-quality-official', 'fal-ai/veo3.1'),
  ...veoEntries('veo3.1-fast-official', 'fal-ai/veo3.1/fast'),
  {
    model: 'viduq3-mix',
    mode: 'R2V',
    base: 'fal-ai/vidu/q3/reference-to-video/mix',
    subpath: '',
    fields: { ...same('prompt', 'duration', 'resolution', 'aspect_ratio', 'seed'), image_urls: to('reference_image_urls') },
    // The APIMart model always has audio (families/viduq3.ts); fal's default for `audio` is not shown.
    fixed: { audio: true },
    limits: { maxItems: { image_urls: 4 }, maxLength: { prompt: 2000 } },
    source: FAL_PAGE('fal-ai/vidu/q3/reference-to-video/mix'),
  },
  {
    model: 'happyhorse-1.0',
    mode: 'T2V',
    base: HAPPY_BASE,
    subpath: '/text-to-video',
    fields: { ...HAPPY_COMMON, size: to('aspect_ratio') },
    dropped: HAPPY_DROPPED,
    source: FAL_PAGE(`${HAPPY_BASE}/text-to-video`),
  },
  {
    model: 'happyhorse-1.0',
    mode: 'I2V',
    base: HAPPY_BASE,
    subpath: '/image-to-video',
    fields: { ...HAPPY_COMMON, first_frame_image: to('image_url') },
    dropped: HAPPY_DROPPED,
    source: FAL_PAGE(`${HAPPY_BASE}/image-to-video`),
  },
  {
    model: 'happyhorse-1.0',
    mode: 'R2V',
    base: HAPPY_BASE,
    subpath: '/reference-to-video',
    fields: { ...HAPPY_COMMON, ...same('image_urls'), size: to('aspect_ratio') },
    dropped: HAPPY_DROPPED,
    source: FAL_PAGE(`${HAPPY_BASE}/reference-to-video`),
  },
  {
    model: 'happyhorse-1.0',
    mode: 'EDIT',
    base: HAPPY_BASE,
    subpath: '/video-edit',
    // fal's page is cut after `resolution`; audio_setting and seed are as mirrors of the same schema show
    // them (sunra.ai, aihubmax) — UNCERTAIN.
    fields: { ...same('prompt', 'seed', 'video_url', 'audio_setting'), resolution: to('resolution', lowerCase), image_urls: to('reference_image_urls') },
    dropped: HAPPY_DROPPED,
    source: FAL_PAGE(`${HAPPY_BASE}/video-edit`),
  },
];

export function falEndpointFor(model: string, mode: Mode): FalEndpoint | undefined {
  return FAL_ENDPOINTS.find((e) => e.model === model && e.mode === mode);
}

export const FAL_MODELS: ReadonlySet<string> = new Set(FAL_ENDPOINTS.map((e) => e.model));
