/**
 * The public JSON of a task, as GET /v1/tasks/{id} returns it (and webhooks deliver it). Result URLs are
 * the gateway's own signed URLs, valid until the result's expires_at.
 */
import { toDecimal } from '../billing/money.ts';
import type { TaskRecord } from '../tasks/task.ts';
import type { TaskViewFields } from '../store/types.ts';

export type UrlFor = (key: string, expiresAt: number) => string;

export interface TaskView {
  id: string;
  model: string;
  status: TaskRecord['status'];
  progress: number;
  created: number;
  completed?: number;
  actual_time?: number;
  estimated_time: number;
  cost: number;
  result?: { videos: { url: string[]; expires_at: number }[] };
  error?: { code: string; message: string };
}

export function taskView(t: TaskViewFields, urlFor: UrlFor): TaskView {
  const view: TaskView = {
    id: t.id,
    model: t.model,
    status: t.status,
    progress: t.progress,
    created: Math.floor(t.createdAt / 1000),
    estimated_time: t.estimatedSeconds,
    cost: t.status === 'completed' ? toDecimal(t.costMicros) : 0,
  };
  if (t.completedAt !== null) {
    view.completed = Math.floor(t.completedAt / 1000);
    view.actual_time = Math.max(0, Math.round((t.completedAt - t.createdAt) / 1000));
  }
  if (t.status === 'completed' && t.result) {
    const expiresAt = t.result.expiresAt;
    view.result = { videos: t.result.videos.map((v) => ({ url: [urlFor(v.key, expiresAt)], expires_at: expiresAt })) };
  }
  if (t.error && (t.status === 'failed' || t.status === 'cancelled')) view.error = { code: t.error.code, message: t.error.message };
  return view;
}
