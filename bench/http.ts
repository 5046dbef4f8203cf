/**
 * The three request-path scenarios share one shape: closed loop at 64 connections against the baseline and
 * reelay side by side (throughput ratio, latency at saturation), then an open-loop run offering exactly
 * the target throughput (target ratio × the baseline's rate) to read the latency a client sees at that
 * rate. At saturation a closed loop's latency is connections ÷ throughput (Little's law) — 64 connections
 * at 5,000 req/s wait 12.8 ms on average whatever the server does per request — so the latency target is
 * read at the target rate, and the saturation latency is reported beside it. The bare baseline is run open
 * loop at the same rate right before, as the reference: the latency this machine and the load generator
 * give a server that does nothing at that rate.
 */
import { assertClean, sideBySide, type Shape, type Target } from './lib/compare.ts';

export interface Targets {
  baseline: Target;
  reelay: Target;
}
import { runLoad, type LoadRequest } from './lib/load.ts';
import { figure, type Figure } from './lib/report.ts';
import { bySecond } from './lib/pacedLoad.ts';

export interface Timing {
  warmupSeconds: number;
  seconds: number;
  rounds: number;
  /** Duration of the open-loop latency run (0 to skip it). */
  openSeconds: number;
}

export interface HttpTarget {
  /** Throughput as a ratio of the baseline's. */
  ratio: number;
  /** p99 in ms at the target rate (none: not measured). */
  p99Ms?: number;
}

export interface HttpOutcome {
  figures: Figure[];
  raw: Record<string, unknown>;
}

export const CONNECTIONS = 64;
/** The baseline's own open-loop run, the reference of the latency at the target rate: at most this long. */
const BASELINE_OPEN_SECONDS = 4;

export async function httpScenario(
  scenario: string,
  urls: Targets,
  requests: LoadRequest[],
  expectStatus: number,
  /** null: figures without a target (information only). */
  target: HttpTarget | null,
  timing: Timing,
  extra: { idsFile?: string } = {},
): Promise<HttpOutcome> {
  const shape: Shape = {
    connections: CONNECTIONS,
    warmupSeconds: timing.warmupSeconds,
    seconds: timing.seconds,
    requests,
    expectStatus,
    idsFile: extra.idsFile,
  };
  const { baseline, reelay } = await sideBySide(urls.baseline, urls.reelay, shape, timing.rounds);
  assertClean(`${scenario} (baseline)`, baseline);
  assertClean(`${scenario} (reelay)`, reelay);
  const figures: Figure[] = [
    figure({ scenario, name: 'throughput', value: reelay.rps, unit: 'req/s', reference: { name: 'baseline', value: baseline.rps }, ...(target ? { target: { on: 'ratio', op: '>=', limit: target.ratio } } : {}) }),
    figure({ scenario, name: 'p50 at saturation', value: reelay.p50, unit: 'ms', reference: { name: 'baseline', value: baseline.p50 } }),
    figure({ scenario, name: 'p99 at saturation', value: reelay.p99, unit: 'ms', reference: { name: 'baseline', value: baseline.p99 } }),
    figure({
      scenario,
      name: 'CPU per answer',
      value: reelay.cpuUs,
      unit: 'µs',
      reference: { name: 'baseline', value: baseline.cpuUs },
      note: 'server process CPU time per answer; its inverse ratio is the throughput ratio on an otherwise idle machine',
    }),
  ];
  const companion = urls.reelay.companion;
  if (companion && reelay.companionCpuUs !== undefined) {
    figures.push(
      figure({ scenario, name: `${companion.name} CPU per answer`, value: reelay.companionCpuUs, unit: 'µs', reference: { name: 'baseline', value: baseline.cpuUs }, note: companion.note }),
      figure({
        scenario,
        name: `CPU per answer, reelay + ${companion.name}`,
        value: reelay.cpuUs + reelay.companionCpuUs,
        unit: 'µs',
        reference: { name: 'baseline', value: baseline.cpuUs },
        note: `all the CPU time one answer costs: 1 s ÷ this is the answers per second one core gives (${Math.round(1e6 / (reelay.cpuUs + reelay.companionCpuUs)).toLocaleString('en-US')})`,
      }),
    );
  }
  const raw: Record<string, unknown> = { connections: CONNECTIONS, baseline, reelay };
  if (target?.p99Ms !== undefined && timing.openSeconds > 0) {
    const rate = Math.max(1, Math.round(baseline.rps * target.ratio));
    // The bare server at the same offered rate, through the same generator, right before: what this machine
    // and the generator give any server at that rate (it was warmed by its closed-loop runs just now).
    const floor = await runLoad(
      { ...shape, url: urls.baseline.url, expectStatus: 200, warmupSeconds: 0.5, seconds: Math.min(timing.openSeconds, BASELINE_OPEN_SECONDS), overallRate: rate },
      urls.baseline.pid,
    );
    const open = await runLoad({ ...shape, url: urls.reelay.url, seconds: timing.openSeconds, overallRate: rate }, urls.reelay.pid);
    raw.open = { offered: rate, ...open };
    raw.baselineOpen = { offered: rate, ...floor };
    const kept = open.rps / rate;
    figures.push(
      figure({
        scenario,
        name: `p50 at ${Math.round(rate)} req/s offered`,
        value: open.corrected.p50,
        unit: 'ms',
        reference: { name: 'baseline at the same rate', value: floor.corrected.p50 },
      }),
      figure({
        scenario,
        name: `p99 at ${Math.round(rate)} req/s offered`,
        value: open.corrected.p99,
        unit: 'ms',
        reference: { name: 'baseline at the same rate', value: floor.corrected.p99 },
        target: { on: 'value', op: '<=', limit: target.p99Ms },
        note: `open loop, evenly paced, ${CONNECTIONS} connections, ${Math.round(open.rps)} req/s answered (${Math.round(kept * 100)}% of offered)${kept < 0.97 ? ': could not keep up' : ''}${open.generatorLateMs ? `; the load generator's own lateness p99 ${open.generatorLateMs.p99.toFixed(1)} ms, max ${open.generatorLateMs.max.toFixed(1)} ms` : ''}${wrap('; ', bySecond(open.secondP99Ms, target.p99Ms), '')}; the bare baseline at the same rate (${Math.min(timing.openSeconds, BASELINE_OPEN_SECONDS)} s, just before): p50 ${floor.corrected.p50.toFixed(2)} ms, p99 ${floor.corrected.p99.toFixed(2)} ms${wrap(' (', bySecond(floor.secondP99Ms, target.p99Ms), ')')}`,
      }),
    );
  }
  return { figures, raw };
}

/** `text` between `before` and `after`, or nothing when it is empty. */
function wrap(before: string, text: string, after: string): string {
  return text ? `${before}${text}${after}` : '';
}
