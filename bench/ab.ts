/**
 * A/B: `node bench/run.js --ab=<other checkout> [--tasks=N] [--seconds=N] [--rounds=N] [--what=poll,validation,submit]`
 * runs the request-path loads against the baseline, reelay from another checkout ("before") and this one
 * ("after"), alternating them round by round, each on its own copy of the same prefilled store. This is
 * how the before/after ratios in docs/decisions/0012-performance.md were measured.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKey, openStore, prefillTasks } from './lib/prefill.ts';
import { startGateway } from './lib/gateway.ts';
import { runLoad, stopLoadGenerator, type LoadRequest, type LoadResult } from './lib/load.ts';
import { spawnChild } from './lib/proc.ts';
import { merge } from './lib/compare.ts';
import { submitRequests } from './submit.ts';
import { INVALID_BODIES } from './lib/bodies.ts';
import { CONNECTIONS } from './http.ts';

export async function ab(other: string, o: { tasks: number; seconds: number; rounds: number; what: string[] }): Promise<number> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-ab-'));
  const baseline = await spawnChild<{ url: string }>('baseline', 'baselineMain.ts');
  try {
    const a = path.join(work, 'a');
    const b = path.join(work, 'b');
    const store = openStore(a);
    const key = await createKey(store);
    const ids = prefillTasks(store, key.id, o.tasks);
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    await store.close();
    fs.cpSync(a, b, { recursive: true });
    const idsFile = path.join(work, 'ids.json');
    fs.writeFileSync(idsFile, JSON.stringify(ids));
    const before = await startGateway({ dataDir: a, role: 'api', env: { BENCH_REELAY_ROOT: path.resolve(other) } });
    const after = await startGateway({ dataDir: b, role: 'api' });
    const targets = { baseline: { url: (await baseline.ready).url, pid: baseline.pid }, before: { url: before.url, pid: before.pid }, after: { url: after.url, pid: after.pid } };
    for (const what of o.what) {
      let requests: LoadRequest[];
      let expect = 200;
      if (what === 'submit') requests = submitRequests(key.key);
      else if (what === 'poll') requests = [{ method: 'GET', path: '/v1/tasks/{id}', headers: { authorization: `Bearer ${key.key}` } }];
      else {
        requests = INVALID_BODIES.map((x) => ({ method: 'POST', path: '/v1/videos/generations', headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' }, body: JSON.stringify(x) }));
        expect = 400;
      }
      const runs: Record<string, LoadResult[]> = { baseline: [], before: [], after: [] };
      for (let r = 0; r < o.rounds; r++) {
        for (const [name, t] of Object.entries(targets)) {
          runs[name].push(
            await runLoad({ url: t.url, connections: CONNECTIONS, warmupSeconds: 2, seconds: o.seconds, requests, expectStatus: name === 'baseline' ? 200 : expect, idsFile: what === 'poll' ? idsFile : undefined, keepLatencies: true }, t.pid),
          );
        }
      }
      const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, merge(v)]));
      const line = (k: string) =>
        `${k.padEnd(8)} ${Math.round(m[k].rps).toString().padStart(6)} req/s  ratio ${(m[k].rps / m.baseline.rps).toFixed(3)}  p50 ${m[k].p50.toFixed(2)} ms  p99 ${m[k].p99.toFixed(2)} ms  cpu ${m[k].cpuUs.toFixed(0)} µs/req (${(m.baseline.cpuUs / m[k].cpuUs).toFixed(3)})  other ${m[k].other + m[k].errors}`;
      console.log(`== ${what} (${o.tasks} stored tasks, ${o.rounds} rounds of ${o.seconds} s)`);
      for (const k of ['baseline', 'before', 'after']) console.log(line(k));
    }
    await before.stop();
    await after.stop();
    return 0;
  } finally {
    await stopLoadGenerator();
    await baseline.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
