/**
 * The token bucket of MemoryRateLimiter, shared by every gateway process through Redis. One Lua script per
 * hit refills, takes a token (or computes the wait) and stores the bucket atomically, so concurrent hits
 * from any number of processes draw on one budget exactly. Time comes from the Redis server (TIME), so
 * the clocks of the gateway machines never matter. Buckets are hashes at `<prefix>ratelimit:<keyId>`
 * that expire when they would be full again: a missing bucket and a full one mean the same thing.
 *
 * Fail-open: when Redis is unreachable, slow or erroring, the request is allowed. The rate limit protects
 * upstream budgets from a runaway client, but an outage of this optional accelerator must not turn into
 * an outage of the whole API (every authenticated request passes here). Queue limits, per-key concurrency
 * limits and balances are enforced by the store and still hold. The outage is logged once per minute.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../runtime/logger.ts';
import { closeRedis, redisUsable } from '../runtime/redis.ts';
import type { RateDecision, RateLimiter } from './rateLimiter.ts';

// KEYS[1] bucket; ARGV[1] limit per minute. Returns {allowed 0|1, whole tokens left, ms until a token}.
// Fractions are kept as strings: numbers returned from Lua become integers, stored ones keep 17 digits.
const HIT_SCRIPT = `
local limit = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local perMs = limit / 60000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = limit
  at = now
end
-- max(0, ...): after a failover the new primary's clock may be slightly behind the old one's
tokens = math.min(limit, tokens + math.max(0, now - at) * perMs)
local allowed = 0
local waitMs = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  waitMs = math.ceil((1 - tokens) / perMs)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((limit - tokens) / perMs) + 1)
return {allowed, math.floor(tokens), waitMs}
`;

export interface RedisRateLimiterOptions {
  logger?: Pick<Logger, 'warn'>;
  /** A hit waiting longer than this on Redis is allowed (fail-open), ms. */
  timeoutMs?: number;
  /** Clock for the log throttle only; buckets use Redis server time. */
  now?: () => number;
}

const LOG_EVERY_MS = 60_000;

/** The client with HIT_SCRIPT defined (ioredis sends EVALSHA, and the script itself after NOSCRIPT). */
type ScriptedRedis = Redis & { reelayRateLimitHit(key: string, limit: string): Promise<[number, number, number]> };

export class RedisRateLimiter implements RateLimiter {
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private lastLogAt = -Infinity;

  /** Takes ownership of `redis` (from createRedis): close() closes it. */
  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisRateLimiterOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 500;
    this.now = opts.now ?? Date.now;
    redis.defineCommand('reelayRateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  }

  async hit(keyId: string, limit: number): Promise<RateDecision> {
    // Known to be down: answer at once instead of queueing behind a connection that is not there.
    if (!redisUsable(this.redis)) return this.failOpen(limit, new Error(`Redis connection is ${this.redis.status}`));
    try {
      const [allowed, remaining, waitMs] = await this.run(`ratelimit:${keyId}`, limit);
      if (allowed === 1) return { allowed: true, retryAfterSeconds: 0, remaining };
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)), remaining: 0 };
    } catch (e) {
      return this.failOpen(limit, e);
    }
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }

  private async run(key: string, limit: number): Promise<[number, number, number]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const reply = (this.redis as ScriptedRedis).reelayRateLimitHit(key, String(limit));
      return await Promise.race([reply, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Allowed, with the remaining count a full bucket would show (the real one is unknown). */
  private failOpen(limit: number, err: unknown): RateDecision {
    const now = this.now();
    if (now - this.lastLogAt >= LOG_EVERY_MS) {
      this.lastLogAt = now;
      this.opts.logger?.warn({ err }, 'rate limiter: Redis unavailable, allowing requests without a rate limit (logged once per minute)');
    }
    return { allowed: true, retryAfterSeconds: 0, remaining: Math.max(0, limit - 1) };
  }
}
