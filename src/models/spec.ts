/**
 * The shape of a declarative model spec.
 *
 * One file in ./families/ per model family fills this in from its seed document. Everything else about a
 * model (validation, defaults, mode routing, output size, billed seconds, JSON Schema, OpenAPI, SDK
 * types, console forms, GET /v1/models) is derived from it by the interpreters in this folder, so a rule
 * is written exactly once.
 */
import type { ErrorCode } from '../errors.ts';

/** The generation modes of the seed documents. FLF = first frame + last frame. */
export type Mode = 'T2V' | 'I2V' | 'R2V' | 'EDIT' | 'FLF';

export const MODE_NAMES: Record<Mode, string> = {
  T2V: 'text-to-video',
  I2V: 'image-to-video',
  R2V: 'reference-images-to-video',
  EDIT: 'video edit',
  FLF: 'first-and-last-frame-to-video',
};

/** Image formats by their canonical name, as image probing reports them. */
export type ImageFormat = 'jpeg' | 'png' | 'bmp' | 'webp' | 'gif';

/** Rules an input image must meet (base64 at submit; fetched URLs before going upstream). */
export interface ImageRules {
  formats: ImageFormat[];
  maxBytes: number;
  /** Smallest allowed short side, px. */
  minShortSide?: number;
  /** Largest allowed long side, px. */
  maxLongSide?: number;
  /** Smallest allowed short/long ratio (e.g. 1:2.5 → 0.4). */
  minAspect?: number;
  /** Where the rule comes from, when not from the seed document itself. */
  source?: string;
}

/** Rules a source video must meet (EDIT mode), checked when the video can be fetched and probed. */
export interface VideoRules {
  formats: ('mp4' | 'mov')[];
  maxBytes: number;
  minSeconds: number;
  maxSeconds: number;
  minShortSide: number;
  /** Smallest allowed short/long ratio (1:8 → 0.125). */
  minAspect: number;
  /** Frame rate must be above this. */
  minFpsExclusive: number;
  /** Seconds the upstream keeps; longer sources are truncated to this. */
  truncateToSeconds: number;
}

interface FieldBase {
  description: string;
  /**
   * Modes in which the field has an effect. Outside them the field is dropped from the request
   * (`outsideModes: 'ignore'`, the default) or refused (`'error'`, with `outsideModesCode`).
   */
  modes?: Mode[];
  outsideModes?: 'ignore' | 'error';
  outsideModesCode?: ErrorCode;
  /** Required in every mode (true) or in the listed modes. */
  required?: boolean | Mode[];
  /** Shown in the JSON Schema and docs; example values from the seed. */
  example?: unknown;
}

export interface StringField extends FieldBase {
  type: 'string';
  maxLength?: number;
  /** Refuse an empty or all-whitespace string. */
  nonEmpty?: boolean;
  /** Refuse special tokens such as <|endoftext|> (happyhorse). */
  noSpecialTokens?: boolean;
}

export interface EnumField extends FieldBase {
  type: 'enum';
  /** Allowed values in the document's own spelling; matched without regard to case. */
  values: string[];
  default?: string;
  /** Error code for a value outside `values` (default invalid_value). */
  code?: ErrorCode;
  /** Per-value notes for docs and forms. */
  labels?: Record<string, string>;
}

export interface IntegerField extends FieldBase {
  type: 'integer';
  min?: number;
  max?: number;
  /** A discrete set instead of (or within) a range. */
  values?: number[];
  default?: number;
  /** Error code for a value outside the range or set (default value_out_of_range / invalid_value). */
  code?: ErrorCode;
}

export interface BooleanField extends FieldBase {
  type: 'boolean';
  default?: boolean;
  /** The only value the model accepts (wan2.5 audio, veo enhance_prompt). */
  only?: boolean;
}

/** One image: an http(s) URL or a data:image/...;base64 URI. */
export interface ImageField extends FieldBase {
  type: 'image';
  rules: ImageRules;
}

/** An array of images; counts are set per mode (see ModeSpec.counts) or by `minItems`/`maxItems`. */
export interface ImageListField extends FieldBase {
  type: 'images';
  rules: ImageRules;
  minItems?: number;
  maxItems?: number;
}

/** A media URL (video or audio): http(s) only, no base64. */
export interface MediaUrlField extends FieldBase {
  type: 'video_url' | 'audio_url';
  /** Source video rules (video_url). */
  video?: VideoRules;
  /** Audio rules, as documented; checked when the file can be fetched and probed. */
  audio?: { formats: string[]; minSeconds: number; maxSeconds: number; maxBytes: number };
}

export type FieldSpec = StringField | EnumField | IntegerField | BooleanField | ImageField | ImageListField | MediaUrlField;

/** A condition on the request used by mode routing and rules. */
export type Condition =
  | { present: string }
  | { count: string; min: number; max?: number }
  | { equals: [field: string, value: string] };

/** A mode and when the request routes to it. Modes are tried in order; the first that matches wins. */
export interface ModeSpec {
  mode: Mode;
  /** All conditions must hold. An empty list always matches (put it last). */
  when: Condition[];
  description: string;
  /** Allowed number of items of an image-list field in this mode. */
  counts?: Record<string, { min: number; max: number }>;
}

/** Cross-field rules, each with the error it raises. */
export type Rule =
  /** At most one of `fields` may be present, except the pairs in `allow`. */
  | { kind: 'exclusive'; fields: string[]; allow?: [string, string][]; code: ErrorCode }
  /** `field` may only be passed together with `requires`. */
  | { kind: 'requires'; field: string; requires: string; code: ErrorCode }
  /** When `when` holds, `field` may only take `values`. */
  | { kind: 'valuesWhen'; field: string; when: [field: string, value: string]; values: string[]; code: ErrorCode }
  /** `alias` means the same as `field`; if both are passed they must agree. */
  | { kind: 'alias'; alias: string; field: string; code: ErrorCode };

/** How the output's width × height follows from the request. */
export type Sizing =
  /** Short side = the resolution's number (720p → 720, 4K → 2160); long side from the aspect ratio. */
  | { kind: 'shortSide'; resolutionField: string; shortSide: Record<string, number> }
  /** An explicit table per resolution and aspect ratio (wan2.5); other aspects keep the table's area. */
  | { kind: 'table'; resolutionField: string; table: Record<string, Record<string, [number, number]>> };

export interface OutputSpec {
  sizing: Sizing;
  /** The field holding the requested aspect ratio, and its value when absent. */
  aspectField?: string;
  defaultAspect: string;
  /** Modes whose output aspect follows the input media (first image or source video). */
  aspectFromInput?: Mode[];
  fps: number;
  /** Whether the video has an audio track: always, never, or as a boolean field says. */
  audio: boolean | { field: string };
  /** Videos per request: a constant or an integer field (veo sample_count). */
  count: number | { field: string };
  /** Where the length comes from: the integer field, or in EDIT the source video (capped). */
  secondsField: string;
  /** In EDIT mode the length is the source's, capped at this many seconds. */
  editCapSeconds?: number;
  /** Where the output facts come from when not from the seed (frame rate etc.). */
  source?: string;
}

export interface ModelVariant {
  description: string;
  /** Per-model overrides of the family's fields (merged shallowly into each field). */
  fields?: Record<string, Partial<FieldSpec>>;
  estimatedSeconds?: number;
}

/** What a family file exports. */
export interface FamilySpec {
  family: string;
  /** The seed document, relative to the shared seeds folder. */
  seed: string;
  /** Model ids this family serves, with their differences. */
  models: Record<string, ModelVariant>;
  /** Request fields in the document's order (the order errors are reported in). */
  fields: Record<string, FieldSpec>;
  modes: ModeSpec[];
  rules?: Rule[];
  output: OutputSpec;
  /** Typical upstream processing time, seconds (estimated_time before the upstream says more). */
  estimatedSeconds: number;
  /** A task still unfinished after this many seconds fails with upstream_timeout. */
  maxRunSeconds: number;
  /** The seed's own use cases, verbatim: each must be accepted. */
  examples: { title: string; body: Record<string, unknown> }[];
}

/** A family expanded for one model id: what the interpreters work on. */
export interface ModelSpec extends Omit<FamilySpec, 'models' | 'examples'> {
  id: string;
  description: string;
  examples: { title: string; body: Record<string, unknown> }[];
}
