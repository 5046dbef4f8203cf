/**
 * A worker whose lease ran out while it copied a result finds, when it records completion, that the task
 * has already finished. If another worker completed it, that worker's result lives under the same
 * per-task keys and must stay; if the task was cancelled, the copy is nobody's and is deleted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import { FileStorage } from '../../src/media/storage/files.ts';
import { TaskRunner, resultKey, type RunnerDeps } from '../../src/tasks/runner.ts';
import { silentLogger } from '../../src/runtime/logger.ts';
import type { TaskOutcome, TaskRecord } from '../../src/tasks/task.ts';
import { newKey, newTask } from '../contracts/store.contract.ts';

const VIDEO = Buffer.from('not really an mp4, but bytes all the same');

describe('collecting a result the task no longer needs', () => {
  let dir: string;
  let store: SqliteStore;
  let storage: FileStorage;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-collect-'));
    store = new SqliteStore(path.join(dir, 'reelay.db'), { synchronous: 'NORMAL' });
    storage = new FileStorage(path.join(dir, 'files'));
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A task in phase collecting, leased by worker w1; `meanwhile` runs while w1 copies its result. */
  async function collect(meanwhile: (task: TaskRecord) => Promise<void>): Promise<TaskRecord> {
    const key = await store.createKey(newKey({ balanceMicros: 10_000_000 }));
    const { task: created } = await store.createTask(newTask(key.id), { maxConcurrentTasks: null });
    const now = Date.now();
    await store.claimTask(created.id, 'w1', now, 60_000);
    const task = (await store.updateTask(created.id, 'w1', {
      phase: 'collecting',
      upstream: { channel: 'up', provider: 'fake', operation: {}, startedAt: now, outputs: [{ kind: 'url', url: 'http://upstream.invalid/v.mp4' }] },
    }, now))!;
    const channel = {
      name: 'up',
      inFlight: 1,
      provider: {
        openOutput: async () => {
          await meanwhile(task);
          return { body: Readable.from([VIDEO]), contentType: 'video/mp4' };
        },
      },
    };
    const deps = {
      store,
      storage,
      router: { get: () => channel },
      prices: { price: () => 400_000 },
      inputs: {},
      fetch: {},
      api: {},
      logger: silentLogger,
      workerId: 'w1',
      leaseMs: 60_000,
      resultTtlSeconds: 3600,
      maxResultBytes: 1 << 20,
      maxSubmitRounds: 3,
      maxStepErrors: 3,
    } as unknown as RunnerDeps;
    await new TaskRunner(deps).run(task);
    return (await store.getTask(task.id))!;
  }

  it('keeps the result another worker completed the task with (same keys)', async () => {
    const done = await collect(async (task) => {
      // Worker w2, after w1's lease ran out: copies the same result and completes the task first.
      const key = resultKey(task.id, 0);
      await storage.put(key, VIDEO, { contentType: 'video/mp4' });
      const outcome: TaskOutcome = {
        status: 'completed',
        result: { videos: [{ key, bytes: VIDEO.length, contentType: 'video/mp4' }], expiresAt: Math.floor(Date.now() / 1000) + 3600 },
        costMicros: 400_000,
        billedSeconds: 5,
      };
      expect((await store.finishTask(task.id, outcome, Date.now()))?.changed).toBe(true);
    });
    expect(done.status).toBe('completed');
    expect(done.result?.videos[0].key).toBe(resultKey(done.id, 0));
    expect(await storage.stat(resultKey(done.id, 0))).toBeDefined();
  });

  it('deletes its copy when the task was cancelled meanwhile', async () => {
    const done = await collect(async (task) => {
      await store.finishTask(task.id, { status: 'cancelled', error: { code: 'cancelled', message: 'by the client' } }, Date.now());
    });
    expect(done.status).toBe('cancelled');
    expect(await storage.stat(resultKey(done.id, 0))).toBeUndefined();
  });
});
