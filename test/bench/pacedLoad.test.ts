/** The open-loop load generator (bench/lib/pacedLoad.ts): even pacing, and latency counted from when a request was due. */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bySecond, p99PerSecond, pacedLoad } from '../../bench/lib/pacedLoad.ts';

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A server that answers each request `delayMs` after it arrives, and records when requests arrived and their paths. */
async function serve(delayMs: number): Promise<{ url: string; arrivals: number[]; paths: string[] }> {
  const arrivals: number[] = [];
  const paths: string[] = [];
  server = http.createServer((req, res) => {
    arrivals.push(performance.now());
    paths.push(req.url!);
    req.resume();
    req.on('end', () => setTimeout(() => res.end('{"ok":true}'), delayMs));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals, paths };
}

const get = [{ method: 'GET' as const, path: '/x', headers: {} }];

const SERVER_SOURCE = `
const server = require('node:http').createServer((req, res) => { req.resume(); res.end('{"ok":true}'); });
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port)));
`;

describe('paced open-loop load', () => {
  it('offers the rate evenly, not in bursts, and answers within the window count', async () => {
    const { url, arrivals } = await serve(0);
    const r = await pacedLoad({ url, connections: 8, rate: 400, seconds: 1, requests: get, ids: null, expectStatus: 200 });
    expect(r.sent.length).toBeGreaterThanOrEqual(395);
    expect(r.sent.length).toBeLessThanOrEqual(401);
    expect(r.errors).toBe(0);
    // Evenly paced: every 100 ms of the window got close to 40 requests (a per-second budget sends them all at once).
    const first = arrivals[0];
    const perTenth = Array.from({ length: 10 }, (_, i) => arrivals.filter((t) => t - first >= i * 100 && t - first < (i + 1) * 100).length);
    for (const n of perTenth) expect(n).toBeGreaterThan(25);
  });

  it('sends each request close to when it is due, not on the next millisecond tick', async () => {
    // A server in a process of its own, as in the benchmark. At 4,000 a second a 1 ms timer alone sent
    // requests in clumps of four, the median one 0.7 ms late (here; 0.35–0.4 ms now).
    const child = spawn(process.execPath, ['-e', SERVER_SOURCE], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString()))));
      const r = await pacedLoad({ url: `http://127.0.0.1:${port}`, connections: 16, rate: 4000, seconds: 1, requests: get, ids: null, expectStatus: 200 });
      expect(r.errors).toBe(0);
      expect(r.lateness[Math.floor(r.lateness.length / 2)]).toBeLessThan(0.55);
    } finally {
      child.kill();
    }
  });

  it('puts the ids in the path in turn, and reads answers however their length is spelt', async () => {
    const { url, paths } = await serve(0);
    const r = await pacedLoad({ url, connections: 2, rate: 200, seconds: 0.1, requests: [{ method: 'GET', path: '/t/{id}', headers: {} }], ids: ['a', 'b', 'c'], expectStatus: 200 });
    expect(r.errors).toBe(0);
    expect(paths.slice(0, 6)).toEqual(['/t/a', '/t/b', '/t/c', '/t/a', '/t/b', '/t/c']);
    // node:http's res.end spells it Content-Length; the gateway and the baseline, content-length.
    const lower = http.createServer((req, res) => {
      req.resume();
      res.writeHead(201, { 'content-length': '11' });
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => lower.listen(0, '127.0.0.1', resolve));
    try {
      const l = await pacedLoad({ url: `http://127.0.0.1:${(lower.address() as AddressInfo).port}`, connections: 2, rate: 200, seconds: 0.1, requests: get, ids: null, expectStatus: 201 });
      expect(l.errors).toBe(0);
      expect(l.sent.length).toBeGreaterThanOrEqual(19);
    } finally {
      lower.close();
    }
  });

  it('counts the time a request waited for a free connection: a server that cannot keep up shows its queue', async () => {
    // One connection, 20 ms per answer: at most 50 answers a second against 200 offered.
    const { url } = await serve(20);
    const r = await pacedLoad({ url, connections: 1, rate: 200, seconds: 1, requests: get, ids: null, expectStatus: 200 });
    expect(r.sent[r.sent.length - 1]).toBeLessThan(100); // each answer itself is quick
    expect(r.due[Math.floor(r.due.length * 0.99)]).toBeGreaterThan(1000); // but the last ones were due long before
    expect(r.sent.length / r.seconds).toBeLessThan(60);
  });

  it('gives the p99 of each second of the window: a slow episode shows in its own second', async () => {
    // Answers take 1 ms, except for 150 ms from 1.2 s into the window, when they take 40 ms.
    let slowFrom = Infinity;
    server = http.createServer((req, res) => {
      req.resume();
      const t = performance.now() - slowFrom;
      const delay = t >= 0 && t < 150 ? 40 : 1;
      req.on('end', () => setTimeout(() => res.end('{"ok":true}'), delay));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    setTimeout(() => (slowFrom = performance.now()), 1200);
    const r = await pacedLoad({ url, connections: 16, rate: 300, seconds: 3, requests: get, ids: null, expectStatus: 200 });
    expect(r.secondP99).toHaveLength(3);
    expect(r.secondP99[0]).toBeLessThan(20);
    expect(r.secondP99[1]).toBeGreaterThan(35);
    expect(r.secondP99[2]).toBeLessThan(20);
  });

  it('computes each second\'s p99 from the requests due in it, and sums the seconds up against the target', () => {
    // Second 0: 1..100 ms; second 1: 100 latencies of 2 ms; second 2: none (the server answered nothing due then).
    const latencies = Float64Array.from([...Array.from({ length: 100 }, (_, i) => i + 1), ...Array(100).fill(2)]);
    const offsets = Float64Array.from([...Array.from({ length: 100 }, (_, i) => i * 10), ...Array.from({ length: 100 }, (_, i) => 1000 + i * 10)]);
    const p99s = p99PerSecond(latencies, offsets, 3);
    expect(p99s.slice(0, 2)).toEqual([99, 2]);
    expect(p99s[2]).toBeNaN();
    expect(bySecond(p99s, 10)).toBe('p99 of each second: median 2.00 ms, best 2.00 ms, worst 99.0 ms, 1 of 2 seconds ≤ 10 ms');
    // One second, or none, says nothing the p99 over the window does not.
    expect(bySecond([3], 10)).toBe('');
    expect(bySecond(undefined, 10)).toBe('');
  });
});
