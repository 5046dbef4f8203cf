/**
 * Omni-Flash-Ext, from ../shared/seeds/omni-flash-ext.txt. Every expectation is typed in from the seed.
 */
import { GARBAGE_URLS, PNG_DATA_URI, UNPARSEABLE_URLS, flipCase, type AcceptCase, type RejectCase } from '../helpers.ts';

export const MODEL = 'Omni-Flash-Ext';
const P = 'a girl is dancing happily in a sunny garden';
const imgs = (n: number): string[] => Array.from({ length: n }, (_, i) => `https://example.com/ref_${i}.jpg`);

// Seed: duration default 6, resolution default 720p, aspect_ratio default 16:9; size is an alias.
export const DEFAULTS = { duration: 6, resolution: '720p', aspect_ratio: '16:9' } as const;
export const DURATIONS = [4, 6, 8, 10];
export const RESOLUTIONS = ['720p', '1080p', '4k'];
export const ASPECTS = ['16:9', '9:16'];
/** Decision on "4 or more images have not been fully verified and are not recommended": accepted up to 9. */
export const MAX_IMAGES = 9;

export const USE_CASES: AcceptCase[] = [
  {
    title: 'Request example (curl)',
    body: { model: MODEL, prompt: P, duration: 10, resolution: '1080p', aspect_ratio: '9:16' },
    model: MODEL,
    mode: 'T2V',
    params: { prompt: P, duration: 10, resolution: '1080p', aspect_ratio: '9:16' },
  },
  {
    title: 'Scenario 1: Text-to-Video',
    body: { model: MODEL, prompt: 'a beautiful sunset over the ocean with seagulls flying', duration: 6, resolution: '720p', aspect_ratio: '16:9' },
    model: MODEL,
    mode: 'T2V',
    params: { prompt: 'a beautiful sunset over the ocean with seagulls flying', duration: 6, resolution: '720p', aspect_ratio: '16:9' },
  },
  {
    title: 'Scenario 2: Single-Image Video',
    body: {
      model: MODEL,
      prompt: 'make the character smile and slowly turn around, cinematic camera motion',
      duration: 6,
      resolution: '1080p',
      aspect_ratio: '9:16',
      image_urls: ['https://example.com/character.jpg'],
    },
    model: MODEL,
    mode: 'I2V',
    params: {
      prompt: 'make the character smile and slowly turn around, cinematic camera motion',
      duration: 6,
      resolution: '1080p',
      aspect_ratio: '9:16',
      image_urls: ['https://example.com/character.jpg'],
    },
  },
  {
    title: 'Scenario 3: 3-Reference-Image Fusion',
    body: {
      model: MODEL,
      prompt: 'a creative scene combining these elements with smooth camera motion',
      duration: 10,
      resolution: '1080p',
      aspect_ratio: '9:16',
      image_urls: ['https://example.com/scene.jpg', 'https://example.com/character.jpg', 'https://example.com/product.jpg'],
    },
    model: MODEL,
    mode: 'R2V',
    params: {
      prompt: 'a creative scene combining these elements with smooth camera motion',
      duration: 10,
      resolution: '1080p',
      aspect_ratio: '9:16',
      image_urls: ['https://example.com/scene.jpg', 'https://example.com/character.jpg', 'https://example.com/product.jpg'],
    },
  },
  {
    title: 'Scenario 4: 4K Short Video',
    body: { model: MODEL, prompt: 'close-up of a hummingbird hovering in front of a red flower', duration: 4, resolution: '4k', aspect_ratio: '16:9' },
    model: MODEL,
    mode: 'T2V',
    params: { prompt: 'close-up of a hummingbird hovering in front of a red flower', duration: 4, resolution: '4k', aspect_ratio: '16:9' },
  },
];

const body = (extra: Record<string, unknown>): Record<string, unknown> => ({ model: MODEL, prompt: P, ...extra });
const accept = (title: string, b: Record<string, unknown>, mode: AcceptCase['mode'], params: Record<string, unknown>): AcceptCase => ({
  title,
  body: b,
  model: MODEL,
  mode,
  params,
});

export const ACCEPTED: AcceptCase[] = [
  ...USE_CASES,
  accept('prompt only: defaults', body({}), 'T2V', { prompt: P, ...DEFAULTS }),
  ...DURATIONS.map((d) => accept(`duration ${d}`, body({ duration: d }), 'T2V', { prompt: P, ...DEFAULTS, duration: d })),
  // "Values are case-insensitive": 720P, 1080P, 4K are reported as 720p, 1080p, 4k
  ...RESOLUTIONS.flatMap((r) =>
    [r, flipCase(r)].map((given) => accept(`resolution ${given}`, body({ resolution: given }), 'T2V', { prompt: P, ...DEFAULTS, resolution: r })),
  ),
  ...ASPECTS.map((a) => accept(`aspect_ratio ${a}`, body({ aspect_ratio: a }), 'T2V', { prompt: P, ...DEFAULTS, aspect_ratio: a })),
  // size: "same meaning as aspect_ratio"; alone it sets aspect_ratio; equal to it is fine; never passed on itself
  ...ASPECTS.map((a) => accept(`size ${a} alone`, body({ size: a }), 'T2V', { prompt: P, ...DEFAULTS, aspect_ratio: a })),
  ...ASPECTS.map((a) =>
    accept(`size ${a} = aspect_ratio ${a}`, body({ size: a, aspect_ratio: a }), 'T2V', { prompt: P, ...DEFAULTS, aspect_ratio: a }),
  ),
  accept('size null next to aspect_ratio', body({ size: null, aspect_ratio: '9:16' }), 'T2V', { prompt: P, ...DEFAULTS, aspect_ratio: '9:16' }),
  // image counts: 0 / omitted / [] → T2V, 1 → I2V, 3 → R2V, 4..9 accepted (decision)
  accept('empty image_urls is T2V', body({ image_urls: [] }), 'T2V', { prompt: P, ...DEFAULTS }),
  accept('1 image is I2V', body({ image_urls: imgs(1) }), 'I2V', { prompt: P, ...DEFAULTS, image_urls: imgs(1) }),
  accept('1 base64 image is I2V', body({ image_urls: [PNG_DATA_URI] }), 'I2V', { prompt: P, ...DEFAULTS, image_urls: [PNG_DATA_URI] }),
  ...[3, 4, 5, MAX_IMAGES].map((n) =>
    accept(`${n} images is R2V`, body({ image_urls: imgs(n) }), 'R2V', { prompt: P, ...DEFAULTS, image_urls: imgs(n) }),
  ),
];

const reject = (title: string, b: unknown, code: string, param: string | null, mentions: (string | number)[] = []): RejectCase => ({
  title,
  body: b,
  code,
  param,
  mentions,
});

export const REJECTED: RejectCase[] = [
  // "Other values such as 5 or 7 will return an invalid_duration error."
  ...[5, 7, 3, 9, 11, 12, 0].map((d) => reject(`duration ${d}`, body({ duration: d }), 'invalid_duration', 'duration', ['4, 6, 8, 10'])),
  ...['6', 6.5, true].map((d) => reject(`duration ${JSON.stringify(d)}`, body({ duration: d }), 'invalid_duration', 'duration', ['4, 6, 8, 10'])),
  // "Other resolutions will return an invalid_resolution error."
  ...['480p', '540p', '2k', '8k', '1440p', '4K ', ''].map((r) =>
    reject(`resolution ${JSON.stringify(r)}`, body({ resolution: r }), 'invalid_resolution', 'resolution', ['720p, 1080p, 4k']),
  ),
  reject('resolution 4 with the Kelvin sign', body({ resolution: '4\u212A' }), 'invalid_resolution', 'resolution', ['720p, 1080p, 4k']),
  ...['1:1', '4:3', '21:9'].map((a) => reject(`aspect_ratio ${a}`, body({ aspect_ratio: a }), 'invalid_value', 'aspect_ratio', ASPECTS)),
  reject('size 1:1', body({ size: '1:1' }), 'invalid_value', 'size', ASPECTS),
  reject('size and aspect_ratio disagree', body({ size: '9:16', aspect_ratio: '16:9' }), 'conflicting_fields', 'size', ['9:16', '16:9', 'aspect_ratio']),
  reject('size and aspect_ratio disagree (other order)', body({ size: '16:9', aspect_ratio: '9:16' }), 'conflicting_fields', 'size', ['aspect_ratio']),
  // "Passing 2 images returns an unsupported_image_count error."
  reject('2 images', body({ image_urls: imgs(2) }), 'unsupported_image_count', 'image_urls', [2, '0 (', '1 (', '3–9']),
  reject(`${MAX_IMAGES + 1} images`, body({ image_urls: imgs(MAX_IMAGES + 1) }), 'unsupported_image_count', 'image_urls', [MAX_IMAGES + 1]),
  reject('image_urls not an array', body({ image_urls: 'https://example.com/a.jpg' }), 'invalid_type', 'image_urls'),
  // "prompt is empty" → invalid_request_error
  reject('no prompt', { model: MODEL }, 'invalid_request_error', 'prompt'),
  reject('no prompt with an image', { model: MODEL, image_urls: imgs(1) }, 'invalid_request_error', 'prompt'),
  ...['', '  ', '\u2003'].map((p) => reject(`prompt ${JSON.stringify(p)}`, body({ prompt: p }), 'invalid_request_error', 'prompt')),
  reject('prompt a number', body({ prompt: 5 }), 'invalid_type', 'prompt'),
  ...GARBAGE_URLS.map((u) => reject(`image_urls item ${JSON.stringify(u.slice(0, 40))}`, body({ image_urls: [u] }), 'invalid_url', 'image_urls')),
  ...UNPARSEABLE_URLS.map((u) => ({ ...reject(`image_urls item ${u}`, body({ image_urls: [u] }), 'invalid_url', 'image_urls'), schemaGap: 'url-parse' as const })),
];
