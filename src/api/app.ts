/**
 * The HTTP app (Fastify): request ids, JSON parsing, the error catalogue rendering, access logs and
 * metrics, then one plugin per resource. Tests call `app.inject()` with no port.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { ApiError, isApiError } from '../errors.ts';
import type { AppContext } from './context.ts';
import { videoRoutes } from './routes/videos.ts';
import { taskRoutes } from './routes/tasks.ts';
import { modelRoutes } from './routes/models.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { balanceRoutes } from './routes/balance.ts';
import { adminRoutes } from './routes/admin.ts';
import { fileRoutes } from './routes/files.ts';
import { healthRoutes } from './routes/health.ts';
import { hookRoutes } from './routes/hooks.ts';
import { authenticate } from './auth.ts';
import { requestIdFor } from './requestId.ts';
import { recordRequest } from './accessLog.ts';
import { fastPath } from './fastPath.ts';

export interface BuildOptions {
  /** 'health' for worker processes: only /healthz, /readyz and /metrics. */
  routes?: 'all' | 'health';
}

export async function buildApp(ctx: AppContext, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // Submit and poll are answered in front of Fastify (fastPath.ts); everything else reaches it.
    ...(opts.routes === 'health'
      ? {}
      : {
          serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void, o: FastifyServerOptions) => {
            const server = http.createServer(fastPath(ctx, handler));
            // What Fastify sets on the servers it creates itself.
            server.keepAliveTimeout = o.keepAliveTimeout!;
            server.requestTimeout = o.requestTimeout!;
            server.setTimeout(o.connectionTimeout!);
            return server;
          },
        }),
    loggerInstance: ctx.logger as FastifyBaseLogger,
    // One access line per request is written in onResponse instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: ctx.config.limits.body_limit_bytes,
    return503OnClosing: true,
    // Path parameters are ids (tasks, keys): longer ones reach the routes, which answer 404 after auth.
    routerOptions: { maxParamLength: 1024 },
    // The router's own refusals (bad percent-encoding, an absurdly long parameter) would otherwise answer
    // in Fastify's body shape and without a request id; they get the catalogue's like every other error.
    frameworkErrors: (err, req, reply) => {
      const e =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new ApiError('route_not_found', `No resource at ${req.url.split('?')[0].slice(0, 80)}…: a path segment is too long to name one.`)
          : err.code === 'FST_ERR_BAD_URL'
            ? new ApiError('invalid_request_error', 'The URL path is not valid percent-encoding.')
            : toApiError(err);
      ctx.metrics.reject(e.code);
      void (reply as unknown as FastifyReply).code(e.status).header('x-request-id', req.id).headers(e.headers).send(e.toBody());
    },
    genReqId: (req) => requestIdFor(req.headers['x-request-id']),
  });

  // Any body that is not multipart is read as JSON: curl's --data sends form content-type by default,
  // and APIMart clients are not always careful. Empty bodies parse as undefined (cancel has none).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ApiError('invalid_request_error', 'The request body is not valid JSON.', null), undefined);
    }
  });

  // Callback-style hooks: nothing in them waits, and an async hook costs a promise per request.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    recordRequest(ctx, req.id, req.method, req.url, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime);
    done();
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    const e = toApiError(err);
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    ctx.metrics.reject(e.code);
    reply.code(e.status).headers(e.headers).send(e.toBody());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError('route_not_found', `No endpoint ${req.method} ${req.url.split('?')[0]}.`);
    reply.code(e.status).send(e.toBody());
  });

  await app.register(healthRoutes(ctx));
  if (opts.routes === 'health') return app as unknown as FastifyInstance;
  await app.register(fileRoutes(ctx));
  await app.register(hookRoutes(ctx));
  await app.register(adminRoutes(ctx), { prefix: '/admin' });
  await app.register(
    async (v1) => {
      v1.addHook('onRequest', authenticate(ctx));
      await v1.register(videoRoutes(ctx));
      await v1.register(taskRoutes(ctx));
      await v1.register(modelRoutes(ctx));
      await v1.register(uploadRoutes(ctx));
      await v1.register(balanceRoutes(ctx));
    },
    { prefix: '/v1' },
  );
  return app as unknown as FastifyInstance;
}

/** Framework errors become catalogue errors; anything unknown is the gateway's fault (500). */
function toApiError(err: FastifyError | ApiError): ApiError {
  if (isApiError(err)) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
      return new ApiError('body_too_large', `The request body is larger than this endpoint accepts.`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('unsupported_media_type', err.message);
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new ApiError('invalid_upload', 'Send the image as multipart/form-data with a field named "file".', 'file');
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new ApiError('invalid_request_error', err.message);
  }
  return new ApiError('internal_error', 'The gateway failed to handle this request; it is logged with the request id.');
}
