/**
 * GET /v1/models (every model with its modes, options and prices) and GET /v1/model-schema (a JSON Schema
 * that, compiled with Ajv's draft 2020-12, accepts each seed use case of its model and refuses broken ones).
 * Expectations are typed in from the seed documents.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import type { AcceptCase } from '../models/helpers.ts';
import * as hh from '../models/cases/happyhorse.ts';
import * as wan from '../models/cases/wan25.ts';
import * as omni from '../models/cases/omniFlashExt.ts';
import * as vidu from '../models/cases/viduq3.ts';
import * as veo from '../models/cases/veo31.ts';
import { expectError } from './helpers.ts';

const USE_CASES: AcceptCase[] = [hh, wan, omni, vidu, veo].flatMap((f) => f.USE_CASES);

/** Per model, from its seed: modes, request fields, resolutions, and one broken body. */
const SEEDS: Record<string, { modes: string[]; fields: string[]; resolutions: string[]; broken: Record<string, unknown> }> = {
  'happyhorse-1.0': {
    modes: ['EDIT', 'I2V', 'R2V', 'T2V'],
    fields: ['prompt', 'first_frame_image', 'image_urls', 'video_url', 'audio_setting', 'resolution', 'duration', 'size', 'watermark', 'seed'],
    resolutions: ['720P', '1080P'],
    broken: { prompt: 'p', duration: 16 },
  },
  'wan2.5-preview': {
    modes: ['I2V', 'T2V'],
    fields: ['prompt', 'image_urls', 'negative_prompt', 'resolution', 'duration', 'size', 'seed', 'prompt_extend', 'audio', 'audio_url', 'watermark'],
    resolutions: ['480p', '720p', '1080p'],
    broken: { prompt: 'p', duration: 7 },
  },
  'Omni-Flash-Ext': {
    modes: ['T2V', 'I2V', 'R2V'],
    fields: ['prompt', 'duration', 'resolution', 'aspect_ratio', 'size', 'image_urls'],
    resolutions: ['720p', '1080p', '4k'],
    broken: { prompt: 'p', image_urls: ['https://example.com/a.png', 'https://example.com/b.png'] },
  },
  viduq3: {
    modes: ['R2V'],
    fields: ['prompt', 'image_urls', 'duration', 'resolution', 'aspect_ratio', 'seed'],
    resolutions: ['540p', '720p', '1080p'],
    broken: { prompt: 'p', image_urls: ['https://example.com/a.png'], duration: 2 },
  },
  'viduq3-mix': {
    modes: ['R2V'],
    fields: ['prompt', 'image_urls', 'duration', 'resolution', 'aspect_ratio', 'seed'],
    resolutions: ['720p', '1080p'],
    broken: { prompt: 'p', image_urls: ['https://example.com/a.png'], resolution: '540p' },
  },
  'veo3.1-fast-official': {
    modes: ['FLF', 'I2V', 'T2V'],
    fields: ['prompt', 'negative_prompt', 'duration', 'aspect_ratio', 'resolution', 'first_frame_image', 'last_frame_image', 'seed', 'sample_count', 'generate_audio', 'person_generation', 'resize_mode', 'enhance_prompt'],
    resolutions: ['720p', '1080p', '4K'],
    broken: { prompt: 'p', enhance_prompt: false },
  },
  'veo3.1-quality-official': {
    modes: ['FLF', 'I2V', 'T2V'],
    fields: ['prompt', 'negative_prompt', 'duration', 'aspect_ratio', 'resolution', 'first_frame_image', 'last_frame_image', 'seed', 'sample_count', 'generate_audio', 'person_generation', 'resize_mode', 'enhance_prompt'],
    resolutions: ['720p', '1080p', '4K'],
    broken: { prompt: 'p', duration: 5 },
  },
};
const IDS = Object.keys(SEEDS);

let t: TestGateway;
let key: string;
let models: any[];

beforeAll(async () => {
  t = await startTestGateway();
  key = (await t.newKey(1)).key;
  const r = await t.call(key, 'GET', '/v1/models');
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ code: 200, object: 'list' });
  models = r.body.data;
});
afterAll(async () => t?.close());

const model = (id: string) => models.find((m) => m.id === id);

describe('GET /v1/models', () => {
  it('lists exactly the seven models', () => {
    expect(models.map((m) => m.id).sort()).toEqual([...IDS].sort());
  });

  it.each(IDS)('%s: its modes, the seed’s fields, and a price for every resolution', (id) => {
    const m = model(id);
    const s = SEEDS[id];
    expect(m.object).toBe('model');
    expect(m.modes.map((x: any) => x.mode).sort()).toEqual([...s.modes].sort());
    for (const mode of m.modes) expect(typeof mode.description).toBe('string');
    expect(Object.keys(m.fields).sort()).toEqual([...s.fields].sort());
    for (const f of Object.values<any>(m.fields)) {
      expect(typeof f.type).toBe('string');
      expect(typeof f.description).toBe('string');
    }
    expect(m.fields.resolution.values).toEqual(s.resolutions);
    expect(m.pricing.unit).toBe('per_second');
    expect(Object.keys(m.pricing.per_second).sort()).toEqual([...s.resolutions].sort());
    for (const price of Object.values<number>(m.pricing.per_second)) expect(price).toBeGreaterThan(0);
    expect(m.output.fps).toBe(24);
  });

  it('field details follow the seeds', () => {
    expect(model('happyhorse-1.0').fields.duration).toMatchObject({ minimum: 3, maximum: 15, default: 5 });
    expect(model('happyhorse-1.0').fields.resolution.default).toBe('1080P');
    expect(model('happyhorse-1.0').fields.audio_setting).toMatchObject({ values: ['auto', 'origin'], default: 'auto', modes: ['EDIT'] });
    expect(model('wan2.5-preview').fields.duration).toMatchObject({ values: [5, 10], default: 5 });
    expect(model('wan2.5-preview').fields.audio).toMatchObject({ default: true, only: true });
    expect(model('Omni-Flash-Ext').fields.duration).toMatchObject({ values: [4, 6, 8, 10], default: 6 });
    expect(model('viduq3').fields.duration).toMatchObject({ minimum: 3, maximum: 16, default: 5 });
    expect(model('viduq3-mix').fields.duration).toMatchObject({ minimum: 1, maximum: 16, default: 5 });
    expect(model('veo3.1-fast-official').fields.duration).toMatchObject({ values: [4, 6, 8], default: 8 });
    expect(model('veo3.1-fast-official').fields.sample_count).toMatchObject({ minimum: 1, maximum: 4, default: 1 });
    expect(model('veo3.1-quality-official').fields.enhance_prompt).toMatchObject({ default: true, only: true });
  });

  it('audio as each model makes it, and veo’s audio price', () => {
    expect(model('wan2.5-preview').output.audio).toBe('always');
    expect(model('happyhorse-1.0').output.audio).toBe('always');
    expect(model('veo3.1-fast-official').output.audio).toBe('when generate_audio');
    for (const id of ['veo3.1-fast-official', 'veo3.1-quality-official']) {
      expect(Object.keys(model(id).pricing.with_audio_per_second).sort()).toEqual(['1080p', '4K', '720p']);
    }
  });
});

describe('GET /v1/model-schema', () => {
  function compile(schema: object) {
    // Strict Ajv, as a careful client would run it. `x-reelay-modes` is an annotation and `uri` a format the
    // schema uses (callback_url); without ajv-formats a strict Ajv must be told both are known.
    const ajv = new Ajv2020({ strict: true, allErrors: true, formats: { uri: true } });
    ajv.addKeyword('x-reelay-modes');
    return ajv.compile(schema);
  }

  it.each(IDS)('%s: a draft 2020-12 schema that accepts every seed use case and refuses a broken body', async (id) => {
    const r = await t.call(key, 'GET', `/v1/model-schema?model=${encodeURIComponent(id)}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ code: 200, data: { model: id, operation: 'video_generation' } });
    const schema = r.body.data.input_schema;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const validate = compile(schema);
    const cases = USE_CASES.filter((c) => c.model === id);
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) expect(validate(c.body), `${c.title}: ${JSON.stringify(validate.errors)}`).toBe(true);
    expect(validate({ model: id, ...SEEDS[id].broken })).toBe(false);
    expect(validate({ model: id })).toBe(false); // every model needs a prompt or an image
  });

  it('a model id in another case names the same model', async () => {
    const r = await t.call(key, 'GET', '/v1/model-schema?model=OMNI-flash-ext');
    expect(r.status).toBe(200);
    expect(r.body.data.model).toBe('Omni-Flash-Ext');
  });

  it.each([
    ['an unknown model', '?model=sora-2'],
    ['no model', ''],
    ['an empty model', '?model='],
  ])('%s → 400 invalid_request_error on model', async (_name, q) => {
    const r = await t.call(key, 'GET', `/v1/model-schema${q}`);
    expectError(r, 400, 'invalid_request_error', 'model');
    expect(r.body.error.message).toContain('happyhorse-1.0');
  });
});
