/**
 * The exact DashScope body for every model and mode, field for field, against the documented protocol
 * (sources in dashscopeMapping.ts). The expected bodies are written out by hand from those documents,
 * not computed from the mapping tables.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { contractHarness, startRequest, type ContractHarness } from '../../../test/contracts/provider.contract.ts';
import type { MediaInput } from '../types.ts';
import { buildBody, type UpstreamMapping } from './dashscopeMapper.ts';
import { DashscopeProvider } from './dashscopeProvider.ts';
import { DashscopeFake } from './fake.ts';

const KEY = 'sk-fake-dashscope';

describe('dashscope request bodies', () => {
  let h: ContractHarness;
  let fake: DashscopeFake;
  let stored: string;
  beforeAll(async () => {
    h = await contractHarness();
    stored = `data:image/png;base64,${h.imageBytes.toString('base64')}`;
  });
  afterAll(async () => h.close());
  beforeEach(async () => {
    fake = new DashscopeFake({ apiKey: KEY });
    await fake.start();
  });
  afterEach(async () => fake.close());

  /** Submits an APIMart body (its first image held by the gateway) and returns what DashScope received. */
  async function sent(body: Record<string, unknown>, upstreamModel?: string): Promise<unknown> {
    const req = startRequest(body, h, fake.url);
    req.upstreamModel = upstreamModel;
    await new DashscopeProvider({ baseUrl: fake.url, apiKey: KEY, region: 'beijing' }).start(req, h.ctx);
    return fake.server.requestsOf('submit').at(-1)!.body;
  }

  describe('wan2.5-preview', () => {
    it('text-to-video: wan2.5-t2v-preview, size as "W*H", audio fields in input', async () => {
      expect(
        await sent({
          model: 'wan2.5-preview',
          prompt: 'City night scene',
          negative_prompt: 'blurry',
          size: '4:3',
          resolution: '720p',
          duration: 10,
          seed: 12345,
          prompt_extend: false,
          audio_url: 'https://example.com/music.mp3',
          watermark: true,
        }),
      ).toEqual({
        model: 'wan2.5-t2v-preview',
        input: { prompt: 'City night scene', negative_prompt: 'blurry', audio_url: `${fake.url}/media/source.mp4` },
        parameters: { size: '1088*832', duration: 10, prompt_extend: false, watermark: true, seed: 12345, audio: true },
      });
    });

    // DashScope's documented t2v sizes (ComfyUI nodes_wan.py size list; novita wan2.5-t2v page).
    const SIZES: [string, string, string][] = [
      ['480p', '16:9', '832*480'], ['480p', '9:16', '480*832'], ['480p', '1:1', '624*624'],
      ['720p', '16:9', '1280*720'], ['720p', '9:16', '720*1280'], ['720p', '1:1', '960*960'], ['720p', '4:3', '1088*832'], ['720p', '3:4', '832*1088'],
      ['1080p', '16:9', '1920*1080'], ['1080p', '9:16', '1080*1920'], ['1080p', '1:1', '1440*1440'], ['1080p', '4:3', '1632*1248'], ['1080p', '3:4', '1248*1632'],
    ];
    it.each(SIZES)('text-to-video %s %s → size %s', async (resolution, size, expected) => {
      expect(await sent({ model: 'wan2.5-preview', prompt: 'x', resolution, size })).toMatchObject({ parameters: { size: expected } });
    });

    it('image-to-video: wan2.5-i2v-preview, the stored image inline as img_url, resolution in capitals', async () => {
      expect(await sent({ model: 'wan2.5-preview', prompt: 'Cat running', image_urls: ['https://example.com/cat.jpg'], resolution: '480p' })).toEqual({
        model: 'wan2.5-i2v-preview',
        input: { prompt: 'Cat running', img_url: stored },
        parameters: { resolution: '480P', duration: 5, prompt_extend: true, watermark: false, audio: true },
      });
    });
  });

  describe('happyhorse-1.0', () => {
    it('text-to-video: happyhorse-1.0-t2v, size → parameters.ratio', async () => {
      expect(await sent({ model: 'happyhorse-1.0', prompt: 'A coastal road', resolution: '1080P', size: '9:16', duration: 8, watermark: false, seed: 42 })).toEqual({
        model: 'happyhorse-1.0-t2v',
        input: { prompt: 'A coastal road' },
        parameters: { resolution: '1080P', watermark: false, seed: 42, ratio: '9:16', duration: 8 },
      });
    });

    it('image-to-video: happyhorse-1.0-i2v, first_frame media, no ratio', async () => {
      expect(await sent({ model: 'happyhorse-1.0', prompt: 'Bring it to life', first_frame_image: 'https://example.com/f.png', resolution: '720p' })).toEqual({
        model: 'happyhorse-1.0-i2v',
        input: { prompt: 'Bring it to life', media: [{ type: 'first_frame', url: stored }] },
        parameters: { resolution: '720P', watermark: true, duration: 5 },
      });
    });

    it('image-to-video without a prompt sends no prompt', async () => {
      expect(await sent({ model: 'happyhorse-1.0', first_frame_image: 'https://example.com/f.png' })).toMatchObject({ input: { media: [{ type: 'first_frame', url: stored }] } });
      expect((fake.server.requestsOf('submit')[0].body as { input: object }).input).not.toHaveProperty('prompt');
    });

    it('reference images: happyhorse-1.0-r2v, reference_image media in order (stored one inline, URLs as-is)', async () => {
      expect(await sent({ model: 'happyhorse-1.0', prompt: '[Image 1] picks up [Image 2]', image_urls: ['https://e.com/1.png', 'https://e.com/2.png', 'https://e.com/3.png'], size: '1:1' })).toEqual({
        model: 'happyhorse-1.0-r2v',
        input: {
          prompt: '[Image 1] picks up [Image 2]',
          media: [
            { type: 'reference_image', url: stored },
            { type: 'reference_image', url: `${fake.url}/media/ref-1.png` },
            { type: 'reference_image', url: `${fake.url}/media/ref-2.png` },
          ],
        },
        parameters: { resolution: '1080P', watermark: true, ratio: '1:1', duration: 5 },
      });
    });

    it('video edit: happyhorse-1.0-video-edit, video first then style images, audio_setting, no duration or ratio', async () => {
      expect(
        await sent({ model: 'happyhorse-1.0', prompt: 'Cartoon style', video_url: 'https://example.com/source.mp4', image_urls: ['https://example.com/style.jpg'], audio_setting: 'origin', seed: 42 }),
      ).toEqual({
        model: 'happyhorse-1.0-video-edit',
        input: {
          prompt: 'Cartoon style',
          media: [
            { type: 'video', url: `${fake.url}/media/source.mp4` },
            { type: 'reference_image', url: stored },
          ],
        },
        parameters: { resolution: '1080P', watermark: true, seed: 42, audio_setting: 'origin' },
      });
    });

    it('a channel model_map names another family: happyhorse-1.1 → happyhorse-1.1-t2v', async () => {
      expect(await sent({ model: 'happyhorse-1.0', prompt: 'x' }, 'happyhorse-1.1')).toMatchObject({ model: 'happyhorse-1.1-t2v' });
      expect(await sent({ model: 'happyhorse-1.0', prompt: 'x', image_urls: ['https://e.com/1.png'] }, 'happyhorse-1.1-r2v')).toMatchObject({ model: 'happyhorse-1.1-r2v' });
    });
  });

  describe('viduq3 through the Vidu relay', () => {
    it('viduq3: vidu/viduq3_reference2video, image media, size from resolution × aspect', async () => {
      expect(await sent({ model: 'viduq3', prompt: 'Santa and the bear hug', image_urls: ['https://e.com/santa.png', 'https://e.com/bear.png'], duration: 8 })).toEqual({
        model: 'vidu/viduq3_reference2video',
        input: {
          prompt: 'Santa and the bear hug',
          media: [
            { type: 'image', url: stored },
            { type: 'image', url: `${fake.url}/media/ref-1.png` },
          ],
        },
        parameters: { resolution: '720P', size: '1280*720', duration: 8 },
      });
    });

    it('viduq3-mix: vidu/viduq3-mix_reference2video with seed, 1080p portrait', async () => {
      expect(await sent({ model: 'viduq3-mix', prompt: 'Neon street', image_urls: ['https://e.com/cat.png'], duration: 1, resolution: '1080p', aspect_ratio: '9:16', seed: 42 })).toEqual({
        model: 'vidu/viduq3-mix_reference2video',
        input: { prompt: 'Neon street', media: [{ type: 'image', url: stored }] },
        parameters: { resolution: '1080P', size: '1080*1920', duration: 1, seed: 42 },
      });
    });
  });

  describe('inputs', () => {
    it('inlines only stored images: a stored source video still goes as its URL', async () => {
      const req = startRequest({ model: 'happyhorse-1.0', prompt: 'x', video_url: 'https://e.com/v.mp4' }, h, fake.url);
      const video = req.inputs.find((i) => i.field === 'video_url') as MediaInput;
      video.storageKey = h.storedImageKey;
      await new DashscopeProvider({ baseUrl: fake.url, apiKey: KEY }).start(req, h.ctx);
      expect(fake.server.requestsOf('submit')[0].body).toMatchObject({ input: { media: [{ type: 'video', url: video.url }] } });
    });
  });

  describe('the generic mapper', () => {
    const mapping: UpstreamMapping = { family: 'm', modeSuffix: '-x', fields: [{ from: 'prompt', to: 'input' }], ignored: { quality: 'not sent' }, source: 'test' };

    it('refuses a parameter no table entry consumes, naming it, instead of dropping it', () => {
      expect(() => buildBody(mapping, { prompt: 'p', quality: 'hd', tempo: 3 })).toThrow(/m-x has no DashScope mapping for tempo/);
      expect(buildBody(mapping, { prompt: 'p', quality: 'hd' })).toEqual({ model: 'm-x', input: { prompt: 'p' }, parameters: {} });
    });

    it('every seed example of every served model maps without a gap', async () => {
      const { findModel } = await import('../../models/registry.ts');
      for (const model of ['wan2.5-preview', 'happyhorse-1.0', 'viduq3', 'viduq3-mix']) {
        for (const example of findModel(model)!.examples) {
          const body = { ...example.body, image_urls: (example.body.image_urls as string[] | undefined)?.map((_, i) => `https://e.com/${i}.png`) };
          if (!body.image_urls) delete body.image_urls;
          await expect(sent(body), example.title).resolves.toMatchObject({ model: expect.any(String) });
        }
      }
    });
  });
});
