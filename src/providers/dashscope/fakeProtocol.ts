/**
 * What the fake DashScope accepts per upstream model, written from the upstream documentation on its own
 * (not derived from dashscopeMapping.ts), so a mapping mistake shows up as the 400 InvalidParameter the
 * real service would give. Unknown keys are refused too: the real service may ignore some, but a key the
 * documentation does not list is a mapping bug either way.
 */
type Check = (value: unknown) => boolean;

const isString: Check = (v) => typeof v === 'string' && v.length > 0;
const isBoolean: Check = (v) => typeof v === 'boolean';
const oneOf = (...values: unknown[]): Check => (v) => values.includes(v);
const intIn = (min: number, max: number): Check => (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const SEED = intIn(0, 2147483647);

export interface FakeModelSpec {
  input: Record<string, Check>;
  requiredInput: string[];
  parameters: Record<string, Check>;
  /** Allowed `input.media` types with their [min, max] counts; absent = media refused. */
  media?: Record<string, [number, number]>;
  /** Which `usage` block the model reports (they differ between families). */
  usage: 'wan' | 'happyhorse' | 'vidu';
}

const WAN_SIZES = ['832*480', '480*832', '624*624', '1280*720', '720*1280', '960*960', '1088*832', '832*1088', '1920*1080', '1080*1920', '1440*1440', '1632*1248', '1248*1632'];
const WAN_PARAMETERS = { duration: oneOf(5, 10), prompt_extend: isBoolean, watermark: isBoolean, seed: SEED, audio: isBoolean };
const HH_RESOLUTION = oneOf('720P', '1080P');
const HH_RATIO = oneOf('16:9', '9:16', '1:1', '4:3', '3:4');
const HH_DURATION = intIn(3, 15);

const happyhorse = {
  t2v: { input: { prompt: isString }, requiredInput: ['prompt'], parameters: { resolution: HH_RESOLUTION, ratio: HH_RATIO, duration: HH_DURATION, watermark: isBoolean, seed: SEED }, usage: 'happyhorse' },
  i2v: { input: { prompt: isString }, requiredInput: [], parameters: { resolution: HH_RESOLUTION, duration: HH_DURATION, watermark: isBoolean, seed: SEED }, media: { first_frame: [1, 1] }, usage: 'happyhorse' },
  r2v: { input: { prompt: isString }, requiredInput: ['prompt'], parameters: { resolution: HH_RESOLUTION, ratio: HH_RATIO, duration: HH_DURATION, watermark: isBoolean, seed: SEED }, media: { reference_image: [1, 9] }, usage: 'happyhorse' },
  edit: {
    input: { prompt: isString },
    requiredInput: ['prompt'],
    parameters: { resolution: HH_RESOLUTION, watermark: isBoolean, seed: SEED, audio_setting: oneOf('auto', 'origin') },
    media: { video: [1, 1], reference_image: [0, 5] },
    usage: 'happyhorse',
  },
} satisfies Record<string, FakeModelSpec>;

const viduReference = (resolutions: string[]): FakeModelSpec => ({
  input: { prompt: isString },
  requiredInput: ['prompt'],
  parameters: { resolution: oneOf(...resolutions), size: (v) => typeof v === 'string' && /^\d+\*\d+$/.test(v), duration: intIn(1, 16), seed: SEED, watermark: isBoolean },
  media: { image: [1, 7] },
  usage: 'vidu',
});

export const FAKE_MODELS: Record<string, FakeModelSpec> = {
  'wan2.5-t2v-preview': {
    input: { prompt: isString, negative_prompt: (v) => typeof v === 'string' && v.length <= 500, audio_url: isString },
    requiredInput: ['prompt'],
    parameters: { ...WAN_PARAMETERS, size: oneOf(...WAN_SIZES) },
    usage: 'wan',
  },
  'wan2.5-i2v-preview': {
    input: { prompt: isString, negative_prompt: (v) => typeof v === 'string' && v.length <= 500, img_url: isString, audio_url: isString },
    requiredInput: ['img_url'],
    parameters: { ...WAN_PARAMETERS, resolution: oneOf('480P', '720P', '1080P') },
    usage: 'wan',
  },
  'happyhorse-1.0-t2v': happyhorse.t2v,
  'happyhorse-1.0-i2v': happyhorse.i2v,
  'happyhorse-1.0-r2v': happyhorse.r2v,
  'happyhorse-1.0-video-edit': happyhorse.edit,
  'happyhorse-1.1-t2v': happyhorse.t2v,
  'happyhorse-1.1-i2v': happyhorse.i2v,
  'happyhorse-1.1-r2v': happyhorse.r2v,
  'vidu/viduq3_reference2video': viduReference(['540P', '720P', '1080P']),
  'vidu/viduq3-mix_reference2video': viduReference(['720P', '1080P']),
};

/** The first way the body breaks the model's documented protocol, in DashScope's words; null if none. */
export function protocolViolation(spec: FakeModelSpec, body: { input?: unknown; parameters?: unknown }): string | null {
  const input = (body.input ?? {}) as Record<string, unknown>;
  const parameters = (body.parameters ?? {}) as Record<string, unknown>;
  for (const key of spec.requiredInput) if (input[key] === undefined) return `Field required: input.${key}`;
  for (const [key, value] of Object.entries(input)) {
    if (key === 'media') continue;
    const check = spec.input[key];
    if (!check) return `Unrecognized field: input.${key}`;
    if (!check(value)) return `The input.${key} is not valid: ${JSON.stringify(value).slice(0, 80)}`;
  }
  for (const [key, value] of Object.entries(parameters)) {
    const check = spec.parameters[key];
    if (!check) return `Unrecognized field: parameters.${key}`;
    if (!check(value)) return `The parameters.${key} is not valid: ${JSON.stringify(value)}`;
  }
  return mediaViolation(spec, input.media);
}

function mediaViolation(spec: FakeModelSpec, media: unknown): string | null {
  if (!spec.media) return media === undefined ? null : 'Unrecognized field: input.media';
  const list = (media ?? []) as { type?: unknown; url?: unknown }[];
  if (!Array.isArray(list)) return 'The input.media must be an array';
  const counts = new Map<string, number>();
  for (const m of list) {
    if (typeof m.type !== 'string' || !spec.media[m.type]) return `The input.media type ${JSON.stringify(m.type)} is not supported by this model`;
    if (!isString(m.url)) return `The input.media url of type ${m.type} is missing`;
    counts.set(m.type, (counts.get(m.type) ?? 0) + 1);
  }
  for (const [type, [min, max]] of Object.entries(spec.media)) {
    const n = counts.get(type) ?? 0;
    if (n < min || n > max) return `The input.media must contain ${min === max ? min : `${min}-${max}`} item(s) of type ${type}, got ${n}`;
  }
  return null;
}
