import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractHarness, pollUntilDone, runProviderContract, startRequest, type ContractHarness } from '../../../test/contracts/provider.contract.ts';
import { ApimartProvider } from './apimartProvider.ts';
import { ApimartFake } from './fake.ts';
import { isProviderError } from '../types.ts';

const KEY = 'sk-fake-apimart';

const CASES = [
  { title: 'happyhorse-1.0 text-to-video', body: { model: 'happyhorse-1.0', prompt: 'a coastal road at sunset', duration: 5 } },
  { title: 'happyhorse-1.0 image-to-video', body: { model: 'happyhorse-1.0', prompt: 'bring it to life', first_frame_image: 'https://example.com/a.png' } },
  { title: 'happyhorse-1.0 reference images', body: { model: 'happyhorse-1.0', prompt: 'a scene', image_urls: ['https://example.com/a.png', 'https://example.com/b.png'] } },
  { title: 'happyhorse-1.0 video edit', body: { model: 'happyhorse-1.0', prompt: 'cartoon style', video_url: 'https://example.com/v.mp4', image_urls: ['https://example.com/s.png'] } },
  { title: 'wan2.5-preview image-to-video', body: { model: 'wan2.5-preview', prompt: 'cat', image_urls: ['https://example.com/c.png'] } },
  { title: 'Omni-Flash-Ext fusion', body: { model: 'Omni-Flash-Ext', prompt: 'fusion', image_urls: ['https://e.com/1.png', 'https://e.com/2.png', 'https://e.com/3.png'] } },
  { title: 'viduq3-mix reference-to-video', body: { model: 'viduq3-mix', prompt: 'hug', image_urls: ['https://e.com/1.png'], duration: 1 } },
  { title: 'veo3.1-quality-official first+last frame, 2 samples', body: { model: 'veo3.1-quality-official', prompt: 'transition', first_frame_image: 'https://e.com/f.png', last_frame_image: 'https://e.com/l.png', sample_count: 2 } },
];

runProviderContract({
  name: 'apimart',
  startFake: async () => {
    const fake = new ApimartFake({ apiKey: KEY });
    await fake.start();
    return { server: fake.server, jobs: fake.jobs, url: fake.url, close: () => fake.close() };
  },
  makeProvider: (fake, { timeoutMs }) => new ApimartProvider({ baseUrl: fake.url, apiKey: KEY, timeoutMs }),
  cases: CASES,
  kinds: { submit: 'submit', status: 'status', cancel: 'cancel' },
  cancel: true,
});

describe('apimart adapter', () => {
  let h: ContractHarness;
  beforeAll(async () => (h = await contractHarness()));
  afterAll(async () => h.close());

  it('sends the APIMart body field for field, the key as Bearer, the task id as Idempotency-Key, stored images inline', async () => {
    const fake = new ApimartFake({ apiKey: KEY });
    await fake.start();
    try {
      const p = new ApimartProvider({ baseUrl: fake.url, apiKey: KEY });
      const req = startRequest({ model: 'wan2.5-preview', prompt: 'cat', image_urls: ['https://example.com/c.png'], resolution: '480P', seed: 7 }, h, fake.url, 'task_fixed');
      req.webhookUrl = 'https://gw.example/hooks/x/task_fixed?sig=abc';
      await p.start(req, h.ctx);
      const sent = fake.server.requestsOf('submit')[0];
      expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(sent.headers['idempotency-key']).toBe('task_fixed');
      expect(sent.body).toEqual({
        model: 'wan2.5-preview',
        prompt: 'cat',
        image_urls: [`data:image/png;base64,${h.imageBytes.toString('base64')}`],
        resolution: '480p',
        duration: 5,
        seed: 7,
        prompt_extend: true,
        audio: true,
        watermark: false,
        callback_url: 'https://gw.example/hooks/x/task_fixed?sig=abc',
      });
    } finally {
      await fake.close();
    }
  });

  it('passes the channel’s upstream model id when it maps one', async () => {
    const fake = new ApimartFake({ apiKey: KEY });
    await fake.start();
    try {
      const req = startRequest({ model: 'viduq3', prompt: 'x', image_urls: ['https://e.com/1.png'] }, h, fake.url);
      req.upstreamModel = 'viduq3-pro';
      await new ApimartProvider({ baseUrl: fake.url, apiKey: KEY }).start(req, h.ctx);
      expect((fake.server.requestsOf('submit')[0].body as { model: string }).model).toBe('viduq3-pro');
    } finally {
      await fake.close();
    }
  });

  it('a retried submit with the same task id gets the same upstream task', async () => {
    const fake = new ApimartFake({ apiKey: KEY });
    await fake.start();
    try {
      const p = new ApimartProvider({ baseUrl: fake.url, apiKey: KEY });
      const req = startRequest({ model: 'happyhorse-1.0', prompt: 'x' }, h, fake.url, 'task_same');
      const a = await p.start(req, h.ctx);
      const b = await p.start(req, h.ctx);
      expect(a).toEqual(b);
      expect(fake.jobs.jobs.size).toBe(1);
    } finally {
      await fake.close();
    }
  });

  for (const submitShape of ['array', 'object'] as const) {
    for (const urlShape of ['array', 'string'] as const) {
      it(`reads ${submitShape} submit replies and ${urlShape} result urls`, async () => {
        const fake = new ApimartFake({ apiKey: KEY, submitShape, urlShape });
        await fake.start();
        try {
          const p = new ApimartProvider({ baseUrl: fake.url, apiKey: KEY });
          const op = await p.start(startRequest({ model: 'happyhorse-1.0', prompt: 'x' }, h, fake.url), h.ctx);
          const { final } = await pollUntilDone(p, op, h.ctx);
          expect(final.state).toBe('succeeded');
          if (final.state === 'succeeded') expect(final.outputs[0]).toMatchObject({ kind: 'url', url: expect.stringMatching(/\/media\/task_.*-0\.mp4$/) });
        } finally {
          await fake.close();
        }
      });
    }
  }

  it('a wrong key is a non-retryable error carrying the upstream message', async () => {
    const fake = new ApimartFake({ apiKey: KEY });
    await fake.start();
    try {
      const p = new ApimartProvider({ baseUrl: fake.url, apiKey: 'wrong' });
      const e = await p.start(startRequest({ model: 'happyhorse-1.0', prompt: 'x' }, h, fake.url), h.ctx).catch((x) => x);
      expect(isProviderError(e) && !e.retryable && e.status === 401).toBe(true);
      expect(String(e.message)).toContain('Invalid token');
    } finally {
      await fake.close();
    }
  });

  it('reads the {"success": false, "message"} error shape too', async () => {
    const fake = new ApimartFake({ apiKey: KEY });
    await fake.start();
    try {
      fake.server.failNext('submit', { status: 400, body: { success: false, message: 'prompt contains blocked words' } });
      const e = await new ApimartProvider({ baseUrl: fake.url, apiKey: KEY }).start(startRequest({ model: 'happyhorse-1.0', prompt: 'x' }, h, fake.url), h.ctx).catch((x) => x);
      expect(isProviderError(e) && !e.retryable).toBe(true);
      expect(String(e.message)).toContain('prompt contains blocked words');
    } finally {
      await fake.close();
    }
  });
});
