/**
 * fal's replies turned into reelay's terms: HTTP errors into ProviderErrors, and the result call of a
 * COMPLETED request into a succeeded, failed or cancelled status.
 */
import { httpError, parseReply, type JsonReply } from '../http.ts';
import { ProviderError, type StatusResult, type UpstreamFailure } from '../types.ts';
import { falErrorOf, videoResult, type FalErrorFacts } from './falApi.ts';
import type { FalOperation } from './falProvider.ts';

const NAME = 'fal';

/** What fal answers on the result call before the job is done (vercel/ai fal-video-model.ts relies on it). */
const STILL_RUNNING = 'Request is still in progress';

/**
 * A ProviderError for a fal error reply, with fal's own message. Retryable follows the HTTP status (429 and
 * 5xx), unless fal says otherwise in X-Fal-Retryable (https://fal.ai/docs/documentation/model-apis/errors).
 */
export function falHttpError(reply: JsonReply, fallbackMessage?: string): ProviderError {
  const facts = falErrorOf(reply.json, reply.headers);
  const e = httpError(NAME, reply, facts.message ?? fallbackMessage, facts.type);
  const said = reply.headers['x-fal-retryable'];
  if (said !== 'true' && said !== 'false') return e;
  return new ProviderError(e.message, {
    retryable: said === 'true',
    status: e.status,
    upstreamCode: e.upstreamCode,
    retryAfterMs: e.retryAfterMs,
    rateLimited: e.rateLimited,
  });
}

/** The outcome of GET response_url for a request fal reports COMPLETED. */
export function resultStatus(reply: JsonReply, op: FalOperation): StatusResult {
  if (reply.status < 400) return succeeded(reply, op);
  const facts = falErrorOf(reply.json, reply.headers);
  if (facts.message === STILL_RUNNING) return { state: 'running' };
  if (facts.type === 'client_cancelled') return { state: 'cancelled' };
  // Our own problems (key, rate, a request fal does not know) are errors of the call, not of the job; so is a
  // reply that is not fal's (no `detail`, no error type): a proxy's 502 page says nothing about the job.
  const ours = [401, 403, 404, 429].includes(reply.status);
  if (ours || (facts.message === undefined && facts.type === undefined)) throw falHttpError(reply);
  return { state: 'failed', error: failureOf(facts, reply.status) };
}

function succeeded(reply: JsonReply, op: FalOperation): StatusResult {
  const { video } = parseReply(NAME, videoResult, reply, 'result');
  const facts = {
    ...(video.width ? { width: video.width } : {}),
    ...(video.height ? { height: video.height } : {}),
    ...(video.duration ? { seconds: video.duration } : {}),
  };
  const billed = op.editCapSeconds !== undefined && video.duration ? Math.min(video.duration, op.editCapSeconds) : undefined;
  return {
    state: 'succeeded',
    outputs: [{ kind: 'url', url: video.url, contentType: video.content_type ?? 'video/mp4' }],
    ...(Object.keys(facts).length ? { videos: [facts] } : {}),
    ...(billed !== undefined ? { billedSeconds: billed } : {}),
  };
}

/** fal's error category → reelay's failure code. */
function failureOf(facts: FalErrorFacts, status: number): UpstreamFailure {
  const type = facts.type ?? '';
  const code = /content_policy|nsfw|safety|moderation/i.test(type)
    ? 'content_filtered'
    : type === 'request_timeout' || type === 'startup_timeout' || status === 504
      ? 'upstream_timeout'
      : 'upstream_error';
  return { code, message: facts.message ?? `fal answered HTTP ${status} for the result`, ...(facts.type ? { upstreamCode: facts.type } : {}) };
}
