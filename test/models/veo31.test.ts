/** veo3.1-fast-official / veo3.1-quality-official against ../shared/seeds/veo3.1.txt. */
import { describe, expect, it } from 'vitest';
import { findModel } from '../../src/models/registry.ts';
import { familySuite, errorOf, validate } from './helpers.ts';
import * as veo from './cases/veo31.ts';

familySuite('veo3.1', { models: veo.MODELS, ...veo }, (m) => findModel(m)!.examples.map((e) => e.body));

describe('veo3.1: text-to-video vs image-to-video table', () => {
  const first = 'https://example.com/first.png';
  const last = 'https://example.com/last.png';
  it.each(veo.MODELS)('%s: no images → T2V, first → I2V, first + last → FLF, last alone → error', (model) => {
    expect(validate({ model, prompt: 'p' }).mode).toBe('T2V');
    expect(validate({ model, prompt: 'p', first_frame_image: first }).mode).toBe('I2V');
    expect(validate({ model, prompt: 'p', first_frame_image: first, last_frame_image: last }).mode).toBe('FLF');
    expect(errorOf({ model, prompt: 'p', last_frame_image: last }).code).toBe('missing_dependency');
  });
  it.each(veo.MODELS)('%s: resize_mode "not applicable" to text-to-video is dropped, kept (default pad) with images', (model) => {
    expect(validate({ model, prompt: 'p', resize_mode: 'crop' }).params).not.toHaveProperty('resize_mode');
    expect(validate({ model, prompt: 'p', first_frame_image: first }).params.resize_mode).toBe('pad');
    expect(validate({ model, prompt: 'p', first_frame_image: first, last_frame_image: last, resize_mode: 'crop' }).params.resize_mode).toBe('crop');
  });
});
