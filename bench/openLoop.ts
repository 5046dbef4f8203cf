/**
 * The open loop alone, for looking into the p99 at a set rate: `node bench/run.js --open=poll|submit|validation
 * [--rates=N[,N...]] [--seconds=N] [--rounds=N] [--tasks=N]`. Fills a store, starts reelay, measures its
 * closed-loop rate once, then offers each rate in turn, evenly paced (lib/pacedLoad.ts), round after round,
 * placed on the CPUs as the full run places it. No baseline and no BENCHMARKS.md: each line gives what the
 * full run's open-loop figure gives (answered rate, p50 and p99 from when each request was due, the p99 of each
 * second) and what it hides — the event loop's own CPU and how often it slept (its voluntary context
 * switches), from /proc — so a reader can tell work from waiting. Rates default to 50 %, 65 % and 80 % of the
 * closed-loop rate measured first. It repeats the scratch harness that item 45 of
 * docs/decisions/0012-performance.md was measured with, so the next look does not start by rebuilding it.
 * With `--baseline`, the bare node:http server of the full run takes each window at the same rate just before
 * reelay does, and its line gives the same figures: what the machine gives a server that does nothing, at that
 * rate and minute (item 56).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prefillForLoad } from './lib/prefill.ts';
import { startGateway } from './lib/gateway.ts';
import { runLoad, stopLoadGenerator } from './lib/load.ts';
import { bySecond } from './lib/pacedLoad.ts';
import { checkPath, pathLoad } from './paths.ts';
import { CONNECTIONS } from './http.ts';
import { threadCounters } from './lib/threadCounters.ts';
import { POLL_TARGET } from './poll.ts';
import { SUBMIT_TARGET } from './submit.ts';
import { startBaseline, type Baseline } from './lib/baseline.ts';

export interface OpenLoopOptions {
  what: string;
  tasks: number;
  seconds: number;
  rounds: number;
  /** Requests per second to offer; empty: 50, 65 and 80 % of the closed-loop rate. */
  rates: number[];
  /** Run the bare baseline at each rate too, just before reelay. */
  baseline?: boolean;
}

export async function openLoop(o: OpenLoopOptions, print: (line: string) => void = console.log): Promise<number> {
  const which = checkPath(o.what, '--open');
  const p99Ms = which === 'submit' ? SUBMIT_TARGET.p99Ms : POLL_TARGET.p99Ms;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-open-'));
  try {
    const idsFile = path.join(work, 'ids.json');
    const key = await prefillForLoad(work, idsFile, o.tasks);
    const { requests, expectStatus } = pathLoad(which, key.key);
    const shape = { connections: CONNECTIONS, requests, expectStatus, idsFile: which === 'poll' ? idsFile : undefined };

    const gw = await startGateway({ dataDir: work, role: 'api' });
    let bare: Baseline | null = null;
    try {
      if (o.baseline) bare = await startBaseline();
      const closed = await runLoad({ ...shape, url: gw.url, warmupSeconds: 2, seconds: Math.max(1, o.seconds / 2) }, gw.pid);
      print(`${o.what} over ${o.tasks.toLocaleString('en-US')} tasks: closed loop ${Math.round(closed.rps)} req/s, ${closed.cpuUsPerAnswer?.toFixed(1)} µs of CPU per answer`);
      const rates = o.rates.length ? o.rates : [0.5, 0.65, 0.8].map((f) => Math.round(closed.rps * f));
      const window = async (url: string, pid: number, status: number, rate: number) => {
        const before = threadCounters(pid);
        const t0 = performance.now();
        const r = await runLoad({ ...shape, expectStatus: status, url, warmupSeconds: 0.5, seconds: o.seconds, overallRate: rate }, pid);
        return describeWindow(r, before, threadCounters(pid), (performance.now() - t0) / 1000, p99Ms);
      };
      for (let round = 1; round <= o.rounds; round++) {
        for (const rate of rates) {
          if (bare) print(`  round ${round}, ${rate} req/s offered, baseline: ${await window(bare.url, bare.pid, 200, rate)}`);
          print(`  round ${round}, ${rate} req/s offered: ${await window(gw.url, gw.pid, expectStatus, rate)}`);
        }
      }
    } finally {
      await gw.stop();
      await bare?.stop();
      await stopLoadGenerator();
    }
    return 0;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** One window's line: what was answered and how fast, and what the server's event loop spent on it. */
function describeWindow(r: Awaited<ReturnType<typeof runLoad>>, before: Counters, after: Counters, wall: number, p99Ms: number): string {
  const answers = r.ok + r.other + r.warmupAnswers;
  const loopCpu = (after.cpuMs - before.cpuMs) / 1000 / wall;
  const seconds = bySecond(r.secondP99Ms, p99Ms);
  return (
    `${Math.round(r.rps)} answered, p50 ${r.corrected.p50.toFixed(2)} ms, p99 ${r.corrected.p99.toFixed(2)} ms; ` +
    `event loop ${Math.round(loopCpu * 100)} % busy, ${(((after.cpuMs - before.cpuMs) * 1000) / Math.max(1, answers)).toFixed(1)} µs of its CPU per answer, ` +
    `${Math.round((after.sleeps - before.sleeps) / wall)} sleeps/s; generator late p99 ${r.generatorLateMs?.p99.toFixed(2) ?? '?'} ms` +
    (seconds ? `; ${seconds}` : '')
  );
}

type Counters = ReturnType<typeof threadCounters>;
