/**
 * The catalogue of every error reelay answers with: a stable code, its HTTP status and its `type`.
 *
 * Codes that a seed document names (invalid_duration, mixed_media_not_allowed, ...) carry the same name
 * in `type`, as the contract asks; every other client mistake is typed `invalid_request_error`.
 * Messages are written at the throw site because they must name the model's own allowed values.
 */

interface CatalogueEntry {
  status: number;
  /** `type` of the error body; defaults to the code itself for seed-named codes. */
  type: string;
  /** What the code means, for docs/errors.md and the OpenAPI description. */
  meaning: string;
}

const INVALID = 'invalid_request_error';

function entry(status: number, type: string, meaning: string): CatalogueEntry {
  return { status, type, meaning };
}

export const ERROR_CATALOGUE = {
  // --- named by the seed documents: type = code ---
  // The Omni-Flash-Ext table names it for: body not JSON, model not served, prompt empty; reelay also
  // uses it for any other required field that is missing or empty.
  invalid_request_error: entry(400, INVALID, 'The body is not a JSON object, the model is not served, or a required field is missing or empty.'),
  invalid_duration: entry(400, 'invalid_duration', 'duration is not one the model supports.'),
  invalid_resolution: entry(400, 'invalid_resolution', 'resolution is not one the model supports.'),
  unsupported_image_count: entry(400, 'unsupported_image_count', 'The number of images is not one the model (or its mode) accepts.'),
  mixed_media_not_allowed: entry(400, 'mixed_media_not_allowed', 'Two media inputs that are mutually exclusive were passed together.'),
  audio_setting_only_for_edit: entry(400, 'audio_setting_only_for_edit', 'audio_setting was passed outside video-edit mode.'),
  authentication_error: entry(401, 'authentication_error', 'The bearer token is missing, unknown or revoked.'),
  payment_required: entry(402, 'payment_required', "The key's balance is below the task's price."),
  rate_limit_error: entry(429, 'rate_limit_error', "The key's requests per minute are used up; retry after Retry-After seconds."),

  // --- other client mistakes: type invalid_request_error, a specific code ---
  invalid_type: entry(400, INVALID, 'A field has the wrong JSON type.'),
  invalid_value: entry(400, INVALID, 'A field has a value the model does not accept.'),
  value_out_of_range: entry(400, INVALID, 'A number is outside the range the model accepts.'),
  string_too_long: entry(400, INVALID, 'A text field is longer than the model accepts.'),
  prompt_contains_special_tokens: entry(400, INVALID, 'The prompt contains special tokens such as <|endoftext|>.'),
  unsupported_field_for_mode: entry(400, INVALID, 'A field the model does not accept in the chosen mode was passed.'),
  conflicting_fields: entry(400, INVALID, 'Two fields that must agree were given different values.'),
  missing_dependency: entry(400, INVALID, 'A field was passed without the field it depends on.'),
  invalid_url: entry(400, INVALID, 'A URL field is not an http(s) URL (or a data URI where images allow one).'),
  invalid_image: entry(400, INVALID, 'An image could not be decoded, or breaks the model image rules (format, size, sides, aspect).'),
  invalid_query: entry(400, INVALID, 'A query parameter is malformed.'),
  invalid_cursor: entry(400, INVALID, 'The paging cursor is malformed.'),
  invalid_upload: entry(400, INVALID, 'The multipart upload is malformed or has no file field.'),
  body_too_large: entry(413, INVALID, 'The request body is larger than the gateway accepts.'),
  unsupported_media_type: entry(415, INVALID, 'The request has a content type the endpoint does not take.'),

  // --- access and lookup ---
  permission_denied: entry(403, 'permission_error', 'The key may not use this model or resource.'),
  not_found: entry(404, 'not_found', 'No such resource (or it belongs to another key).'),
  route_not_found: entry(404, 'not_found', 'No such endpoint.'),
  method_not_allowed: entry(405, INVALID, 'The endpoint does not take this method.'),
  conflict: entry(409, 'conflict', 'The request conflicts with the current state of the resource.'),
  idempotency_key_reused: entry(409, 'conflict', 'The Idempotency-Key was used before with a different body.'),
  task_not_cancellable: entry(409, 'conflict', 'The task has already finished.'),
  link_expired: entry(403, 'permission_error', 'The signed URL has expired or its signature does not match.'),
  range_not_satisfiable: entry(416, INVALID, 'The requested byte range lies outside the file.'),

  // --- load and limits ---
  concurrency_limit_exceeded: entry(429, 'rate_limit_error', 'The key has as many unfinished tasks as it may have at once.'),
  queue_full: entry(503, 'overloaded_error', 'The gateway queue for this model is full; retry later.'),
  shutting_down: entry(503, 'overloaded_error', 'The gateway is shutting down.'),

  // --- the gateway's own failures (never a client's mistake) ---
  internal_error: entry(500, 'api_error', 'The gateway failed; the error is logged with the request id.'),
  no_channel: entry(503, 'api_error', 'No upstream channel is configured or healthy for this model.'),
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** An error a client sees: thrown anywhere, rendered by the API's error handler. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, param: string | null = null, headers: Record<string, string> = {}) {
    super(message);
    const e = ERROR_CATALOGUE[code];
    this.code = code;
    this.status = e.status;
    this.type = e.type;
    this.param = param;
    this.headers = headers;
  }

  /**
   * A refusal of a client's request, made without running Error's constructor: these are the client's
   * mistakes, never logged with a stack, and Error's constructor records one even when
   * `Error.stackTraceLimit` is 0 (0.45–0.86 µs against 0.05–0.2 µs for this; docs/decisions/0012-performance.md).
   * Still an ApiError and an Error for `instanceof`; `stack` is absent.
   */
  static refusal(code: ErrorCode, message: string, param: string | null = null, headers: Record<string, string> = {}): ApiError {
    const e = Object.create(ApiError.prototype) as Mutable<ApiError>;
    const entry = ERROR_CATALOGUE[code];
    // Defined as Error's own `message` is: not enumerable, so the object spreads and logs like one.
    Object.defineProperty(e, 'message', { value: message, writable: true, configurable: true });
    e.code = code;
    e.status = entry.status;
    e.type = entry.type;
    e.param = param;
    e.headers = headers;
    return e;
  }

  toBody(): { error: { code: string; type: string; message: string; param: string | null } } {
    return { error: { code: this.code, type: this.type, message: this.message, param: this.param } };
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
