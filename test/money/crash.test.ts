/**
 * A real crash: `reelay serve` runs as a child process against a fake upstream; 300 tasks are submitted and
 * complete (or fail) in a burst; the process is SIGKILLed three times in the middle of that and restarted.
 * Afterwards every task is finished exactly once, money moved exactly once per task, and every completed
 * task's video is in storage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApimartFake } from '../../src/providers/apimart/fake.ts';
import { FAKE_FAIL_MARKER } from '../../src/providers/fakes/fakeJobs.ts';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import { FileStorage } from '../../src/media/storage/files.ts';
import { allTasks, moneyViolations } from './invariants.ts';

const ADMIN = 'crash-admin-token-0123456789';
const TASKS = 300;

describe('crash in the middle of settling', () => {
  let fake: ApimartFake;
  let dir: string;
  let child: ChildProcess | null = null;
  let url = '';

  // A port taken by another test between our choice and the child's listen makes the child exit at once
  // (EADDRINUSE, seen in CI): boot again on another port.
  async function boot(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await bootOnce();
      } catch (e) {
        if (attempt === 3 || !String(e).includes('exited while starting')) throw e;
      }
    }
  }

  async function bootOnce(): Promise<void> {
    const b0 = Date.now();
    // Below Linux's ephemeral range (32768–60999), where the suite's own connections take their ports.
    const port = 20000 + Math.floor(Math.random() * 12000);
    url = `http://127.0.0.1:${port}`;
    const config = {
      channels: [{ name: 'up', provider: 'apimart', base_url: fake.url, api_key: 'sk-fake-apimart', poll_min_ms: 30, poll_max_ms: 120, poll_rps: 5000, webhooks: false }],
      allow_private_hosts: ['127.0.0.1'],
    };
    await fs.promises.writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
    const c = spawn(process.execPath, ['bin/reelay.js', 'serve'], {
      env: { ...process.env, REELAY_DATA_DIR: dir, PORT: String(port), REELAY_CONFIG: path.join(dir, 'config.json'), REELAY_ADMIN_TOKEN: ADMIN, REELAY_LOG_LEVEL: 'error', REELAY_ENGINE_IDLE_SLEEP_MS: '50' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child = c;
    // A cold start compiles the sources through tsx; beside the whole suite on two cores that has taken
    // over 10 s, so the wait is by deadline, and a process that exits (a port taken) is reported at once.
    const deadline = b0 + 45_000;
    while (Date.now() < deadline) {
      if (c.exitCode !== null || c.signalCode !== null) throw new Error(`gateway exited while starting (${c.exitCode ?? c.signalCode})`);
      try {
        if ((await fetch(`${url}/healthz`)).ok) return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`gateway did not start within ${Date.now() - b0} ms`);
  }

  function kill(): Promise<void> {
    const c = child!;
    child = null;
    return new Promise((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  }

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-crash-'));
    fake = new ApimartFake({ apiKey: 'sk-fake-apimart' });
    fake.server.record = false;
    await fake.start();
  });
  afterAll(async () => {
    if (child) await kill();
    await fake.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('leaves every task finished once and the ledger exact after three SIGKILLs', async () => {
    await boot();
    const keyRes = await fetch(`${url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'crash', balance: 1000 }) });
    const key = ((await keyRes.json()) as { key: string }).key;
    // Upstream jobs finish 0.3–1.5 s after submit, so completions (and settlements) pile up over ~2 s.
    fake.jobs.latencyMs = 300;
    const submitted: string[] = [];
    const s0 = Date.now();
    await Promise.all(
      Array.from({ length: TASKS }, async (_, i) => {
        fake.jobs.latencyMs = 300 + (i % 12) * 100;
        const r = await fetch(`${url}/v1/videos/generations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': `crash-${i}` },
          body: JSON.stringify({ model: 'happyhorse-1.0', prompt: i % 7 === 0 ? `fails ${FAKE_FAIL_MARKER}` : `task ${i}`, resolution: '720P', duration: 3 }),
        });
        expect(r.status).toBe(200);
        submitted.push(((await r.json()) as { data: { task_id: string }[] }).data[0].task_id);
      }),
    );
    console.log("submit ms", Date.now() - s0);
    for (const waitMs of [500, 450, 400]) {
      await new Promise((r) => setTimeout(r, waitMs));
      await kill();
      await boot();
    }
    const t0 = Date.now();
    // Let the last process finish everything.
    const deadline = Date.now() + 60_000;
    const store = new SqliteStore(path.join(dir, 'reelay.db'), { synchronous: 'NORMAL' });
    try {
      for (;;) {
        const unfinished = await store.countUnfinished();
        if (unfinished === 0) break;
        if (Date.now() > deadline) throw new Error(`${unfinished} tasks still unfinished`);
        await new Promise((r) => setTimeout(r, 200));
      }
      console.log("drain ms", Date.now() - t0);
      expect(await moneyViolations(store)).toEqual([]);
      const [k] = await store.listKeys();
      const tasks = await allTasks(store, k.id);
      expect(tasks).toHaveLength(TASKS);
      expect(new Set(tasks.map((t) => t.id))).toEqual(new Set(submitted));
      const storage = new FileStorage(path.join(dir, 'objects'));
      for (const t of tasks) {
        expect(t.status).toBe(t.id && submitted.includes(t.id) ? t.status : 'x');
        if (t.status === 'completed') expect(await storage.stat(t.result!.videos[0].key), t.id).toBeDefined();
      }
      const failed = tasks.filter((t) => t.status === 'failed');
      expect(failed.length).toBe(Math.ceil(TASKS / 7));
      expect(failed.every((t) => t.error?.code === 'upstream_error')).toBe(true);
      expect(tasks.filter((t) => t.status === 'completed').length).toBe(TASKS - failed.length);
    } finally {
      await store.close();
    }
  }, 120_000);
});
