/**
 * POST /hooks/<channel>/<task>?sig= — an upstream says something changed for a task. The signature proves
 * the URL came from us; the body is ignored and the task is checked at once (the status call decides).
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../errors.ts';
import type { AppContext } from '../context.ts';

export function hookRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.post<{ Params: { channel: string; task: string }; Querystring: { sig?: string } }>('/hooks/:channel/:task', async (req) => {
      const { channel, task } = req.params;
      if (!ctx.hooks.verify(channel, task, req.query.sig)) throw new ApiError('authentication_error', 'This callback URL is not valid.');
      ctx.wakeTask(task);
      return { received: true };
    });
  };
}
