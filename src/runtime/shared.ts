/**
 * What processes share beyond the store: with REELAY_REDIS_URL, per-key rate limits counted across all API
 * processes and wake-ups between processes (a task submitted or called back on one process is picked up at
 * once by the workers of all); without it, both stay in this process — still correct, wake-ups to other
 * processes only come from their store polling (`engine.idle_sleep_ms`).
 */
import type { ReelayConfig } from '../config/schema.ts';
import { MemoryRateLimiter, type RateLimiter } from '../api/rateLimiter.ts';
import { RedisRateLimiter } from '../api/redisRateLimiter.ts';
import { LocalWakeBus, type WakeBus } from './wakeBus.ts';
import { RedisWakeBus } from './redisWakeBus.ts';
import { createRedis, redisUsable } from './redis.ts';
import type { Logger } from './logger.ts';

export interface Shared {
  limiter: RateLimiter;
  wakeBus: WakeBus;
  /** Present in Redis mode, for readiness. */
  redis: { ping(): Promise<boolean> } | null;
  close(): Promise<void>;
}

export function openShared(config: Pick<ReelayConfig, 'redis_url' | 'redis_prefix'>, logger: Logger): Shared {
  if (!config.redis_url) {
    const wakeBus = new LocalWakeBus(logger);
    return { limiter: new MemoryRateLimiter(), wakeBus, redis: null, close: () => wakeBus.close() };
  }
  const prefix = config.redis_prefix;
  const probe = createRedis(config.redis_url, prefix, { name: 'reelay-probe' });
  const limiter = new RedisRateLimiter(createRedis(config.redis_url, prefix, { name: 'reelay-ratelimit' }), { logger });
  const wakeBus = new RedisWakeBus(createRedis(config.redis_url, prefix, { name: 'reelay-wake' }), { logger });
  return {
    limiter,
    wakeBus,
    redis: {
      ping: async () => {
        try {
          return (await probe.ping()) === 'PONG' || redisUsable(probe);
        } catch {
          return false;
        }
      },
    },
    close: async () => {
      await limiter.close?.();
      await wakeBus.close();
      probe.disconnect();
    },
  };
}
