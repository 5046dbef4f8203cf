/**
 * Validates a POST /v1/videos/generations body against its model's spec: types, values, mutual
 * exclusions, mode routing, per-mode counts and requirements, cross-field rules; then applies defaults.
 *
 * Pure and synchronous: no I/O. Inline images are decoded and checked afterwards by media/inlineImages.ts.
 * The first broken rule is reported, in this order: field types and values (in the document's field
 * order), exclusions, mode routing, per-mode rules, cross-field rules.
 */
import { ApiError, type ErrorCode } from '../errors.ts';
import { findModel, modelIds } from './registry.ts';
import {
  DATA_IMAGE_PATTERN,
  DATA_URI_PREFIX_PATTERN,
  HTTP_URL_PATTERN,
  MAX_URL_LENGTH,
  SPECIAL_TOKEN_PATTERN,
  asciiLower,
} from './patterns.ts';
import {
  MODE_NAMES,
  type Condition,
  type EnumField,
  type FieldSpec,
  type IntegerField,
  type Mode,
  type ModelSpec,
  type ModeSpec,
  type Rule,
} from './spec.ts';

/** A validated, normalised request: what the task stores and providers map. */
export interface ValidatedRequest {
  model: string;
  mode: Mode;
  /** Effective parameters: canonical spellings, defaults applied, fields without effect in this mode dropped. */
  params: Record<string, unknown>;
}

// Compiled with `u`, as JSON Schema compiles the same sources (see patterns.ts).
const SPECIAL_TOKEN = new RegExp(SPECIAL_TOKEN_PATTERN, 'u');
const HTTP_URL = new RegExp(HTTP_URL_PATTERN, 'u');
const DATA_URI = new RegExp(DATA_URI_PREFIX_PATTERN, 'u');
const DATA_IMAGE = new RegExp(DATA_IMAGE_PATTERN, 'u');

/** A refusal of the request: an ApiError without a stack trace (see ApiError.refusal). */
function invalid(code: ErrorCode, message: string, param: string | null = null): ApiError {
  return ApiError.refusal(code, message, param);
}

/** The validated request; throws the refusal (an ApiError) when the body breaks a rule. */
export function validateRequest(body: unknown): ValidatedRequest {
  const checked = checkRequest(body);
  if (checked instanceof ApiError) throw checked;
  return checked;
}

/**
 * The validated request, or the refusal of the first rule it breaks — returned, not thrown. Refusals are a
 * large share of what a busy gateway answers, and a throw cost more than the whole check: V8 walks the
 * stack on every throw, so its cost grows with the depth it is thrown at (0.3 µs at the top of a loop,
 * 1.1 µs eight calls down; under load in the gateway the refusal took 9 µs less once nothing was thrown,
 * docs/decisions/0012-performance.md). Every function below returns its refusal.
 */
export function checkRequest(body: unknown): ValidatedRequest | ApiError {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return invalid('invalid_request_error', 'The request body must be a JSON object.', null);
  }
  const input = body as Record<string, unknown>;
  const spec = resolveModel(input.model);
  if (spec instanceof ApiError) return spec;

  const fields = fieldsOf(spec);
  const given: Record<string, unknown> = {};
  for (const [name, field] of fields) {
    const raw = input[name];
    if (raw === undefined || raw === null) continue; // null means "not given", as JSON clients send it
    const value = parseField(spec, name, field, raw);
    if (value instanceof ApiError) return value;
    given[name] = value;
  }

  const broken = applyExclusions(spec, given) ?? applyAliases(spec, given);
  if (broken) return broken;
  const mode = routeMode(spec, given);
  if (mode instanceof ApiError) return mode;
  const refused = checkModeRules(spec, mode, given) ?? checkCrossRules(spec, given);
  if (refused) return refused;

  const params: Record<string, unknown> = {};
  for (const [name, field] of fields) {
    if (!appliesIn(field, mode.mode)) continue;
    // An empty image list means "no images" (routing already treats it so); it is not passed on.
    if (field.type === 'images' && !isPresent(given, name)) continue;
    const value = given[name] ?? ('default' in field ? field.default : undefined);
    if (value !== undefined) params[name] = value;
  }
  for (const rule of spec.rules ?? []) if (rule.kind === 'alias') delete params[rule.alias];
  return { model: spec.id, mode: mode.mode, params };
}

/** A spec's fields as entries, listed once per spec rather than on every request. */
const fieldLists = new WeakMap<ModelSpec, [string, FieldSpec][]>();

function fieldsOf(spec: ModelSpec): [string, FieldSpec][] {
  let list = fieldLists.get(spec);
  if (!list) fieldLists.set(spec, (list = Object.entries(spec.fields)));
  return list;
}

function resolveModel(model: unknown): ModelSpec | ApiError {
  if (model !== undefined && model !== null && typeof model !== 'string') {
    return invalid('invalid_request_error', `model must be a string, one of ${modelIds().join(', ')}; got ${show(model)}.`, 'model');
  }
  if (typeof model !== 'string' || model.trim() === '') {
    return invalid('invalid_request_error', `model is required: one of ${modelIds().join(', ')}.`, 'model');
  }
  const spec = findModel(model);
  if (!spec) {
    return invalid(
      'invalid_request_error',
      `model ${show(model)} is not served by this gateway: use one of ${modelIds().join(', ')}.`,
      'model',
    );
  }
  return spec;
}

// ---------------------------------------------------------------------------------------------------
// Fields

function parseField(spec: ModelSpec, name: string, field: FieldSpec, raw: unknown): unknown {
  switch (field.type) {
    case 'string':
      return parseString(spec, name, field.maxLength, field.nonEmpty, field.noSpecialTokens, raw);
    case 'enum':
      return parseEnum(spec, name, field, raw);
    case 'integer':
      return parseInteger(spec, name, field, raw);
    case 'boolean':
      if (typeof raw !== 'boolean') {
        return invalid('invalid_type', `${name} must be a boolean (true or false), got ${show(raw)}.`, name);
      }
      if (field.only !== undefined && raw !== field.only) {
        return invalid('invalid_value', `${spec.id} only supports ${name}=${field.only}; ${name}=${raw} is not available.`, name);
      }
      return raw;
    case 'image':
      return parseImageRef(spec, name, raw);
    case 'images': {
      if (!Array.isArray(raw)) {
        return invalid('invalid_type', `${name} must be an array of image URLs or data URIs, got ${show(raw)}.`, name);
      }
      const refs: string[] = [];
      for (let i = 0; i < raw.length; i++) {
        const ref = parseImageRef(spec, `${name}[${i}]`, raw[i], name);
        if (ref instanceof ApiError) return ref;
        refs.push(ref);
      }
      return refs;
    }
    case 'video_url':
    case 'audio_url':
      return parseMediaUrl(spec, name, field.type === 'video_url' ? 'video' : 'audio', raw);
  }
}

function parseString(
  spec: ModelSpec,
  name: string,
  maxLength: number | undefined,
  nonEmpty: boolean | undefined,
  noSpecialTokens: boolean | undefined,
  raw: unknown,
): string | ApiError {
  if (typeof raw !== 'string') return invalid('invalid_type', `${name} must be a string, got ${show(raw)}.`, name);
  // NUL cannot be stored by every store (PostgreSQL refuses it) and means nothing in a prompt.
  if (raw.includes('\u0000')) return invalid('invalid_value', `${name} contains a NUL character (\\u0000), which ${spec.id} does not accept.`, name);
  if (nonEmpty && raw.trim() === '') return invalid('invalid_request_error', `${name} must not be empty for ${spec.id}.`, name);
  // A string's code points are never more than its UTF-16 units: count them only when it could be too long.
  if (maxLength !== undefined && raw.length > maxLength) {
    const length = codePointLength(raw);
    if (length > maxLength) {
      return invalid('string_too_long', `${name} is ${length} characters; ${spec.id} accepts at most ${maxLength}.`, name);
    }
  }
  if (noSpecialTokens) {
    const m = SPECIAL_TOKEN.exec(raw);
    if (m) {
      return invalid('prompt_contains_special_tokens', `${name} contains the special token ${m[0]}, which ${spec.id} does not accept.`, name);
    }
  }
  return raw;
}

/** Each enum's values by their ASCII-lowercase spelling, built once: values match without regard to case. */
const enumLookups = new WeakMap<EnumField, Map<string, string>>();

function enumLookup(field: EnumField): Map<string, string> {
  let lookup = enumLookups.get(field);
  if (!lookup) {
    lookup = new Map();
    for (const v of field.values) if (!lookup.has(asciiLower(v))) lookup.set(asciiLower(v), v);
    enumLookups.set(field, lookup);
  }
  return lookup;
}

// Messages are built only on refusal: most bodies pass, and building them was a share of every submit.
function parseEnum(spec: ModelSpec, name: string, field: EnumField, raw: unknown): string | ApiError {
  const code: ErrorCode = field.code ?? 'invalid_value';
  if (typeof raw !== 'string') {
    return invalid(code, `${name} must be a string, one of ${field.values.join(', ')} for ${spec.id}; got ${show(raw)}.`, name);
  }
  const match = enumLookup(field).get(asciiLower(raw));
  if (match === undefined) return invalid(code, `${name} ${show(raw)} is not one of ${field.values.join(', ')} for ${spec.id}.`, name);
  return match;
}

function parseInteger(spec: ModelSpec, name: string, field: IntegerField, raw: unknown): number | ApiError {
  if (typeof raw !== 'number' || !Number.isInteger(raw)) {
    const why = typeof raw === 'string' ? ' (a JSON number without quotes)' : '';
    return invalid(field.code ?? 'invalid_type', `${name} must be an integer${why}, ${describeIntegerRange(field)} for ${spec.id}; got ${show(raw)}.`, name);
  }
  if (field.values && !field.values.includes(raw)) {
    return invalid(field.code ?? 'invalid_value', `${name} ${raw} is not one of ${field.values.join(', ')} for ${spec.id}.`, name);
  }
  if ((field.min !== undefined && raw < field.min) || (field.max !== undefined && raw > field.max)) {
    return invalid(field.code ?? 'value_out_of_range', `${name} ${raw} is out of range for ${spec.id}: ${describeIntegerRange(field)}.`, name);
  }
  return raw;
}

export function describeIntegerRange(field: IntegerField): string {
  if (field.values) return `one of ${field.values.join(', ')}`;
  if (field.min !== undefined && field.max !== undefined) return `an integer from ${field.min} to ${field.max}`;
  if (field.min !== undefined) return `an integer ≥ ${field.min}`;
  if (field.max !== undefined) return `an integer ≤ ${field.max}`;
  return 'an integer';
}

function parseImageRef(spec: ModelSpec, name: string, raw: unknown, param = name): string | ApiError {
  if (typeof raw !== 'string') {
    return invalid('invalid_type', `${name} must be a string: an http(s) image URL or a data:image/...;base64 URI.`, param);
  }
  if (DATA_URI.test(raw)) {
    if (!DATA_IMAGE.test(raw)) {
      return invalid('invalid_url', `${name} is a data URI but not data:image/<type>;base64,<payload>.`, param);
    }
    return raw;
  }
  return checkHttpUrl(spec, name, raw, param, 'an http(s) image URL or a data:image/...;base64 URI');
}

function parseMediaUrl(spec: ModelSpec, name: string, kind: 'video' | 'audio', raw: unknown): string | ApiError {
  if (typeof raw !== 'string') return invalid('invalid_type', `${name} must be an http(s) ${kind} URL string.`, name);
  if (DATA_URI.test(raw)) {
    return invalid('invalid_url', `${name} must be an http(s) link to the ${kind}; base64 is not supported by ${spec.id}.`, name);
  }
  return checkHttpUrl(spec, name, raw, name, `an http(s) ${kind} URL`);
}

function checkHttpUrl(_spec: ModelSpec, name: string, raw: string, param: string, what: string): string | ApiError {
  if (raw.length > MAX_URL_LENGTH) {
    return invalid('invalid_url', `${name} is ${raw.length} characters long; URLs may have at most ${MAX_URL_LENGTH}.`, param);
  }
  let url: URL | undefined;
  if (HTTP_URL.test(raw)) {
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    return invalid('invalid_url', `${name} must be ${what}; got ${show(raw)}.`, param);
  }
  return raw;
}

// ---------------------------------------------------------------------------------------------------
// Rules and modes

function isPresent(given: Record<string, unknown>, name: string): boolean {
  const v = given[name];
  return Array.isArray(v) ? v.length > 0 : v !== undefined;
}

function countOf(given: Record<string, unknown>, name: string): number {
  const v = given[name];
  return Array.isArray(v) ? v.length : 0;
}

function holdsAll(given: Record<string, unknown>, when: Condition[]): boolean {
  for (const c of when) if (!holds(given, c)) return false;
  return true;
}

function holds(given: Record<string, unknown>, c: Condition): boolean {
  if ('present' in c) return isPresent(given, c.present);
  if ('count' in c) {
    const n = countOf(given, c.count);
    return n >= c.min && (c.max === undefined || n <= c.max);
  }
  return typeof given[c.equals[0]] === 'string' && given[c.equals[0]] === c.equals[1];
}

function applyExclusions(spec: ModelSpec, given: Record<string, unknown>): ApiError | undefined {
  for (const rule of spec.rules ?? []) {
    if (rule.kind === 'exclusive') {
      // Loops rather than filter/some/destructuring: this runs for every body, and refuses many.
      const fields = rule.fields;
      for (let i = 0; i < fields.length; i++) {
        if (!isPresent(given, fields[i])) continue;
        for (let j = i + 1; j < fields.length; j++) {
          if (isPresent(given, fields[j]) && !allowedPair(rule.allow, fields[i], fields[j])) return exclusiveRefusal(spec, rule, fields[i], fields[j]);
        }
      }
    } else if (rule.kind === 'requires' && isPresent(given, rule.field) && !isPresent(given, rule.requires)) {
      return invalid(rule.code, `${rule.field} can only be used together with ${rule.requires} for ${spec.id}.`, rule.field);
    }
  }
}

function allowedPair(allow: [string, string][] | undefined, a: string, b: string): boolean {
  if (!allow) return false;
  for (const [x, y] of allow) if ((x === a && y === b) || (x === b && y === a)) return true;
  return false;
}

function exclusiveRefusal(spec: ModelSpec, rule: Extract<Rule, { kind: 'exclusive' }>, a: string, b: string): ApiError {
  const ok = rule.allow?.map(([x, y]) => `${x} + ${y}`).join(', ');
  return invalid(
    rule.code,
    `${a} and ${b} cannot be passed together to ${spec.id}: ${rule.fields.join(', ')} are mutually exclusive` +
      (ok ? `; the only allowed combination is ${ok}.` : '.'),
    b,
  );
}

function applyAliases(spec: ModelSpec, given: Record<string, unknown>): ApiError | undefined {
  for (const rule of spec.rules ?? []) {
    if (rule.kind !== 'alias' || given[rule.alias] === undefined) continue;
    if (given[rule.field] !== undefined && given[rule.field] !== given[rule.alias]) {
      return invalid(
        rule.code,
        `${rule.alias} ${show(given[rule.alias])} and ${rule.field} ${show(given[rule.field])} disagree; ${rule.alias} means the same as ${rule.field} for ${spec.id}, so pass one or keep them equal.`,
        rule.alias,
      );
    }
    given[rule.field] = given[rule.alias];
  }
}

function routeMode(spec: ModelSpec, given: Record<string, unknown>): ModeSpec | ApiError {
  for (const mode of spec.modes) if (holdsAll(given, mode.when)) return mode;
  // No mode matches: the only way for the seed models is an image count no mode takes (Omni 2 images).
  const countField = spec.modes.flatMap((m) => m.when).find((c): c is Extract<Condition, { count: string }> => 'count' in c)?.count;
  if (countField !== undefined) {
    return invalid(
      'unsupported_image_count',
      `${spec.id} does not accept ${countOf(given, countField)} ${countField}: ${describeModeCounts(spec, countField)}.`,
      countField,
    );
  }
  return invalid('invalid_request_error', `The request matches none of the modes of ${spec.id}.`, null);
}

/** "0 (text-to-video), 1 (image-to-video) or 3–9 (reference-images-to-video)" */
export function describeModeCounts(spec: ModelSpec, field: string): string {
  const parts = spec.modes.map((m) => {
    const c = m.counts?.[field] ?? countRange(m.when, field);
    return c ? `${c.min === c.max ? c.min : `${c.min}–${c.max}`} (${MODE_NAMES[m.mode]})` : undefined;
  });
  return parts.filter(Boolean).join(', ');
}

function countRange(when: Condition[], field: string): { min: number; max: number } | undefined {
  const c = when.find((x): x is Extract<Condition, { count: string }> => 'count' in x && x.count === field);
  if (c) return { min: c.min, max: c.max ?? Infinity };
  if (when.length === 0) return { min: 0, max: 0 };
  return undefined;
}

function appliesIn(field: FieldSpec, mode: Mode): boolean {
  return !field.modes || field.modes.includes(mode);
}

function checkModeRules(spec: ModelSpec, mode: ModeSpec, given: Record<string, unknown>): ApiError | undefined {
  for (const [name, field] of fieldsOf(spec)) {
    const present = isPresent(given, name) || (given[name] !== undefined && field.type !== 'images');
    if (present && !appliesIn(field, mode.mode) && field.outsideModes === 'error') {
      const where = field.modes!.map((m) => MODE_NAMES[m]).join(' / ');
      return invalid(
        field.outsideModesCode ?? 'unsupported_field_for_mode',
        `${name} is only accepted in ${where} mode by ${spec.id}; this request is ${MODE_NAMES[mode.mode]}, so leave ${name} out.`,
        name,
      );
    }
    const required = field.required === true || (Array.isArray(field.required) && field.required.includes(mode.mode));
    if (required && !isPresent(given, name)) {
      if (field.type === 'images') {
        return invalid('unsupported_image_count', `${name} is required by ${spec.id}: ${describeCount(spec, mode, name)}.`, name);
      }
      return invalid('invalid_request_error', `${name} is required by ${spec.id} in ${MODE_NAMES[mode.mode]} mode.`, name);
    }
    if (field.type === 'images' && given[name] !== undefined) {
      const limits = mode.counts?.[name] ?? { min: field.minItems ?? 0, max: field.maxItems ?? Infinity };
      const n = countOf(given, name);
      if (n < limits.min || n > limits.max) {
        return invalid('unsupported_image_count', `${spec.id} takes ${describeCount(spec, mode, name)}; got ${n}.`, name);
      }
    }
  }
}

function describeCount(spec: ModelSpec, mode: ModeSpec, name: string): string {
  const field = spec.fields[name] as { minItems?: number; maxItems?: number };
  const c = mode.counts?.[name] ?? { min: field.minItems ?? 0, max: field.maxItems ?? Infinity };
  const range = c.min === c.max ? `${c.min}` : c.max === Infinity ? `at least ${c.min}` : `${c.min}–${c.max}`;
  return `${range} ${name} in ${MODE_NAMES[mode.mode]} mode`;
}

function checkCrossRules(spec: ModelSpec, given: Record<string, unknown>): ApiError | undefined {
  for (const rule of spec.rules ?? []) {
    if (rule.kind !== 'valuesWhen') continue;
    const [whenField, whenValue] = rule.when;
    const field = spec.fields[whenField] as EnumField | undefined;
    const actual = given[whenField] ?? field?.default;
    const value = given[rule.field];
    if (actual === whenValue && typeof value === 'string' && !rule.values.includes(value)) {
      return invalid(
        rule.code,
        `${rule.field} ${show(value)} is not available at ${whenField} ${whenValue} for ${spec.id}: use one of ${rule.values.join(', ')}.`,
        rule.field,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------

function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
