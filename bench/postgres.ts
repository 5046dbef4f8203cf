/**
 * Issue 6 — submit and poll with reelay on the PostgreSQL store, beside the same baseline.
 *
 * The same scenarios as the SQLite ones (poll.ts, submit.ts: the same bodies, 64 connections, load
 * generator, baseline side by side, ratio targets and open-loop latency run), with reelay (role api, as in
 * the cost curve) started on REELAY_DATABASE_URL = a database this stage creates under a unique name and
 * drops afterwards. The database is filled first with the cost curve's mix (pgPrefill.ts: the same rows
 * prefill.ts writes into SQLite). Besides reelay's own CPU per answer, the PostgreSQL server's is read
 * from /proc (pgPrefill.ts PgServerCpu): the two together are what an answer costs.
 *
 * Also measured, for sizing (docs/deployment.md): bytes per stored task (table and indexes, from the
 * prefill), WAL bytes per submit, and submit throughput with the load spread over several API keys — every
 * submit of one key takes that key's row lock until its commit has been flushed, so one key's submits run
 * one at a time, while different keys' commits overlap.
 *
 * PostgreSQL unreachable: the stage is skipped with a note, except when CI is set (then it fails the run,
 * as the PostgreSQL test suites do).
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ApiKeys } from '../src/accounts/apiKeys.ts';
import { PostgresStore } from '../src/store/postgres/pgStore.ts';
import type { TaskOutcome } from '../src/tasks/task.ts';
import { startGateway } from './lib/gateway.ts';
import { rssOf } from './lib/proc.ts';
import {
  checkPostgres,
  createBenchDatabase,
  PgServerCpu,
  postgresUnavailable,
  prefillPostgres,
  redact,
  setUpDatabase,
  tableSizes,
  walBytes,
  PG_ADMIN_URL,
  type TableSizes,
} from './lib/pgPrefill.ts';
import { figure, type Figure } from './lib/report.ts';
import type { Target } from './lib/compare.ts';
import { httpScenario, type Timing } from './http.ts';
import { pollScenario } from './poll.ts';
import { checkKeyedRun, keyedSubmitRequests, submitRequests, submitScenario, SUBMIT_TARGET } from './submit.ts';

export interface PostgresSizes {
  tasks: number;
  timing: Timing;
  /** API keys the load is spread over in the extra submit run (0: no such run). */
  spreadKeys: number;
  /** Timing of the submit run with an Idempotency-Key on every request, as the SDK sends (null: no such run). */
  keyedTiming: Timing | null;
  /** Length of the worker-side store run (claim + patch per status check), s (0: none). */
  workerSeconds: number;
}

export interface PostgresOutcome {
  figures: Figure[];
  /** Why the stage did not run (PostgreSQL unreachable outside CI). */
  skipped?: string;
  server?: { version: string; settings: Record<string, string>; url: string };
  storedTasks?: number;
  prefillSeconds?: number;
  sizes?: TableSizes;
  /** Why the server's CPU could not be read (null: it was). */
  serverCpu?: string | null;
  walBytesPerSubmit?: number;
  gatewayRss?: number;
  raw?: Record<string, unknown>;
}

export const PG = 'PostgreSQL';
export const pgScenario = (s: string) => `${s} (${PG})`;

const POLL_IDS_MAX = 200_000;

function sample(ids: string[], max: number): string[] {
  if (ids.length <= max) return ids;
  const step = ids.length / max;
  return Array.from({ length: max }, (_, i) => ids[Math.floor(i * step)]);
}

export async function postgresStage(workDir: string, baseline: Target, sizes: PostgresSizes, log: (s: string) => void): Promise<PostgresOutcome> {
  const why = await postgresUnavailable();
  if (why) {
    if (process.env.CI) throw new Error(`${why} — CI is set, so the PostgreSQL stage must run, not skip (set BENCH_POSTGRES_URL)`);
    log(`  SKIPPED: ${why} (set BENCH_POSTGRES_URL; with CI set this fails the run)`);
    return { figures: [], skipped: why };
  }
  fs.mkdirSync(workDir, { recursive: true });
  const db = await createBenchDatabase();
  log(`  database ${db.name} on PostgreSQL ${db.server.version} at ${redact(PG_ADMIN_URL)}`);
  const out: PostgresOutcome = { figures: [], server: { ...db.server, url: redact(PG_ADMIN_URL) } };
  try {
    const key = await setUpDatabase(db.url);
    log(`  filling it with ${sizes.tasks.toLocaleString('en-US')} tasks`);
    const t0 = performance.now();
    const ids = await prefillPostgres(db.url, key.id, sizes.tasks);
    out.prefillSeconds = (performance.now() - t0) / 1000;
    await checkPostgres(db.url, key.id, sample(ids, 50));
    out.sizes = await tableSizes(db.url);
    out.storedTasks = out.sizes.tasks;
    const perTask = (out.sizes.tasksHeap + out.sizes.tasksIndexes) / out.sizes.tasks;
    log(`    ${out.prefillSeconds.toFixed(1)} s; tasks ${fmtBytes(out.sizes.tasksHeap)} + indexes ${fmtBytes(out.sizes.tasksIndexes)} (${Math.round(perTask)} B/task), ledger ${fmtBytes(out.sizes.ledgerHeap + out.sizes.ledgerIndexes)}`);
    const idsFile = path.join(workDir, 'poll-ids.json');
    fs.writeFileSync(idsFile, JSON.stringify(sample(ids, POLL_IDS_MAX)));

    // Keys the spread-out submit run uses, made before the gateway starts (it caches nothing about them yet).
    const spread: string[] = [];
    if (sizes.spreadKeys > 0) {
      const store = await PostgresStore.open(db.url, { poolSize: 2 });
      try {
        for (let i = 0; i < sizes.spreadKeys; i++) spread.push((await new ApiKeys(store).create({ name: `bench-${i}`, balanceMicros: 1e15 })).key);
      } finally {
        await store.close();
      }
    }

    const cpu = await PgServerCpu.open(db.name);
    out.serverCpu = cpu.why;
    if (cpu.why) log(`  PostgreSQL's CPU is not measured: ${cpu.why}`);
    const watcher = new pg.Client({ connectionString: db.url });
    // A stage that fails before the end leaves it open; dropping the database then ends its connection,
    // and that error, unheard, would crash the run and hide the failure that caused it.
    watcher.on('error', () => undefined);
    await watcher.connect();
    const gw = await startGateway({ dataDir: path.join(workDir, 'data'), role: 'api', env: { REELAY_DATABASE_URL: db.url }, profileAs: 'postgres' });
    const reelay: Target = {
      url: gw.url,
      pid: gw.pid,
      companion: cpu.meter
        ? {
            name: PG,
            meter: cpu.meter,
            note: "CPU time of the PostgreSQL server's processes per answer (the bench database's backends, walwriter, checkpointer, background writer; from /proc)",
          }
        : undefined,
    };
    const urls = { baseline, reelay };
    try {
      log(`  poll over ${out.storedTasks.toLocaleString('en-US')} stored tasks`);
      const poll = await pollScenario(urls, key.key, idsFile, sizes.timing, pgScenario('poll'));
      log('  submit');
      const countTasks = async () => Number((await watcher.query(`SELECT count(*) AS n FROM tasks`)).rows[0].n);
      // WAL is counted server-wide: on a server with other busy databases this over-counts.
      const [wal0, n0] = [await walBytes(watcher), await countTasks()];
      const submit = await submitScenario(urls, key.key, sizes.timing, pgScenario('submit'));
      const [wal1, n1] = [await walBytes(watcher), await countTasks()];
      out.walBytesPerSubmit = (wal1 - wal0) / Math.max(1, n1 - n0);
      out.gatewayRss = rssOf(gw.pid);
      const submitFigures = [
        ...submit.figures,
        figure({
          scenario: pgScenario('submit'),
          name: 'WAL written per submit',
          value: out.walBytesPerSubmit,
          unit: 'B',
          note: `${(n1 - n0).toLocaleString('en-US')} submits wrote ${fmtBytes(wal1 - wal0)} of WAL (pg_current_wal_lsn, server-wide)`,
        }),
      ];
      const pollFigures = [
        ...poll.figures,
        figure({
          scenario: pgScenario('poll'),
          name: 'bytes per stored task (table + indexes)',
          value: perTask,
          unit: 'B',
          note: `tasks ${fmtBytes(out.sizes.tasksHeap)} + indexes ${fmtBytes(out.sizes.tasksIndexes)} over ${out.sizes.tasks.toLocaleString('en-US')} tasks (90% completed with results); ledger ${fmtBytes(out.sizes.ledgerHeap + out.sizes.ledgerIndexes)} over ${out.sizes.ledgerRows.toLocaleString('en-US')} rows`,
        }),
      ];
      const spreadFigures: Figure[] = [];
      const raw: Record<string, unknown> = { poll: poll.raw, submit: submit.raw };
      if (spread.length > 0) {
        log(`  submit spread over ${spread.length} keys`);
        // Every (key, body) pair once, consecutive requests of a connection on different keys: after the first
        // answers the 64 connections drift apart and hold requests of many keys at any moment.
        const perKey = spread.map((k) => submitRequests(k));
        const requests = Array.from({ length: spread.length * perKey[0].length }, (_, j) => perKey[j % spread.length][Math.floor(j / spread.length)]);
        const spreadOut = await httpScenario(pgScenario(`submit, ${spread.length} keys`), urls, requests, 200, { ratio: SUBMIT_TARGET.ratio }, { ...sizes.timing, openSeconds: 0 });
        spreadFigures.push(...spreadOut.figures.filter((f) => f.name === 'throughput' || f.name.includes('CPU per answer') || f.name.startsWith('p99')));
        raw.submitSpread = spreadOut.raw;
      }
      if (sizes.keyedTiming) {
        log('  submit with an Idempotency-Key on every request');
        // Each request a new key: the SDK's submits, which are checked under the key lock (checkedTaskBatches.ts).
        const requests = keyedSubmitRequests(key.key);
        // Tasks with a key and records, read in one snapshot: a submit writes both in one commit, and the
        // submits still in flight when the load stops commit while the counts are read.
        const keyedCounts = async () => {
          const r = (await watcher.query('SELECT (SELECT count(*) FROM tasks WHERE idempotency_key IS NOT NULL) AS t, (SELECT count(*) FROM idempotency) AS r')).rows[0];
          return { tasks: Number(r.t), records: Number(r.r) };
        };
        const before = await keyedCounts();
        const keyed = await httpScenario(pgScenario('submit, Idempotency-Key'), urls, requests, 200, { ratio: SUBMIT_TARGET.ratio }, sizes.keyedTiming);
        const after = await keyedCounts();
        const written = { tasks: after.tasks - before.tasks, records: after.records - before.records };
        checkKeyedRun((keyed.raw.reelay as { ok: number }).ok, written);
        log(`    ${written.tasks.toLocaleString('en-US')} new tasks, each with its Idempotency-Key record`);
        spreadFigures.push(...keyed.figures.filter((f) => f.name === 'throughput' || f.name.includes('CPU per answer') || f.name.startsWith('p99')));
        raw.submitKeyed = keyed.raw;
      }
      out.figures.push(...submitFigures, ...spreadFigures, ...pollFigures);
      out.raw = raw;
    } finally {
      await gw.stop();
    }
    try {
      if (sizes.workerSeconds > 0) {
        log('  a worker\'s store work per status check (claim + patch), on the unfinished tasks the submits left');
        const wal0 = await walBytes(watcher);
        const w = await workerChecks(db.url, cpu.meter, sizes.workerSeconds);
        const walPerCheck = ((await walBytes(watcher)) - wal0) / w.count;
        out.figures.push(
          figure({
            scenario: pgScenario('worker status check'),
            name: `${PG} CPU per check`,
            value: w.pgUs,
            unit: 'µs',
            note: `store calls only (no upstream): claimTasks in batches of ${WORKER_BATCH} by ${WORKER_LOOPS} loops on one pool of 10, then patchTask of each as the runner makes it after a "running" answer; ${Math.round(w.rate).toLocaleString('en-US')} checks/s, ${Math.round(w.clientUs)} µs of the calling process's CPU per check`,
          }),
          figure({ scenario: pgScenario('worker status check'), name: 'WAL written per check', value: walPerCheck, unit: 'B', note: `${w.count.toLocaleString('en-US')} checks (pg_current_wal_lsn, server-wide)` }),
        );
        (out.raw ??= {}).worker = w;
        log('  a worker\'s store work per finished task (settle, release, finish), on the unfinished tasks left');
        const f = await workerFinishes(db.url, cpu.meter, sizes.workerSeconds);
        out.figures.push(
          figure({
            scenario: pgScenario('worker finish'),
            name: `${PG} CPU per finish`,
            value: f.pgUs,
            unit: 'µs',
            note: `store calls only: finishTask of ${FINISHING} tasks at a time, each completed below its hold (a settle and a release); ${Math.round(f.rate).toLocaleString('en-US')} finishes/s, ${Math.round(f.clientUs)} µs of the calling process's CPU per finish`,
          }),
        );
        out.raw.finish = f;
      }
    } finally {
      await cpu.meter?.close();
      await watcher.end();
    }
  } finally {
    await db.drop();
  }
  // Reported with their targets like the SQLite figures; the smoke run gates on the SQLite ones only.
  for (const f of out.figures) f.gate = false;
  return out;
}

const WORKER_BATCH = 32;
const WORKER_LOOPS = 8;

/** What a store-only run measured: its units of work, their rate, and the CPU each took on both sides. */
interface StoreWork {
  count: number;
  rate: number;
  /** PostgreSQL's CPU per unit (NaN when it cannot be read). */
  pgUs: number;
  /** The calling process's CPU per unit. */
  clientUs: number;
}

/**
 * Runs `loops` copies of `loop` on a store of its own for `seconds`, each loop returning how many units of work
 * it did (it stops at the deadline it is given, or when it runs out of work), and measures them.
 */
async function storeWork(
  url: string,
  meter: PgServerCpu | null,
  seconds: number,
  loops: number,
  loop: (store: PostgresStore, n: number, until: number) => Promise<number>,
  what: string,
): Promise<StoreWork> {
  const store = await PostgresStore.open(url);
  try {
    const before = meter ? await meter.snapshot() : undefined;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const counts = await Promise.all(Array.from({ length: loops }, (_, n) => loop(store, n, t0 + seconds * 1000)));
    const elapsed = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(cpu0);
    const pgMs = meter ? await meter.msSince(before) : NaN;
    const count = counts.reduce((a, b) => a + b, 0);
    if (count === 0) throw new Error(`${what}: nothing to do`);
    return { count, rate: count / elapsed, pgUs: (pgMs * 1000) / count, clientUs: (c.user + c.system) / count };
  } finally {
    await store.close();
  }
}

/**
 * What a worker asks of PostgreSQL per status check, without the upstream: the engine's claim (claimTasks,
 * a batch of due tasks under a lease) and, per task, the patch the runner writes after a "running" answer
 * (progress, release, next check). Several loops share one pool of 10 connections, as a worker's steps do.
 * Each task is checked once (its next check is set an hour ahead).
 */
function workerChecks(url: string, meter: PgServerCpu | null, seconds: number): Promise<StoreWork> {
  return storeWork(url, meter, seconds, WORKER_LOOPS, async (store, n, until) => {
    const owner = `bench-worker-${n}`;
    let checks = 0;
    while (performance.now() < until) {
      const now = Date.now();
      const batch = await store.claimTasks(owner, now, 60_000, WORKER_BATCH);
      if (batch.length === 0) break;
      await Promise.all(
        batch.map((t) => store.patchTask(t.id, owner, { status: 'processing', progress: 10, attempts: 0, release: true, nextCheckAt: now + 3_600_000 }, Date.now())),
      );
      checks += batch.length;
    }
    return checks;
  }, 'worker checks (no due tasks to claim)');
}

/** Tasks finished at once, as a worker's runners finish tasks side by side. */
const FINISHING = 64;

/**
 * What finishing tasks asks of PostgreSQL: finishTask of the unfinished tasks the submits left, completed at
 * a cost below the hold (a settle and a release each), FINISHING at a time.
 */
async function workerFinishes(url: string, meter: PgServerCpu | null, seconds: number): Promise<StoreWork> {
  const lister = new pg.Client({ connectionString: url });
  await lister.connect();
  const ids = (await lister.query("SELECT id FROM tasks WHERE phase <> 'done' LIMIT 500000").finally(() => lister.end())).rows.map((r) => String(r.id));
  const outcome: TaskOutcome = {
    status: 'completed',
    result: { videos: [{ key: 'results/bench/0.mp4', bytes: 1, contentType: 'video/mp4' }], expiresAt: Math.floor(Date.now() / 1000) + 3600 },
    costMicros: 100,
    billedSeconds: 5,
  };
  return storeWork(url, meter, seconds, FINISHING, async (store, _, until) => {
    let finishes = 0;
    while (performance.now() < until && ids.length > 0) {
      if ((await store.finishTask(ids.pop()!, outcome, Date.now()))?.changed) finishes++;
    }
    return finishes;
  }, 'worker finishes (no unfinished tasks to finish)');
}

export function fmtBytes(b: number): string {
  return b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${Math.round(b)} B`;
}
