/**
 * Scale-out, as operators run it: two API processes and two worker processes (`reelay serve --role ...`) on
 * PostgreSQL + Redis + S3 (s3rver), against a fake upstream on loopback. 2,000 tasks go in through both API
 * processes; one worker is SIGKILLed in the middle and restarted. Afterwards: every task completed exactly
 * once, no upstream job was ever polled by two workers at the same time (the fake's own log), each task was
 * charged once, the ledger invariants hold, and every result is in the bucket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApimartFake } from '../../src/providers/apimart/fake.ts';
import { PostgresStore } from '../../src/store/postgres/pgStore.ts';
import { createS3Storage } from '../../src/media/storage/s3.ts';
import { createTestDatabase, postgresReachable, type TestDatabase } from '../helpers/postgres.ts';
import { startS3rver, type TestS3 } from '../helpers/s3rver.ts';
import { adminRedis, deleteKeys, redisAvailable, testPrefix, TEST_REDIS_URL } from '../helpers/redis.ts';
import { allTasks, moneyViolations } from '../money/invariants.ts';

const TASKS = 2000;
const ADMIN = 'scale-admin-token-0123456789abcdef';
const SECRET = 'scale-signing-secret-0123456789abcdef-0123';
const ROOT = new URL('../..', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Proc {
  name: string;
  role: 'api' | 'worker';
  port: number;
  child: ChildProcess | null;
}

const available = process.env.CI ? true : (await postgresReachable()) && (await redisAvailable());

describe.skipIf(!available)('two API and two worker processes on PostgreSQL, Redis and S3', () => {
  let db: TestDatabase;
  let s3: TestS3;
  let fake: ApimartFake;
  let prefix: string;
  let dir: string;
  const procs: Proc[] = [];

  async function boot(p: Proc): Promise<void> {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      PORT: String(p.port),
      HOST: '127.0.0.1',
      REELAY_ROLE: p.role,
      REELAY_DATA_DIR: path.join(dir, p.name),
      REELAY_CONFIG: path.join(dir, 'config.json'),
      REELAY_DATABASE_URL: db.url,
      REELAY_REDIS_URL: TEST_REDIS_URL,
      REELAY_REDIS_PREFIX: prefix,
      REELAY_ADMIN_TOKEN: ADMIN,
      REELAY_SIGNING_SECRET: SECRET,
      REELAY_PUBLIC_URL: `http://127.0.0.1:${procs[0].port}`,
      REELAY_ENGINE_LEASE_MS: '5000',
      REELAY_ENGINE_IDLE_SLEEP_MS: '1000',
      REELAY_LOG_LEVEL: 'error',
    };
    p.child = spawn(process.execPath, ['bin/reelay.js', 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
    for (let i = 0; i < 300; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${p.port}/healthz`)).ok) return;
      } catch {
        /* starting */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${p.name} did not start`);
  }

  function kill(p: Proc): Promise<void> {
    const c = p.child;
    p.child = null;
    if (!c || c.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    s3 = await startS3rver('reelay-scale');
    prefix = `${testPrefix()}`;
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-scale-'));
    fake = new ApimartFake({ apiKey: 'sk-scale' });
    fake.server.record = false;
    // Each status answer takes a while, so two workers polling one job at once would overlap in the fake.
    fake.server.delay('status', 10);
    await fake.start();
    const s3settings = s3.settings();
    await fs.promises.writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({
        channels: [{ name: 'up', provider: 'apimart', base_url: fake.url, api_key: 'sk-scale', poll_min_ms: 100, poll_max_ms: 400, poll_rps: 2000, webhooks: false }],
        allow_private_hosts: ['127.0.0.1'],
        s3: {
          endpoint: s3settings.endpoint,
          bucket: s3settings.bucket,
          region: s3settings.region,
          access_key_id: s3settings.access_key_id,
          secret_access_key: s3settings.secret_access_key,
          force_path_style: true,
        },
      }),
    );
    for (const [name, role] of [['api1', 'api'], ['api2', 'api'], ['worker1', 'worker'], ['worker2', 'worker']] as const) {
      procs.push({ name, role, port: await freePort(), child: null });
    }
    // The first process migrates; the others find the schema in place (advisory lock either way).
    await boot(procs[0]);
    await Promise.all(procs.slice(1).map(boot));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map(kill));
    await fake?.close();
    await s3?.close();
    await db?.drop();
    const redis = adminRedis();
    await deleteKeys(redis, prefix);
    redis.disconnect();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('completes every task exactly once through a worker crash', async () => {
    const api = (i: number) => `http://127.0.0.1:${procs[i % 2].port}`;
    const keyRes = await fetch(`${api(0)}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'scale', balance: 10_000 }),
    });
    const key = ((await keyRes.json()) as { key: string }).key;

    const ids: string[] = [];
    let killed = false;
    const submitOne = async (i: number) => {
      fake.jobs.latencyMs = 300 + (i % 10) * 150;
      const r = await fetch(`${api(i)}/v1/videos/generations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': `scale-${i}` },
        body: JSON.stringify({ model: 'happyhorse-1.0', prompt: `task ${i}`, resolution: '720P', duration: 3 }),
      });
      expect(r.status).toBe(200);
      ids.push(((await r.json()) as { data: { task_id: string }[] }).data[0].task_id);
    };
    for (let i = 0; i < TASKS; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, TASKS - i) }, (_, j) => submitOne(i + j)));
      if (!killed && i >= TASKS / 2) {
        // Halfway through the submissions, with hundreds of tasks in flight: kill a worker, restart it later.
        killed = true;
        await kill(procs[2]);
        setTimeout(() => void boot(procs[2]), 1500);
      }
    }
    expect(new Set(ids).size).toBe(TASKS);

    const store = await PostgresStore.open(db.url);
    try {
      const deadline = Date.now() + 120_000;
      while ((await store.countUnfinished()) > 0) {
        if (Date.now() > deadline) throw new Error(`${await store.countUnfinished()} tasks unfinished`);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(await moneyViolations(store)).toEqual([]);
      const [k] = await store.listKeys();
      const tasks = await allTasks(store, k.id);
      expect(tasks).toHaveLength(TASKS);
      expect(tasks.every((t) => t.status === 'completed')).toBe(true);
      // Each charged once: 3 s × 0.10 at 720P.
      expect(k.spentMicros).toBe(TASKS * 300_000);
      expect(fake.server.overlaps).toEqual([]);
      expect(fake.jobs.jobs.size).toBeGreaterThanOrEqual(TASKS);
      const bucket = createS3Storage(s3.settings());
      try {
        for (const t of tasks.filter((_, i) => i % 50 === 0)) expect(await bucket.stat(t.result!.videos[0].key), t.id).toBeDefined();
      } finally {
        await bucket.close?.();
      }
      // Results are served by either API process at the same signed URL.
      const view = (await (await fetch(`${api(1)}/v1/tasks/${tasks[0].id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
        data: { result: { videos: { url: string[] }[] } };
      };
      const url = new URL(view.data.result.videos[0].url[0]);
      const viaOther = await fetch(`${api(1)}${url.pathname}${url.search}`);
      expect(viaOther.status).toBe(200);
      expect((await viaOther.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    } finally {
      await store.close();
    }
  }, 240_000);
});
