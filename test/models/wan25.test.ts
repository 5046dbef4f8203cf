/** wan2.5-preview against ../shared/seeds/wan2.5-preview.txt: use cases, every rule, the resolution × size matrix. */
import { describe, expect, it } from 'vitest';
import { findModel } from '../../src/models/registry.ts';
import { familySuite, errorOf, validate } from './helpers.ts';
import * as wan from './cases/wan25.ts';

familySuite('wan2.5-preview', { models: [wan.MODEL], ...wan }, (m) => findModel(m)!.examples.map((e) => e.body));

describe('wan2.5-preview: resolution × size, the whole matrix', () => {
  const ALL_SIZES = ['16:9', '9:16', '1:1', '4:3', '3:4'];
  // The seed: "480p only supports 16:9, 9:16, 1:1 ratios ... 720p and 1080p support all 5 ratios."
  it.each(wan.RESOLUTIONS.flatMap((r) => ALL_SIZES.map((s) => [r, s] as const)))('%s with %s', (r, s) => {
    const body = { model: wan.MODEL, prompt: 'p', resolution: r, size: s };
    if (r === '480p' && (s === '4:3' || s === '3:4')) {
      expect(errorOf(body).code).toBe('invalid_value');
    } else {
      expect(validate(body).params).toMatchObject({ resolution: r, size: s });
    }
  });

  it('the 480p restriction applies only to size: image-to-video at 480p takes any image', () => {
    expect(validate({ model: wan.MODEL, image_urls: ['https://example.com/4x3.jpg'], resolution: '480p' }).mode).toBe('I2V');
  });

  it('mode follows only the presence of image_urls', () => {
    expect(validate({ model: wan.MODEL, prompt: 'p' }).mode).toBe('T2V');
    expect(validate({ model: wan.MODEL, prompt: 'p', image_urls: ['https://example.com/a.jpg'] }).mode).toBe('I2V');
    expect(validate({ model: wan.MODEL, prompt: 'p', image_urls: null }).mode).toBe('T2V');
  });
});
