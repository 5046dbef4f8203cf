/** happyhorse-1.0 against ../shared/seeds/happyhorse-1.0.txt: use cases, every rule, mode routing. */
import { describe, expect, it } from 'vitest';
import { findModel } from '../../src/models/registry.ts';
import { familySuite, errorOf, expectContractError, validate } from './helpers.ts';
import * as hh from './cases/happyhorse.ts';

familySuite('happyhorse-1.0', { models: [hh.MODEL], ...hh }, (m) => findModel(m)!.examples.map((e) => e.body));

describe('happyhorse-1.0: mode routing', () => {
  const P = 'a prompt';
  const media = {
    video_url: 'https://example.com/source.mp4',
    first_frame_image: 'https://example.com/first.png',
    image_urls: ['https://example.com/ref.png'],
  };
  type Medium = keyof typeof media;
  // Every combination of the three media fields, with the outcome the seed's routing table and mutual
  // exclusion rule give: priority video_url > first_frame_image > image_urls > prompt only; only
  // video_url + image_urls may be combined.
  const table: [Medium[], string][] = [
    [[], 'T2V'],
    [['video_url'], 'EDIT'],
    [['first_frame_image'], 'I2V'],
    [['image_urls'], 'R2V'],
    [['video_url', 'image_urls'], 'EDIT'],
    [['video_url', 'first_frame_image'], 'mixed_media_not_allowed'],
    [['first_frame_image', 'image_urls'], 'mixed_media_not_allowed'],
    [['video_url', 'first_frame_image', 'image_urls'], 'mixed_media_not_allowed'],
  ];
  it.each(table)('%j → %s', (fields, outcome) => {
    const body: Record<string, unknown> = { model: hh.MODEL, prompt: P };
    for (const f of fields) body[f] = media[f];
    if (outcome === 'mixed_media_not_allowed') {
      const err = errorOf(body);
      expect(err.code).toBe('mixed_media_not_allowed');
      expect(err.type).toBe('mixed_media_not_allowed');
      expect(fields).toContain(err.param);
    } else {
      expect(validate(body).mode).toBe(outcome);
    }
  });

  it('the same combinations with the fields in another order route the same way (order of keys is irrelevant)', () => {
    const body = { image_urls: media.image_urls, prompt: P, video_url: media.video_url, model: hh.MODEL };
    expect(validate(body).mode).toBe('EDIT');
  });

  it('audio_setting is refused outside EDIT even when its value is valid, and accepted (default auto) in EDIT', () => {
    for (const extra of [{}, { first_frame_image: media.first_frame_image }, { image_urls: media.image_urls }]) {
      expectContractError(errorOf({ model: hh.MODEL, prompt: P, ...extra, audio_setting: 'origin' }), {
        code: 'audio_setting_only_for_edit',
        param: 'audio_setting',
        mentions: ['video edit'],
      });
    }
    expect(validate({ model: hh.MODEL, prompt: P, video_url: media.video_url }).params.audio_setting).toBe('auto');
    expect(validate({ model: hh.MODEL, prompt: P }).params).not.toHaveProperty('audio_setting');
  });
});
