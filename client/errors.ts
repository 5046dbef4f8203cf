/**
 * The SDK's errors: one base class and one subclass per HTTP status, so callers can `catch` by kind
 * (`err instanceof RateLimitError`) instead of comparing numbers. The fields mirror the gateway's error
 * body `{"error": {"code", "type", "message", "param"}}` plus the `x-request-id` header, which is what an
 * operator needs to find the request in the gateway's logs.
 */

export interface ErrorBody {
  code?: string;
  type?: string;
  message?: string;
  param?: string | null;
}

export class ReelayError extends Error {
  override name = 'ReelayError';
  /** HTTP status; undefined for errors that never got an answer (connection, timeout, waiting). */
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly type: string | undefined;
  readonly param: string | undefined;
  readonly requestId: string | undefined;
  /** Response headers of the failed request, when there was one. */
  readonly headers: Headers | undefined;

  constructor(
    message: string,
    init: { status?: number; body?: ErrorBody; requestId?: string; headers?: Headers; cause?: unknown } = {},
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.body?.code ?? undefined;
    this.type = init.body?.type ?? undefined;
    this.param = init.body?.param ?? undefined;
    this.requestId = init.requestId;
    this.headers = init.headers;
  }
}

/** Any answer with a status outside 2xx. */
export class APIError extends ReelayError {
  override name = 'APIError';
}
export class BadRequestError extends APIError {
  override name = 'BadRequestError';
}
export class AuthenticationError extends APIError {
  override name = 'AuthenticationError';
}
export class PaymentRequiredError extends APIError {
  override name = 'PaymentRequiredError';
}
export class PermissionDeniedError extends APIError {
  override name = 'PermissionDeniedError';
}
export class NotFoundError extends APIError {
  override name = 'NotFoundError';
}
export class ConflictError extends APIError {
  override name = 'ConflictError';
}
export class PayloadTooLargeError extends APIError {
  override name = 'PayloadTooLargeError';
}
export class RateLimitError extends APIError {
  override name = 'RateLimitError';
}
export class InternalServerError extends APIError {
  override name = 'InternalServerError';
}

/** The request never got an answer: refused, reset, DNS, TLS. */
export class ConnectionError extends ReelayError {
  override name = 'ConnectionError';
}
/** The request got no answer within `timeoutMs`. */
export class TimeoutError extends ConnectionError {
  override name = 'TimeoutError';
}

/** waitFor / createAndWait gave up before the task finished; the task itself goes on. */
export class WaitTimeoutError extends ReelayError {
  override name = 'WaitTimeoutError';
  constructor(
    readonly taskId: string,
    readonly lastStatus: string | undefined,
    timeoutMs: number,
  ) {
    super(`task ${taskId} did not finish within ${timeoutMs} ms (last status: ${lastStatus ?? 'unknown'})`);
  }
}

type ApiErrorClass = new (message: string, init: ConstructorParameters<typeof ReelayError>[1]) => APIError;

const BY_STATUS: Record<number, ApiErrorClass> = {
  400: BadRequestError,
  401: AuthenticationError,
  402: PaymentRequiredError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  429: RateLimitError,
};

/** Builds the error for a non-2xx answer from its status, parsed body (if JSON) and headers. */
export function errorFromResponse(status: number, payload: unknown, headers: Headers): APIError {
  const body = extractErrorBody(payload);
  const requestId = headers.get('x-request-id') ?? undefined;
  const text = typeof payload === 'string' && payload.trim() !== '' ? payload.trim().slice(0, 500) : undefined;
  const message = body?.message ?? text ?? `HTTP ${status}`;
  const Cls = BY_STATUS[status] ?? (status >= 500 ? InternalServerError : APIError);
  return new Cls(message, { status, body, requestId, headers });
}

function extractErrorBody(payload: unknown): ErrorBody | undefined {
  if (payload === null || typeof payload !== 'object') return undefined;
  const inner = (payload as { error?: unknown }).error;
  if (inner === null || typeof inner !== 'object') return undefined;
  const e = inner as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { code: str(e.code), type: str(e.type), message: str(e.message), param: str(e.param) };
}
