/**
 * Stored results (contract §7): served by the gateway at signed URLs that stop at expires_at, refuse any
 * tampering, and support HEAD and Range requests so players can seek.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { expectError, sleep, submit } from './helpers.ts';

const CHEAP = { model: 'veo3.1-fast-official', prompt: 'a small test clip', duration: 4 };

let t: TestGateway;
let key: string;
let url: string;
let expiresAt: number;
let whole: Buffer;

const get = async (u: string, headers: Record<string, string> = {}, method = 'GET') => {
  const res = await fetch(u, { method, headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
};
const errorOf = (r: { status: number; bytes: Buffer; headers: Headers }) => ({ status: r.status, body: JSON.parse(r.bytes.toString('utf8')), headers: r.headers });

/**
 * A gateway keeping results for 2 s: its task's URL works, then is fetched again once expires_at has
 * passed. Started first and awaited by its test, so the wait overlaps the other tests.
 */
async function expireOnShortRetention() {
  const short = await startTestGateway({ REELAY_SIM_LATENCY_MS: '50', REELAY_RETENTION_RESULT_TTL_SECONDS: '2' });
  try {
    const k = (await short.newKey(100)).key;
    const done = await short.waitFor(k, await submit(short, k, CHEAP), 60_000);
    const v = done.result.videos[0];
    expect(v.expires_at - done.completed).toBeLessThanOrEqual(2);
    expect(v.expires_at - done.completed).toBeGreaterThanOrEqual(1);
    expect((await get(v.url[0])).status).toBe(200);
    while (Date.now() / 1000 < v.expires_at) await sleep(100);
    return await get(v.url[0]);
  } finally {
    await short.close();
  }
}
let shortRetention: ReturnType<typeof expireOnShortRetention>;

beforeAll(async () => {
  shortRetention = expireOnShortRetention();
  shortRetention.catch(() => undefined); // reported by its test
  t = await startTestGateway({ REELAY_SIM_LATENCY_MS: '50' });
  key = (await t.newKey(100)).key;
  const done = await t.waitFor(key, await submit(t, key, CHEAP), 60_000);
  expect(done.status).toBe('completed');
  url = done.result.videos[0].url[0];
  expiresAt = done.result.videos[0].expires_at;
  const r = await get(url);
  expect(r.status).toBe(200);
  whole = r.bytes;
}, 60_000);
afterAll(async () => t?.close());

describe('signed result URLs', () => {
  it('are the gateway’s own, signed, and expire when the task says', () => {
    const u = new URL(url);
    expect(u.origin).toBe(t.url);
    expect(u.pathname).toMatch(/^\/files\/results\/task_[0-9A-Z]{26}\/0\.mp4$/);
    expect(u.searchParams.get('expires')).toBe(String(expiresAt));
    expect(u.searchParams.get('sig')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(whole.subarray(4, 8).toString('latin1')).toBe('ftyp'); // an MP4
  });

  it('a URL signed with an expiry in the past answers 403 link_expired', async () => {
    const u = new URL(url);
    const storageKey = decodeURIComponent(u.pathname.slice('/files/'.length));
    const past = t.gw.ctx.signer.sign(storageKey, Math.floor(Date.now() / 1000) - 1);
    expectError(errorOf(await get(past)), 403, 'link_expired', null, 'permission_error');
    // The same object with a current signature still works: it is the expiry that is refused.
    const fresh = t.gw.ctx.signer.sign(storageKey, Math.floor(Date.now() / 1000) + 60);
    expect((await get(fresh)).status).toBe(200);
  });

  it.each([
    ['a changed signature', (u: URL) => u.searchParams.set('sig', flip(u.searchParams.get('sig')!))],
    ['a signature from another key', (u: URL) => u.searchParams.set('sig', 'A'.repeat(43))],
    ['no signature', (u: URL) => u.searchParams.delete('sig')],
    ['an extended expiry', (u: URL) => u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600))],
    ['an expiry in another spelling', (u: URL) => u.searchParams.set('expires', `0${u.searchParams.get('expires')}`)],
    ['no expiry', (u: URL) => u.searchParams.delete('expires')],
    ['another object under the same signature', (u: URL) => void (u.pathname = u.pathname.replace('/0.mp4', '/1.mp4'))],
  ])('%s → 403', async (_name, tamper) => {
    const u = new URL(url);
    tamper(u);
    const r = await get(u.toString());
    expectError(errorOf(r), 403, 'link_expired', null, 'permission_error');
    expect(r.headers.get('x-request-id')).toBeTruthy();
  });

  it('a result URL stops working after expires_at (short retention)', async () => {
    const r = await shortRetention;
    expectError(errorOf(r), 403, 'link_expired', null, 'permission_error');
    expect(JSON.parse(r.bytes.toString()).error.message).toMatch(/expired/);
  }, 60_000);
});

function flip(sig: string): string {
  const last = sig[sig.length - 1];
  return sig.slice(0, -1) + (last === 'A' ? 'B' : 'A');
}

describe('HEAD and Range', () => {
  it('HEAD: 200 with the length and type, and no body', async () => {
    const r = await get(url, {}, 'HEAD');
    expect(r.status).toBe(200);
    expect(r.bytes.length).toBe(0);
    expect(r.headers.get('content-length')).toBe(String(whole.length));
    expect(r.headers.get('content-type')).toBe('video/mp4');
    expect(r.headers.get('accept-ranges')).toBe('bytes');
  });

  it('HEAD of a tampered URL is refused too', async () => {
    const u = new URL(url);
    u.searchParams.set('sig', flip(u.searchParams.get('sig')!));
    expect((await get(u.toString(), {}, 'HEAD')).status).toBe(403);
  });

  it.each([
    ['bytes=0-99', 0, 99],
    ['bytes=100-', 100, -1],
    ['bytes=-50', -50, -1],
    ['bytes=10-20, 15-30', 10, 30], // overlapping ranges are merged into one
  ])('%s → 206 with the right Content-Range and bytes', async (range, from, to) => {
    const size = whole.length;
    const start = from < 0 ? size + from : from;
    const end = to < 0 ? size - 1 : to;
    const r = await get(url, { range });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
    expect(r.headers.get('content-length')).toBe(String(end - start + 1));
    expect(r.headers.get('content-type')).toBe('video/mp4');
    expect(r.bytes.equals(whole.subarray(start, end + 1))).toBe(true);
  });

  it('a range past the end → 416 with bytes */size', async () => {
    const r = await get(url, { range: `bytes=${whole.length}-` });
    expect(r.status).toBe(416);
    expect(r.headers.get('content-range')).toBe(`bytes */${whole.length}`);
  });

  it('a malformed Range is ignored: the whole file', async () => {
    const r = await get(url, { range: 'pages=1-2' });
    expect(r.status).toBe(200);
    expect(r.bytes.equals(whole)).toBe(true);
  });

  it('If-None-Match with the ETag → 304', async () => {
    const etag = (await get(url, {}, 'HEAD')).headers.get('etag');
    expect(etag).toBeTruthy();
    const r = await get(url, { 'if-none-match': etag! });
    expect(r.status).toBe(304);
  });

  it('an object that was removed answers 404 at a valid signature', async () => {
    const storageKey = 'results/task_01J9HA7JPQ9A0Z6JZ3V8M9W6PZ/0.mp4';
    const r = await get(t.gw.ctx.signer.sign(storageKey, Math.floor(Date.now() / 1000) + 60));
    expectError(errorOf(r), 404, 'not_found', null, 'not_found');
  });
});
