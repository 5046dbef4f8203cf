import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { contractHarness, pollUntilDone, runProviderContract, startRequest, type ContractHarness } from '../../../test/contracts/provider.contract.ts';
import { fakeVideoBytes } from '../fakes/fakeVideo.ts';
import { FAKE_RAI_MARKER, FAKE_RAI_REASON, googleError } from '../google/fakeGoogle.ts';
import { VEO_CONTRACT_CASES } from '../google/veoTestCases.ts';
import { isProviderError } from '../types.ts';
import { validateRequest } from '../../models/validate.ts';
import { VertexFake } from './fake.ts';
import { VertexProvider, type VertexOptions } from './vertexProvider.ts';

const PROJECT = 'reelay-test';
const LOCATION = 'us-central1';
const CLIENT_EMAIL = 'veo@reelay-test.iam.gserviceaccount.com';
// The test service account's key pair: the provider signs with the private key, the fake verifies with the public one.
const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

function serviceAccount(tokenUri: string, key = privateKey): Record<string, unknown> {
  return { type: 'service_account', project_id: PROJECT, private_key_id: 'test-key-1', private_key: key, client_email: CLIENT_EMAIL, token_uri: `${tokenUri}/token` };
}

async function startFake(opts: { tokenLifetimeSeconds?: number } = {}): Promise<VertexFake> {
  const fake = new VertexFake({ project: PROJECT, location: LOCATION, clientEmail: CLIENT_EMAIL, publicKey, ...opts });
  await fake.start();
  return fake;
}

function providerFor(fake: VertexFake, extra: Partial<VertexOptions> = {}): VertexProvider {
  return new VertexProvider({ project: PROJECT, location: LOCATION, credentials: serviceAccount(fake.url), baseUrl: fake.url, storageBaseUrl: fake.url, ...extra });
}

for (const delivery of ['inline bytes', 'gcsUri'] as const) {
  runProviderContract({
    name: `vertex (${delivery})`,
    startFake: async () => {
      const fake = await startFake();
      return { server: fake.server, jobs: fake.jobs, url: fake.url, close: () => fake.close() };
    },
    makeProvider: (fake, { timeoutMs }) =>
      new VertexProvider({
        project: PROJECT,
        credentials: serviceAccount(fake.url),
        baseUrl: fake.url,
        storageBaseUrl: fake.url,
        storageUri: delivery === 'gcsUri' ? 'gs://reelay-results/veo/' : undefined,
        timeoutMs,
      }),
    cases: VEO_CONTRACT_CASES,
    kinds: { submit: 'submit', status: 'status' },
    cancel: false,
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

describe('vertex adapter', () => {
  let h: ContractHarness;
  let fake: VertexFake;
  beforeAll(async () => (h = await contractHarness()));
  afterAll(async () => h.close());
  beforeEach(async () => (fake = await startFake()));
  afterEach(async () => fake.close());

  it('sends predictLongRunning field for field, with every Vertex parameter, the bearer token and storageUri', async () => {
    const provider = providerFor(fake, { storageUri: 'gs://reelay-results/veo/' });
    const req = startRequest(
      {
        model: 'veo3.1-quality-official',
        prompt: 'the cat walks forward',
        negative_prompt: 'blurry',
        first_frame_image: 'https://example.com/f.png',
        last_frame_image: 'https://example.com/l.png',
        duration: 4,
        aspect_ratio: '16:9',
        resolution: '1080p',
        seed: 4294967295,
        sample_count: 2,
        generate_audio: true,
        person_generation: 'disallow',
        resize_mode: 'crop',
      },
      h,
      fake.url,
    );
    await provider.start(req, h.ctx);
    const sent = fake.server.requestsOf('submit')[0];
    const lastFrame = Buffer.from(await (await fetch(`${fake.url}/media/ref-0.png`)).arrayBuffer());
    expect(sent.path).toBe(`/v1/projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/veo-3.1-generate-001:predictLongRunning`);
    expect(sent.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
    expect(sent.body).toEqual({
      instances: [
        {
          prompt: 'the cat walks forward',
          image: { bytesBase64Encoded: h.imageBytes.toString('base64'), mimeType: 'image/png' },
          lastFrame: { bytesBase64Encoded: lastFrame.toString('base64'), mimeType: 'image/png' },
        },
      ],
      parameters: {
        negativePrompt: 'blurry',
        durationSeconds: 4,
        aspectRatio: '16:9',
        resolution: '1080p',
        sampleCount: 2,
        seed: 4294967295,
        generateAudio: true,
        personGeneration: 'dont_allow',
        resizeMode: 'crop',
        enhancePrompt: true,
        storageUri: 'gs://reelay-results/veo/',
      },
    });
  });

  it('text-to-video sends allow_adult and no resizeMode; without storageUri none is sent; "disallow" is servable', async () => {
    const provider = providerFor(fake);
    await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'a road', resolution: '4K', generate_audio: false }, h, fake.url), h.ctx);
    expect(fake.server.requestsOf('submit')[0].body).toEqual({
      instances: [{ prompt: 'a road' }],
      parameters: { durationSeconds: 8, aspectRatio: '16:9', resolution: '4k', sampleCount: 1, generateAudio: false, personGeneration: 'allow_adult', enhancePrompt: true },
    });
    expect(fake.server.requestsOf('submit')[0].path).toContain('/models/veo-3.1-fast-generate-001:predictLongRunning');
    expect(provider.canServe(validateRequest({ model: 'veo3.1-fast-official', prompt: 'x', person_generation: 'disallow' }))).toBe(true);
    expect(provider.supports('Omni-Flash-Ext')).toBe(false);
  });

  it('polls with POST …:fetchPredictOperation {operationName} on the operation’s model', async () => {
    const provider = providerFor(fake);
    const req = startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url);
    req.upstreamModel = 'veo-3.1-fast-generate-preview';
    const op = await provider.start(req, h.ctx);
    const persisted = JSON.parse(JSON.stringify(op)) as typeof op;
    const { final, seen } = await pollUntilDone(provider, persisted, h.ctx);
    expect(seen[0]).toBe('queued');
    expect(final.state).toBe('succeeded');
    const polls = fake.server.requestsOf('status');
    expect(polls.length).toBeGreaterThan(0);
    for (const p of polls) {
      expect(p.method).toBe('POST');
      expect(p.path).toBe(`/v1/projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/veo-3.1-fast-generate-preview:fetchPredictOperation`);
      expect(p.body).toEqual({ operationName: op.name });
    }
  });

  it('inline results are base64 outputs of the video bytes', async () => {
    const provider = providerFor(fake);
    const { final } = await pollUntilDone(provider, await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url), h.ctx), h.ctx);
    expect(final).toEqual({ state: 'succeeded', outputs: [{ kind: 'base64', data: (await fakeVideoBytes()).toString('base64'), contentType: 'video/mp4' }] });
  });

  it('gcsUri results stay gs:// URIs and are read through the Cloud Storage JSON API with the bearer token', async () => {
    const provider = providerFor(fake, { storageUri: 'gs://reelay-results/veo' });
    const op = await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url), h.ctx);
    const { final } = await pollUntilDone(provider, op, h.ctx);
    if (final.state !== 'succeeded') throw new Error(`expected success, got ${JSON.stringify(final)}`);
    expect(final.outputs).toEqual([{ kind: 'url', url: expect.stringMatching(/^gs:\/\/reelay-results\/veo\/op_.*\/sample_0\.mp4$/), contentType: 'video/mp4' }]);
    const opened = await provider.openOutput(final.outputs[0], h.ctx);
    expect((await readAll(opened.body)).equals(await fakeVideoBytes())).toBe(true);
    const download = fake.server.requestsOf('result')[0];
    const object = (final.outputs[0] as { url: string }).url.replace('gs://reelay-results/', '');
    expect(download.path).toBe(`/download/storage/v1/b/reelay-results/o/${encodeURIComponent(object)}`);
    expect(download.query).toEqual({ alt: 'media' });
    expect(download.headers.authorization).toBe(fake.server.requestsOf('submit')[0].headers.authorization);
  });

  it('one token request serves many calls, concurrent ones included', async () => {
    const provider = providerFor(fake);
    const ops = await Promise.all(Array.from({ length: 8 }, () => provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url), h.ctx)));
    for (const op of ops) await pollUntilDone(provider, op, h.ctx);
    expect(fake.server.requestsOf('submit')).toHaveLength(8);
    expect(fake.server.requestsOf('token')).toHaveLength(1);
  });

  it('a token that expires within the refresh margin is replaced before the next call', async () => {
    const shortLived = await startFake({ tokenLifetimeSeconds: 60 });
    try {
      const provider = providerFor(shortLived);
      await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, shortLived.url), h.ctx);
      await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, shortLived.url), h.ctx);
      const tokens = shortLived.server.requestsOf('token');
      expect(tokens).toHaveLength(2);
      const [a, b] = shortLived.server.requestsOf('submit').map((r) => r.headers.authorization);
      expect(a).not.toBe(b);
    } finally {
      await shortLived.close();
    }
  });

  it('a key the token endpoint cannot verify is a non-retryable error, and no API call is made', async () => {
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const provider = new VertexProvider({ project: PROJECT, credentials: serviceAccount(fake.url, other.privateKey), baseUrl: fake.url });
    const e = await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url), h.ctx).catch((x) => x);
    expect(isProviderError(e) && !e.retryable && e.status === 400 && e.upstreamCode === 'invalid_grant').toBe(true);
    expect(String(e.message)).toContain('Invalid JWT Signature');
    expect(fake.server.requestsOf('submit')).toHaveLength(0);
  });

  it('a refused token (401) is retryable and the next call exchanges the key again', async () => {
    const provider = providerFor(fake);
    fake.server.failNext('submit', googleError(401, 'Request had invalid authentication credentials.', 'ACCESS_TOKEN_EXPIRED'));
    const e = await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url), h.ctx).catch((x) => x);
    expect(isProviderError(e) && e.retryable && e.status === 401 && e.upstreamCode === 'ACCESS_TOKEN_EXPIRED').toBe(true);
    await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url), h.ctx);
    expect(fake.server.requestsOf('token')).toHaveLength(2);
  });

  it('RESOURCE_EXHAUSTED is a rate limit with Google’s message', async () => {
    const provider = providerFor(fake);
    fake.server.failNext('status', googleError(429, 'Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model.'));
    const op = await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url), h.ctx);
    const e = await provider.status(op, h.ctx).catch((x) => x);
    expect(isProviderError(e) && e.retryable && e.rateLimited && e.upstreamCode === 'RESOURCE_EXHAUSTED').toBe(true);
    expect(String(e.message)).toContain('Quota exceeded');
  });

  it('filtered videos fail as content_filtered with Google’s reason', async () => {
    const provider = providerFor(fake);
    const op = await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: `x ${FAKE_RAI_MARKER}` }, h, fake.url), h.ctx);
    const { final } = await pollUntilDone(provider, op, h.ctx);
    expect(final).toEqual({ state: 'failed', error: { code: 'content_filtered', message: `Google's safety filters removed the video: ${FAKE_RAI_REASON}`, upstreamCode: 'RAI_MEDIA_FILTERED' } });
  });

  it('reads the service-account key from a file path', async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-vertex-'));
    try {
      const file = path.join(dir, 'sa.json');
      await fs.promises.writeFile(file, JSON.stringify(serviceAccount(fake.url)));
      const provider = new VertexProvider({ project: PROJECT, credentials: file, baseUrl: fake.url });
      await provider.start(startRequest({ model: 'veo3.1-fast-official', prompt: 'x' }, h, fake.url), h.ctx);
      expect(fake.server.requestsOf('submit')).toHaveLength(1);
      expect(() => new VertexProvider({ project: PROJECT, credentials: path.join(dir, 'missing.json') })).toThrow(/cannot read the service-account key file/);
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });
});
