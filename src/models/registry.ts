/**
 * The served models: every family file expanded into one ModelSpec per model id.
 * Adding a model is adding a family file and listing it here.
 */
import type { FamilySpec, FieldSpec, ModelSpec } from './spec.ts';
import { happyhorse } from './families/happyhorse.ts';
import { wan25 } from './families/wan25.ts';
import { omniFlashExt } from './families/omniFlashExt.ts';
import { viduq3 } from './families/viduq3.ts';
import { veo31 } from './families/veo31.ts';
import { asciiLower } from './patterns.ts';

export const FAMILIES: readonly FamilySpec[] = [happyhorse, wan25, omniFlashExt, viduq3, veo31];

export function expandFamily(family: FamilySpec): ModelSpec[] {
  return Object.entries(family.models).map(([id, variant]) => {
    const fields: Record<string, FieldSpec> = {};
    for (const [name, field] of Object.entries(family.fields)) {
      const override = variant.fields?.[name];
      fields[name] = override ? ({ ...field, ...override } as FieldSpec) : field;
    }
    const { models: _models, ...rest } = family;
    return {
      ...rest,
      id,
      description: variant.description,
      estimatedSeconds: variant.estimatedSeconds ?? family.estimatedSeconds,
      fields,
      examples: family.examples.filter((e) => e.body.model === id),
    };
  });
}

const MODELS: ReadonlyMap<string, ModelSpec> = new Map(FAMILIES.flatMap(expandFamily).map((m) => [m.id, m]));
const BY_LOWER: ReadonlyMap<string, ModelSpec> = new Map([...MODELS.values()].map((m) => [asciiLower(m.id), m]));

export function listModels(): ModelSpec[] {
  return [...MODELS.values()];
}

/**
 * Looks a model up by id; ids are matched without regard to (ASCII) case, like enum values and like the
 * JSON Schema's pattern for `model`.
 */
export function findModel(id: string): ModelSpec | undefined {
  return MODELS.get(id) ?? BY_LOWER.get(asciiLower(id));
}

export function modelIds(): string[] {
  return [...MODELS.keys()];
}
