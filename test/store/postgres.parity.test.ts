/**
 * Where PostgreSQL would behave differently from SQLite unless the store sees to it: the same calls are made
 * on both stores and must give the same answers — ordering of ids and names on a server whose default
 * collation is a natural-language one, fractional millisecond times, JSON round trips — plus the one
 * deliberate difference: text with NUL characters, which PostgreSQL cannot store, is refused as a client error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.ts';
import { PostgresStore } from '../../src/store/postgres/pgStore.ts';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import type { Store } from '../../src/store/types.ts';
import { newKey, newTask } from '../contracts/store.contract.ts';
import { createTestDatabase, postgresReachable, skipWithoutPostgres, type TestDatabase } from '../helpers/postgres.ts';

const noLimit = { maxConcurrentTasks: null };

if (await postgresReachable()) {
  describe('postgres and sqlite give the same answers', () => {
    let database: TestDatabase;
    let dir: string;
    let pg: PostgresStore;
    let sqlite: SqliteStore;
    beforeAll(async () => {
      database = await createTestDatabase({ icuLocale: 'en-US' });
      pg = await PostgresStore.open(database.url, { poolSize: 4 });
      dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-parity-'));
      sqlite = new SqliteStore(path.join(dir, 'reelay.db'), { synchronous: 'NORMAL' });
    });
    afterAll(async () => {
      await pg.close();
      await sqlite.close();
      await database.drop();
      await fs.promises.rm(dir, { recursive: true, force: true });
    });
    const both = async <T>(fn: (s: Store) => Promise<T>): Promise<[T, T]> => [await fn(pg), await fn(sqlite)];

    it('orders ids, cursors and usage byte by byte, as SQLite does, on an en-US server', async () => {
      const suffix = Math.random().toString(36).slice(2, 8);
      // en-US would sort these a, B, b, Z (case-insensitively, ignoring the underscore); bytes sort B, Z, a, b.
      const ids = ['task_a', 'task_B', 'task_b', 'task_Z', 'task-x', 'task_1'].map((id) => `${id}_${suffix}`);
      const models = ['beta_1', 'Zeta', 'alpha', 'beta-2'];
      const [onPg, onSqlite] = await both(async (s) => {
        const k = await s.createKey(newKey({ id: `key_${s.kind}_${suffix}`, balanceMicros: 100_000_000 }));
        for (const [i, id] of ids.entries()) await s.createTask(newTask(k.id, { id, model: models[i % models.length] }), noLimit);
        const pages: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await s.listTasks(k.id, { limit: 2, cursor });
          pages.push(...page.items.map((t) => t.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        const usage = (await s.usage({ keyId: k.id })).map((r) => r.model);
        // Keys created at the same instant are listed by id.
        for (const id of ['Kb', 'ka', 'KA']) await s.createKey(newKey({ id: `${id}_${suffix}`, createdAt: 1 }));
        const keys = (await s.listKeys()).filter((x) => x.createdAt === 1).map((x) => x.id.split('_')[0]);
        return { pages, usage, keys };
      });
      expect(onPg).toEqual({ pages: [...ids].sort().reverse(), usage: [...models].sort(), keys: ['KA', 'Kb', 'ka'] });
      expect(onPg).toEqual(onSqlite);
    });

    it('accepts fractional millisecond times (a jittered delay) and treats them alike', async () => {
      const [a, b] = await both(async (s) => {
        const k = await s.createKey(newKey({ balanceMicros: 1_000_000 }));
        const now = 1_700_000_000_000;
        const t = (await s.createTask(newTask(k.id, { nextCheckAt: now - 10.25, deadlineAt: now + 0.5 }), noLimit)).task;
        const claimed = await s.claimTasks(`w-${s.kind}`, now + 0.4, 1000.3, 10);
        const patched = await s.updateTask(t.id, `w-${s.kind}`, { release: true, nextCheckAt: now + 2000.7, progress: 12.9 }, now + 1.2);
        return { claimed: claimed.map((x) => x.id).includes(t.id), next: patched?.nextCheckAt, progress: patched?.progress };
      });
      expect(a.claimed && b.claimed).toBe(true);
      expect(a.progress).toBe(12);
      expect(a.progress).toBe(b.progress);
      // SQLite keeps the fraction, PostgreSQL the nearest millisecond.
      expect(Math.abs(a.next! - b.next!)).toBeLessThanOrEqual(0.5);
    });

    it('round-trips the JSON parts of a task unchanged', async () => {
      const params = { prompt: 'ünïcödé ✓ "quoted" \\ back', duration: 5.5, seed: 2 ** 40, nested: { list: [1, null, 'x', { deep: true }], empty: {} } };
      const upstream = { channel: 'c', provider: 'p', operation: { id: 'op', meta: { retries: [0, 1] } }, startedAt: 1, billedSeconds: 4.25 };
      const [a, b] = await both(async (s) => {
        const k = await s.createKey(newKey({ balanceMicros: 1_000_000, models: ['viduq3', 'wan2.5'] }));
        const t = (await s.createTask(newTask(k.id, { params, nextCheckAt: 0 }), noLimit)).task;
        await s.claimTask(t.id, 'w', Date.now(), 60_000);
        await s.updateTask(t.id, 'w', { upstream, failedChannels: ['x', 'y'], facts: null }, Date.now());
        const got = (await s.getTask(t.id))!;
        return { params: got.params, upstream: got.upstream, failed: got.failedChannels, facts: got.facts, models: (await s.getKey(k.id))!.models };
      });
      expect(a).toEqual({ params, upstream, failed: ['x', 'y'], facts: null, models: ['viduq3', 'wan2.5'] });
      expect(a).toEqual(b);
    });

    it('refuses text with a NUL character as invalid_value, writing nothing (SQLite would store it)', async () => {
      const k = await pg.createKey(newKey({ balanceMicros: 1_000_000 }));
      const t = newTask(k.id, { params: { prompt: 'a\u0000b' } });
      const e = await pg.createTask(t, noLimit).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).code).toBe('invalid_value');
      expect(await pg.getTask(t.id)).toBeUndefined();
      expect(await pg.getKey(k.id)).toMatchObject({ balanceMicros: 1_000_000, heldMicros: 0 });
      const renamed = await pg.updateKey(k.id, { name: 'nul\u0000name' }).catch((x: unknown) => x);
      expect((renamed as ApiError).code).toBe('invalid_value');
    });
  });
} else {
  skipWithoutPostgres('postgres and sqlite give the same answers');
}
