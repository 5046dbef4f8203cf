/**
 * The JSON Schema of each model (src/models/jsonSchema.ts) against the validator (src/models/validate.ts):
 * compiled with Ajv (draft 2020-12, strict), it must accept every request the validator accepts and refuse
 * every request the validator refuses — except the kinds listed in NOT_EXPRESSIBLE, which are asserted to be
 * exactly that gap.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.ts';
import { modelJsonSchema } from '../../src/models/jsonSchema.ts';
import { HTTP_URL_PATTERN, MAX_URL_LENGTH } from '../../src/models/patterns.ts';
import { findModel, listModels } from '../../src/models/registry.ts';
import type { FieldSpec, ModelSpec } from '../../src/models/spec.ts';
import { validateRequest } from '../../src/models/validate.ts';
import { GARBAGE_URLS, PNG_DATA_URI, UNPARSEABLE_URLS, codePoints, type AcceptCase, type RejectCase } from './helpers.ts';
import * as hh from './cases/happyhorse.ts';
import * as wan from './cases/wan25.ts';
import * as omni from './cases/omniFlashExt.ts';
import * as vidu from './cases/viduq3.ts';
import * as veo from './cases/veo31.ts';

/**
 * Rejections JSON Schema cannot express. Everything else is expressed, including what once was not: enum
 * case-insensitivity (patterns), null-as-absent, mode priority (`if` with `not` of earlier modes), the Omni
 * size/aspect_ratio alias (one branch per value), special tokens (`not` + pattern), and string lengths in
 * code points (JSON Schema counts characters, and Ajv counts code points, like the validator).
 */
const NOT_EXPRESSIBLE = {
  'url-parse':
    'an http(s) URL of the right shape that the WHATWG URL parser refuses: an invalid IPv4 host (999.999.999.999), a port above 65535, an empty host after userinfo',
} as const;

function compile(spec: ModelSpec) {
  // Strict, including strictTypes: the schema must be clean for the strictest consumer. `x-reelay-modes` is
  // an annotation (an OpenAPI-style extension), registered as such. `uri` is only used by callback_url, a
  // reelay extension outside the validator; ajv-formats is not installed, so the format is declared as known.
  const ajv = new Ajv2020({ strict: true, strictTypes: true, allErrors: true, formats: { uri: true } });
  ajv.addKeyword('x-reelay-modes');
  return ajv.compile(modelJsonSchema(spec));
}
const VALIDATORS = new Map(listModels().map((m) => [m.id, compile(m)]));
const schemaAccepts = (model: string, body: unknown): boolean => VALIDATORS.get(model)!(body) === true;

const ACCEPTED: AcceptCase[] = [hh, wan, omni, vidu, veo].flatMap((f) => f.ACCEPTED);
const REJECTED: RejectCase[] = [hh, wan, omni, vidu, veo].flatMap((f) => f.REJECTED);

/** The model whose schema judges a body: the one it names (rejection tables only use served ids). */
function modelOf(body: unknown): string {
  return findModel(String((body as { model?: unknown }).model))!.id;
}

describe('each model schema compiles under Ajv strict mode', () => {
  it.each(listModels().map((m) => m.id))('%s', (id) => {
    expect(typeof VALIDATORS.get(id)).toBe('function');
    const schema = modelJsonSchema(findModel(id)!);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect((schema['x-reelay-modes'] as { mode: string }[]).length).toBeGreaterThan(0);
  });
});

describe('the case tables through the schema', () => {
  it.each(ACCEPTED.map((c) => [`${c.model}: ${c.title}`, c] as const))('accepted: %s', (_, c) => {
    const ok = schemaAccepts(c.model, c.body);
    expect(ok, JSON.stringify(VALIDATORS.get(c.model)!.errors)).toBe(true);
  });
  it.each(REJECTED.map((c) => [`${modelOf(c.body)}: ${c.title} (${c.code})`, c] as const))('rejected: %s', (_, c) => {
    if (c.schemaGap) {
      // The documented gap, exactly: the schema lets it through, only the validator refuses it.
      expect(Object.keys(NOT_EXPRESSIBLE)).toContain(c.schemaGap);
      expect(schemaAccepts(modelOf(c.body), c.body)).toBe(true);
    } else {
      expect(schemaAccepts(modelOf(c.body), c.body)).toBe(false);
    }
  });
  it.each(listModels().map((m) => m.id))('%s: a body that is not an object, or without a served model id, is refused', (id) => {
    for (const body of [null, [], 'x', 1, {}, { model: null }, { model: 5 }, { model: '' }, { model: 'sora-2' }, { model: `${id} ` }]) {
      expect(schemaAccepts(id, body), JSON.stringify(body)).toBe(false);
    }
  });
  it('code-point lengths: the schema counts an emoji as one character, like the validator', () => {
    expect(schemaAccepts('happyhorse-1.0', { model: 'happyhorse-1.0', prompt: '😀'.repeat(2500) })).toBe(true);
    expect(schemaAccepts('happyhorse-1.0', { model: 'happyhorse-1.0', prompt: '😀'.repeat(2501) })).toBe(false);
    expect(schemaAccepts('viduq3', { model: 'viduq3', prompt: codePoints(5000), image_urls: [PNG_DATA_URI] })).toBe(true);
  });
});

describe('the schema carries the seed defaults and the document spellings', () => {
  // Typed in from the seeds (the case modules' DEFAULTS).
  const expected: [string, Record<string, unknown>][] = [
    ['happyhorse-1.0', { ...hh.DEFAULTS.T2V, audio_setting: 'auto' }],
    ['wan2.5-preview', wan.DEFAULTS.T2V],
    ['Omni-Flash-Ext', omni.DEFAULTS],
    ['viduq3', vidu.DEFAULTS],
    ['viduq3-mix', vidu.DEFAULTS],
    ['veo3.1-fast-official', veo.DEFAULTS.I2V],
  ];
  it.each(expected)('%s', (id, defaults) => {
    const props = modelJsonSchema(findModel(id)!).properties as Record<string, { default?: unknown }>;
    for (const [field, value] of Object.entries(defaults)) expect(props[field]?.default, field).toEqual(value);
  });
  it('enum branches list the document spelling (veo 4K, Omni 4k, happyhorse 1080P)', () => {
    const enumOf = (id: string, f: string) =>
      ((modelJsonSchema(findModel(id)!).properties as Record<string, { anyOf: { enum?: unknown[] }[] }>)[f].anyOf[0].enum as string[]);
    expect(enumOf('veo3.1-fast-official', 'resolution')).toEqual(veo.RESOLUTIONS);
    expect(enumOf('Omni-Flash-Ext', 'resolution')).toEqual(omni.RESOLUTIONS);
    expect(enumOf('happyhorse-1.0', 'resolution')).toEqual(hh.RESOLUTIONS);
    expect(enumOf('viduq3-mix', 'resolution')).toEqual(vidu.DIFFERENCES['viduq3-mix'].resolutions);
  });
});

// ---------------------------------------------------------------------------------------------------
// Differential property: random bodies through both. The generators are built from the spec on purpose:
// this compares two interpreters of the same spec (the seed-vs-spec question is the family suites' job).

const HTTP_URL = new RegExp(HTTP_URL_PATTERN, 'u');

/** Is `s` the documented gap: shaped like an http(s) URL, but refused by the WHATWG URL parser? */
function isUrlParseGap(s: unknown): boolean {
  if (typeof s !== 'string' || s.length > MAX_URL_LENGTH || !HTTP_URL.test(s)) return false;
  try {
    return new URL(s).hostname === '';
  } catch {
    return true;
  }
}

const URL_FIELD_TYPES = new Set(['image', 'images', 'video_url', 'audio_url']);
function hasUrlParseGap(spec: ModelSpec, body: Record<string, unknown>): boolean {
  return Object.entries(spec.fields).some(([name, f]) => {
    if (!URL_FIELD_TYPES.has(f.type)) return false;
    const v = body[name];
    return Array.isArray(v) ? v.some(isUrlParseGap) : isUrlParseGap(v);
  });
}

const junk = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.string({ maxLength: 8 }),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }),
);

function randomCase(v: string): fc.Arbitrary<string> {
  return fc
    .array(fc.boolean(), { minLength: v.length, maxLength: v.length })
    .map((flags) => [...v].map((ch, i) => (flags[i] ? ch.toUpperCase() : ch.toLowerCase())).join(''));
}

const ALL_ENUM_VALUES = [
  ...new Set(listModels().flatMap((m) => Object.values(m.fields).flatMap((f) => (f.type === 'enum' ? f.values : [])))),
];

const goodUrl = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.constantFrom('https://example.com/a.png', 'HTTPS://EXAMPLE.COM/A.PNG', 'https://bücher.de/ü.png', 'http://[::1]:8080/x', 'http://1.2.3.4/v.mp4'),
);
const dataUri = fc.constantFrom(PNG_DATA_URI, 'data:image/jpeg;base64,', 'DATA:IMAGE/WEBP;BASE64,xx', 'data:video/mp4;base64,AAAA', 'data:text/plain,hi', 'data:');
const badUrl = fc.oneof(fc.constantFrom(...GARBAGE_URLS, ...UNPARSEABLE_URLS), fc.string({ maxLength: 12 }));
const urlValue = fc.oneof({ arbitrary: goodUrl, weight: 6 }, { arbitrary: dataUri, weight: 2 }, { arbitrary: badUrl, weight: 1 }, { arbitrary: junk, weight: 1 });

/** A valid value of the field (as far as the field alone goes). */
function goodArb(field: FieldSpec): fc.Arbitrary<unknown> {
  switch (field.type) {
    case 'string':
      return fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() !== '' && !s.includes('<|'));
    case 'enum':
      return fc.constantFrom(...field.values).chain(randomCase);
    case 'integer':
      return field.values ? fc.constantFrom(...field.values) : fc.integer({ min: field.min ?? -1e6, max: field.max ?? 1e6 });
    case 'boolean':
      return field.only !== undefined ? fc.constant(field.only) : fc.boolean();
    case 'image':
    case 'video_url':
    case 'audio_url':
      return field.type === 'image' ? fc.oneof(goodUrl, fc.constant(PNG_DATA_URI)) : goodUrl;
    case 'images':
      return fc.array(fc.oneof(goodUrl, fc.constant(PNG_DATA_URI)), { maxLength: 11 });
  }
}

/** Any value, valid or not, with the edges of the field's rules over-represented. */
function valueArb(field: FieldSpec): fc.Arbitrary<unknown> {
  switch (field.type) {
    case 'string': {
      const max = field.maxLength;
      const edges = max === undefined ? [] : [codePoints(max), codePoints(max + 1), '😀'.repeat(max), '😀'.repeat(max + 1), 'a'.repeat(max + 1)];
      return fc.oneof(
        { arbitrary: fc.string({ minLength: 1, maxLength: 30 }), weight: 8 },
        { arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }), weight: 2 },
        {
          arbitrary: fc.constantFrom('', ' ', '\u3000\n', '\u200B', 'a <|endoftext|> b', '<|😀|>', '<| x |>', '<||>', '\ud800', ...edges),
          weight: 2,
        },
        { arbitrary: junk, weight: 1 },
      );
    }
    case 'enum':
      return fc.oneof(
        { arbitrary: fc.constantFrom(...field.values).chain(randomCase), weight: 10 },
        { arbitrary: fc.constantFrom(...ALL_ENUM_VALUES, '', ' 720p', '4\u212A', 'x'), weight: 2 },
        { arbitrary: junk, weight: 1 },
      );
    case 'integer': {
      const edges = [field.min, field.max, ...(field.values ?? [])].flatMap((x) => (x === undefined ? [] : [x - 1, x, x + 1]));
      const good = field.values ? fc.constantFrom(...field.values) : fc.integer({ min: field.min ?? -1e6, max: field.max ?? 1e6 });
      return fc.oneof(
        { arbitrary: good, weight: 10 },
        { arbitrary: fc.constantFrom(...edges, 0, -1, 2 ** 32, 2 ** 53), weight: 3 },
        { arbitrary: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('8', '5', 'true', true)), weight: 1 },
      );
    }
    case 'boolean':
      return fc.oneof({ arbitrary: fc.boolean(), weight: 10 }, { arbitrary: fc.constantFrom('true', 'false', 0, 1), weight: 1 });
    case 'image':
    case 'video_url':
    case 'audio_url':
      return urlValue;
    case 'images':
      return fc.oneof(
        { arbitrary: fc.array(goodUrl, { maxLength: 11 }), weight: 10 },
        { arbitrary: fc.array(urlValue, { maxLength: 4 }), weight: 3 },
        { arbitrary: junk, weight: 1 },
      );
  }
}

const ABSENT = Symbol('absent');
/**
 * Bodies of two kinds, half each: "clean" ones (every value valid on its own, so the outcome turns on
 * modes, counts, exclusions and cross-field rules) and "noisy" ones (any value, edges over-represented).
 */
function bodyArb(spec: ModelSpec): fc.Arbitrary<Record<string, unknown>> {
  const record = (arb: (f: FieldSpec) => fc.Arbitrary<unknown>) =>
    fc.record(
      Object.fromEntries(
        Object.entries(spec.fields).map(([name, f]) => [name, fc.oneof({ arbitrary: arb(f), weight: 8 }, { arbitrary: fc.constant(null), weight: 1 })]),
      ),
      { requiredKeys: [] },
    );
  const fields = fc.oneof(record(goodArb), record(valueArb));
  const model = fc.oneof(
    { arbitrary: fc.constant(spec.id), weight: 20 },
    { arbitrary: randomCase(spec.id), weight: 3 },
    { arbitrary: fc.constantFrom<unknown>(ABSENT, null, '', 'sora-2', 5, `${spec.id}x`), weight: 1 },
  );
  const extras = fc.dictionary(
    fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !(k in spec.fields) && !['model', 'callback_url', '__proto__'].includes(k)),
    fc.jsonValue({ maxDepth: 1 }),
    { maxKeys: 2 },
  );
  return fc.tuple(extras, fields, model).map(([x, f, m]) => {
    const body: Record<string, unknown> = { ...x, ...f };
    if (m !== ABSENT) body.model = m;
    return body;
  });
}

describe('random bodies: the validator and the schema agree', () => {
  it.each(listModels().map((m) => m.id))('%s', (id) => {
    const spec = findModel(id)!;
    const schema = VALIDATORS.get(id)!;
    const seen = { accepted: 0, rejected: 0, gap: 0, codes: new Set<string>() };
    fc.assert(
      fc.property(bodyArb(spec), (body) => {
        let error: ApiError | undefined;
        try {
          validateRequest(body);
        } catch (e) {
          if (!(e instanceof ApiError)) throw e; // a crash is never an answer
          error = e;
        }
        const schemaOk = schema(body) === true;
        if (!error) {
          seen.accepted++;
          // accepted ⇒ the schema accepts
          if (!schemaOk) throw new Error(`schema refuses an accepted body: ${JSON.stringify(schema.errors)}`);
          return;
        }
        seen.rejected++;
        seen.codes.add(error.code);
        if (hasUrlParseGap(spec, body)) {
          seen.gap++;
          return; // NOT_EXPRESSIBLE['url-parse']: the schema may accept
        }
        // rejected for an expressible reason ⇒ the schema refuses
        if (schemaOk) throw new Error(`schema accepts a body the validator refuses with ${error.code}: ${error.message}`);
      }),
      { numRuns: 2500 },
    );
    // The property is only worth something if both sides were exercised, with many kinds of errors.
    expect(seen.accepted).toBeGreaterThan(100);
    expect(seen.rejected).toBeGreaterThan(100);
    expect(seen.codes.size).toBeGreaterThanOrEqual(5);
  });
});
