/**
 * Vidu task state → reelay StatusResult (UPSTREAMS.md §7): created and queueing are queued, processing is
 * running, success carries `creations[].url`, failed carries only an `err_code` — Vidu sends no message, so
 * the codes documented at https://platform.vidu.com/docs/error-code are put into words here, and a code
 * not in the table is passed on verbatim (Vidu adds codes over time).
 */
import { ProviderError, type StatusResult, type UpstreamFailure } from '../types.ts';
import type { CreationsReply } from './viduApi.ts';

/** reelay's failure code and plain words for each documented err_code of a failed task. */
export const VIDU_FAILURES: Readonly<Record<string, { code: string; message: string }>> = {
  TaskPromptPolicyViolation: { code: 'content_filtered', message: 'the prompt was refused by Vidu’s content policy' },
  AuditSubmitIllegal: { code: 'content_filtered', message: 'the input did not pass Vidu’s safety review' },
  CreationPolicyViolation: { code: 'content_filtered', message: 'the generated video was withheld by Vidu’s content policy' },
  ImageDownloadFailure: { code: 'upstream_error', message: 'Vidu could not download a reference image; check that its URL is publicly reachable' },
  ImageFormatInvalid: { code: 'upstream_error', message: 'Vidu could not read a reference image (PNG, JPEG or WebP only)' },
  PageSizeOutOfRange: { code: 'upstream_error', message: 'a reference image is over 50 MB, not PNG/JPEG/WebP, or outside 1:4–4:1' },
  ImageCheckFaceFailed: { code: 'upstream_error', message: 'Vidu found no usable face in a reference image' },
  ImageCheckBodyJointsFailed: { code: 'upstream_error', message: 'Vidu found no usable person in a reference image' },
  ImageObjectsUndetected: { code: 'upstream_error', message: 'the person or face in a reference image is too obstructed for Vidu' },
  ModelUnavailable: { code: 'upstream_error', message: 'the Vidu model is unavailable' },
  CreditInsufficient: { code: 'upstream_error', message: 'the Vidu account ran out of credits' },
  InternalServiceFailure: { code: 'upstream_error', message: 'Vidu failed internally' },
};

/**
 * err_codes that mean the task was cancelled, not that it failed. Vidu documents `UserCancelled` ("user
 * manually terminated task execution"); that a cancelled task reads back as state `failed` with this code
 * is UNCERTAIN (no page shows a cancelled task's creations reply) — this set is the one place to change.
 */
export const VIDU_CANCELLED_CODES: ReadonlySet<string> = new Set(['UserCancelled']);

export function viduFailure(errCode: string | null | undefined): UpstreamFailure {
  const code = errCode?.trim() || undefined;
  if (!code) return { code: 'upstream_error', message: 'Vidu reported the task failed without an error code' };
  const known = VIDU_FAILURES[code];
  return known ? { code: known.code, message: `${known.message} (${code})`, upstreamCode: code } : { code: 'upstream_error', message: `Vidu reported the task failed: ${code}`, upstreamCode: code };
}

export function viduStatus(reply: CreationsReply, taskId: string): StatusResult {
  switch (reply.state) {
    case 'created':
    case 'queueing':
      return { state: 'queued' };
    case 'processing':
      return { state: 'running' };
    case 'success': {
      const urls = (reply.creations ?? []).map((c) => c.url);
      // Retryable: a success without its creations is more likely a reply caught mid-write than a result.
      if (urls.length === 0) throw new ProviderError(`Vidu reported task ${taskId} successful without a creation URL`, { retryable: true });
      return { state: 'succeeded', outputs: urls.map((url) => ({ kind: 'url', url, contentType: 'video/mp4' })) };
    }
    case 'failed':
      if (reply.err_code && VIDU_CANCELLED_CODES.has(reply.err_code)) return { state: 'cancelled' };
      return { state: 'failed', error: viduFailure(reply.err_code) };
    default:
      throw new ProviderError(`Vidu reported an unknown state ${JSON.stringify(reply.state)} for task ${taskId}`, { retryable: true });
  }
}
