/** Starting the bare node:http server (baselineMain.ts) that every figure is compared with, in its own process. */
import type { Target } from './compare.ts';
import { spawnChild } from './proc.ts';

export interface Baseline extends Target {
  stop(): Promise<void>;
}

export async function startBaseline(): Promise<Baseline> {
  const child = await spawnChild<{ url: string }>('baseline', 'baselineMain.ts');
  return { url: (await child.ready).url, pid: child.pid, stop: () => child.stop() };
}
