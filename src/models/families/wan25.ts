/** wan2.5-preview — ../shared/seeds/wan2.5-preview.txt */
import type { FamilySpec } from '../spec.ts';

const MB = 1024 * 1024;

export const wan25: FamilySpec = {
  family: 'wan2.5',
  seed: 'wan2.5-preview.txt',
  models: {
    'wan2.5-preview': {
      description: 'Alibaba Wan 2.5 preview: text-to-video, or image-to-video with one image; always with audio.',
    },
  },
  fields: {
    prompt: {
      type: 'string',
      description: 'Video content description. Required for text-to-video; optional but recommended for image-to-video.',
      nonEmpty: true,
      required: ['T2V'],
      example: 'Sunset coastal highway, cinematic shot',
    },
    image_urls: {
      type: 'images',
      description: 'One image (URL or base64 data URI); its presence selects image-to-video.',
      // The seed gives no image rules; these are DashScope's for wan2.5-i2v-preview (UPSTREAMS.md §2).
      rules: {
        formats: ['jpeg', 'png', 'bmp', 'webp'],
        maxBytes: 10 * MB,
        minShortSide: 360,
        maxLongSide: 2000,
        source: 'DashScope wan2.5-i2v-preview img_url limits (UPSTREAMS.md §2)',
      },
    },
    negative_prompt: {
      type: 'string',
      description: 'What the video should not contain; at most 500 characters.',
      maxLength: 500,
      example: 'blurry, low quality, distorted',
    },
    resolution: {
      type: 'enum',
      description: 'Video resolution (affects pricing: 1080p > 720p > 480p). 480p supports only 16:9, 9:16 and 1:1.',
      values: ['480p', '720p', '1080p'],
      default: '720p',
      code: 'invalid_resolution',
      labels: { '480p': 'SD', '720p': 'HD', '1080p': 'FHD' },
    },
    duration: {
      type: 'integer',
      description: 'Length in seconds: 5 or 10.',
      values: [5, 10],
      default: 5,
      code: 'invalid_duration',
    },
    size: {
      type: 'enum',
      description: 'Aspect ratio, text-to-video only; in image-to-video the image sets it and passing size is an error.',
      values: ['16:9', '9:16', '1:1', '4:3', '3:4'],
      default: '16:9',
      modes: ['T2V'],
      outsideModes: 'error',
      outsideModesCode: 'unsupported_field_for_mode',
    },
    seed: {
      type: 'integer',
      description: 'Random seed (≥ 0); the same seed reproduces similar results.',
      min: 0,
      // The seed says only "≥ 0"; DashScope's range for wan2.5 ends here (UPSTREAMS.md §2).
      max: 2147483647,
    },
    prompt_extend: {
      type: 'boolean',
      description: 'Smart prompt rewriting; better results for short prompts, longer processing.',
      default: true,
    },
    audio: {
      type: 'boolean',
      description: 'Generate matching audio. This model only supports true.',
      default: true,
      only: true,
    },
    audio_url: {
      type: 'audio_url',
      description: 'Custom audio (wav/mp3, 3–30 s, ≤ 15 MB); trimmed to the video length, or silence after it ends.',
      audio: { formats: ['wav', 'mp3'], minSeconds: 3, maxSeconds: 30, maxBytes: 15 * MB },
    },
    watermark: {
      type: 'boolean',
      description: 'Add an "AI Generated" watermark (bottom right).',
      default: false,
    },
  },
  modes: [
    {
      mode: 'I2V',
      when: [{ count: 'image_urls', min: 1 }],
      description: 'image_urls with one image (prompt optional)',
      counts: { image_urls: { min: 1, max: 1 } },
    },
    { mode: 'T2V', when: [], description: 'prompt, no image_urls' },
  ],
  rules: [{ kind: 'valuesWhen', field: 'size', when: ['resolution', '480p'], values: ['16:9', '9:16', '1:1'], code: 'invalid_value' }],
  output: {
    sizing: {
      kind: 'table',
      resolutionField: 'resolution',
      table: {
        '480p': { '16:9': [832, 480], '9:16': [480, 832], '1:1': [624, 624] },
        '720p': { '16:9': [1280, 720], '9:16': [720, 1280], '1:1': [960, 960], '4:3': [1088, 832], '3:4': [832, 1088] },
        '1080p': { '16:9': [1920, 1080], '9:16': [1080, 1920], '1:1': [1440, 1440], '4:3': [1632, 1248], '3:4': [1248, 1632] },
      },
    },
    aspectField: 'size',
    defaultAspect: '16:9',
    aspectFromInput: ['I2V'],
    fps: 24,
    audio: true,
    count: 1,
    secondsField: 'duration',
    source: 'sizes: the seed table; 24 fps as DashScope documents for wan2.5',
  },
  estimatedSeconds: 180,
  maxRunSeconds: 1800,
  examples: [
    {
      title: 'Request example',
      body: { model: 'wan2.5-preview', prompt: 'Sunset coastal highway, cinematic shot', size: '16:9', resolution: '720p', duration: 5 },
    },
    { title: 'Case 1: Text-to-Video (Simple)', body: { model: 'wan2.5-preview', prompt: 'Sunset coastal highway, cinematic shot' } },
    {
      title: 'Case 2: Text-to-Video (Full Parameters)',
      body: {
        model: 'wan2.5-preview',
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
    },
    {
      title: 'Case 3: Image-to-Video',
      body: { model: 'wan2.5-preview', prompt: 'Cat running on the grass', image_urls: ['https://example.com/cat.jpg'], resolution: '480p', duration: 5 },
    },
    {
      // The seed abbreviates the payload ("iVBORw0KGgo..."); the test suite substitutes a real PNG.
      title: 'Case 4: Image-to-Video (Base64 Image)',
      body: { model: 'wan2.5-preview', prompt: 'Make the cat stand up and walk', image_urls: ['data:image/png;base64,iVBORw0KGgo...'], duration: 5 },
    },
    {
      title: 'Case 5: Custom Audio',
      body: {
        model: 'wan2.5-preview',
        prompt: 'Person dancing to the music',
        image_urls: ['https://example.com/dancer.jpg'],
        audio_url: 'https://example.com/music.mp3',
        resolution: '720p',
        duration: 10,
      },
    },
  ],
};
