/**
 * Profiling one request path: `node bench/run.js --profile=submit|poll|validation [--seconds=N] [--tasks=N]`.
 * Fills a store, starts reelay with --cpu-prof, runs only reelay's load (no baseline, so the profile is
 * all work), stops it and prints the busiest functions. Profiles stay in ./bench-profiles/<name>/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prefillForLoad } from './lib/prefill.ts';
import { startGateway } from './lib/gateway.ts';
import { runLoad, stopLoadGenerator } from './lib/load.ts';
import { ROOT_DIR } from './lib/proc.ts';
import { summarise } from './lib/cpuprofile.ts';
import { checkPath, pathLoad } from './paths.ts';
import { CONNECTIONS } from './http.ts';

export async function profile(name: string, opts: { seconds: number; tasks: number }): Promise<number> {
  const which = checkPath(name, '--profile');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-profile-'));
  const outDir = path.join(ROOT_DIR, 'bench-profiles', name);
  fs.rmSync(outDir, { recursive: true, force: true });
  try {
    const idsFile = path.join(work, 'ids.json');
    const key = await prefillForLoad(work, idsFile, opts.tasks);
    const { requests, expectStatus } = pathLoad(which, key.key);
    process.env.BENCH_PROFILE_DIR = path.dirname(outDir);
    const gw = await startGateway({ dataDir: work, role: 'api', profileAs: name });
    const r = await runLoad({ url: gw.url, connections: CONNECTIONS, warmupSeconds: 2, seconds: opts.seconds, requests, expectStatus, idsFile: name === 'poll' ? idsFile : undefined });
    await gw.stop();
    await stopLoadGenerator();
    console.log(`${name}: ${Math.round(r.rps)} req/s, p50 ${r.latencyMs.p50.toFixed(2)} ms, p99 ${r.latencyMs.p99.toFixed(2)} ms, statuses ${JSON.stringify(r.statuses)}`);
    if (!fs.existsSync(outDir)) {
      console.log('no V8 profile: BENCH_GATEWAY_NODE_ARGS replaced the profiler');
      return 0;
    }
    const main = fs.readdirSync(outDir).map((f) => path.join(outDir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    console.log(`profile ${path.relative(process.cwd(), main)}`);
    console.log(summarise(main, 40));
    return 0;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
