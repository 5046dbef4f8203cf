/** veo3.1-fast-official / veo3.1-quality-official — ../shared/seeds/veo3.1.txt */
import type { FamilySpec, ImageRules } from '../spec.ts';

const MB = 1024 * 1024;

// The seed gives no image rules beyond "publicly accessible"; these are the Veo API's input formats.
const FRAME_RULES: ImageRules = { formats: ['jpeg', 'png', 'webp'], maxBytes: 20 * MB, source: 'Veo image input (Gemini / Vertex)' };

export const veo31: FamilySpec = {
  family: 'veo3.1',
  seed: 'veo3.1.txt',
  models: {
    'veo3.1-fast-official': { description: 'Google Veo 3.1 Fast (official): text-to-video and first/last-frame image-to-video.', estimatedSeconds: 90 },
    'veo3.1-quality-official': {
      description: 'Google Veo 3.1 (official, high quality): text-to-video and first/last-frame image-to-video.',
      estimatedSeconds: 180,
    },
  },
  fields: {
    prompt: {
      type: 'string',
      description: 'Positive prompt: scenes, actions, styles. English is recommended.',
      nonEmpty: true,
      required: true,
      example: 'a golden retriever running on the beach, sunset, cinematic',
    },
    negative_prompt: {
      type: 'string',
      description: 'What to keep out of the video.',
      example: 'blurry, low quality, watermark, text',
    },
    duration: {
      type: 'integer',
      description: 'Length in seconds: 4, 6 or 8. Must be a JSON number, not a quoted string.',
      values: [4, 6, 8],
      default: 8,
      code: 'invalid_duration',
    },
    aspect_ratio: {
      type: 'enum',
      description: 'Aspect ratio.',
      values: ['16:9', '9:16'],
      default: '16:9',
      labels: { '16:9': 'Landscape', '9:16': 'Portrait' },
    },
    resolution: {
      type: 'enum',
      description: 'Video resolution.',
      values: ['720p', '1080p', '4K'],
      default: '720p',
      code: 'invalid_resolution',
      labels: { '720p': 'Standard', '1080p': 'High definition', '4K': 'Ultra high definition' },
    },
    first_frame_image: {
      type: 'image',
      description: 'First frame (publicly accessible URL or base64 data URI); selects image-to-video.',
      rules: FRAME_RULES,
    },
    last_frame_image: {
      type: 'image',
      description: 'Last frame; only together with first_frame_image.',
      rules: FRAME_RULES,
    },
    seed: {
      type: 'integer',
      description: 'Random seed for reproducing results.',
      min: 0,
      max: 4294967295,
    },
    sample_count: {
      type: 'integer',
      description: 'Number of videos to generate (1–4); 1 is recommended. Each is billed.',
      min: 1,
      max: 4,
      default: 1,
    },
    generate_audio: {
      type: 'boolean',
      description: 'Generate an audio track.',
      default: false,
    },
    person_generation: {
      type: 'enum',
      description: 'Person generation policy.',
      values: ['allow_adult', 'disallow'],
      default: 'allow_adult',
      labels: { allow_adult: 'Only adult persons/faces', disallow: 'No persons or faces' },
    },
    resize_mode: {
      type: 'enum',
      description: 'How the input image is fitted (image-to-video only; ignored for text-to-video).',
      values: ['pad', 'crop'],
      default: 'pad',
      modes: ['I2V', 'FLF'],
    },
    enhance_prompt: {
      type: 'boolean',
      description: 'Upstream prompt enhancement; can only be true (false is refused).',
      default: true,
      only: true,
    },
  },
  modes: [
    { mode: 'FLF', when: [{ present: 'last_frame_image' }], description: 'first_frame_image + last_frame_image' },
    { mode: 'I2V', when: [{ present: 'first_frame_image' }], description: 'first_frame_image' },
    { mode: 'T2V', when: [], description: 'no images' },
  ],
  rules: [{ kind: 'requires', field: 'last_frame_image', requires: 'first_frame_image', code: 'missing_dependency' }],
  output: {
    sizing: { kind: 'shortSide', resolutionField: 'resolution', shortSide: { '720p': 720, '1080p': 1080, '4K': 2160 } },
    aspectField: 'aspect_ratio',
    defaultAspect: '16:9',
    fps: 24,
    audio: { field: 'generate_audio' },
    count: { field: 'sample_count' },
    secondsField: 'duration',
    source: 'Veo 3.1 renders 24 fps; 4K is 3840×2160',
  },
  estimatedSeconds: 120,
  maxRunSeconds: 1200,
  examples: [
    {
      title: 'Request example',
      body: { model: 'veo3.1-fast-official', prompt: 'a golden retriever running on the beach, sunset, cinematic', duration: 8, aspect_ratio: '16:9' },
    },
    {
      title: 'Scenario 1: Text-to-Video (Basic)',
      body: { model: 'veo3.1-fast-official', prompt: 'a golden retriever running on the beach, sunset, cinematic' },
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
    },
    {
      title: 'Scenario 4: Image-to-Video (First Frame + Last Frame)',
      body: {
        model: 'veo3.1-quality-official',
        prompt: 'smooth cinematic transition from the first frame to the last frame',
        first_frame_image: 'https://example.com/frame-start.png',
        last_frame_image: 'https://example.com/frame-end.png',
        duration: 8,
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
    },
  ],
};
