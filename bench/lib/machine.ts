/** What the figures were measured on: written at the top of BENCHMARKS.md. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT_DIR } from './proc.ts';
import { placement } from './cpuPlacement.ts';

export interface MachineInfo {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  reelay: string;
  commit: string;
  autocannon: string;
  sqlite: string;
  loadAverage: number[];
  /** How the servers' event loops and the load generator were placed on the CPUs (cpuPlacement.ts). */
  placement: string;
  /** What one system call costs here, ns (syscallNs): at the start of the run, and at its end once known. */
  syscallNs: { start: number; end?: number };
}

/**
 * What one system call costs on this machine now: the median of 5 runs of 20,000 reads of `process.ppid`,
 * each a getppid(2) behind Node's binding (~0.1 µs of it), in ns. Every request costs a server a dozen or
 * more system calls (reads, writes, epoll, for a submit the WAL's writes and sync), and in a VM their price
 * is the hypervisor's: on 2026-12-07 the same host charged ~650 ns for getppid at 05:40, when the bare
 * baseline answered 14,000 requests a second instead of ~50,000 (docs/decisions/0012-performance.md, item 52).
 */
export function syscallNs(): number {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 20_000; i++) if (process.ppid < 0) throw new Error('unreachable');
    runs.push(Number(process.hrtime.bigint() - t0) / 20_000);
  }
  return Math.round(runs.sort((a, b) => a - b)[2]);
}

function version(pkg: string): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT_DIR, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

/** The checkout's commit, and whether tracked files differ from it. */
export function commitOf(dir: string): string {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (dirty) commit += ' (with uncommitted changes)';
  } catch {
    /* not a git checkout */
  }
  return commit;
}

export function machineInfo(): MachineInfo {
  const commit = commitOf(ROOT_DIR);
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    reelay: JSON.parse(fs.readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8')).version,
    commit,
    autocannon: version('autocannon'),
    sqlite: version('better-sqlite3'),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    placement: placement(),
    syscallNs: { start: syscallNs() },
  };
}
