/**
 * Keys and tenancy (contract §2): bearer authentication of /v1, one key never seeing another's tasks, the
 * admin API, per-key rate limits, and `reelay keys create` against a running gateway's data dir.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { expectError, submit } from './helpers.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const ADMIN = 'test-admin-token-0123456789';

let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway({ REELAY_SIM_LATENCY_MS: '30000' }); // tasks here stay unfinished: nothing renders
});
afterAll(async () => t?.close());

const raw = async (method: string, p: string, headers: Record<string, string>, body?: string) => {
  const res = await fetch(`${t.url}${p}`, { method, headers, body });
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
};

const V1_CALLS: [string, string, string?][] = [
  ['POST', '/v1/videos/generations', JSON.stringify({ model: 'veo3.1-fast-official', prompt: 'p' })],
  ['GET', '/v1/tasks/task_01J9HA7JPQ9A0Z6JZ3V8M9W6PZ'],
  ['GET', '/v1/tasks'],
  ['POST', '/v1/tasks/task_01J9HA7JPQ9A0Z6JZ3V8M9W6PZ/cancel'],
  ['GET', '/v1/models'],
  ['GET', '/v1/model-schema?model=viduq3'],
  ['GET', '/v1/balance'],
  ['POST', '/v1/uploads/images', 'x'],
];

describe('API key authentication', () => {
  it.each([
    ['no Authorization header', {}],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['Basic instead of Bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
    ['a bearer with two tokens', { authorization: 'Bearer rk_abc rk_def' }],
    ['an unknown key', { authorization: 'Bearer rk_thisKeyWasNeverIssuedByThisGatewayAtAll000000' }],
    ['a key of the wrong form', { authorization: 'Bearer sk-proj-1234567890' }],
    ['the admin token', { authorization: `Bearer ${ADMIN}` }],
  ] as [string, Record<string, string>][])('%s → 401 authentication_error on every /v1 endpoint', async (_name, headers) => {
    for (const [method, p, body] of V1_CALLS) {
      const r = await raw(method, p, { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body);
      expectError(r, 401, 'authentication_error', null, 'authentication_error');
    }
  });

  it('the scheme is case-insensitive and a valid key works everywhere', async () => {
    const { key } = await t.newKey(5);
    const r = await raw('GET', '/v1/balance', { authorization: `bearer ${key}` });
    expect(r.status).toBe(200);
    expect(r.body.remain_balance).toBe(5);
  });

  it('a revoked key gets 401 at once, and its tasks are out of reach', async () => {
    const { id, key } = await t.newKey(10);
    const taskId = await submit(t, key, { model: 'veo3.1-fast-official', prompt: 'p', duration: 4 });
    expect((await t.call(key, 'GET', `/v1/tasks/${taskId}`)).status).toBe(200);
    const del = await t.admin('DELETE', `/admin/keys/${id}`);
    expect(del.status).toBe(200);
    expect(del.body.revoked_at).toBeGreaterThan(0);
    for (const [method, p] of [['GET', `/v1/tasks/${taskId}`], ['GET', '/v1/balance'], ['POST', '/v1/videos/generations']]) {
      expectError(await t.call(key, method, p, method === 'POST' ? { model: 'veo3.1-fast-official', prompt: 'p' } : undefined), 401, 'authentication_error', null);
    }
  });
});

describe('tenancy: a key sees only its own tasks', () => {
  it('another key’s task id answers 404 exactly as an unknown id does', async () => {
    const a = await t.newKey(10);
    const b = await t.newKey(10);
    const taskId = await submit(t, a.key, { model: 'veo3.1-fast-official', prompt: 'mine', duration: 4 });
    // An id of the same form that no task has: swap the last character.
    const unknown = taskId.slice(0, -1) + (taskId.endsWith('Z') ? 'Y' : 'Z');
    for (const [method, suffix] of [['GET', ''], ['POST', '/cancel']] as const) {
      const theirs = await t.call(b.key, method, `/v1/tasks/${taskId}${suffix}`);
      const none = await t.call(b.key, method, `/v1/tasks/${unknown}${suffix}`);
      expectError(theirs, 404, 'not_found', 'task_id', 'not_found');
      expect(theirs.status).toBe(none.status);
      // Same body but for the id each names.
      expect(JSON.stringify(theirs.body).replaceAll(taskId, 'ID')).toBe(JSON.stringify(none.body).replaceAll(unknown, 'ID'));
      expect([...theirs.headers.keys()].sort()).toEqual([...none.headers.keys()].sort());
    }
    // b's cancel did not touch a's task
    expect((await t.call(a.key, 'GET', `/v1/tasks/${taskId}`)).body.data.status).not.toBe('cancelled');
    // and b's list does not show it
    expect((await t.call(b.key, 'GET', '/v1/tasks')).body.data).toEqual([]);
    expect((await t.call(a.key, 'GET', '/v1/tasks')).body.data.map((d: any) => d.id)).toEqual([taskId]);
  });
});

describe('admin API', () => {
  it('create → 201 with the plain key once; list, get, patch, topup, delete', async () => {
    const created = await t.admin('POST', '/admin/keys', { name: 'acme', balance: 12.5, rate_limit_rpm: 600, max_concurrent_tasks: 4, models: ['viduq3'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'acme', balance: 12.5, rate_limit_rpm: 600, max_concurrent_tasks: 4, models: ['viduq3'] });
    const { id, key } = created.body;
    expect(id).toMatch(/^key_/);
    expect(key).toMatch(/^rk_[A-Za-z0-9_-]{40,}$/);

    // Shown once: no later admin answer carries the plain key.
    const list = await t.admin('GET', '/admin/keys');
    expect(list.status).toBe(200);
    const listed = list.body.data.find((k: any) => k.id === id);
    expect(listed).toMatchObject({ id, name: 'acme', balance: 12.5 });
    expect(listed.key).toBeUndefined();
    const one = await t.admin('GET', `/admin/keys/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(listed);
    expect(JSON.stringify(list.body) + JSON.stringify(one.body)).not.toContain(key);

    // Stored only as a hash: the plain key is nowhere in the database files.
    for (const f of fs.readdirSync(t.dataDir).filter((n) => n.startsWith('reelay.db'))) {
      expect(fs.readFileSync(path.join(t.dataDir, f)).includes(Buffer.from(key))).toBe(false);
    }

    // The key works, within its models.
    expect((await t.call(key, 'GET', '/v1/balance')).body.remain_balance).toBe(12.5);
    expectError(await t.call(key, 'POST', '/v1/videos/generations', { model: 'veo3.1-fast-official', prompt: 'p' }), 403, 'permission_denied', 'model');
    expect((await t.call(key, 'GET', '/v1/models')).body.data.map((m: any) => m.id)).toEqual(['viduq3']);

    const patched = await t.admin('PATCH', `/admin/keys/${id}`, { name: 'acme-2', models: null, rate_limit_rpm: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, name: 'acme-2', models: null, rate_limit_rpm: null, balance: 12.5 });
    expect((await t.call(key, 'GET', '/v1/models')).body.data).toHaveLength(7);

    const topup = await t.admin('POST', `/admin/keys/${id}/topup`, { amount: 7.5 });
    expect(topup.status).toBe(200);
    expect(topup.body.balance).toBe(20);
    expect((await t.call(key, 'GET', '/v1/balance')).body.remain_balance).toBe(20);

    const del = await t.admin('DELETE', `/admin/keys/${id}`);
    expect(del.status).toBe(200);
    expect(del.body.revoked_at).not.toBeNull();
    expectError(await t.call(key, 'GET', '/v1/balance'), 401, 'authentication_error', null);
    expect((await t.admin('GET', `/admin/keys/${id}`)).body.revoked_at).not.toBeNull();
  });

  it.each([
    ['a name missing', { balance: 1 }],
    ['an unknown model', { name: 'x', models: ['sora'] }],
    ['a negative rate limit', { name: 'x', rate_limit_rpm: -1 }],
    ['a balance with too many decimals', { name: 'x', balance: '0.0000001' }],
  ])('POST /admin/keys with %s → 400', async (_name, body) => {
    const r = await t.admin('POST', '/admin/keys', body);
    expect(r.status).toBe(400);
    expect(Object.keys(r.body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(r.body.error.type).toBe('invalid_request_error');
  });

  it('topup of zero or a negative amount → 400; unknown key id → 404', async () => {
    const { id } = await t.newKey(1);
    expectError(await t.admin('POST', `/admin/keys/${id}/topup`, { amount: 0 }), 400, 'invalid_value', 'amount');
    expectError(await t.admin('POST', `/admin/keys/${id}/topup`, { amount: -5 }), 400, 'invalid_value', 'amount');
    for (const [method, p] of [['GET', '/admin/keys/key_nope'], ['PATCH', '/admin/keys/key_nope'], ['DELETE', '/admin/keys/key_nope'], ['POST', '/admin/keys/key_nope/topup']] as const) {
      const body = method === 'PATCH' ? { name: 'n' } : method === 'POST' ? { amount: 1 } : undefined;
      expectError(await t.admin(method, p, body), 404, 'not_found', 'id', 'not_found');
    }
  });

  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer test-admin-token-0123456780' }],
    ['a prefix of the token', { authorization: 'Bearer test-admin-token' }],
  ] as [string, Record<string, string>][])('%s → 401 on the admin API', async (_name, headers) => {
    const { key } = await t.newKey(1);
    for (const [method, p] of [['GET', '/admin/keys'], ['POST', '/admin/keys'], ['GET', '/admin/ledger']]) {
      const r = await raw(method, p, { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, method === 'POST' ? '{"name":"x"}' : undefined);
      expectError(r, 401, 'authentication_error', null, 'authentication_error');
    }
    // An API key is not an admin token either.
    expectError(await raw('GET', '/admin/keys', { authorization: `Bearer ${key}` }), 401, 'authentication_error', null);
  });
});

describe('per-key rate limit', () => {
  it('past rate_limit_rpm: 429 rate_limit_error with Retry-After', async () => {
    const { key } = await t.newKey(1, { rate_limit_rpm: 3 });
    for (let i = 0; i < 3; i++) expect((await t.call(key, 'GET', '/v1/balance')).status).toBe(200);
    const r = await t.call(key, 'GET', '/v1/balance');
    expectError(r, 429, 'rate_limit_error', null, 'rate_limit_error');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });
});

describe('reelay keys create', () => {
  it('prints a key that works against a gateway on the same data dir', async () => {
    const env = { ...process.env, REELAY_DATA_DIR: t.dataDir, REELAY_ADMIN_TOKEN: ADMIN, REELAY_LOG_LEVEL: 'silent' };
    const out = await run(process.execPath, ['bin/reelay.js', 'keys', 'create', '--name', 'from-cli', '--balance', '3.25'], { cwd: ROOT, env, timeout: 30_000 });
    const key = out.stdout.trim();
    expect(key).toMatch(/^rk_[A-Za-z0-9_-]{40,}$/);
    expect(out.stdout.split('\n').filter(Boolean)).toHaveLength(1); // only the key on stdout: scripts can capture it
    const b = await t.call(key, 'GET', '/v1/balance');
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ remain_balance: 3.25, used_balance: 0, key: { name: 'from-cli' } });
    // and it can submit
    await submit(t, key, { model: 'veo3.1-fast-official', prompt: 'from the cli', duration: 4 });
  }, 40_000);
});
