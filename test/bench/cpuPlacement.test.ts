/** CPU placement of the benchmark's processes (bench/lib/cpuPlacement.ts): the loop alone on the last CPU. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { placeGenerator, placeServer, placement } from '../../bench/lib/cpuPlacement.ts';

const cpus = os.availableParallelism();
const pinning = !placement().startsWith('not pinned');
const last = String(cpus - 1);
const rest = cpus - 1 === 1 ? '0' : `0-${cpus - 2}`;

/** A process with threads besides its main one (a worker thread, libuv's pool), as the servers have. */
const CHILD_SOURCE = `
const { Worker } = require('node:worker_threads');
new Worker('setInterval(() => {}, 1000)', { eval: true }).on('online', () => {
  require('node:fs').stat('.', () => process.stdout.write('ready'));
});
setInterval(() => {}, 1000);
`;

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill();
  child = undefined;
});

async function startChild(): Promise<number> {
  child = spawn(process.execPath, ['-e', CHILD_SOURCE], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child!.stdout!.once('data', () => resolve()));
  return child.pid!;
}

/** Each thread's allowed CPUs, as the kernel reports them. */
function masks(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`).map(Number)) {
    const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    out.set(tid, /^Cpus_allowed_list:\s*(\S+)/m.exec(status)![1]);
  }
  return out;
}

describe.skipIf(!pinning)('CPU placement', () => {
  it("puts a server's main thread alone on the last CPU and its other threads on the rest", async () => {
    const pid = await startChild();
    placeServer(pid);
    const m = masks(pid);
    expect(m.size).toBeGreaterThan(2);
    expect(m.get(pid)).toBe(last);
    for (const [tid, mask] of m) if (tid !== pid) expect(mask, `thread ${tid}`).toBe(rest);
  });

  it('keeps every thread of the load generator off that CPU', async () => {
    const pid = await startChild();
    placeGenerator(pid);
    for (const [tid, mask] of masks(pid)) expect(mask, `thread ${tid}`).toBe(rest);
  });

  it('says in the report how the processes were placed', () => {
    expect(placement()).toContain(`alone on CPU ${last}`);
  });
});
