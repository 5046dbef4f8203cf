import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractHarness, startRequest, type ContractHarness } from '../../../test/contracts/provider.contract.ts';
import { veo31 } from '../../models/families/veo31.ts';
import { validateRequest } from '../../models/validate.ts';
import { FakeServer } from '../fakes/fakeServer.ts';
import { serveFakeMedia } from '../fakes/fakeMedia.ts';
import { isProviderError } from '../types.ts';
import { buildVeoRequest, mapVeoParameters, VEO_IMAGES, VEO_PARAMETERS, type VeoApi } from './veoMapping.ts';
import { VEO_MODEL_IDS } from './veoModels.ts';

const FIRST = 'https://example.com/f.png';
const LAST = 'https://example.com/l.png';

describe('Veo field tables', () => {
  it('consume every veo3.1 field (prompt goes to instances[0].prompt) and name no field veo3.1 lacks', () => {
    const mapped = ['prompt', ...VEO_IMAGES.map((r) => r.field), ...VEO_PARAMETERS.map((r) => r.field)];
    expect(mapped.slice().sort()).toEqual(Object.keys(veo31.fields).sort());
  });

  it('name a Google model for every veo3.1 model on both APIs', () => {
    for (const api of ['gemini', 'vertex'] as const) expect(Object.keys(VEO_MODEL_IDS[api]).sort()).toEqual(Object.keys(veo31.models).sort());
  });

  const full = { model: 'veo3.1-quality-official', prompt: 'p', negative_prompt: 'n', duration: 6, aspect_ratio: '9:16', resolution: '4K', seed: 7, sample_count: 3, generate_audio: true, resize_mode: 'crop' };

  it('map every field on Vertex', () => {
    const r = mapVeoParameters('vertex', validateRequest({ ...full, first_frame_image: FIRST }));
    expect(r).toEqual({
      parameters: {
        negativePrompt: 'n',
        durationSeconds: 6,
        aspectRatio: '9:16',
        resolution: '4k',
        sampleCount: 3,
        seed: 7,
        generateAudio: true,
        personGeneration: 'allow_adult',
        resizeMode: 'crop',
        enhancePrompt: true,
      },
      omitted: {},
    });
  });

  it('leave out, with the reason, the fields the Gemini API refuses', () => {
    const r = mapVeoParameters('gemini', validateRequest({ ...full, first_frame_image: FIRST }));
    expect(Object.keys(r.parameters).sort()).toEqual(['aspectRatio', 'durationSeconds', 'enhancePrompt', 'negativePrompt', 'personGeneration', 'resolution', 'sampleCount']);
    expect(Object.keys(r.omitted).sort()).toEqual(['generate_audio', 'resize_mode', 'seed']);
    expect(r.omitted.seed).toContain('only supported in Gemini Enterprise Agent Platform mode');
    expect(r.refused).toBeUndefined();
  });

  const personCases: [VeoApi, string, Record<string, unknown>, { send?: string; omitted?: boolean; refused?: boolean }][] = [
    ['vertex', 'allow_adult', {}, { send: 'allow_adult' }],
    ['vertex', 'disallow', {}, { send: 'dont_allow' }],
    ['vertex', 'disallow', { first_frame_image: FIRST, last_frame_image: LAST }, { send: 'dont_allow' }],
    ['gemini', 'allow_adult', {}, { omitted: true }],
    ['gemini', 'allow_adult', { first_frame_image: FIRST }, { send: 'allow_adult' }],
    ['gemini', 'allow_adult', { first_frame_image: FIRST, last_frame_image: LAST }, { send: 'allow_adult' }],
    ['gemini', 'disallow', {}, { refused: true }],
    ['gemini', 'disallow', { first_frame_image: FIRST }, { refused: true }],
  ];
  it.each(personCases)('%s: person_generation %s with %o', (api, value, images, expected) => {
    const r = mapVeoParameters(api, validateRequest({ model: 'veo3.1-fast-official', prompt: 'p', person_generation: value, ...images }));
    expect(r.parameters.personGeneration).toBe(expected.send);
    expect('person_generation' in r.omitted).toBe(expected.omitted ?? false);
    expect(r.refused !== undefined).toBe(expected.refused ?? false);
  });
});

describe('buildVeoRequest', () => {
  let h: ContractHarness;
  const media = new FakeServer();
  beforeAll(async () => {
    h = await contractHarness();
    serveFakeMedia(media);
    await media.start();
  });
  afterAll(async () => {
    await media.close();
    await h.close();
  });

  it('inlines a stored frame from storage and a client URL fetched through the guarded fetch, never a URL', async () => {
    const req = startRequest({ model: 'veo3.1-fast-official', prompt: 'p', first_frame_image: FIRST, last_frame_image: LAST }, h, media.url);
    const body = await buildVeoRequest('vertex', req, h.ctx);
    expect(body.instances[0].image).toEqual({ bytesBase64Encoded: h.imageBytes.toString('base64'), mimeType: 'image/png' });
    expect(body.instances[0].lastFrame?.mimeType).toBe('image/png');
    expect(Buffer.from(body.instances[0].lastFrame!.bytesBase64Encoded, 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect(media.requestsOf('result').map((r) => r.path)).toEqual(['/media/ref-0.png']);
    expect(JSON.stringify(body)).not.toMatch(/https?:\/\//);
  });

  it('refuses a frame URL the SSRF guard blocks instead of passing the URL on', async () => {
    const req = startRequest({ model: 'veo3.1-fast-official', prompt: 'p', first_frame_image: FIRST, last_frame_image: LAST }, h, media.url);
    req.inputs[1] = { ...req.inputs[1], url: 'http://10.1.2.3/private.png' };
    await expect(buildVeoRequest('gemini', req, h.ctx)).rejects.toThrow(/private or reserved/);
  });

  it('a request the API cannot take fails before any input is read', async () => {
    const req = startRequest({ model: 'veo3.1-fast-official', prompt: 'p', person_generation: 'disallow', first_frame_image: FIRST }, h, media.url);
    req.inputs[0] = { ...req.inputs[0], storageKey: 'inputs/missing.png' };
    const e = await buildVeoRequest('gemini', req, h.ctx).catch((x) => x);
    expect(isProviderError(e) && !e.retryable).toBe(true);
    expect(String(e.message)).toContain('dont_allow');
  });
});
