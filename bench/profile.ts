/**
 * Profiling one request path: `node bench/run.js --profile=submit|poll|validation [--seconds=N] [--tasks=N]`.
 * Fills a store, starts reelay with --cpu-prof, runs only reelay's load (no baseline, so the profile is
 * all work), stops it and prints the busiest functions. Profiles stay in ./bench-profiles/<name>/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKey, openStore, prefillTasks } from './lib/prefill.ts';
import { startGateway } from './lib/gateway.ts';
import { runLoad, stopLoadGenerator, type LoadRequest } from './lib/load.ts';
import { ROOT_DIR } from './lib/proc.ts';
import { summarise } from './lib/cpuprofile.ts';
import { submitRequests } from './submit.ts';
import { INVALID_BODIES } from './lib/bodies.ts';
import { CONNECTIONS } from './http.ts';

export async function profile(name: string, opts: { seconds: number; tasks: number }): Promise<number> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-profile-'));
  const outDir = path.join(ROOT_DIR, 'bench-profiles', name);
  fs.rmSync(outDir, { recursive: true, force: true });
  try {
    const store = openStore(work);
    const key = await createKey(store);
    const ids = prefillTasks(store, key.id, opts.tasks);
    // As the measured stages do: reads then find the rows in the database file, not in a long WAL.
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    await store.close();
    const idsFile = path.join(work, 'ids.json');
    fs.writeFileSync(idsFile, JSON.stringify(ids));
    let requests: LoadRequest[];
    let expectStatus = 200;
    if (name === 'submit') requests = submitRequests(key.key);
    else if (name === 'poll') requests = [{ method: 'GET', path: '/v1/tasks/{id}', headers: { authorization: `Bearer ${key.key}` } }];
    else if (name === 'validation') {
      requests = INVALID_BODIES.map((b) => ({ method: 'POST', path: '/v1/videos/generations', headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' }, body: JSON.stringify(b) }));
      expectStatus = 400;
    } else throw new Error(`--profile=${name}: choose submit, poll or validation`);
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
