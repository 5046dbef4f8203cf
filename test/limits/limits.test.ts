/**
 * Per-key limits over HTTP: requests per minute (429 rate_limit_error with Retry-After), unfinished tasks
 * at once (429 concurrency_limit_exceeded), allowed models (403), and the gateway's queue limits (503).
 * Refused requests create nothing and charge nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const T2V = { model: 'happyhorse-1.0', prompt: 'limits', resolution: '720P', duration: 3 };

describe('per-key limits', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ REELAY_SIM_LATENCY_MS: '5000' });
  });
  afterAll(async () => t?.close());

  it('requests per minute: the budget, then 429 rate_limit_error with Retry-After', async () => {
    const k = await t.newKey(10, { rate_limit_rpm: 5 });
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await t.call(k.key, 'GET', '/v1/balance');
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(last!.body.error).toMatchObject({ code: 'rate_limit_error', type: 'rate_limit_error' });
    const retryAfter = Number(last!.headers.get('retry-after'));
    // 5 per minute refill one every 12 s.
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(12);
    // Another key is not affected.
    const other = await t.newKey(10, { rate_limit_rpm: 5 });
    expect((await t.call(other.key, 'GET', '/v1/balance')).status).toBe(200);
  });

  it('unfinished tasks at once: 429 with its own code, and a slot frees when a task finishes', async () => {
    const k = await t.newKey(10, { max_concurrent_tasks: 2 });
    const a = await t.call(k.key, 'POST', '/v1/videos/generations', T2V);
    await t.call(k.key, 'POST', '/v1/videos/generations', T2V);
    const third = await t.call(k.key, 'POST', '/v1/videos/generations', T2V);
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('concurrency_limit_exceeded');
    expect(third.body.error.type).toBe('rate_limit_error');
    expect(third.headers.get('retry-after')).toBeTruthy();
    expect((await t.call(k.key, 'GET', '/v1/balance')).body.held_balance).toBe(0.6);
    await t.call(k.key, 'POST', `/v1/tasks/${a.body.data[0].task_id}/cancel`);
    expect((await t.call(k.key, 'POST', '/v1/videos/generations', T2V)).status).toBe(200);
  });

  it('allowed models: another model is 403 permission_denied naming what the key may use', async () => {
    const k = await t.newKey(10, { models: ['viduq3', 'viduq3-mix'] });
    const r = await t.call(k.key, 'POST', '/v1/videos/generations', T2V);
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: 'permission_denied', param: 'model' });
    expect(r.body.error.message).toContain('viduq3, viduq3-mix');
    expect((await t.call(k.key, 'GET', '/v1/models')).body.data.map((m: { id: string }) => m.id)).toEqual(['viduq3', 'viduq3-mix']);
    expect((await t.call(k.key, 'GET', '/v1/balance')).body.remain_balance).toBe(10);
  });
});

describe('queue limits', () => {
  it('answer 503 queue_full quickly once a model’s queue is full, with Retry-After', async () => {
    const t = await startTestGateway({ REELAY_SIM_LATENCY_MS: '60000', REELAY_LIMITS_MAX_QUEUED_PER_MODEL: '{"happyhorse-1.0": 3}' });
    try {
      const k = await t.newKey(100);
      for (let i = 0; i < 3; i++) expect((await t.call(k.key, 'POST', '/v1/videos/generations', T2V)).status).toBe(200);
      // The gauge is refreshed at most every 250 ms.
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      const full = await t.call(k.key, 'POST', '/v1/videos/generations', T2V);
      expect(Date.now() - started).toBeLessThan(200);
      expect(full.status).toBe(503);
      expect(full.body.error.code).toBe('queue_full');
      expect(full.headers.get('retry-after')).toBe('10');
      // Other models still have room.
      expect((await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'wan2.5-preview', prompt: 'x' })).status).toBe(200);
      expect((await t.call(k.key, 'GET', '/v1/balance')).body.held_balance).toBe(0.9 + 0.5);
    } finally {
      await t.close();
    }
  });

  it('a global limit applies across models', async () => {
    const t = await startTestGateway({ REELAY_SIM_LATENCY_MS: '60000', REELAY_LIMITS_MAX_QUEUED: '2' });
    try {
      const k = await t.newKey(100);
      await t.call(k.key, 'POST', '/v1/videos/generations', T2V);
      await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'wan2.5-preview', prompt: 'x' });
      await new Promise((r) => setTimeout(r, 300));
      expect((await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'viduq3', prompt: 'x', image_urls: ['https://e.com/a.png'] })).status).toBe(503);
    } finally {
      await t.close();
    }
  });
});
