/**
 * The fast path (src/api/fastPath.ts) answers submit and poll in front of Fastify. A client must not be
 * able to tell the two apart: the same request, sent once through the fast path and once straight to
 * Fastify on the same gateway, gets the same status, body and headers. Requests the fast path must not
 * take (chunked or large bodies, multipart, query strings, encoded ids, other routes) reach Fastify.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { fastPath } from '../../src/api/fastPath.ts';
import type { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';

let t: TestGateway;
let fast: http.Server;
let slow: http.Server;
/** URLs the fast path handed to Fastify. */
const handedOver: string[] = [];
let key: string;
let otherKey: string;
let limitedKey: string;
let taskId: string;
/** The fast path's server and a server that is Fastify alone, both on the same gateway. */
let urls: { f: string; s: string };

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** A raw HTTP request; `chunked` sends the body without a Content-Length. */
function send(base: string, method: string, path: string, o: { headers?: Record<string, string>; body?: string; chunked?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.body !== undefined && !o.chunked) headers['content-length'] = String(Buffer.byteLength(o.body));
    const req = http.request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode!, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

/** The headers a client could depend on; the rest (date, connection) differ by nature. */
function comparable(a: Answer) {
  const h = a.headers;
  const pick = ['content-type', 'x-request-id', 'idempotency-replayed', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining'];
  const headers = Object.fromEntries(pick.filter((k) => h[k] !== undefined).map((k) => [k, h[k]]));
  // Generated values differ between two requests by nature; their form must not.
  if (/^req_[0-9A-Z]{26}$/.test(String(headers['x-request-id']))) headers['x-request-id'] = 'req_<ulid>';
  if (headers['x-ratelimit-remaining'] !== undefined) headers['x-ratelimit-remaining'] = /^\d+$/.test(String(headers['x-ratelimit-remaining'])) ? '<n>' : headers['x-ratelimit-remaining'];
  return { status: a.status, headers, body: a.body, length: Number(h['content-length']) === Buffer.byteLength(JSON.stringify(a.body)) };
}

const auth = (k: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${k}`, 'content-type': 'application/json', ...extra });

beforeAll(async () => {
  t = await startTestGateway({ REELAY_SIM_LATENCY_MS: '60000' });
  key = (await t.newKey(1000)).key;
  otherKey = (await t.newKey(1000)).key;
  limitedKey = (await t.newKey(1000, { rate_limit_rpm: 1000 })).key;
  const app = t.gw.app;
  fast = http.createServer(
    fastPath(t.gw.ctx, (req, res) => {
      handedOver.push(`${req.method} ${req.url}`);
      app.routing(req, res);
    }),
  );
  slow = http.createServer((req, res) => app.routing(req, res));
  const [f, s] = await Promise.all([listen(fast), listen(slow)]);
  urls = { f, s };
  const r = await send(f, 'POST', '/v1/videos/generations', { headers: auth(key), body: JSON.stringify({ model: 'veo3.1-fast-official', prompt: 'a lighthouse at dusk', duration: 4 }) });
  expect(r.status).toBe(200);
  taskId = r.body.data[0].task_id;
  // Cancelled, so both servers see the same task (a pending one's progress moves between two polls).
  expect((await t.call(key, 'POST', `/v1/tasks/${taskId}/cancel`)).status).toBe(200);
});
afterAll(async () => {
  await new Promise((r) => fast?.close(r));
  await new Promise((r) => slow?.close(r));
  await t?.close();
});

const bases = () => urls;

/** Sends the same request through both servers (fast first) and returns both answers. */
async function both(method: string, path: string, o: { headers?: Record<string, string>; body?: string } = {}) {
  const before = handedOver.length;
  const a = await send(bases().f, method, path, o);
  const b = await send(bases().s, method, path, o);
  return { fast: a, slow: b, handedOver: handedOver.length > before };
}

describe('fast path: the same answers as Fastify', () => {
  const polls: [string, () => string, () => Record<string, string>][] = [
    ['own task', () => `/v1/tasks/${taskId}`, () => auth(key, { 'x-request-id': 'poll-1' })],
    ['another key’s task (404 like an unknown one)', () => `/v1/tasks/${taskId}`, () => auth(otherKey, { 'x-request-id': 'poll-2' })],
    ['unknown task', () => '/v1/tasks/task_01ARZ3NDEKTSV4RRFFQ69G5FAV', () => auth(key, { 'x-request-id': 'poll-3' })],
    ['no API key', () => `/v1/tasks/${taskId}`, () => ({ 'x-request-id': 'poll-4' })],
    ['an unknown API key', () => `/v1/tasks/${taskId}`, () => auth('rk_not-a-key', { 'x-request-id': 'poll-5' })],
    ['a malformed Authorization header', () => `/v1/tasks/${taskId}`, () => ({ authorization: 'Basic abc', 'x-request-id': 'poll-6' })],
    ['a rate-limited key (limit headers)', () => `/v1/tasks/${taskId}`, () => auth(limitedKey, { 'x-request-id': 'poll-7' })],
  ];
  it.each(polls)('GET /v1/tasks/{id}: %s', async (_name, path, headers) => {
    const r = await both('GET', path(), { headers: headers() });
    expect(r.handedOver).toBe(false);
    expect(comparable(r.fast)).toEqual(comparable(r.slow));
  });

  const bodies: [string, string, Record<string, string>?][] = [
    ['invalid JSON', '{"model": '],
    ['an empty body', ''],
    ['a JSON array', '[1,2]'],
    ['an unknown model', JSON.stringify({ model: 'nope', prompt: 'x' })],
    ['no prompt', JSON.stringify({ model: 'happyhorse-1.0' })],
    ['a duration the model refuses', JSON.stringify({ model: 'viduq3', prompt: 'x', duration: 99 })],
    ['mixed media', JSON.stringify({ model: 'happyhorse-1.0', prompt: 'x', image_urls: ['https://example.com/a.png'], first_frame_image: 'https://example.com/b.png' })],
    ['a bad Idempotency-Key', JSON.stringify({ model: 'viduq3', prompt: 'x' }), { 'idempotency-key': 'has space' }],
    ['a price above the balance', JSON.stringify({ model: 'veo3.1-quality-official', prompt: 'x', duration: 8, sample_count: 4 })],
  ];
  it.each(bodies)('POST /v1/videos/generations refused: %s', async (_name, body, extra) => {
    const k = _name.startsWith('a price') ? (await t.newKey(0.01)).key : key;
    const r = await both('POST', '/v1/videos/generations', { headers: auth(k, { 'x-request-id': 'sub-1', ...extra }), body });
    expect(r.handedOver).toBe(false);
    expect(r.fast.status).toBeGreaterThanOrEqual(400);
    expect(comparable(r.fast)).toEqual(comparable(r.slow));
  });

  it('POST /v1/videos/generations accepted, both response shapes, and an Idempotency-Key replay', async () => {
    const body = JSON.stringify({ model: 'veo3.1-fast-official', prompt: 'a paper boat', duration: 4 });
    const r = await both('POST', '/v1/videos/generations', { headers: auth(key), body });
    expect(r.handedOver).toBe(false);
    expect([r.fast.status, r.slow.status]).toEqual([200, 200]);
    expect(r.fast.body.data[0].task_id).toMatch(/^task_[0-9A-Z]{26}$/);
    expect(comparable(r.fast).headers['content-type']).toBe(comparable(r.slow).headers['content-type']);

    const v = await both('POST', '/v1/videos/generations', { headers: auth(key, { 'x-apimart-response-version': '2026-07-27' }), body });
    expect(Object.keys(v.fast.body.data).sort()).toEqual(Object.keys(v.slow.body.data).sort());
    expect(v.fast.body.data.object).toBe('generation.task');

    const idem = auth(key, { 'idempotency-key': `fp-${Date.now()}` });
    const first = await send(bases().f, 'POST', '/v1/videos/generations', { headers: idem, body });
    const again = await both('POST', '/v1/videos/generations', { headers: idem, body });
    expect(again.handedOver).toBe(false);
    for (const a of [again.fast, again.slow]) {
      expect(a.status).toBe(200);
      expect(a.headers['idempotency-replayed']).toBe('true');
      expect(a.body.data[0].task_id).toBe(first.body.data[0].task_id);
    }
    const conflict = await both('POST', '/v1/videos/generations', { headers: idem, body: JSON.stringify({ model: 'veo3.1-fast-official', prompt: 'another boat', duration: 4 }) });
    expect(conflict.fast.status).toBe(409);
    expect(comparable(conflict.fast)).toEqual(comparable(conflict.slow));
  });
});

describe('fast path: what it leaves to Fastify', () => {
  it('a chunked body, multipart, a query string, an encoded id, HEAD, other routes', async () => {
    const { f } = bases();
    const body = JSON.stringify({ model: 'veo3.1-fast-official', prompt: 'chunked', duration: 4 });
    const cases: [string, string, Parameters<typeof send>[3]][] = [
      ['POST', '/v1/videos/generations', { headers: auth(key), body, chunked: true }],
      ['POST', '/v1/videos/generations', { headers: { ...auth(key), 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' }],
      ['POST', '/v1/videos/generations', { headers: { authorization: `Bearer ${key}` }, body }],
      ['GET', `/v1/tasks/${taskId}?verbose=1`, { headers: auth(key) }],
      ['GET', `/v1/tasks/task%5F${taskId.slice(5)}`, { headers: auth(key) }],
      ['HEAD', `/v1/tasks/${taskId}`, { headers: auth(key) }],
      ['GET', '/v1/tasks', { headers: auth(key) }],
      ['POST', `/v1/tasks/${taskId}x/cancel`, { headers: auth(key) }],
    ];
    for (const [method, path, o] of cases) {
      const before = handedOver.length;
      const r = await send(f, method, path, o);
      expect(handedOver.length, `${method} ${path}`).toBe(before + 1);
      expect(r.headers['x-request-id'], `${method} ${path}`).toBeTruthy();
    }
    // Fastify still answers them as before: the chunked submit is accepted, the encoded id is found.
    const chunked = await send(f, 'POST', '/v1/videos/generations', { headers: auth(key), body, chunked: true });
    expect(chunked.status).toBe(200);
    const encoded = await send(f, 'GET', `/v1/tasks/task%5F${taskId.slice(5)}`, { headers: auth(key) });
    expect(encoded.status).toBe(200);
    expect(encoded.body.data.id).toBe(taskId);
  });

  it('polls that arrive in the same turn are read in one read transaction, each answered for its own key', async () => {
    // The test gateway's store is the embedded one.
    const store = t.gw.ctx.store as SqliteStore;
    const original = store.readTogether;
    const runs: number[] = [];
    let inside = 0;
    // Counts the store reads made inside each transaction.
    let answersRead = 0;
    store.readTogether = function <T>(read: () => T): T {
      const before = answersRead;
      return original.call<SqliteStore, [() => T], T>(this, () => {
        const r = read();
        runs.push(answersRead - before);
        return r;
      });
    };
    const getNow = store.getTaskViewNow!;
    store.getTaskViewNow = function (id: string) {
      answersRead++;
      if (store.db.inTransaction) inside++;
      return getNow.call(this, id);
    };
    const cases = [
      { k: key, status: 200 },
      { k: otherKey, status: 404 },
      { k: 'rk_not-a-key', status: 401 },
      { k: key, status: 200 },
    ];
    const raw = (k: string) => `GET /v1/tasks/${taskId} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${k}\r\n\r\n`;
    const port = Number(new URL(bases().f).port);
    try {
      // Pipelined on one connection and written at once, the requests are parsed in the same turn.
      const socket = await new Promise<net.Socket>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
      });
      const answers = await new Promise<{ status: number; body: any }[]>((resolve) => {
        const got: { status: number; body: any }[] = [];
        let buf = Buffer.alloc(0);
        socket.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          for (;;) {
            const end = buf.indexOf('\r\n\r\n');
            if (end < 0) return;
            const length = Number(/content-length: (\d+)/i.exec(buf.toString('latin1', 0, end))?.[1]);
            if (buf.length < end + 4 + length) return;
            got.push({ status: Number(buf.toString('latin1', 9, 12)), body: JSON.parse(buf.subarray(end + 4, end + 4 + length).toString('utf8')) });
            buf = buf.subarray(end + 4 + length);
            if (got.length === cases.length) return resolve(got);
          }
        });
        socket.write(cases.map((c) => raw(c.k)).join(''));
      });
      socket.destroy();
      answers.forEach((a, i) => {
        expect(a.status).toBe(cases[i].status);
        if (a.status === 200) expect(a.body.data.id).toBe(taskId);
      });
    } finally {
      store.readTogether = original;
      store.getTaskViewNow = getNow;
    }
    // Reads of the same turn ran inside one transaction (an unknown key's poll is read after its lookup,
    // outside it), and no transaction is left open.
    expect(inside).toBeGreaterThanOrEqual(2);
    expect(runs.some((n) => n >= 2)).toBe(true);
    expect(store.db.inTransaction).toBe(false);
  });

  it('a client that leaves in the middle of its body costs nothing: no task, no charge, the next request is served', async () => {
    const { key: k } = await t.newKey(10);
    const body = JSON.stringify({ model: 'veo3.1-fast-official', prompt: 'half a body', duration: 4 });
    await new Promise<void>((resolve) => {
      const req = http.request(`${bases().f}/v1/videos/generations`, { method: 'POST', headers: { ...auth(k), 'content-length': String(body.length) } });
      req.on('error', () => resolve());
      req.write(body.slice(0, 20), () => setTimeout(() => (req.destroy(), resolve()), 50));
    });
    await new Promise((r) => setTimeout(r, 100));
    const after = await send(bases().f, 'GET', '/v1/tasks', { headers: auth(k) });
    expect(after.status).toBe(200);
    expect(after.body.data).toEqual([]);
    expect((await send(bases().f, 'GET', '/v1/balance', { headers: auth(k) })).body.held_balance).toBe(0);
  });

  it('a body that arrives after its headers, in two parts, is read as it comes and submitted', async () => {
    const { key: k } = await t.newKey(10);
    const body = JSON.stringify({ model: 'veo3.1-fast-official', prompt: 'a body in two parts', duration: 4 });
    const { port } = new URL(bases().f);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1');
      let text = '';
      socket.on('error', reject);
      socket.on('data', (d) => {
        text += d.toString('utf8');
        if (text.includes('\r\n\r\n') && text.endsWith('}')) (socket.end(), resolve(text));
      });
      socket.write(`POST /v1/videos/generations HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${k}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`);
      setTimeout(() => socket.write(body.slice(0, 25)), 30);
      setTimeout(() => socket.write(body.slice(25)), 60);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    const tasks = await send(bases().f, 'GET', '/v1/tasks', { headers: auth(k) });
    expect(tasks.body.data).toHaveLength(1);
    expect(tasks.body.data[0].model).toBe('veo3.1-fast-official');
  });

  it('a client that sends half a body and hangs up is counted as a refused request (400), not as a failure of the gateway', async () => {
    const { key: k } = await t.newKey(10);
    const refused = async () => {
      const text = String((await send(t.url, 'GET', '/metrics')).body);
      const m = /reelay_http_requests_total\{route="\/v1\/videos\/generations",method="POST",status="400"\} (\d+)/.exec(text);
      return m ? Number(m[1]) : 0;
    };
    const before = await refused();
    const body = JSON.stringify({ model: 'veo3.1-fast-official', prompt: 'gone at once', duration: 4 });
    const { port } = new URL(bases().f);
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        // Headers, half the body and the end of the connection, together.
        socket.write(`POST /v1/videos/generations HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${k}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 20)}`);
        socket.destroy();
        resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(await refused()).toBe(before + 1);
    expect((await send(bases().f, 'GET', '/v1/tasks', { headers: auth(k) })).body.data).toEqual([]);
  });

  it('a submit whose client is gone before its body is taken is refused (400), not left waiting for a close already past', async () => {
    // Driven by hand: the request is destroyed in the very turn the fast path noted it, so its 'close' has
    // been emitted by the time the body would be taken (over a socket, this needs the body and the hang-up
    // to arrive in one read, which a test cannot arrange).
    const handler = fastPath(t.gw.ctx, () => undefined);
    const req = new http.IncomingMessage(new net.Socket());
    req.method = 'POST';
    req.url = '/v1/videos/generations';
    req.headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': '100' };
    const res = new http.ServerResponse(req);
    handler(req, res);
    req.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(res.statusCode).toBe(400);
    expect(res.headersSent).toBe(true);
  });

  it('keeps a connection usable after a refusal, whether or not the refused body was read', async () => {
    // One socket, four requests one after another: a refusal before the body is read (no key), one after
    // it is read to its end (invalid body), then a poll and a refused poll; each answered in turn.
    const body = JSON.stringify({ model: 'viduq3', prompt: 'x'.repeat(5000), duration: 99 });
    const post = (headers: string) => `POST /v1/videos/generations HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${headers}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const get = (k: string) => `GET /v1/tasks/${taskId} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${k}\r\n\r\n`;
    const { port } = new URL(bases().f);
    const statuses = await new Promise<number[]>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1');
      const requests = [post(''), post(`authorization: Bearer ${key}\r\n`), get(key), get(otherKey)];
      let text = '';
      socket.on('error', reject);
      socket.on('data', (d) => {
        text += d.toString('utf8');
        const seen = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
        if (seen.length === requests.length) {
          socket.end();
          resolve(seen);
        }
      });
      socket.on('close', () => reject(new Error(`closed after: ${text.slice(0, 200)}`)));
      for (const r of requests) socket.write(r);
    });
    expect(statuses).toEqual([401, 400, 200, 404]);
  });

  it('counts its answers in the same metrics series as Fastify’s', async () => {
    await send(bases().f, 'GET', `/v1/tasks/${taskId}`, { headers: auth(key) });
    const metrics = await send(t.url, 'GET', '/metrics');
    expect(String(metrics.body)).toMatch(/reelay_http_requests_total\{route="\/v1\/tasks\/:id",method="GET",status="200"\} \d+/);
    expect(String(metrics.body)).toMatch(/reelay_requests_rejected_total\{code="authentication_error"\} \d+/);
  });
});
