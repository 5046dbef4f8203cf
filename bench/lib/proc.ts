/**
 * Child processes of the benchmark: every server and the load generator run in their own Node process, so
 * no two of them share an event loop. Children are TypeScript run through tsx's loader; they talk to the
 * orchestrator over IPC with a tiny request/reply protocol (see child.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { statCpuMs } from './threadCounters.ts';

export const BENCH_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const ROOT_DIR = path.dirname(BENCH_DIR);
const TSX_LOADER = import.meta.resolve('tsx');

export interface SpawnOptions {
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Where the child's stdout goes: discarded by default (access logs), or a file. */
  stdoutFile?: string;
  cwd?: string;
}

interface Reply {
  id?: number;
  ready?: unknown;
  result?: unknown;
  error?: string;
}

/** A child process speaking the request/reply protocol of child.ts. */
export class Child<Ready = unknown> {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private exited: Promise<number | null>;
  readonly ready: Promise<Ready>;
  stderr = '';

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-20_000);
    });
    this.ready = new Promise<Ready>((resolve, reject) => {
      proc.on('message', (m: Reply) => {
        if (m.ready !== undefined) return resolve(m.ready as Ready);
        const w = m.id === undefined ? undefined : this.waiting.get(m.id);
        if (!w) return;
        this.waiting.delete(m.id!);
        if (m.error !== undefined) w.reject(new Error(`${name}: ${m.error}`));
        else w.resolve(m.result);
      });
      void this.exited.then((code) => {
        const err = new Error(`${name} exited (code ${code}) ${this.stderr.trim().split('\n').slice(-15).join('\n')}`);
        reject(err);
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
      });
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  call<T = unknown>(cmd: string, args: unknown = {}): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, cmd, args });
    });
  }

  /** Asks the child to close cleanly (so --cpu-prof profiles are written), then kills it if it does not. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    try {
      this.proc.send({ id: ++this.seq, cmd: 'close', args: {} });
    } catch {
      /* channel already closed */
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Starts `bench/lib/<file>` (TypeScript) as a child with IPC; resolves once it reports ready. */
export async function spawnChild<Ready>(name: string, file: string, opts: SpawnOptions = {}): Promise<Child<Ready>> {
  const out = opts.stdoutFile ? fs.openSync(opts.stdoutFile, 'a') : 'ignore';
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', TSX_LOADER, path.join(BENCH_DIR, 'lib', file), ...(opts.args ?? [])], {
    cwd: opts.cwd ?? ROOT_DIR,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', out, 'pipe', 'ipc'],
  });
  if (typeof out === 'number') fs.closeSync(out);
  const child = new Child<Ready>(name, proc);
  await child.ready;
  return child;
}

/** Resident set size of a process, bytes (Linux /proc; `ps` elsewhere). */
export function rssOf(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux, or gone */
  }
  return 0;
}

/** CPU time (user + system) a process has used so far, ms (Linux /proc; 0 elsewhere). */
export function cpuMsOf(pid: number): number {
  try {
    return statCpuMs(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return 0;
  }
}

/** Samples a process's RSS at a fixed interval; `max`/`last` since start or the last `mark()`. */
export class RssSampler {
  private timer: NodeJS.Timeout;
  readonly samples: { at: number; rss: number }[] = [];
  max = 0;

  constructor(
    private readonly pid: number,
    everyMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): number {
    const rss = rssOf(this.pid);
    if (rss > 0) {
      this.samples.push({ at: Date.now(), rss });
      this.max = Math.max(this.max, rss);
    }
    return rss;
  }

  maxSince(at: number): number {
    let m = 0;
    for (const s of this.samples) if (s.at >= at) m = Math.max(m, s.rss);
    return m;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
