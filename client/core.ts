/**
 * The HTTP core every resource goes through: base URL, bearer auth, per-request timeout, and retries with
 * jittered exponential backoff that honour `Retry-After` (the openai-node policy).
 *
 * What is retried: connection failures, timeouts, 408, 429 and 5xx. Unlike openai-node, 409 is NOT
 * retried: in reelay a 409 always means a settled conflict (an Idempotency-Key reused with another body,
 * or cancelling a finished task), so a retry would only get the same answer. A server can override the
 * decision either way with `x-should-retry: true|false`.
 */
import { ConnectionError, ReelayError, TimeoutError, errorFromResponse } from './errors.ts';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** Gateway root, e.g. http://127.0.0.1:8080 (a trailing /v1 is tolerated and dropped). */
  baseUrl: string;
  apiKey: string;
  /** Retries after the first attempt; default 2. */
  maxRetries?: number;
  /** Per attempt, including reading the answer; default 60 000 ms. */
  timeoutMs?: number;
  fetch?: FetchLike;
}

export interface RequestOptions {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | undefined>;
  /** A plain value is sent as JSON; FormData as multipart (fetch sets the boundary). */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  maxRetries?: number;
  timeoutMs?: number;
}

export interface ApiResponse<T> {
  body: T;
  status: number;
  headers: Headers;
}

const INITIAL_RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 8_000;
/** A Retry-After longer than this is not waited for as such; the usual backoff applies instead. */
const MAX_HONOURED_RETRY_AFTER_MS = 60_000;

export class HttpCore {
  readonly baseUrl: string;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  readonly fetch: FetchLike;
  readonly #apiKey: string;

  constructor(opts: ClientOptions) {
    if (!opts.baseUrl) throw new ReelayError('baseUrl is required');
    if (!opts.apiKey) throw new ReelayError('apiKey is required');
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.#apiKey = opts.apiKey;
    this.maxRetries = opts.maxRetries ?? 2;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  url(path: string, query?: RequestOptions['query']): string {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  async request<T>(opts: RequestOptions): Promise<ApiResponse<T>> {
    const maxRetries = opts.maxRetries ?? this.maxRetries;
    const url = this.url(opts.path, opts.query);
    for (let attempt = 0; ; attempt++) {
      const retriesLeft = maxRetries - attempt;
      let outcome: ApiResponse<T> | { error: ReelayError; retryable: boolean; retryAfterMs?: number };
      try {
        outcome = await this.#attempt<T>(url, opts);
      } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        throw err;
      }
      if (!('error' in outcome)) return outcome;
      if (!outcome.retryable || retriesLeft <= 0) throw outcome.error;
      await sleep(outcome.retryAfterMs ?? backoffMs(attempt), opts.signal);
    }
  }

  /** One try; failures come back as values so the loop above decides about retrying. */
  async #attempt<T>(
    url: string,
    opts: RequestOptions,
  ): Promise<ApiResponse<T> | { error: ReelayError; retryable: boolean; retryAfterMs?: number }> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#apiKey}`,
      accept: 'application/json',
      ...opts.headers,
    };
    let body: RequestInit['body'];
    if (opts.body instanceof FormData) body = opts.body;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    try {
      const res = await this.fetch(url, { method: opts.method, headers, body, signal });
      const text = await res.text();
      const payload = parseJson(text);
      if (res.ok) {
        if (payload === undefined && text.trim() !== '') {
          return { error: new ReelayError(`${opts.method} ${opts.path}: answer is not JSON`, { status: res.status }), retryable: false };
        }
        return { body: payload as T, status: res.status, headers: res.headers };
      }
      return {
        error: errorFromResponse(res.status, payload ?? text, res.headers),
        retryable: shouldRetry(res),
        retryAfterMs: retryAfterMs(res.headers),
      };
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const error = timeout.signal.aborted
        ? new TimeoutError(`${opts.method} ${opts.path} timed out after ${timeoutMs} ms`, { cause: err })
        : new ConnectionError(`${opts.method} ${opts.path}: ${describe(err)}`, { cause: err });
      return { error, retryable: true };
    } finally {
      clearTimeout(timer);
    }
  }
}

function shouldRetry(res: Response): boolean {
  const explicit = res.headers.get('x-should-retry');
  if (explicit === 'true') return true;
  if (explicit === 'false') return false;
  return res.status === 408 || res.status === 429 || res.status >= 500;
}

/** `retry-after-ms`, then `Retry-After` as seconds or an HTTP date; undefined when absent or unreasonable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  let ms: number | undefined;
  const msHeader = headers.get('retry-after-ms');
  const header = headers.get('retry-after');
  if (msHeader !== null && msHeader.trim() !== '' && Number.isFinite(Number(msHeader))) ms = Number(msHeader);
  else if (header !== null && header.trim() !== '') {
    const seconds = Number(header);
    ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  }
  if (ms === undefined || Number.isNaN(ms) || ms < 0 || ms > MAX_HONOURED_RETRY_AFTER_MS) return undefined;
  return ms;
}

/** 0.5 s, 1 s, 2 s ... capped at 8 s, each shortened by up to 25 % so clients retrying together spread out. */
export function backoffMs(attempt: number): number {
  const base = Math.min(INITIAL_RETRY_DELAY_MS * 2 ** attempt, MAX_RETRY_DELAY_MS);
  return base * (1 - Math.random() * 0.25);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return err.message + cause;
  }
  return String(err);
}

/** The APIMart envelope `{"code": 200, "data": X}` → X; anything else is returned as it is. */
export function unwrap<T>(payload: unknown): T {
  if (payload !== null && typeof payload === 'object' && 'data' in payload && 'code' in payload) {
    return (payload as { data: T }).data;
  }
  return payload as T;
}
