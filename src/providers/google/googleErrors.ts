/**
 * Google's error shapes, shared by the Gemini API, Vertex AI and Cloud Storage: the HTTP error body
 * `{"error": {code, message, status, details}}` (AIP-193) and the google.rpc.Status a finished long-running
 * operation carries in `error` (a numeric `code`, no `status` name).
 */
import { z } from 'zod';
import { httpError, type JsonReply } from '../http.ts';
import type { ProviderError } from '../types.ts';

export const googleStatus = z
  .object({
    // A number in Google's bodies; other gateways in front of Google (and the contract suite) send strings.
    code: z.union([z.number(), z.string()]).optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    details: z.array(z.object({ reason: z.string().optional() }).passthrough()).optional(),
  })
  .passthrough();

export type GoogleStatus = z.output<typeof googleStatus>;

const errorBody = z.object({ error: googleStatus });

/** google.rpc.Code names, so operators read RESOURCE_EXHAUSTED rather than 8 (googleapis/google/rpc/code.proto). */
const RPC_CODE_NAMES: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

/** The most specific code Google gave: an ErrorInfo reason (API_KEY_INVALID), the status name, or the number. */
export function googleCode(e: GoogleStatus | undefined): string | undefined {
  if (!e) return undefined;
  const reason = e.details?.find((d) => typeof d.reason === 'string')?.reason;
  if (reason) return reason;
  if (e.status) return e.status;
  if (typeof e.code === 'number') return RPC_CODE_NAMES[e.code] ?? String(e.code);
  return e.code;
}

/**
 * A ProviderError for a Google HTTP error reply, with Google's message and code. Google answers quota and
 * rate limits (RESOURCE_EXHAUSTED) with 429 (AIP-193), which http.ts classes as retryable and rate-limited.
 */
export function googleHttpError(provider: string, reply: JsonReply): ProviderError {
  const parsed = errorBody.safeParse(reply.json);
  const e = parsed.success ? parsed.data.error : undefined;
  return httpError(provider, reply, e?.message, googleCode(e));
}
