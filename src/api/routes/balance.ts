/** GET /v1/balance — APIMart's balance fields, plus the key's own figures. */
import type { FastifyInstance } from 'fastify';
import { toDecimal } from '../../billing/money.ts';
import { ApiError } from '../../errors.ts';
import type { AppContext } from '../context.ts';

export function balanceRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.get('/balance', async (req) => {
      // Read fresh: the cached key used for auth may be seconds old.
      const key = await ctx.store.getKey(req.apiKey.id);
      if (!key) throw new ApiError('authentication_error', 'Invalid API key.');
      return {
        code: 200,
        success: true,
        remain_balance: toDecimal(key.balanceMicros),
        used_balance: toDecimal(key.spentMicros),
        held_balance: toDecimal(key.heldMicros),
        unlimited_quota: false,
        key: {
          id: key.id,
          name: key.name,
          prefix: key.prefix,
          rate_limit_rpm: key.rateLimitRpm,
          max_concurrent_tasks: key.maxConcurrentTasks,
          models: key.models,
        },
      };
    });
  };
}
