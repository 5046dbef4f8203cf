/**
 * A/B: `node bench/run.js --ab=<checkout>[,<checkout>...] [--tasks=N] [--seconds=N] [--rounds=N] [--what=poll,validation,submit]`
 * (--pending: every stored task unfinished) runs the request-path loads against the baseline, reelay from each other checkout (named by its
 * directory) and this one ("this"), alternating them round by round, each on its own copy of the same
 * prefilled store; the versions' order turns each round. This is how the before/after ratios in
 * docs/decisions/0012-performance.md were measured.
 *
 * The store is prefilled by this checkout, so what a migration of this checkout puts in the file (as
 * migration 2's constraints) reaches every version: to measure such a change, put the other version's copy
 * back in its own schema first (item 33 of that decision restored version 1's CREATE text). Submits grow
 * each version's store by what it accepted, so polls, read over the prefilled tasks, are best measured
 * first (the default order).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prefillForLoad } from './lib/prefill.ts';
import { startGateway } from './lib/gateway.ts';
import { runLoad, stopLoadGenerator, type LoadResult } from './lib/load.ts';
import { startBaseline } from './lib/baseline.ts';
import { merge } from './lib/compare.ts';
import { checkPath, pathLoad } from './paths.ts';
import { CONNECTIONS } from './http.ts';

export async function ab(others: string, o: { tasks: number; seconds: number; rounds: number; what: string[]; pending?: boolean }): Promise<number> {
  const paths = o.what.map((w) => checkPath(w, '--what'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-ab-'));
  const baseline = await startBaseline();
  try {
    // Every version, this one included, runs on its own copy of the prefilled store, made the same way:
    // when this version ran on the files the prefill wrote and the others on copies, two checkouts of the
    // same code measured 76 and 69 µs per poll in one run.
    const prefilled = path.join(work, 'prefilled');
    const idsFile = path.join(work, 'ids.json');
    const key = await prefillForLoad(prefilled, idsFile, o.tasks, o.pending ? { completed: 0, failed: 0 } : undefined);
    const targets: Record<string, { url: string; pid: number }> = { baseline };
    const gateways = [];
    for (const other of others.split(',')) {
      const name = path.basename(path.resolve(other));
      const dir = path.join(work, name);
      fs.cpSync(prefilled, dir, { recursive: true });
      const gw = await startGateway({ dataDir: dir, role: 'api', env: { BENCH_REELAY_ROOT: path.resolve(other) } });
      gateways.push(gw);
      targets[name] = { url: gw.url, pid: gw.pid };
    }
    const own = path.join(work, 'this');
    fs.cpSync(prefilled, own, { recursive: true });
    const self = await startGateway({ dataDir: own, role: 'api' });
    gateways.push(self);
    targets.this = { url: self.url, pid: self.pid };
    for (const what of paths) {
      const { requests, expectStatus: expect } = pathLoad(what, key.key);
      const runs: Record<string, LoadResult[]> = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
      const versions = Object.keys(targets).filter((k) => k !== 'baseline');
      for (let r = 0; r < o.rounds; r++) {
        // The baseline first, then the versions in an order that turns each round: a submit run leaves WAL
        // and dirty pages being written back, and whichever version came right after one lost 5–10 %.
        const order = ['baseline', ...versions.slice(r % versions.length), ...versions.slice(0, r % versions.length)];
        for (const name of order) {
          const t = targets[name];
          runs[name].push(
            await runLoad({ url: t.url, connections: CONNECTIONS, warmupSeconds: 2, seconds: o.seconds, requests, expectStatus: name === 'baseline' ? 200 : expect, idsFile: what === 'poll' ? idsFile : undefined, keepLatencies: true }, t.pid),
          );
        }
      }
      const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, merge(v)]));
      const line = (k: string) =>
        `${k.padEnd(16)} ${Math.round(m[k].rps).toString().padStart(6)} req/s  ratio ${(m[k].rps / m.baseline.rps).toFixed(3)}  p50 ${m[k].p50.toFixed(2)} ms  p99 ${m[k].p99.toFixed(2)} ms  cpu ${m[k].cpuUs.toFixed(0)} µs/req (${(m.baseline.cpuUs / m[k].cpuUs).toFixed(3)})  other ${m[k].other + m[k].errors}`;
      console.log(`== ${what} (${o.tasks} stored tasks, ${o.rounds} rounds of ${o.seconds} s)`);
      for (const k of Object.keys(targets)) console.log(line(k));
    }
    for (const gw of gateways) await gw.stop();
    return 0;
  } finally {
    await stopLoadGenerator();
    await baseline.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
