/**
 * Rules shared by every model: the body, the model id, null and unknown fields, enum case, URL forms, the
 * error body of the contract (section 3) — and a cross-check that the seed documents' own JSON examples are
 * all in the case tables.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.ts';
import { errorOf, expectContractError, SEED_NAMED_CODES, validate, type AcceptCase, type RejectCase } from './helpers.ts';
import * as hh from './cases/happyhorse.ts';
import * as wan from './cases/wan25.ts';
import * as omni from './cases/omniFlashExt.ts';
import * as vidu from './cases/viduq3.ts';
import * as veo from './cases/veo31.ts';

/** The seven model ids of contract section 4, typed in. */
const MODEL_IDS = [
  'happyhorse-1.0',
  'wan2.5-preview',
  'Omni-Flash-Ext',
  'viduq3',
  'viduq3-mix',
  'veo3.1-fast-official',
  'veo3.1-quality-official',
];
const USE_CASES: AcceptCase[] = [hh, wan, omni, vidu, veo].flatMap((f) => f.USE_CASES);
const REJECTED: RejectCase[] = [hh, wan, omni, vidu, veo].flatMap((f) => f.REJECTED);

/** Every request field each seed documents, typed in from the seeds' parameter lists. */
const DOCUMENTED_FIELDS: Record<string, string[]> = {
  'happyhorse-1.0': ['prompt', 'first_frame_image', 'image_urls', 'video_url', 'audio_setting', 'resolution', 'duration', 'size', 'watermark', 'seed'],
  'wan2.5-preview': ['prompt', 'image_urls', 'negative_prompt', 'resolution', 'duration', 'size', 'seed', 'prompt_extend', 'audio', 'audio_url', 'watermark'],
  'Omni-Flash-Ext': ['prompt', 'duration', 'resolution', 'aspect_ratio', 'size', 'image_urls'],
  viduq3: ['prompt', 'image_urls', 'duration', 'resolution', 'aspect_ratio', 'seed'],
  'viduq3-mix': ['prompt', 'image_urls', 'duration', 'resolution', 'aspect_ratio', 'seed'],
  'veo3.1-fast-official': [
    'prompt', 'negative_prompt', 'duration', 'aspect_ratio', 'resolution', 'first_frame_image', 'last_frame_image',
    'seed', 'sample_count', 'generate_audio', 'person_generation', 'resize_mode', 'enhance_prompt',
  ],
  'veo3.1-quality-official': [
    'prompt', 'negative_prompt', 'duration', 'aspect_ratio', 'resolution', 'first_frame_image', 'last_frame_image',
    'seed', 'sample_count', 'generate_audio', 'person_generation', 'resize_mode', 'enhance_prompt',
  ],
};

describe('the body', () => {
  it.each([null, [], ['model'], 'happyhorse-1.0', 42, true, undefined])('%j is refused as not an object', (body) => {
    const err = errorOf(body);
    expectContractError(err, { code: 'invalid_request_error', param: null, mentions: ['JSON object'] });
  });
});

describe('the model id', () => {
  it.each([
    ['missing', {}],
    ['null', { model: null }],
    ['empty', { model: '' }],
    ['blank', { model: '   ' }],
    ['a number', { model: 7 }],
    ['an object', { model: { id: 'viduq3' } }],
    ['an array', { model: ['viduq3'] }],
    ['unknown', { model: 'sora-2' }],
    ['a near miss', { model: 'viduq3 ' }],
    ['another family of the same vendor', { model: 'happyhorse-1.1' }],
  ])('%s → invalid_request_error naming every served model', (_, body) => {
    expectContractError(errorOf({ prompt: 'p', ...body }), { code: 'invalid_request_error', param: 'model', mentions: MODEL_IDS });
  });

  it.each(MODEL_IDS)('%s is served, and found in any case', (id) => {
    const example = USE_CASES.find((c) => c.model === id)!;
    for (const spelling of [id, id.toLowerCase(), id.toUpperCase()]) {
      expect(validate({ ...example.body, model: spelling }).model).toBe(id);
    }
  });
});

describe('null fields are "not given"; unknown fields are ignored', () => {
  it.each(USE_CASES.map((c) => [c.title, c] as const))('%s: every other documented field null changes nothing', (_, c) => {
    const body: Record<string, unknown> = { ...c.body };
    for (const f of DOCUMENTED_FIELDS[c.model]) if (!(f in body)) body[f] = null;
    expect(validate(body)).toEqual({ model: c.model, mode: c.mode, params: c.params });
  });

  it.each(USE_CASES.map((c) => [c.title, c] as const))('%s: unknown fields are dropped', (_, c) => {
    const body = {
      ...c.body,
      Prompt: 'field names are case-sensitive, so this is unknown',
      callback: 'https://example.com/hook',
      fps: 60,
      n: { nested: true },
      last_frame_image_url: 12,
      video_urls: ['https://example.com/a.mp4'],
    };
    expect(validate(body)).toEqual({ model: c.model, mode: c.mode, params: c.params });
  });

  it('a documented field of another model is unknown here (veo sample_count on Omni-Flash-Ext)', () => {
    const v = validate({ model: 'Omni-Flash-Ext', prompt: 'p', sample_count: 99, audio: false });
    expect(v.params).toEqual({ prompt: 'p', duration: 6, resolution: '720p', aspect_ratio: '16:9' });
  });
});

describe('enum values: any ASCII case, reported in the document spelling; no Unicode case folding', () => {
  it.each([
    ['veo3.1-fast-official', 'resolution', '4k', '4K'],
    ['veo3.1-fast-official', 'resolution', '1080P', '1080p'],
    ['Omni-Flash-Ext', 'resolution', '4K', '4k'],
    ['happyhorse-1.0', 'resolution', '720p', '720P'],
    ['veo3.1-fast-official', 'person_generation', 'Allow_Adult', 'allow_adult'],
  ])('%s %s %s → %s', (model, field, given, reported) => {
    expect(validate({ model, prompt: 'p', [field]: given }).params[field]).toBe(reported);
  });
  it('U+212A KELVIN SIGN lower-cases to "k" in JavaScript but is not the letter K', () => {
    expect('\u212A'.toLowerCase()).toBe('k'); // why the comparison must be ASCII-only
    expect(errorOf({ model: 'veo3.1-fast-official', prompt: 'p', resolution: '4\u212A' }).code).toBe('invalid_resolution');
  });
});

describe('URL forms', () => {
  it.each(['HTTPS://EXAMPLE.COM/A.PNG', 'http://example.com', 'https://example.com:8443/a.png?x=1#f', 'https://bücher.de/ü.png', 'http://[::1]/a.png', 'https://user:pw@example.com/a.png'])(
    'the http(s) URL %s is accepted as given',
    (url) => {
      const v = validate({ model: 'veo3.1-fast-official', prompt: 'p', first_frame_image: url });
      expect(v.params.first_frame_image).toBe(url); // passed on verbatim, not normalised
      expect(validate({ model: 'happyhorse-1.0', prompt: 'p', video_url: url }).params.video_url).toBe(url);
    },
  );
  it.each(['data:image/png;base64,AAAA', 'data:image/jpeg;base64,', 'data:IMAGE/WEBP;BASE64,AAAA', 'data:image/svg+xml;base64,PHN2Zz4='])(
    'the image data URI %s is accepted in image fields (its payload is checked later, when decoded)',
    (uri) => {
      expect(validate({ model: 'Omni-Flash-Ext', prompt: 'p', image_urls: [uri] }).mode).toBe('I2V');
    },
  );
  it('the data: scheme itself must be lower case (the inline-image store only decodes values starting with "data:")', () => {
    expectContractError(errorOf({ model: 'Omni-Flash-Ext', prompt: 'p', image_urls: ['DATA:image/png;base64,AAAA'] }), {
      code: 'invalid_url',
      param: 'image_urls',
    });
  });
  it('a long data URI is not held to the 8192-character URL limit', () => {
    const uri = `data:image/png;base64,${'A'.repeat(100_000)}`;
    expect(validate({ model: 'veo3.1-fast-official', prompt: 'p', first_frame_image: uri }).mode).toBe('I2V');
  });
  it('an http(s) URL of exactly 8192 characters is accepted, 8193 refused', () => {
    const base = 'https://example.com/';
    const url = base + 'a'.repeat(8192 - base.length);
    expect(validate({ model: 'happyhorse-1.0', prompt: 'p', video_url: url }).mode).toBe('EDIT');
    expectContractError(errorOf({ model: 'happyhorse-1.0', prompt: 'p', video_url: `${url}a` }), {
      code: 'invalid_url',
      param: 'video_url',
      mentions: [8192],
    });
  });
});

describe('the error body (contract section 3)', () => {
  it('every seed-named code is produced by at least one case, so its type = code rule is exercised', () => {
    const produced = new Set(REJECTED.map((c) => c.code));
    for (const code of SEED_NAMED_CODES) expect(produced, code).toContain(code);
  });
  it('the other codes the validator produces are typed invalid_request_error', () => {
    const others = [...new Set(REJECTED.map((c) => c.code))].filter((c) => !SEED_NAMED_CODES.has(c)).sort();
    expect(others).toEqual([
      'conflicting_fields',
      'invalid_type',
      'invalid_url',
      'invalid_value',
      'missing_dependency',
      'prompt_contains_special_tokens',
      'string_too_long',
      'unsupported_field_for_mode',
      'value_out_of_range',
    ]);
    for (const code of others) expect(new ApiError(code as never, 'm', 'x').type).toBe('invalid_request_error');
  });
  it.each(REJECTED.map((c) => [c.title, c] as const))('%s: status 400, code, type, param, message names field and allowed values', (_, c) => {
    const err = errorOf(c.body);
    expectContractError(err, c);
    // messages are for people: one readable sentence, not an echo of a long input
    expect(err.message.length).toBeLessThan(400);
  });
});

// The seeds live beside the repository (../shared/seeds); in a checkout without them this part cannot run.
const SEEDS = new URL('../../../shared/seeds/', import.meta.url);
describe.runIf(existsSync(SEEDS))('every JSON request printed in the seed documents', () => {
  /** The top-level JSON objects in a text that have a "model" key. */
  function requestBodies(text: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) {
      let depth = 0;
      let inString = false;
      for (let j = i; j < text.length; j++) {
        const ch = text[j];
        if (inString) {
          if (ch === '\\') j++;
          else if (ch === '"') inString = false;
        } else if (ch === '"') inString = true;
        else if (ch === '{') depth++;
        else if (ch === '}' && --depth === 0) {
          try {
            const value = JSON.parse(text.slice(i, j + 1)) as unknown;
            if (value && typeof value === 'object' && 'model' in value) {
              out.push(value as Record<string, unknown>);
              i = j;
            }
          } catch {
            // not JSON (prose with braces): keep scanning
          }
          break;
        }
      }
    }
    return out;
  }
  const files = existsSync(SEEDS) ? readdirSync(SEEDS).filter((f) => f.endsWith('.txt')) : [];
  it('there are five seed documents', () => {
    expect(files.sort()).toEqual(['happyhorse-1.0.txt', 'omni-flash-ext.txt', 'veo3.1.txt', 'viduq3.txt', 'wan2.5-preview.txt']);
  });
  it.each(files)('%s: each request is one of the typed-in use cases, and every use case is in the seed', (file) => {
    const bodies = requestBodies(readFileSync(new URL(file, SEEDS), 'utf8'));
    const unique = [...new Map(bodies.map((b) => [JSON.stringify(b), b])).values()];
    expect(unique.length).toBeGreaterThan(2);
    const models = new Set(unique.map((b) => b.model));
    const typed = USE_CASES.filter((c) => models.has(c.model)).map((c) => c.body);
    expect(typed).toEqual(expect.arrayContaining(unique));
    expect(unique).toEqual(expect.arrayContaining(typed));
  });
});

describe('NUL characters', () => {
  it('are refused in text fields (every store must be able to keep the request)', async () => {
    const { validateRequest } = await import('../../src/models/validate.ts');
    for (const body of [
      { model: 'happyhorse-1.0', prompt: 'a\u0000b' },
      { model: 'wan2.5-preview', prompt: 'x', negative_prompt: 'blur\u0000' },
      { model: 'veo3.1-fast-official', prompt: '\u0000' },
    ]) {
      expect(() => validateRequest(body)).toThrowError(expect.objectContaining({ code: 'invalid_value' }));
    }
  });
});

describe('checkRequest: the refusal returned, not thrown', () => {
  it('returns for every case exactly what validateRequest throws or returns', async () => {
    const { checkRequest, validateRequest } = await import('../../src/models/validate.ts');
    for (const c of USE_CASES) expect(checkRequest(c.body), c.title).toEqual(validateRequest(c.body));
    expect(REJECTED.length).toBeGreaterThan(20);
    for (const c of REJECTED) {
      const returned = checkRequest(c.body);
      expect(returned, c.title).toBeInstanceOf(ApiError);
      const thrown = errorOf(c.body);
      expect((returned as ApiError).toBody(), c.title).toEqual(thrown.toBody());
      expectContractError(returned as ApiError, c);
    }
  });

  it('builds refusals that are ApiErrors and Errors, with the catalogue status, without a stack', () => {
    const e = ApiError.refusal('rate_limit_error', 'slow down', null, { 'Retry-After': '3' });
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toBeInstanceOf(Error);
    expect({ status: e.status, type: e.type, headers: e.headers, stack: e.stack }).toEqual({ status: 429, type: 'rate_limit_error', headers: { 'Retry-After': '3' }, stack: undefined });
    expect(e.toBody()).toEqual({ error: { code: 'rate_limit_error', type: 'rate_limit_error', message: 'slow down', param: null } });
    // Like an Error's own message: not enumerable, so the error spreads and logs like one built by `new`.
    expect(Object.keys(e)).not.toContain('message');
    expect(Object.keys(e).sort()).toEqual(Object.keys(new ApiError('rate_limit_error', 'x')).sort());
  });
});
