/** viduq3 / viduq3-mix against ../shared/seeds/viduq3.txt: use cases, every rule, the differences between the two. */
import { describe, expect, it } from 'vitest';
import { findModel } from '../../src/models/registry.ts';
import { familySuite, errorOf, validate } from './helpers.ts';
import * as vidu from './cases/viduq3.ts';

familySuite('viduq3', { models: vidu.MODELS, ...vidu }, (m) => findModel(m)!.examples.map((e) => e.body));

describe('viduq3 vs viduq3-mix: the seed\'s comparison table', () => {
  const body = (model: string, extra: Record<string, unknown>) => ({
    model,
    prompt: 'p',
    image_urls: ['https://example.com/a.png'],
    ...extra,
  });
  it.each([0, 1, 2, 3, 16, 17])('duration %i', (d) => {
    // viduq3: 3–16; viduq3-mix: 1–16 (1–2 s motion effects are mix-only)
    const ok = { viduq3: d >= 3 && d <= 16, 'viduq3-mix': d >= 1 && d <= 16 };
    for (const model of vidu.MODELS) {
      if (ok[model]) expect(validate(body(model, { duration: d })).params.duration).toBe(d);
      else expect(errorOf(body(model, { duration: d })).code).toBe('invalid_duration');
    }
  });
  it.each(['540p', '720p', '1080p'])('resolution %s', (r) => {
    // "viduq3-mix does not support 540p"
    for (const model of vidu.MODELS) {
      if (model === 'viduq3-mix' && r === '540p') expect(errorOf(body(model, { resolution: r })).code).toBe('invalid_resolution');
      else expect(validate(body(model, { resolution: r })).params.resolution).toBe(r);
    }
  });
  it('both are reference-to-video only', () => {
    for (const model of vidu.MODELS) expect(validate(body(model, {})).mode).toBe('R2V');
  });
});
