/**
 * veo3.1-fast-official and veo3.1-quality-official, from ../shared/seeds/veo3.1.txt. Every expectation is
 * typed in from the seed.
 */
import { GARBAGE_URLS, PNG_DATA_URI, UNPARSEABLE_URLS, flipCase, type AcceptCase, type RejectCase } from '../helpers.ts';

export const MODELS = ['veo3.1-fast-official', 'veo3.1-quality-official'] as const;
type Model = (typeof MODELS)[number];
const P = 'a golden retriever running on the beach, sunset, cinematic';
const FIRST = 'https://example.com/frame-start.png';
const LAST = 'https://example.com/frame-end.png';

// Seed defaults: duration 8, aspect_ratio 16:9, resolution 720p, sample_count 1, generate_audio false,
// person_generation allow_adult, enhance_prompt true; resize_mode pad, image-to-video only.
export const DEFAULTS = {
  T2V: {
    duration: 8,
    aspect_ratio: '16:9',
    resolution: '720p',
    sample_count: 1,
    generate_audio: false,
    person_generation: 'allow_adult',
    enhance_prompt: true,
  },
  I2V: {
    duration: 8,
    aspect_ratio: '16:9',
    resolution: '720p',
    sample_count: 1,
    generate_audio: false,
    person_generation: 'allow_adult',
    resize_mode: 'pad',
    enhance_prompt: true,
  },
} as const;
export const DURATIONS = [4, 6, 8];
export const RESOLUTIONS = ['720p', '1080p', '4K'];
export const ASPECTS = ['16:9', '9:16'];

export const USE_CASES: AcceptCase[] = [
  {
    title: 'Request example (curl)',
    body: { model: 'veo3.1-fast-official', prompt: P, duration: 8, aspect_ratio: '16:9' },
    model: 'veo3.1-fast-official',
    mode: 'T2V',
    params: { prompt: P, ...DEFAULTS.T2V },
  },
  {
    title: 'Scenario 1: Text-to-Video (Basic)',
    body: { model: 'veo3.1-fast-official', prompt: P },
    model: 'veo3.1-fast-official',
    mode: 'T2V',
    params: { prompt: P, ...DEFAULTS.T2V },
  },
  {
    title: 'Scenario 2: Text-to-Video (Full Parameters)',
    body: {
      model: 'veo3.1-quality-official',
      prompt: 'a cinematic close-up of a ragdoll cat slowly walking through a sunlit living room',
      negative_prompt: 'blurry, low quality, watermark, text',
      duration: 8,
      aspect_ratio: '16:9',
      resolution: '1080p',
      seed: 12345,
      generate_audio: true,
      person_generation: 'disallow',
      enhance_prompt: true,
    },
    model: 'veo3.1-quality-official',
    mode: 'T2V',
    params: {
      prompt: 'a cinematic close-up of a ragdoll cat slowly walking through a sunlit living room',
      negative_prompt: 'blurry, low quality, watermark, text',
      ...DEFAULTS.T2V,
      resolution: '1080p',
      seed: 12345,
      generate_audio: true,
      person_generation: 'disallow',
    },
  },
  {
    title: 'Scenario 3: Image-to-Video (Single First Frame)',
    body: {
      model: 'veo3.1-fast-official',
      prompt: 'the cat slowly walks forward and looks around',
      first_frame_image: 'https://example.com/cat.png',
      duration: 8,
      resolution: '720p',
    },
    model: 'veo3.1-fast-official',
    mode: 'I2V',
    params: { prompt: 'the cat slowly walks forward and looks around', first_frame_image: 'https://example.com/cat.png', ...DEFAULTS.I2V },
  },
  {
    title: 'Scenario 4: Image-to-Video (First Frame + Last Frame)',
    body: {
      model: 'veo3.1-quality-official',
      prompt: 'smooth cinematic transition from the first frame to the last frame',
      first_frame_image: FIRST,
      last_frame_image: LAST,
      duration: 8,
      resolution: '1080p',
    },
    model: 'veo3.1-quality-official',
    mode: 'FLF',
    params: {
      prompt: 'smooth cinematic transition from the first frame to the last frame',
      first_frame_image: FIRST,
      last_frame_image: LAST,
      ...DEFAULTS.I2V,
      resolution: '1080p',
    },
  },
  {
    title: 'Scenario 5: Video with Audio',
    body: {
      model: 'veo3.1-quality-official',
      prompt: 'a busy coffee shop with people chatting and barista making latte art',
      duration: 8,
      generate_audio: true,
      aspect_ratio: '16:9',
    },
    model: 'veo3.1-quality-official',
    mode: 'T2V',
    params: { prompt: 'a busy coffee shop with people chatting and barista making latte art', ...DEFAULTS.T2V, generate_audio: true },
  },
];

const body = (model: Model, extra: Record<string, unknown>): Record<string, unknown> => ({ model, prompt: P, ...extra });

export const ACCEPTED: AcceptCase[] = [
  ...USE_CASES,
  ...MODELS.flatMap((model): AcceptCase[] => {
    const t2v = (title: string, extra: Record<string, unknown>, params: Record<string, unknown>): AcceptCase => ({
      title: `${model}: ${title}`,
      body: body(model, extra),
      model,
      mode: 'T2V',
      params: { prompt: P, ...DEFAULTS.T2V, ...params },
    });
    return [
      ...DURATIONS.map((d) => t2v(`duration ${d}`, { duration: d }, { duration: d })),
      // 4K and 4k, 1080P and 1080p: reported as the seed spells them (720p, 1080p, 4K)
      ...RESOLUTIONS.flatMap((r) => [r, flipCase(r)].map((given) => t2v(`resolution ${given}`, { resolution: given }, { resolution: r }))),
      ...ASPECTS.map((a) => t2v(`aspect_ratio ${a}`, { aspect_ratio: a }, { aspect_ratio: a })),
      ...[1, 2, 3, 4].map((n) => t2v(`sample_count ${n}`, { sample_count: n }, { sample_count: n })),
      t2v('seed 0', { seed: 0 }, { seed: 0 }),
      t2v('seed 4294967295', { seed: 4294967295 }, { seed: 4294967295 }),
      ...[true, false].map((g) => t2v(`generate_audio ${g}`, { generate_audio: g }, { generate_audio: g })),
      ...['allow_adult', 'disallow'].flatMap((p) =>
        [p, p.toUpperCase()].map((given) => t2v(`person_generation ${given}`, { person_generation: given }, { person_generation: p })),
      ),
      t2v('enhance_prompt true', { enhance_prompt: true }, {}),
      t2v('negative_prompt', { negative_prompt: 'blurry' }, { negative_prompt: 'blurry' }),
      // resize_mode has no effect in text-to-video: dropped
      t2v('resize_mode ignored in T2V', { resize_mode: 'crop' }, {}),
      ...['pad', 'crop'].flatMap((r): AcceptCase[] =>
        [r, r.toUpperCase()].map((given) => ({
          title: `${model}: resize_mode ${given} in I2V`,
          body: body(model, { first_frame_image: FIRST, resize_mode: given }),
          model,
          mode: 'I2V',
          params: { prompt: P, first_frame_image: FIRST, ...DEFAULTS.I2V, resize_mode: r },
        })),
      ),
      {
        title: `${model}: FLF with crop and base64 frames`,
        body: body(model, { first_frame_image: PNG_DATA_URI, last_frame_image: PNG_DATA_URI, resize_mode: 'crop' }),
        model,
        mode: 'FLF',
        params: { prompt: P, first_frame_image: PNG_DATA_URI, last_frame_image: PNG_DATA_URI, ...DEFAULTS.I2V, resize_mode: 'crop' },
      },
      {
        title: `${model}: last_frame_image null is no last frame`,
        body: body(model, { first_frame_image: FIRST, last_frame_image: null }),
        model,
        mode: 'I2V',
        params: { prompt: P, first_frame_image: FIRST, ...DEFAULTS.I2V },
      },
    ];
  }),
];

export const REJECTED: RejectCase[] = MODELS.flatMap((model): RejectCase[] => {
  const no = (title: string, b: unknown, code: string, param: string | null, mentions: (string | number)[] = []): RejectCase => ({
    title: `${model}: ${title}`,
    body: b,
    code,
    param,
    mentions,
  });
  return [
    // "Must be a pure number (e.g. 8), do not add quotes, otherwise an error will occur"
    no('duration "8"', body(model, { duration: '8' }), 'invalid_duration', 'duration', ['4, 6, 8', 'without quotes']),
    ...[3, 5, 7, 9, 10, 16].map((d) => no(`duration ${d}`, body(model, { duration: d }), 'invalid_duration', 'duration', ['4, 6, 8'])),
    ...[8.5, true].map((d) => no(`duration ${JSON.stringify(d)}`, body(model, { duration: d }), 'invalid_duration', 'duration', ['4, 6, 8'])),
    ...['480p', '2160p', '4k60', '8K'].map((r) =>
      no(`resolution ${r}`, body(model, { resolution: r }), 'invalid_resolution', 'resolution', ['720p, 1080p, 4K']),
    ),
    ...['1:1', '4:3'].map((a) => no(`aspect_ratio ${a}`, body(model, { aspect_ratio: a }), 'invalid_value', 'aspect_ratio', ASPECTS)),
    // last frame only together with a first frame
    no('last_frame_image without first_frame_image', body(model, { last_frame_image: LAST }), 'missing_dependency', 'last_frame_image', [
      'first_frame_image',
    ]),
    no('last_frame_image with first_frame_image null', body(model, { last_frame_image: LAST, first_frame_image: null }), 'missing_dependency', 'last_frame_image'),
    // sample_count 1–4
    ...[0, 5].map((n) => no(`sample_count ${n}`, body(model, { sample_count: n }), 'value_out_of_range', 'sample_count', [1, 4])),
    no('sample_count "2"', body(model, { sample_count: '2' }), 'invalid_type', 'sample_count', [1, 4]),
    // seed 0..4294967295
    no('seed -1', body(model, { seed: -1 }), 'value_out_of_range', 'seed', [0, 4294967295]),
    no('seed 4294967296', body(model, { seed: 4294967296 }), 'value_out_of_range', 'seed', [0, 4294967295]),
    no('seed 0.5', body(model, { seed: 0.5 }), 'invalid_type', 'seed'),
    // enhance_prompt "can only be set to true"
    no('enhance_prompt false', body(model, { enhance_prompt: false }), 'invalid_value', 'enhance_prompt', ['enhance_prompt=true']),
    no('enhance_prompt "true"', body(model, { enhance_prompt: 'true' }), 'invalid_type', 'enhance_prompt'),
    no('generate_audio 1', body(model, { generate_audio: 1 }), 'invalid_type', 'generate_audio'),
    no('person_generation allow_all', body(model, { person_generation: 'allow_all' }), 'invalid_value', 'person_generation', ['allow_adult, disallow']),
    no('resize_mode stretch', body(model, { first_frame_image: FIRST, resize_mode: 'stretch' }), 'invalid_value', 'resize_mode', ['pad, crop']),
    // prompt required in every mode
    no('no prompt (T2V)', { model }, 'invalid_request_error', 'prompt'),
    no('no prompt (I2V)', { model, first_frame_image: FIRST }, 'invalid_request_error', 'prompt'),
    no('empty prompt', body(model, { prompt: '' }), 'invalid_request_error', 'prompt'),
    no('negative_prompt a number', body(model, { negative_prompt: 1 }), 'invalid_type', 'negative_prompt'),
    ...GARBAGE_URLS.map((u) => no(`first_frame_image ${JSON.stringify(u.slice(0, 40))}`, body(model, { first_frame_image: u }), 'invalid_url', 'first_frame_image')),
    ...GARBAGE_URLS.map((u) =>
      no(`last_frame_image ${JSON.stringify(u.slice(0, 40))}`, body(model, { first_frame_image: FIRST, last_frame_image: u }), 'invalid_url', 'last_frame_image'),
    ),
    ...UNPARSEABLE_URLS.map((u) => ({
      ...no(`last_frame_image ${u}`, body(model, { first_frame_image: FIRST, last_frame_image: u }), 'invalid_url', 'last_frame_image'),
      schemaGap: 'url-parse' as const,
    })),
  ];
});
