import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { contractHarness, pollUntilDone, runProviderContract, startRequest, type ContractHarness } from '../../../test/contracts/provider.contract.ts';
import { FakeServer } from '../fakes/fakeServer.ts';
import { fakeVideoBytes } from '../fakes/fakeVideo.ts';
import { FAKE_RAI_PARTIAL_MARKER, FAKE_RAI_MARKER, FAKE_RAI_REASON, googleError } from '../google/fakeGoogle.ts';
import { VEO_CONTRACT_CASES } from '../google/veoTestCases.ts';
import { openUpstreamOutput } from '../openOutput.ts';
import { isProviderError, type UpstreamOutput } from '../types.ts';
import { validateRequest } from '../../models/validate.ts';
import { GeminiFake } from './fake.ts';
import { GeminiProvider } from './geminiProvider.ts';

const KEY = 'AIza-test-key';

runProviderContract({
  name: 'gemini',
  startFake: async () => {
    const fake = new GeminiFake({ apiKey: KEY });
    await fake.start();
    return { server: fake.server, jobs: fake.jobs, url: fake.url, close: () => fake.close() };
  },
  makeProvider: (fake, { timeoutMs }) => new GeminiProvider({ baseUrl: fake.url, apiKey: KEY, timeoutMs }),
  cases: VEO_CONTRACT_CASES,
  kinds: { submit: 'submit', status: 'status' },
  cancel: false,
});

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

describe('gemini adapter', () => {
  let h: ContractHarness;
  let fake: GeminiFake;
  let provider: GeminiProvider;
  beforeAll(async () => (h = await contractHarness()));
  afterAll(async () => h.close());
  beforeEach(async () => {
    fake = new GeminiFake({ apiKey: KEY });
    await fake.start();
    provider = new GeminiProvider({ baseUrl: fake.url, apiKey: KEY });
  });
  afterEach(async () => fake.close());

  it('sends predictLongRunning field for field: frames as base64 bytes, only the fields the Gemini API takes, the key as x-goog-api-key', async () => {
    const req = startRequest(
      {
        model: 'veo3.1-quality-official',
        prompt: 'the cat walks forward',
        negative_prompt: 'blurry',
        first_frame_image: 'https://example.com/f.png',
        last_frame_image: 'https://example.com/l.png',
        duration: 6,
        aspect_ratio: '9:16',
        resolution: '4K',
        seed: 42,
        sample_count: 2,
        generate_audio: true,
        resize_mode: 'crop',
      },
      h,
      fake.url,
    );
    await provider.start(req, h.ctx);
    const sent = fake.server.requestsOf('submit')[0];
    const lastFrame = await (await fetch(`${fake.url}/media/ref-0.png`)).arrayBuffer();
    expect(sent.path).toBe('/v1beta/models/veo-3.1-generate-preview:predictLongRunning');
    expect(sent.headers['x-goog-api-key']).toBe(KEY);
    expect(sent.body).toEqual({
      instances: [
        {
          prompt: 'the cat walks forward',
          image: { bytesBase64Encoded: h.imageBytes.toString('base64'), mimeType: 'image/png' },
          lastFrame: { bytesBase64Encoded: Buffer.from(lastFrame).toString('base64'), mimeType: 'image/png' },
        },
      ],
      // seed, generateAudio and resizeMode are Vertex-only; personGeneration allow_adult goes with a frame image.
      parameters: {
        negativePrompt: 'blurry',
        durationSeconds: 6,
        aspectRatio: '9:16',
        resolution: '4k',
        sampleCount: 2,
        personGeneration: 'allow_adult',
        enhancePrompt: true,
      },
    });
  });

  it('leaves personGeneration out of text-to-video (the Gemini API takes only allow_all there) and refuses "disallow" through canServe', async () => {
    await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'a road' }, h, fake.url), h.ctx);
    const sent = fake.server.requestsOf('submit')[0].body as { parameters: Record<string, unknown> };
    expect(sent.parameters).not.toHaveProperty('personGeneration');
    expect(sent.parameters).toMatchObject({ durationSeconds: 8, aspectRatio: '16:9', resolution: '720p', sampleCount: 1 });

    const disallow = validateRequest({ model: 'veo3.1-fast-official', prompt: 'a road', person_generation: 'disallow' });
    expect(provider.canServe(disallow)).toMatch(/dont_allow.*vertex/);
    expect(provider.canServe(validateRequest({ model: 'veo3.1-fast-official', prompt: 'a road' }))).toBe(true);
    const e = await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'a road', person_generation: 'disallow' }, h, fake.url), h.ctx).catch((x) => x);
    expect(isProviderError(e) && !e.retryable).toBe(true);
    expect(fake.server.requestsOf('submit')).toHaveLength(1);
  });

  it('serves the two Veo 3.1 models and not Omni-Flash-Ext', () => {
    expect(provider.supports('veo3.1-fast-official')).toBe(true);
    expect(provider.supports('veo3.1-quality-official')).toBe(true);
    expect(provider.supports('Omni-Flash-Ext')).toBe(false);
    expect(provider.supports('wan2.5-preview')).toBe(false);
  });

  it('uses the channel’s upstream model id when it maps one', async () => {
    const req = startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url);
    req.upstreamModel = 'veo-3.1-lite-generate-preview';
    const op = await provider.start(req, h.ctx);
    expect(fake.server.requestsOf('submit')[0].path).toBe('/v1beta/models/veo-3.1-lite-generate-preview:predictLongRunning');
    expect((await pollUntilDone(provider, op, h.ctx)).final.state).toBe('succeeded');
  });

  it('polls GET /v1beta/{operation name} with the key: absent and false `done` are queued, then the samples arrive', async () => {
    fake.jobs.latencyMs = 300;
    const op = await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url), h.ctx);
    expect(op).toMatchObject({ name: expect.stringMatching(/^models\/veo-3\.1-fast-generate-preview\/operations\/op_/), model: 'veo-3.1-fast-generate-preview', count: 1, seconds: 8 });
    const { final, seen } = await pollUntilDone(provider, op, h.ctx);
    expect(seen[0]).toBe('queued');
    expect(final.state).toBe('succeeded');
    const polls = fake.server.requestsOf('status');
    expect(polls.every((r) => r.method === 'GET' && r.path === `/v1beta/${String(op.name)}` && r.headers['x-goog-api-key'] === KEY)).toBe(true);
  });

  it('a sample whose video was filtered fails as content_filtered with Google’s reason', async () => {
    const op = await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: `a scene ${FAKE_RAI_MARKER}`, sample_count: 2 }, h, fake.url), h.ctx);
    const { final } = await pollUntilDone(provider, op, h.ctx);
    expect(final).toEqual({
      state: 'failed',
      error: { code: 'content_filtered', message: `Google's safety filters removed all 2 videos: ${FAKE_RAI_REASON}`, upstreamCode: 'RAI_MEDIA_FILTERED' },
    });
  });

  it('when only some samples were filtered, the rest succeed and only they are billed', async () => {
    const op = await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: `a scene ${FAKE_RAI_PARTIAL_MARKER}`, sample_count: 3, duration: 6 }, h, fake.url), h.ctx);
    const { final } = await pollUntilDone(provider, op, h.ctx);
    expect(final.state === 'succeeded' && final.outputs.length).toBe(2);
    expect(final.state === 'succeeded' && final.billedSeconds).toBe(12);
  });

  it('an operation that ends in an rpc error fails with its code name', async () => {
    const op = await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x fake:fail' }, h, fake.url), h.ctx);
    const { final } = await pollUntilDone(provider, op, h.ctx);
    expect(final.state === 'failed' && final.error.upstreamCode).toBe('INVALID_ARGUMENT');
  });

  it('RESOURCE_EXHAUSTED is a rate limit: retryable, slows the channel, keeps Google’s message', async () => {
    fake.server.failNext('submit', { ...googleError(429, 'Resource has been exhausted (e.g. check quota).'), headers: { 'retry-after': '30' } });
    const e = await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url), h.ctx).catch((x) => x);
    expect(isProviderError(e)).toBe(true);
    expect({ retryable: e.retryable, rateLimited: e.rateLimited, upstreamCode: e.upstreamCode, retryAfterMs: e.retryAfterMs }).toEqual({
      retryable: true,
      rateLimited: true,
      upstreamCode: 'RESOURCE_EXHAUSTED',
      retryAfterMs: 30_000,
    });
    expect(String(e.message)).toContain('Resource has been exhausted');
  });

  it('a wrong key is a non-retryable error with Google’s reason', async () => {
    const e = await new GeminiProvider({ baseUrl: fake.url, apiKey: 'wrong' }).start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url), h.ctx).catch((x) => x);
    expect(isProviderError(e) && !e.retryable && e.status === 400 && e.upstreamCode === 'API_KEY_INVALID').toBe(true);
    expect(String(e.message)).toContain('API key not valid');
  });

  it('downloads results with the key; without it the file is refused', async () => {
    const op = await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url), h.ctx);
    const { final } = await pollUntilDone(provider, op, h.ctx);
    if (final.state !== 'succeeded') throw new Error(`expected success, got ${JSON.stringify(final)}`);
    const output = final.outputs[0];
    expect(output).toMatchObject({ kind: 'url', url: expect.stringMatching(/\/v1beta\/files\/op_.*-0:download\?alt=media$/) });
    // The key is added when the file is opened, not stored with the output (outputs are persisted with the task).
    expect(JSON.stringify(final)).not.toContain(KEY);
    const opened = await provider.openOutput(output, h.ctx);
    expect((await readAll(opened.body)).equals(await fakeVideoBytes())).toBe(true);
    expect(fake.server.requestsOf('result').at(-1)?.headers['x-goog-api-key']).toBe(KEY);
    const e = await openUpstreamOutput(output, h.ctx).catch((x) => x);
    expect(isProviderError(e) && e.status === 403).toBe(true);
  });

  it('never sends the key to a host other than the configured API', async () => {
    const other = new FakeServer();
    other.route('GET', '/video.mp4', 'result', async () => ({ headers: { 'content-type': 'video/mp4' }, body: await fakeVideoBytes() }));
    await other.start();
    try {
      const output: UpstreamOutput = { kind: 'url', url: `${other.url}/video.mp4`, contentType: 'video/mp4' };
      await readAll((await provider.openOutput(output, h.ctx)).body);
      expect(other.requestsOf('result')[0].headers).not.toHaveProperty('x-goog-api-key');
    } finally {
      await other.close();
    }
  });

  it('reads videos returned inline as encodedVideo', async () => {
    const inline = new GeminiFake({ apiKey: KEY, inlineVideos: true });
    await inline.start();
    try {
      const p = new GeminiProvider({ baseUrl: inline.url, apiKey: KEY });
      const { final } = await pollUntilDone(p, await p.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, inline.url), h.ctx), h.ctx);
      expect(final).toEqual({ state: 'succeeded', outputs: [{ kind: 'base64', data: (await fakeVideoBytes()).toString('base64'), contentType: 'video/mp4' }] });
    } finally {
      await inline.close();
    }
  });
});
