/**
 * A Redis outage degrades a process (rate limits fail open, wake-ups fall back to polling the store) but
 * must not take it out of a load balancer's rotation: /readyz stays 200 and says so in the redis check.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { adminRedis, closedPortUrl, deleteKeys, redisAvailable, TEST_REDIS_URL, testPrefix } from '../helpers/redis.ts';

const up = await redisAvailable();
const prefix = testPrefix();
const gateways: TestGateway[] = [];

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  if (up) {
    const admin = adminRedis();
    await deleteKeys(admin, prefix);
    admin.disconnect();
  }
});

async function readyz(g: TestGateway) {
  const r = await fetch(`${g.url}/readyz`);
  const body = (await r.json()) as { status: string; checks: { name: string; ok: boolean; detail: any }[] };
  return { status: r.status, body, redis: body.checks.find((c) => c.name === 'redis') };
}

describe('/readyz with Redis configured', () => {
  it('Redis unreachable: 200, the redis check says it is not connected, and submits are still served', async () => {
    const g = await startTestGateway({ REELAY_REDIS_URL: await closedPortUrl(), REELAY_REDIS_PREFIX: prefix });
    gateways.push(g);
    const r = await readyz(g);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ready');
    expect(r.redis).toMatchObject({ ok: true, detail: { connected: false, degraded: expect.stringMatching(/fail open/) } });
    const { key } = await g.newKey(10, { rate_limit_rpm: 5 });
    const submit = await g.call(key, 'POST', '/v1/videos/generations', { model: 'veo3.1-fast-official', prompt: 'no redis', duration: 4 });
    expect(submit.status).toBe(200);
  });

  it.skipIf(!up)('Redis reachable: 200 and connected', async () => {
    const g = await startTestGateway({ REELAY_REDIS_URL: TEST_REDIS_URL, REELAY_REDIS_PREFIX: prefix });
    gateways.push(g);
    const r = await readyz(g);
    expect(r.status).toBe(200);
    expect(r.redis).toMatchObject({ ok: true, detail: { connected: true } });
  });
});
