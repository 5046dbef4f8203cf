/**
 * A JSON body over REELAY_LIMITS_BODY_LIMIT_BYTES is answered 413 — early, without the gateway reading the
 * body into memory, and the gateway stays healthy. The bodies here are streamed from a generator, so the
 * test never holds them either.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { expectError, makeImage, submit } from './helpers.ts';

const BODY_LIMIT = 1024 * 1024;
const HUGE = 200 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x20); // spaces: still "JSON" as far as any reader can tell

let t: TestGateway;
let key: string;

beforeAll(async () => {
  t = await startTestGateway({ REELAY_LIMITS_BODY_LIMIT_BYTES: String(BODY_LIMIT) });
  key = (await t.newKey(100)).key;
});
afterAll(async () => t?.close());

/** `{"model":"...","prompt":"` then spaces up to `total` bytes (never closed: it is never meant to be read). */
function generated(total: number, counter: { sent: number }): Readable {
  const head = Buffer.from('{"model":"happyhorse-1.0","prompt":"');
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const chunk = sent === 0 ? head : CHUNK.subarray(0, Math.min(CHUNK.length, total - sent));
      sent += chunk.length;
      counter.sent = sent;
      this.push(chunk);
    },
  });
}

interface Early {
  status: number;
  body: any;
  /** Bytes the client had handed to the socket when the answer arrived. */
  sentWhenAnswered: number;
  ms: number;
}

/** POSTs a generated body of `total` bytes; resolves as soon as the response is complete, then stops sending. */
function postStreaming(total: number, withLength: boolean): Promise<Early> {
  const url = new URL(`${t.url}/v1/videos/generations`);
  const counter = { sent: 0 };
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      agent: false,
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        ...(withLength ? { 'content-length': String(total) } : { 'transfer-encoding': 'chunked' }),
      },
    });
    const body = generated(total, counter);
    req.on('response', (res) => {
      const sentWhenAnswered = counter.sent;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        body.unpipe(req);
        body.destroy();
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), sentWhenAnswered, ms: Date.now() - started });
      });
    });
    // The server may close the connection on us once it has answered: that is fine, the answer counts.
    req.on('error', (e) => {
      if (!(counter.sent > 0)) reject(e);
    });
    body.pipe(req);
  });
}

describe('request body limit', () => {
  it('a body just over the limit gets 413 body_too_large', async () => {
    const r = await t.call(key, 'POST', '/v1/videos/generations', JSON.stringify({ model: 'happyhorse-1.0', prompt: 'a'.repeat(BODY_LIMIT) }));
    expectError(r, 413, 'body_too_large', undefined, 'invalid_request_error');
  });

  it('a body just under the limit is read (and judged on its content)', async () => {
    const r = await t.call(key, 'POST', '/v1/videos/generations', JSON.stringify({ model: 'happyhorse-1.0', prompt: 'a'.repeat(BODY_LIMIT - 1000) }));
    // 1 MB of prompt breaks happyhorse's 2500-character limit: a 400, not a 413.
    expectError(r, 400, 'string_too_long', 'prompt');
  });

  it.each([
    ['with a Content-Length', true],
    ['chunked, with no Content-Length', false],
  ])('a 200 MB body %s: 413 arrives long before the body is sent, memory stays flat', async (_name, withLength) => {
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 5);
    let r: Early;
    try {
      r = await postStreaming(HUGE, withLength);
    } finally {
      clearInterval(sampler);
    }
    expectError({ status: r.status, body: r.body, headers: new Headers() }, 413, 'body_too_large', undefined, 'invalid_request_error');
    // Early: with a Content-Length the answer comes before reading anything; chunked, right after the limit.
    // Either way a small fraction of the 200 MB had been written (socket buffers account for the slack).
    expect(r.sentWhenAnswered).toBeLessThan(HUGE / 10);
    expect(r.ms).toBeLessThan(5_000);
    // The gateway (this same process) did not buffer the body: memory grew far less than its size.
    expect(rssPeak - rssBefore).toBeLessThan(HUGE / 4);
    // ... and is healthy afterwards.
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    await submit(t, key, { model: 'veo3.1-fast-official', prompt: 'still fine', duration: 4 });
  }, 30_000);

  it('image uploads are governed by their own limit, not the JSON body limit', async () => {
    // 2 MB is over this gateway's 1 MB body limit but within the default 50 MB upload limit.
    const png = await makeImage('png', 300, 300);
    const bytes = Buffer.concat([png, Buffer.alloc(2 * BODY_LIMIT)]);
    const form = new FormData();
    form.append('file', new Blob([bytes], { type: 'image/png' }), 'big.png');
    const res = await fetch(`${t.url}/v1/uploads/images`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).bytes).toBe(bytes.length);
  });
});
