import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryRateLimiter, type RateDecision } from '../../src/api/rateLimiter.ts';
import { RedisRateLimiter } from '../../src/api/redisRateLimiter.ts';
import { createRedis } from '../../src/runtime/redis.ts';
import { sleep, waitFor as waitUntil } from '../helpers/wait.ts';
import { adminRedis, closedPortUrl, deleteKeys, outageProxy, redisAvailable, TEST_REDIS_URL, testPrefix } from '../helpers/redis.ts';

const up = await redisAvailable();
const prefix = testPrefix();
const admin = adminRedis();
const limiters: RedisRateLimiter[] = [];

function limiter(url = TEST_REDIS_URL, opts: ConstructorParameters<typeof RedisRateLimiter>[1] = {}): RedisRateLimiter {
  const l = new RedisRateLimiter(createRedis(url, prefix), opts);
  limiters.push(l);
  return l;
}

function warnings() {
  const calls: unknown[] = [];
  return { calls, logger: { warn: (...args: unknown[]) => void calls.push(args) } as never };
}

const waitFor = (cond: () => Promise<boolean>, what: string) => waitUntil(cond, what, { ms: 5000, everyMs: 20 });

afterAll(async () => {
  await Promise.all(limiters.map((l) => l.close()));
  if (up) await deleteKeys(admin, prefix);
  admin.disconnect();
});

describe.skipIf(!up)('RedisRateLimiter against Redis', () => {
  it('decides a burst exactly like the memory limiter, Retry-After included', async () => {
    const redis = limiter();
    const memory = new MemoryRateLimiter(() => 1_000_000); // frozen clock: a burst of hits at one instant
    for (const limit of [1, 2, 3, 7]) {
      const fromRedis: RateDecision[] = [];
      const fromMemory: RateDecision[] = [];
      for (let i = 0; i < limit + 2; i++) {
        fromRedis.push(await redis.hit(`burst-${limit}`, limit));
        fromMemory.push(await memory.hit(`burst-${limit}`, limit));
      }
      expect(fromRedis).toEqual(fromMemory);
    }
    // spot-check what the comparison covered: limit 2 → one token per 30 s
    expect(await redis.hit('burst-2', 2)).toEqual({ allowed: false, retryAfterSeconds: 30, remaining: 0 });
  });

  it('refills one token per 60/N seconds, and no more', async () => {
    const l = limiter();
    const limit = 120; // one token per 500 ms
    const burst = await Promise.all(Array.from({ length: limit }, () => l.hit('refill', limit)));
    expect(burst.every((d) => d.allowed)).toBe(true);
    expect(await l.hit('refill', limit)).toEqual({ allowed: false, retryAfterSeconds: 1, remaining: 0 });
    await sleep(600);
    expect((await l.hit('refill', limit)).allowed).toBe(true);
    expect((await l.hit('refill', limit)).allowed).toBe(false);
  });

  it('keeps a budget per key', async () => {
    const l = limiter();
    expect((await l.hit('key-a', 1)).allowed).toBe(true);
    expect((await l.hit('key-a', 1)).allowed).toBe(false);
    expect((await l.hit('key-b', 1)).allowed).toBe(true);
  });

  it('stores buckets under <prefix>ratelimit:<keyId> and lets them expire once they would be full', async () => {
    const l = limiter();
    await l.hit('layout', 5); // 4 tokens left; the fifth is back after 12 s
    const ttl = await admin.pttl(`${prefix}ratelimit:layout`);
    expect(ttl).toBeGreaterThan(11_000);
    expect(ttl).toBeLessThanOrEqual(12_001);

    await l.hit('fast', 60_000); // one token per ms: full again almost at once
    await sleep(30);
    expect(await admin.exists(`${prefix}ratelimit:fast`)).toBe(0);
  });

  it('shares one budget exactly between processes under concurrent hits', async () => {
    const a = limiter();
    const b = limiter();
    const decisions = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).hit('shared', 30)));
    const allowed = decisions.filter((d) => d.allowed);
    expect(allowed).toHaveLength(30);
    // every token taken exactly once: the remaining counts seen are 29, 28, ..., 0
    expect(allowed.map((d) => d.remaining).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(decisions.filter((d) => !d.allowed).every((d) => d.retryAfterSeconds === 2)).toBe(true);
  });

  it('fails open during an outage and limits again once Redis is back', async () => {
    const proxy = await outageProxy();
    try {
      const { calls, logger } = warnings();
      const l = limiter(proxy.url, { logger });
      expect((await l.hit('outage', 1)).allowed).toBe(true);
      expect((await l.hit('outage', 1)).allowed).toBe(false);
      await proxy.cut();
      await sleep(10);
      const started = Date.now();
      for (let i = 0; i < 10; i++) expect((await l.hit('outage', 1)).allowed).toBe(true);
      expect(Date.now() - started).toBeLessThan(100); // known down: no waiting on Redis per request
      expect(calls).toHaveLength(1);
      await proxy.restore();
      // the bucket survived the outage: once reconnected, the key is limited again
      await waitFor(async () => !(await l.hit('outage', 1)).allowed, 'the limit to apply again');
    } finally {
      await proxy.close();
    }
  });
});

describe('RedisRateLimiter when Redis is unreachable', () => {
  it('allows requests (fail-open), answers fast and logs once per minute', async () => {
    let now = 0;
    const { calls, logger } = warnings();
    const l = limiter(await closedPortUrl(), { logger, now: () => now });
    const started = Date.now();
    const decisions = await Promise.all(Array.from({ length: 20 }, () => l.hit('k', 1)));
    for (let i = 0; i < 20; i++) decisions.push(await l.hit('k', 1));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(decisions.every((d) => d.allowed && d.retryAfterSeconds === 0 && d.remaining === 0)).toBe(true);
    expect(calls).toHaveLength(1);
    now += 59_000;
    await l.hit('k', 1);
    expect(calls).toHaveLength(1);
    now += 1_000;
    await l.hit('k', 1);
    expect(calls).toHaveLength(2);
  });

  it('allows a request when Redis accepts the connection but does not answer', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s)); // accepts, never replies
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const { calls, logger } = warnings();
      const l = limiter(`redis://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, { logger, timeoutMs: 100 });
      const started = Date.now();
      expect(await l.hit('k', 10)).toEqual({ allowed: true, retryAfterSeconds: 0, remaining: 9 });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(calls).toHaveLength(1);
      await l.close();
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
