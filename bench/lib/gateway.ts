/**
 * Starting reelay for a benchmark: its own process (gatewayMain.ts), a data dir, a role and an optional
 * config file — the way an operator runs it, with the shipped defaults for everything the benchmark does
 * not set (log level info, SQLite synchronous=FULL); it sets only what it measures, and the shutdown drain.
 * REELAY_* variables of the calling shell are not passed on, so a run does not depend on them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnChild, type Child } from './proc.ts';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789';

export interface GatewayOptions {
  dataDir: string;
  role: 'all' | 'api' | 'worker';
  /** Written to <dataDir>/bench-config.json and passed as REELAY_CONFIG. */
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Label of a CPU profile to write when BENCH_PROFILE_DIR is set. */
  profileAs?: string;
}

export interface RunningGateway {
  url: string;
  pid: number;
  child: Child<{ url: string; pid: number }>;
  stop(): Promise<void>;
}

export function cleanEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith('REELAY_') || k === 'PORT' || k === 'HOST') env[k] = undefined;
  return env;
}

export async function startGateway(o: GatewayOptions): Promise<RunningGateway> {
  fs.mkdirSync(o.dataDir, { recursive: true });
  const env: Record<string, string | undefined> = {
    ...cleanEnv(),
    REELAY_DATA_DIR: o.dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    REELAY_ROLE: o.role,
    REELAY_ADMIN_TOKEN: ADMIN_TOKEN,
    // No load balancer to drain: the shipped 2 s of /readyz 503 before the listener closes only added 2 s to
    // each of the run's gateway stops (seven in a full run). No figure is taken while a gateway stops.
    REELAY_SHUTDOWN_DRAIN_MS: '0',
    ...o.env,
  };
  if (o.config) {
    const file = path.join(o.dataDir, 'bench-config.json');
    fs.writeFileSync(file, JSON.stringify(o.config, null, 2));
    env.REELAY_CONFIG = file;
  }
  const profileDir = process.env.BENCH_PROFILE_DIR;
  // One directory per process: tsx's loader thread writes a profile of its own next to the main thread's.
  // BENCH_GATEWAY_NODE_ARGS replaces V8's profiler, for profiling with perf(1): '--perf-basic-prof', say.
  const otherArgs = process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean);
  const nodeArgs = otherArgs ?? (profileDir && o.profileAs ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir, o.profileAs)] : []);
  const child = await spawnChild<{ url: string; pid: number }>('reelay', 'gatewayMain.ts', { env, nodeArgs, stdoutFile: process.env.BENCH_GATEWAY_LOG });
  const ready = await child.ready;
  return { url: ready.url, pid: child.pid, child, stop: () => child.stop() };
}
