/** POST /v1/videos/generations — submit a task (APIMart's submit, with Idempotency-Key). */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../errors.ts';
import type { ApiKeyRecord } from '../../store/types.ts';
import type { AppContext } from '../context.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** APIMart's newer response shape, chosen by the X-APIMart-Response-Version header. */
const OBJECT_RESPONSE_VERSION = '2026-07-27';

type Headers = Record<string, string | string[] | undefined>;

/**
 * The submit itself, for the Fastify route and the fast path alike: the answer's body and its extra
 * headers, or an ApiError thrown.
 */
export async function submitVideo(
  ctx: AppContext,
  apiKey: ApiKeyRecord,
  body: unknown,
  headers: Headers,
): Promise<{ payload: unknown; replayed: boolean }> {
  if (!ctx.accepting()) throw new ApiError('shutting_down', 'The gateway is shutting down; retry on another instance.', null, { 'Retry-After': '5' });
  const raw = headers['idempotency-key'];
  const idempotencyKey = typeof raw === 'string' && raw !== '' ? raw : undefined;
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new ApiError('invalid_value', 'Idempotency-Key must be 1–255 printable ASCII characters.', 'Idempotency-Key');
  }
  const { task, replayed } = await ctx.submit.submit(apiKey, body, idempotencyKey);
  if (!replayed) ctx.metrics.tasksSubmitted.inc({ model: task.model });
  if (headers['x-apimart-response-version'] === OBJECT_RESPONSE_VERSION) {
    return { replayed, payload: { code: 200, data: { id: task.id, object: 'generation.task', model: task.model, status: 'submitted', created: Math.floor(task.createdAt / 1000) } } };
  }
  return { replayed, payload: { code: 200, data: [{ status: 'submitted', task_id: task.id }] } };
}

export function videoRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.post('/videos/generations', async (req, reply) => {
      const { payload, replayed } = await submitVideo(ctx, req.apiKey, req.body, req.headers);
      if (replayed) reply.header('Idempotency-Replayed', 'true');
      return payload;
    });
  };
}
