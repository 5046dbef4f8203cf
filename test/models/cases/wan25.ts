/**
 * wan2.5-preview, from ../shared/seeds/wan2.5-preview.txt. Every expectation is typed in from the seed.
 */
import { GARBAGE_URLS, PNG_DATA_URI, UNPARSEABLE_URLS, codePoints, flipCase, type AcceptCase, type RejectCase } from '../helpers.ts';

export const MODEL = 'wan2.5-preview';
const P = 'Sunset coastal highway, cinematic shot';
const IMG = 'https://example.com/cat.jpg';
const AUDIO = 'https://example.com/music.mp3';

// Seed: resolution default 720p, duration default 5, size default 16:9 (text-to-video only),
// prompt_extend default true, audio default true (only true), watermark default false.
export const DEFAULTS = {
  T2V: { resolution: '720p', duration: 5, size: '16:9', prompt_extend: true, audio: true, watermark: false },
  I2V: { resolution: '720p', duration: 5, prompt_extend: true, audio: true, watermark: false },
} as const;

export const RESOLUTIONS = ['480p', '720p', '1080p'];
/** The seed's resolution/size matrix: 480p takes three ratios, 720p and 1080p all five. */
export const SIZES_BY_RESOLUTION: Record<string, string[]> = {
  '480p': ['16:9', '9:16', '1:1'],
  '720p': ['16:9', '9:16', '1:1', '4:3', '3:4'],
  '1080p': ['16:9', '9:16', '1:1', '4:3', '3:4'],
};

export const USE_CASES: AcceptCase[] = [
  {
    title: 'Request example (curl)',
    body: { model: MODEL, prompt: P, size: '16:9', resolution: '720p', duration: 5 },
    model: MODEL,
    mode: 'T2V',
    params: { prompt: P, ...DEFAULTS.T2V },
  },
  {
    title: 'Case 1: Text-to-Video (Simple)',
    body: { model: MODEL, prompt: P },
    model: MODEL,
    mode: 'T2V',
    params: { prompt: P, ...DEFAULTS.T2V },
  },
  {
    title: 'Case 2: Text-to-Video (Full Parameters)',
    body: {
      model: MODEL,
      prompt: 'City night scene, neon lights and rain-soaked streets',
      negative_prompt: 'blurry, low quality, distorted',
      size: '16:9',
      resolution: '720p',
      duration: 5,
      seed: 12345,
      prompt_extend: true,
      audio: true,
      watermark: false,
    },
    model: MODEL,
    mode: 'T2V',
    params: {
      prompt: 'City night scene, neon lights and rain-soaked streets',
      negative_prompt: 'blurry, low quality, distorted',
      ...DEFAULTS.T2V,
      seed: 12345,
    },
  },
  {
    title: 'Case 3: Image-to-Video',
    body: { model: MODEL, prompt: 'Cat running on the grass', image_urls: [IMG], resolution: '480p', duration: 5 },
    model: MODEL,
    mode: 'I2V',
    params: { prompt: 'Cat running on the grass', image_urls: [IMG], ...DEFAULTS.I2V, resolution: '480p' },
  },
  {
    // The seed abbreviates the payload ("iVBORw0KGgo..."): validation checks the data URI's form only.
    title: 'Case 4: Image-to-Video (Base64 Image)',
    body: { model: MODEL, prompt: 'Make the cat stand up and walk', image_urls: ['data:image/png;base64,iVBORw0KGgo...'], duration: 5 },
    model: MODEL,
    mode: 'I2V',
    params: { prompt: 'Make the cat stand up and walk', image_urls: ['data:image/png;base64,iVBORw0KGgo...'], ...DEFAULTS.I2V },
  },
  {
    title: 'Case 5: Custom Audio',
    body: {
      model: MODEL,
      prompt: 'Person dancing to the music',
      image_urls: ['https://example.com/dancer.jpg'],
      audio_url: 'https://example.com/music.mp3',
      resolution: '720p',
      duration: 10,
    },
    model: MODEL,
    mode: 'I2V',
    params: {
      prompt: 'Person dancing to the music',
      image_urls: ['https://example.com/dancer.jpg'],
      audio_url: 'https://example.com/music.mp3',
      ...DEFAULTS.I2V,
      duration: 10,
    },
  },
];

const t2v = (extra: Record<string, unknown>): Record<string, unknown> => ({ model: MODEL, prompt: P, ...extra });
const i2v = (extra: Record<string, unknown>): Record<string, unknown> => ({ model: MODEL, image_urls: [IMG], ...extra });
const accept = (title: string, body: Record<string, unknown>, mode: AcceptCase['mode'], params: Record<string, unknown>): AcceptCase => ({
  title,
  body,
  model: MODEL,
  mode,
  params,
});

export const ACCEPTED: AcceptCase[] = [
  ...USE_CASES,
  // the resolution × size matrix, each value in the seed's spelling and in the other case
  ...Object.entries(SIZES_BY_RESOLUTION).flatMap(([r, sizes]) =>
    sizes.flatMap((s) =>
      [r, flipCase(r)].map((given) =>
        accept(`resolution ${given} with size ${s}`, t2v({ resolution: given, size: s }), 'T2V', {
          prompt: P,
          ...DEFAULTS.T2V,
          resolution: r,
          size: s,
        }),
      ),
    ),
  ),
  // every resolution in I2V (no size there)
  ...RESOLUTIONS.map((r) => accept(`I2V at ${r}`, i2v({ resolution: r }), 'I2V', { image_urls: [IMG], ...DEFAULTS.I2V, resolution: r })),
  // duration: only 5 or 10
  ...[5, 10].map((d) => accept(`duration ${d}`, t2v({ duration: d }), 'T2V', { prompt: P, ...DEFAULTS.T2V, duration: d })),
  // prompt optional in I2V
  accept('I2V without prompt', i2v({}), 'I2V', { image_urls: [IMG], ...DEFAULTS.I2V }),
  accept('I2V with a real base64 image', i2v({ image_urls: [PNG_DATA_URI] }), 'I2V', { image_urls: [PNG_DATA_URI], ...DEFAULTS.I2V }),
  // size null in I2V is "not given", not an error
  accept('size null in I2V', i2v({ size: null }), 'I2V', { image_urls: [IMG], ...DEFAULTS.I2V }),
  // an empty image_urls is "no image": text-to-video (decision, as Omni-Flash-Ext's seed says explicitly)
  accept('empty image_urls is T2V', t2v({ image_urls: [] }), 'T2V', { prompt: P, ...DEFAULTS.T2V }),
  // negative_prompt up to 500 characters (code points)
  accept('negative_prompt of 500 code points', t2v({ negative_prompt: codePoints(500) }), 'T2V', {
    prompt: P,
    negative_prompt: codePoints(500),
    ...DEFAULTS.T2V,
  }),
  accept('empty negative_prompt', t2v({ negative_prompt: '' }), 'T2V', { prompt: P, negative_prompt: '', ...DEFAULTS.T2V }),
  // booleans
  accept('audio true', t2v({ audio: true }), 'T2V', { prompt: P, ...DEFAULTS.T2V }),
  accept('prompt_extend false', t2v({ prompt_extend: false }), 'T2V', { prompt: P, ...DEFAULTS.T2V, prompt_extend: false }),
  accept('watermark true', t2v({ watermark: true }), 'T2V', { prompt: P, ...DEFAULTS.T2V, watermark: true }),
  // seed ≥ 0 (upper bound DashScope's 2147483647)
  accept('seed 0', t2v({ seed: 0 }), 'T2V', { prompt: P, ...DEFAULTS.T2V, seed: 0 }),
  accept('seed 2147483647', t2v({ seed: 2147483647 }), 'T2V', { prompt: P, ...DEFAULTS.T2V, seed: 2147483647 }),
  // audio_url in T2V too
  accept('audio_url in T2V', t2v({ audio_url: AUDIO }), 'T2V', { prompt: P, audio_url: AUDIO, ...DEFAULTS.T2V }),
];

const reject = (title: string, body: unknown, code: string, param: string | null, mentions: (string | number)[] = []): RejectCase => ({
  title,
  body,
  code,
  param,
  mentions,
});

export const REJECTED: RejectCase[] = [
  // 480p refuses 4:3 and 3:4, in any spelling of 480p
  ...['4:3', '3:4'].flatMap((s) =>
    ['480p', '480P'].map((r) =>
      reject(`size ${s} at ${r}`, t2v({ resolution: r, size: s }), 'invalid_value', 'size', ['480p', '16:9, 9:16, 1:1']),
    ),
  ),
  ...['540p', '4k', '2160p', '720', ''].map((r) =>
    reject(`resolution ${JSON.stringify(r)}`, t2v({ resolution: r }), 'invalid_resolution', 'resolution', RESOLUTIONS),
  ),
  ...['21:9', '2:1', ''].map((s) =>
    reject(`size ${JSON.stringify(s)}`, t2v({ size: s }), 'invalid_value', 'size', SIZES_BY_RESOLUTION['720p']),
  ),
  // duration: 5 or 10 only
  ...[4, 6, 9, 11, 15, 0].map((d) => reject(`duration ${d}`, t2v({ duration: d }), 'invalid_duration', 'duration', ['5, 10'])),
  ...['5', 5.5, false].map((d) => reject(`duration ${JSON.stringify(d)}`, t2v({ duration: d }), 'invalid_duration', 'duration', ['5, 10'])),
  // size in image-to-video is an error (the seed: "Do not pass size, otherwise an error will be returned")
  ...['16:9', '1:1'].map((s) =>
    reject(`size ${s} in I2V`, i2v({ size: s }), 'unsupported_field_for_mode', 'size', ['text-to-video', 'image-to-video']),
  ),
  // image_urls: exactly one
  reject('2 images', i2v({ image_urls: [IMG, IMG] }), 'unsupported_image_count', 'image_urls', [1, 2]),
  reject('7 images', i2v({ image_urls: Array(7).fill(IMG) }), 'unsupported_image_count', 'image_urls', [1, 7]),
  reject('image_urls a string', i2v({ image_urls: IMG }), 'invalid_type', 'image_urls'),
  // prompt required in T2V
  reject('T2V without prompt', { model: MODEL }, 'invalid_request_error', 'prompt', ['text-to-video']),
  reject('T2V with empty image list and no prompt', { model: MODEL, image_urls: [] }, 'invalid_request_error', 'prompt'),
  ...['', ' \t'].map((p) => reject(`prompt ${JSON.stringify(p)}`, t2v({ prompt: p }), 'invalid_request_error', 'prompt')),
  reject('empty prompt in I2V', i2v({ prompt: '' }), 'invalid_request_error', 'prompt'),
  reject('prompt a number', t2v({ prompt: 1 }), 'invalid_type', 'prompt'),
  // negative_prompt ≤ 500
  reject('negative_prompt of 501 code points', t2v({ negative_prompt: codePoints(501) }), 'string_too_long', 'negative_prompt', [500]),
  reject('negative_prompt a number', t2v({ negative_prompt: 5 }), 'invalid_type', 'negative_prompt'),
  // audio only true
  reject('audio false', t2v({ audio: false }), 'invalid_value', 'audio', ['audio=true']),
  reject('audio "true"', t2v({ audio: 'true' }), 'invalid_type', 'audio'),
  reject('prompt_extend "false"', t2v({ prompt_extend: 'false' }), 'invalid_type', 'prompt_extend'),
  reject('watermark 0', t2v({ watermark: 0 }), 'invalid_type', 'watermark'),
  // seed
  reject('seed -1', t2v({ seed: -1 }), 'value_out_of_range', 'seed', [0]),
  reject('seed 2147483648', t2v({ seed: 2147483648 }), 'value_out_of_range', 'seed', [2147483647]),
  reject('seed "12345"', t2v({ seed: '12345' }), 'invalid_type', 'seed'),
  reject('seed 1.5', t2v({ seed: 1.5 }), 'invalid_type', 'seed'),
  // URLs
  ...GARBAGE_URLS.map((u) => reject(`image_urls item ${JSON.stringify(u.slice(0, 40))}`, i2v({ image_urls: [u] }), 'invalid_url', 'image_urls')),
  ...GARBAGE_URLS.map((u) => reject(`audio_url ${JSON.stringify(u.slice(0, 40))}`, t2v({ audio_url: u }), 'invalid_url', 'audio_url')),
  ...UNPARSEABLE_URLS.map((u) => ({ ...reject(`audio_url ${u}`, t2v({ audio_url: u }), 'invalid_url', 'audio_url'), schemaGap: 'url-parse' as const })),
  reject('audio_url as base64', t2v({ audio_url: 'data:audio/mp3;base64,AAAA' }), 'invalid_url', 'audio_url', ['base64']),
];
