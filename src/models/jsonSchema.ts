/**
 * JSON Schema (draft 2020-12) of a model's request, derived from its spec: served at
 * GET /v1/model-schema and embedded in the OpenAPI document.
 *
 * The schema accepts exactly what validate.ts accepts, with one documented exception: a URL whose shape is
 * right but which the WHATWG URL parser refuses (an invalid host or port, e.g. https://999.999.999.999/).
 * To get there:
 * - enum fields (and `model`) are matched without regard to ASCII case, so each is a `pattern` that accepts
 *   any case, with the document's own spellings kept in `enum` of the first `anyOf` branch for forms and
 *   SDK types;
 * - `null` means "not given" to the validator, so every optional field also takes `null`, and wherever a
 *   rule asks whether a field is present, present means "given and not null" (and, for image lists, not
 *   empty);
 * - text patterns come from patterns.ts, shared with the validator (JSON Schema compiles them with `u`,
 *   so string lengths and patterns count code points on both sides);
 * - mode rules, exclusions, dependencies, value-when rules and aliases of enum fields become `allOf`
 *   conditions.
 */
import type { Condition, FieldSpec, ModelSpec, Rule } from './spec.ts';
import { MODE_NAMES } from './spec.ts';
import { DATA_IMAGE_PATTERN, HTTP_URL_PATTERN, MAX_URL_LENGTH, SPECIAL_TOKEN_PATTERN, asciiCaseInsensitive } from './patterns.ts';

type Schema = Record<string, unknown>;

const HTTP_URL: Schema = { pattern: HTTP_URL_PATTERN, maxLength: MAX_URL_LENGTH };

const IMAGE_REF: Schema = {
  type: 'string',
  description: 'An http(s) image URL, or data:image/<type>;base64,<payload>',
  anyOf: [HTTP_URL, { pattern: DATA_IMAGE_PATTERN }],
};

function caseInsensitivePattern(values: string[]): string {
  return `^(?:${values.map(asciiCaseInsensitive).join('|')})$`;
}

/** The schema of a field's value when it is given (not null). */
export function fieldSchema(field: FieldSpec): Schema {
  const base: Schema = { description: field.description };
  if (field.example !== undefined) base.examples = [field.example];
  switch (field.type) {
    case 'string': {
      const s: Schema = { ...base, type: 'string' };
      if (field.maxLength !== undefined) s.maxLength = field.maxLength;
      // No NUL anywhere (the validator refuses it); with nonEmpty, also at least one non-space character.
      s.pattern = field.nonEmpty ? '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$' : '^[^\\u0000]*$';
      // `type` inside `not`, so that the negation does not also refuse null (patterns ignore non-strings).
      if (field.noSpecialTokens) s.not = { type: 'string', pattern: SPECIAL_TOKEN_PATTERN };
      return s;
    }
    case 'enum':
      return {
        ...base,
        type: 'string',
        anyOf: [{ enum: field.values }, { pattern: caseInsensitivePattern(field.values) }],
        ...(field.default !== undefined ? { default: field.default } : {}),
      };
    case 'integer': {
      const s: Schema = { ...base, type: 'integer' };
      if (field.values) s.enum = field.values;
      if (field.min !== undefined) s.minimum = field.min;
      if (field.max !== undefined) s.maximum = field.max;
      if (field.default !== undefined) s.default = field.default;
      return s;
    }
    case 'boolean': {
      const s: Schema = { ...base, type: 'boolean' };
      if (field.default !== undefined) s.default = field.default;
      if (field.only !== undefined) s.const = field.only;
      return s;
    }
    case 'image':
      return { ...base, ...IMAGE_REF, description: field.description };
    case 'images': {
      const s: Schema = { ...base, type: 'array', items: IMAGE_REF };
      if (field.minItems !== undefined) s.minItems = field.minItems;
      if (field.maxItems !== undefined) s.maxItems = field.maxItems;
      return s;
    }
    case 'video_url':
    case 'audio_url':
      // No `format: "uri"`: RFC 3986 refuses non-ASCII paths that the gateway (and the upstreams) take.
      return { ...base, type: 'string', ...HTTP_URL };
  }
}

/**
 * A field schema that also takes null ("not given"). Every keyword of fieldSchema except `type`, `enum` and
 * `const` ignores null (pattern, anyOf of pattern branches, ranges, lengths, items), so only those change.
 */
function nullable(s: Schema): Schema {
  const out: Schema = { ...s, type: [s.type, 'null'] };
  if (Array.isArray(s.enum)) out.enum = [...s.enum, null];
  if ('const' in s) {
    delete out.const;
    out.enum = [s.const, null];
  }
  return out;
}

/** Matches when the field counts as given: present and not null, and for image lists not empty. */
function present(spec: ModelSpec, name: string): Schema {
  return spec.fields[name]?.type === 'images' ? { type: 'array', minItems: 1 } : { not: { type: 'null' } };
}

function given(spec: ModelSpec, names: string[]): Schema {
  return { required: names, properties: Object.fromEntries(names.map((n) => [n, present(spec, n)])) };
}

/** Matches when enum field `name` has `value` (any case); with `orDefault`, also when absent and that is its default. */
function hasValue(spec: ModelSpec, name: string, value: string, orDefault: boolean): Schema {
  const match: Schema = { required: [name], properties: { [name]: { type: 'string', pattern: caseInsensitivePattern([value]) } } };
  const field = spec.fields[name];
  if (orDefault && field?.type === 'enum' && field.default === value) {
    return { anyOf: [match, { properties: { [name]: { type: 'null' } } }] };
  }
  return match;
}

function ruleSchemas(spec: ModelSpec, rule: Rule): Schema[] {
  switch (rule.kind) {
    case 'exclusive': {
      const out: Schema[] = [];
      for (let i = 0; i < rule.fields.length; i++) {
        for (let j = i + 1; j < rule.fields.length; j++) {
          const [a, b] = [rule.fields[i], rule.fields[j]];
          if (rule.allow?.some(([x, y]) => (x === a && y === b) || (x === b && y === a))) continue;
          out.push({ not: given(spec, [a, b]) });
        }
      }
      return out;
    }
    case 'requires':
      return [{ if: given(spec, [rule.field]), then: given(spec, [rule.requires]) }];
    case 'valuesWhen':
      // The validator applies the `when` field's default before comparing, so an absent field can match.
      return [
        {
          if: hasValue(spec, rule.when[0], rule.when[1], true),
          then: { properties: { [rule.field]: { type: ['string', 'null'], pattern: caseInsensitivePattern(rule.values) } } },
        },
      ];
    case 'alias': {
      // Both given: they must name the same value. Expressible when both are enums: one branch per value.
      const alias = spec.fields[rule.alias];
      const field = spec.fields[rule.field];
      if (alias?.type !== 'enum' || field?.type !== 'enum') return [];
      const shared = alias.values.filter((v) => field.values.includes(v));
      const branches = shared.map((v) => ({
        properties: {
          [rule.alias]: { type: 'string', pattern: caseInsensitivePattern([v]) },
          [rule.field]: { type: 'string', pattern: caseInsensitivePattern([v]) },
        },
      }));
      return [{ if: given(spec, [rule.alias, rule.field]), then: branches.length ? { anyOf: branches } : false }];
    }
  }
}

function conditionSchema(spec: ModelSpec, c: Condition): Schema {
  if ('present' in c) return given(spec, [c.present]);
  if ('count' in c) {
    // Absent, null and [] all count as zero items.
    if (c.min === 0) return c.max === undefined ? {} : { properties: { [c.count]: { type: ['array', 'null'], maxItems: c.max } } };
    return {
      required: [c.count],
      properties: { [c.count]: { type: 'array', minItems: c.min, ...(c.max !== undefined ? { maxItems: c.max } : {}) } },
    };
  }
  return hasValue(spec, c.equals[0], c.equals[1], false);
}

export function modelJsonSchema(spec: ModelSpec): Schema {
  const properties: Schema = {
    model: {
      type: 'string',
      anyOf: [{ const: spec.id }, { pattern: caseInsensitivePattern([spec.id]) }],
      description: 'Model id (matched without regard to case).',
    },
    callback_url: {
      type: 'string',
      format: 'uri',
      pattern: '^https?://',
      description: 'reelay extension: receives a signed POST of the task object on each terminal state.',
    },
  };
  for (const [name, field] of Object.entries(spec.fields)) properties[name] = nullable(fieldSchema(field));

  const allOf: Schema[] = [];
  for (const rule of spec.rules ?? []) allOf.push(...ruleSchemas(spec, rule));

  // Per-mode requirements, counts and fields refused outside their modes.
  for (const [index, m] of spec.modes.entries()) {
    const earlier = spec.modes.slice(0, index);
    if (earlier.some((e) => e.when.length === 0)) continue; // unreachable: an earlier mode always matches
    const fieldRules: Record<string, Schema[]> = {};
    const add = (name: string, s: Schema): void => void (fieldRules[name] ??= []).push(s);
    const required = Object.entries(spec.fields)
      .filter(([, f]) => f.required === true || (Array.isArray(f.required) && f.required.includes(m.mode)))
      .map(([n]) => n);
    for (const n of required) add(n, present(spec, n));
    for (const [field, c] of Object.entries(m.counts ?? {})) add(field, { type: ['array', 'null'], minItems: c.min, maxItems: c.max });
    for (const [n, f] of Object.entries(spec.fields)) {
      if (f.modes && !f.modes.includes(m.mode) && f.outsideModes === 'error') add(n, { type: 'null' });
    }
    if (Object.keys(fieldRules).length === 0) continue;
    const then: Schema = {
      ...(required.length ? { required } : {}),
      properties: Object.fromEntries(Object.entries(fieldRules).map(([n, list]) => [n, list.length === 1 ? list[0] : { allOf: list }])),
    };
    // "Earlier modes did not match" is needed for priority routing; JSON Schema expresses it with `not`.
    const conds = [
      ...m.when.map((c) => conditionSchema(spec, c)),
      ...earlier.map((e) => ({ not: { allOf: e.when.map((c) => conditionSchema(spec, c)) } })),
    ];
    const description = `${MODE_NAMES[m.mode]}: ${m.description}`;
    allOf.push(conds.length ? { if: { allOf: conds }, then, description } : { ...then, description });
  }
  // A request that matches no mode (Omni with 2 images) is refused: every branch of `anyOf` is a mode.
  if (spec.modes.every((m) => m.when.length > 0)) {
    allOf.push({ anyOf: spec.modes.map((m) => ({ allOf: m.when.map((c) => conditionSchema(spec, c)) })) });
  }

  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `reelay:model:${spec.id}`,
    title: `${spec.id} video generation request`,
    description: spec.description,
    type: 'object',
    required: ['model'],
    properties,
    ...(allOf.length ? { allOf } : {}),
    'x-reelay-modes': spec.modes.map((m) => ({ mode: m.mode, name: MODE_NAMES[m.mode], description: m.description })),
  };
}
