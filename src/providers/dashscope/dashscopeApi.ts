/**
 * DashScope's (Alibaba Cloud Model Studio) wire format for async video synthesis, as zod schemas
 * (UPSTREAMS.md §2). Shapes are taken from Alibaba's own pages and from clients that call the API:
 *
 * - submit reply `{request_id, output: {task_id, task_status}}`; failure `{request_id, code, message}`
 *   (help.aliyun.com/zh/model-studio/manage-asynchronous-tasks; ComfyUI comfy_api_nodes/nodes_wan.py).
 * - task reply `{request_id, output: {task_id, task_status, video_url?, code?, message?, ...}, usage?}`.
 *   `usage` differs by model family: wan2.5 reports `video_duration`; happyhorse reports `duration`,
 *   `input_video_duration` and `output_video_duration` (in video edit `duration` = input + output), so
 *   every field is optional and the adapter picks the output length (cinience/alicloud-skills happyhorse
 *   api_reference.md; apifox mirror of the wan task query).
 */
import { z } from 'zod';

export const submitReply = z.object({
  request_id: z.string().optional(),
  output: z.object({ task_id: z.string().min(1), task_status: z.string().optional() }).passthrough(),
});

const usage = z
  .object({
    duration: z.number().optional(),
    video_duration: z.number().optional(),
    input_video_duration: z.number().optional(),
    output_video_duration: z.number().optional(),
    video_count: z.number().optional(),
    SR: z.number().optional(),
  })
  .passthrough();

export const taskReply = z.object({
  request_id: z.string().optional(),
  output: z
    .object({
      task_id: z.string().optional(),
      // PENDING | RUNNING | SUCCEEDED | FAILED | CANCELED | UNKNOWN; kept a string so an unexpected status is
      // reported by name instead of failing the parse.
      task_status: z.string(),
      video_url: z.string().optional(),
      code: z.string().optional(),
      message: z.string().optional(),
    })
    .passthrough(),
  usage: usage.optional().nullable(),
});

export type TaskUsage = z.output<typeof usage>;

/** `{request_id, code, message}`: every DashScope error reply, whatever the HTTP status. */
const errorBody = z.object({ request_id: z.string().optional(), code: z.string().optional(), message: z.string().optional() });

export function errorOf(json: unknown): { code?: string; message?: string } {
  const e = errorBody.safeParse(json);
  return e.success ? { code: e.data.code || undefined, message: e.data.message || undefined } : {};
}

/** Header that makes the video-synthesis endpoint create a task instead of refusing a synchronous call. */
export const ASYNC_HEADER = 'x-dashscope-async';
export const SUBMIT_PATH = '/api/v1/services/aigc/video-generation/video-synthesis';
export const taskPath = (id: string): string => `/api/v1/tasks/${encodeURIComponent(id)}`;
/** Cancels PENDING tasks only (dashscope-sdk-python client/base_api.py `cancel`; manage-asynchronous-tasks). */
export const cancelPath = (id: string): string => `/api/v1/tasks/${encodeURIComponent(id)}/cancel`;
