import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backoffMs, retryAfterMs } from './core.ts';
import { AuthenticationError, ConnectionError, InternalServerError, Reelay, ReelayError, TimeoutError, type FetchLike } from './index.ts';
import { FakeReelay, errorAnswer } from './testing/fakeReelay.ts';

let server: FakeReelay;
let client: Reelay;

beforeEach(async () => {
  server = await new FakeReelay().start();
  client = new Reelay({ baseUrl: server.url, apiKey: server.apiKey });
});
afterEach(() => server.close());

describe('retries', () => {
  it('retries a 500 and returns the later success', async () => {
    server.script('GET', '/v1/balance', errorAnswer(500, 'internal_error', 'api_error', 'boom'));
    expect(await client.balance.get()).toEqual({ remain_balance: 12.5, used_balance: 0.4, held_balance: 0 });
    expect(server.requestsTo('GET', '/v1/balance')).toHaveLength(2);
  });

  it('gives up after maxRetries with InternalServerError carrying the request id', async () => {
    const boom = errorAnswer(503, 'queue_full', 'overloaded_error', 'queue full');
    server.script('GET', '/v1/balance', boom, boom);
    const c = new Reelay({ baseUrl: server.url, apiKey: server.apiKey, maxRetries: 1 });
    const err = await c.balance.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect(err).toMatchObject({ status: 503, code: 'queue_full', type: 'overloaded_error', requestId: 'req_2' });
  });

  it('obeys x-should-retry: false', async () => {
    server.script('GET', '/v1/balance', { ...errorAnswer(500, 'internal_error', 'api_error', 'boom'), headers: { 'x-should-retry': 'false' } });
    await expect(client.balance.get()).rejects.toBeInstanceOf(InternalServerError);
    expect(server.requestsTo('GET', '/v1/balance')).toHaveLength(1);
  });

  it('does not retry a 401', async () => {
    const c = new Reelay({ baseUrl: server.url, apiKey: 'wrong' });
    const err = await c.balance.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ code: 'authentication_error' });
    expect(server.requests).toHaveLength(1);
  });

  it('retries connection failures, then throws ConnectionError', async () => {
    let calls = 0;
    const refused: FetchLike = async () => {
      calls++;
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    };
    const c = new Reelay({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k', maxRetries: 1, fetch: refused });
    const err = await c.tasks.get('task_1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain('ECONNREFUSED');
    expect(calls).toBe(2);
  });

  it('turns a hung request into TimeoutError', async () => {
    const hang: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => init!.signal!.addEventListener('abort', () => reject(new Error('aborted'))));
    const c = new Reelay({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k', maxRetries: 0, timeoutMs: 30, fetch: hang });
    const err = await c.tasks.get('task_1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
  });

  it('stops retrying when the caller aborts', async () => {
    server.script('GET', '/v1/tasks/task_0001', { ...errorAnswer(429, 'rate_limit_error', 'rate_limit_error', 'slow'), headers: { 'retry-after': '30' } });
    server.addTask({ model: 'viduq3' });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error('stop')), 30);
    const started = Date.now();
    await expect(client.tasks.get('task_0001', { signal: ctl.signal })).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('retryAfterMs and backoffMs', () => {
  const h = (init: Record<string, string>) => new Headers(init);
  it('reads retry-after-ms, seconds and HTTP dates; ignores junk and waits over a minute', () => {
    expect(retryAfterMs(h({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterMs(h({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMs(h({ 'retry-after': 'Thu, 01 Jan 1970 00:00:05 GMT' }), 1000)).toBe(4000);
    expect(retryAfterMs(h({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(h({ 'retry-after': '3600' }))).toBeUndefined();
    expect(retryAfterMs(h({}))).toBeUndefined();
  });
  it('doubles from 0.5 s up to 8 s, jittered down by at most a quarter', () => {
    for (const [attempt, full] of [[0, 500], [1, 1000], [3, 4000], [10, 8000]] as const) {
      const ms = backoffMs(attempt);
      expect(ms).toBeGreaterThan(full * 0.75 - 1);
      expect(ms).toBeLessThanOrEqual(full);
    }
  });
});

describe('client basics', () => {
  it('drops a trailing /v1 from baseUrl and sends the bearer key', async () => {
    const c = new Reelay({ baseUrl: `${server.url}/v1/`, apiKey: server.apiKey });
    expect(c.baseUrl).toBe(server.url);
    await c.balance.get();
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${server.apiKey}`);
  });

  it('lists models and fetches a schema', async () => {
    const models = await client.models.list();
    expect(models.map((m) => m.id)).toContain('happyhorse-1.0');
    expect(await client.models.schema('viduq3')).toMatchObject({ title: 'viduq3', type: 'object' });
    expect(server.requestsTo('GET', '/v1/model-schema')[0]!.query.get('model')).toBe('viduq3');
  });

  it('reports a 2xx answer that is not JSON', async () => {
    const html: FetchLike = async () => new Response('<html>proxy</html>', { status: 200 });
    const c = new Reelay({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k', fetch: html });
    await expect(c.balance.get()).rejects.toThrow(ReelayError);
  });

  it('requires baseUrl and apiKey', () => {
    expect(() => new Reelay({ baseUrl: '', apiKey: 'k' })).toThrow('baseUrl');
    expect(() => new Reelay({ baseUrl: 'http://x', apiKey: '' })).toThrow('apiKey');
  });
});
