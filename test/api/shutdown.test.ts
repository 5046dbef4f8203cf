/**
 * Graceful shutdown and restart on the same data dir: a render cut off by close() is redone after the
 * restart and its task completes, charged once; tasks pending or processing at a restart are all finished;
 * readiness says 503 once shutdown has begun.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { balanceOf, downloadVideo, expectError, expectVideo, probeFile, sleep, submit, tempDir } from './helpers.ts';

/** Runs `fn` with its own gateway (own data dir), closed afterwards, so the tests can run side by side. */
async function withGateway(env: Record<string, string>, fn: (t: TestGateway) => Promise<void>): Promise<void> {
  const t = await startTestGateway(env);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

/** Ledger rows of one task, via the admin API. */
async function ledgerOf(gw: TestGateway, taskId: string): Promise<{ kind: string; amount: number; spent_change: number; held_change: number }[]> {
  const r = await gw.admin('GET', `/admin/ledger?task_id=${taskId}`);
  expect(r.status).toBe(200);
  return r.body.data;
}

function expectChargedOnce(rows: { kind: string; spent_change: number; held_change: number }[], cost: number): void {
  const spends = rows.filter((r) => r.spent_change !== 0);
  expect(spends).toHaveLength(1);
  expect(spends[0].spent_change).toBeCloseTo(cost, 6);
  expect(rows.filter((r) => r.kind === 'hold')).toHaveLength(1);
  expect(rows.reduce((a, r) => a + r.held_change, 0)).toBeCloseTo(0, 6);
}

describe.concurrent('graceful shutdown', () => {
  it('close() during an in-flight render: after a restart on the same data dir the task completes, charged once', () =>
    withGateway({ REELAY_SIM_LATENCY_MS: '50' }, async (t) => {
      const { key } = await t.newKey(100);
      const id = await submit(t, key, { model: 'happyhorse-1.0', prompt: 'interrupted, then finished', resolution: '720P', duration: 15, seed: 7 });
      // Wait until ffmpeg is writing this task's video (its temp file exists in the simulator's work dir).
      const simDir = path.join(t.dataDir, 'simulator');
      const deadline = Date.now() + 20_000;
      while (!(fs.existsSync(simDir) && fs.readdirSync(simDir).some((f) => f.startsWith(`.sim_${id}`) && f.endsWith('.tmp')))) {
        expect(Date.now()).toBeLessThan(deadline);
        await sleep(20);
      }
      const mid = (await t.call(key, 'GET', `/v1/tasks/${id}`)).body.data;
      expect(mid.status).toBe('processing');

      await t.restart();
      // The cut-off render left nothing behind that could pass for a result.
      expect(fs.readdirSync(simDir).filter((f) => f.includes(id) && f.endsWith('.mp4') && !f.startsWith('.'))).toEqual([]);

      const done = await t.waitFor(key, id, 60_000);
      expect(done.status, JSON.stringify(done.error)).toBe('completed');
      expect(done.progress).toBe(100);
      const dir = tempDir('reelay-shutdown-');
      try {
        const { file } = await downloadVideo(done.result.videos[0].url[0], dir);
        expectVideo(await probeFile(file), { width: 1280, height: 720, seconds: 15, audio: true });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      expect(await balanceOf(t, key)).toEqual({ remain: 100 - done.cost, used: done.cost, held: 0 });
      expectChargedOnce(await ledgerOf(t, id), done.cost);
  }), 90_000);

  it('a restart with tasks pending and processing loses none of them, and charges each once', () =>
    withGateway({ REELAY_SIM_LATENCY_MS: '1500' }, async (t) => {
      const { key } = await t.newKey(100);
      const early = [
        await submit(t, key, { model: 'veo3.1-fast-official', prompt: 'one', duration: 4 }),
        await submit(t, key, { model: 'Omni-Flash-Ext', prompt: 'two', duration: 4 }),
        await submit(t, key, { model: 'veo3.1-fast-official', prompt: 'three sim:fail', duration: 4 }),
      ];
      // Let them reach the upstream and be seen running.
      const deadline = Date.now() + 10_000;
      while ((await t.call(key, 'GET', '/v1/tasks?status=processing')).body.data.length < 3) {
        expect(Date.now()).toBeLessThan(deadline);
        await sleep(50);
      }
      const late = [
        await submit(t, key, { model: 'veo3.1-quality-official', prompt: 'four', duration: 4 }),
        await submit(t, key, { model: 'wan2.5-preview', prompt: 'five', resolution: '480p' }),
      ];
      const statuses = (await t.call(key, 'GET', '/v1/tasks')).body.data.map((d: any) => d.status);
      expect(statuses).toEqual(['pending', 'pending', 'processing', 'processing', 'processing']);
      const held = (await balanceOf(t, key)).held;
      expect(held).toBeGreaterThan(0);

      await t.restart();

      const all = [...early, ...late];
      const done = await Promise.all(all.map((id) => t.waitFor(key, id, 60_000)));
      expect(done.map((d) => d.status)).toEqual(['completed', 'completed', 'failed', 'completed', 'completed']);
      const spent = done.reduce((a, d) => a + d.cost, 0);
      const b = await balanceOf(t, key);
      expect(b.held).toBe(0);
      expect(b.used).toBeCloseTo(spent, 6);
      expect(b.remain).toBeCloseTo(100 - spent, 6);
      for (const d of done) {
        const rows = await ledgerOf(t, d.id);
        if (d.status === 'completed') expectChargedOnce(rows, d.cost);
        else expect(rows.reduce((a, r) => a + r.amount, 0)).toBeCloseTo(0, 6); // held, then refunded in full
      }
      expect((await t.call(key, 'GET', '/v1/tasks')).body.data).toHaveLength(5);
  }), 90_000);

  it('while shutting down, new submissions are refused with 503 and /readyz says not ready', () =>
    withGateway({}, async (t) => {
      const { key } = await t.newKey(10);
      // close() first stops accepting, then closes the listener: this is the state of that first step.
      t.gw.ctx.accepting = () => false;
      const ready = await fetch(`${t.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'not_ready', accepting: false });
      const r = await t.call(key, 'POST', '/v1/videos/generations', { model: 'veo3.1-fast-official', prompt: 'p' });
      expectError(r, 503, 'shutting_down', null, 'overloaded_error');
      expect(r.headers.get('retry-after')).toBe('5');
      expect((await t.call(key, 'GET', '/v1/tasks')).body.data).toEqual([]);
  }));

  // During shutdown the listener stays up for shutdown_drain_ms, answering /readyz with 503, so a load
  // balancer sees "not ready" (and stops routing) rather than connection errors.
  it('/readyz answers 503 over HTTP during the drain window once close() has begun', () =>
    withGateway({ REELAY_SHUTDOWN_DRAIN_MS: '500' }, async (t) => {
      const closing = t.gw.close();
      try {
        const res = await fetch(`${t.url}/readyz`);
        expect(res.status).toBe(503);
        expect(((await res.json()) as { accepting: boolean }).accepting).toBe(false);
      } finally {
        await closing;
      }
    }));
});
