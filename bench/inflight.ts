/**
 * Issue 5 §5 — tasks in flight: one reelay process (role all) with one `apimart` channel to the fake
 * upstream on loopback (its own process), polled every `pollMs` (poll_min_ms = poll_max_ms) within a budget
 * of `pollRps` status calls a second.
 *
 * Reaching 100,000 tasks by submitting them over HTTP would take longer than the whole benchmark may, and
 * would measure the submit path again. So, level by level (10k, 50k, 100k in the full run), jobs are
 * created at the fake as if submitted over the last poll interval, and the matching tasks are written into
 * reelay's store as the engine leaves a task after starting it (phase submitted, price held, next check
 * spread over one interval) — the steady state a stream of submissions would reach — while reelay runs.
 * At each level RSS, status calls per second at the upstream and reelay's CPU are measured.
 *
 * Then, with every task in flight, jobs start finishing at the rate a steady state of 5-minute jobs would
 * have (in flight ÷ 300 a second) for `finishSeconds`: each of those must be marked completed (result
 * copied into storage, price settled) within one poll interval of finishing, p99. One interval is the
 * schedule's (schedule.ts): pollMs jittered up to +20%.
 *
 * Checked: RSS under 1 GiB; status calls in any 5 s within the budget (poll_rps × 5 s plus the token
 * bucket's burst); the completion lag.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { createKey, openStore, prefillInFlight } from './lib/prefill.ts';
import { startGateway } from './lib/gateway.ts';
import { RssSampler, spawnChild, cpuMsOf } from './lib/proc.ts';
import { figure, type Figure } from './lib/report.ts';
import { T2V_BODIES } from './lib/bodies.ts';
import { percentile } from './lib/percentile.ts';

export interface InFlightOptions {
  levels: number[];
  /** poll_min_ms = poll_max_ms: one interval for every task, whatever its age. */
  pollMs: number;
  pollRps: number;
  resultBytes: number;
  /** Length of the measurement at each level, s. */
  windowSeconds: number;
  /** How long jobs keep finishing at the end, s. */
  finishSeconds: number;
}

export interface LevelRow {
  inFlight: number;
  rssBytes: number;
  pollsPerSecond: number;
  expectedPollsPerSecond: number;
  cpuShare: number;
}

export interface InFlightOutcome {
  figures: Figure[];
  levels: LevelRow[];
  lag: { p50: number; p99: number; max: number; boundMs: number; finished: number; completed: number; perSecond: number };
  maxPolls5s: number;
  raw: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LONG = 24 * 3_600_000;

export async function inFlight(dir: string, o: InFlightOptions, log: (s: string) => void): Promise<InFlightOutcome> {
  const upstream = await spawnChild<{ url: string; apiKey: string }>('fake upstream', 'upstreamMain.ts', {
    env: { UPSTREAM_LATENCY_MS: String(LONG), UPSTREAM_MEDIA_BYTES: String(o.resultBytes) },
  });
  const up = await upstream.ready;
  const dataDir = path.join(dir, 'data');
  const store = openStore(dataDir);
  const key = await createKey(store);
  const burst = Math.max(1, Math.ceil(o.pollRps));
  const gw = await startGateway({
    dataDir,
    role: 'all',
    profileAs: 'inflight',
    config: {
      channels: [{ name: 'fake', provider: 'apimart', base_url: up.url, api_key: up.apiKey, poll_rps: o.pollRps, poll_min_ms: o.pollMs, poll_max_ms: o.pollMs, webhooks: false }],
      allow_private_hosts: ['127.0.0.1'],
    },
  });
  const db = new Database(path.join(dataDir, 'reelay.db'), { readonly: true, fileMustExist: true });
  const inFlightNow = () => (db.prepare("SELECT count(*) AS n FROM tasks WHERE phase IN ('submitted', 'collecting')").get() as { n: number }).n;
  const rss = new RssSampler(gw.pid, 250);
  const levels: LevelRow[] = [];
  const started = Date.now();
  const allJobs: string[] = [];
  let finishing: string[] = [];
  let finishRate = 0;
  try {
    for (const level of o.levels) {
      const add = level - allJobs.length;
      log(`  ${level.toLocaleString('en-US')} tasks in flight`);
      const jobs = await upstream.call<[string, number][]>('createJobs', { count: add, ageSpreadMs: o.pollMs, latencyMs: LONG, prompt: 'a tracking shot of a lighthouse at dusk' });
      prefillInFlight(store, key.id, jobs, { channel: 'fake', provider: 'apimart', pollIntervalMs: o.pollMs, bodies: T2V_BODIES });
      for (const [id] of jobs) allJobs.push(id);
      await sleep(Math.min(5_000, o.pollMs / 4));
      const from = Date.now();
      const cpu0 = cpuMsOf(gw.pid);
      await sleep(o.windowSeconds * 1000);
      const cpu = cpuMsOf(gw.pid) - cpu0;
      // Samples count the calls since the previous sample; the sampler is a timer in a busy process, so
      // rates use the samples' own timestamps, not their number.
      // The sample just before the window anchors it (short windows hold a single sample).
      const seconds = await upstream.call<{ at: number; status: number }[]>('perSecond', { since: from - 1000 });
      const n = inFlightNow();
      const span = seconds.length > 1 ? (seconds[seconds.length - 1].at - seconds[0].at) / 1000 : NaN;
      const row = {
        inFlight: n,
        rssBytes: rss.maxSince(from),
        pollsPerSecond: seconds.slice(1).reduce((a, s) => a + s.status, 0) / span,
        expectedPollsPerSecond: Math.min(o.pollRps, n / (o.pollMs / 1000)),
        cpuShare: cpu / (o.windowSeconds * 1000),
      };
      levels.push(row);
      log(`    RSS ${(row.rssBytes / 2 ** 20).toFixed(0)} MiB, ${row.pollsPerSecond.toFixed(0)} status calls/s (schedule: ${row.expectedPollsPerSecond.toFixed(0)}), CPU ${(row.cpuShare * 100).toFixed(0)}%`);
    }
    // Jobs finish at the rate 5-minute jobs would, picked evenly from all of them.
    finishRate = Math.max(1, Math.round(allJobs.length / 300));
    const count = Math.min(allJobs.length, Math.round(finishRate * o.finishSeconds));
    finishing = Array.from({ length: count }, (_, k) => allJobs[Math.floor((k * allJobs.length) / count)]);
    log(`  ${count.toLocaleString('en-US')} jobs finishing, ${finishRate}/s`);
    await upstream.call('finishJobs', { ids: finishing, startInMs: 1000, perSecond: finishRate });
    const want = new Set(finishing);
    const deadline = Date.now() + 1000 + o.finishSeconds * 1000 + 1.2 * o.pollMs + 30_000;
    const doneOf = db.prepare("SELECT count(*) AS n FROM tasks WHERE phase = 'done'");
    for (;;) {
      if ((doneOf.get() as { n: number }).n >= want.size || Date.now() > deadline) break;
      await sleep(500);
    }
  } finally {
    rss.stop();
  }
  const jobs = new Map((await upstream.call<[string, number, number][]>('jobs')).map(([id, at, ms]) => [id, at + ms]));
  const rows = db.prepare("SELECT status, completed_at AS c, json_extract(upstream, '$.operation.id') AS job FROM tasks").all() as { status: string; c: number | null; job: string }[];
  const want = new Set(finishing);
  const lags: number[] = [];
  let completed = 0;
  for (const r of rows) {
    if (!want.has(r.job)) continue;
    if (r.status === 'completed' && r.c !== null) {
      completed++;
      lags.push(r.c - jobs.get(r.job)!);
    } else lags.push(Infinity);
  }
  lags.sort((a, b) => a - b);
  const perSecond = await upstream.call<{ at: number; status: number }[]>('perSecond', { since: started });
  // The most calls in any 5 s of wall time: samples j > i with at_j − at_i ≤ 5 s hold calls made within it.
  let maxPolls5s = 0;
  for (let i = 0; i < perSecond.length; i++) {
    let sum = 0;
    for (let j = i + 1; j < perSecond.length && perSecond[j].at - perSecond[i].at <= 5000; j++) sum += perSecond[j].status;
    maxPolls5s = Math.max(maxPolls5s, sum);
  }
  db.close();
  await store.close();
  await gw.stop();
  await upstream.stop();

  const boundMs = 1.2 * o.pollMs;
  const peak = levels[levels.length - 1];
  const lag = { p50: percentile(lags, 0.5), p99: percentile(lags, 0.99), max: lags[lags.length - 1] ?? NaN, boundMs, finished: finishing.length, completed, perSecond: finishRate };
  const figures: Figure[] = [
    figure({
      scenario: 'in flight',
      name: `RSS at ${peak.inFlight.toLocaleString('en-US')} tasks in flight`,
      value: peak.rssBytes / 2 ** 20,
      unit: 'MiB',
      reference: { name: 'limit', value: 1024 },
      target: { on: 'ratio', op: '<=', limit: 1 },
    }),
    figure({
      scenario: 'in flight',
      name: 'most status calls in any 5 s',
      value: maxPolls5s,
      unit: 'calls',
      reference: { name: `budget (${o.pollRps}/s × 5 s + burst ${burst})`, value: o.pollRps * 5 + burst },
      target: { on: 'ratio', op: '<=', limit: 1 },
    }),
    figure({
      scenario: 'in flight',
      name: 'upstream finished → task completed, p99',
      value: lag.p99 / 1000,
      unit: 's',
      reference: { name: 'one poll interval', value: boundMs / 1000 },
      target: { on: 'ratio', op: '<=', limit: 1 },
      note: `${completed.toLocaleString('en-US')} of ${finishing.length.toLocaleString('en-US')} finishing jobs completed (${finishRate}/s, with ${peak.inFlight.toLocaleString('en-US')} in flight); p50 ${(lag.p50 / 1000).toFixed(1)} s, max ${(lag.max / 1000).toFixed(1)} s`,
    }),
  ];
  return { figures, levels, lag, maxPolls5s, raw: { options: o, perSecond, levels } };
}
