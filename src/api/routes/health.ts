/** GET /healthz (alive), GET /readyz (store, storage, channels), GET /metrics (Prometheus). */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';

export function healthRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', async () => ({ status: 'ok' }));

    app.get('/readyz', async (_req, reply) => {
      const checks = await ctx.readiness();
      const ready = ctx.accepting() && checks.every((c) => c.ok);
      reply.code(ready ? 200 : 503);
      return { status: ready ? 'ready' : 'not_ready', accepting: ctx.accepting(), checks };
    });

    app.get('/metrics', async (_req, reply) => {
      const m = await ctx.metrics.render();
      reply.type(m.contentType);
      return m.body;
    });
  };
}
