/**
 * The fake APIMart upstream on loopback (src/providers/apimart/fake.ts) in its own process, with request
 * recording off for load. Jobs finish `latencyMs` after they are submitted. Result URLs point at a media
 * server in the same process that serves `mediaBytes` bytes per result and times the downloads.
 *
 * Env: UPSTREAM_LATENCY_MS, UPSTREAM_MEDIA_BYTES.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApimartFake } from '../../src/providers/apimart/fake.ts';
import { serveCommands } from './child.ts';

export const UPSTREAM_API_KEY = 'sk-bench-upstream';

const fake = new ApimartFake({ apiKey: UPSTREAM_API_KEY });
fake.server.record = false;
fake.jobs.latencyMs = Number(process.env.UPSTREAM_LATENCY_MS ?? 1000);
await fake.start();

// Result media: one shared buffer, written in 1 MiB slices with backpressure, so the fake's own memory
// stays flat however many downloads run.
const mediaBytes = Number(process.env.UPSTREAM_MEDIA_BYTES ?? 16 * 1024);
const CHUNK = Buffer.alloc(Math.min(mediaBytes, 1 << 20), 7);
let media = { requests: 0, finished: 0, bytes: 0, firstStart: 0, lastEnd: 0 };
const mediaServer = http.createServer((req, res) => {
  media.requests++;
  if (!media.firstStart) media.firstStart = Date.now();
  req.resume();
  res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': mediaBytes });
  let left = mediaBytes;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  res.on('finish', () => {
    media.finished++;
    media.bytes += mediaBytes;
    media.lastEnd = Date.now();
  });
  pump();
});
mediaServer.keepAliveTimeout = 10_000;
await new Promise<void>((resolve) => mediaServer.listen(0, '127.0.0.1', resolve));
const mediaUrl = `http://127.0.0.1:${(mediaServer.address() as AddressInfo).port}`;
// The fake builds result URLs as `${fake.url}/media/<job>-<i>.mp4`; point them at the media server.
const apiUrl = fake.url;
fake.url = mediaUrl;

// Status calls per second, sampled once a second (the channel's poll budget is checked against these).
const perSecond: { at: number; status: number; submit: number }[] = [];
let last = { status: 0, submit: 0 };
const sampler = setInterval(() => {
  const now = { status: fake.server.counts.get('status') ?? 0, submit: fake.server.counts.get('submit') ?? 0 };
  perSecond.push({ at: Date.now(), status: now.status - last.status, submit: now.submit - last.submit });
  last = now;
}, 1000);

serveCommands(
  { url: apiUrl, mediaUrl, apiKey: UPSTREAM_API_KEY },
  {
    counts: () => Object.fromEntries(fake.server.counts),
    perSecond: (a: { since?: number }) => perSecond.filter((s) => s.at >= (a.since ?? 0)),
    media: () => media,
    resetMedia: () => void (media = { requests: 0, finished: 0, bytes: 0, firstStart: 0, lastEnd: 0 }),
    setLatency: (a: { ms: number }) => void (fake.jobs.latencyMs = a.ms),
    /** When each job was created and how long it runs: the upstream's own finish times. */
    jobs: () => [...fake.jobs.jobs.values()].map((j) => [j.id, j.createdAt, j.latencyMs]),
    jobCount: () => fake.jobs.jobs.size,
    /**
     * Jobs as if submitted over the last `ageSpreadMs` (created times spread evenly), running for
     * `latencyMs`: a fake that already has `count` jobs under way. Returns [id, createdAt].
     */
    createJobs: (a: { count: number; ageSpreadMs: number; latencyMs: number; prompt: string }) => {
      const now = Date.now();
      const out: [string, number][] = [];
      for (let i = 0; i < a.count; i++) {
        const job = fake.jobs.create(a.prompt, { prompt: a.prompt }, 1, 'task');
        job.createdAt = now - Math.floor(((i * 0.6180339887) % 1) * a.ageSpreadMs);
        job.latencyMs = a.latencyMs;
        out.push([job.id, job.createdAt]);
      }
      return out;
    },
    /** These jobs finish one after another at `perSecond`, the first `startInMs` from now. */
    finishJobs: (a: { ids: string[]; startInMs: number; perSecond: number }) => {
      const now = Date.now();
      a.ids.forEach((id, k) => {
        const job = fake.jobs.get(id);
        if (job) job.latencyMs = now + a.startInMs + Math.floor((k * 1000) / a.perSecond) - job.createdAt;
      });
    },
  },
  async () => {
    clearInterval(sampler);
    mediaServer.closeAllConnections();
    mediaServer.close();
    await fake.close();
  },
);
