/**
 * The open-loop explorer (`node bench/run.js --open=...`, bench/openLoop.ts): a gateway loaded at a set rate,
 * with the event loop's CPU and sleeps read from /proc beside each p99.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { statCpuMs, threadCounters } from '../../bench/lib/threadCounters.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('statCpuMs', () => {
  it('adds utime and stime (ticks of 10 ms), counting fields after the last parenthesis of the command name', () => {
    // A command name may hold spaces and parentheses; utime is 123 ticks and stime 45.
    const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 123 45 0 0 20 0 7 0 100 0 0';
    expect(statCpuMs(stat)).toBe(1680);
  });
});

describe('threadCounters', () => {
  it('reads a thread’s CPU time and voluntary context switches, which only grow', async () => {
    const a = threadCounters(process.pid);
    const end = performance.now() + 30;
    while (performance.now() < end); // on-CPU time
    await new Promise((r) => setTimeout(r, 20)); // a sleep
    const b = threadCounters(process.pid);
    expect(Number.isFinite(a.cpuMs) && Number.isFinite(a.sleeps)).toBe(true);
    expect(b.cpuMs).toBeGreaterThanOrEqual(a.cpuMs);
    expect(b.sleeps).toBeGreaterThan(a.sleeps);
  });
});

function openRun(args: string[]): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_ENV'));
  return new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['bench/run.js', '--open=poll', '--tasks=500', '--seconds=1', '--rounds=1', '--rates=400', ...args], { cwd: ROOT, env, timeout: 90_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stdout}${stderr}`)) : resolve(stdout),
    ),
  );
}

/** The answered count of a window's line, or null when the line is missing. */
function answered(out: string, who: '' | ', baseline'): number | null {
  const line = new RegExp(`round 1, 400 req/s offered${who}: (\\d+) answered, p50 [\\d.]+ ms, p99 [\\d.]+ ms; event loop \\d+ % busy, [\\d.]+ µs of its CPU per answer, \\d+ sleeps/s`).exec(out);
  return line ? Number(line[1]) : null;
}

describe('node bench/run.js --open=poll', () => {
  it('offers the rate asked for and reports the answered rate, the p99 and the loop’s CPU', async () => {
    const out = await openRun([]);
    expect(out).toMatch(/^poll over 500 tasks: closed loop \d+ req\/s/m);
    // Every request offered in the 1 s window was answered at the rate offered.
    expect(answered(out, ''), out).toBeGreaterThanOrEqual(380);
    expect(answered(out, ''), out).toBeLessThanOrEqual(420);
    expect(answered(out, ', baseline'), out).toBeNull();
  }, 120_000);

  it('with --baseline, loads the bare server at the same rate just before reelay, with the same figures', async () => {
    const out = await openRun(['--baseline']);
    const lines = out.split('\n').filter((l) => l.includes('round 1, 400 req/s offered'));
    expect(lines, out).toHaveLength(2);
    expect(lines[0]).toContain('offered, baseline:');
    expect(answered(out, ', baseline'), out).toBeGreaterThanOrEqual(380);
    expect(answered(out, ', baseline'), out).toBeLessThanOrEqual(420);
    expect(answered(out, ''), out).toBeGreaterThanOrEqual(380);
  }, 120_000);

  it('refuses a scenario it does not know', async () => {
    const err = await new Promise<string>((resolve) =>
      execFile(process.execPath, ['bench/run.js', '--open=nothing', '--tasks=10'], { cwd: ROOT, timeout: 60_000 }, (e, stdout, stderr) => resolve(`${e ? 'failed' : 'ok'} ${stderr}`)),
    );
    expect(err).toMatch(/^failed/);
    expect(err).toContain('--open=nothing: choose poll, submit or validation');
  }, 90_000);
});
