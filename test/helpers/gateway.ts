/**
 * Boots a real gateway for tests: temp data dir, a free port, quiet logs, a short simulator latency; plus
 * small helpers to call it as a client and as the admin.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { startGateway, type Gateway } from '../../src/runtime/gateway.ts';
import { silentLogger } from '../../src/runtime/logger.ts';

export interface TestGateway {
  gw: Gateway;
  url: string;
  dataDir: string;
  admin(method: string, p: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  call(key: string, method: string, p: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  /** A new API key with this balance (decimal). */
  newKey(balance?: number, extra?: Record<string, unknown>): Promise<{ id: string; key: string }>;
  /** Polls a task until it is terminal. */
  waitFor(key: string, taskId: string, timeoutMs?: number): Promise<any>;
  restart(env?: Record<string, string>): Promise<void>;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startTestGateway(env: Record<string, string> = {}, config?: Record<string, unknown>): Promise<TestGateway> {
  const dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-gw-'));
  const baseEnv: Record<string, string> = {
    REELAY_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    REELAY_SIM_LATENCY_MS: '200',
    REELAY_ADMIN_TOKEN: 'test-admin-token-0123456789',
    REELAY_ENGINE_IDLE_SLEEP_MS: '100',
    REELAY_SQLITE_SYNCHRONOUS: 'NORMAL',
    REELAY_SHUTDOWN_DRAIN_MS: '0',
    ...env,
  };
  if (config) {
    const file = path.join(dataDir, 'config.json');
    await fs.promises.writeFile(file, JSON.stringify(config));
    baseEnv.REELAY_CONFIG = file;
  }
  let currentEnv = baseEnv;
  let gw = await startGateway(loadConfig(currentEnv), { logger: silentLogger, announce: () => undefined });

  const request = async (auth: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gw.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${auth}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };

  const t: TestGateway = {
    get gw() {
      return gw;
    },
    get url() {
      return gw.url;
    },
    dataDir,
    admin: (method, p, body) => request('test-admin-token-0123456789', method, p, body),
    call: request,
    async newKey(balance = 100, extra = {}) {
      const r = await t.admin('POST', '/admin/keys', { name: `k${Math.random()}`, balance, ...extra });
      if (r.status !== 201) throw new Error(`key creation failed: ${JSON.stringify(r.body)}`);
      return { id: r.body.id, key: r.body.key };
    },
    async waitFor(key, taskId, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await request(key, 'GET', `/v1/tasks/${taskId}`);
        if (r.status !== 200) throw new Error(`poll failed: ${r.status} ${JSON.stringify(r.body)}`);
        if (['completed', 'failed', 'cancelled'].includes(r.body.data.status)) return r.body.data;
        if (Date.now() > deadline) throw new Error(`task ${taskId} still ${r.body.data.status} after ${timeoutMs} ms`);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    async restart(extraEnv = {}) {
      await gw.close();
      currentEnv = { ...currentEnv, ...extraEnv };
      gw = await startGateway(loadConfig(currentEnv), { logger: silentLogger, announce: () => undefined });
    },
    async close(opts = {}) {
      await gw.close();
      if (!opts.keepData) await fs.promises.rm(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}
