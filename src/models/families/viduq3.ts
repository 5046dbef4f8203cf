/** viduq3 / viduq3-mix — ../shared/seeds/viduq3.txt */
import type { FamilySpec } from '../spec.ts';

const MB = 1024 * 1024;

export const viduq3: FamilySpec = {
  family: 'viduq3',
  seed: 'viduq3.txt',
  models: {
    viduq3: {
      description: 'Vidu Q3 reference-to-video: default choice, smarter camera switching; 3–16 s, 540p/720p/1080p.',
      fields: {
        duration: { min: 3 },
        resolution: { values: ['540p', '720p', '1080p'] },
      },
    },
    'viduq3-mix': {
      description: 'Vidu Q3 Mix reference-to-video: premium quality, stronger transitions; 1–16 s, 720p/1080p.',
      fields: {
        duration: { min: 1 },
        resolution: { values: ['720p', '1080p'] },
      },
    },
  },
  fields: {
    prompt: {
      type: 'string',
      description: 'Actions and camera movement (appearance comes from the reference images); at most 5000 characters.',
      maxLength: 5000,
      nonEmpty: true,
      required: true,
      example: 'Santa Claus and the bear hug by the lakeside',
    },
    image_urls: {
      type: 'images',
      description: 'Reference images, 1–7 (PNG, JPEG, WebP; ≥ 128×128; aspect 1:4–4:1; ≤ 50 MB each).',
      required: true,
      minItems: 1,
      maxItems: 7,
      rules: { formats: ['png', 'jpeg', 'webp'], maxBytes: 50 * MB, minShortSide: 128, minAspect: 1 / 4 },
    },
    duration: {
      type: 'integer',
      description: 'Length in seconds: viduq3 3–16, viduq3-mix 1–16.',
      min: 3,
      max: 16,
      default: 5,
      code: 'invalid_duration',
    },
    resolution: {
      type: 'enum',
      description: 'Video resolution: viduq3 540p / 720p / 1080p, viduq3-mix 720p / 1080p.',
      values: ['540p', '720p', '1080p'],
      default: '720p',
      code: 'invalid_resolution',
    },
    aspect_ratio: {
      type: 'enum',
      description: 'Aspect ratio.',
      values: ['16:9', '9:16', '4:3', '3:4', '1:1'],
      default: '16:9',
      labels: { '16:9': 'Landscape', '9:16': 'Portrait', '4:3': 'Traditional', '3:4': 'Portrait traditional', '1:1': 'Square' },
    },
    seed: {
      type: 'integer',
      description: 'Random seed; omitted means random.',
      min: 0,
      // The seed gives no range; Vidu's API takes a non-negative 32-bit signed integer.
      max: 2147483647,
    },
  },
  modes: [
    {
      mode: 'R2V',
      when: [],
      description: 'prompt + image_urls (1–7 reference images)',
      counts: { image_urls: { min: 1, max: 7 } },
    },
  ],
  output: {
    sizing: { kind: 'shortSide', resolutionField: 'resolution', shortSide: { '540p': 540, '720p': 720, '1080p': 1080 } },
    aspectField: 'aspect_ratio',
    defaultAspect: '16:9',
    fps: 24,
    // Vidu q3 models generate audio by default (UPSTREAMS.md §4: `audio` default true on q3).
    audio: true,
    count: 1,
    secondsField: 'duration',
    source: 'Vidu reference2video: 24 fps, audio on by default for q3',
  },
  estimatedSeconds: 150,
  maxRunSeconds: 1800,
  examples: [
    {
      title: 'Request example',
      body: {
        model: 'viduq3',
        prompt: 'Santa Claus and the bear hug by the lakeside',
        image_urls: ['https://example.com/santa.png', 'https://example.com/bear.png'],
        duration: 8,
        resolution: '720p',
        aspect_ratio: '16:9',
      },
    },
    {
      title: 'Case 1: viduq3 Basic Reference-to-Video',
      body: {
        model: 'viduq3',
        prompt: 'Santa Claus and the bear hug by the lakeside',
        image_urls: ['https://example.com/santa.png', 'https://example.com/bear.png'],
      },
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
    },
  ],
};
