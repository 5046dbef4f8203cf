/**
 * GET/HEAD /files/<key>?expires=&sig= — stored results and uploads at gateway-signed URLs that stop working
 * at `expires`, with Range support so players can seek.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../errors.ts';
import { openObjectForHttp } from '../../media/serveObject.ts';
import type { AppContext } from '../context.ts';

export function fileRoutes(ctx: AppContext) {
  async function serve(req: FastifyRequest<{ Params: { '*': string }; Querystring: { expires?: string; sig?: string } }>, reply: FastifyReply) {
    const key = req.params['*'];
    const verdict = ctx.signer.verify(key, req.query.expires ?? '', req.query.sig ?? '', Math.floor(Date.now() / 1000));
    if (verdict === 'expired') throw new ApiError('link_expired', 'This link has expired; fetch the task again for a fresh one while the result is kept.');
    if (verdict !== 'ok') throw new ApiError('link_expired', 'This link is not valid: its signature does not match.');
    const res = await openObjectForHttp(ctx.storage, key, {
      method: req.method === 'HEAD' ? 'HEAD' : 'GET',
      range: req.headers.range,
      ifNoneMatch: req.headers['if-none-match'],
    });
    if (res.status === 404) throw new ApiError('not_found', 'This file is no longer stored.');
    reply.code(res.status).headers(res.headers);
    return reply.send(res.body ?? '');
  }

  return async (app: FastifyInstance) => {
    // Fastify answers HEAD through this route too (exposeHeadRoutes); serve() sends no body for it.
    app.get('/files/*', serve);
  };
}
