/**
 * The fal adapter against its fake queue: the shared provider contract for every model × mode fal serves,
 * the exact endpoint and input body each one sends, and that the mapping table accounts for every field.
 * Queue behaviour (statuses, errors, cancel, webhooks, canServe) is in falQueue.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractHarness, runProviderContract, startRequest, type ContractHarness } from '../../../test/contracts/provider.contract.ts';
import { findModel } from '../../models/registry.ts';
import type { Mode } from '../../models/spec.ts';
import { FAKE_FAL_KEY, FalFake } from './fake.ts';
import { FAL_ENDPOINTS } from './falMapping.ts';
import { FalProvider } from './falProvider.ts';

const CASES = [
  { title: 'happyhorse-1.0 text-to-video', body: { model: 'happyhorse-1.0', prompt: 'a coastal road at sunset', duration: 5 } },
  { title: 'happyhorse-1.0 image-to-video', body: { model: 'happyhorse-1.0', prompt: 'bring it to life', first_frame_image: 'https://example.com/a.png' } },
  { title: 'happyhorse-1.0 reference images', body: { model: 'happyhorse-1.0', prompt: 'a scene', image_urls: ['https://example.com/a.png', 'https://example.com/b.png'] } },
  { title: 'happyhorse-1.0 video edit', body: { model: 'happyhorse-1.0', prompt: 'cartoon style', video_url: 'https://example.com/v.mp4', image_urls: ['https://example.com/s.png'] } },
  { title: 'wan2.5-preview text-to-video', body: { model: 'wan2.5-preview', prompt: 'sunset highway', size: '1:1' } },
  { title: 'wan2.5-preview image-to-video', body: { model: 'wan2.5-preview', prompt: 'cat', image_urls: ['https://example.com/c.png'] } },
  { title: 'veo3.1-fast-official text-to-video', body: { model: 'veo3.1-fast-official', prompt: 'a golden retriever on the beach' } },
  { title: 'veo3.1-fast-official image-to-video', body: { model: 'veo3.1-fast-official', prompt: 'walks', first_frame_image: 'https://e.com/f.png' } },
  { title: 'veo3.1-fast-official first+last frame', body: { model: 'veo3.1-fast-official', prompt: 'morph', first_frame_image: 'https://e.com/f.png', last_frame_image: 'https://e.com/l.png' } },
  { title: 'veo3.1-quality-official text-to-video', body: { model: 'veo3.1-quality-official', prompt: 'coffee shop', generate_audio: true } },
  { title: 'veo3.1-quality-official image-to-video', body: { model: 'veo3.1-quality-official', prompt: 'walks', first_frame_image: 'https://e.com/f.png' } },
  { title: 'veo3.1-quality-official first+last frame', body: { model: 'veo3.1-quality-official', prompt: 'day to night', first_frame_image: 'https://e.com/f.png', last_frame_image: 'https://e.com/l.png' } },
  { title: 'viduq3-mix reference-to-video', body: { model: 'viduq3-mix', prompt: 'hug', image_urls: ['https://e.com/1.png', 'https://e.com/2.png'], duration: 1 } },
];

runProviderContract({
  name: 'fal',
  startFake: async () => {
    const fake = new FalFake();
    await fake.start();
    return { server: fake.server, jobs: fake.jobs, url: fake.url, close: () => fake.close() };
  },
  makeProvider: (fake, { timeoutMs }) => new FalProvider({ baseUrl: fake.url, apiKey: FAKE_FAL_KEY, timeoutMs }),
  cases: CASES,
  kinds: { submit: 'submit', status: 'status', cancel: 'cancel' },
  cancel: true,
});

describe('fal adapter: the endpoint and input each model × mode sends', () => {
  let h: ContractHarness;
  let fake: FalFake;
  let provider: FalProvider;
  let inline: string;
  beforeAll(async () => {
    h = await contractHarness();
    fake = new FalFake();
    await fake.start();
    provider = new FalProvider({ baseUrl: fake.url, apiKey: FAKE_FAL_KEY });
    inline = `data:image/png;base64,${h.imageBytes.toString('base64')}`;
  });
  afterAll(async () => {
    await fake.close();
    await h.close();
  });

  /** Submits the APIMart body and returns where it went and what fal received. */
  async function sent(body: Record<string, unknown>, upstreamModel?: string): Promise<{ path: string; input: unknown; headers: Record<string, string> }> {
    const req = startRequest(body, h, fake.url);
    req.upstreamModel = upstreamModel;
    const before = fake.server.requestsOf('submit').length;
    await provider.start(req, h.ctx);
    const submits = fake.server.requestsOf('submit');
    expect(submits.length).toBe(before + 1);
    const last = submits[submits.length - 1];
    return { path: last.path, input: last.body, headers: last.headers };
  }

  it('wan2.5-preview text-to-video: size → aspect_ratio, duration as "10", prompt_extend → enable_prompt_expansion', async () => {
    const s = await sent({
      model: 'wan2.5-preview',
      prompt: 'neon city',
      negative_prompt: 'blurry',
      size: '9:16',
      resolution: '1080p',
      duration: 10,
      seed: 7,
      prompt_extend: false,
      audio_url: 'https://example.com/a.mp3',
    });
    expect(s.path).toBe('/fal-ai/wan-25-preview/text-to-video');
    expect(s.headers.authorization).toBe(`Key ${FAKE_FAL_KEY}`);
    expect(s.input).toEqual({
      prompt: 'neon city',
      negative_prompt: 'blurry',
      resolution: '1080p',
      duration: '10',
      aspect_ratio: '9:16',
      seed: 7,
      enable_prompt_expansion: false,
      audio_url: `${fake.url}/media/source.mp4`,
    });
  });

  it('wan2.5-preview image-to-video: the one image becomes image_url, inline when stored', async () => {
    const s = await sent({ model: 'wan2.5-preview', prompt: 'cat runs', image_urls: ['https://example.com/c.png'], resolution: '480P' });
    expect(s.path).toBe('/fal-ai/wan-25-preview/image-to-video');
    expect(s.input).toEqual({ prompt: 'cat runs', image_url: inline, resolution: '480p', duration: '5', enable_prompt_expansion: true });
  });

  for (const [model, base] of [
    ['veo3.1-fast-official', 'fal-ai/veo3.1/fast'],
    ['veo3.1-quality-official', 'fal-ai/veo3.1'],
  ] as const) {
    it(`${model} text-to-video: duration "6s", 4K → 4k, generate_audio always sent`, async () => {
      const s = await sent({ model, prompt: 'dog', negative_prompt: 'text', duration: 6, aspect_ratio: '9:16', resolution: '4K', seed: 4_000_000_000, generate_audio: true });
      expect(s.path).toBe(`/${base}`);
      expect(s.input).toEqual({ prompt: 'dog', negative_prompt: 'text', duration: '6s', aspect_ratio: '9:16', resolution: '4k', seed: 4_000_000_000, generate_audio: true });
    });

    it(`${model} image-to-video: first_frame_image → image_url`, async () => {
      const s = await sent({ model, prompt: 'walks', first_frame_image: 'https://e.com/f.png', resize_mode: 'crop' });
      expect(s.path).toBe(`/${base}/image-to-video`);
      expect(s.input).toEqual({ prompt: 'walks', duration: '8s', aspect_ratio: '16:9', resolution: '720p', generate_audio: false, image_url: inline });
    });

    it(`${model} first+last frame: first_frame_url and last_frame_url`, async () => {
      const s = await sent({ model, prompt: 'morph', first_frame_image: 'https://e.com/f.png', last_frame_image: 'https://e.com/l.png', resolution: '1080p' });
      expect(s.path).toBe(`/${base}/first-last-frame-to-video`);
      expect(s.input).toEqual({
        prompt: 'morph',
        duration: '8s',
        aspect_ratio: '16:9',
        resolution: '1080p',
        generate_audio: false,
        first_frame_url: inline,
        last_frame_url: `${fake.url}/media/ref-0.png`,
      });
    });
  }

  it('viduq3-mix: image_urls → reference_image_urls, audio on', async () => {
    const s = await sent({ model: 'viduq3-mix', prompt: 'hug', image_urls: ['https://e.com/1.png', 'https://e.com/2.png'], duration: 1, resolution: '1080p', aspect_ratio: '1:1', seed: 3 });
    expect(s.path).toBe('/fal-ai/vidu/q3/reference-to-video/mix');
    expect(s.input).toEqual({
      prompt: 'hug',
      reference_image_urls: [inline, `${fake.url}/media/ref-1.png`],
      duration: 1,
      resolution: '1080p',
      aspect_ratio: '1:1',
      seed: 3,
      audio: true,
    });
  });

  it('happyhorse-1.0 text-to-video: 720P → 720p, size → aspect_ratio, watermark dropped', async () => {
    const s = await sent({ model: 'happyhorse-1.0', prompt: 'road', resolution: '720P', size: '4:3', duration: 8, watermark: false, seed: 42 });
    expect(s.path).toBe('/alibaba/happy-horse/text-to-video');
    expect(s.input).toEqual({ prompt: 'road', resolution: '720p', duration: 8, aspect_ratio: '4:3', seed: 42 });
  });

  it('happyhorse-1.0 image-to-video: first_frame_image → image_url; the prompt may be left out', async () => {
    const withPrompt = await sent({ model: 'happyhorse-1.0', prompt: 'alive', first_frame_image: 'https://e.com/a.png' });
    expect(withPrompt.path).toBe('/alibaba/happy-horse/image-to-video');
    expect(withPrompt.input).toEqual({ prompt: 'alive', image_url: inline, resolution: '1080p', duration: 5 });
    const without = await sent({ model: 'happyhorse-1.0', first_frame_image: 'https://e.com/a.png' });
    expect(without.input).toEqual({ image_url: inline, resolution: '1080p', duration: 5 });
  });

  it('happyhorse-1.0 reference images: image_urls kept in order', async () => {
    const s = await sent({ model: 'happyhorse-1.0', prompt: 'dance', image_urls: ['https://e.com/a.png', 'https://e.com/b.png', 'https://e.com/c.png'], size: '1:1' });
    expect(s.path).toBe('/alibaba/happy-horse/reference-to-video');
    expect(s.input).toEqual({
      prompt: 'dance',
      image_urls: [inline, `${fake.url}/media/ref-1.png`, `${fake.url}/media/ref-2.png`],
      resolution: '1080p',
      duration: 5,
      aspect_ratio: '1:1',
    });
  });

  it('happyhorse-1.0 video edit: video_url stays a URL, style images → reference_image_urls', async () => {
    const s = await sent({ model: 'happyhorse-1.0', prompt: 'cartoon', video_url: 'https://e.com/v.mp4', image_urls: ['https://e.com/s.png'], audio_setting: 'origin', seed: 9 });
    expect(s.path).toBe('/alibaba/happy-horse/video-edit');
    expect(s.input).toEqual({ prompt: 'cartoon', video_url: `${fake.url}/media/source.mp4`, reference_image_urls: [inline], resolution: '1080p', audio_setting: 'origin', seed: 9 });
  });

  it('a channel’s upstream model replaces the endpoint base and keeps the mode’s subpath', async () => {
    const s = await sent({ model: 'veo3.1-fast-official', prompt: 'walks', first_frame_image: 'https://e.com/f.png' }, 'fal-ai/veo3.1/lite');
    expect(s.path).toBe('/fal-ai/veo3.1/lite/image-to-video');
  });
});

describe('fal mapping table', () => {
  const MEDIA = new Set(['image', 'images', 'video_url']);

  it('maps, fixes or drops (with a reason) every parameter a mode can carry, and names only real fields', () => {
    for (const entry of FAL_ENDPOINTS) {
      const spec = findModel(entry.model);
      expect(spec, entry.model).toBeDefined();
      const accounted = new Set([...Object.keys(entry.fields), ...Object.keys(entry.dropped ?? {})]);
      for (const [name, field] of Object.entries(spec!.fields)) {
        const applies = !field.modes || field.modes.includes(entry.mode);
        // Media fields depend on routing (image_urls exists in R2V but not T2V); the body tests cover them.
        if (applies && !MEDIA.has(field.type)) expect(accounted.has(name), `${entry.model} ${entry.mode}: ${name}`).toBe(true);
      }
      for (const name of accounted) expect(spec!.fields[name], `${entry.model} ${entry.mode}: ${name}`).toBeDefined();
      for (const reason of Object.values(entry.dropped ?? {})) expect(reason.length).toBeGreaterThan(10);
    }
  });

  it('covers every mode of every model it serves, once', () => {
    const seen = FAL_ENDPOINTS.map((e) => `${e.model}:${e.mode}`);
    expect(new Set(seen).size).toBe(seen.length);
    for (const model of new Set(FAL_ENDPOINTS.map((e) => e.model))) {
      const modes = findModel(model)!.modes.map((m) => m.mode as Mode).sort();
      expect(FAL_ENDPOINTS.filter((e) => e.model === model).map((e) => e.mode).sort(), model).toEqual(modes);
    }
  });
});
