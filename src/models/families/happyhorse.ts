/** happyhorse-1.0 — ../shared/seeds/happyhorse-1.0.txt */
import type { FamilySpec, ImageRules } from '../spec.ts';

const MB = 1024 * 1024;

const FIRST_FRAME_RULES: ImageRules = {
  formats: ['jpeg', 'png', 'bmp', 'webp'],
  maxBytes: 10 * MB,
  minShortSide: 300,
  minAspect: 1 / 2.5,
};

// The seed only *recommends* a 720 px short side for reference images, so it is not enforced.
const REFERENCE_RULES: ImageRules = {
  formats: ['jpeg', 'png', 'bmp', 'webp'],
  maxBytes: 10 * MB,
  minAspect: 0.4,
};

export const happyhorse: FamilySpec = {
  family: 'happyhorse',
  seed: 'happyhorse-1.0.txt',
  models: {
    'happyhorse-1.0': {
      description:
        'Alibaba HappyHorse 1.0: one entry for text-to-video, image-to-video, reference-images-to-video and video edit; the mode follows the fields passed.',
    },
  },
  fields: {
    prompt: {
      type: 'string',
      description: 'Video content description, up to 2500 characters; no special tokens. Optional in image-to-video.',
      maxLength: 2500,
      nonEmpty: true,
      noSpecialTokens: true,
      required: ['T2V', 'R2V', 'EDIT'],
      example: 'A little girl walking down the road, cinematic feel',
    },
    first_frame_image: {
      type: 'image',
      description: 'First-frame image (URL or base64 data URI); triggers image-to-video.',
      rules: FIRST_FRAME_RULES,
    },
    image_urls: {
      type: 'images',
      description: 'Reference images: 1–9 alone (reference-images-to-video), or 0–5 style references with video_url (edit).',
      rules: REFERENCE_RULES,
    },
    video_url: {
      type: 'video_url',
      description: 'Source video (http/https, no base64); triggers video edit. Longer than 15 s is truncated to 15 s.',
      video: {
        formats: ['mp4', 'mov'],
        maxBytes: 100 * MB,
        minSeconds: 3,
        maxSeconds: 60,
        minShortSide: 360,
        minAspect: 1 / 8,
        minFpsExclusive: 8,
        truncateToSeconds: 15,
      },
    },
    audio_setting: {
      type: 'enum',
      description: 'Audio in video edit: auto (generate) or origin (keep the source track).',
      values: ['auto', 'origin'],
      default: 'auto',
      modes: ['EDIT'],
      outsideModes: 'error',
      outsideModesCode: 'audio_setting_only_for_edit',
      labels: { auto: 'Auto-generate audio', origin: "Keep the source video's audio" },
    },
    resolution: {
      type: 'enum',
      description: 'Video resolution (affects billing).',
      values: ['720P', '1080P'],
      default: '1080P',
      code: 'invalid_resolution',
      labels: { '720P': 'Standard', '1080P': 'High definition' },
    },
    duration: {
      type: 'integer',
      description: 'Length in seconds (affects billing). No effect in video edit, where the source sets the length.',
      min: 3,
      max: 15,
      default: 5,
      code: 'invalid_duration',
      modes: ['T2V', 'I2V', 'R2V'],
    },
    size: {
      type: 'enum',
      description: 'Aspect ratio; ignored in image-to-video and video edit, where the input media sets it.',
      values: ['16:9', '9:16', '1:1', '4:3', '3:4'],
      default: '16:9',
      modes: ['T2V', 'R2V'],
    },
    watermark: {
      type: 'boolean',
      description: 'Add a watermark.',
      default: true,
    },
    seed: {
      type: 'integer',
      description: 'Random seed; omitted means random.',
      min: 0,
      max: 2147483647,
    },
  },
  // Routing priority from the seed: video_url > first_frame_image > image_urls > prompt only.
  modes: [
    {
      mode: 'EDIT',
      when: [{ present: 'video_url' }],
      description: 'prompt + video_url (optional image_urls 0–5 as style references, audio_setting)',
      counts: { image_urls: { min: 0, max: 5 } },
    },
    { mode: 'I2V', when: [{ present: 'first_frame_image' }], description: 'prompt + first_frame_image' },
    {
      mode: 'R2V',
      when: [{ count: 'image_urls', min: 1 }],
      description: 'prompt + image_urls (1–9 images)',
      counts: { image_urls: { min: 1, max: 9 } },
    },
    { mode: 'T2V', when: [], description: 'prompt only' },
  ],
  rules: [
    {
      kind: 'exclusive',
      fields: ['first_frame_image', 'image_urls', 'video_url'],
      allow: [['video_url', 'image_urls']],
      code: 'mixed_media_not_allowed',
    },
  ],
  output: {
    sizing: { kind: 'shortSide', resolutionField: 'resolution', shortSide: { '720P': 720, '1080P': 1080 } },
    aspectField: 'size',
    defaultAspect: '16:9',
    aspectFromInput: ['I2V', 'EDIT'],
    fps: 24,
    audio: true,
    count: 1,
    secondsField: 'duration',
    editCapSeconds: 15,
    source: 'frame rate and joint audio: https://www.alibabacloud.com/help/doc-detail/3029820.html (24 fps assumed)',
  },
  estimatedSeconds: 120,
  maxRunSeconds: 1800,
  examples: [
    {
      title: 'Request example',
      body: {
        model: 'happyhorse-1.0',
        prompt: 'A little girl walking down the road, cinematic feel',
        resolution: '1080P',
        size: '16:9',
        duration: 5,
        seed: 42,
      },
    },
    {
      title: 'Case 1: Text-to-Video T2V (Simplest Request)',
      body: { model: 'happyhorse-1.0', prompt: 'A little girl walking down the road, cinematic feel' },
    },
    {
      title: 'Case 2: Text-to-Video T2V (Full Parameters)',
      body: {
        model: 'happyhorse-1.0',
        prompt: 'A coastal road at sunset, slow-motion camera push-in, cinematic feel',
        resolution: '1080P',
        size: '16:9',
        duration: 8,
        watermark: false,
        seed: 42,
      },
    },
    {
      title: 'Case 3: Image-to-Video I2V (first_frame_image)',
      body: {
        model: 'happyhorse-1.0',
        prompt: 'Bring the scene in the image to life',
        first_frame_image: 'https://example.com/first_frame.png',
        resolution: '1080P',
        duration: 5,
      },
    },
    {
      title: 'Case 4: Reference-Image-to-Video R2V (multiple references)',
      body: {
        model: 'happyhorse-1.0',
        prompt:
          'The protagonist from image 1 runs through the scene from image 2, then picks up the prop from image 3. Keep a 3D cartoon style with smooth motion.',
        image_urls: ['https://example.com/img_01.jpg', 'https://example.com/img_02.png', 'https://example.com/img_03.jpeg'],
        resolution: '1080P',
        size: '16:9',
        duration: 5,
        watermark: false,
      },
    },
    {
      title: 'Case 5: Video Edit EDIT (keep original audio + style reference)',
      body: {
        model: 'happyhorse-1.0',
        prompt: 'Convert the character in the video to a cartoon style, preserving the original motion',
        video_url: 'https://example.com/source.mp4',
        image_urls: ['https://example.com/style_ref.jpg'],
        resolution: '1080P',
        audio_setting: 'origin',
        seed: 42,
      },
    },
    {
      title: 'Case 6: 720P to Save Cost',
      body: { model: 'happyhorse-1.0', prompt: 'Waves crashing on the beach at sunset', resolution: '720P', size: '16:9', duration: 5 },
    },
  ],
};
