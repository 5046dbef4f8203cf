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
    // With S3 presigning on, the bytes come straight from the bucket: a fresh presigned URL, valid until
    // the gateway URL's own expiry, behind a stable gateway URL.
    const presigned = await ctx.storage.presign?.(key, Number(req.query.expires));
    if (presigned) return reply.redirect(presigned, 302);
    const res = await openObjectForHttp(ctx.storage, key, {
      method: req.method === 'HEAD' ? 'HEAD' : 'GET',
      range: req.headers.range,
      ifNoneMatch: req.headers['if-none-match'],
    });
    if (res.status === 404) throw new ApiError('not_found', 'This file is no longer stored.');
    reply.code(res.status).headers(res.headers);
    // No payload at all for HEAD (and 304): an empty string would make Fastify answer Content-Length: 0
    // instead of the object's length, which players and download tools read from HEAD.
    return res.body ? reply.send(res.body) : reply.send();
  }

  return async (app: FastifyInstance) => {
    // HEAD is its own route: Fastify's automatic HEAD route would set Content-Length to the length of the
    // (empty) payload instead of the object's. serve() sends no body for it.
    app.get('/files/*', { exposeHeadRoute: false }, serve);
    app.head('/files/*', serve);
  };
}
