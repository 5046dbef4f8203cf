/**
 * Vidu HTTP errors → ProviderError. The HTTP status decides by default (http.ts: 408/425/429/5xx
 * retryable, 429 rate-limited — Vidu's 429s are QuotaExceeded "exceeded concurrency limit",
 * TooManyRequests and SystemThrottling); the reasons below are the documented exceptions, where the status
 * alone would misjudge (https://platform.vidu.com/docs/error-code). Vidu's message and trace id are kept.
 */
import { httpError, type JsonReply } from '../http.ts';
import { ProviderError } from '../types.ts';
import { viduErrorOf } from './viduApi.ts';

interface ErrorClass {
  retryable: boolean;
  /** Slow the whole channel down: the account, not this request, is the problem. */
  rateLimited?: boolean;
  /** How long the channel waits when Vidu sends no Retry-After, ms. */
  retryAfterMs?: number;
}

export const VIDU_ERROR_CLASSES: Readonly<Record<string, ErrorClass>> = {
  // 400, but about the account: every request on this channel would fail the same way until someone tops
  // it up, so the channel pauses and the task fails over instead of failing.
  CreditInsufficient: { retryable: true, rateLimited: true, retryAfterMs: 10 * 60_000 },
  // 400 "operation in process, please retry later".
  OperationInProcess: { retryable: true },
  // 499 "request canceled by client": the call was cut, not refused.
  Canceled: { retryable: true },
};

export const PROVIDER_NAME = 'vidu';

export function viduHttpError(reply: JsonReply, fallbackMessage?: string): ProviderError {
  const { reason, message } = viduErrorOf(reply.json);
  const base = httpError(PROVIDER_NAME, reply, message ?? fallbackMessage, reason);
  const override = reason ? VIDU_ERROR_CLASSES[reason] : undefined;
  if (!override) return base;
  return new ProviderError(base.message, {
    retryable: override.retryable,
    status: reply.status,
    upstreamCode: reason,
    retryAfterMs: base.retryAfterMs ?? override.retryAfterMs,
    rateLimited: override.rateLimited ?? base.rateLimited,
  });
}
