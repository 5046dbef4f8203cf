/**
 * DashScope errors turned into ProviderErrors and task failures. The upstream `code` decides where the
 * HTTP status alone would mislead (help.aliyun.com/zh/model-studio/developer-reference/error-code and
 * .../dashscope/response-status-codes):
 * - `Throttling`, `Throttling.RateQuota` (requests per period), `Throttling.AllocationQuota` (quota used up)
 *   are the account's limits: retryable and rate-limited whatever status carries them, so the channel
 *   slows down and the task is not blamed.
 * - `Arrearage` (account in arrears, sent as 400) is the channel's problem, not the request's: retryable,
 *   so the task fails over to another channel instead of being rejected.
 * - `DataInspectionFailed` on a finished task is content moderation → reelay's `content_filtered`.
 */
import { httpError, type JsonReply } from '../http.ts';
import { ProviderError, type UpstreamFailure } from '../types.ts';
import { errorOf } from './dashscopeApi.ts';

export const PROVIDER_NAME = 'dashscope';

const CHANNEL_FAULT_CODES = new Set(['Arrearage']);
const CONTENT_FILTER_CODES = new Set(['DataInspectionFailed']);

export function isThrottlingCode(code: string | undefined): boolean {
  return code === 'Throttling' || (code?.startsWith('Throttling.') ?? false);
}

/** A ProviderError for an HTTP error reply (or a 200 that carries only `{code, message}`). */
export function dashscopeError(reply: JsonReply, fallbackMessage?: string): ProviderError {
  const { code, message } = errorOf(reply.json);
  const base = httpError(PROVIDER_NAME, reply, message ?? fallbackMessage, code);
  if (!isThrottlingCode(code) && !CHANNEL_FAULT_CODES.has(code ?? '')) return base;
  return new ProviderError(base.message, {
    retryable: true,
    status: reply.status,
    upstreamCode: code,
    retryAfterMs: base.retryAfterMs,
    rateLimited: isThrottlingCode(code),
  });
}

/** A FAILED task's `{code, message}` as a task failure. */
export function taskFailure(code: string | undefined, message: string | undefined, taskId: string): UpstreamFailure {
  return {
    code: code && CONTENT_FILTER_CODES.has(code) ? 'content_filtered' : 'upstream_error',
    message: message?.trim() || `DashScope reported task ${taskId} failed${code ? ` (${code})` : ''} without a reason`,
    upstreamCode: code,
  };
}

/**
 * UNKNOWN: DashScope no longer has the task. Task ids live 24 h (manage-asynchronous-tasks: "UNKNOWN:
 * task does not exist or its status is unknown"); a task polled after that is lost for good.
 */
export function expiredTaskFailure(taskId: string): UpstreamFailure {
  return {
    code: 'upstream_error',
    message: `DashScope no longer knows task ${taskId} (status UNKNOWN): task ids expire 24 h after submission, so its result cannot be retrieved`,
    upstreamCode: 'UNKNOWN',
  };
}
