/** The open-loop load generator (bench/lib/pacedLoad.ts): even pacing, and latency counted from when a request was due. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pacedLoad } from '../../bench/lib/pacedLoad.ts';

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A server that answers each request `delayMs` after it arrives, and records when requests arrived. */
async function serve(delayMs: number): Promise<{ url: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  server = http.createServer((req, res) => {
    arrivals.push(performance.now());
    req.resume();
    req.on('end', () => setTimeout(() => res.end('{"ok":true}'), delayMs));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals };
}

const get = [{ method: 'GET' as const, path: '/x', headers: {} }];

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

  it('counts the time a request waited for a free connection: a server that cannot keep up shows its queue', async () => {
    // One connection, 20 ms per answer: at most 50 answers a second against 200 offered.
    const { url } = await serve(20);
    const r = await pacedLoad({ url, connections: 1, rate: 200, seconds: 1, requests: get, ids: null, expectStatus: 200 });
    expect(r.sent[r.sent.length - 1]).toBeLessThan(100); // each answer itself is quick
    expect(r.due[Math.floor(r.due.length * 0.99)]).toBeGreaterThan(1000); // but the last ones were due long before
    expect(r.sent.length / r.seconds).toBeLessThan(60);
  });
});
