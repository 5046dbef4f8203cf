/** Omni-Flash-Ext against ../shared/seeds/omni-flash-ext.txt: use cases, every rule, image counts, the size alias. */
import { describe, expect, it } from 'vitest';
import { findModel } from '../../src/models/registry.ts';
import { familySuite, errorOf, validate } from './helpers.ts';
import * as omni from './cases/omniFlashExt.ts';

familySuite('Omni-Flash-Ext', { models: [omni.MODEL], ...omni }, (m) => findModel(m)!.examples.map((e) => e.body));

describe('Omni-Flash-Ext: image counts 0..12', () => {
  // The seed: omitted/empty → T2V, 1 → single-image video, 3 → fusion, 2 → unsupported_image_count;
  // 4+ "not fully verified" → accepted up to MAX_IMAGES (decision), refused beyond.
  const expected = (n: number): string =>
    n === 0 ? 'T2V' : n === 1 ? 'I2V' : n === 2 ? 'unsupported_image_count' : n <= omni.MAX_IMAGES ? 'R2V' : 'unsupported_image_count';
  it.each(Array.from({ length: 13 }, (_, n) => n))('%i images', (n) => {
    const body = { model: omni.MODEL, prompt: 'p', image_urls: Array.from({ length: n }, (_, i) => `https://example.com/${i}.png`) };
    const outcome = expected(n);
    if (outcome === 'unsupported_image_count') {
      const err = errorOf(body);
      expect([err.code, err.type, err.param]).toEqual(['unsupported_image_count', 'unsupported_image_count', 'image_urls']);
    } else {
      expect(validate(body).mode).toBe(outcome);
    }
  });

  it('size never reaches params, whatever the combination', () => {
    for (const size of [undefined, '16:9', '9:16']) {
      const v = validate({ model: omni.MODEL, prompt: 'p', ...(size ? { size } : {}) });
      expect(v.params).not.toHaveProperty('size');
      expect(v.params.aspect_ratio).toBe(size ?? '16:9');
    }
  });
});
