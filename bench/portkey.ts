/**
 * Issue 5 §8 — beside a comparable gateway from npm: the Portkey AI gateway (`@portkey-ai/gateway`). A full
 * run installs the pinned version from the npm registry into a cache directory the first time (a few
 * seconds, ~25 MB; not a dependency of reelay); BENCH_PORTKEY_DIR=<its package dir> uses another copy. The
 * smoke run only uses a copy already there, so CI installs nothing extra.
 *
 * The closest comparable work: Portkey forwards POST /v1/images/generations (OpenAI provider, custom host)
 * to a fake upstream on loopback and relays the upstream's answer — one upstream round trip per request,
 * nothing stored. reelay accepts POST /v1/videos/generations — validates, holds the price and commits the
 * task durably before answering — and its engine (same process) then submits each task to a fake APIMart
 * upstream on loopback. Same load generator, 64 connections, same duration; both also as ratios to the bare
 * baseline. Figures: Portkey's forwarded requests per second; reelay's accepted tasks per second, and the
 * rate its engine started them upstream during the same run.
 */
import { execFile, spawn } from 'node:child_process';
import os from 'node:os';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createKey, openStore } from './lib/prefill.ts';
import { startGateway, cleanEnv } from './lib/gateway.ts';
import { runLoad } from './lib/load.ts';
import { spawnChild, ROOT_DIR } from './lib/proc.ts';
import { figure, type Figure } from './lib/report.ts';
import { T2V_BODIES } from './lib/bodies.ts';
import type { Timing } from './http.ts';
import { CONNECTIONS } from './http.ts';
import type { Target } from './lib/compare.ts';

export interface PortkeyOutcome {
  figures: Figure[];
  installed: boolean;
  version?: string;
  note: string;
  raw: Record<string, unknown>;
}

/** The version a full run installs (the one BENCHMARKS.md's figures were measured with). */
export const PORTKEY_VERSION = '1.15.2';
/** Where a full run installs it: outside the project, shared by runs. */
const CACHE_DIR = path.join(os.tmpdir(), `reelay-bench-portkey-${PORTKEY_VERSION}`);

/** The installed package's directory, or null. */
export function findPortkey(): { dir: string; version: string } | null {
  const candidates = [
    process.env.BENCH_PORTKEY_DIR,
    path.join(ROOT_DIR, 'node_modules', '@portkey-ai', 'gateway'),
    path.join(CACHE_DIR, 'node_modules', '@portkey-ai', 'gateway'),
  ].filter((d): d is string => !!d);
  for (const dir of candidates) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string; bin?: string | Record<string, string> };
      const bin = typeof pkg.bin === 'string' ? pkg.bin : 'build/start-server.js';
      if (fs.existsSync(path.join(dir, bin))) return { dir, version: pkg.version };
    } catch {
      /* not there */
    }
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** `npm install` of the pinned version into CACHE_DIR; the error's text when it fails (no registry, say). */
function installPortkey(log: (s: string) => void): Promise<string | null> {
  log(`  installing @portkey-ai/gateway@${PORTKEY_VERSION} into ${CACHE_DIR}`);
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', CACHE_DIR, `@portkey-ai/gateway@${PORTKEY_VERSION}`];
  return new Promise((resolve) => execFile(npm, args, { timeout: 180_000 }, (err, _out, stderr) => resolve(err ? `${err.message.split('\n')[0]} ${stderr.slice(-300)}` : null)));
}

export async function portkey(dir: string, baseline: Target, timing: Timing, endToEnd: number, log: (s: string) => void, opts: { install: boolean }): Promise<PortkeyOutcome> {
  let found = findPortkey();
  let failure: string | null = null;
  if (!found && opts.install) {
    failure = await installPortkey(log);
    found = findPortkey();
  }
  if (!found) {
    const note = failure
      ? `could not be installed (${failure.trim()}); set BENCH_PORTKEY_DIR to an installed copy`
      : 'not installed (the smoke run does not install it; a full run does, or set BENCH_PORTKEY_DIR to its package directory)';
    log(`  Portkey ${note}`);
    return { figures: [], installed: false, note, raw: {} };
  }
  const shape = { connections: CONNECTIONS, warmupSeconds: timing.warmupSeconds, seconds: timing.seconds, expectStatus: 200 };
  // Portkey's upstream: a bare server answering a small JSON, in its own process.
  const fakeOpenAi = await spawnChild<{ url: string }>('fake openai', 'baselineMain.ts');
  const port = await freePort();
  const proc = spawn(process.execPath, [path.join(found.dir, 'build', 'start-server.js'), `--port=${port}`, '--headless'], {
    cwd: dir && fs.mkdirSync(dir, { recursive: true }) !== null ? dir : ROOT_DIR,
    env: { ...process.env, ...cleanEnv(), NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const portkeyUrl = `http://127.0.0.1:${port}`;
  const upstream = await spawnChild<{ url: string; apiKey: string }>('fake upstream', 'upstreamMain.ts', { env: { UPSTREAM_LATENCY_MS: '3600000' } });
  const up = await upstream.ready;
  let gw: Awaited<ReturnType<typeof startGateway>> | null = null;
  try {
    const forward = {
      method: 'POST' as const,
      path: '/v1/images/generations',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer sk-fake-openai',
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': `${(await fakeOpenAi.ready).url}/v1`,
      },
      body: JSON.stringify({ model: 'dall-e-3', prompt: 'a golden retriever running on the beach, sunset, cinematic', n: 1, size: '1024x1024' }),
    };
    for (let i = 0; ; i++) {
      try {
        const res = await fetch(`${portkeyUrl}${forward.path}`, { method: 'POST', headers: forward.headers, body: forward.body });
        await res.text();
        if (res.status === 200) break;
        throw new Error(`Portkey answered ${res.status}`);
      } catch (e) {
        if (i > 100 || proc.exitCode !== null) throw new Error(`Portkey did not start: ${(e as Error).message} ${stderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    const dataDir = path.join(dir, 'data');
    const store = openStore(dataDir);
    const key = await createKey(store);
    await store.close();
    gw = await startGateway({
      dataDir,
      role: 'all',
      profileAs: 'portkey',
      config: {
        // Long poll interval: during the run the engine only starts tasks upstream.
        channels: [{ name: 'fake', provider: 'apimart', base_url: up.url, api_key: up.apiKey, poll_min_ms: 3_600_000, poll_max_ms: 3_600_000, webhooks: false }],
        allow_private_hosts: ['127.0.0.1'],
      },
    });
    const submits = T2V_BODIES.map((b) => ({
      method: 'POST' as const,
      path: '/v1/videos/generations',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(b),
    }));

    log('  baseline, Portkey forwarding, reelay submitting');
    const base = await runLoad({ ...shape, url: baseline.url, requests: [forward] }, baseline.pid);
    const pk = await runLoad({ ...shape, url: portkeyUrl, requests: [forward] }, proc.pid);
    // End to end first: `endToEnd` tasks submitted at 64 connections, timed until the last one has been
    // started at the upstream — the counterpart of Portkey's request → upstream call.
    const t0 = Date.now();
    const e2e = await runLoad({ ...shape, warmupSeconds: 0, url: gw.url, requests: submits, amount: endToEnd });
    for (;;) {
      if (((await upstream.call<Record<string, number>>('counts')).submit ?? 0) >= endToEnd) break;
      if (Date.now() - t0 > 300_000) throw new Error('reelay did not start every task upstream within 5 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    const upstreamRate = endToEnd / ((Date.now() - t0) / 1000);
    // Then intake alone, like Portkey's run: as many submits as reelay answers.
    const rl = await runLoad({ ...shape, url: gw.url, requests: submits }, gw.pid);
    for (const [name, r] of [['Portkey', pk], ['reelay', rl], ['reelay end to end', e2e]] as const) {
      if (r.other + r.errors > 0.001 * (r.ok + r.other)) throw new Error(`${name}: unexpected answers ${JSON.stringify(r.statuses)}, ${r.errors} errors`);
    }
    const note = `@portkey-ai/gateway ${found.version}`;
    const figures: Figure[] = [
      figure({ scenario: 'Portkey', name: 'Portkey forwarding to a fake upstream', value: pk.rps, unit: 'req/s', reference: { name: 'baseline', value: base.rps }, note: `p99 ${pk.latencyMs.p99.toFixed(1)} ms, ${pk.cpuUsPerAnswer?.toFixed(0)} µs CPU per request` }),
      figure({ scenario: 'Portkey', name: 'reelay accepting tasks (durable)', value: rl.rps, unit: 'req/s', reference: { name: 'Portkey forwarding', value: pk.rps }, note: `${(rl.rps / base.rps).toFixed(3)} × baseline; p99 ${rl.latencyMs.p99.toFixed(1)} ms, ${rl.cpuUsPerAnswer?.toFixed(0)} µs CPU per request (engine included)` }),
      figure({
        scenario: 'Portkey',
        name: 'reelay accepting and starting tasks upstream',
        value: upstreamRate,
        unit: 'tasks/s',
        reference: { name: 'Portkey forwarding', value: pk.rps },
        note: `${endToEnd} tasks from the first submit to the last upstream start`,
      }),
    ];
    return { figures, installed: true, version: found.version, note, raw: { baseline: base, portkey: pk, reelay: rl, endToEnd: { tasks: endToEnd, upstreamRate, load: e2e } } };
  } finally {
    if (gw) await gw.stop();
    proc.kill('SIGTERM');
    await upstream.stop();
    await fakeOpenAi.stop();
  }
}
