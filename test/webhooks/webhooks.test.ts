/**
 * Client webhooks end to end: a receiver on loopback (allowed by the test's allow_private_hosts) fails its
 * first attempts; reelay retries with backoff until it gets a 2xx, signs every attempt, records each one,
 * and delivers the task object for completed, failed and cancelled tasks.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { verifyWebhook } from '../../src/webhooks/signature.ts';
import { WebhookDeliverer } from '../../src/webhooks/deliverer.ts';
import { silentLogger } from '../../src/runtime/logger.ts';

interface Received {
  headers: Record<string, string>;
  body: string;
  at: number;
}

class Receiver {
  readonly got: Received[] = [];
  /** Answers for the next requests, in order: a status, or 'drop' to cut the connection. */
  plan: (number | 'drop')[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      this.got.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const next = this.plan.shift() ?? 204;
      if (next === 'drop') return req.socket.destroy();
      res.writeHead(next).end();
    });
  });
  url = '';
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }
  close() {
    this.server.closeAllConnections();
    return new Promise<void>((r) => this.server.close(() => r()));
  }
  async waitFor(n: number, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (this.got.length < n) {
      if (Date.now() > deadline) throw new Error(`receiver got ${this.got.length} of ${n} requests`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('client webhooks', () => {
  let t: TestGateway;
  let rx: Receiver;
  beforeAll(async () => {
    rx = new Receiver();
    await rx.start();
    t = await startTestGateway({ REELAY_ALLOW_PRIVATE_HOSTS: '127.0.0.1', REELAY_WEBHOOKS_FIRST_RETRY_MS: '100' });
  });
  afterAll(async () => {
    await t?.close();
    await rx?.close();
  });

  it('retries a receiver that fails its first attempts, signs each attempt, and records them all', async () => {
    const k = await t.newKey(10);
    const secret = (await t.admin('GET', `/admin/keys/${k.id}`)).body.webhook_secret as string;
    rx.got.length = 0;
    rx.plan = [500, 'drop', 503];
    const r = await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'happyhorse-1.0', prompt: 'hooked', resolution: '720P', duration: 3, callback_url: rx.url });
    expect(r.status).toBe(200);
    const id = r.body.data[0].task_id;
    await rx.waitFor(4);
    const task = (await t.call(k.key, 'GET', `/v1/tasks/${id}`)).body.data;
    for (const got of rx.got) {
      expect(got.headers['x-reelay-event']).toBe('task.completed');
      expect(verifyWebhook(secret, got.headers, got.body, Math.floor(Date.now() / 1000))).toBe(true);
      expect(verifyWebhook('whsec_wrong', got.headers, got.body, Math.floor(Date.now() / 1000))).toBe(false);
      expect(JSON.parse(got.body)).toEqual(task);
    }
    // Backoff: each retry waits longer than the one before (100 ms, 200 ms, 400 ms, ±20%).
    const gaps = rx.got.slice(1).map((g, i) => g.at - rx.got[i].at);
    expect(gaps[0]).toBeGreaterThanOrEqual(70);
    expect(gaps[2]).toBeGreaterThan(gaps[0]);
    let delivery;
    for (let i = 0; i < 50; i++) {
      delivery = (await t.admin('GET', `/admin/webhooks?task_id=${id}`)).body.data[0];
      if (delivery?.deliveredAt) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(delivery.attempts).toBe(4);
    expect(delivery.attemptLog.map((a: { status: number | null }) => a.status)).toEqual([500, null, 503, 204]);
    expect(delivery.deliveredAt).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 500));
    expect(rx.got).toHaveLength(4); // delivered: no more attempts
  });

  it('delivers failed and cancelled tasks too', async () => {
    const k = await t.newKey(10);
    rx.got.length = 0;
    rx.plan = [];
    const failed = await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'wan2.5-preview', prompt: 'sim:fail please', callback_url: rx.url });
    await rx.waitFor(1);
    expect(rx.got[0].headers['x-reelay-event']).toBe('task.failed');
    expect(JSON.parse(rx.got[0].body)).toMatchObject({ id: failed.body.data[0].task_id, status: 'failed', cost: 0 });
    const slow = await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'happyhorse-1.0', prompt: 'cancel me', callback_url: rx.url, resolution: '720P', duration: 15 });
    await t.call(k.key, 'POST', `/v1/tasks/${slow.body.data[0].task_id}/cancel`);
    await rx.waitFor(2);
    expect(rx.got[1].headers['x-reelay-event']).toBe('task.cancelled');
    expect(JSON.parse(rx.got[1].body)).toMatchObject({ id: slow.body.data[0].task_id, status: 'cancelled' });
  });

  it('refuses callback URLs on loopback, private or link-local addresses unless the operator allows them', async () => {
    const strict = await startTestGateway();
    try {
      const k = await strict.newKey(10);
      for (const url of ['http://127.0.0.1:9/x', 'http://localhost/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest', 'http://[::1]/x', 'ftp://example.com/x', 'not a url']) {
        const r = await strict.call(k.key, 'POST', '/v1/videos/generations', { model: 'happyhorse-1.0', prompt: 'x', callback_url: url });
        expect(r.status, url).toBe(400);
        expect(r.body.error.param).toBe('callback_url');
      }
      expect((await strict.call(k.key, 'GET', '/v1/tasks')).body.data).toEqual([]);
      expect((await strict.call(k.key, 'GET', '/v1/balance')).body.remain_balance).toBe(10);
    } finally {
      await strict.close();
    }
  });
});

describe('webhook retry window', () => {
  it('gives up once the retry window has passed, recording the last attempt', async () => {
    const recorded: unknown[] = [];
    const store = {
      getTask: async () => ({ id: 'task_x', keyId: 'k', model: 'm', status: 'failed', progress: 100, createdAt: 0, completedAt: 1, estimatedSeconds: 1, costMicros: 0, result: null, error: { code: 'e', message: 'm' } }),
      getKey: async () => ({ webhookSecret: 's' }),
      recordWebhookAttempt: async (a: unknown, next: unknown) => void recorded.push([a, next]),
    } as never;
    const fetch = (async () => ({ status: 500, headers: {}, body: { resume() {} } })) as never;
    const d = new WebhookDeliverer(store, fetch, () => 'u', silentLogger, { timeoutMs: 1000, firstRetryMs: 100, retryWindowMs: 3_600_000, leaseMs: 1000, concurrency: 1, idleSleepMs: 100 });
    const base = { id: 1, taskId: 'task_x', keyId: 'k', url: 'https://x.example/h', event: 'failed', nextAttemptAt: 0, deliveredAt: null, abandonedAt: null, lastStatus: null, lastError: null };
    await d.deliver({ ...base, attempts: 3, createdAt: Date.now() - 1000 });
    await d.deliver({ ...base, attempts: 20, createdAt: Date.now() - 3_600_001 });
    expect((recorded[0] as [unknown, Record<string, number>])[1].nextAttemptAt).toBeGreaterThan(Date.now());
    expect((recorded[1] as [unknown, Record<string, number>])[1].abandonedAt).toBeGreaterThan(0);
    // The backoff doubles and is capped at 15 minutes.
    expect(d.backoff(1)).toBeLessThanOrEqual(120);
    expect(d.backoff(4)).toBeGreaterThanOrEqual(640);
    expect(d.backoff(40)).toBeLessThanOrEqual(15 * 60_000 * 1.2);
  });
});
