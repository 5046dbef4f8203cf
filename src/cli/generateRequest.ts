/**
 * Turns `reelay generate` flags into a request body, using the model's declarative spec so the CLI
 * knows each field's type (`--param duration=8` sends the number 8) and where images go, without a
 * second copy of any model rule. Value checks (ranges, enum values, mode rules) stay with the gateway,
 * which reports them with the model's own allowed values.
 */
import type { FieldSpec, ModelSpec } from '../models/spec.ts';

/** A mistake in the command line itself; reported without contacting the gateway. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ParsedParam {
  key: string;
  value: unknown;
  /** Set for image fields: the value is a file or URL still to be resolved to a URL. */
  image?: 'image' | 'images';
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** Parses one `--param key=value` by the type the model's spec gives the field. */
export function parseParam(spec: ModelSpec | undefined, raw: string): ParsedParam {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new UsageError(`--param ${raw}: expected key=value`);
  const key = raw.slice(0, eq).trim();
  const text = raw.slice(eq + 1);
  if (key === 'model') throw new UsageError('--param model: use --model');
  // A model this CLI does not know (a newer gateway): guess the JSON type, the gateway will check it.
  if (!spec) return { key, value: guessValue(text) };
  const field = spec.fields[key];
  if (!field) {
    throw new UsageError(`--param ${key}: ${spec.id} has no field "${key}"; its fields: ${Object.keys(spec.fields).join(', ')}`);
  }
  return { key, ...parseByField(key, field, text) };
}

function parseByField(key: string, field: FieldSpec, text: string): Omit<ParsedParam, 'key'> {
  switch (field.type) {
    case 'integer':
      if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`--param ${key}: expected an integer, got "${text}"`);
      return { value: Number(text.trim()) };
    case 'boolean': {
      const lower = text.trim().toLowerCase();
      if (TRUE.has(lower)) return { value: true };
      if (FALSE.has(lower)) return { value: false };
      throw new UsageError(`--param ${key}: expected true or false, got "${text}"`);
    }
    case 'image':
    case 'images':
      return { value: text, image: field.type };
    default:
      return { value: text };
  }
}

function guessValue(text: string): unknown {
  if (/^-?\d+$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}

/**
 * Where `--image` inputs go, in the spec's field order:
 * - with a source video, with images given for the list field by `--param`, or with more images
 *   than the model has single-image fields: all into its image list field (happyhorse reference/style images, wan2.5, Omni-Flash-Ext, viduq3 image_urls);
 * - otherwise one per single-image field (happyhorse/veo: first → first_frame_image, veo: second →
 *   last_frame_image).
 * A model the CLI does not know gets `image_urls`, the field every APIMart video model shares.
 */
export function mapImages(spec: ModelSpec | undefined, urls: string[], preferList: boolean): Record<string, string | string[]> {
  if (urls.length === 0) return {};
  if (!spec) return { image_urls: urls };
  const fields = Object.entries(spec.fields);
  const single = fields.filter(([, f]) => f.type === 'image').map(([name]) => name);
  const list = fields.find(([, f]) => f.type === 'images')?.[0];
  if (list && (preferList || urls.length > single.length)) return { [list]: urls };
  if (urls.length <= single.length) return Object.fromEntries(urls.map((url, i) => [single[i]!, url]));
  if (single.length === 0) throw new UsageError(`${spec.id} takes no image input`);
  throw new UsageError(`${spec.id} takes at most ${single.length} image(s): ${single.join(', ')}`);
}

/** The model's source-video field (happyhorse video_url), for `--video`. */
export function videoField(spec: ModelSpec | undefined): string {
  if (!spec) return 'video_url';
  const name = Object.entries(spec.fields).find(([, f]) => f.type === 'video_url')?.[0];
  if (!name) throw new UsageError(`${spec.id} takes no source video`);
  return name;
}

/** `out.mp4` stays as it is for one video; several become `out-1.mp4`, `out-2.mp4`, ... */
export function outputPaths(out: string, count: number): string[] {
  if (count === 1) return [out];
  const dot = out.lastIndexOf('.');
  const slash = Math.max(out.lastIndexOf('/'), out.lastIndexOf('\\'));
  const [stem, ext] = dot > slash + 1 ? [out.slice(0, dot), out.slice(dot)] : [out, ''];
  return Array.from({ length: count }, (_, i) => `${stem}-${i + 1}${ext}`);
}

/** Whether an image argument is already something the gateway takes as it is. */
export function isRemoteImage(value: string): boolean {
  return /^https?:\/\//i.test(value) || /^data:image\//i.test(value);
}
