/**
 * The SDK against the real gateway (not its fake): create and wait, download, list, cancel, upload, models,
 * balance and typed errors — so the client and the server cannot drift apart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reelay, BadRequestError, AuthenticationError, NotFoundError, ConflictError } from './index.ts';
import { startTestGateway, type TestGateway } from '../test/helpers/gateway.ts';
import { probeMedia } from '../src/media/probeVideo.ts';
import { runFfmpeg } from '../src/media/ffmpeg.ts';

describe('the SDK against a real gateway', () => {
  let t: TestGateway;
  let client: Reelay;
  let dir: string;
  beforeAll(async () => {
    t = await startTestGateway({ REELAY_SIM_LATENCY_MS: '100' });
    const k = await t.newKey(20);
    client = new Reelay({ baseUrl: t.url, apiKey: k.key, maxRetries: 0 });
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-sdk-'));
  });
  afterAll(async () => {
    await t?.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('creates, waits, downloads a playable video, and sees the charge', async () => {
    const task = await client.videos.createAndWait({ model: 'veo3.1-fast-official', prompt: 'a dog on a beach', duration: 4, aspect_ratio: '9:16' }, { pollIntervalMs: 50, timeoutMs: 30_000 });
    expect(task.status).toBe('completed');
    const file = path.join(dir, 'dog.mp4');
    await client.downloadVideo(task.result!.videos[0].url[0], file);
    expect((await probeMedia(file)).video).toMatchObject({ width: 720, height: 1280 });
    const balance = await client.balance.get();
    expect(balance.used_balance).toBe(0.4);
    expect(balance.remain_balance).toBe(19.6);
  });

  it('lists tasks through cursor pages, cancels, and gets typed errors', async () => {
    const created = [];
    for (let i = 0; i < 3; i++) created.push((await client.videos.create({ model: 'happyhorse-1.0', prompt: `p${i}`, resolution: '720P', duration: 15 })).taskId);
    const seen: string[] = [];
    for await (const task of client.tasks.list({ model: 'happyhorse-1.0', limit: 2 })) seen.push(task.id);
    expect(seen.slice(0, 3)).toEqual([...created].reverse());
    const cancelled = await client.tasks.cancel(created[0]);
    expect(cancelled.status).toBe('cancelled');
    await expect(client.tasks.cancel(created[0])).rejects.toBeInstanceOf(ConflictError);
    await expect(client.tasks.get('task_01ZZZZZZZZZZZZZZZZZZZZZZZZ')).rejects.toBeInstanceOf(NotFoundError);
    const bad = await client.videos.create({ model: 'Omni-Flash-Ext', prompt: 'x', duration: 7 } as never).catch((e) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect(bad).toMatchObject({ status: 400, code: 'invalid_duration', param: 'duration' });
    await expect(new Reelay({ baseUrl: t.url, apiKey: 'rk_wrong', maxRetries: 0 }).balance.get()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('uploads an image and uses it as an input; lists models with their options and prices', async () => {
    const png = path.join(dir, 'in.png');
    await runFfmpeg(['-y', '-f', 'lavfi', '-i', 'color=c=red:s=800x600', '-frames:v', '1', png]);
    const up = await client.uploads.image(png);
    expect(up).toMatchObject({ content_type: 'image/png', filename: 'in.png' });
    const task = await client.videos.createAndWait({ model: 'happyhorse-1.0', prompt: 'move', first_frame_image: up.url, resolution: '720P', duration: 3 }, { pollIntervalMs: 50 });
    expect(task.status).toBe('completed');
    const models = await client.models.list();
    const veo = models.find((m) => m.id === 'veo3.1-quality-official')!;
    expect(veo.fields!.duration.values).toEqual([4, 6, 8]);
    expect(veo.pricing!.per_second['4K']).toBe(0.5);
  });
});
