/**
 * Idempotency-Key over HTTP: the same key and body within the window answer the same task with
 * `Idempotency-Replayed: true` and charge once — also when the requests race; a different body is a 409.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

describe('Idempotency-Key', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ REELAY_SIM_LATENCY_MS: '5000' });
  });
  afterAll(async () => t?.close());

  const body = { model: 'veo3.1-fast-official', prompt: 'once only', duration: 4 };

  it('replays the same task, charged once, with Idempotency-Replayed: true', async () => {
    const k = await t.newKey(10);
    const first = await t.call(k.key, 'POST', '/v1/videos/generations', body, { 'idempotency-key': 'order-42' });
    // Key order in the body does not matter.
    const again = await t.call(k.key, 'POST', '/v1/videos/generations', { duration: 4, prompt: 'once only', model: 'veo3.1-fast-official' }, { 'idempotency-key': 'order-42' });
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotency-replayed')).toBeNull();
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(again.body.data[0].task_id).toBe(first.body.data[0].task_id);
    expect((await t.call(k.key, 'GET', '/v1/balance')).body.held_balance).toBe(0.4);
    expect((await t.call(k.key, 'GET', '/v1/tasks')).body.data).toHaveLength(1);
  });

  it('racing requests with one key create one task and charge once', async () => {
    const k = await t.newKey(10);
    const results = await Promise.all(Array.from({ length: 25 }, () => t.call(k.key, 'POST', '/v1/videos/generations', body, { 'idempotency-key': 'race-1' })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.body.data[0].task_id)).size).toBe(1);
    expect(results.filter((r) => r.headers.get('idempotency-replayed') === 'true')).toHaveLength(24);
    expect((await t.call(k.key, 'GET', '/v1/balance')).body.held_balance).toBe(0.4);
  });

  it('the same key with a different body is 409 and creates nothing', async () => {
    const k = await t.newKey(10);
    await t.call(k.key, 'POST', '/v1/videos/generations', body, { 'idempotency-key': 'k-1' });
    const other = await t.call(k.key, 'POST', '/v1/videos/generations', { ...body, duration: 6 }, { 'idempotency-key': 'k-1' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect((await t.call(k.key, 'GET', '/v1/tasks')).body.data).toHaveLength(1);
  });

  it('keys are per API key, and a malformed key is refused', async () => {
    const a = await t.newKey(10);
    const b = await t.newKey(10);
    const ra = await t.call(a.key, 'POST', '/v1/videos/generations', body, { 'idempotency-key': 'shared' });
    const rb = await t.call(b.key, 'POST', '/v1/videos/generations', body, { 'idempotency-key': 'shared' });
    expect(rb.body.data[0].task_id).not.toBe(ra.body.data[0].task_id);
    const bad = await t.call(a.key, 'POST', '/v1/videos/generations', body, { 'idempotency-key': 'x'.repeat(300) });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('Idempotency-Key');
  });

  it('a replay of a task that has since finished still returns it (within the window)', async () => {
    const k = await t.newKey(10);
    const first = await t.call(k.key, 'POST', '/v1/videos/generations', body, { 'idempotency-key': 'later' });
    await t.call(k.key, 'POST', `/v1/tasks/${first.body.data[0].task_id}/cancel`);
    const again = await t.call(k.key, 'POST', '/v1/videos/generations', body, { 'idempotency-key': 'later' });
    expect(again.body.data[0].task_id).toBe(first.body.data[0].task_id);
    expect((await t.call(k.key, 'GET', '/v1/balance')).body.remain_balance).toBe(10);
  });
});

describe('the retention sweep', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ REELAY_SIM_LATENCY_MS: '100', REELAY_IDEMPOTENCY_WINDOW_SECONDS: '60', REELAY_RETENTION_RESULT_TTL_SECONDS: '60' });
  });
  afterAll(async () => t?.close());

  it('deletes Idempotency-Key records past the window and results past their expiry, and nothing younger', async () => {
    const k = await t.newKey(10);
    const body = { model: 'veo3.1-fast-official', prompt: 'kept for a minute', duration: 4 };
    const first = await t.call(k.key, 'POST', '/v1/videos/generations', body, { 'idempotency-key': 'sweep-1' });
    const id = first.body.data[0].task_id;
    const done = await t.waitFor(k.key, id);
    expect(done.status).toBe('completed');
    const db = (t.gw.store as unknown as { db: { prepare(s: string): { get(): { n: number } } } }).db;
    const records = () => db.prepare('SELECT count(*) AS n FROM idempotency').get().n;
    const resultKey = (await t.gw.store.getTask(id))!.result!.videos[0].key;
    expect(records()).toBe(1);

    // Within the window and before expiry: nothing goes.
    await t.gw.sweepers!.sweepRetention(Date.now());
    expect(records()).toBe(1);
    expect(await t.gw.ctx.storage.stat(resultKey)).toMatchObject({ key: resultKey, contentType: 'video/mp4' });

    // Past both: the record and the result's file go; the task keeps its row, without the result.
    const later = Date.now() + 120_000;
    await t.gw.sweepers!.sweepRetention(later);
    expect(records()).toBe(0);
    expect(await t.gw.ctx.storage.stat(resultKey)).toBeUndefined();
    expect((await t.gw.store.getTask(id))!.result).toBeNull();
  });
});
