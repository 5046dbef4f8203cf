/**
 * happyhorse-1.0, from ../shared/seeds/happyhorse-1.0.txt. Every expectation is typed in from the seed.
 */
import { GARBAGE_URLS, PNG_DATA_URI, UNPARSEABLE_URLS, codePoints, flipCase, type AcceptCase, type RejectCase } from '../helpers.ts';

export const MODEL = 'happyhorse-1.0';
const P = 'A little girl walking down the road, cinematic feel';
const IMG = 'https://example.com/first_frame.png';
const VIDEO = 'https://example.com/source.mp4';
const refs = (n: number): string[] => Array.from({ length: n }, (_, i) => `https://example.com/ref_${i}.jpg`);

// Seed: resolution default 1080P, duration default 5, size default 16:9, watermark default true,
// audio_setting default auto (EDIT only); size ignored in I2V/EDIT, duration has no effect in EDIT.
export const DEFAULTS = {
  T2V: { resolution: '1080P', duration: 5, size: '16:9', watermark: true },
  I2V: { resolution: '1080P', duration: 5, watermark: true },
  R2V: { resolution: '1080P', duration: 5, size: '16:9', watermark: true },
  EDIT: { resolution: '1080P', watermark: true, audio_setting: 'auto' },
} as const;

export const RESOLUTIONS = ['720P', '1080P'];
export const SIZES = ['16:9', '9:16', '1:1', '4:3', '3:4'];

/** The seed's own requests: the curl example and Cases 1–6, with the mode and params the seed implies. */
export const USE_CASES: AcceptCase[] = [
  {
    title: 'Request example (curl)',
    body: { model: MODEL, prompt: P, resolution: '1080P', size: '16:9', duration: 5, seed: 42 },
    model: MODEL,
    mode: 'T2V',
    params: { prompt: P, resolution: '1080P', duration: 5, size: '16:9', watermark: true, seed: 42 },
  },
  {
    title: 'Case 1: Text-to-Video T2V (Simplest Request)',
    body: { model: MODEL, prompt: P },
    model: MODEL,
    mode: 'T2V',
    params: { prompt: P, resolution: '1080P', duration: 5, size: '16:9', watermark: true },
  },
  {
    title: 'Case 2: Text-to-Video T2V (Full Parameters)',
    body: {
      model: MODEL,
      prompt: 'A coastal road at sunset, slow-motion camera push-in, cinematic feel',
      resolution: '1080P',
      size: '16:9',
      duration: 8,
      watermark: false,
      seed: 42,
    },
    model: MODEL,
    mode: 'T2V',
    params: {
      prompt: 'A coastal road at sunset, slow-motion camera push-in, cinematic feel',
      resolution: '1080P',
      duration: 8,
      size: '16:9',
      watermark: false,
      seed: 42,
    },
  },
  {
    title: 'Case 3: Image-to-Video I2V (first_frame_image)',
    body: { model: MODEL, prompt: 'Bring the scene in the image to life', first_frame_image: IMG, resolution: '1080P', duration: 5 },
    model: MODEL,
    mode: 'I2V',
    params: { prompt: 'Bring the scene in the image to life', first_frame_image: IMG, resolution: '1080P', duration: 5, watermark: true },
  },
  {
    title: 'Case 4: Reference-Image-to-Video R2V (multiple references)',
    body: {
      model: MODEL,
      prompt:
        'The protagonist from image 1 runs through the scene from image 2, then picks up the prop from image 3. Keep a 3D cartoon style with smooth motion.',
      image_urls: ['https://example.com/img_01.jpg', 'https://example.com/img_02.png', 'https://example.com/img_03.jpeg'],
      resolution: '1080P',
      size: '16:9',
      duration: 5,
      watermark: false,
    },
    model: MODEL,
    mode: 'R2V',
    params: {
      prompt:
        'The protagonist from image 1 runs through the scene from image 2, then picks up the prop from image 3. Keep a 3D cartoon style with smooth motion.',
      image_urls: ['https://example.com/img_01.jpg', 'https://example.com/img_02.png', 'https://example.com/img_03.jpeg'],
      resolution: '1080P',
      duration: 5,
      size: '16:9',
      watermark: false,
    },
  },
  {
    title: 'Case 5: Video Edit EDIT (keep original audio + style reference)',
    body: {
      model: MODEL,
      prompt: 'Convert the character in the video to a cartoon style, preserving the original motion',
      video_url: VIDEO,
      image_urls: ['https://example.com/style_ref.jpg'],
      resolution: '1080P',
      audio_setting: 'origin',
      seed: 42,
    },
    model: MODEL,
    mode: 'EDIT',
    params: {
      prompt: 'Convert the character in the video to a cartoon style, preserving the original motion',
      video_url: VIDEO,
      image_urls: ['https://example.com/style_ref.jpg'],
      resolution: '1080P',
      audio_setting: 'origin',
      watermark: true,
      seed: 42,
    },
  },
  {
    title: 'Case 6: 720P to Save Cost',
    body: { model: MODEL, prompt: 'Waves crashing on the beach at sunset', resolution: '720P', size: '16:9', duration: 5 },
    model: MODEL,
    mode: 'T2V',
    params: { prompt: 'Waves crashing on the beach at sunset', resolution: '720P', duration: 5, size: '16:9', watermark: true },
  },
];

const t2v = (extra: Record<string, unknown>): Record<string, unknown> => ({ model: MODEL, prompt: P, ...extra });
const accept = (title: string, body: Record<string, unknown>, mode: AcceptCase['mode'], params: Record<string, unknown>): AcceptCase => ({
  title,
  body,
  model: MODEL,
  mode,
  params,
});

export const ACCEPTED: AcceptCase[] = [
  ...USE_CASES,
  // resolution: both values, in the document's spelling and the other case, reported as 720P / 1080P
  ...RESOLUTIONS.flatMap((r) =>
    [r, flipCase(r)].map((given) =>
      accept(`resolution ${given}`, t2v({ resolution: given }), 'T2V', { prompt: P, ...DEFAULTS.T2V, resolution: r }),
    ),
  ),
  // duration: any integer 3..15
  ...Array.from({ length: 13 }, (_, i) => i + 3).map((d) =>
    accept(`duration ${d}`, t2v({ duration: d }), 'T2V', { prompt: P, ...DEFAULTS.T2V, duration: d }),
  ),
  // size: all five, in T2V and R2V
  ...SIZES.flatMap((s) => [
    accept(`size ${s} (T2V)`, t2v({ size: s }), 'T2V', { prompt: P, ...DEFAULTS.T2V, size: s }),
    accept(`size ${s} (R2V)`, t2v({ size: s, image_urls: refs(1) }), 'R2V', { prompt: P, ...DEFAULTS.R2V, size: s, image_urls: refs(1) }),
  ]),
  // size is ignored (dropped) in I2V and EDIT: the input media sets the aspect
  accept('size ignored in I2V', t2v({ first_frame_image: IMG, size: '9:16' }), 'I2V', { prompt: P, first_frame_image: IMG, ...DEFAULTS.I2V }),
  accept('size ignored in EDIT', t2v({ video_url: VIDEO, size: '3:4' }), 'EDIT', { prompt: P, video_url: VIDEO, ...DEFAULTS.EDIT }),
  // duration has no effect in EDIT: dropped
  accept('duration ignored in EDIT', t2v({ video_url: VIDEO, duration: 12 }), 'EDIT', { prompt: P, video_url: VIDEO, ...DEFAULTS.EDIT }),
  // watermark both ways
  accept('watermark false', t2v({ watermark: false }), 'T2V', { prompt: P, ...DEFAULTS.T2V, watermark: false }),
  accept('watermark true', t2v({ watermark: true }), 'T2V', { prompt: P, ...DEFAULTS.T2V }),
  // seed [0, 2147483647]
  accept('seed 0', t2v({ seed: 0 }), 'T2V', { prompt: P, ...DEFAULTS.T2V, seed: 0 }),
  accept('seed 2147483647', t2v({ seed: 2147483647 }), 'T2V', { prompt: P, ...DEFAULTS.T2V, seed: 2147483647 }),
  // prompt: up to 2500 characters, counted in code points (the 2500th is an emoji: 2501 UTF-16 units)
  accept('prompt of 2500 code points', t2v({ prompt: codePoints(2500) }), 'T2V', { prompt: codePoints(2500), ...DEFAULTS.T2V }),
  accept('prompt of 2500 emoji', t2v({ prompt: '😀'.repeat(2500) }), 'T2V', { prompt: '😀'.repeat(2500), ...DEFAULTS.T2V }),
  // things that look like special tokens but are not
  ...['a < b | c > d', '<|>', '<||>', '<| spaced token |>', 'pipes || and <angles>'].map((p) =>
    accept(`prompt ${JSON.stringify(p)} has no special token`, t2v({ prompt: p }), 'T2V', { prompt: p, ...DEFAULTS.T2V }),
  ),
  // prompt optional in I2V only
  accept('I2V without prompt', { model: MODEL, first_frame_image: IMG }, 'I2V', { first_frame_image: IMG, ...DEFAULTS.I2V }),
  accept('I2V with a base64 first frame', { model: MODEL, first_frame_image: PNG_DATA_URI }, 'I2V', {
    first_frame_image: PNG_DATA_URI,
    ...DEFAULTS.I2V,
  }),
  // routing
  accept('video_url + image_urls is EDIT (the one allowed combination)', t2v({ video_url: VIDEO, image_urls: refs(2) }), 'EDIT', {
    prompt: P,
    video_url: VIDEO,
    image_urls: refs(2),
    ...DEFAULTS.EDIT,
  }),
  accept('an empty image_urls does not make R2V', t2v({ image_urls: [] }), 'T2V', { prompt: P, ...DEFAULTS.T2V }),
  accept('an empty image_urls is not a second medium next to first_frame_image', t2v({ first_frame_image: IMG, image_urls: [] }), 'I2V', {
    prompt: P,
    first_frame_image: IMG,
    ...DEFAULTS.I2V,
  }),
  // image counts: R2V 1..9, EDIT 0..5
  ...[1, 9].map((n) =>
    accept(`R2V with ${n} images`, t2v({ image_urls: refs(n) }), 'R2V', { prompt: P, image_urls: refs(n), ...DEFAULTS.R2V }),
  ),
  accept('EDIT with 0 images', t2v({ video_url: VIDEO, image_urls: [] }), 'EDIT', { prompt: P, video_url: VIDEO, ...DEFAULTS.EDIT }),
  accept('EDIT with 5 images', t2v({ video_url: VIDEO, image_urls: refs(5) }), 'EDIT', {
    prompt: P,
    video_url: VIDEO,
    image_urls: refs(5),
    ...DEFAULTS.EDIT,
  }),
  accept('R2V with base64 references', t2v({ image_urls: [PNG_DATA_URI, refs(1)[0]] }), 'R2V', {
    prompt: P,
    image_urls: [PNG_DATA_URI, refs(1)[0]],
    ...DEFAULTS.R2V,
  }),
  // audio_setting in EDIT, both values, any case, reported in the seed's spelling
  ...['auto', 'origin'].flatMap((a) =>
    [a, a.toUpperCase()].map((given) =>
      accept(`audio_setting ${given} in EDIT`, t2v({ video_url: VIDEO, audio_setting: given }), 'EDIT', {
        prompt: P,
        video_url: VIDEO,
        ...DEFAULTS.EDIT,
        audio_setting: a,
      }),
    ),
  ),
  // null is "not given", even for the fields that would be errors outside their mode
  accept('audio_setting null outside EDIT', t2v({ audio_setting: null, video_url: null, first_frame_image: null }), 'T2V', {
    prompt: P,
    ...DEFAULTS.T2V,
  }),
];

const reject = (title: string, body: unknown, code: string, param: string | null, mentions: (string | number)[] = []): RejectCase => ({
  title,
  body,
  code,
  param,
  mentions,
});

export const REJECTED: RejectCase[] = [
  // resolution
  ...['480P', '2160P', '4K', '1080', '', ' 1080P'].map((r) =>
    reject(`resolution ${JSON.stringify(r)}`, t2v({ resolution: r }), 'invalid_resolution', 'resolution', RESOLUTIONS),
  ),
  reject('resolution as a number', t2v({ resolution: 1080 }), 'invalid_resolution', 'resolution', RESOLUTIONS),
  // duration: 3..15 integers only
  ...[2, 16, 0, -5].map((d) => reject(`duration ${d}`, t2v({ duration: d }), 'invalid_duration', 'duration', [3, 15])),
  ...['5', 5.5, true].map((d) => reject(`duration ${JSON.stringify(d)}`, t2v({ duration: d }), 'invalid_duration', 'duration', [3, 15])),
  // an ignored field is still checked when given (decision: a value the model never accepts is an error)
  reject('duration out of range in EDIT', t2v({ video_url: VIDEO, duration: 99 }), 'invalid_duration', 'duration', [3, 15]),
  // size
  ...['21:9', '16:10', '1080x1920', ''].map((s) => reject(`size ${JSON.stringify(s)}`, t2v({ size: s }), 'invalid_value', 'size', SIZES)),
  reject('size as a number', t2v({ size: 1.77 }), 'invalid_value', 'size', SIZES),
  // watermark
  ...['true', 1, 0].map((w) => reject(`watermark ${JSON.stringify(w)}`, t2v({ watermark: w }), 'invalid_type', 'watermark', ['true', 'false'])),
  // seed [0, 2147483647]
  reject('seed -1', t2v({ seed: -1 }), 'value_out_of_range', 'seed', [0, 2147483647]),
  reject('seed 2147483648', t2v({ seed: 2147483648 }), 'value_out_of_range', 'seed', [0, 2147483647]),
  ...['42', 4.2, false].map((s) => reject(`seed ${JSON.stringify(s)}`, t2v({ seed: s }), 'invalid_type', 'seed', [0, 2147483647])),
  // prompt
  reject('prompt of 2501 code points', t2v({ prompt: codePoints(2501) }), 'string_too_long', 'prompt', [2500]),
  reject('prompt of 2501 emoji', t2v({ prompt: '😀'.repeat(2501) }), 'string_too_long', 'prompt', [2500, 2501]),
  ...['', '   ', '\n\t \u3000'].map((p) => reject(`prompt ${JSON.stringify(p)} in T2V`, t2v({ prompt: p }), 'invalid_request_error', 'prompt')),
  // an empty prompt is refused even where prompt is optional (decision: leave it out instead)
  reject('empty prompt in I2V', { model: MODEL, first_frame_image: IMG, prompt: ' ' }, 'invalid_request_error', 'prompt'),
  reject('prompt as a number', t2v({ prompt: 42 }), 'invalid_type', 'prompt'),
  reject('prompt as an array', t2v({ prompt: ['a'] }), 'invalid_type', 'prompt'),
  ...['<|endoftext|>', 'a cat <|im_start|> walking', 'x<|im_end|>', '<|😀|>'].map((p) =>
    reject(`prompt with special token ${JSON.stringify(p)}`, t2v({ prompt: p }), 'prompt_contains_special_tokens', 'prompt'),
  ),
  reject('special tokens refused in I2V too', { model: MODEL, first_frame_image: IMG, prompt: '<|endoftext|>' }, 'prompt_contains_special_tokens', 'prompt'),
  // prompt required in T2V / R2V / EDIT
  reject('T2V without prompt', { model: MODEL }, 'invalid_request_error', 'prompt', ['text-to-video']),
  reject('R2V without prompt', { model: MODEL, image_urls: refs(2) }, 'invalid_request_error', 'prompt', ['reference-images-to-video']),
  reject('EDIT without prompt', { model: MODEL, video_url: VIDEO }, 'invalid_request_error', 'prompt', ['edit']),
  reject('T2V with prompt null', { model: MODEL, prompt: null }, 'invalid_request_error', 'prompt'),
  // mutual exclusions: each forbidden pair, and all three
  reject('first_frame_image + image_urls', t2v({ first_frame_image: IMG, image_urls: refs(1) }), 'mixed_media_not_allowed', 'image_urls', [
    'first_frame_image',
    'video_url + image_urls',
  ]),
  reject('first_frame_image + video_url', t2v({ first_frame_image: IMG, video_url: VIDEO }), 'mixed_media_not_allowed', 'video_url', [
    'first_frame_image',
    'video_url + image_urls',
  ]),
  reject('all three media', t2v({ first_frame_image: IMG, video_url: VIDEO, image_urls: refs(1) }), 'mixed_media_not_allowed', 'image_urls'),
  // image counts
  reject('R2V with 10 images', t2v({ image_urls: refs(10) }), 'unsupported_image_count', 'image_urls', ['1–9', 10]),
  reject('EDIT with 6 images', t2v({ video_url: VIDEO, image_urls: refs(6) }), 'unsupported_image_count', 'image_urls', ['0–5', 6]),
  reject('image_urls not an array', t2v({ image_urls: refs(1)[0] }), 'invalid_type', 'image_urls'),
  reject('image_urls with a non-string', t2v({ image_urls: [refs(1)[0], 7] }), 'invalid_type', 'image_urls'),
  // audio_setting: EDIT only; values auto / origin
  ...[
    ['T2V', {}],
    ['I2V', { first_frame_image: IMG }],
    ['R2V', { image_urls: refs(1) }],
  ].map(([mode, media]) =>
    reject(`audio_setting in ${mode as string}`, t2v({ ...(media as object), audio_setting: 'auto' }), 'audio_setting_only_for_edit', 'audio_setting', [
      'edit',
    ]),
  ),
  reject('audio_setting none', t2v({ video_url: VIDEO, audio_setting: 'none' }), 'invalid_value', 'audio_setting', ['auto', 'origin']),
  // URLs
  ...GARBAGE_URLS.map((u) => reject(`first_frame_image ${JSON.stringify(u.slice(0, 40))}`, { model: MODEL, first_frame_image: u }, 'invalid_url', 'first_frame_image')),
  ...GARBAGE_URLS.map((u) => reject(`video_url ${JSON.stringify(u.slice(0, 40))}`, t2v({ video_url: u }), 'invalid_url', 'video_url')),
  ...GARBAGE_URLS.map((u) => reject(`image_urls item ${JSON.stringify(u.slice(0, 40))}`, t2v({ image_urls: [u] }), 'invalid_url', 'image_urls')),
  ...UNPARSEABLE_URLS.map((u) => ({ ...reject(`first_frame_image ${u}`, { model: MODEL, first_frame_image: u }, 'invalid_url', 'first_frame_image'), schemaGap: 'url-parse' as const })),
  ...UNPARSEABLE_URLS.map((u) => ({ ...reject(`video_url ${u}`, t2v({ video_url: u }), 'invalid_url', 'video_url'), schemaGap: 'url-parse' as const })),
  reject('first_frame_image as a data URI that is not an image', { model: MODEL, first_frame_image: 'data:text/plain;base64,aGk=' }, 'invalid_url', 'first_frame_image'),
  reject('first_frame_image as a data URI without base64', { model: MODEL, first_frame_image: 'data:image/png,rawbytes' }, 'invalid_url', 'first_frame_image'),
  reject('video_url as base64 video', t2v({ video_url: 'data:video/mp4;base64,AAAA' }), 'invalid_url', 'video_url', ['base64']),
  reject('video_url as base64 image', t2v({ video_url: PNG_DATA_URI }), 'invalid_url', 'video_url', ['base64']),
  reject('first_frame_image as a number', { model: MODEL, first_frame_image: 1 }, 'invalid_type', 'first_frame_image'),
];
