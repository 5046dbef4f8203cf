/**
 * Issue 5 §7 — the cost curve, and the stage the request-path scenarios (§2–§4) are measured in.
 *
 * One data dir grows through the stages (10k → 100k → 1M stored tasks in the full run). At each stage the
 * store is filled up to the stage's size with the gateway stopped (prefill.ts), then a reelay process
 * (role api: the request path alone, no worker taking CPU) is started on it and poll, submit and — in the
 * main stage — validation are measured side by side with the baseline. Tasks a submit run added are
 * removed with their ledger rows before the next stage, so every stage measures the number of stored tasks
 * it names, with the same share of unfinished ones.
 */
import fs from 'node:fs';
import path from 'node:path';
import { keyedWritten, removeSubmitted, checkLedger, createKey, openStore, prefillTasks } from './lib/prefill.ts';
import { startGateway } from './lib/gateway.ts';
import { rssOf } from './lib/proc.ts';
import { fsyncProbe } from './lib/fsyncProbe.ts';
import { wakeProbe, type WakeProbe } from './lib/wakeProbe.ts';
import { figure, type Figure } from './lib/report.ts';
import { pollScenario } from './poll.ts';
import { checkKeyedRun, keyedSubmitRequests, submitScenario } from './submit.ts';
import { validationScenario } from './validation.ts';
import { httpScenario, type HttpOutcome, type Timing } from './http.ts';
import type { Target } from './lib/compare.ts';

export interface Stage {
  tasks: number;
  /** The stage whose figures stand for §2–§4 (and where validation runs). */
  main?: boolean;
  timing: Timing;
  /** The main stage: timing of the submits with an Idempotency-Key each, as the SDK sends (absent: not run). */
  keyedTiming?: Timing;
}

export interface CostRow {
  storedTasks: number;
  dbBytes: number;
  prefillSeconds: number;
  pollRatio: number;
  pollP99Open: number;
  /** The bare baseline's p99 at the same offered rate, just before. */
  baselinePollP99Open: number;
  submitRatio: number;
  submitP99Open: number;
  baselineSubmitP99Open: number;
  pollRps: number;
  submitRps: number;
  baselinePollRps: number;
  baselineSubmitRps: number;
  gatewayRss: number;
}

export interface CostCurveOutcome {
  figures: Figure[];
  rows: CostRow[];
  raw: Record<string, unknown>[];
}

const POLL_IDS_MAX = 200_000;

function sample(ids: string[], max: number): string[] {
  if (ids.length <= max) return ids;
  const step = ids.length / max;
  return Array.from({ length: max }, (_, i) => ids[Math.floor(i * step)]);
}

function fileSize(f: string): number {
  try {
    return fs.statSync(f).size;
  } catch {
    return 0;
  }
}

export async function costCurve(workDir: string, baseline: Target, stages: Stage[], log: (s: string) => void): Promise<CostCurveOutcome> {
  const dataDir = path.join(workDir, 'store');
  let store = openStore(dataDir);
  const key = await createKey(store);
  await store.close();
  const ids: string[] = [];
  const figures: Figure[] = [];
  const rows: CostRow[] = [];
  const raw: Record<string, unknown>[] = [];

  for (const stage of stages) {
    store = openStore(dataDir);
    const t0 = performance.now();
    const add = stage.tasks - (store.db.prepare('SELECT count(*) AS n FROM tasks').get() as { n: number }).n;
    if (add > 0) {
      log(`  filling the store to ${stage.tasks.toLocaleString('en-US')} tasks`);
      for (const id of prefillTasks(store, key.id, add)) ids.push(id);
    }
    checkLedger(store, key.id);
    const prefillSeconds = (performance.now() - t0) / 1000;
    const stored = (store.db.prepare('SELECT count(*) AS n FROM tasks').get() as { n: number }).n;
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    await store.close();
    const idsFile = path.join(workDir, `poll-ids-${stage.tasks}.json`);
    fs.writeFileSync(idsFile, JSON.stringify(sample(ids, POLL_IDS_MAX)));

    const since = Date.now();
    const gw = await startGateway({ dataDir, role: 'api', profileAs: `stage-${stage.tasks}` });
    const urls = { baseline, reelay: { url: gw.url, pid: gw.pid } };
    const label = stage.main ? '' : ` @${stage.tasks >= 1e6 ? `${stage.tasks / 1e6}M` : `${stage.tasks / 1e3}k`}`;
    let gatewayRss = 0;
    let keyed: HttpOutcome | null = null;
    try {
      log(`  poll over ${stored.toLocaleString('en-US')} stored tasks`);
      const poll = await pollScenario(urls, key.key, idsFile, stage.timing, `poll${label}`);
      let wake: WakeProbe | null = null;
      if (stage.main) {
        // Information only: a probe that fails is logged, and the run goes on without its row.
        wake = await wakeProbe().catch((e: unknown) => (log(`  the wake-up probe failed: ${e instanceof Error ? e.message : String(e)}`), null));
        if (wake) {
          const us = (x: number) => `${x.toFixed(0)} µs`;
          figures.push(
            figure({
              scenario: 'poll',
              name: 'loopback round trip across the CPUs, CPU per round trip (the machine)',
              value: wake.across.cpu,
              unit: 'µs',
              reference: { name: 'both on the loop’s CPU', value: wake.together.cpu },
              note: `two Node processes sending one byte back and forth ${wake.roundTrips} times, one on the event loop's CPU (its CPU time is the figure), the other on the load generator's, then both on the loop's; round trip p50 ${us(wake.across.p50)} against ${us(wake.together.p50)}. The difference is what a wake-up on the other CPU costs the CPU that sends it: an answer that wakes a waiting load generator pays it, and the open loop at the target rate pays it on most loop turns, the closed loop at saturation seldom (bench/lib/wakeProbe.ts)`,
            }),
          );
        }
      }
      let validation = null;
      if (stage.main) {
        log('  validation');
        validation = await validationScenario(urls, key.key, stage.timing);
      }
      let disk = null;
      if (stage.main) {
        disk = fsyncProbe(dataDir, stage.timing.seconds / 2);
        figures.push(
          figure({
            scenario: 'submit',
            name: 'fdatasync of the data disk, p99',
            value: disk.p99,
            unit: 'ms',
            note: `p50 ${disk.p50.toFixed(2)} ms over ${disk.count} syncs: a durable submit is answered after its commit's sync, so its p99 cannot be lower`,
          }),
        );
      }
      log('  submit');
      const submit = await submitScenario(urls, key.key, stage.timing, `submit${label}`);
      gatewayRss = rssOf(gw.pid);
      if (stage.main && stage.keyedTiming) {
        log('  submit with an Idempotency-Key on every request');
        keyed = await httpScenario('submit, Idempotency-Key', urls, keyedSubmitRequests(key.key), 200, null, stage.keyedTiming);
      }
      const pick = (o: typeof poll, name: string) => o.figures.find((f) => f.name.startsWith(name));
      const openFigure = (o: typeof poll) => o.figures.find((f) => f.name.startsWith('p99 at') && f.name.endsWith('offered'));
      const openP99 = (o: typeof poll) => openFigure(o)?.value ?? NaN;
      const baselineOpenP99 = (o: typeof poll) => openFigure(o)?.reference?.value ?? NaN;
      const pollRaw = poll.raw as { baseline: { rps: number }; reelay: { rps: number } };
      const submitRaw = submit.raw as typeof pollRaw;
      rows.push({
        storedTasks: stored,
        dbBytes: fileSize(path.join(dataDir, 'reelay.db')) + fileSize(path.join(dataDir, 'reelay.db-wal')),
        prefillSeconds,
        pollRatio: pick(poll, 'throughput')?.ratio ?? NaN,
        pollP99Open: openP99(poll),
        baselinePollP99Open: baselineOpenP99(poll),
        submitRatio: pick(submit, 'throughput')?.ratio ?? NaN,
        submitP99Open: openP99(submit),
        baselineSubmitP99Open: baselineOpenP99(submit),
        pollRps: pollRaw.reelay.rps,
        submitRps: submitRaw.reelay.rps,
        baselinePollRps: pollRaw.baseline.rps,
        baselineSubmitRps: submitRaw.baseline.rps,
        gatewayRss,
      });
      raw.push({ storedTasks: stored, poll: poll.raw, submit: submit.raw, validation: validation?.raw, fsync: disk, wake });
      if (stage.main) figures.push(...submit.figures, ...poll.figures, ...(validation?.figures ?? []));
      if (keyed) figures.push(...keyed.figures.filter((f) => f.name === 'throughput' || f.name === 'CPU per answer' || f.name === 'p99 at saturation'));
      else figures.push(...[...poll.figures, ...submit.figures].filter((f) => f.name === 'throughput'));
    } finally {
      await gw.stop();
    }
    // Submit runs added their tasks (pending: no worker in role api): removed, so the next stage measures
    // the size it names, with the same share of unfinished tasks.
    store = openStore(dataDir);
    if (keyed) {
      const written = keyedWritten(store, since);
      raw[raw.length - 1].keyed = { ...keyed.raw, written };
      checkKeyedRun((keyed.raw.reelay as { ok: number }).ok, written);
      log(`    ${written.tasks.toLocaleString('en-US')} new tasks, each with its Idempotency-Key record`);
    }
    // The next stage checks the ledger still adds up, after its prefill.
    removeSubmitted(store, since);
    await store.close();
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (rows.length > 1) {
    figures.push(
      figure({ scenario: 'cost curve', name: `poll throughput at ${fmtCount(last.storedTasks)} vs ${fmtCount(first.storedTasks)} stored`, value: last.pollRatio, unit: '× baseline', reference: { name: `at ${fmtCount(first.storedTasks)}`, value: first.pollRatio, unit: '× baseline' } }),
      figure({ scenario: 'cost curve', name: `submit throughput at ${fmtCount(last.storedTasks)} vs ${fmtCount(first.storedTasks)} stored`, value: last.submitRatio, unit: '× baseline', reference: { name: `at ${fmtCount(first.storedTasks)}`, value: first.submitRatio, unit: '× baseline' } }),
    );
  }
  return { figures, rows, raw };
}

export function fmtCount(n: number): string {
  return n >= 1e6 ? `${+(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : String(n);
}
