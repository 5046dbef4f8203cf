/**
 * One access line and the HTTP metrics per answered request, the same for Fastify's routes and the fast
 * path: `{"reqId", "method", "url" (no query string: it may hold signatures), "status", "ms"}`.
 */
import type { AppContext } from './context.ts';
import { logRequest } from '../runtime/logger.ts';

export function recordRequest(ctx: AppContext, reqId: string, method: string, url: string, route: string, status: number, elapsedMs: number): void {
  ctx.metrics.observeHttp(route, method, status, elapsedMs / 1000);
  const q = url.indexOf('?');
  logRequest(ctx.logger, reqId, method, q === -1 ? url : url.slice(0, q), status, Math.round(elapsedMs));
}
