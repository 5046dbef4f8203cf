/**
 * APIMart's wire format (UPSTREAMS.md §1), as zod schemas. Both submit shapes are accepted: the classic
 * `data: [{status, task_id}]` and the object form `data: {id, status, ...}` some model pages (and response
 * version 2026-07-27) use. Result `url` may be a string or an array of strings.
 */
import { z } from 'zod';

export const submitReply = z.object({
  code: z.number().optional(),
  data: z.union([
    z.array(z.object({ task_id: z.string().min(1), status: z.string().optional() }).passthrough()).min(1),
    z.object({ id: z.string().min(1), status: z.string().optional() }).passthrough(),
  ]),
});

const videoResult = z.object({
  url: z.union([z.string(), z.array(z.string())]),
  expires_at: z.number().optional(),
});

export const taskReply = z.object({
  code: z.number().optional(),
  data: z
    .object({
      id: z.string().optional(),
      status: z.string(),
      progress: z.number().optional(),
      estimated_time: z.number().optional(),
      result: z.object({ videos: z.array(videoResult).optional() }).passthrough().optional().nullable(),
      error: z
        .object({ message: z.string().optional(), code: z.union([z.string(), z.number()]).optional(), type: z.string().optional() })
        .passthrough()
        .optional()
        .nullable(),
    })
    .passthrough(),
});

/** `{"error": {...}}` as the official client parses it, or `{"success": false, "message"}`. */
const errorBody = z.object({
  error: z.object({ message: z.string().optional(), code: z.union([z.string(), z.number()]).optional(), type: z.string().optional() }).passthrough(),
});
const failureBody = z.object({ success: z.literal(false), message: z.string().optional() });

export function errorOf(json: unknown): { message?: string; code?: string } {
  const e = errorBody.safeParse(json);
  if (e.success) return { message: e.data.error.message, code: e.data.error.code === undefined ? e.data.error.type : String(e.data.error.code) };
  const f = failureBody.safeParse(json);
  return f.success ? { message: f.data.message } : {};
}
