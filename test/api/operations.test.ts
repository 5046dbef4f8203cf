/**
 * Operations: liveness, readiness, Prometheus metrics, request ids on every response, and error bodies in
 * the catalogue's shape even for what the router refuses before any route runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { expectError, submit } from './helpers.ts';

let t: TestGateway;
let key: string;

beforeAll(async () => {
  t = await startTestGateway({ REELAY_SIM_LATENCY_MS: '30000', REELAY_LIMITS_BODY_LIMIT_BYTES: '4096' });
  key = (await t.newKey(100)).key;
});
afterAll(async () => t?.close());

const metric = (text: string, name: string, labels: Record<string, string>): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
};
const scrape = async () => {
  const res = await fetch(`${t.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};

describe('health', () => {
  it('/healthz is 200 without authentication', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 with its checks while serving', async () => {
    const res = await fetch(`${t.url}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ status: 'ready', accepting: true });
    expect(body.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'store', ok: true })]));
  });
});

describe('/metrics', () => {
  it('is Prometheus text with the HTTP request and submitted-task counters, which count', async () => {
    const before = await scrape();
    const submitted = metric(before, 'reelay_tasks_submitted_total', { model: 'viduq3-mix' });
    await submit(t, key, { model: 'viduq3-mix', prompt: 'count me', image_urls: ['https://example.com/a.png'], duration: 1 });
    await t.call(key, 'GET', '/v1/models');
    const after = await scrape();
    for (const name of ['reelay_http_requests_total', 'reelay_tasks_submitted_total']) {
      expect(after).toContain(`# TYPE ${name} counter`);
      expect(after).toContain(`# HELP ${name} `);
    }
    expect(metric(after, 'reelay_tasks_submitted_total', { model: 'viduq3-mix' })).toBe(submitted + 1);
    // Routes are labelled by pattern, not by URL (ids would explode the label set).
    expect(metric(after, 'reelay_http_requests_total', { route: '/v1/models', method: 'GET', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(metric(after, 'reelay_http_requests_total', { route: '/v1/videos/generations', method: 'POST', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(after).not.toMatch(/route="\/v1\/tasks\/task_/);
    // Every sample line parses as name{labels} value. Prometheus reads the value with Go's ParseFloat, which
    // takes NaN in any case; prom-client writes "Nan" (the event-loop lag mean before its first sample).
    for (const line of after.split('\n').filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (-?[0-9.e+-]+|[Nn][Aa][Nn]|[+-]Inf)$/);
    }
  });

  it('a refused submit is not counted as submitted', async () => {
    const before = metric(await scrape(), 'reelay_tasks_submitted_total', { model: 'Omni-Flash-Ext' });
    expect((await t.call(key, 'POST', '/v1/videos/generations', { model: 'Omni-Flash-Ext', prompt: 'p', duration: 7 })).status).toBe(400);
    expect(metric(await scrape(), 'reelay_tasks_submitted_total', { model: 'Omni-Flash-Ext' })).toBe(before);
  });
});

describe('request ids', () => {
  const REQ_ID = /^req_[0-9A-HJKMNP-TV-Z]{26}$/;

  it.each([
    ['a success', () => t.call(key, 'GET', '/v1/balance'), 200],
    ['an unauthenticated call', () => t.call('nope', 'GET', '/v1/balance'), 401],
    ['a validation error', () => t.call(key, 'POST', '/v1/videos/generations', { model: 'viduq3' }), 400],
    ['an unknown route', () => t.call(key, 'GET', '/v1/nothing-here'), 404],
    ['a body over the limit', () => t.call(key, 'POST', '/v1/videos/generations', { model: 'viduq3', prompt: 'x'.repeat(5000) }), 413],
    ['a file with a bad signature', () => t.call('', 'GET', '/files/results/task_01J9HA7JPQ9A0Z6JZ3V8M9W6PZ/0.mp4?expires=1&sig=x'), 403],
    ['health', () => t.call('', 'GET', '/healthz'), 200],
    ['the admin API', () => t.admin('GET', '/admin/keys'), 200],
    ['a path segment too long for the router', () => t.call(key, 'GET', `/v1/tasks/${'x'.repeat(2000)}`), 404],
    ['a path that is not valid percent-encoding', () => t.call(key, 'GET', '/v1/tasks/%E0%A4%A'), 400],
  ] as const)('%s has a generated x-request-id', async (_name, call, status) => {
    const r = await call();
    expect(r.status).toBe(status);
    expect(r.headers.get('x-request-id')).toMatch(REQ_ID);
  });

  it('each response gets its own id', async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, async () => (await t.call(key, 'GET', '/v1/balance')).headers.get('x-request-id')));
    expect(new Set(ids).size).toBe(5);
  });

  it('a caller-supplied X-Request-Id is echoed back, on successes and errors alike', async () => {
    for (const [k, status] of [[key, 200], ['bad', 401]] as const) {
      const r = await t.call(k, 'GET', '/v1/balance', undefined, { 'X-Request-Id': 'client-trace.42:abc' });
      expect(r.status).toBe(status);
      expect(r.headers.get('x-request-id')).toBe('client-trace.42:abc');
    }
  });

  it('an unusable X-Request-Id (spaces, too long) is replaced by a generated one', async () => {
    for (const given of ['has spaces in it', 'a'.repeat(65), 'quote"d']) {
      const r = await t.call(key, 'GET', '/v1/balance', undefined, { 'X-Request-Id': given });
      expect(r.headers.get('x-request-id')).toMatch(REQ_ID);
    }
  });
});

describe('errors the router raises have the catalogue shape', () => {
  it('an unknown endpoint → 404 not_found in the error body', async () => {
    expectError(await t.call(key, 'GET', '/v1/nothing-here'), 404, 'route_not_found', null, 'not_found');
  });

  it('an absurdly long path segment → 404 in the error body, not Fastify’s own', async () => {
    // Bug fixed in src/api/app.ts: this answered 414 {"error":"Bad Request","code":"FST_ERR_MAX_PARAM_LENGTH",...}
    expectError(await t.call(key, 'GET', `/v1/tasks/${'x'.repeat(2000)}`), 404, 'route_not_found', null, 'not_found');
  });

  it('a long but routable task id is an unknown task: 404 after authentication', async () => {
    expectError(await t.call(key, 'GET', `/v1/tasks/task_${'A'.repeat(300)}`), 404, 'not_found', 'task_id', 'not_found');
    expectError(await t.call('nope', 'GET', `/v1/tasks/task_${'A'.repeat(300)}`), 401, 'authentication_error', null);
  });

  it('a path that is not valid percent-encoding → 400 in the error body', async () => {
    expectError(await t.call(key, 'GET', '/v1/tasks/%E0%A4%A'), 400, 'invalid_request_error', null);
  });
});
