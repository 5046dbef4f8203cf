/**
 * Media inputs given by URL that the gateway can reach (a local server, allowed through
 * REELAY_ALLOW_PRIVATE_HOSTS): the image sets the I2V aspect, the EDIT source sets the aspect and the
 * length — and the price, which is held at the 15 s cap on submit and settled at the source's seconds —
 * and an image that breaks the model's rules fails the task, refunded in full.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../src/media/ffmpeg.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { balanceOf, downloadVideo, expectVideo, makeImage, probeFile, submit, tempDir } from './helpers.ts';

let t: TestGateway;
let server: http.Server;
let base: string;
let dir: string;
const files = new Map<string, { type: string; bytes: Buffer }>();

/** A 720×1280, 5 s, 24 fps H.264 MP4 without audio: a valid happyhorse EDIT source. */
async function makeClip(): Promise<Buffer> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-clip-')), 'clip.mp4');
  try {
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=720x1280:r=24', '-t', '5', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-y', out]);
    return fs.readFileSync(out);
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

beforeAll(async () => {
  files.set('/portrait.png', { type: 'image/png', bytes: await makeImage('png', 540, 960) });
  files.set('/landscape-4x3.jpg', { type: 'image/jpeg', bytes: await makeImage('jpeg', 800, 600) });
  files.set('/anim.gif', { type: 'image/gif', bytes: await makeImage('gif', 400, 400) });
  files.set('/clip.mp4', { type: 'video/mp4', bytes: await makeClip() });
  server = http.createServer((req, res) => {
    const f = files.get(req.url ?? '');
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': f.type, 'content-length': f.bytes.length }).end(f.bytes);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await startTestGateway({ REELAY_SIM_LATENCY_MS: '50', REELAY_ALLOW_PRIVATE_HOSTS: '127.0.0.1' });
  dir = tempDir('reelay-url-inputs-');
});
afterAll(async () => {
  await t?.close();
  await new Promise((r) => server?.close(r));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function videoOf(task: any) {
  const { file } = await downloadVideo(task.result.videos[0].url[0], dir);
  return probeFile(file);
}

describe.concurrent('inputs by URL', () => {
  it('happyhorse I2V: a 9:16 first frame makes a 9:16 video', async () => {
    const { key } = await t.newKey(100);
    const id = await submit(t, key, { model: 'happyhorse-1.0', prompt: 'p', first_frame_image: `${base}/portrait.png`, resolution: '720P', duration: 3 });
    const done = await t.waitFor(key, id, 120_000);
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    expectVideo(await videoOf(done), { width: 720, height: 1280, seconds: 3, audio: true });
  }, 120_000);

  it('wan2.5 I2V: a 4:3 image takes the 720p 4:3 size of the seed’s table', async () => {
    const { key } = await t.newKey(100);
    const id = await submit(t, key, { model: 'wan2.5-preview', prompt: 'p', image_urls: [`${base}/landscape-4x3.jpg`] });
    const done = await t.waitFor(key, id, 120_000);
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    expectVideo(await videoOf(done), { width: 1088, height: 832, seconds: 5, audio: true });
  }, 120_000);

  it('happyhorse EDIT: the source sets aspect and length; the 15 s hold is settled at the source’s 5 s', async () => {
    const { key } = await t.newKey(100);
    const models = (await t.call(key, 'GET', '/v1/models')).body.data;
    const rate = models.find((m: any) => m.id === 'happyhorse-1.0').pricing.per_second['720P'];
    const id = await submit(t, key, { model: 'happyhorse-1.0', prompt: 'make it a cartoon', video_url: `${base}/clip.mp4`, resolution: '720P' });
    // Before the source is read, the most it can cost is held: 15 s.
    const held = await balanceOf(t, key);
    expect(held.held + held.used).toBeCloseTo(15 * rate, 6);
    const done = await t.waitFor(key, id, 120_000);
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    expect(done.cost).toBeCloseTo(5 * rate, 6);
    expectVideo(await videoOf(done), { width: 720, height: 1280, seconds: 5, audio: true });
    expect(await balanceOf(t, key)).toEqual({ remain: 100 - done.cost, used: done.cost, held: 0 });
  }, 120_000);

  it('an image that breaks the model’s rules fails the task before it goes upstream, refunded', async () => {
    const { key } = await t.newKey(100);
    const id = await submit(t, key, { model: 'happyhorse-1.0', prompt: 'p', first_frame_image: `${base}/anim.gif`, resolution: '720P' });
    const done = await t.waitFor(key, id, 60_000);
    expect({ status: done.status, code: done.error?.code, cost: done.cost }).toEqual({ status: 'failed', code: 'invalid_image', cost: 0 });
    expect(done.error.message).toContain('GIF');
    expect(await balanceOf(t, key)).toEqual({ remain: 100, used: 0, held: 0 });
  }, 60_000);
});
