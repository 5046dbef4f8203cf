/**
 * Prices: rate × billed seconds × videos, per resolution, per mode and with audio; configured prices
 * validated with messages naming the setting; GET /v1/models shows them; EDIT holds the 15 s cap and
 * settles the source video's real length.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceBook } from '../../src/billing/prices.ts';
import { listModels, findModel } from '../../src/models/registry.ts';
import { validateRequest } from '../../src/models/validate.ts';
import { planOutput } from '../../src/models/output.ts';
import { runFfmpeg } from '../../src/media/ffmpeg.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

function priceOf(book: PriceBook, body: Record<string, unknown>): number {
  const req = validateRequest(body);
  const spec = findModel(req.model)!;
  const plan = planOutput(spec, req);
  return book.price(spec, req.mode, req.params, plan, plan.seconds * plan.count);
}

describe('price book', () => {
  const book = new PriceBook(listModels());

  it('charges rate × seconds × videos at the shipped defaults', () => {
    expect(priceOf(book, { model: 'happyhorse-1.0', prompt: 'x', resolution: '720P', duration: 5 })).toBe(500_000);
    expect(priceOf(book, { model: 'wan2.5-preview', prompt: 'x', resolution: '1080p', duration: 10 })).toBe(1_500_000);
    // veo: audio has its own rate; sample_count multiplies.
    expect(priceOf(book, { model: 'veo3.1-fast-official', prompt: 'x', resolution: '1080p', duration: 8, generate_audio: true, sample_count: 2 })).toBe(2_880_000);
    expect(priceOf(book, { model: 'veo3.1-fast-official', prompt: 'x', resolution: '1080p', duration: 8 })).toBe(960_000);
    // EDIT holds the 15 s cap when the source length is unknown.
    expect(priceOf(book, { model: 'happyhorse-1.0', prompt: 'x', video_url: 'https://e.com/v.mp4', resolution: '720P' })).toBe(1_500_000);
  });

  it('takes configured prices, per mode and with audio, resolutions in any case, decimals exactly', () => {
    const custom = new PriceBook(listModels(), {
      'happyhorse-1.0': { per_second: { '720p': '0.123457', '1080P': 0.2 }, modes: { EDIT: { '720P': '0.3' } } },
    });
    expect(priceOf(custom, { model: 'happyhorse-1.0', prompt: 'x', resolution: '720P', duration: 3 })).toBe(370_371);
    expect(priceOf(custom, { model: 'happyhorse-1.0', prompt: 'x', video_url: 'https://e.com/v.mp4', resolution: '720P' })).toBe(4_500_000);
    // Not configured: the defaults.
    expect(priceOf(custom, { model: 'viduq3', prompt: 'x', image_urls: ['https://e.com/a.png'], resolution: '540p', duration: 4 })).toBe(200_000);
    expect(custom.describe('happyhorse-1.0')).toEqual({ unit: 'per_second', per_second: { '720P': 0.123457, '1080P': 0.2 }, per_mode_per_second: { EDIT: { '720P': 0.3 } } });
  });

  it('refuses bad price settings with a message naming the setting', () => {
    const bad = (prices: Record<string, unknown>) => () => new PriceBook(listModels(), prices as never);
    expect(bad({ 'nope-1': { per_second: {} } })).toThrow(/prices\.nope-1: no such model/);
    expect(bad({ 'wan2.5-preview': { per_second: { '480p': 1, '720p': 1 } } })).toThrow(/prices\.wan2\.5-preview\.per_second: no price for 1080p/);
    expect(bad({ 'wan2.5-preview': { per_second: { '480p': 1, '720p': 1, '1080p': 1, '4k': 2 } } })).toThrow(/per_second\.4k: wan2\.5-preview has no resolution 4k/);
    expect(bad({ 'wan2.5-preview': { per_second: { '480p': -1, '720p': 1, '1080p': 1 } } })).toThrow(/per_second\.480p: -1 is not a price/);
    expect(bad({ 'wan2.5-preview': { per_second: { '480p': '0.0000001', '720p': 1, '1080p': 1 } } })).toThrow(/at most 6 places/);
    expect(bad({ 'wan2.5-preview': { per_second: { '480p': 1, '720p': 1, '1080p': 1 }, modes: { EDIT: { '480p': 1 } } } })).toThrow(/modes\.EDIT: wan2\.5-preview has no EDIT mode/);
  });
});

describe('prices over HTTP', () => {
  let t: TestGateway;
  let source: http.Server;
  let dir: string;
  let sourceUrl = '';

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-edit-'));
    for (const [name, seconds] of [['short', 4], ['long', 20]] as const) {
      await runFfmpeg(['-y', '-f', 'lavfi', '-i', `color=c=0x335577:s=640x360:r=24:d=${seconds}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', path.join(dir, `${name}.mp4`)]);
    }
    source = http.createServer((req, res) => {
      const file = path.join(dir, path.basename(req.url ?? ''));
      if (!fs.existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': fs.statSync(file).size });
      fs.createReadStream(file).pipe(res);
    });
    await new Promise<void>((r) => source.listen(0, '127.0.0.1', r));
    sourceUrl = `http://127.0.0.1:${(source.address() as AddressInfo).port}`;
    t = await startTestGateway({ REELAY_ALLOW_PRIVATE_HOSTS: '127.0.0.1', REELAY_SIM_LATENCY_MS: '100' });
  });
  afterAll(async () => {
    await t?.close();
    source?.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('GET /v1/models shows each model’s prices', async () => {
    const k = await t.newKey(1);
    const models = (await t.call(k.key, 'GET', '/v1/models')).body.data;
    const veo = models.find((m: { id: string }) => m.id === 'veo3.1-fast-official');
    expect(veo.pricing).toEqual({ unit: 'per_second', per_second: { '720p': 0.1, '1080p': 0.12, '4K': 0.3 }, with_audio_per_second: { '720p': 0.15, '1080p': 0.18, '4K': 0.4 } });
  });

  for (const [name, seconds, billed] of [['short', 4, 4], ['long', 20, 15]] as const) {
    it(`video edit of a ${seconds} s source holds the 15 s cap, then charges ${billed} s and releases the rest`, async () => {
      const k = await t.newKey(10);
      const r = await t.call(k.key, 'POST', '/v1/videos/generations', { model: 'happyhorse-1.0', prompt: 'cartoon', video_url: `${sourceUrl}/${name}.mp4`, resolution: '720P' });
      expect(r.status).toBe(200);
      expect((await t.call(k.key, 'GET', '/v1/balance')).body.held_balance).toBe(1.5);
      const task = await t.waitFor(k.key, r.body.data[0].task_id, 60_000);
      expect(task.status).toBe('completed');
      expect(task.cost).toBeCloseTo(0.1 * billed, 6);
      const bal = (await t.call(k.key, 'GET', '/v1/balance')).body;
      expect(bal).toMatchObject({ held_balance: 0, used_balance: task.cost });
      expect(bal.remain_balance).toBeCloseTo(10 - 0.1 * billed, 6);
      const kinds = (await t.admin('GET', `/admin/ledger?task_id=${task.id}`)).body.data.map((e: { kind: string }) => e.kind).sort();
      expect(kinds).toEqual(billed < 15 ? ['hold', 'release', 'settle'] : ['hold', 'settle']);
    });
  }
});
