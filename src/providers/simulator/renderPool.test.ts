import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeMedia } from '../../media/probeVideo.ts';
import type { RenderOptions } from './render.ts';
import { RenderPool, RenderPoolClosedError } from './renderPool.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-pool-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const job = (name: string, extra: Partial<RenderOptions> = {}): RenderOptions => ({
  outPath: path.join(dir, name),
  width: 320,
  height: 180,
  fps: 24,
  seconds: 1,
  audio: false,
  prompt: name,
  seed: 1,
  model: 'test-model',
  index: 0,
  count: 1,
  ...extra,
});

/** A renderer whose renders finish only when the test says, recording what runs. */
function controlledRenderer() {
  const running = new Map<string, { resolve(): void; reject(e: unknown): void; signal?: AbortSignal }>();
  const started: string[] = [];
  let maxRunning = 0;
  const renderer = (opts: RenderOptions): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const name = path.basename(opts.outPath);
      started.push(name);
      running.set(name, { resolve, reject, signal: opts.signal });
      maxRunning = Math.max(maxRunning, running.size);
      opts.signal?.addEventListener('abort', () => reject(opts.signal!.reason));
    }).finally(() => running.delete(path.basename(opts.outPath)));
  const finish = async (name: string, error?: Error): Promise<void> => {
    const r = running.get(name);
    if (!r) throw new Error(`${name} is not running`);
    if (error) r.reject(error);
    else r.resolve();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { renderer, running, started, finish, maxRunning: () => maxRunning };
}

describe('RenderPool', () => {
  it('runs at most `concurrency` renders, first in first out', async () => {
    const r = controlledRenderer();
    const pool = new RenderPool({ concurrency: 2, renderer: r.renderer });
    const done = ['a', 'b', 'c', 'd', 'e'].map((n) => pool.render(job(n)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.started).toEqual(['a', 'b']);
    expect([pool.pending, pool.size]).toEqual([2, 3]);

    await r.finish('b');
    expect(r.started).toEqual(['a', 'b', 'c']);
    await r.finish('a');
    await r.finish('c');
    expect(r.started).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect([pool.pending, pool.size]).toEqual([2, 0]);
    await r.finish('d');
    await r.finish('e');
    await Promise.all(done);
    expect(r.maxRunning()).toBe(2);
    expect([pool.pending, pool.size]).toEqual([0, 0]);
  });

  it('joins concurrent requests for the same output path, and renders again once it is done', async () => {
    const r = controlledRenderer();
    const pool = new RenderPool({ concurrency: 1, renderer: r.renderer });
    const first = pool.render(job('same.mp4'));
    const second = pool.render(job('same.mp4', { seed: 99 }));
    const viaOtherSpelling = pool.render(job('./x/../same.mp4'));
    expect(second).toBe(first);
    expect(viaOtherSpelling).toBe(first);
    await new Promise((resolve) => setImmediate(resolve));
    await r.finish('same.mp4');
    await first;
    expect(r.started).toEqual(['same.mp4']);

    const again = pool.render(job('same.mp4'));
    expect(again).not.toBe(first);
    await new Promise((resolve) => setImmediate(resolve));
    await r.finish('same.mp4');
    await again;
    expect(r.started).toEqual(['same.mp4', 'same.mp4']);
  });

  it('passes a failure to every waiter and keeps going', async () => {
    const r = controlledRenderer();
    const pool = new RenderPool({ concurrency: 1, renderer: r.renderer });
    const failing = pool.render(job('bad'));
    const joined = pool.render(job('bad'));
    const next = pool.render(job('next'));
    const outcomes = Promise.allSettled([failing, joined]);
    await new Promise((resolve) => setImmediate(resolve));
    await r.finish('bad', new Error('ffmpeg exploded'));
    for (const outcome of await outcomes) expect(outcome).toMatchObject({ status: 'rejected', reason: { message: 'ffmpeg exploded' } });
    await r.finish('next');
    await expect(next).resolves.toBeUndefined();
  });

  it('takes a queued render out of the queue when its caller aborts, and stops a running one', async () => {
    const r = controlledRenderer();
    const pool = new RenderPool({ concurrency: 1, renderer: r.renderer });
    const runningCall = new AbortController();
    const queuedCall = new AbortController();
    const running = pool.render(job('running', { signal: runningCall.signal }));
    const queued = pool.render(job('queued', { signal: queuedCall.signal }));
    const after = pool.render(job('after'));
    await new Promise((resolve) => setImmediate(resolve));

    queuedCall.abort(new Error('caller left'));
    await expect(queued).rejects.toThrow('caller left');
    expect(pool.size).toBe(1);
    runningCall.abort(new Error('stop now'));
    await expect(running).rejects.toThrow('stop now');
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.started).toEqual(['running', 'after']);
    await r.finish('after');
    await after;
    await expect(pool.render(job('pre-aborted', { signal: AbortSignal.abort(new Error('already')) }))).rejects.toThrow('already');
  });

  it('close() rejects queued work, aborts running work and refuses new work', async () => {
    const r = controlledRenderer();
    const pool = new RenderPool({ concurrency: 1, renderer: r.renderer });
    const running = pool.render(job('r1'));
    const queued = pool.render(job('q1'));
    await new Promise((resolve) => setImmediate(resolve));
    await pool.close();
    await expect(running).rejects.toBeInstanceOf(RenderPoolClosedError);
    await expect(queued).rejects.toBeInstanceOf(RenderPoolClosedError);
    await expect(pool.render(job('late'))).rejects.toBeInstanceOf(RenderPoolClosedError);
    expect(r.started).toEqual(['r1']);
  });

  it('defaults to one render per CPU, and never fewer than one', () => {
    expect(new RenderPool().concurrency).toBe(Math.max(1, os.availableParallelism()));
    expect(new RenderPool({ concurrency: 0 }).concurrency).toBe(1);
    expect(new RenderPool({ concurrency: 3 }).concurrency).toBe(3);
  });

  describe('with ffmpeg', () => {
    it('renders real videos without blocking the event loop', async () => {
      const pool = new RenderPool({ concurrency: 2 });
      let longestGap = 0;
      let last = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        longestGap = Math.max(longestGap, now - last);
        last = now;
      }, 5);
      const started = performance.now();
      try {
        await Promise.all([pool.render(job('real-1.mp4', { seconds: 6, width: 640, height: 360 })), pool.render(job('real-2.mp4', { seconds: 6, width: 640, height: 360 }))]);
      } finally {
        clearInterval(ticker);
      }
      const elapsed = performance.now() - started;
      for (const name of ['real-1.mp4', 'real-2.mp4']) expect((await probeMedia(path.join(dir, name))).video?.frames).toBe(144);
      // A render that blocked would show as a gap as long as the render itself.
      expect(longestGap).toBeLessThan(Math.max(250, elapsed / 3));
    });

    it('close() kills a running ffmpeg and leaves no file', async () => {
      const pool = new RenderPool({ concurrency: 1 });
      const started = Date.now();
      const long = pool.render(job('killed.mp4', { seconds: 120, width: 1280, height: 720, audio: true }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(pool.pending).toBe(1);
      await pool.close();
      await expect(long).rejects.toBeInstanceOf(RenderPoolClosedError);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(fs.readdirSync(dir).filter((n) => n.includes('killed'))).toEqual([]);
    });
  });
});
