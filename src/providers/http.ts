/**
 * JSON calls to an upstream API, shared by every adapter: timeouts, network errors and HTTP errors become
 * ProviderErrors classed as retryable or not (408, 425, 429 and 5xx are retryable; 429 also slows the
 * channel, honouring Retry-After), with the upstream's own message kept.
 */
import type { z } from 'zod';
import type { SafeFetch } from '../media/safeFetch.ts';
import { ProviderError } from './types.ts';

export interface JsonCall {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  url: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Whole call, headers and body, ms (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface JsonReply {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON, or undefined when the body is not JSON. */
  json: unknown;
  text: string;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Performs the call; only network failures and timeouts throw here (as retryable ProviderErrors). */
export async function callJson(fetch: SafeFetch, provider: string, call: JsonCall): Promise<JsonReply> {
  const timeoutMs = call.timeoutMs ?? 30_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  try {
    const res = await fetch(call.url, {
      method: call.method ?? 'GET',
      headers: { accept: 'application/json', ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}), ...call.headers },
      body: call.body !== undefined ? JSON.stringify(call.body) : undefined,
      signal,
      headersTimeoutMs: timeoutMs,
      bodyTimeoutMs: timeoutMs,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  } catch (e) {
    const timedOut = timeout.aborted || (e as { name?: string }).name === 'TimeoutError' || /timeout/i.test(String((e as Error).message));
    throw new ProviderError(
      timedOut ? `${provider} did not answer within ${Math.round(timeoutMs / 1000)} s` : `${provider} could not be reached: ${(e as Error).message}`,
      { retryable: true },
    );
  }
}

/** Seconds or an HTTP date, as Retry-After allows; undefined when absent or unreadable. */
export function retryAfterMs(headers: Record<string, string>): number | undefined {
  const v = headers['retry-after'];
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** A ProviderError for an HTTP error reply, classified by status. */
export function httpError(provider: string, reply: JsonReply, message: string | undefined, upstreamCode?: string): ProviderError {
  const what = message?.trim() || reply.text.trim().slice(0, 300) || `HTTP ${reply.status}`;
  return new ProviderError(`${provider} answered ${reply.status}: ${what}`, {
    retryable: RETRYABLE.has(reply.status),
    status: reply.status,
    upstreamCode,
    retryAfterMs: retryAfterMs(reply.headers),
    rateLimited: reply.status === 429,
  });
}

/**
 * Parses a successful reply with a zod schema. A reply we cannot read is treated as retryable: the upstream
 * may have accepted the job, and trying again (with the same idempotency key) is safer than failing.
 */
export function parseReply<T extends z.ZodType>(provider: string, schema: T, reply: JsonReply, what: string): z.output<T> {
  const r = schema.safeParse(reply.json);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new ProviderError(`${provider} sent an unexpected ${what} reply (${issue.path.join('.') || 'body'}: ${issue.message}): ${reply.text.slice(0, 200)}`, {
    retryable: true,
    status: reply.status,
  });
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
