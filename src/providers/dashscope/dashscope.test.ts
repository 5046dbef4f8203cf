import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { contractHarness, pollUntilDone, runProviderContract, startRequest, type ContractHarness } from '../../../test/contracts/provider.contract.ts';
import { ConfigError } from '../../config/configError.ts';
import { channelSchema } from '../../config/schema.ts';
import { isProviderError, type ProviderError } from '../types.ts';
import { DashscopeProvider } from './dashscopeProvider.ts';
import { DashscopeFake } from './fake.ts';
import { createDashscopeProvider } from './index.ts';

const KEY = 'sk-fake-dashscope';

// Every model × mode the adapter serves (vidu needs the Beijing region).
const CASES = [
  { title: 'wan2.5-preview text-to-video', body: { model: 'wan2.5-preview', prompt: 'a coastal road at sunset', size: '9:16', resolution: '480p' } },
  { title: 'wan2.5-preview image-to-video', body: { model: 'wan2.5-preview', prompt: 'the cat runs', image_urls: ['https://example.com/c.png'] } },
  { title: 'happyhorse-1.0 text-to-video', body: { model: 'happyhorse-1.0', prompt: 'waves on a beach', duration: 3 } },
  { title: 'happyhorse-1.0 image-to-video', body: { model: 'happyhorse-1.0', prompt: 'bring it to life', first_frame_image: 'https://example.com/a.png' } },
  { title: 'happyhorse-1.0 reference images', body: { model: 'happyhorse-1.0', prompt: '[Image 1] in [Image 2]', image_urls: ['https://e.com/1.png', 'https://e.com/2.png'] } },
  { title: 'happyhorse-1.0 video edit', body: { model: 'happyhorse-1.0', prompt: 'cartoon style', video_url: 'https://example.com/v.mp4', image_urls: ['https://e.com/s.png'] } },
  { title: 'viduq3 reference-to-video', body: { model: 'viduq3', prompt: 'hug by the lake', image_urls: ['https://e.com/1.png', 'https://e.com/2.png'] } },
  { title: 'viduq3-mix reference-to-video', body: { model: 'viduq3-mix', prompt: 'neon street', image_urls: ['https://e.com/1.png'], duration: 1 } },
];

runProviderContract({
  name: 'dashscope',
  startFake: async () => {
    const fake = new DashscopeFake({ apiKey: KEY });
    await fake.start();
    return { server: fake.server, jobs: fake.jobs, url: fake.url, close: () => fake.close() };
  },
  makeProvider: (fake, { timeoutMs }) => new DashscopeProvider({ baseUrl: fake.url, apiKey: KEY, region: 'beijing', timeoutMs }),
  cases: CASES,
  kinds: { submit: 'submit', status: 'status', cancel: 'cancel' },
  cancel: true,
});

describe('dashscope adapter', () => {
  let h: ContractHarness;
  let fake: DashscopeFake;
  let provider: DashscopeProvider;
  beforeAll(async () => (h = await contractHarness()));
  afterAll(async () => h.close());
  beforeEach(async () => {
    fake = new DashscopeFake({ apiKey: KEY });
    await fake.start();
    provider = new DashscopeProvider({ baseUrl: fake.url, apiKey: KEY, region: 'beijing' });
  });
  afterEach(async () => fake.close());

  const start = (body: Record<string, unknown>) => provider.start(startRequest(body, h, fake.url), h.ctx);
  const startError = (body: Record<string, unknown>) => start(body).then(() => expect.fail('start succeeded'), (e: unknown) => e as ProviderError);
  /** Polls a fresh happyhorse job whose task reply the fake replaces with `output` (and `usage`). */
  async function statusWith(output: Record<string, unknown>, usage?: Record<string, unknown>) {
    const op = await start({ model: 'happyhorse-1.0', prompt: 'x' });
    fake.server.failNext('status', { status: 200, body: { request_id: 'r', output: { task_id: op.id, ...output }, ...(usage ? { usage } : {}) } });
    return provider.status(op, h.ctx);
  }

  it('submits with the Bearer key and X-DashScope-Async: enable to the video-synthesis path', async () => {
    await start({ model: 'happyhorse-1.0', prompt: 'x' });
    const sent = fake.server.requestsOf('submit')[0];
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/api/v1/services/aigc/video-generation/video-synthesis');
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.headers['x-dashscope-async']).toBe('enable');
    expect(sent.headers['content-type']).toMatch(/^application\/json/);
  });

  describe('task status mapping', () => {
    it('PENDING → queued, RUNNING → running, SUCCEEDED → succeeded with the video URL', async () => {
      fake.jobs.latencyMs = 400;
      const op = await start({ model: 'happyhorse-1.0', prompt: 'x' });
      const { final, seen } = await pollUntilDone(provider, op, h.ctx);
      expect(seen[0]).toBe('queued');
      expect(seen).toContain('running');
      expect(final).toEqual({ state: 'succeeded', outputs: [{ kind: 'url', url: `${fake.url}/media/${op.id}.mp4`, contentType: 'video/mp4' }], billedSeconds: 5, videos: [{ seconds: 5 }] });
    });

    it('FAILED with DataInspectionFailed → content_filtered, keeping the upstream code and message', async () => {
      const s = await statusWith({ task_status: 'FAILED', code: 'DataInspectionFailed', message: 'Input data may contain inappropriate content.' });
      expect(s).toEqual({ state: 'failed', error: { code: 'content_filtered', message: 'Input data may contain inappropriate content.', upstreamCode: 'DataInspectionFailed' } });
    });

    it('FAILED with another code → upstream_error; without a message the reason names the code', async () => {
      expect(await statusWith({ task_status: 'FAILED', code: 'InvalidParameter', message: 'The resolution is not valid' })).toEqual({
        state: 'failed',
        error: { code: 'upstream_error', message: 'The resolution is not valid', upstreamCode: 'InvalidParameter' },
      });
      const bare = await statusWith({ task_status: 'FAILED', code: 'InternalError.Algo' });
      expect(bare.state === 'failed' && bare.error.message).toMatch(/failed \(InternalError\.Algo\) without a reason/);
    });

    it('CANCELED → cancelled', async () => {
      expect(await statusWith({ task_status: 'CANCELED' })).toEqual({ state: 'cancelled' });
    });

    it('UNKNOWN (a task older than 24 h) → failed, saying the task id expired', async () => {
      const op = await start({ model: 'happyhorse-1.0', prompt: 'x' });
      fake.taskTtlMs = 0;
      await new Promise((r) => setTimeout(r, 5));
      const s = await provider.status(op, h.ctx);
      expect(s.state).toBe('failed');
      if (s.state === 'failed') {
        expect(s.error.upstreamCode).toBe('UNKNOWN');
        expect(s.error.message).toMatch(/no longer knows task .*expire 24 h after submission/);
      }
    });

    it('an unexpected task_status, or SUCCEEDED without a video_url, is a retryable error', async () => {
      const odd = await statusWith({ task_status: 'SUSPENDED' }).catch((e: ProviderError) => e);
      expect(isProviderError(odd) && odd.retryable && /SUSPENDED/.test(odd.message)).toBe(true);
      const empty = await statusWith({ task_status: 'SUCCEEDED' }).catch((e: ProviderError) => e);
      expect(isProviderError(empty) && empty.retryable && /without a video_url/.test(empty.message)).toBe(true);
    });
  });

  describe('billed seconds from usage', () => {
    it('wan reports video_duration', async () => {
      const op = await start({ model: 'wan2.5-preview', prompt: 'x', duration: 10 });
      const { final } = await pollUntilDone(provider, op, h.ctx);
      expect(final).toMatchObject({ state: 'succeeded', billedSeconds: 10 });
    });

    it('video edit bills the output (= source) seconds, not usage.duration (input + output), capped at 15', async () => {
      const edit = { model: 'happyhorse-1.0', prompt: 'cartoon', video_url: 'https://e.com/v.mp4' };
      const short = await pollUntilDone(provider, await start(edit), h.ctx);
      expect(short.final).toMatchObject({ state: 'succeeded', billedSeconds: 6.62 });
      fake.editSourceSeconds = 25;
      const long = await pollUntilDone(provider, await start(edit), h.ctx);
      expect(long.final).toMatchObject({ state: 'succeeded', billedSeconds: 15 });
      // Only the input length reported: it stands in for the output, still capped.
      const op = await start(edit);
      fake.server.failNext('status', { status: 200, body: { output: { task_id: op.id, task_status: 'SUCCEEDED', video_url: 'https://cdn.example/v.mp4' }, usage: { duration: 60, input_video_duration: 30 } } });
      expect(await provider.status(op, h.ctx)).toMatchObject({ billedSeconds: 15 });
    });

    it('without usage, billedSeconds is left to the plan', async () => {
      const s = await statusWith({ task_status: 'SUCCEEDED', video_url: 'https://cdn.example/v.mp4' });
      expect(s.state === 'succeeded' && 'billedSeconds' in s).toBe(false);
    });
  });

  describe('errors', () => {
    it('Throttling.RateQuota on 429 is retryable and rate-limited, keeping the code and Retry-After', async () => {
      fake.server.failNext('submit', { status: 429, headers: { 'retry-after': '3' }, body: { request_id: 'r', code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded, please try again later.' } });
      const e = await startError({ model: 'happyhorse-1.0', prompt: 'x' });
      expect(e).toMatchObject({ retryable: true, rateLimited: true, upstreamCode: 'Throttling.RateQuota', retryAfterMs: 3000 });
      expect(e.message).toContain('Requests rate limit exceeded');
    });

    it('a throttling code is rate-limited even when the HTTP status says otherwise (submit and poll)', async () => {
      fake.server.failNext('submit', { status: 400, body: { code: 'Throttling.AllocationQuota', message: 'Allocated quota exceeded, please increase your quota limit.' } });
      expect(await startError({ model: 'happyhorse-1.0', prompt: 'x' })).toMatchObject({ retryable: true, rateLimited: true, status: 400 });
      const op = await start({ model: 'happyhorse-1.0', prompt: 'x' });
      fake.server.failNext('status', { status: 403, body: { code: 'Throttling', message: 'Requests throttling triggered.' } });
      expect(await provider.status(op, h.ctx).catch((e: ProviderError) => e)).toMatchObject({ retryable: true, rateLimited: true, upstreamCode: 'Throttling' });
    });

    it('Arrearage (400) fails over to another channel instead of rejecting the task', async () => {
      fake.server.failNext('submit', { status: 400, body: { code: 'Arrearage', message: 'Access denied, please make sure your account is in good standing.' } });
      expect(await startError({ model: 'happyhorse-1.0', prompt: 'x' })).toMatchObject({ retryable: true, rateLimited: false, upstreamCode: 'Arrearage' });
    });

    it('InvalidParameter is final, with the upstream code and message; a wrong key too', async () => {
      fake.server.failNext('submit', { status: 400, body: { request_id: 'r', code: 'InvalidParameter', message: 'The size is not valid' } });
      const e = await startError({ model: 'happyhorse-1.0', prompt: 'x' });
      expect(e).toMatchObject({ retryable: false, rateLimited: false, status: 400, upstreamCode: 'InvalidParameter' });
      expect(e.message).toContain('The size is not valid');
      const wrongKey = new DashscopeProvider({ baseUrl: fake.url, apiKey: 'sk-wrong' });
      const e401 = await wrongKey.start(startRequest({ model: 'happyhorse-1.0', prompt: 'x' }, h, fake.url), h.ctx).catch((x: ProviderError) => x);
      expect(e401).toMatchObject({ retryable: false, status: 401, upstreamCode: 'InvalidApiKey' });
    });

    it('a 200 reply that carries only {code, message} is treated as the error it is', async () => {
      fake.server.failNext('submit', { status: 200, body: { request_id: 'r', code: 'Throttling', message: 'Requests throttling triggered.' } });
      expect(await startError({ model: 'happyhorse-1.0', prompt: 'x' })).toMatchObject({ rateLimited: true, upstreamCode: 'Throttling' });
    });
  });

  describe('cancel', () => {
    it('cancels a PENDING task, which then reports CANCELED', async () => {
      fake.jobs.latencyMs = 5000;
      const op = await start({ model: 'happyhorse-1.0', prompt: 'x' });
      await provider.cancel(op, h.ctx);
      expect(fake.server.requestsOf('cancel')[0]).toMatchObject({ method: 'POST', path: `/api/v1/tasks/${op.id}/cancel` });
      expect(await provider.status(op, h.ctx)).toEqual({ state: 'cancelled' });
    });

    it('a task already running cannot be cancelled: a final error naming UnsupportedOperation', async () => {
      fake.jobs.latencyMs = 5000;
      const op = await start({ model: 'happyhorse-1.0', prompt: 'x' });
      fake.jobs.get(String(op.id))!.createdAt -= 2000;
      const e = await provider.cancel(op, h.ctx).then(() => expect.fail('cancel succeeded'), (x: ProviderError) => x);
      expect(e).toMatchObject({ retryable: false, upstreamCode: 'UnsupportedOperation' });
      expect(e.message).toMatch(/already started/);
      expect((await provider.status(op, h.ctx)).state).toBe('running');
    });
  });

  describe('the fake speaks DashScope', () => {
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(`${fake.url}/api/v1/services/aigc/video-generation/video-synthesis`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

    it('refuses a submit without X-DashScope-Async with DashScope’s own 403, creating no task', async () => {
      const res = await post({ authorization: `Bearer ${KEY}` }, { model: 'happyhorse-1.0-t2v', input: { prompt: 'x' }, parameters: {} });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'AccessDenied', message: 'current user api does not support synchronous calls', request_id: expect.any(String) });
      expect(fake.jobs.jobs.size).toBe(0);
    });

    it('answers an unknown model with 404 InvalidParameter even without the header', async () => {
      const res = await post({ authorization: `Bearer ${KEY}` }, { model: 'happyhorse-9-t2v', input: { prompt: 'x' } });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'InvalidParameter', message: 'Model not exist.' });
    });

    it('refuses a body outside the model’s documented protocol', async () => {
      const res = await post({ authorization: `Bearer ${KEY}`, 'x-dashscope-async': 'enable' }, { model: 'happyhorse-1.0-i2v', input: { prompt: 'x' }, parameters: { ratio: '16:9' } });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'InvalidParameter', message: 'Unrecognized field: parameters.ratio' });
    });
  });

  describe('regions and channel config', () => {
    it('picks the regional endpoint: Singapore by default, Virginia, Beijing; base_url overrides it', () => {
      expect(new DashscopeProvider({ apiKey: KEY }).baseUrl).toBe('https://dashscope-intl.aliyuncs.com');
      expect(new DashscopeProvider({ apiKey: KEY, region: 'virginia' }).baseUrl).toBe('https://dashscope-us.aliyuncs.com');
      expect(new DashscopeProvider({ apiKey: KEY, region: 'beijing' }).baseUrl).toBe('https://dashscope.aliyuncs.com');
      expect(new DashscopeProvider({ apiKey: KEY, region: 'beijing', baseUrl: 'https://ws1.cn-beijing.maas.aliyuncs.com' }).baseUrl).toBe('https://ws1.cn-beijing.maas.aliyuncs.com');
    });

    it('serves the Vidu relay only in Beijing; wan2.5 and happyhorse everywhere', () => {
      const intl = new DashscopeProvider({ apiKey: KEY });
      expect(['wan2.5-preview', 'happyhorse-1.0', 'viduq3', 'viduq3-mix', 'Omni-Flash-Ext'].map((m) => intl.supports(m))).toEqual([true, true, false, false, false]);
      expect(intl.canServe({ model: 'viduq3', mode: 'R2V' })).toMatch(/only in beijing, not in singapore/);
      const beijing = new DashscopeProvider({ apiKey: KEY, region: 'beijing' });
      expect(beijing.supports('viduq3-mix') && beijing.canServe({ model: 'viduq3-mix', mode: 'R2V' }) === true).toBe(true);
    });

    it('createDashscopeProvider reads base_url, api_key, options.region and options.timeout_ms', () => {
      const channel = (extra: Record<string, unknown>) => channelSchema.parse({ name: 'ds', provider: 'dashscope', api_key: KEY, ...extra });
      const p = createDashscopeProvider(channel({ options: { region: 'virginia', timeout_ms: 5000 } }));
      expect([p.kind, p.region, p.baseUrl]).toEqual(['dashscope', 'virginia', 'https://dashscope-us.aliyuncs.com']);
      expect(createDashscopeProvider(channel({ base_url: 'https://proxy.example/ds' })).baseUrl).toBe('https://proxy.example/ds');
      expect(() => createDashscopeProvider(channel({ options: { region: 'hangzhou' } }))).toThrow(ConfigError);
      expect(() => createDashscopeProvider(channelSchema.parse({ name: 'ds', provider: 'dashscope' }))).toThrow(/needs api_key/);
    });
  });
});
