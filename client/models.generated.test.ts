import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modelIds } from '../src/models/registry.ts';
import { MODEL_IDS, type VideoGenerationRequest, type Wan25PreviewRequest } from './models.generated.ts';
import { GENERATED_PATH, interfaceName, renderModelTypes } from './scripts/generateTypes.ts';

describe('models.generated.ts', () => {
  it('is what the generator makes from src/models now (run: npx tsx client/scripts/generateTypes.ts)', () => {
    expect(readFileSync(GENERATED_PATH, 'utf8')).toBe(renderModelTypes());
  });

  it('lists every served model id', () => {
    expect([...MODEL_IDS]).toEqual(modelIds());
  });

  it('names interfaces after the model id', () => {
    expect(interfaceName('veo3.1-fast-official')).toBe('Veo31FastOfficialRequest');
    expect(interfaceName('Omni-Flash-Ext')).toBe('OmniFlashExtRequest');
  });

  // The checks below are enforced by `tsc --noEmit`: each @ts-expect-error fails the type check if the
  // generated types ever stop rejecting the body under it.
  it('types bodies per model', () => {
    const bodies: VideoGenerationRequest[] = [
      { model: 'veo3.1-fast-official', prompt: 'x', duration: 8, resolution: '4K', sample_count: 2 },
      { model: 'viduq3-mix', prompt: 'x', image_urls: ['https://e/x.png'], duration: 1 },
      // @ts-expect-error 7 is not a veo duration
      { model: 'veo3.1-fast-official', prompt: 'x', duration: 7 },
      // @ts-expect-error viduq3 requires image_urls
      { model: 'viduq3', prompt: 'x' },
      // @ts-expect-error viduq3 (not -mix) starts at 3 s
      { model: 'viduq3', prompt: 'x', image_urls: ['https://e/x.png'], duration: 1 },
      // @ts-expect-error 540p is viduq3-only
      { model: 'viduq3-mix', prompt: 'x', image_urls: ['https://e/x.png'], resolution: '540p' },
      // @ts-expect-error not a served model
      { model: 'sora-2', prompt: 'x' },
    ];
    // @ts-expect-error wan2.5 only supports audio: true
    const audioOff: Wan25PreviewRequest = { model: 'wan2.5-preview', prompt: 'x', audio: false };
    expect(bodies).toHaveLength(7);
    expect(audioOff.audio).toBe(false);
  });
});
