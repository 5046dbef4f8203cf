/**
 * The simulator's `sim:fail` prompt: the task fails the way an upstream failure does — status failed, an
 * error with the upstream's words, cost 0 — and the hold goes back to the balance in full, exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { balanceOf, sleep, submit } from './helpers.ts';

let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway({ REELAY_SIM_LATENCY_MS: '100' });
});
afterAll(async () => t?.close());

// Each case has its own key, so they run side by side.
describe.concurrent('sim:fail', () => {
  it.each([
    ['happyhorse-1.0', { prompt: 'a horse, sim:fail please' }],
    ['viduq3', { prompt: 'SIM:FAIL in capitals', image_urls: ['https://example.com/a.png'], duration: 3 }],
    ['veo3.1-quality-official', { prompt: 'sim:fail', generate_audio: true, sample_count: 2 }],
  ])('%s: failed, upstream-style message, cost 0, refunded in full', async (model, fields) => {
    const { id: keyId, key } = await t.newKey(50);
    const taskId = await submit(t, key, { model, ...fields });
    const during = await balanceOf(t, key);
    expect(during.held).toBeGreaterThan(0);
    expect(during.remain).toBeCloseTo(50 - during.held, 6);

    const done = await t.waitFor(key, taskId, 30_000);
    expect(done.status).toBe('failed');
    expect(done.cost).toBe(0);
    expect(done.progress).toBe(100); // as in the Omni-Flash-Ext seed's failed example
    expect(done.result).toBeUndefined();
    expect(Object.keys(done.error).sort()).toEqual(['code', 'message']);
    expect(done.error.code).toBe('upstream_error');
    // What the upstream said, in plain words: its error name and why.
    expect(done.error.message).toMatch(/upstream/i);
    expect(done.error.message).toContain('InternalError.Algo');
    expect(done.completed).toBeGreaterThanOrEqual(done.created);
    expect(done.actual_time).toBeGreaterThanOrEqual(0);

    expect(await balanceOf(t, key)).toEqual({ remain: 50, used: 0, held: 0 });
    const ledger = (await t.admin('GET', `/admin/keys/${keyId}/ledger`)).body.data.filter((e: any) => e.task_id === taskId);
    expect(ledger.map((e: any) => e.kind).sort()).toEqual(['hold', 'refund']);
    expect(ledger).toHaveLength(2); // the hold and its full return, nothing else
    expect(ledger.reduce((a: number, e: any) => a + e.amount, 0)).toBeCloseTo(0, 6);
    expect(ledger.reduce((a: number, e: any) => a + e.spent_change, 0)).toBe(0);

    // Refunded once: nothing moves later.
    await sleep(300);
    expect(await balanceOf(t, key)).toEqual({ remain: 50, used: 0, held: 0 });
    expect((await t.call(key, 'GET', `/v1/tasks/${taskId}`)).body.data).toEqual(done);
  });

  it('a failed task cannot be cancelled (409) and cancelling does not refund twice', async () => {
    const { key } = await t.newKey(20);
    const taskId = await submit(t, key, { model: 'Omni-Flash-Ext', prompt: 'sim:fail', duration: 4 });
    await t.waitFor(key, taskId, 30_000);
    const r = await t.call(key, 'POST', `/v1/tasks/${taskId}/cancel`);
    expect(r.status).toBe(409);
    expect(await balanceOf(t, key)).toEqual({ remain: 20, used: 0, held: 0 });
  });
});
