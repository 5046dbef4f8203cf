/**
 * Where the benchmark's processes run: the server's event loop on a CPU of its own, everything else beside it.
 *
 * The load generator shares this machine with the server it loads (2 vCPUs here). Left to the scheduler,
 * the generator, the server's helper threads (the thread pool's fdatasync, the WAL checkpointer, V8's
 * collector) and the server's event loop share both CPUs and trade places. Each time the loop's thread waits
 * for a slice behind another, requests queue behind it; at 60–90 % load that queue takes tens of
 * milliseconds to drain. Open loop at 12,400 submits/s, 8 s rounds, the two placements alternating twice, p99
 * per round: 12.1, 17.6, 7.1, 16.8, 38.6 and 54.0 ms left to the scheduler; 9.5, 10.2, 11.2, 11.3, 9.2 and
 * 9.2 ms with the loop's thread alone on one CPU (docs/decisions/0012-performance.md, item 41). A
 * production gateway is not loaded from its own machine; keeping the generator off the loop's CPU measures
 * the gateway rather than the co-tenancy. Applied alike to every server measured — the bare baseline,
 * reelay, Portkey — before every load, so every ratio compares servers placed the same way.
 *
 * With at least two CPUs and taskset(1) (util-linux): the server's main thread (its event loop) gets the
 * last CPU; its other threads, and every thread of the load generator, get all the others. Threads a
 * process starts later inherit the mask of the thread that starts them, so the server's masks are set
 * again before each load. Otherwise nothing is pinned, and `placement()` says so in BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

const cpus = os.availableParallelism();
const loopCpu = cpus - 1;
const others = loopCpu === 1 ? '0' : `0-${loopCpu - 1}`;

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let notPinnedCache: string | null | undefined;
/** Why threads are not placed, or null when they are: looked up at the first use, not when this module is imported. */
function notPinnedBecause(): string | null {
  if (notPinnedCache === undefined) {
    notPinnedCache = cpus < 2 ? 'one CPU' : process.env.BENCH_NO_PINNING === '1' ? 'BENCH_NO_PINNING=1' : hasTaskset() ? null : 'taskset not found';
  }
  return notPinnedCache;
}

function enabled(): boolean {
  return notPinnedBecause() === null;
}

function setMask(tid: number, list: string): void {
  try {
    execFileSync('taskset', ['-p', '-c', list, String(tid)], { stdio: 'ignore' });
  } catch {
    // The thread ended between listing and pinning: nothing to place.
  }
}

function threadsOf(pid: number): number[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
}

/** The CPU lists (taskset -c form) of the servers' event loops and of everything else, or null when nothing is placed. */
export function cpuLists(): { loop: string; others: string } | null {
  return enabled() ? { loop: String(loopCpu), others } : null;
}

/** The server's event loop (its main thread) alone on the last CPU; its other threads on the rest. */
export function placeServer(pid: number): void {
  if (!enabled()) return;
  for (const tid of threadsOf(pid)) setMask(tid, tid === pid ? String(loopCpu) : others);
}

/** Every thread of the load generator off the servers' loop CPU. */
export function placeGenerator(pid: number): void {
  if (!enabled()) return;
  for (const tid of threadsOf(pid)) setMask(tid, others);
}

/** One line for BENCHMARKS.md: how the processes were placed in this run. */
export function placement(): string {
  const because = notPinnedBecause();
  if (because === 'one CPU') return 'not pinned (one CPU)';
  if (because) return `not pinned (${because}): the scheduler placed every thread`;
  return `each server's event loop (main thread) alone on CPU ${loopCpu}; its other threads and the load generator on CPU ${others} (taskset, set before every load, the same for every server)`;
}
