/**
 * Shared machinery of the model suites: running the validator, checking an error against the contract
 * (section 3), and the case tables the family suites and the JSON Schema suite both walk.
 *
 * Expected values in the case tables are typed in from the seed documents, never read from the family
 * specs, so a spec that drifts from its seed fails here.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.ts';
import { validateRequest, type ValidatedRequest } from '../../src/models/validate.ts';
import type { Mode } from '../../src/models/spec.ts';

/** Codes a seed document names: the contract says `type` carries the same name. */
export const SEED_NAMED_CODES = new Set([
  'invalid_duration',
  'invalid_resolution',
  'unsupported_image_count',
  'mixed_media_not_allowed',
  'audio_setting_only_for_edit',
  'invalid_request_error',
]);

export interface AcceptCase {
  title: string;
  body: Record<string, unknown>;
  model: string;
  mode: Mode;
  /** The complete expected params (exact keys): canonical spellings, defaults, dropped fields. */
  params: Record<string, unknown>;
}

export interface RejectCase {
  title: string;
  body: unknown;
  code: string;
  /** The field the error names (`param`), null for body-level errors. */
  param: string | null;
  /** Text the message must contain: the model's allowed values, the field's limits. */
  mentions?: (string | number)[];
  /**
   * Set when JSON Schema cannot express this rejection; the JSON Schema suite then asserts the schema
   * *accepts* the body, so the documented gap is exact.
   */
  schemaGap?: 'url-parse';
}

export function validate(body: unknown): ValidatedRequest {
  return validateRequest(body);
}

export function errorOf(body: unknown): ApiError {
  try {
    const accepted = validateRequest(body);
    throw new Error(`expected a rejection, but it was accepted as ${JSON.stringify(accepted)}`);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
}

/** The bare field name of a param like `image_urls` (messages may say `image_urls[3]`). */
function fieldName(param: string): string {
  return param.replace(/\[\d+\]$/, '');
}

/** Checks an error against the contract: status, code, type, param, a message naming field and allowed values. */
export function expectContractError(err: ApiError, c: Pick<RejectCase, 'code' | 'param' | 'mentions'>): void {
  expect({ code: err.code, param: err.param }).toEqual({ code: c.code, param: c.param });
  expect(err.status).toBe(400);
  expect(err.type).toBe(SEED_NAMED_CODES.has(c.code) ? c.code : 'invalid_request_error');
  if (c.param !== null) expect(err.message).toContain(fieldName(c.param));
  for (const m of c.mentions ?? []) expect(err.message).toContain(String(m));
  expect(err.toBody()).toEqual({ error: { code: c.code, type: err.type, message: err.message, param: c.param } });
}

export function expectRejected(c: RejectCase): ApiError {
  const err = errorOf(c.body);
  expectContractError(err, c);
  return err;
}

export function expectAccepted(c: AcceptCase): ValidatedRequest {
  const v = validate(c.body);
  expect(v).toEqual({ model: c.model, mode: c.mode, params: c.params });
  return v;
}

/** `value` with the case of every letter flipped: the "other case" spelling of an enum value. */
export function flipCase(value: string): string {
  return [...value].map((ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())).join('');
}

/** A string of exactly `n` code points whose last one is an astral emoji (2 UTF-16 units). */
export function codePoints(n: number): string {
  return 'a'.repeat(n - 1) + '😀';
}

/** A tiny real PNG (1×1), for bodies that want a well-formed data URI. */
export const PNG_DATA_URI =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/** URL-ish strings every URL field must refuse (not http(s), or not a URL at all). */
export const GARBAGE_URLS: string[] = [
  '',
  ' ',
  'not a url',
  'example.com/a.png',
  '//example.com/a.png',
  'ftp://example.com/a.png',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'http:example.com/a.png', // WHATWG would repair this; the raw string goes upstream, so refuse it
  'https:/example.com/a.png',
  'https://',
  ' https://example.com/a.png', // surrounding whitespace
  'https://example.com/a b.png', // raw space
  'https://exa\nmple.com/a.png', // control character the URL parser would strip
  'https://example.com\\a.png', // backslash the URL parser would turn into a slash
  `https://example.com/${'a'.repeat(8192)}`, // longer than the 8192-character URL limit
];

/** http(s) URLs of the right shape that the WHATWG URL parser refuses: the one kind JSON Schema cannot see. */
export const UNPARSEABLE_URLS: string[] = ['https://999.999.999.999/a.png', 'https://example.com:99999/a.png', 'https://user@/a.png'];

/**
 * The suite every family file runs: its seed use cases (accepted, with mode and params typed in from the
 * seed, and copied verbatim into the family spec's `examples`), then its accepted and rejected tables.
 */
export function familySuite(
  family: string,
  t: { models: readonly string[]; USE_CASES: AcceptCase[]; ACCEPTED: AcceptCase[]; REJECTED: RejectCase[] },
  findExamples: (model: string) => Record<string, unknown>[],
): void {
  describe(`${family}: the seed's use cases`, () => {
    it.each(t.USE_CASES)('$title is accepted with the documented mode and defaults', (c) => {
      expectAccepted(c);
    });
    it('the family spec carries exactly these use cases as its examples', () => {
      const fromSpec = t.models.flatMap((m) => findExamples(m));
      expect(fromSpec).toEqual(t.models.flatMap((m) => t.USE_CASES.filter((c) => c.body.model === m).map((c) => c.body)));
    });
  });
  describe(`${family}: accepted requests`, () => {
    it.each(t.ACCEPTED)('$title', (c) => {
      expectAccepted(c);
    });
  });
  describe(`${family}: rejected requests`, () => {
    it.each(t.REJECTED)('$title → $code', (c) => {
      expectRejected(c);
    });
  });
}
