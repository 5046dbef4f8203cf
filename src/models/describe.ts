/**
 * A model as GET /v1/models shows it: its modes and every option with type, default and allowed values —
 * enough for a client (or the console) to build a form. Derived from the spec.
 */
import { MODE_NAMES, type FieldSpec, type ModelSpec } from './spec.ts';

export interface FieldDescription {
  type: string;
  description: string;
  required: boolean | string[];
  default?: unknown;
  values?: (string | number)[];
  minimum?: number;
  maximum?: number;
  max_length?: number;
  only?: boolean;
  modes?: string[];
  labels?: Record<string, string>;
}

export function describeField(f: FieldSpec): FieldDescription {
  const d: FieldDescription = { type: f.type, description: f.description, required: f.required ?? false };
  if (f.modes) d.modes = f.modes;
  switch (f.type) {
    case 'enum':
      d.values = f.values;
      if (f.default !== undefined) d.default = f.default;
      if (f.labels) d.labels = f.labels;
      break;
    case 'integer':
      if (f.values) d.values = f.values;
      if (f.min !== undefined) d.minimum = f.min;
      if (f.max !== undefined) d.maximum = f.max;
      if (f.default !== undefined) d.default = f.default;
      break;
    case 'boolean':
      if (f.default !== undefined) d.default = f.default;
      if (f.only !== undefined) d.only = f.only;
      break;
    case 'string':
      if (f.maxLength !== undefined) d.max_length = f.maxLength;
      break;
    case 'images':
      if (f.maxItems !== undefined) d.maximum = f.maxItems;
      if (f.minItems !== undefined) d.minimum = f.minItems;
      break;
  }
  return d;
}

export function describeModel(spec: ModelSpec) {
  return {
    id: spec.id,
    object: 'model',
    family: spec.family,
    description: spec.description,
    modes: spec.modes.map((m) => ({ mode: m.mode, name: MODE_NAMES[m.mode], description: m.description, image_counts: m.counts ?? undefined })),
    fields: Object.fromEntries(Object.entries(spec.fields).map(([name, f]) => [name, describeField(f)])),
    output: { fps: spec.output.fps, audio: spec.output.audio === true ? 'always' : spec.output.audio === false ? 'never' : `when ${spec.output.audio.field}` },
    estimated_time: spec.estimatedSeconds,
    max_run_seconds: spec.maxRunSeconds,
  };
}
