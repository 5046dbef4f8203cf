/**
 * Usage: GET /admin/usage per key, model and day, and the same figures as Prometheus metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

describe('usage', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ REELAY_SIM_LATENCY_MS: '50' });
  });
  afterAll(async () => t?.close());

  it('admin usage and /metrics report the same spend per key and model', async () => {
    const a = await t.newKey(10);
    const b = await t.newKey(10);
    const submit = async (key: string, body: Record<string, unknown>) => t.waitFor(key, (await t.call(key, 'POST', '/v1/videos/generations', body)).body.data[0].task_id);
    await submit(a.key, { model: 'happyhorse-1.0', prompt: 'one', resolution: '720P', duration: 3 });
    await submit(a.key, { model: 'happyhorse-1.0', prompt: 'two', resolution: '720P', duration: 4 });
    await submit(a.key, { model: 'wan2.5-preview', prompt: 'sim:fail', resolution: '480p' });
    await submit(b.key, { model: 'veo3.1-fast-official', prompt: 'three', duration: 4 });

    const day = new Date().toISOString().slice(0, 10);
    const rows = (await t.admin('GET', `/admin/usage?key_id=${a.id}`)).body.data;
    expect(rows).toEqual(
      expect.arrayContaining([
        { key_id: a.id, model: 'happyhorse-1.0', day, tasks: 2, completed: 2, failed: 0, cancelled: 0, spent: 0.7, billed_seconds: 7 },
        { key_id: a.id, model: 'wan2.5-preview', day, tasks: 1, completed: 0, failed: 1, cancelled: 0, spent: 0, billed_seconds: 0 },
      ]),
    );
    expect((await t.admin('GET', `/admin/usage?model=veo3.1-fast-official&from=${day}&to=${day}`)).body.data).toEqual([
      { key_id: b.id, model: 'veo3.1-fast-official', day, tasks: 1, completed: 1, failed: 0, cancelled: 0, spent: 0.4, billed_seconds: 4 },
    ]);
    expect((await t.admin('GET', '/admin/usage?from=yesterday')).status).toBe(400);

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toContain(`reelay_usage_spent{key_id="${a.id}",model="happyhorse-1.0"} 0.7`);
    expect(metrics).toContain(`reelay_usage_billed_seconds{key_id="${b.id}",model="veo3.1-fast-official"} 4`);
    expect(metrics).toContain(`reelay_usage_tasks{key_id="${a.id}",model="wan2.5-preview",status="failed"} 1`);
    expect(metrics).toMatch(/reelay_tasks_finished_total\{model="happyhorse-1.0",status="completed"\} [1-9]/);
  });
});
