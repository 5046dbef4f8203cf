/** Omni-Flash-Ext — ../shared/seeds/omni-flash-ext.txt */
import type { FamilySpec } from '../spec.ts';

const MB = 1024 * 1024;

export const omniFlashExt: FamilySpec = {
  family: 'omni-flash-ext',
  seed: 'omni-flash-ext.txt',
  models: {
    'Omni-Flash-Ext': {
      description: 'Gemini Omni Flash (extended route): text-to-video, one-image video, or three-image reference fusion; up to 4K.',
    },
  },
  fields: {
    prompt: {
      type: 'string',
      description: 'Scene, subject, action, environment, camera movement, style and audio cues.',
      nonEmpty: true,
      required: true,
      example: 'a girl is dancing happily in a sunny garden',
    },
    duration: {
      type: 'integer',
      description: 'Length in seconds: 4, 6, 8 or 10.',
      values: [4, 6, 8, 10],
      default: 6,
      code: 'invalid_duration',
    },
    resolution: {
      type: 'enum',
      description: 'Video resolution; case-insensitive.',
      values: ['720p', '1080p', '4k'],
      default: '720p',
      code: 'invalid_resolution',
    },
    aspect_ratio: {
      type: 'enum',
      description: 'Aspect ratio: 16:9 landscape or 9:16 portrait.',
      values: ['16:9', '9:16'],
      default: '16:9',
    },
    size: {
      type: 'enum',
      description: 'Compatibility alias of aspect_ratio; if both are given they must be equal.',
      values: ['16:9', '9:16'],
    },
    image_urls: {
      type: 'images',
      description:
        'Omitted or empty: text-to-video; 1 image: image-to-video; 3 images: reference fusion. 2 images are refused; 4 or more are accepted but not recommended by the seed.',
      // The seed gives no image rules; Gemini takes PNG, JPEG and WebP inline up to 20 MB.
      rules: { formats: ['jpeg', 'png', 'webp'], maxBytes: 20 * MB, source: 'Gemini API image input limits' },
    },
  },
  modes: [
    { mode: 'T2V', when: [{ count: 'image_urls', min: 0, max: 0 }], description: 'no image_urls (or an empty array)' },
    { mode: 'I2V', when: [{ count: 'image_urls', min: 1, max: 1 }], description: 'one image' },
    // The seed: "4 or more images have not been fully verified and are not recommended" — accepted, up to 9.
    { mode: 'R2V', when: [{ count: 'image_urls', min: 3, max: 9 }], description: '3 images: reference image fusion' },
  ],
  rules: [{ kind: 'alias', alias: 'size', field: 'aspect_ratio', code: 'conflicting_fields' }],
  output: {
    sizing: { kind: 'shortSide', resolutionField: 'resolution', shortSide: { '720p': 720, '1080p': 1080, '4k': 2160 } },
    aspectField: 'aspect_ratio',
    defaultAspect: '16:9',
    fps: 24,
    audio: true,
    count: 1,
    secondsField: 'duration',
    source: 'Gemini Omni Flash returns video with native audio at 24 fps',
  },
  estimatedSeconds: 240,
  maxRunSeconds: 1800,
  examples: [
    {
      title: 'Request example',
      body: { model: 'Omni-Flash-Ext', prompt: 'a girl is dancing happily in a sunny garden', duration: 10, resolution: '1080p', aspect_ratio: '9:16' },
    },
    {
      title: 'Scenario 1: Text-to-Video',
      body: {
        model: 'Omni-Flash-Ext',
        prompt: 'a beautiful sunset over the ocean with seagulls flying',
        duration: 6,
        resolution: '720p',
        aspect_ratio: '16:9',
      },
    },
    {
      title: 'Scenario 2: Single-Image Video',
      body: {
        model: 'Omni-Flash-Ext',
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
        model: 'Omni-Flash-Ext',
        prompt: 'a creative scene combining these elements with smooth camera motion',
        duration: 10,
        resolution: '1080p',
        aspect_ratio: '9:16',
        image_urls: ['https://example.com/scene.jpg', 'https://example.com/character.jpg', 'https://example.com/product.jpg'],
      },
    },
    {
      title: 'Scenario 4: 4K Short Video',
      body: {
        model: 'Omni-Flash-Ext',
        prompt: 'close-up of a hummingbird hovering in front of a red flower',
        duration: 4,
        resolution: '4k',
        aspect_ratio: '16:9',
      },
    },
  ],
};
