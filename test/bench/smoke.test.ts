/**
 * The benchmark's smoke run (`npm run bench:smoke`): every scenario at reduced size, in its own processes,
 * and the gate CI keeps — no ratio below half its target (bench/lib/report.ts). Run with the environment
 * an operator would have (no VITEST, so reelay logs as it does in production).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { postgresReachable } from '../helpers/postgres.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
// The PostgreSQL stage runs beside the SQLite scenarios whenever a server is there (always in CI, where an
// unreachable one fails the run); its figures are reported but not gated.
const withPostgres = await postgresReachable();
// The smoke run takes about a minute here, but 128 s on 2026-12-07 when the host charged ~900 ns for a system
// call; its durations are mostly fixed, its process starts and copies are not. A slow host is not a failure.
const SMOKE_TIMEOUT_MS = 400_000;

describe('npm run bench:smoke', () => {
  it('runs every scenario and no ratio falls below half its target', async () => {
    const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-smoke-')), 'smoke.json');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_ENV'));
    const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = execFile(process.execPath, ['bench/run.js', '--smoke', `--json=${json}`], { cwd: ROOT, env, maxBuffer: 1 << 24, timeout: SMOKE_TIMEOUT_MS }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
      void child;
    });
    const out = JSON.parse(fs.readFileSync(json, 'utf8')) as {
      failures: string[];
      figures: { scenario: string; name: string; ratio?: number }[];
      machine: { syscallNs: { start: number; end: number } };
    };
    fs.rmSync(path.dirname(json), { recursive: true, force: true });
    // Every scenario produced its figures (Portkey only when it is installed).
    const scenarios = new Set(out.figures.map((f) => f.scenario));
    for (const s of ['submit', 'submit, Idempotency-Key', 'poll', 'validation', 'in flight', 're-hosting', 'cost curve']) expect(scenarios, run.output).toContain(s);
    if (withPostgres) for (const s of ['submit (PostgreSQL)', 'submit, Idempotency-Key (PostgreSQL)', 'poll (PostgreSQL)']) expect(scenarios, run.output).toContain(s);
    for (const f of out.figures.filter((x) => x.name === 'throughput')) expect(Number.isFinite(f.ratio), `${f.scenario} ${f.name}`).toBe(true);
    // The machine's price of a system call, read at both ends of the run for the header of BENCHMARKS.md.
    for (const ns of [out.machine.syscallNs.start, out.machine.syscallNs.end]) expect(ns > 0 && ns < 100_000, run.output).toBe(true);
    expect(out.failures, run.output).toEqual([]);
    expect(run.code, run.output).toBe(0);
  }, SMOKE_TIMEOUT_MS + 10_000);
});
