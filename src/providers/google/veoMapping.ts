/**
 * The one Veo 3.1 request mapping behind the `gemini` and `vertex` adapters: declarative per-field tables
 * (Portkey's shape) walked by one function, producing predictLongRunning's
 * `{instances: [{prompt, image?, lastFrame?}], parameters: {...}}`.
 *
 * Both APIs share the body; they differ only in which fields they accept. The split below follows Google's
 * own client, googleapis/js-genai (src/converters/_models_converters.ts, generateVideosConfigToMldev vs
 * generateVideosConfigToVertex): the Gemini API ("mldev") refuses seed, generateAudio and resizeMode, and
 * both send images as `{bytesBase64Encoded, mimeType}` (imageToMldev / imageToVertex). Field names and
 * values on Vertex: the Veo API reference (cloud.google.com/vertex-ai/generative-ai/docs/model-reference/
 * veo-video-generation) and VideoGenerationModelParams.
 */
import type { Mode } from '../../models/spec.ts';
import type { ValidatedRequest } from '../../models/validate.ts';
import { inputBytes } from '../inlineInputs.ts';
import { ProviderError, type ProviderContext, type StartRequest } from '../types.ts';

export type VeoApi = 'gemini' | 'vertex';

/** What one field's value becomes on one API: sent (translated), left out, or a request the API cannot take. */
export type VeoOutcome = { send: unknown } | { omit: string } | { refuse: string };

export interface VeoParameterRule {
  /** APIMart parameter, as the validator emits it. */
  field: string;
  /** Key under the body's `parameters`. */
  key: string;
  /** APIs that do not take the field, with why; it is left out there. */
  omitOn?: Partial<Record<VeoApi, string>>;
  /** APIMart value → Google value where they differ (identity when absent). */
  translate?: (value: unknown, on: { api: VeoApi; mode: Mode }) => VeoOutcome;
  source: string;
}

export interface VeoImageRule {
  field: string;
  /** Key in `instances[0]`. */
  key: 'image' | 'lastFrame';
  source: string;
}

const SDK = 'js-genai generateVideosConfigToMldev/ToVertex';
const SDK_VERTEX_ONLY = (param: string) => `the Gemini API refuses it (js-genai: "${param} parameter is only supported in Gemini Enterprise Agent Platform mode")`;

const GEMINI_NO_DONT_ALLOW = 'person_generation "disallow" (dont_allow) is not offered for Veo 3.1 on the Gemini API; a vertex channel can take it';

/**
 * APIMart person_generation per API and mode. Vertex takes dont_allow | allow_adult | allow_all in every mode
 * (VideoGenerationModelParams). UNCERTAIN for the Gemini API: its Veo 3.1 docs, as quoted in
 * discuss.ai.google.dev/t/veo-3-1-image-to-video-rejects-documented-persongeneration-allow-adult/181139, allow
 * only allow_all for text-to-video and only allow_adult with a frame image; dont_allow is listed for Veo 2.
 * Each entry is the whole policy for its case: change one entry to change it.
 */
const PERSON_GENERATION: Record<VeoApi, Partial<Record<Mode, Record<string, VeoOutcome>>>> = {
  vertex: {
    T2V: { allow_adult: { send: 'allow_adult' }, disallow: { send: 'dont_allow' } },
    I2V: { allow_adult: { send: 'allow_adult' }, disallow: { send: 'dont_allow' } },
    FLF: { allow_adult: { send: 'allow_adult' }, disallow: { send: 'dont_allow' } },
  },
  gemini: {
    // allow_adult cannot be asked for here: the field is left out and Google's text-to-video default applies
    // (UNCERTAIN whether that default, presumably allow_all, is wider than the client's allow_adult).
    T2V: { allow_adult: { omit: 'Gemini API text-to-video takes only allow_all' }, disallow: { refuse: GEMINI_NO_DONT_ALLOW } },
    I2V: { allow_adult: { send: 'allow_adult' }, disallow: { refuse: GEMINI_NO_DONT_ALLOW } },
    FLF: { allow_adult: { send: 'allow_adult' }, disallow: { refuse: GEMINI_NO_DONT_ALLOW } },
  },
};

export const VEO_IMAGES: readonly VeoImageRule[] = [
  { field: 'first_frame_image', key: 'image', source: `${SDK} (generateVideosSourceTo*: instances[0].image)` },
  { field: 'last_frame_image', key: 'lastFrame', source: `${SDK} (instances[0].lastFrame)` },
];

export const VEO_PARAMETERS: readonly VeoParameterRule[] = [
  { field: 'negative_prompt', key: 'negativePrompt', source: SDK },
  { field: 'duration', key: 'durationSeconds', source: SDK },
  { field: 'aspect_ratio', key: 'aspectRatio', source: SDK },
  {
    field: 'resolution',
    key: 'resolution',
    // The Gemini API's Veo 3.1 page spells it 4k; UNCERTAIN that Vertex takes the same (its reference lists 720p|1080p).
    translate: (v) => ({ send: String(v).toLowerCase() }),
    source: 'ai.google.dev/gemini-api/docs/video (720p, 1080p, 4k)',
  },
  { field: 'sample_count', key: 'sampleCount', source: `${SDK} (numberOfVideos → sampleCount on both)` },
  { field: 'seed', key: 'seed', omitOn: { gemini: SDK_VERTEX_ONLY('seed') }, source: SDK },
  {
    field: 'generate_audio',
    key: 'generateAudio',
    // Veo 3.1 on the Gemini API always renders audio, so generate_audio=false still yields a sound track there.
    omitOn: { gemini: SDK_VERTEX_ONLY('generateAudio') },
    source: SDK,
  },
  {
    field: 'person_generation',
    key: 'personGeneration',
    translate: (v, { api, mode }) => PERSON_GENERATION[api][mode]?.[String(v)] ?? { refuse: `person_generation ${String(v)} has no ${api} mapping in ${mode}` },
    source: 'VideoGenerationModelParams (dont_allow|allow_adult|allow_all); Gemini: see PERSON_GENERATION',
  },
  {
    field: 'resize_mode',
    key: 'resizeMode',
    // UNCERTAIN: lowercase pad|crop as APIMart and the Vertex reference write them; the SDK's enum is PAD|CROP.
    omitOn: { gemini: SDK_VERTEX_ONLY('resizeMode') },
    source: SDK,
  },
  { field: 'enhance_prompt', key: 'enhancePrompt', source: SDK },
];

export interface VeoParameters {
  parameters: Record<string, unknown>;
  /** Fields given but not sent, with why. */
  omitted: Record<string, string>;
  /** Why this API cannot take the request at all (undefined when it can). */
  refused?: string;
}

/** Walks VEO_PARAMETERS for one API. Pure: used by canServe as well as by start. */
export function mapVeoParameters(api: VeoApi, request: ValidatedRequest): VeoParameters {
  const out: VeoParameters = { parameters: {}, omitted: {} };
  for (const rule of VEO_PARAMETERS) {
    const value = request.params[rule.field];
    if (value === undefined) continue;
    const skip = rule.omitOn?.[api];
    const outcome: VeoOutcome = skip ? { omit: skip } : rule.translate ? rule.translate(value, { api, mode: request.mode }) : { send: value };
    if ('send' in outcome) out.parameters[rule.key] = outcome.send;
    else if ('omit' in outcome) out.omitted[rule.field] = outcome.omit;
    else out.refused ??= outcome.refuse;
  }
  return out;
}

export interface VeoImage {
  bytesBase64Encoded: string;
  mimeType: string;
}

export interface VeoRequestBody {
  instances: [{ prompt: string; image?: VeoImage; lastFrame?: VeoImage }];
  parameters: Record<string, unknown>;
}

/**
 * The predictLongRunning body. Images always go as bytes, never URLs: neither API fetches http(s) URLs
 * (Vertex takes only bytes or gs://, the Gemini API only bytes or its own Files API).
 */
export async function buildVeoRequest(api: VeoApi, req: StartRequest, ctx: ProviderContext): Promise<VeoRequestBody> {
  const mapped = mapVeoParameters(api, req.request);
  if (mapped.refused) throw new ProviderError(mapped.refused, { retryable: false });
  const instance: VeoRequestBody['instances'][0] = { prompt: String(req.request.params.prompt) };
  for (const rule of VEO_IMAGES) {
    if (req.request.params[rule.field] === undefined) continue;
    const input = req.inputs.find((i) => i.field === rule.field);
    if (!input) throw new ProviderError(`${rule.field} was given but no input carries it`, { retryable: false });
    const { bytes, contentType } = await inputBytes(input, ctx);
    instance[rule.key] = { bytesBase64Encoded: bytes.toString('base64'), mimeType: contentType };
  }
  return { instances: [instance], parameters: mapped.parameters };
}
