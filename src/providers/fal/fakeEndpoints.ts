/**
 * The input schemas the fake fal queue enforces, written from fal's model pages independently of the
 * adapter's mapping table, so a mapping mistake (a wrong field name, "8" where fal wants "8s") fails here
 * the way fal would fail it: 422 with a pydantic-style `detail` array
 * (https://fal.ai/docs/documentation/model-apis/errors).
 *
 * Stricter than fal in one way, on purpose: unknown fields are refused (fal's models ignore them), so a field
 * the adapter should have dropped or renamed cannot slip through unnoticed.
 */

type FieldRule =
  | { kind: 'string'; maxLength?: number }
  | { kind: 'enum'; values: readonly unknown[] }
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'boolean' }
  /** An http(s) URL or a base64 data URI (fal takes both in its URL fields). */
  | { kind: 'url' }
  | { kind: 'urls'; min: number; max: number };

export interface FakeEndpointSchema {
  required: string[];
  fields: Record<string, FieldRule>;
}

export interface FakeValidationError {
  loc: (string | number)[];
  msg: string;
  type: string;
  input?: unknown;
}

const text: FieldRule = { kind: 'string' };
const url: FieldRule = { kind: 'url' };
const bool: FieldRule = { kind: 'boolean' };
const oneOf = (...values: unknown[]): FieldRule => ({ kind: 'enum', values });
const seed: FieldRule = { kind: 'integer', min: 0 };

// https://fal.ai/models/fal-ai/wan-25-preview/{text,image}-to-video/llms.txt
const wanCommon = {
  prompt: text,
  negative_prompt: { kind: 'string', maxLength: 500 } as FieldRule,
  audio_url: url,
  resolution: oneOf('480p', '720p', '1080p'),
  duration: oneOf('5', '10'),
  enable_prompt_expansion: bool,
  enable_safety_checker: bool,
  seed,
};

// https://fal.ai/models/fal-ai/veo3.1/llms.txt and its /image-to-video, /first-last-frame-to-video pages.
function veo(resolutions: string[]): Record<string, FakeEndpointSchema> {
  const common = {
    prompt: text,
    negative_prompt: text,
    duration: oneOf('4s', '6s', '8s'),
    resolution: oneOf(...resolutions),
    generate_audio: bool,
    seed,
    auto_fix: bool,
    safety_tolerance: oneOf('1', '2', '3', '4', '5', '6'),
  };
  const frameAspect = oneOf('auto', '16:9', '9:16');
  return {
    '': { required: ['prompt'], fields: { ...common, aspect_ratio: oneOf('16:9', '9:16') } },
    '/image-to-video': { required: ['prompt', 'image_url'], fields: { ...common, aspect_ratio: frameAspect, image_url: url } },
    '/first-last-frame-to-video': {
      required: ['prompt', 'first_frame_url', 'last_frame_url'],
      fields: { ...common, aspect_ratio: frameAspect, first_frame_url: url, last_frame_url: url },
    },
  };
}

// https://fal.ai/models/alibaba/happy-horse/{text-to-video,image-to-video,reference-to-video,video-edit}/llms.txt
const happyCommon = {
  resolution: oneOf('720p', '1080p'),
  duration: { kind: 'integer', min: 3, max: 15 } as FieldRule,
  seed: { kind: 'integer', min: 0, max: 2147483647 } as FieldRule,
  enable_safety_checker: bool,
};
const happyAspect = oneOf('16:9', '9:16', '1:1', '4:3', '3:4');
const happyPrompt: FieldRule = { kind: 'string', maxLength: 2500 };

function withBase(base: string, byPath: Record<string, FakeEndpointSchema>): [string, FakeEndpointSchema][] {
  return Object.entries(byPath).map(([path, schema]) => [`${base}${path}`, schema]);
}

export const FAKE_FAL_ENDPOINTS: ReadonlyMap<string, FakeEndpointSchema> = new Map([
  ['fal-ai/wan-25-preview/text-to-video', { required: ['prompt'], fields: { ...wanCommon, aspect_ratio: oneOf('16:9', '9:16', '1:1') } }],
  ['fal-ai/wan-25-preview/image-to-video', { required: ['prompt', 'image_url'], fields: { ...wanCommon, prompt: { kind: 'string', maxLength: 800 }, image_url: url } }],
  ...withBase('fal-ai/veo3.1', veo(['720p', '1080p', '4k'])),
  ...withBase('fal-ai/veo3.1/fast', veo(['720p', '1080p', '4k'])),
  // Lite: 720p and 1080p only (https://fal.ai/docs/model-api-reference/video-generation-api/veo3.1-lite).
  ...withBase('fal-ai/veo3.1/lite', veo(['720p', '1080p'])),
  [
    // https://fal.ai/models/fal-ai/vidu/q3/reference-to-video/mix/llms.txt
    'fal-ai/vidu/q3/reference-to-video/mix',
    {
      required: ['prompt', 'reference_image_urls'],
      fields: {
        prompt: { kind: 'string', maxLength: 2000 },
        reference_image_urls: { kind: 'urls', min: 1, max: 4 },
        duration: { kind: 'integer', min: 1, max: 16 },
        seed,
        aspect_ratio: oneOf('16:9', '9:16', '4:3', '3:4', '1:1'),
        resolution: oneOf('360p', '540p', '720p', '1080p'),
        audio: bool,
      },
    },
  ],
  ['alibaba/happy-horse/text-to-video', { required: ['prompt'], fields: { ...happyCommon, prompt: happyPrompt, aspect_ratio: happyAspect } }],
  ['alibaba/happy-horse/image-to-video', { required: ['image_url'], fields: { ...happyCommon, prompt: happyPrompt, image_url: url } }],
  [
    'alibaba/happy-horse/reference-to-video',
    { required: ['prompt', 'image_urls'], fields: { ...happyCommon, prompt: happyPrompt, aspect_ratio: happyAspect, image_urls: { kind: 'urls', min: 1, max: 9 } } },
  ],
  [
    'alibaba/happy-horse/video-edit',
    {
      required: ['video_url', 'prompt'],
      fields: {
        video_url: url,
        prompt: happyPrompt,
        reference_image_urls: { kind: 'urls', min: 0, max: 5 },
        resolution: oneOf('720p', '1080p'),
        audio_setting: oneOf('auto', 'origin'),
        seed: happyCommon.seed,
        enable_safety_checker: bool,
      },
    },
  ],
]);

const URL_PATTERN = /^(https?:\/\/\S+|data:[\w.+-]+\/[\w.+-]+;base64,[A-Za-z0-9+/=]+)$/;

/** Every problem with the input, as fal lists them (all at once, not just the first). */
export function validateFakeInput(schema: FakeEndpointSchema, input: unknown): FakeValidationError[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [{ loc: ['body'], msg: 'Input should be a valid dictionary', type: 'dict_type', input }];
  const body = input as Record<string, unknown>;
  const errors: FakeValidationError[] = [];
  for (const name of schema.required) if (body[name] === undefined) errors.push({ loc: ['body', name], msg: 'Field required', type: 'missing' });
  for (const [name, value] of Object.entries(body)) {
    const rule = schema.fields[name];
    if (!rule) errors.push({ loc: ['body', name], msg: 'Extra inputs are not permitted', type: 'extra_forbidden', input: value });
    else errors.push(...checkField(name, rule, value));
  }
  return errors;
}

function checkField(name: string, rule: FieldRule, value: unknown): FakeValidationError[] {
  const at = (msg: string, type: string): FakeValidationError[] => [{ loc: ['body', name], msg, type, input: value }];
  switch (rule.kind) {
    case 'string':
      if (typeof value !== 'string') return at('Input should be a valid string', 'string_type');
      return rule.maxLength !== undefined && value.length > rule.maxLength ? at(`String should have at most ${rule.maxLength} characters`, 'string_too_long') : [];
    case 'enum':
      return rule.values.includes(value) ? [] : at(`Input should be ${rule.values.map((v) => JSON.stringify(v)).join(', ')}`, 'literal_error');
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return at('Input should be a valid integer', 'int_type');
      if (rule.min !== undefined && value < rule.min) return at(`Input should be greater than or equal to ${rule.min}`, 'greater_than_equal');
      return rule.max !== undefined && value > rule.max ? at(`Input should be less than or equal to ${rule.max}`, 'less_than_equal') : [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : at('Input should be a valid boolean', 'bool_type');
    case 'url':
      return typeof value === 'string' && URL_PATTERN.test(value) ? [] : at('Input should be a valid URL or data URI', 'url_parsing');
    case 'urls': {
      if (!Array.isArray(value)) return at('Input should be a valid list', 'list_type');
      if (value.length < rule.min) return at(`List should have at least ${rule.min} item after validation, not ${value.length}`, 'too_short');
      if (value.length > rule.max) return at(`List should have at most ${rule.max} items after validation, not ${value.length}`, 'too_long');
      return value.flatMap((v, i) => (typeof v === 'string' && URL_PATTERN.test(v) ? [] : [{ loc: ['body', name, i], msg: 'Input should be a valid URL or data URI', type: 'url_parsing', input: v }]));
    }
  }
}
