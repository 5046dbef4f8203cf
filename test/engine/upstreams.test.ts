/**
 * The engine driving real adapters against fake upstreams: failover, refunds with the upstream's reason,
 * rate limits, duplicate results, cancellation and timeouts — always checking that money moved exactly once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApimartFake } from '../../src/providers/apimart/fake.ts';
import { FAKE_FAIL_MARKER, FAKE_FAIL_REASON } from '../../src/providers/fakes/fakeJobs.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { expectLedgerConsistent } from '../contracts/store.contract.ts';

const KEY = 'sk-fake-apimart';

function channel(name: string, url: string, priority: number, extra: Record<string, unknown> = {}) {
  return { name, provider: 'apimart', base_url: url, api_key: KEY, priority, poll_min_ms: 40, poll_max_ms: 150, webhooks: false, ...extra };
}

async function ledgerKinds(t: TestGateway, taskId: string): Promise<string[]> {
  const r = await t.admin('GET', `/admin/ledger?task_id=${taskId}`);
  return r.body.data.map((e: { kind: string }) => e.kind).sort();
}

describe('engine with upstream channels', () => {
  let a: ApimartFake;
  let b: ApimartFake;
  let t: TestGateway;

  beforeAll(async () => {
    a = new ApimartFake({ apiKey: KEY });
    b = new ApimartFake({ apiKey: KEY });
    await a.start();
    await b.start();
    t = await startTestGateway({}, { channels: [channel('first', a.url, 0), channel('second', b.url, 1)], allow_private_hosts: ['127.0.0.1'], engine: { max_submit_rounds: 2 } });
  });
  afterAll(async () => {
    await t?.close();
    await a?.close();
    await b?.close();
  });
  afterEach(() => {
    a.jobs.latencyMs = 60;
    b.jobs.latencyMs = 60;
  });

  /** The fake that holds the task (failover and cooldown decide which). */
  async function fakeOf(id: string): Promise<ApimartFake> {
    for (let i = 0; i < 100 && (await t.gw.store.getTask(id))?.phase !== 'submitted'; i++) await new Promise((res) => setTimeout(res, 20));
    return (await t.gw.store.getTask(id))?.upstream?.channel === 'second' ? b : a;
  }

  it('fails over to the second channel when the first answers 503, and charges each task once', async () => {
    const k = await t.newKey(100);
    a.server.failNext('submit', { status: 503, body: { error: { message: 'overloaded' } } }, 1000);
    const before = b.server.requestsOf('submit').length;
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'happyhorse-1.0', prompt: `shot ${i}`, resolution: '720P', duration: 4 });
      expect(r.status).toBe(200);
      ids.push(r.body.data[0].task_id);
    }
    for (const id of ids) {
      const task = await t.waitFor(k.key, id);
      expect(task.status).toBe('completed');
      expect(task.cost).toBe(0.4);
      expect(await ledgerKinds(t, id)).toEqual(['hold', 'settle']);
    }
    expect(b.server.requestsOf('submit').length - before).toBe(6);
    expect(a.server.requestsOf('submit').length).toBeGreaterThanOrEqual(1);
    const bal = await t.call(k.key, 'GET', '/v1/balance');
    expect(bal.body.remain_balance).toBe(100 - 6 * 0.4);
    await expectLedgerConsistent(t.gw.store, k.id);
    a.server.failNext('submit', { status: 503 }, 0);
  });

  it('an upstream failure fails the task with the upstream’s reason and refunds it', async () => {
    const k = await t.newKey(10);
    const r = await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'wan2.5-preview', prompt: `neon ${FAKE_FAIL_MARKER}` });
    const task = await t.waitFor(k.key, r.body.data[0].task_id);
    expect(task.status).toBe('failed');
    expect(task.cost).toBe(0);
    expect(task.error.code).toBe('upstream_error');
    expect(task.error.message).toContain(FAKE_FAIL_REASON);
    expect(await ledgerKinds(t, task.id)).toEqual(['hold', 'refund']);
    expect((await t.call(k.key, 'GET', '/v1/balance')).body.remain_balance).toBe(10);
  });

  it('an upstream 429 while polling slows the channel without failing the task', async () => {
    const k = await t.newKey(10);
    a.jobs.latencyMs = 300;
    b.jobs.latencyMs = 300;
    const r = await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'happyhorse-1.0', prompt: 'waves', resolution: '720P', duration: 3 });
    const up = await fakeOf(r.body.data[0].task_id);
    const polls = up.server.requestsOf('status').length;
    up.server.failNext('status', { status: 429, headers: { 'retry-after': '1' }, body: { error: { message: 'slow down' } } }, 3);
    const task = await t.waitFor(k.key, r.body.data[0].task_id);
    expect(task.status).toBe('completed');
    // Three 429s, each honoured (Retry-After 1 s), then the polls that saw it through.
    expect(up.server.requestsOf('status').length - polls).toBeGreaterThanOrEqual(4);
    expect(await ledgerKinds(t, task.id)).toEqual(['hold', 'settle']);
  });

  it('results reported twice (callbacks racing the poller) settle once', async () => {
    const k = await t.newKey(10);
    a.jobs.latencyMs = 400;
    b.jobs.latencyMs = 400;
    const r = await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'happyhorse-1.0', prompt: 'twice', resolution: '720P', duration: 3 });
    const id = r.body.data[0].task_id;
    await fakeOf(id);
    // Fire the upstream callback for this task many times while it runs and completes.
    const hook = new URL(t.gw.ctx.hooks.urlFor((await t.gw.store.getTask(id))!.upstream!.channel, id));
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${t.url}${hook.pathname}${hook.search}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(200);
      await new Promise((res2) => setTimeout(res2, 30));
    }
    const task = await t.waitFor(k.key, id);
    expect(task.status).toBe('completed');
    expect(await ledgerKinds(t, id)).toEqual(['hold', 'settle']);
    const forged = await fetch(`${t.url}${hook.pathname}?sig=forged`, { method: 'POST' });
    expect(forged.status).toBe(401);
    await expectLedgerConsistent(t.gw.store, k.id);
  });

  it('cancel stops the task at the upstream, refunds it once, and a second cancel is a 409', async () => {
    const k = await t.newKey(10);
    a.jobs.latencyMs = 5000;
    b.jobs.latencyMs = 5000;
    const r = await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'happyhorse-1.0', prompt: 'long', resolution: '720P', duration: 3 });
    const id = r.body.data[0].task_id;
    // Wait until the upstream has it, so the cancel has something to tell.
    const up = await fakeOf(id);
    const c = await t.call(k.key, 'POST', `/v1/tasks/${id}/cancel`);
    expect(c.status).toBe(200);
    expect(c.body.data.status).toBe('cancelled');
    expect(c.body.data.cost).toBe(0);
    const again = await t.call(k.key, 'POST', `/v1/tasks/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('task_not_cancellable');
    for (let i = 0; i < 50 && up.server.requestsOf('cancel').length === 0; i++) await new Promise((res) => setTimeout(res, 20));
    expect(up.server.requestsOf('cancel').length).toBeGreaterThanOrEqual(1);
    expect(await ledgerKinds(t, id)).toEqual(['hold', 'refund']);
    expect((await t.call(k.key, 'GET', '/v1/balance')).body.remain_balance).toBe(10);
  });

  it('a task past its model’s maximum time fails as upstream_timeout, is refunded, and the upstream is told', async () => {
    const k = await t.newKey(10);
    a.jobs.latencyMs = 60_000;
    b.jobs.latencyMs = 60_000;
    const r = await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'happyhorse-1.0', prompt: 'forever', resolution: '720P', duration: 3 });
    const id = r.body.data[0].task_id;
    const up = await fakeOf(id);
    const cancelsBefore = up.server.requestsOf('cancel').length;
    // Move the deadline into the past, as if the model's maximum time had gone by.
    (t.gw.store as unknown as { db: { prepare(s: string): { run(...a: unknown[]): void } } }).db.prepare('UPDATE tasks SET deadline_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?').run(Date.now() - 1, id);
    await t.gw.sweepers!.sweepTimeouts();
    const task = await t.waitFor(k.key, id);
    expect(task.status).toBe('failed');
    expect(task.error.code).toBe('upstream_timeout');
    expect(up.server.requestsOf('cancel').length).toBe(cancelsBefore + 1);
    expect(await ledgerKinds(t, id)).toEqual(['hold', 'refund']);
  });

  it('when every channel keeps failing, the task fails as upstream_unavailable after the configured rounds and is refunded', async () => {
    const k = await t.newKey(10);
    a.server.failNext('submit', { status: 502, body: { error: { message: 'bad gateway A' } } }, 50);
    b.server.failNext('submit', { status: 503, body: { error: { message: 'unavailable B' } } }, 50);
    const r = await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'happyhorse-1.0', prompt: 'doomed', resolution: '720P', duration: 3 });
    const task = await t.waitFor(k.key, r.body.data[0].task_id, 20_000);
    expect(task.status).toBe('failed');
    expect(task.error.code).toBe('upstream_unavailable');
    expect(task.error.message).toMatch(/unavailable B|bad gateway A/);
    expect(await ledgerKinds(t, task.id)).toEqual(['hold', 'refund']);
    a.server.failNext('submit', { status: 503 }, 0);
  });
});
