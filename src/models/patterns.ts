/**
 * Text patterns shared by the validator (validate.ts) and the JSON Schema (jsonSchema.ts).
 *
 * They are kept as pattern *sources* and always compiled with the `u` flag, because that is how JSON Schema
 * validators (Ajv included) compile `pattern`: one source and one flag set mean the published schema and
 * the gateway accept exactly the same strings. No `i` flag either: JSON Schema has no flags, so case
 * folding is spelt out with character classes (`[hH][tT]...`).
 */

/** Matches `value` in any ASCII case, and nothing else (the Kelvin sign is not a `k`). */
export function asciiCaseInsensitive(value: string): string {
  return [...value]
    .map((ch) => (/[A-Za-z]/.test(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
}

const HAS_UPPER = /[A-Z]/;
const UPPER = /[A-Z]/g;
/** Lower-cases A–Z only: how enum values and model ids are compared (String#toLowerCase maps U+212A to k). */
export function asciiLower(s: string): string {
  // Most values are already lower case: testing first spares the replace and its callback.
  return HAS_UPPER.test(s) ? s.replace(UPPER, (c) => c.toLowerCase()) : s;
}

/** Special tokens of the chat-template kind (<|endoftext|>, <|im_start|>); happyhorse refuses them. */
export const SPECIAL_TOKEN_PATTERN = '<\\|[^<>|\\s]{1,64}\\|>';

/**
 * An http(s) URL as reelay accepts it: the scheme in any case, `//`, a non-empty authority, then an optional
 * path/query/fragment; no whitespace, control characters or backslashes anywhere (WHATWG URL parsing would
 * silently strip or rewrite them, and the raw string is what goes upstream). The validator additionally
 * requires that the WHATWG URL parser accepts it (valid host and port) — the one part JSON Schema cannot say.
 */
export const HTTP_URL_PATTERN = '^[hH][tT][tT][pP][sS]?://[^\\s\\x00-\\x1f\\x7f/?#\\\\]+(?:[/?#][^\\s\\x00-\\x1f\\x7f\\\\]*)?$';

/** Longest http(s) URL accepted (data URIs are bounded by the body limit instead). */
export const MAX_URL_LENGTH = 8192;

/**
 * Any data URI: decides whether a value is judged as a data URI or as a URL. The scheme is matched in lower
 * case only, because media/inlineImages.ts picks the values it decodes with startsWith('data:'): a
 * `DATA:` value let through here would go upstream undecoded.
 */
export const DATA_URI_PREFIX_PATTERN = '^data:';

/**
 * An inline image: data:image/<type>;base64,<payload> (media type and `base64` in any case, as
 * media/images.ts decodes them). Only the form is checked here; the payload is decoded and checked against
 * the model's image rules later (media), so the seed's abbreviated "iVBORw0KGgo..." passes.
 */
export const DATA_IMAGE_PATTERN = `^data:${asciiCaseInsensitive('image/')}[A-Za-z0-9.+-]+;${asciiCaseInsensitive('base64,')}`;
