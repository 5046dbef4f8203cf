/**
 * Vidu's wire format (UPSTREAMS.md §4), as zod schemas. Every reply is read loosely: Vidu adds fields over
 * time (watermarked_url, bgm, off_peak), and a field we do not use must never make a reply unreadable.
 *
 * Sources: create reply — powertokens mirror and the official template-story page; creations reply —
 * https://platform.vidu.com/docs/get-generation; error body — https://platform.vidu.com/docs/cancel-generation
 * and https://platform.vidu.com/docs/error-code; callback — the `callback_url` field on the official
 * template-story / trending-replicate pages ("the same as the return body of the GET Generation API").
 */
import { z } from 'zod';

/** The states GET /ent/v2/tasks/{id}/creations documents. */
export const VIDU_STATES = ['created', 'queueing', 'processing', 'success', 'failed'] as const;
export type ViduState = (typeof VIDU_STATES)[number];

/** POST /ent/v2/reference2video → `{task_id, state: "created", model, ..., credits, created_at}`. */
export const createReply = z.looseObject({
  task_id: z.string().min(1),
  state: z.string().optional(),
  model: z.string().optional(),
});

export const creation = z.looseObject({
  id: z.string().optional(),
  /** Valid 24 h (get-generation page; an older revision said one hour). */
  url: z.string().min(1),
  cover_url: z.string().optional(),
  watermarked_url: z.string().optional(),
});

/** GET /ent/v2/tasks/{id}/creations; Vidu POSTs the same body to `callback_url`. */
export const creationsReply = z.looseObject({
  id: z.string().optional(),
  // A string, not the enum: a state Vidu adds later must reach the adapter's own "unknown state" error.
  state: z.string(),
  // "" while nothing went wrong.
  err_code: z.string().nullish(),
  credits: z.number().nullish(),
  payload: z.string().nullish(),
  creations: z.array(creation).nullish(),
});
export type CreationsReply = z.output<typeof creationsReply>;

/** The callback body is the creations body; it is parsed only by tests (the gateway re-reads the task). */
export const callbackBody = creationsReply;

/** `{"code": 400, "reason": "BadRequest", "message": "...", "metadata": {"trace_id": "..."}}`. */
export const errorReply = z.looseObject({
  code: z.number().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  metadata: z.looseObject({ trace_id: z.string().optional() }).nullish(),
});

/** Vidu's reason code and message from an error body, with the trace id operators quote to Vidu support. */
export function viduErrorOf(json: unknown): { reason?: string; message?: string } {
  const e = errorReply.safeParse(json);
  if (!e.success) return {};
  const trace = e.data.metadata?.trace_id;
  const message = e.data.message && trace ? `${e.data.message} (trace ${trace})` : e.data.message;
  return { reason: e.data.reason, message };
}
