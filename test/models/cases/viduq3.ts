/**
 * viduq3 and viduq3-mix, from ../shared/seeds/viduq3.txt. Every expectation is typed in from the seed.
 */
import { GARBAGE_URLS, PNG_DATA_URI, UNPARSEABLE_URLS, codePoints, flipCase, type AcceptCase, type RejectCase } from '../helpers.ts';

export const MODELS = ['viduq3', 'viduq3-mix'] as const;
type Model = (typeof MODELS)[number];
const P = 'Santa Claus and the bear hug by the lakeside';
const IMGS = ['https://example.com/santa.png', 'https://example.com/bear.png'];
const imgs = (n: number): string[] => Array.from({ length: n }, (_, i) => `https://example.com/ref_${i}.png`);

// Seed: duration default 5, resolution default 720p, aspect_ratio default 16:9, for both models.
export const DEFAULTS = { duration: 5, resolution: '720p', aspect_ratio: '16:9' } as const;
/** The seed's "Model Comparison" table. */
export const DIFFERENCES: Record<Model, { duration: [number, number]; resolutions: string[] }> = {
  viduq3: { duration: [3, 16], resolutions: ['540p', '720p', '1080p'] },
  'viduq3-mix': { duration: [1, 16], resolutions: ['720p', '1080p'] },
};
export const ASPECTS = ['16:9', '9:16', '4:3', '3:4', '1:1'];

export const USE_CASES: AcceptCase[] = [
  {
    title: 'Request example (curl)',
    body: { model: 'viduq3', prompt: P, image_urls: IMGS, duration: 8, resolution: '720p', aspect_ratio: '16:9' },
    model: 'viduq3',
    mode: 'R2V',
    params: { prompt: P, image_urls: IMGS, duration: 8, resolution: '720p', aspect_ratio: '16:9' },
  },
  {
    title: 'Case 1: viduq3 Basic Reference-to-Video',
    body: { model: 'viduq3', prompt: P, image_urls: IMGS },
    model: 'viduq3',
    mode: 'R2V',
    params: { prompt: P, image_urls: IMGS, ...DEFAULTS },
  },
  {
    title: 'Case 2: viduq3-mix High Quality Reference-to-Video',
    body: {
      model: 'viduq3-mix',
      prompt: 'A cyberpunk neon street with the cat from reference image walking by',
      image_urls: ['https://example.com/cat-1.png', 'https://example.com/cat-2.png', 'https://example.com/cat-3.png'],
      duration: 8,
      resolution: '1080p',
      aspect_ratio: '16:9',
      seed: 42,
    },
    model: 'viduq3-mix',
    mode: 'R2V',
    params: {
      prompt: 'A cyberpunk neon street with the cat from reference image walking by',
      image_urls: ['https://example.com/cat-1.png', 'https://example.com/cat-2.png', 'https://example.com/cat-3.png'],
      duration: 8,
      resolution: '1080p',
      aspect_ratio: '16:9',
      seed: 42,
    },
  },
];

const body = (model: Model, extra: Record<string, unknown>): Record<string, unknown> => ({ model, prompt: P, image_urls: IMGS, ...extra });

export const ACCEPTED: AcceptCase[] = [
  ...USE_CASES,
  ...MODELS.flatMap((model): AcceptCase[] => {
    const d = DIFFERENCES[model];
    const ok = (title: string, extra: Record<string, unknown>, params: Record<string, unknown>): AcceptCase => ({
      title: `${model}: ${title}`,
      body: body(model, extra),
      model,
      mode: 'R2V',
      params: { prompt: P, image_urls: IMGS, ...DEFAULTS, ...params },
    });
    return [
      ...[d.duration[0], d.duration[0] + 1, 5, d.duration[1]].map((s) => ok(`duration ${s}`, { duration: s }, { duration: s })),
      ...d.resolutions.flatMap((r) => [r, flipCase(r)].map((given) => ok(`resolution ${given}`, { resolution: given }, { resolution: r }))),
      ...ASPECTS.map((a) => ok(`aspect_ratio ${a}`, { aspect_ratio: a }, { aspect_ratio: a })),
      ...[1, 7].map((n) => ok(`${n} images`, { image_urls: imgs(n) }, { image_urls: imgs(n) })),
      ok('base64 image', { image_urls: [PNG_DATA_URI] }, { image_urls: [PNG_DATA_URI] }),
      ok('prompt of 5000 code points', { prompt: codePoints(5000) }, { prompt: codePoints(5000) }),
      ok('seed 0', { seed: 0 }, { seed: 0 }),
      ok('seed 2147483647', { seed: 2147483647 }, { seed: 2147483647 }),
      {
        title: `${model}: model id in other case`,
        body: { ...body(model, {}), model: model.toUpperCase() },
        model,
        mode: 'R2V',
        params: { prompt: P, image_urls: IMGS, ...DEFAULTS },
      },
    ];
  }),
];

export const REJECTED: RejectCase[] = MODELS.flatMap((model): RejectCase[] => {
  const d = DIFFERENCES[model];
  const no = (title: string, b: unknown, code: string, param: string | null, mentions: (string | number)[] = []): RejectCase => ({
    title: `${model}: ${title}`,
    body: b,
    code,
    param,
    mentions,
  });
  const range = [d.duration[0], d.duration[1]];
  const allRes = ['540p', '720p', '1080p'];
  return [
    ...[d.duration[0] - 1, d.duration[1] + 1, -1].map((s) =>
      no(`duration ${s}`, body(model, { duration: s }), 'invalid_duration', 'duration', range),
    ),
    ...['5', 5.5, true].map((s) => no(`duration ${JSON.stringify(s)}`, body(model, { duration: s }), 'invalid_duration', 'duration', range)),
    ...[...allRes.filter((r) => !d.resolutions.includes(r)), '360p', '4k', '2160p'].map((r) =>
      no(`resolution ${r}`, body(model, { resolution: r }), 'invalid_resolution', 'resolution', [d.resolutions.join(', ')]),
    ),
    ...['21:9', '2:3', ''].map((a) => no(`aspect_ratio ${JSON.stringify(a)}`, body(model, { aspect_ratio: a }), 'invalid_value', 'aspect_ratio', ASPECTS)),
    // image_urls required, 1–7 (decision: a missing or empty list is an image-count error)
    no('no image_urls', { model, prompt: P }, 'unsupported_image_count', 'image_urls', ['1–7']),
    no('image_urls null', { model, prompt: P, image_urls: null }, 'unsupported_image_count', 'image_urls', ['1–7']),
    no('empty image_urls', body(model, { image_urls: [] }), 'unsupported_image_count', 'image_urls', ['1–7']),
    no('8 images', body(model, { image_urls: imgs(8) }), 'unsupported_image_count', 'image_urls', ['1–7', 8]),
    no('image_urls a string', body(model, { image_urls: IMGS[0] }), 'invalid_type', 'image_urls'),
    // prompt required, ≤ 5000
    no('no prompt', { model, image_urls: IMGS }, 'invalid_request_error', 'prompt'),
    no('empty prompt', body(model, { prompt: ' ' }), 'invalid_request_error', 'prompt'),
    no('prompt of 5001 code points', body(model, { prompt: codePoints(5001) }), 'string_too_long', 'prompt', [5000]),
    no('seed -1', body(model, { seed: -1 }), 'value_out_of_range', 'seed', [0]),
    no('seed 2147483648', body(model, { seed: 2147483648 }), 'value_out_of_range', 'seed', [2147483647]),
    no('seed "42"', body(model, { seed: '42' }), 'invalid_type', 'seed'),
    ...GARBAGE_URLS.map((u) => no(`image_urls item ${JSON.stringify(u.slice(0, 40))}`, body(model, { image_urls: [IMGS[0], u] }), 'invalid_url', 'image_urls')),
    ...UNPARSEABLE_URLS.map((u) => ({ ...no(`image_urls item ${u}`, body(model, { image_urls: [u] }), 'invalid_url', 'image_urls'), schemaGap: 'url-parse' as const })),
  ];
});
