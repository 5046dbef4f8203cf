/**
 * The contract every upstream adapter runs against its fake upstream: each mode it serves completes with a
 * video the gateway can copy; upstream failures carry the upstream's reason; 429 and 5xx on submit and on
 * poll are retryable (429 also rate-limited, with Retry-After); 4xx on submit is not; slow upstreams time
 * out as retryable; a finished job reports the same result twice; cancel reaches the upstream where the
 * adapter supports it; operations survive a JSON round trip (they are persisted with the task).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateRequest } from '../../src/models/validate.ts';
import { findModel } from '../../src/models/registry.ts';
import { planOutput } from '../../src/models/output.ts';
import { FileStorage } from '../../src/media/storage/files.ts';
import { AddressGuard, createSafeFetch } from '../../src/media/safeFetch.ts';
import { runFfmpeg } from '../../src/media/ffmpeg.ts';
import { silentLogger } from '../../src/runtime/logger.ts';
import { openUpstreamOutput } from '../../src/providers/openOutput.ts';
import { isProviderError, ProviderError, type MediaInput, type ProviderContext, type StartRequest, type StatusResult, type UpstreamOperation, type VideoProvider } from '../../src/providers/types.ts';
import type { FakeServer } from '../../src/providers/fakes/fakeServer.ts';
import type { FakeJobs } from '../../src/providers/fakes/fakeJobs.ts';
import { FAKE_FAIL_MARKER, FAKE_FAIL_REASON } from '../../src/providers/fakes/fakeJobs.ts';
import { fakeVideoBytes } from '../../src/providers/fakes/fakeVideo.ts';

export interface FakeUpstream {
  server: FakeServer;
  jobs: FakeJobs;
  url: string;
  close(): Promise<void>;
}

export interface ProviderSubject {
  name: string;
  startFake(): Promise<FakeUpstream>;
  /** The adapter pointed at the fake, with a short timeout for the slow-upstream case. */
  makeProvider(fake: FakeUpstream, opts: { timeoutMs: number }): VideoProvider;
  /** APIMart request bodies: text-to-video and every image mode the adapter serves. */
  cases: { title: string; body: Record<string, unknown> }[];
  /** Fault kinds of the fake for each step. */
  kinds: { submit: string; status: string; cancel?: string };
  /** Whether the adapter can cancel an upstream job. */
  cancel: boolean;
}

export interface ContractHarness {
  ctx: ProviderContext;
  /** The stored copy of the first input image and a URL of another (served by the fake's /media route). */
  storedImageKey: string;
  imageBytes: Buffer;
  close(): Promise<void>;
}

export async function contractHarness(): Promise<ContractHarness> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-provider-contract-'));
  const storage = new FileStorage(path.join(dir, 'objects'));
  const png = path.join(dir, 'input.png');
  await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=0xaa3311:s=640x360', '-frames:v', '1', png]);
  const imageBytes = await fs.promises.readFile(png);
  const storedImageKey = 'inputs/2026-01-01/contract/first.png';
  await storage.put(storedImageKey, imageBytes, { contentType: 'image/png' });
  const guarded = createSafeFetch(new AddressGuard({ allow: ['127.0.0.1', 'localhost'] }));
  const api = createSafeFetch(null);
  return {
    ctx: { fetch: guarded.fetch, api: api.fetch, storage, logger: silentLogger },
    storedImageKey,
    imageBytes,
    close: async () => {
      await guarded.close();
      await api.close();
      await fs.promises.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Builds what the engine would hand the adapter for an APIMart body. */
export function startRequest(body: Record<string, unknown>, h: ContractHarness, fakeUrl: string, taskId = `task_contract_${Math.random().toString(36).slice(2)}`): StartRequest {
  const request = validateRequest(body);
  const spec = findModel(request.model)!;
  const inputs: MediaInput[] = [];
  let first = true;
  for (const [field, def] of Object.entries(spec.fields)) {
    const v = request.params[field];
    if (v === undefined) continue;
    if (def.type === 'image' || def.type === 'images') {
      const list = Array.isArray(v) ? (v as string[]) : [v as string];
      list.forEach((_, i) => {
        const index = def.type === 'images' ? i : null;
        // The first image is held by the gateway (as an inline base64 image would be); the others are URLs.
        if (first) inputs.push({ field, index, url: `${fakeUrl}/media/stored.png`, storageKey: h.storedImageKey, contentType: 'image/png' });
        else inputs.push({ field, index, url: `${fakeUrl}/media/ref-${i}.png` });
        first = false;
      });
    } else if (def.type === 'video_url' || def.type === 'audio_url') {
      inputs.push({ field, index: null, url: `${fakeUrl}/media/source.mp4` });
    }
  }
  const params = { ...request.params };
  for (const i of inputs) {
    if (i.index === null) params[i.field] = i.url;
    else (params[i.field] as string[])[i.index] = i.url;
  }
  return {
    taskId,
    spec,
    request: { ...request, params },
    plan: planOutput(spec, request),
    inputs,
    facts: {},
  };
}

export async function pollUntilDone(provider: VideoProvider, op: UpstreamOperation, ctx: ProviderContext, timeoutMs = 10_000): Promise<{ final: StatusResult; seen: StatusResult['state'][] }> {
  const seen: StatusResult['state'][] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await provider.status(op, ctx);
    seen.push(s.state);
    if (s.state === 'succeeded' || s.state === 'failed' || s.state === 'cancelled') return { final: s, seen };
    if (Date.now() > deadline) throw new Error(`job not done after ${timeoutMs} ms; states seen: ${seen.join(', ')}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

async function expectProviderError(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (e) {
    if (isProviderError(e)) return e;
    throw new Error(`expected a ProviderError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  throw new Error('expected a ProviderError, but the call succeeded');
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

export function runProviderContract(subject: ProviderSubject): void {
  describe(`${subject.name} provider contract`, () => {
    let fake: FakeUpstream;
    let h: ContractHarness;
    let provider: VideoProvider;
    let video: Buffer;

    beforeAll(async () => {
      h = await contractHarness();
      fake = await subject.startFake();
      provider = subject.makeProvider(fake, { timeoutMs: 1500 });
      video = await fakeVideoBytes();
    });
    afterAll(async () => {
      await fake?.close();
      await h?.close();
    });

    for (const c of subject.cases) {
      it(`completes ${c.title} with a video the gateway can copy`, async () => {
        expect(provider.supports(String(c.body.model))).toBe(true);
        const req = startRequest(c.body, h, fake.url);
        const op = await provider.start(req, h.ctx);
        const persisted = JSON.parse(JSON.stringify(op)) as UpstreamOperation;
        const { final, seen } = await pollUntilDone(provider, persisted, h.ctx);
        expect(final.state, JSON.stringify(final)).toBe('succeeded');
        expect(seen.slice(0, -1).every((s) => s === 'queued' || s === 'running')).toBe(true);
        if (final.state !== 'succeeded') return;
        expect(final.outputs.length).toBe(req.plan.count);
        for (const out of final.outputs) {
          const opened = provider.openOutput ? await provider.openOutput(out, h.ctx) : await openUpstreamOutput(out, h.ctx);
          expect((await readAll(opened.body)).equals(video)).toBe(true);
        }
      });
    }

    it('reports an upstream failure with the upstream’s reason', async () => {
      const body = { ...subject.cases[0].body, prompt: `a lighthouse ${FAKE_FAIL_MARKER}` };
      const op = await provider.start(startRequest(body, h, fake.url), h.ctx);
      const { final } = await pollUntilDone(provider, op, h.ctx);
      expect(final.state).toBe('failed');
      if (final.state === 'failed') expect(final.error.message).toContain(FAKE_FAIL_REASON);
    });

    it('a finished job reports the same result when asked again', async () => {
      const op = await provider.start(startRequest(subject.cases[0].body, h, fake.url), h.ctx);
      const first = (await pollUntilDone(provider, op, h.ctx)).final;
      const again = await provider.status(op, h.ctx);
      expect(again).toEqual(first);
    });

    it('429 on submit is retryable and rate-limited, with Retry-After', async () => {
      fake.server.failNext(subject.kinds.submit, { status: 429, headers: { 'retry-after': '7' }, body: { error: { message: 'Too many requests, slow down', code: 'rate_limited' } } });
      const e = await expectProviderError(provider.start(startRequest(subject.cases[0].body, h, fake.url), h.ctx));
      expect(e.retryable).toBe(true);
      expect(e.rateLimited).toBe(true);
      expect(e.retryAfterMs).toBe(7000);
    });

    it('5xx on submit is retryable and not rate-limited', async () => {
      fake.server.failNext(subject.kinds.submit, { status: 503, body: { error: { message: 'upstream overloaded' } } });
      const e = await expectProviderError(provider.start(startRequest(subject.cases[0].body, h, fake.url), h.ctx));
      expect(e.retryable).toBe(true);
      expect(e.rateLimited).toBe(false);
    });

    it('a dropped connection on submit is retryable', async () => {
      fake.server.failNext(subject.kinds.submit, { status: 0, drop: true });
      const e = await expectProviderError(provider.start(startRequest(subject.cases[0].body, h, fake.url), h.ctx));
      expect(e.retryable).toBe(true);
    });

    it('429 and 5xx while polling are retryable, and polling then succeeds', async () => {
      const op = await provider.start(startRequest(subject.cases[0].body, h, fake.url), h.ctx);
      fake.server.failNext(subject.kinds.status, { status: 429, headers: { 'retry-after': '2' }, body: { error: { message: 'rate limited' } } });
      const e429 = await expectProviderError(provider.status(op, h.ctx));
      expect(e429.retryable && e429.rateLimited).toBe(true);
      fake.server.failNext(subject.kinds.status, { status: 500, body: { error: { message: 'internal error' } } });
      const e500 = await expectProviderError(provider.status(op, h.ctx));
      expect(e500.retryable).toBe(true);
      expect(e500.rateLimited).toBe(false);
      expect((await pollUntilDone(provider, op, h.ctx)).final.state).toBe('succeeded');
    });

    it('a slow upstream times out as a retryable error', async () => {
      fake.server.delay(subject.kinds.submit, 3000);
      try {
        const started = Date.now();
        const e = await expectProviderError(provider.start(startRequest(subject.cases[0].body, h, fake.url), h.ctx));
        expect(e.retryable).toBe(true);
        expect(Date.now() - started).toBeLessThan(2900);
      } finally {
        fake.server.delay(subject.kinds.submit, 0);
      }
    });

    if (subject.cancel) {
      it('cancels an unfinished job at the upstream', async () => {
        fake.jobs.latencyMs = 5000;
        try {
          const op = await provider.start(startRequest(subject.cases[0].body, h, fake.url), h.ctx);
          const before = fake.server.requestsOf(subject.kinds.cancel!).length;
          await provider.cancel!(op, h.ctx);
          expect(fake.server.requestsOf(subject.kinds.cancel!).length).toBe(before + 1);
          const s = await provider.status(op, h.ctx);
          expect(['cancelled', 'failed']).toContain(s.state);
        } finally {
          fake.jobs.latencyMs = 60;
        }
      });
    } else {
      it('has no cancel (the upstream offers none)', () => {
        expect(provider.cancel).toBeUndefined();
      });
    }
  });
}
