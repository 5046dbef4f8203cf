/**
 * Side by side: the same load (requests, connections, warm-up, duration) against the bare baseline and
 * against reelay, alternating baseline and reelay for `rounds` rounds so slow drift of a shared machine
 * hits both alike. Latencies of the rounds are merged before percentiles are taken.
 */
import { runLoad, type CpuMeter, type LoadResult, type LoadSpec } from './load.ts';
import { percentile } from './percentile.ts';

export interface Merged {
  rps: number;
  ok: number;
  other: number;
  errors: number;
  seconds: number;
  statuses: Record<string, number>;
  p50: number;
  p99: number;
  /** CPU time of the server process per answer, µs (independent of how busy the rest of the machine is). */
  cpuUs: number;
  /** The same for the processes the target's `companion` meter reads, when it has one. */
  companionCpuUs?: number;
  runs: LoadResult[];
}

export type Shape = Omit<LoadSpec, 'url' | 'keepLatencies'>;

export function merge(runs: LoadResult[]): Merged {
  const all = runs.flatMap((r) => r.latencies ?? []).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [s, n] of Object.entries(r.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
  const ok = runs.reduce((a, r) => a + r.ok, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  return {
    rps: ok / seconds,
    ok,
    other: runs.reduce((a, r) => a + r.other, 0),
    errors: runs.reduce((a, r) => a + r.errors + r.timeouts, 0),
    seconds,
    statuses,
    p50: percentile(all, 0.5),
    p99: percentile(all, 0.99),
    cpuUs: runs.reduce((a, r) => a + (r.cpuUsPerAnswer ?? NaN) * (r.ok + r.other + r.warmupAnswers), 0) / runs.reduce((a, r) => a + r.ok + r.other + r.warmupAnswers, 0),
    companionCpuUs: runs.every((r) => r.companionCpuUsPerAnswer !== undefined)
      ? runs.reduce((a, r) => a + r.companionCpuUsPerAnswer! * (r.ok + r.other + r.warmupAnswers), 0) / runs.reduce((a, r) => a + r.ok + r.other + r.warmupAnswers, 0)
      : undefined,
    runs: runs.map((r) => ({ ...r, latencies: undefined })),
  };
}

export interface Target {
  url: string;
  pid: number;
  /** Other processes whose CPU time the target's answers cost (the database server of a reelay on PostgreSQL). */
  companion?: { name: string; meter: CpuMeter; note: string };
}

export async function sideBySide(baseline: Target, reelay: Target, shape: Shape, rounds: number): Promise<{ baseline: Merged; reelay: Merged }> {
  const b: LoadResult[] = [];
  const r: LoadResult[] = [];
  for (let i = 0; i < rounds; i++) {
    // The baseline answers every request 200 with its small JSON, whatever the scenario expects of reelay.
    b.push(await runLoad({ ...shape, url: baseline.url, keepLatencies: true, expectStatus: 200 }, baseline.pid));
    r.push(await runLoad({ ...shape, url: reelay.url, keepLatencies: true }, reelay.pid, reelay.companion?.meter));
  }
  return { baseline: merge(b), reelay: merge(r) };
}

/** Refuses a run whose answers were not what the scenario expects (wrong status, socket errors). */
export function assertClean(what: string, m: Merged, tolerance = 0.001): void {
  const total = m.ok + m.other + m.errors;
  if (total === 0) throw new Error(`${what}: no answers at all`);
  if ((m.other + m.errors) / total > tolerance) {
    throw new Error(`${what}: ${m.other} answers with an unexpected status and ${m.errors} errors out of ${total}: ${JSON.stringify(m.statuses)}`);
  }
}
