/** POST /v1/videos/generations — submit a task (APIMart's submit, with Idempotency-Key). */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../errors.ts';
import type { ApiKeyRecord } from '../../store/types.ts';
import type { AppContext } from '../context.ts';
import { checkRequest, type ValidatedRequest } from '../../models/validate.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** APIMart's newer response shape, chosen by the X-APIMart-Response-Version header. */
const OBJECT_RESPONSE_VERSION = '2026-07-27';

type Headers = Record<string, string | string[] | undefined>;

/** A submit that passed every check needing no wait: the key's own checks and the store's come next. */
export interface CheckedSubmit {
  request: ValidatedRequest;
  body: unknown;
  idempotencyKey: string | undefined;
  /** APIMart's object-shaped answer was asked for. */
  objectShape: boolean;
}

/**
 * The checks of a submit that need no wait, in the order both routes apply them: the gateway is
 * accepting, the Idempotency-Key is well formed, the body passes its model's rules. Returns the refusal
 * (an ApiError) rather than throwing it: a throw cost more than these checks (see checkRequest).
 */
export function checkSubmit(ctx: AppContext, body: unknown, headers: Headers): CheckedSubmit | ApiError {
  if (!ctx.accepting()) return new ApiError('shutting_down', 'The gateway is shutting down; retry on another instance.', null, { 'Retry-After': '5' });
  const raw = headers['idempotency-key'];
  const idempotencyKey = typeof raw === 'string' && raw !== '' ? raw : undefined;
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    return ApiError.refusal('invalid_value', 'Idempotency-Key must be 1–255 printable ASCII characters.', 'Idempotency-Key');
  }
  const request = checkRequest(body);
  if (request instanceof ApiError) return request;
  return { request, body, idempotencyKey, objectShape: headers['x-apimart-response-version'] === OBJECT_RESPONSE_VERSION };
}

/** The rest of the submit: the answer's body and whether it replays an earlier one, or an ApiError thrown. */
export async function acceptSubmit(ctx: AppContext, apiKey: ApiKeyRecord, c: CheckedSubmit): Promise<{ payload: unknown; replayed: boolean }> {
  const { task, replayed } = await ctx.submit.accept(apiKey, c.request, c.body, c.idempotencyKey);
  if (!replayed) ctx.metrics.taskSubmitted(task.model);
  if (c.objectShape) {
    return { replayed, payload: { code: 200, data: { id: task.id, object: 'generation.task', model: task.model, status: 'submitted', created: Math.floor(task.createdAt / 1000) } } };
  }
  return { replayed, payload: { code: 200, data: [{ status: 'submitted', task_id: task.id }] } };
}

/** The submit itself, for the Fastify route: checkSubmit then acceptSubmit. */
export async function submitVideo(ctx: AppContext, apiKey: ApiKeyRecord, body: unknown, headers: Headers): Promise<{ payload: unknown; replayed: boolean }> {
  const checked = checkSubmit(ctx, body, headers);
  if (checked instanceof ApiError) throw checked;
  return acceptSubmit(ctx, apiKey, checked);
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
