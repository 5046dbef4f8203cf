/**
 * The fal adapter's queue behaviour against the fake: every status mapping, fal's error shapes, cancel,
 * the URLs it polls, webhook delivery, canServe, and the channel factory.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { contractHarness, pollUntilDone, startRequest, type ContractHarness } from '../../../test/contracts/provider.contract.ts';
import { FAKE_FAIL_MARKER, FAKE_FAIL_REASON } from '../fakes/fakeJobs.ts';
import { FakeServer } from '../fakes/fakeServer.ts';
import { validateRequest } from '../../models/validate.ts';
import { channelSchema } from '../../config/schema.ts';
import { ConfigError } from '../../config/configError.ts';
import { isProviderError, type ProviderError, type UpstreamOperation } from '../types.ts';
import { FAKE_FAL_KEY, FalFake } from './fake.ts';
import { webhookBody } from './falApi.ts';
import { FalProvider, type FalOperation } from './falProvider.ts';
import { createFalProvider } from './index.ts';

const T2V = { model: 'happyhorse-1.0', prompt: 'a coastal road' };

async function providerError(p: Promise<unknown>): Promise<ProviderError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isProviderError(e)) throw new Error(`expected a ProviderError, got ${String(e)}`);
  return e;
}

describe('fal adapter: queue', () => {
  let h: ContractHarness;
  let fake: FalFake;
  let provider: FalProvider;
  beforeAll(async () => (h = await contractHarness()));
  afterAll(async () => h.close());
  beforeEach(async () => {
    fake = new FalFake();
    await fake.start();
    provider = new FalProvider({ baseUrl: fake.url, apiKey: FAKE_FAL_KEY });
  });
  afterEach(async () => fake.close());

  const start = (body: Record<string, unknown> = T2V) => provider.start(startRequest(body, h, fake.url), h.ctx);

  describe('statuses', () => {
    it('walks IN_QUEUE → IN_PROGRESS → COMPLETED as queued → running → succeeded', async () => {
      fake.jobs.latencyMs = 400;
      const op = await start();
      const { final, seen } = await pollUntilDone(provider, op, h.ctx);
      expect(seen.indexOf('queued')).toBe(0);
      expect(seen).toContain('running');
      expect(seen.indexOf('running')).toBeGreaterThan(seen.lastIndexOf('queued'));
      expect(final).toEqual({ state: 'succeeded', outputs: [{ kind: 'url', url: `${fake.url}/media/${(op as unknown as FalOperation).requestId}.mp4`, contentType: 'video/mp4' }] });
    });

    it('polls the URLs fal returned, which drop the endpoint subpath', async () => {
      const op = (await start({ model: 'veo3.1-fast-official', prompt: 'x', first_frame_image: 'https://e.com/f.png' })) as unknown as FalOperation;
      expect(op.endpoint).toBe('fal-ai/veo3.1/fast/image-to-video');
      expect(op.statusUrl).toBe(`${fake.url}/fal-ai/veo3.1/requests/${op.requestId}/status`);
      await pollUntilDone(provider, op as unknown as UpstreamOperation, h.ctx);
      const polled = fake.server.requestsOf('status').map((r) => r.path);
      expect(new Set(polled)).toEqual(new Set([`/fal-ai/veo3.1/requests/${op.requestId}/status`]));
      expect(fake.server.requestsOf('response')[0].path).toBe(`/fal-ai/veo3.1/requests/${op.requestId}`);
    });

    it('ignores queue URLs outside its base URL (they would get the key) and builds its own', async () => {
      await fake.close();
      fake = new FalFake({ foreignQueueUrls: 'http://203.0.113.9:1' });
      await fake.start();
      provider = new FalProvider({ baseUrl: fake.url, apiKey: FAKE_FAL_KEY });
      const op = (await start()) as unknown as FalOperation;
      expect(op.statusUrl).toBe(`${fake.url}/alibaba/happy-horse/requests/${op.requestId}/status`);
      expect(op.cancelUrl).toBe(`${fake.url}/alibaba/happy-horse/requests/${op.requestId}/cancel`);
      expect((await pollUntilDone(provider, op as unknown as UpstreamOperation, h.ctx)).final.state).toBe('succeeded');
    });

    it('a model error on the result call is a failed status with fal’s message and type', async () => {
      const op = await start({ ...T2V, prompt: `x ${FAKE_FAIL_MARKER}` });
      const { final } = await pollUntilDone(provider, op, h.ctx);
      expect(final).toEqual({ state: 'failed', error: { code: 'content_filtered', message: `prompt: ${FAKE_FAIL_REASON}`, upstreamCode: 'content_policy_violation' } });
    });

    const completed = { status: 200, body: { status: 'COMPLETED' } };
    const cases: { title: string; result: { status: number; body?: unknown; headers?: Record<string, string> }; expected: unknown }[] = [
      {
        title: 'a request error (504 request_timeout) is a failed status coded upstream_timeout',
        result: { status: 504, headers: { 'x-fal-error-type': 'request_timeout' }, body: { detail: 'Request timed out', error_type: 'request_timeout' } },
        expected: { state: 'failed', error: { code: 'upstream_timeout', message: 'Request timed out', upstreamCode: 'request_timeout' } },
      },
      {
        title: 'a 500 runner error with only the header is a failed status',
        result: { status: 500, headers: { 'x-fal-error-type': 'runner_server_error' }, body: 'oops' },
        expected: { state: 'failed', error: { code: 'upstream_error', message: 'fal answered HTTP 500 for the result', upstreamCode: 'runner_server_error' } },
      },
      {
        title: 'an object-shaped detail is read too',
        result: { status: 400, body: { detail: { error: 'content_policy_violation', message: 'celebrity likeness' } } },
        expected: { state: 'failed', error: { code: 'content_filtered', message: 'celebrity likeness', upstreamCode: 'content_policy_violation' } },
      },
      {
        title: 'client_cancelled (499) is cancelled',
        result: { status: 499, body: { detail: 'Request was cancelled', error_type: 'client_cancelled' } },
        expected: { state: 'cancelled' },
      },
      {
        title: '"Request is still in progress" is still running',
        result: { status: 400, body: { detail: 'Request is still in progress' } },
        expected: { state: 'running' },
      },
    ];
    for (const c of cases) {
      it(`COMPLETED, then ${c.title}`, async () => {
        const op = await start();
        fake.server.failNext('status', completed);
        fake.server.failNext('response', c.result);
        expect(await provider.status(op, h.ctx)).toEqual(c.expected);
      });
    }

    it('FAILED (listed by a schema mirror) reads the result like COMPLETED; CANCELED is cancelled', async () => {
      const op = await start({ ...T2V, prompt: `x ${FAKE_FAIL_MARKER}` });
      await pollUntilDone(provider, op, h.ctx);
      fake.server.failNext('status', { status: 200, body: { status: 'FAILED' } });
      expect((await provider.status(op, h.ctx)).state).toBe('failed');
      fake.server.failNext('status', { status: 200, body: { status: 'CANCELED' } });
      expect(await provider.status(op, h.ctx)).toEqual({ state: 'cancelled' });
    });

    it('an unknown status, or a result reply that is not fal’s, is a retryable error', async () => {
      const op = await start();
      fake.server.failNext('status', { status: 200, body: { status: 'SOMETHING_NEW' } });
      expect((await providerError(provider.status(op, h.ctx))).retryable).toBe(true);
      fake.server.failNext('status', completed);
      fake.server.failNext('response', { status: 502, body: '<html>bad gateway</html>' });
      const e = await providerError(provider.status(op, h.ctx));
      expect(e.retryable && e.status === 502).toBe(true);
    });

    it('429 on the result call is rate-limited, not a failed job', async () => {
      const op = await start();
      fake.server.failNext('status', completed);
      fake.server.failNext('response', { status: 429, headers: { 'retry-after': '3' }, body: { detail: 'Too many requests' } });
      const e = await providerError(provider.status(op, h.ctx));
      expect([e.retryable, e.rateLimited, e.retryAfterMs]).toEqual([true, true, 3000]);
    });

    it('reports the video’s size and length when fal gives them; in video edit they set the billed seconds', async () => {
      await fake.close();
      fake = new FalFake({ reportVideoFacts: true });
      await fake.start();
      provider = new FalProvider({ baseUrl: fake.url, apiKey: FAKE_FAL_KEY });
      const edit = await pollUntilDone(provider, await start({ model: 'happyhorse-1.0', prompt: 'x', video_url: 'https://e.com/v.mp4' }), h.ctx);
      expect(edit.final).toMatchObject({ state: 'succeeded', videos: [{ width: 320, height: 180, seconds: 1 }], billedSeconds: 1 });
      const t2v = await pollUntilDone(provider, await start(), h.ctx);
      expect(t2v.final).toMatchObject({ state: 'succeeded', videos: [{ seconds: 1 }] });
      expect(t2v.final).not.toHaveProperty('billedSeconds');
    });
  });

  describe('errors on submit', () => {
    it('422 is not retryable and carries fal’s detail message and type', async () => {
      // fal-ai/veo3.1/lite has no 4k: the fake answers as fal does, with a pydantic detail array.
      const req = startRequest({ model: 'veo3.1-fast-official', prompt: 'x', resolution: '4K' }, h, fake.url);
      req.upstreamModel = 'fal-ai/veo3.1/lite';
      const e = await providerError(provider.start(req, h.ctx));
      expect([e.retryable, e.rateLimited, e.status, e.upstreamCode]).toEqual([false, false, 422, 'literal_error']);
      expect(e.message).toBe('fal answered 422: resolution: Input should be "720p", "1080p"');
    });

    it('429 is retryable and rate-limited with Retry-After', async () => {
      fake.server.failNext('submit', { status: 429, headers: { 'retry-after': '9' }, body: { detail: 'Rate limit exceeded' } });
      const e = await providerError(start());
      expect([e.retryable, e.rateLimited, e.retryAfterMs]).toEqual([true, true, 9000]);
      expect(e.message).toContain('Rate limit exceeded');
    });

    it('X-Fal-Retryable overrides the status: a 503 fal calls final is not retried', async () => {
      fake.server.failNext('submit', { status: 503, headers: { 'x-fal-retryable': 'false' }, body: { detail: 'No runner for this app', error_type: 'runner_scheduling_failure' } });
      const e = await providerError(start());
      expect([e.retryable, e.upstreamCode]).toEqual([false, 'runner_scheduling_failure']);
    });

    it('a wrong key is a non-retryable 401 with fal’s words', async () => {
      const e = await providerError(new FalProvider({ baseUrl: fake.url, apiKey: 'someone:else' }).start(startRequest(T2V, h, fake.url), h.ctx));
      expect([e.retryable, e.status]).toEqual([false, 401]);
      expect(e.message).toContain('No user found for Key ID and Secret');
    });

    it('an endpoint fal does not host is a non-retryable 404', async () => {
      const req = startRequest(T2V, h, fake.url);
      req.upstreamModel = 'fal-ai/no-such-app';
      const e = await providerError(provider.start(req, h.ctx));
      expect([e.retryable, e.status]).toEqual([false, 404]);
      expect(e.message).toContain('Application "fal-ai/no-such-app" not found');
    });

    it('a request fal cannot take is refused before anything is sent', async () => {
      const e = await providerError(start({ model: 'viduq3-mix', prompt: 'x', image_urls: ['1', '2', '3', '4', '5'].map((n) => `https://e.com/${n}.png`) }));
      expect(e.retryable).toBe(false);
      expect(e.message).toContain('at most 4');
      expect(fake.server.requestsOf('submit')).toHaveLength(0);
    });
  });

  describe('cancel', () => {
    it('PUTs the cancel URL of an unfinished job (202 CANCELLATION_REQUESTED); the job then reads cancelled', async () => {
      fake.jobs.latencyMs = 5000;
      const op = (await start()) as unknown as FalOperation;
      await provider.cancel(op as unknown as UpstreamOperation, h.ctx);
      const [put] = fake.server.requestsOf('cancel');
      expect([put.method, put.path]).toEqual(['PUT', `/alibaba/happy-horse/requests/${op.requestId}/cancel`]);
      expect(fake.jobs.get(op.requestId)?.cancelledAt).toBeDefined();
      expect(await provider.status(op as unknown as UpstreamOperation, h.ctx)).toEqual({ state: 'cancelled' });
    });

    it('a finished job (400 ALREADY_COMPLETED) or an unknown one (404) needs nothing and is no error', async () => {
      const op = await start();
      await pollUntilDone(provider, op, h.ctx);
      await expect(provider.cancel(op, h.ctx)).resolves.toBeUndefined();
      const unknown = { ...op, cancelUrl: `${fake.url}/alibaba/happy-horse/requests/nope/cancel` };
      await expect(provider.cancel(unknown, h.ctx)).resolves.toBeUndefined();
      expect(fake.server.requestsOf('cancel')).toHaveLength(2);
    });

    it('any other refusal is an error', async () => {
      const op = await start();
      fake.server.failNext('cancel', { status: 403, body: { detail: 'Forbidden' } });
      const e = await providerError(provider.cancel(op, h.ctx));
      expect([e.retryable, e.status]).toEqual([false, 403]);
    });
  });

  describe('webhooks', () => {
    let receiver: FakeServer;
    beforeEach(async () => {
      receiver = new FakeServer().route('POST', '/hooks/:channel/:task', 'hook', () => ({ body: { received: true } }));
      await receiver.start();
    });
    afterEach(async () => receiver.close());

    async function delivered(count: number): Promise<void> {
      const deadline = Date.now() + 5000;
      while (receiver.requestsOf('hook').length < count) {
        if (Date.now() > deadline) throw new Error('no webhook arrived');
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    it('asks fal to call back with ?fal_webhook=<url>, and fal POSTs OK with the result', async () => {
      const hook = `${receiver.url}/hooks/fal-main/task_1?sig=a%2Bb&x=1`;
      const req = startRequest(T2V, h, fake.url, 'task_1');
      req.webhookUrl = hook;
      const op = (await provider.start(req, h.ctx)) as unknown as FalOperation;
      expect(fake.server.requestsOf('submit')[0].query.fal_webhook).toBe(hook);
      await delivered(1);
      const [call] = receiver.requestsOf('hook');
      expect([call.path, call.query.sig, call.query.x]).toEqual(['/hooks/fal-main/task_1', 'a+b', '1']);
      const body = webhookBody.parse(call.body);
      expect([body.request_id, body.status, body.error]).toEqual([op.requestId, 'OK', null]);
      expect(body.payload).toMatchObject({ video: { url: `${fake.url}/media/${op.requestId}.mp4` } });
    });

    it('a failed job is delivered as ERROR with fal’s error body as the payload', async () => {
      const req = startRequest({ ...T2V, prompt: `x ${FAKE_FAIL_MARKER}` }, h, fake.url);
      req.webhookUrl = `${receiver.url}/hooks/fal-main/task_2`;
      await provider.start(req, h.ctx);
      await delivered(1);
      const body = webhookBody.parse(receiver.requestsOf('hook')[0].body);
      expect([body.status, body.error]).toEqual(['ERROR', 'Invalid status code: 422']);
      expect(JSON.stringify(body.payload)).toContain(FAKE_FAIL_REASON);
    });

    it('sends no fal_webhook when the channel wants none', async () => {
      await start();
      expect(fake.server.requestsOf('submit')[0].query).toEqual({});
    });
  });

  describe('canServe', () => {
    const can = (body: Record<string, unknown>) => provider.canServe(validateRequest(body));
    const refs = (n: number) => Array.from({ length: n }, (_, i) => `https://e.com/${i}.png`);

    it('viduq3-mix: up to 4 reference images; 5–7 are refused with fal’s limit so another channel can take them', () => {
      expect(can({ model: 'viduq3-mix', prompt: 'x', image_urls: refs(4) })).toBe(true);
      for (const n of [5, 7]) {
        expect(can({ model: 'viduq3-mix', prompt: 'x', image_urls: refs(n) })).toBe(`fal's fal-ai/vidu/q3/reference-to-video/mix takes at most 4 image_urls; this request has ${n}`);
      }
      expect(can({ model: 'viduq3-mix', prompt: 'x'.repeat(2001), image_urls: refs(1) })).toContain('at most 2000 characters of prompt');
    });

    it('refuses what fal cannot honour for wan and veo, and takes the rest', () => {
      expect(can({ model: 'wan2.5-preview', prompt: 'x', size: '4:3' })).toBe(`fal's fal-ai/wan-25-preview/text-to-video cannot honour size="4:3"; it takes only "16:9", "9:16", "1:1"`);
      expect(can({ model: 'wan2.5-preview', prompt: 'x', size: '1:1' })).toBe(true);
      expect(can({ model: 'wan2.5-preview', image_urls: refs(1) })).toContain('requires prompt');
      expect(can({ model: 'veo3.1-fast-official', prompt: 'x', sample_count: 2 })).toContain('sample_count=2');
      expect(can({ model: 'veo3.1-quality-official', prompt: 'x', person_generation: 'disallow' })).toContain('person_generation="disallow"');
      expect(can({ model: 'happyhorse-1.0', prompt: 'x', video_url: 'https://e.com/v.mp4', image_urls: refs(5) })).toBe(true);
    });

    it('serves only the models it has endpoints for', () => {
      expect(['happyhorse-1.0', 'wan2.5-preview', 'veo3.1-fast-official', 'veo3.1-quality-official', 'viduq3-mix'].every((m) => provider.supports(m))).toBe(true);
      expect(provider.supports('viduq3')).toBe(false);
      expect(provider.supports('Omni-Flash-Ext')).toBe(false);
    });
  });
});

describe('createFalProvider', () => {
  const channel = (extra: Record<string, unknown>) => channelSchema.parse({ name: 'fal-main', provider: 'fal', ...extra });

  it('defaults to https://queue.fal.run, takes base_url, timeout_ms and needs an api_key', async () => {
    const p = createFalProvider(channel({ api_key: 'id:secret', options: { timeout_ms: 1234 } }));
    expect(p.kind).toBe('fal');
    expect(p).toMatchObject({ baseUrl: 'https://queue.fal.run', o: { apiKey: 'id:secret', timeoutMs: 1234 } });
    expect(() => createFalProvider(channel({}))).toThrow(ConfigError);
    // A reply without queue URLs: they are built from the channel's base_url.
    const h = await contractHarness();
    const fake = new FalFake();
    await fake.start();
    try {
      fake.server.failNext('submit', { status: 200, body: { request_id: 'r1' } });
      const direct = createFalProvider(channel({ api_key: FAKE_FAL_KEY, base_url: fake.url }));
      const op = (await direct.start(startRequest(T2V, h, fake.url), h.ctx)) as unknown as FalOperation;
      expect(op.responseUrl).toBe(`${fake.url}/alibaba/happy-horse/requests/r1`);
    } finally {
      await fake.close();
      await h.close();
    }
  });
});
