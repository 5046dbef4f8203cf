/**
 * GET /v1/tasks/{id} at each stage of a task (exact shape of contract §4), progress that never goes back,
 * cancellation, and GET /v1/tasks: newest first, status and model filters, cursor paging, bad queries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { balanceOf, expectError, sleep, submit } from './helpers.ts';

const LATENCY_MS = 1500;

let t: TestGateway;
let pricing: Record<string, any>;

/** The listing suite's tasks, submitted at the start so they finish while the other tests run. */
let listReady: Promise<{ key: string; ids: string[] }>;

async function submitListTasks(): Promise<{ key: string; ids: string[] }> {
  const { key } = await t.newKey(100);
  const ids: string[] = [];
  // failed, failed, cancelled, completed, failed — sim:fail fails without rendering, so this is quick.
  ids.push(await submit(t, key, { model: 'veo3.1-fast-official', prompt: 'one sim:fail', duration: 4 }));
  ids.push(await submit(t, key, { model: 'Omni-Flash-Ext', prompt: 'two sim:fail', duration: 4 }));
  ids.push(await submit(t, key, { model: 'veo3.1-fast-official', prompt: 'three', duration: 4 }));
  expect((await t.call(key, 'POST', `/v1/tasks/${ids[2]}/cancel`)).status).toBe(200);
  ids.push(await submit(t, key, { model: 'veo3.1-fast-official', prompt: 'four', duration: 4 }));
  ids.push(await submit(t, key, { model: 'veo3.1-fast-official', prompt: 'five sim:fail', duration: 4 }));
  await Promise.all(ids.map((id) => t.waitFor(key, id, 30_000)));
  return { key, ids };
}

beforeAll(async () => {
  t = await startTestGateway({ REELAY_SIM_LATENCY_MS: String(LATENCY_MS) });
  const k = await t.newKey(1);
  pricing = Object.fromEntries((await t.call(k.key, 'GET', '/v1/models')).body.data.map((m: any) => [m.id, m.pricing]));
  listReady = submitListTasks();
  listReady.catch(() => undefined); // reported by the listing suite's beforeAll
});
afterAll(async () => t?.close());

const get = async (key: string, id: string) => {
  const r = await t.call(key, 'GET', `/v1/tasks/${id}`);
  expect(r.status).toBe(200);
  expect(Object.keys(r.body).sort()).toEqual(['code', 'data']);
  expect(r.body.code).toBe(200);
  return r.body.data;
};

const UNFINISHED_KEYS = ['cost', 'created', 'estimated_time', 'id', 'model', 'progress', 'status'];

// Each test has its own key; they wait on the simulator, so they run side by side.
describe.concurrent('GET /v1/tasks/{id}', () => {
  it('has the contract shape at every stage: pending, processing, completed; progress never goes back', async () => {
    const { key } = await t.newKey(100);
    const before = Math.floor(Date.now() / 1000);
    const id = await submit(t, key, { model: 'veo3.1-fast-official', prompt: 'a kite over a field', duration: 8 });

    const first = await get(key, id);
    expect(Object.keys(first).sort()).toEqual(UNFINISHED_KEYS);
    expect(first).toMatchObject({ id, model: 'veo3.1-fast-official', status: 'pending', cost: 0 });
    expect(first.progress).toBeGreaterThanOrEqual(0);
    expect(first.progress).toBeLessThan(100);
    expect(first.created).toBeGreaterThanOrEqual(before);
    expect(first.created).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(Number.isInteger(first.estimated_time) && first.estimated_time > 0).toBe(true);

    // Poll as fast as a client could; every answer must be well-formed and nothing may go backwards.
    const seen: any[] = [first];
    for (;;) {
      const d = await get(key, id);
      seen.push(d);
      if (['completed', 'failed', 'cancelled'].includes(d.status)) break;
      expect(Object.keys(d).sort()).toEqual(UNFINISHED_KEYS);
      expect(d.cost).toBe(0);
      expect(seen.length).toBeLessThan(20_000);
      await sleep(5);
    }
    const order = ['pending', 'processing', 'completed'];
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i].progress, `poll ${i}: ${seen[i - 1].progress} → ${seen[i].progress}`).toBeGreaterThanOrEqual(seen[i - 1].progress);
      expect(order.indexOf(seen[i].status)).toBeGreaterThanOrEqual(order.indexOf(seen[i - 1].status));
    }
    const statuses = [...new Set(seen.map((d) => d.status))];
    expect(statuses).toEqual(['pending', 'processing', 'completed']);
    const processing = seen.filter((d) => d.status === 'processing');
    expect(processing.every((d) => d.progress > 0 && d.progress < 100)).toBe(true);
    // Several distinct progress values were shown on the way.
    expect(new Set(seen.map((d) => d.progress)).size).toBeGreaterThan(3);

    const done = seen[seen.length - 1];
    expect(Object.keys(done).sort()).toEqual([...UNFINISHED_KEYS, 'actual_time', 'completed', 'result'].sort());
    expect(done.status).toBe('completed');
    expect(done.progress).toBe(100);
    expect(done.completed).toBeGreaterThanOrEqual(done.created);
    expect(Math.abs(done.actual_time - (done.completed - done.created))).toBeLessThanOrEqual(1);
    expect(done.cost).toBeCloseTo(pricing['veo3.1-fast-official'].per_second['720p'] * 8, 6);
    expect(Object.keys(done.result)).toEqual(['videos']);
    expect(done.result.videos).toHaveLength(1);
    const v = done.result.videos[0];
    expect(Object.keys(v).sort()).toEqual(['expires_at', 'url']);
    expect(Array.isArray(v.url) && v.url.length === 1 && typeof v.url[0] === 'string').toBe(true);
    // The default retention is a day.
    expect(v.expires_at).toBeGreaterThan(done.completed + 86_400 - 5);
    expect(v.expires_at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 86_400);
    // The answer is stable once finished.
    const again = await get(key, id);
    expect({ ...again, result: undefined }).toEqual({ ...done, result: undefined });
    expect(await balanceOf(t, key)).toEqual({ remain: 100 - done.cost, used: done.cost, held: 0 });
  }, 60_000);

  it('a cancelled task: cost 0, an error saying so, refunded in full; cancelling again is 409', async () => {
    const { key } = await t.newKey(100);
    const id = await submit(t, key, { model: 'veo3.1-quality-official', prompt: 'never mind', duration: 4 });
    const held = await balanceOf(t, key);
    expect(held.held).toBeGreaterThan(0);
    expect(held.remain).toBeCloseTo(100 - held.held, 6);

    const c = await t.call(key, 'POST', `/v1/tasks/${id}/cancel`);
    expect(c.status).toBe(200);
    expect(c.body.data).toMatchObject({ id, status: 'cancelled', cost: 0, progress: 100, error: { code: 'cancelled' } });
    const d = await get(key, id);
    expect(Object.keys(d).sort()).toEqual([...UNFINISHED_KEYS, 'actual_time', 'completed', 'error'].sort());
    expect(Object.keys(d.error).sort()).toEqual(['code', 'message']);
    expect(await balanceOf(t, key)).toEqual({ remain: 100, used: 0, held: 0 });

    expectError(await t.call(key, 'POST', `/v1/tasks/${id}/cancel`), 409, 'task_not_cancellable', 'task_id', 'conflict');
    // It stays cancelled: the engine does not bring it back.
    await sleep(LATENCY_MS + 700);
    expect((await get(key, id)).status).toBe('cancelled');
    expect(await balanceOf(t, key)).toEqual({ remain: 100, used: 0, held: 0 });
  }, 30_000);

  it('an unknown, malformed or overlong id is 404 not_found', async () => {
    const { key } = await t.newKey(1);
    for (const id of ['task_01J9HA7JPQ9A0Z6JZ3V8M9W6PZ', 'nope', `task_${'A'.repeat(200)}`]) {
      expectError(await t.call(key, 'GET', `/v1/tasks/${id}`), 404, 'not_found', 'task_id', 'not_found');
    }
  });
});

describe('GET /v1/tasks', () => {
  let key: string;
  /** In submission order: t[0] oldest. */
  const ids: string[] = [];
  const list = async (q: string) => {
    const r = await t.call(key, 'GET', `/v1/tasks${q}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['code', 'data', 'has_more', 'next_cursor']);
    return r.body as { data: any[]; has_more: boolean; next_cursor: string | null };
  };

  beforeAll(async () => {
    ({ key } = await listReady);
    ids.push(...(await listReady).ids);
  }, 40_000);

  it('lists the key’s tasks newest first, in the task view', async () => {
    const page = await list('');
    expect(page.data.map((d) => d.id)).toEqual([...ids].reverse());
    expect(page.has_more).toBe(false);
    expect(page.next_cursor).toBeNull();
    expect(page.data.map((d) => d.status)).toEqual(['failed', 'completed', 'cancelled', 'failed', 'failed']);
    expect(page.data[1].result.videos[0].url[0]).toMatch(/\/files\/results\//);
    expect(page.data[0].error.code).toBeTruthy();
  });

  it.each([
    ['?status=failed', [4, 1, 0]],
    ['?status=cancelled', [2]],
    ['?status=completed', [3]],
    ['?status=pending', []],
    ['?model=Omni-Flash-Ext', [1]],
    ['?model=veo3.1-fast-official&status=failed', [4, 0]],
    ['?model=veo3.1-quality-official', []],
  ])('filter %s', async (q, expected) => {
    const page = await list(q);
    expect(page.data.map((d) => d.id)).toEqual(expected.map((i) => ids[i]));
    expect(page.has_more).toBe(false);
  });

  it('the model filter matches ids without regard to case, as submit does', async () => {
    const page = await list('?model=omni-flash-ext');
    expect(page.data.map((d) => d.id)).toEqual([ids[1]]);
  });

  it('pages with limit and next_cursor until has_more is false', async () => {
    const p1 = await list('?limit=2');
    expect(p1.data.map((d) => d.id)).toEqual([ids[4], ids[3]]);
    expect(p1.has_more).toBe(true);
    expect(p1.next_cursor).toMatch(/^task_/);
    const p2 = await list(`?limit=2&cursor=${p1.next_cursor}`);
    expect(p2.data.map((d) => d.id)).toEqual([ids[2], ids[1]]);
    expect(p2.has_more).toBe(true);
    const p3 = await list(`?limit=2&cursor=${p2.next_cursor}`);
    expect(p3.data.map((d) => d.id)).toEqual([ids[0]]);
    expect(p3.has_more).toBe(false);
    expect(p3.next_cursor).toBeNull();
  });

  it('pages within a filter', async () => {
    const p1 = await list('?status=failed&limit=2');
    expect(p1.data.map((d) => d.id)).toEqual([ids[4], ids[1]]);
    expect(p1.has_more).toBe(true);
    const p2 = await list(`?status=failed&limit=2&cursor=${p1.next_cursor}`);
    expect(p2.data.map((d) => d.id)).toEqual([ids[0]]);
    expect(p2.has_more).toBe(false);
  });

  it('a page exactly as long as what is left says has_more false', async () => {
    const p = await list('?limit=5');
    expect(p.data).toHaveLength(5);
    expect(p.has_more).toBe(false);
    expect(p.next_cursor).toBeNull();
  });

  it.each([
    ['?status=done', 'invalid_query', 'status'],
    ['?limit=0', 'invalid_query', 'limit'],
    ['?limit=101', 'invalid_query', 'limit'],
    ['?limit=abc', 'invalid_query', 'limit'],
    ['?limit=2.5', 'invalid_query', 'limit'],
    ['?model=sora-2', 'invalid_query', 'model'],
    ['?cursor=abc', 'invalid_cursor', 'cursor'],
    ['?cursor=task_short', 'invalid_cursor', 'cursor'],
  ])('%s → 400 %s on %s', async (q, code, param) => {
    expectError(await t.call(key, 'GET', `/v1/tasks${q}`), 400, code, param, 'invalid_request_error');
  });
});
