/**
 * Running load: the spec the load-generator process takes, and what it reports.
 */
import { cpuMsOf, spawnChild, type Child } from './proc.ts';
import { placeGenerator, placeServer } from './cpuPlacement.ts';

export interface LoadRequest {
  method: 'GET' | 'POST';
  /** May contain `{id}`, replaced by the ids of `idsFile` in turn. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /**
   * A header sent with a value no other request of the run has (closed-loop runs only): an Idempotency-Key,
   * as the SDK sends with every submit, so each request is a new submit rather than a replay.
   */
  uniqueHeader?: string;
}

export interface LoadSpec {
  url: string;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** A fixed number of requests instead of a duration (no latency target then). */
  amount?: number;
  /** Each connection cycles through these. */
  requests: LoadRequest[];
  /** JSON array of ids for `{id}` in the (single) request's path. */
  idsFile?: string;
  /** The status a correct answer has (200 for submit and poll, 400 for invalid bodies). */
  expectStatus: number;
  /** Open loop: offer this many requests per second in all, evenly paced, instead of as many as the server answers. */
  overallRate?: number;
  /** Return every latency (sorted), to merge runs. */
  keepLatencies?: boolean;
}

export interface LoadResult {
  /** Answers with the expected status, and any others. */
  ok: number;
  other: number;
  /** Answers during the warm-up (for CPU time per request over the whole call). */
  warmupAnswers: number;
  statuses: Record<string, number>;
  /** Socket errors and timeouts. */
  errors: number;
  timeouts: number;
  seconds: number;
  /** Expected-status answers per second. */
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /**
   * Open-loop runs (`overallRate`, pacedLoad.ts): latency counted from when each request was due, so a
   * request that waited for a free connection counts the time it waited (corrected for coordinated
   * omission). Closed-loop runs: autocannon's own histogram, in whole milliseconds.
   */
  corrected: { p50: number; p99: number };
  /** Open-loop runs: how late the generator itself sent requests that found a connection free, ms. */
  generatorLateMs?: { p99: number; max: number };
  /** Open-loop runs: the p99 from due (ms) of the requests due in each whole second of the window. */
  secondP99Ms?: number[];
  latencies?: number[];
  /** CPU time the server process used per answer (warm-up included), µs — when its pid was given. */
  cpuUsPerAnswer?: number;
  /** The same for the processes a `CpuMeter` reads (e.g. the database server's), when one was given. */
  companionCpuUsPerAnswer?: number;
}

/** CPU time of processes other than the server's own (a database server working for it), read around a load. */
export interface CpuMeter {
  snapshot(): Promise<unknown>;
  /** CPU ms used since `snapshot()` returned `before`. */
  msSince(before: unknown): Promise<number>;
}

let generator: Promise<Child> | null = null;

/**
 * Runs one load (warm-up, then measured) from the load-generator process — one process for the whole run,
 * idle between loads, never the orchestrator's or a server's event loop.
 */
export async function runLoad(spec: LoadSpec, serverPid?: number, companion?: CpuMeter): Promise<LoadResult> {
  // Its threads are placed once: the ones it starts later inherit the mask (cpuPlacement.ts).
  generator ??= spawnChild('loadgen', 'loadgenMain.ts').then((g) => (placeGenerator(g.pid), g));
  const gen = await generator;
  const before = companion ? await companion.snapshot() : undefined;
  // The server's event loop on a CPU of its own (cpuPlacement.ts): set before every load, since threads the
  // server started since the last one inherit its main thread's CPU.
  if (serverPid) placeServer(serverPid);
  const cpu0 = serverPid ? cpuMsOf(serverPid) : 0;
  const r = await gen.call<LoadResult>('run', spec);
  const answers = Math.max(1, r.ok + r.other + r.warmupAnswers);
  if (serverPid) r.cpuUsPerAnswer = ((cpuMsOf(serverPid) - cpu0) * 1000) / answers;
  if (companion) r.companionCpuUsPerAnswer = ((await companion.msSince(before)) * 1000) / answers;
  return r;
}

export async function stopLoadGenerator(): Promise<void> {
  const g = generator;
  generator = null;
  if (g) await (await g).stop();
}
