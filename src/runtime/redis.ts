/**
 * Redis connections for multi-process mode (shared rate limits, wake-ups between processes).
 *
 * The key prefix travels with the client as ioredis' `keyPrefix`, so every key a script or command names
 * is namespaced without the callers repeating it. Pub/sub channels are not keys (ioredis does not prefix
 * them); use `redisPrefix()` to build channel names.
 *
 * Redis here is an accelerator, never a dependency the API waits on: callers check `redisUsable()` and skip
 * Redis while it is known to be down instead of piling commands into ioredis' offline queue.
 */
import { Redis, type RedisOptions } from 'ioredis';

export interface CreateRedisOptions {
  /** Shown in CLIENT LIST, to tell reelay's connections apart. */
  name?: string;
  /** How long one connection attempt may take, ms. */
  connectTimeoutMs?: number;
}

/** Connection state as seen from events; statuses alone cannot tell a first connect from a reconnect. */
const down = new WeakMap<Redis, boolean>();

export function createRedis(url: string, prefix: string, opts: CreateRedisOptions = {}): Redis {
  const redis = new Redis(url, {
    // Nothing connects at construction; the first command (or an explicit connect()) does.
    lazyConnect: true,
    keyPrefix: prefix,
    connectionName: opts.name,
    // Short, so an unreachable host is noticed quickly; the requests waiting on it fail open meanwhile.
    connectTimeout: opts.connectTimeoutMs ?? 1000,
    // Commands queued before a connection exists fail after one failed reconnect instead of 20.
    maxRetriesPerRequest: 1,
    // Reconnect forever (polling the store covers the gap), quickly at first, then every ~2 s. Jitter keeps
    // many gateway processes from reconnecting in lockstep after a Redis restart.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times - 1, 6), 2000) + Math.floor(Math.random() * 100),
  });
  track(redis);
  return redis;
}

/** A second connection with the same settings and prefix (a subscriber cannot send ordinary commands). */
export function duplicateRedis(redis: Redis, overrides: RedisOptions = {}): Redis {
  const copy = redis.duplicate(overrides);
  track(copy);
  return copy;
}

function track(redis: Redis): void {
  down.set(redis, false);
  // The listener also keeps ioredis from printing "Unhandled error event" for every failed reconnect;
  // callers report outages themselves, at a sensible rate.
  redis.on('error', () => down.set(redis, true));
  redis.on('close', () => down.set(redis, true));
  redis.on('ready', () => down.set(redis, false));
}

/**
 * Whether a command sent now is expected to get an answer soon: the connection is up, or the first
 * connection is still being made. False while Redis is known to be unreachable or after close.
 */
export function redisUsable(redis: Redis): boolean {
  if (redis.status === 'ready') return true;
  if (redis.status === 'end') return false;
  return down.get(redis) === false;
}

export function redisPrefix(redis: Redis): string {
  return redis.options.keyPrefix ?? '';
}

/** Closes gracefully when connected (pending replies arrive first), at once otherwise. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // fall through: the connection broke while quitting
    }
  }
  redis.disconnect();
}
