/**
 * BENCHMARKS.md: what was measured, on what, and every figure with its reference, ratio and target.
 */
import fs from 'node:fs';
import type { RunOutcome } from '../main.ts';
import { fmt, passes, targetText, type Figure } from './report.ts';
import { fmtCount } from '../costCurve.ts';
import { fmtBytes, PG } from '../postgres.ts';
import { commitOf } from './machine.ts';

/** The commit whose reelay ran: another checkout's when BENCH_REELAY_ROOT points at one (gatewayMain.ts). */
function reelayCommit(ownCommit: string): string {
  const root = process.env.BENCH_REELAY_ROOT;
  return root ? `commit ${commitOf(root)} (reelay run from a checkout of it; the bench itself from ${ownCommit})` : `commit ${ownCommit}`;
}

const ORDER = ['submit', 'poll', 'validation', PG, 'in flight', 're-hosting', 'cost curve', 'Portkey'];

/** Where a scenario's rows go in the Figures table: PostgreSQL's after the SQLite request paths. */
function rank(scenario: string): number {
  if (scenario.endsWith(`(${PG})`)) return ORDER.indexOf(PG);
  return ORDER.findIndex((s) => scenario.startsWith(s));
}

/** The stage (`--only` name) that measures a scenario, and so owns its rows. */
export function stageOfScenario(scenario: string): string {
  if (scenario.endsWith(`(${PG})`)) return 'postgres';
  if (/^(submit|poll|validation|cost curve)/.test(scenario)) return 'costcurve';
  if (scenario.startsWith('in flight')) return 'inflight';
  if (scenario.startsWith('re-hosting')) return 'rehost';
  if (scenario.startsWith('Portkey')) return 'portkey';
  return 'unknown';
}

/** The stage that writes a section (by its heading). */
const SECTION_STAGES: [string, string][] = [
  ['## Cost curve', 'costcurve'],
  ['## PostgreSQL', 'postgres'],
  ['## In flight', 'inflight'],
  ['## Beside Portkey', 'portkey'],
];

function row(f: Figure): string {
  const p = passes(f);
  const ref = f.reference ? `${fmt(f.reference.value, f.reference.unit ?? f.unit)} (${f.reference.name})` : '';
  return `| ${f.scenario} | ${f.name} | ${fmt(f.value, f.unit)} | ${ref} | ${fmt(f.ratio)} | ${targetText(f.target)} | ${p === undefined ? '' : p ? 'pass' : '**miss**'} |`;
}

export function renderMarkdown(out: RunOutcome): string {
  const m = out.machine;
  const L: string[] = [];
  const sorted = [...out.figures].sort((a, b) => rank(a.scenario) - rank(b.scenario));
  L.push('# Benchmarks', '');
  L.push(`Written by \`npm run bench\` (see [bench/](bench/)) on ${m.date.slice(0, 16).replace('T', ' ')} UTC; the run took ${Math.floor(Math.round(out.seconds) / 60)} min ${Math.round(out.seconds) % 60} s.`, '');
  L.push('| | |', '| --- | --- |');
  L.push(`| machine | ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os} |`);
  L.push(`| load average at start | ${m.loadAverage.join(', ')} (a shared machine: other work ran beside the benchmark) |`);
  L.push(`| Node | ${m.node} |`);
  L.push(`| reelay | ${m.reelay}, commit ${m.commit} |`);
  L.push(`| load generator | autocannon ${m.autocannon} (closed loop) and an evenly paced open loop of the bench's own (bench/lib/pacedLoad.ts), in their own process, 64 connections |`);
  L.push(`| CPU placement | ${m.placement} |`);
  L.push(`| one system call (getppid through Node) | ${m.syscallNs.start} ns at the start, ${m.syscallNs.end ?? '?'} ns at the end (the hypervisor's price; it moves with the host's load and sets how fast every server here answers) |`);
  L.push(`| store | embedded SQLite (better-sqlite3 ${m.sqlite}), synchronous=FULL (the default) |`);
  if (out.postgres) L.push(postgresHeadRow(out));
  L.push('');
  L.push('## How to read this', '');
  L.push(
    'Every figure is compared with a reference measured in the same run, side by side: the **baseline** is a bare',
    '`node:http` server answering a small JSON, loaded by the same load generator with the same requests and',
    'connections right before reelay (alternating, for the main stage, over two rounds). Ratios are value ÷ reference.',
    'Each server runs in its own process, as does the load generator, and where the machine allows, every server\'s event loop',
    'runs alone on a CPU of its own (the table above; bench/lib/cpuPlacement.ts). Throughput is closed loop (each connection',
    'sends its next request when the answer arrives); at saturation a closed loop\'s latency is connections ÷',
    'throughput, so latency targets are read in a second, open-loop run that offers exactly the target rate',
    '(target ratio × the baseline\'s rate), evenly paced: request i is due at i ÷ rate, and its latency counts from',
    'then, so time spent waiting for a free connection is counted (the coordinated-omission correction). The bare',
    'baseline is run the same way at the same rate right before, and its latency is the reference of those figures:',
    'what this machine and the load generator give a server that does nothing. The notes of those figures also give',
    'the p99 of each second of the window (requests grouped by when they were due), to tell a tail every second has',
    'from a few slow episodes; the target is judged over the whole window. "CPU per answer" is',
    'the server process\'s CPU time (user + system) divided by its answers — a figure that, unlike throughput,',
    'barely depends on what else the machine is doing; baseline ÷ reelay CPU is the throughput ratio an otherwise',
    'idle machine would show.',
    '',
    '`submit, Idempotency-Key` sends the submit\'s bodies with an `Idempotency-Key` of its own on every request, as the',
    'SDK does with every submit: each answer is a new task and an idempotency record (the run is refused unless every',
    'answer wrote both, since a replay is answered 200 too). It has no target of its own: the issue\'s submit target is',
    'read on the plain submit.',
    '',
  );
  L.push('## Figures', '');
  L.push('| scenario | figure | value | reference | ratio | target | result |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const f of sorted) L.push(row(f));
  L.push('');
  const notes = sorted.filter((f) => f.note);
  if (notes.length) {
    L.push('Notes on figures:', '');
    for (const f of notes) L.push(`- ${f.scenario} · ${f.name}: ${f.note}`);
    L.push('');
  }

  if (out.costCurve) {
    L.push('## Cost curve: submit and poll as the store grows', '');
    L.push(
      'One data dir grows through the stages; at each, reelay (role `api`) is started on it and poll then submit are',
      'measured beside the baseline. Stored tasks: 90% completed (with result URLs to sign), 5% failed, 5% pending.',
      'The tasks a stage\'s submit run adds are removed with their ledger rows before the next stage, so each stage holds',
      'the number of tasks it names.',
      '',
    );
    L.push('| stored tasks | DB size | poll req/s (baseline) | poll ratio | poll p99 at target rate (baseline) | submit req/s (baseline) | submit ratio | submit p99 at target rate (baseline) | reelay RSS |');
    L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of out.costCurve.rows) {
      L.push(
        `| ${fmtCount(r.storedTasks)} | ${fmt(r.dbBytes / 2 ** 20, 'MiB')} | ${fmt(r.pollRps)} (${fmt(r.baselinePollRps)}) | ${fmt(r.pollRatio)} | ${fmt(r.pollP99Open, 'ms')} (${fmt(r.baselinePollP99Open, 'ms')}) | ${fmt(r.submitRps)} (${fmt(r.baselineSubmitRps)}) | ${fmt(r.submitRatio)} | ${fmt(r.submitP99Open, 'ms')} (${fmt(r.baselineSubmitP99Open, 'ms')}) | ${fmt(r.gatewayRss / 2 ** 20, 'MiB')} |`,
      );
    }
    L.push('');
  }

  if (out.postgres) L.push(...postgresSection(out));

  if (out.inflight) {
    const i = out.inflight;
    const o = (i.raw.options ?? {}) as Record<string, number>;
    L.push('## In flight: RSS and upstream poll rate against tasks in flight', '');
    L.push(
      `One reelay process (role \`all\`), one \`apimart\` channel to the fake upstream (its own process): poll_min_ms =`,
      `poll_max_ms = ${o.pollMs}, poll_rps ${o.pollRps}. At each level the tasks are in the state the engine leaves after a start,`,
      `with their next checks spread over one interval (see bench/inflight.ts); measured over ${o.windowSeconds} s.`,
      '',
    );
    L.push('| tasks in flight | RSS | status calls/s at the upstream | the schedule\'s rate (in flight ÷ interval) | reelay CPU (of one core) |', '| --- | --- | --- | --- | --- |');
    for (const l of i.levels) {
      L.push(`| ${l.inFlight.toLocaleString('en-US')} | ${fmt(l.rssBytes / 2 ** 20, 'MiB')} | ${fmt(l.pollsPerSecond)} | ${fmt(l.expectedPollsPerSecond)} | ${fmt(l.cpuShare * 100, '%')} |`);
    }
    L.push('');
    L.push(
      `Most status calls in any 5 s: ${i.maxPolls5s.toLocaleString('en-US')} (the budget allows ${(o.pollRps * 5 + Math.ceil(o.pollRps)).toLocaleString('en-US')}).`,
      `Then ${i.lag.finished.toLocaleString('en-US')} jobs finished, ${i.lag.perSecond}/s, with every task still in flight; upstream finished → task completed`,
      `(${i.lag.completed.toLocaleString('en-US')} completed): p50 ${fmt(i.lag.p50 / 1000, 's')}, p99 ${fmt(i.lag.p99 / 1000, 's')}, max ${fmt(i.lag.max / 1000, 's')};`,
      `one poll interval (with the schedule's +20% jitter) is ${fmt(i.lag.boundMs / 1000, 's')}.`,
      '',
    );
  }

  if (out.portkey) {
    L.push('## Beside Portkey', '');
    if (!out.portkey.installed) L.push(`Portkey: ${out.portkey.note}.`, '');
    else {
      L.push(
        `${out.portkey.note}, started with \`node build/start-server.js --port=N --headless\`. The work differs: Portkey`,
        'forwards each `POST /v1/images/generations` (provider `openai`, `x-portkey-custom-host` = a bare fake',
        'upstream on loopback) and relays the answer — one upstream round trip, nothing stored, nothing checked',
        'beyond its routing headers. reelay validates each `POST /v1/videos/generations` against the model, holds',
        'the price and commits the task durably (fsync) before answering, and its engine then submits the task to a',
        'fake APIMart upstream on loopback. "Accepting" is reelay\'s answer rate; "accepting and starting upstream"',
        'times a fixed number of tasks from the first submit to the last upstream start, the end-to-end counterpart',
        'of a forwarded request.',
        '',
      );
    }
  }
  L.push('## Reproducing', '');
  L.push(
    '```sh',
    'npm run bench                          # this file (11–14 minutes; the issue allows 15)',
    'npm run bench:smoke                    # seconds; fails only when a SQLite ratio is below its floor (half its',
    '                                       # target, or of the last full run while short of it: bench/lib/report.ts)',
    'node bench/run.js --only=postgres      # some stages (costcurve, postgres, inflight, rehost, portkey): their rows',
    '                                       # and sections of this file are replaced, the rest kept (--out=none: no file)',
    'BENCH_POSTGRES_URL=postgres://user@host/db node bench/run.js --only=postgres   # another server (CREATE DATABASE needed)',
    'node bench/run.js --profile=poll       # CPU profile of one request path (submit, poll, validation)',
    'node bench/run.js --ab=../other-checkout   # two versions of reelay side by side',
    'node bench/run.js --open=poll --rates=10000,20000   # the open loop alone, with the event loop\'s CPU and sleeps',
    '                                       # (--baseline: the bare server at each rate too, just before)',
    '```',
    '',
  );
  return L.join('\n');
}

export function writeMarkdown(file: string, out: RunOutcome): void {
  fs.writeFileSync(file, renderMarkdown(out));
}

function postgresHeadRow(out: RunOutcome): string {
  const p = out.postgres!;
  if (!p.server) return `| PostgreSQL | not measured: ${p.skipped ?? 'skipped'} |`;
  const s = p.server.settings;
  return `| PostgreSQL | ${p.server.version}, on the same machine (${p.server.url}); synchronous_commit=${s.synchronous_commit}, fsync=${s.fsync}, shared_buffers ${s.shared_buffers}, max_wal_size ${s.max_wal_size}: the server's own settings |`;
}

function postgresSection(out: RunOutcome): string[] {
  const p = out.postgres!;
  const L: string[] = ['## PostgreSQL: submit and poll on the PostgreSQL store', ''];
  if (!p.server || !p.sizes) {
    L.push(`Not measured: ${p.skipped ?? 'skipped'}. Set BENCH_POSTGRES_URL to a server where the benchmark may create a database.`, '');
    return L;
  }
  const cores = out.machine.cores;
  L.push(
    'reelay (role `api`, one process, the store\'s default pool of 10 connections) on `REELAY_DATABASE_URL` = a database',
    `the run creates under a unique name and drops afterwards, on PostgreSQL ${p.server.version} on the same machine, with the`,
    "server's settings (durable commits: a submit is answered after its commit's WAL flush, as the SQLite figures are",
    `measured with synchronous=FULL). The database is first filled with ${fmtCount(p.storedTasks ?? 0)} tasks of the cost curve's mix — the same`,
    'task and ledger rows, written with json_populate_recordset against the real schema (bench/lib/pgPrefill.ts) — then',
    'poll and submit run exactly as the SQLite ones: the same bodies, 64 connections, load generator, and baseline side by',
    `side. The server shares the machine's ${cores} cores with reelay, the load generator and the baseline, so these`,
    `throughputs are the whole stack's on ${cores} cores. "${PG} CPU per answer" is the CPU time of the server's processes`,
    'working for the bench database (its backends, walwriter, checkpointer, background writer: /proc/<pid>/stat, pids',
    'from pg_stat_activity) per answer; with reelay\'s it is what one answer costs in all. Compare with the SQLite rows',
    'by ratio and CPU per answer, which depend less on the machine and its load than req/s do (after a partial run the',
    'SQLite rows may come from another run: see the header).',
    '',
  );
  if (p.serverCpu) L.push(`The server's CPU time was not measured: ${p.serverCpu}; only reelay's is given.`, '');
  const z = p.sizes;
  const stored = (z.tasksHeap + z.tasksIndexes) / z.tasks;
  L.push('| | |', '| --- | --- |');
  L.push(`| stored tasks | ${z.tasks.toLocaleString('en-US')} (filled in ${fmt(p.prefillSeconds, 's')}) |`);
  L.push(`| tasks table + its indexes | ${fmtBytes(z.tasksHeap)} + ${fmtBytes(z.tasksIndexes)}: ${fmt(stored, 'B')} per task |`);
  L.push(`| ledger + its indexes | ${fmtBytes(z.ledgerHeap)} + ${fmtBytes(z.ledgerIndexes)} over ${z.ledgerRows.toLocaleString('en-US')} rows: ${fmt((z.ledgerHeap + z.ledgerIndexes) / z.tasks, 'B')} per task |`);
  L.push(`| database | ${fmtBytes(z.database)} |`);
  if (p.walBytesPerSubmit !== undefined) L.push(`| WAL per submit | ${fmt(p.walBytesPerSubmit, 'B')} (server-wide, during the submit runs, full-page images after a checkpoint included) |`);
  if (p.gatewayRss) L.push(`| reelay RSS after the runs | ${fmt(p.gatewayRss / 2 ** 20, 'MiB')} |`);
  L.push('');
  const cpu = (scenario: string) => {
    const f = (name: string) => out.figures.find((x) => x.scenario === scenario && x.name === name);
    return { rps: f('throughput'), reelay: f('CPU per answer'), pg: f(`${PG} CPU per answer`) };
  };
  const scenarios = [...new Set(out.figures.filter((f) => f.scenario.endsWith(`(${PG})`) && f.name === 'throughput').map((f) => f.scenario))];
  if (scenarios.length) {
    L.push('| scenario | req/s (ratio) | reelay CPU per answer | PostgreSQL CPU per answer | together | answers per core-second |', '| --- | --- | --- | --- | --- | --- |');
    for (const s of scenarios) {
      const c = cpu(s);
      const total = (c.reelay?.value ?? NaN) + (c.pg?.value ?? NaN);
      L.push(`| ${s} | ${fmt(c.rps?.value)} (${fmt(c.rps?.ratio)}) | ${fmt(c.reelay?.value, 'µs')} | ${fmt(c.pg?.value, 'µs')} | ${fmt(total, 'µs')} | ${fmt(1e6 / total)} |`);
    }
    L.push('');
  }
  const worker = out.figures.find((f) => f.scenario === `worker status check (${PG})` && f.name.includes('CPU'));
  const workerWal = out.figures.find((f) => f.scenario === `worker status check (${PG})` && f.name.startsWith('WAL'));
  if (worker) {
    L.push(
      `\`worker status check\` is the store's share of a worker's status check, measured without HTTP or an upstream: the`,
      "engine's claim (a batch of due tasks under a lease) and the patch the runner writes after a \"running\" answer,",
      `run on the unfinished tasks the submits left: ${fmt(worker.value, 'µs')} of PostgreSQL CPU per check (${worker.note?.split('; ').slice(1).join('; ')})${workerWal ? ` and ${fmt(workerWal.value, 'B')} of WAL` : ''}.`,
      '',
    );
  }
  const finish = out.figures.find((f) => f.scenario === `worker finish (${PG})`);
  if (finish) {
    L.push(
      '`worker finish` is the store\'s share of finishing a task (every submitted task is finished once): finishTask of',
      `the tasks still unfinished after that, each completed below its hold: ${fmt(finish.value, 'µs')} of PostgreSQL CPU per finish (${finish.note?.split('; ').slice(1).join('; ')}).`,
      '',
    );
  }
  L.push(
    "One key's submits run one after another: each takes the key's row lock (the guarded balance update) and holds it",
    "until its commit is flushed, so a single key's submit rate is bounded by one commit's round trip and WAL flush;",
    "`submit, N keys` spreads the same load over N keys, whose commits can overlap. Where the two rates are close, the",
    "machine's CPU, not the key's lock, was the limit. Bytes per task are the prefill's mix (90% completed with result",
    'URLs, 5% failed, 5% pending), after VACUUM; the ledger adds two rows per finished task.',
    '',
  );
  return L;
}

// --------------------------------------------------------------------------------------------------
// Merging the figures of a partial run (--only) into an existing BENCHMARKS.md

interface Parsed {
  head: string[];
  sections: { heading: string; lines: string[] }[];
}

function parse(doc: string): Parsed {
  const lines = doc.split('\n');
  const out: Parsed = { head: [], sections: [] };
  let inFence = false;
  for (const line of lines) {
    if (line.startsWith('```')) inFence = !inFence;
    if (!inFence && line.startsWith('## ')) out.sections.push({ heading: line, lines: [line] });
    else if (out.sections.length) out.sections[out.sections.length - 1].lines.push(line);
    else out.head.push(line);
  }
  return out;
}

const rowScenario = (row: string) => row.split('|')[1]?.trim() ?? '';
const noteScenario = (line: string) => line.slice(2).split(' · ')[0];

/** The Figures section's table rows and notes. */
function figureParts(section: { lines: string[] } | undefined): { rows: string[]; notes: string[] } {
  const rows: string[] = [];
  const notes: string[] = [];
  for (const l of section?.lines ?? []) {
    if (l.startsWith('| ') && !l.startsWith('| scenario |') && !l.startsWith('| ---')) rows.push(l);
    else if (l.startsWith('- ')) notes.push(l);
  }
  return { rows, notes };
}

/**
 * Writes the figures and sections of the stages `stages` (a partial run) into `file`, keeping everything the
 * other stages wrote there; a line under the header says when, where and how these stages were measured.
 * Without an existing file, writes the partial run as it is.
 */
export function mergeMarkdown(file: string, out: RunOutcome, stages: string[]): void {
  if (!fs.existsSync(file)) return writeMarkdown(file, out);
  const old = parse(fs.readFileSync(file, 'utf8'));
  const fresh = parse(renderMarkdown(out));
  const mine = (scenario: string) => stages.includes(stageOfScenario(scenario));
  const sectionStage = (heading: string) => SECTION_STAGES.find(([prefix]) => heading.startsWith(prefix))?.[1];

  // Header: the run table keeps its rows; the PostgreSQL row is the fresh one when this run measured it.
  const m = out.machine;
  const head = old.head.filter((l) => !(stages.includes('postgres') && l.startsWith('| PostgreSQL |')));
  const freshPg = fresh.head.find((l) => l.startsWith('| PostgreSQL |'));
  if (freshPg && stages.includes('postgres')) {
    const at = head.findIndex((l) => l.startsWith('| store |'));
    head.splice(at >= 0 ? at + 1 : head.length, 0, freshPg);
  }
  const stamp = `- \`${stages.join(',')}\`: ${m.date.slice(0, 16).replace('T', ' ')} UTC, \`node bench/run.js --only=${stages.join(',')}\`, ${Math.round(out.seconds)} s; ${m.cpu}, ${m.cores} cores, load average ${m.loadAverage.join(', ')}; one system call ${m.syscallNs.start}–${m.syscallNs.end ?? '?'} ns; CPU placement: ${m.placement}; reelay ${m.reelay}, ${reelayCommit(m.commit)}`;
  const intro = 'Stages measured again since, on their own (their rows and sections below are from these runs):';
  const stampAt = head.indexOf(intro);
  if (stampAt < 0) {
    // After the run table (the first blank line after it).
    const table = head.findIndex((l) => l.startsWith('| machine |'));
    let end = table;
    while (end < head.length && head[end].startsWith('|')) end++;
    head.splice(end, 0, '', intro, '', stamp);
  } else {
    let i = stampAt + 2;
    while (i < head.length && head[i].startsWith('- ')) {
      if (head[i].startsWith(`- \`${stages.join(',')}\`:`)) head.splice(i, 1);
      else i++;
    }
    head.splice(i, 0, stamp);
  }

  // Figures: the other stages' rows and notes as they were, this run's in their place.
  const oldFig = figureParts(old.sections.find((s) => s.heading === '## Figures'));
  const newFig = figureParts(fresh.sections.find((s) => s.heading === '## Figures'));
  const rows = [...oldFig.rows.filter((r) => !mine(rowScenario(r))), ...newFig.rows].map((r, i) => ({ r, i })).sort((a, b) => rank(rowScenario(a.r)) - rank(rowScenario(b.r)) || a.i - b.i).map((x) => x.r);
  const notes = [...oldFig.notes.filter((n) => !mine(noteScenario(n))), ...newFig.notes].map((r, i) => ({ r, i })).sort((a, b) => rank(noteScenario(a.r)) - rank(noteScenario(b.r)) || a.i - b.i).map((x) => x.r);
  const figures = ['## Figures', '', '| scenario | figure | value | reference | ratio | target | result |', '| --- | --- | --- | --- | --- | --- | --- |', ...rows, ''];
  if (notes.length) figures.push('Notes on figures:', '', ...notes, '');

  // Sections: this run's replace the ones of the same stages; new ones go where a full run would put them.
  const sections = old.sections.filter((s) => {
    const st = sectionStage(s.heading);
    return !(st && stages.includes(st)) && s.heading !== '## Reproducing';
  });
  for (const s of fresh.sections) {
    const st = sectionStage(s.heading);
    if (!st || !stages.includes(st)) continue;
    const after = SECTION_STAGES.map(([prefix]) => prefix);
    const pos = after.findIndex((prefix) => s.heading.startsWith(prefix));
    // Before the first existing section that a full run writes after this one.
    const next = sections.findIndex((o) => {
      const j = after.findIndex((prefix) => o.heading.startsWith(prefix));
      return j > pos;
    });
    sections.splice(next >= 0 ? next : sections.length, 0, s);
  }
  const repro = fresh.sections.find((s) => s.heading === '## Reproducing');
  if (repro) sections.push(repro);
  const doc = [...head, ...sections.flatMap((s) => (s.heading === '## Figures' ? figures : s.lines))];
  fs.writeFileSync(file, doc.join('\n'));
}
