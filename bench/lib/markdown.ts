/**
 * BENCHMARKS.md: what was measured, on what, and every figure with its reference, ratio and target.
 */
import fs from 'node:fs';
import type { RunOutcome } from '../main.ts';
import { fmt, passes, targetText, type Figure } from './report.ts';
import { fmtCount } from '../costCurve.ts';

const ORDER = ['submit', 'poll', 'validation', 'in flight', 're-hosting', 'cost curve', 'Portkey'];

function row(f: Figure): string {
  const p = passes(f);
  const ref = f.reference ? `${fmt(f.reference.value, f.reference.unit ?? f.unit)} (${f.reference.name})` : '';
  return `| ${f.scenario} | ${f.name} | ${fmt(f.value, f.unit)} | ${ref} | ${fmt(f.ratio)} | ${targetText(f.target)} | ${p === undefined ? '' : p ? 'pass' : '**miss**'} |`;
}

export function writeMarkdown(file: string, out: RunOutcome): void {
  const m = out.machine;
  const L: string[] = [];
  const sorted = [...out.figures].sort((a, b) => {
    const ia = ORDER.findIndex((s) => a.scenario.startsWith(s));
    const ib = ORDER.findIndex((s) => b.scenario.startsWith(s));
    return ia - ib;
  });
  L.push('# Benchmarks', '');
  L.push(`Written by \`npm run bench\` (see [bench/](bench/)) on ${m.date.slice(0, 16).replace('T', ' ')} UTC; the run took ${Math.round(out.seconds / 60)} min.`, '');
  L.push('| | |', '| --- | --- |');
  L.push(`| machine | ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os} |`);
  L.push(`| load average at start | ${m.loadAverage.join(', ')} (a shared machine: other work ran beside the benchmark) |`);
  L.push(`| Node | ${m.node} |`);
  L.push(`| reelay | ${m.reelay}, commit ${m.commit} |`);
  L.push(`| load generator | autocannon ${m.autocannon}, its own process, 64 connections |`);
  L.push(`| store | embedded SQLite (better-sqlite3 ${m.sqlite}), synchronous=FULL (the default) |`);
  L.push('');
  L.push('## How to read this', '');
  L.push(
    'Every figure is compared with a reference measured in the same run, side by side: the **baseline** is a bare',
    '`node:http` server answering a small JSON, loaded by the same load generator with the same requests and',
    'connections right before reelay (alternating, for the main stage, over two rounds). Ratios are value ÷ reference.',
    'Each server runs in its own process, as does the load generator. Throughput is closed loop (each connection',
    'sends its next request when the answer arrives); at saturation a closed loop\'s latency is connections ÷',
    'throughput, so latency targets are read in a second, open-loop run that offers exactly the target rate',
    '(target ratio × the baseline\'s rate), with autocannon\'s coordinated-omission correction. "CPU per answer" is',
    'the server process\'s CPU time (user + system) divided by its answers — a figure that, unlike throughput,',
    'barely depends on what else the machine is doing; baseline ÷ reelay CPU is the throughput ratio an otherwise',
    'idle machine would show.',
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
      '',
    );
    L.push('| stored tasks | DB size | poll req/s (baseline) | poll ratio | poll p99 at target rate | submit req/s (baseline) | submit ratio | submit p99 at target rate | reelay RSS |');
    L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of out.costCurve.rows) {
      L.push(
        `| ${fmtCount(r.storedTasks)} | ${fmt(r.dbBytes / 2 ** 20, 'MiB')} | ${fmt(r.pollRps)} (${fmt(r.baselinePollRps)}) | ${fmt(r.pollRatio)} | ${fmt(r.pollP99Open, 'ms')} | ${fmt(r.submitRps)} (${fmt(r.baselineSubmitRps)}) | ${fmt(r.submitRatio)} | ${fmt(r.submitP99Open, 'ms')} | ${fmt(r.gatewayRss / 2 ** 20, 'MiB')} |`,
      );
    }
    L.push('');
  }

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
    'npm run bench                          # this file (about 15 minutes)',
    'npm run bench:smoke                    # seconds; fails only when a ratio is below half its target',
    'node bench/run.js --only=rehost        # one scenario: costcurve, inflight, rehost, portkey',
    'node bench/run.js --profile=poll       # CPU profile of one request path (submit, poll, validation)',
    'node bench/run.js --ab=../other-checkout   # two versions of reelay side by side',
    '```',
    '',
  );
  fs.writeFileSync(file, L.join('\n'));
}
