/**
 * The load generator, in its own process: autocannon with a fixed number of connections, a warm-up run
 * whose figures are thrown away, then the measured run. Latency is taken from every response of the
 * expected status (autocannon's own histogram rounds to whole milliseconds). An open-loop run at a set
 * rate is paced by pacedLoad.ts instead of autocannon's per-second budgets.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { serveCommands } from './child.ts';
import { pacedLoad } from './pacedLoad.ts';
import type { LoadResult, LoadSpec } from './load.ts';
import { percentile } from './percentile.ts';

interface Instance {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  on(event: 'reqError', fn: (err: Error) => void): void;
  on(event: 'done', fn: (result: { duration: number; errors: number; timeouts: number; latency: { p50: number; p99: number } }) => void): void;
  stop(): void;
}
type RawRequest = { method: string; path: string; headers: Record<string, string>; body?: string };
type Autocannon = (opts: Record<string, unknown>) => Instance;

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as Autocannon;

/** Ids to put in request paths, in a fixed pseudo-random order (cache-cold, but the same for every run). */
function shuffled(ids: string[]): string[] {
  let seed = 42;
  for (let i = ids.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids;
}

let runs = 0;

/** A setupRequest giving `header` a value of its own in every request of this process's runs. */
function unique(header: string): (req: RawRequest) => RawRequest {
  const tag = `${process.pid}-${Date.now()}-${++runs}`;
  let n = 0;
  return (req) => {
    req.headers = { ...req.headers, [header]: `${tag}-${n++}` };
    return req;
  };
}

function once(spec: LoadSpec, seconds: number, amount: number | undefined, ids: string[] | null): Promise<LoadResult> {
  let cursor = 0;
  const requests = ids
    ? [
        {
          ...spec.requests[0],
          setupRequest: (req: RawRequest) => {
            req.path = spec.requests[0].path.replace('{id}', ids[cursor++ % ids.length]);
            return req;
          },
        },
      ]
    : spec.requests.map(({ uniqueHeader, ...r }) => (uniqueHeader ? { ...r, setupRequest: unique(uniqueHeader) } : r));
  let lat = new Float64Array(1 << 16);
  let n = 0;
  const statuses: Record<string, number> = {};
  return new Promise((resolve) => {
    const started = performance.now();
    const instance = autocannon({
      url: spec.url,
      connections: spec.connections,
      ...(amount !== undefined ? { amount } : { duration: seconds }),
      ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
      requests,
      timeout: 30,
    });
    instance.on('response', (_c, status, _b, ms) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== spec.expectStatus) return;
      if (n === lat.length) {
        const bigger = new Float64Array(lat.length * 2);
        bigger.set(lat);
        lat = bigger;
      }
      lat[n++] = ms;
    });
    instance.on('done', (r) => {
      const elapsed = (performance.now() - started) / 1000;
      const sorted = lat.slice(0, n).sort();
      let sum = 0;
      for (let i = 0; i < n; i++) sum += sorted[i];
      const duration = amount !== undefined ? elapsed : r.duration;
      const other = Object.entries(statuses).filter(([s]) => Number(s) !== spec.expectStatus).reduce((a, [, c]) => a + c, 0);
      resolve({
        ok: n,
        warmupAnswers: 0,
        other,
        statuses,
        errors: r.errors,
        timeouts: r.timeouts,
        seconds: duration,
        rps: n / duration,
        latencyMs: { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), max: sorted[n - 1] ?? NaN, mean: n ? sum / n : NaN },
        corrected: { p50: r.latency.p50, p99: r.latency.p99 },
        ...(spec.keepLatencies ? { latencies: Array.from(sorted) } : {}),
      });
    });
  });
}

/** The open-loop run (`overallRate`): paced evenly by pacedLoad.ts, latency also counted from when each request was due. */
async function paced(spec: LoadSpec, seconds: number, ids: string[] | null): Promise<LoadResult> {
  // Its requests are built once, before the run (pacedLoad.ts), so none can have a value of its own.
  if (spec.requests.some((r) => r.uniqueHeader)) throw new Error('uniqueHeader is for closed-loop runs only');
  const r = await pacedLoad({ url: spec.url, connections: spec.connections, rate: spec.overallRate!, seconds, requests: spec.requests, ids, expectStatus: spec.expectStatus });
  const n = r.sent.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += r.sent[i];
  return {
    ok: n,
    warmupAnswers: 0,
    other: r.other,
    statuses: r.statuses,
    errors: r.errors,
    timeouts: r.unanswered,
    seconds: r.seconds,
    rps: n / r.seconds,
    latencyMs: { p50: percentile(r.sent, 0.5), p90: percentile(r.sent, 0.9), p99: percentile(r.sent, 0.99), max: r.sent[n - 1] ?? NaN, mean: n ? sum / n : NaN },
    corrected: { p50: percentile(r.due, 0.5), p99: percentile(r.due, 0.99) },
    generatorLateMs: { p99: percentile(r.lateness, 0.99), max: r.lateness[r.lateness.length - 1] ?? NaN },
    secondP99Ms: r.secondP99,
    ...(spec.keepLatencies ? { latencies: Array.from(r.sent) } : {}),
  };
}

serveCommands(
  { pid: process.pid },
  {
    async run(spec: LoadSpec): Promise<LoadResult> {
      const ids = spec.idsFile ? shuffled(JSON.parse(fs.readFileSync(spec.idsFile, 'utf8')) as string[]) : null;
      const run = (seconds: number, amount: number | undefined) => (spec.overallRate ? paced(spec, seconds, ids) : once(spec, seconds, amount, ids));
      const warm = spec.warmupSeconds > 0 ? await run(spec.warmupSeconds, undefined) : null;
      const r = await run(spec.seconds, spec.amount);
      return { ...r, warmupAnswers: warm ? warm.ok + warm.other : 0 };
    },
  },
);
