/**
 * The one generic mapper that turns a validated APIMart request into a DashScope body, driven by the
 * declarative per-model tables in dashscopeMapping.ts (Portkey's shape: a table per upstream model, one
 * walker, no per-model ifs). A parameter that no table entry consumes and none lists as ignored is an
 * error, so a field added to a model family can never be dropped on the way upstream unnoticed.
 */
import type { DashscopeRegion } from './dashscopeRegions.ts';

export type Params = Record<string, unknown>;

/** Where one APIMart field lands in the DashScope body, and how its value is rewritten. */
export interface FieldMapping {
  /** APIMart parameter name (canonical, as the validator emits it). */
  from: string;
  to: 'input' | 'parameters';
  /** Upstream key; defaults to `from`. */
  as?: string;
  /** Rewrites the value; receives all parameters for values that depend on another (size from resolution). */
  transform?: (value: unknown, params: Params) => unknown;
}

/** An APIMart media field (one URL or a list) sent as `input.media` entries of one type, in order. */
export interface MediaMapping {
  from: string;
  type: string;
}

/** How one model in one mode is sent: the upstream model and the field table. */
export interface UpstreamMapping {
  /**
   * Upstream model id = family + modeSuffix. A channel's model_map names another family
   * (happyhorse-1.0 → happyhorse-1.1 gives happyhorse-1.1-t2v), or a full id that already ends with the suffix.
   */
  family: string;
  modeSuffix: string;
  fields: FieldMapping[];
  /** Media entries in the order DashScope reads them ("[Image 1]" in prompts follows this order). */
  media?: MediaMapping[];
  /** APIMart parameters deliberately not sent, each with the reason. */
  ignored?: Record<string, string>;
  /** Regions that host the upstream model; absent = every region. */
  regions?: DashscopeRegion[];
  /** Where the field table comes from. */
  source: string;
}

export interface DashscopeBody {
  model: string;
  input: Params;
  parameters: Params;
}

/** Thrown when a request cannot be expressed in the upstream's protocol (a bug or a table gap, not a client error). */
export class UnmappableRequestError extends Error {
  override readonly name = 'UnmappableRequestError';
}

export function upstreamModelId(mapping: UpstreamMapping, familyOverride?: string): string {
  const family = familyOverride?.trim() || mapping.family;
  return family.endsWith(mapping.modeSuffix) ? family : `${family}${mapping.modeSuffix}`;
}

export function buildBody(mapping: UpstreamMapping, params: Params, familyOverride?: string): DashscopeBody {
  const body: DashscopeBody = { model: upstreamModelId(mapping, familyOverride), input: {}, parameters: {} };
  const consumed = new Set<string>(Object.keys(mapping.ignored ?? {}));
  for (const f of mapping.fields) {
    consumed.add(f.from);
    const value = params[f.from];
    if (value === undefined) continue;
    body[f.to][f.as ?? f.from] = f.transform ? f.transform(value, params) : value;
  }
  const media: { type: string; url: string }[] = [];
  for (const m of mapping.media ?? []) {
    consumed.add(m.from);
    const value = params[m.from];
    if (value === undefined) continue;
    for (const url of Array.isArray(value) ? value : [value]) media.push({ type: m.type, url: String(url) });
  }
  if (media.length > 0) body.input.media = media;
  const unmapped = Object.keys(params).filter((k) => !consumed.has(k));
  if (unmapped.length > 0) {
    throw new UnmappableRequestError(`${body.model} has no DashScope mapping for ${unmapped.join(', ')}`);
  }
  return body;
}

// ---------------------------------------------------------------------------------------------------
// Value transforms used by the tables.

/** "720p" → "720P": DashScope spells resolution tiers in capitals. */
export const upperCase = (value: unknown): string => String(value).toUpperCase();

/** The first item of a list field: wan2.5 takes one image as `img_url`, APIMart sends `image_urls: [x]`. */
export const firstItem = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value);

/**
 * An aspect ratio turned into DashScope's "W*H" size through a table by resolution tier. The table keys
 * are the resolution values as APIMart spells them; a missing pair is a table gap, reported by name.
 */
export function pixelSize(table: Record<string, Record<string, readonly [number, number]>>, resolutionField: string) {
  return (aspect: unknown, params: Params): string => {
    const resolution = String(params[resolutionField]);
    const size = table[resolution]?.[String(aspect)];
    if (!size) throw new UnmappableRequestError(`no DashScope size for ${resolutionField} ${resolution} at aspect ${String(aspect)}`);
    return `${size[0]}*${size[1]}`;
  };
}
