/**
 * What only PostgreSQL has to prove: several gateway processes on one database. Each store here has its own
 * pool — its own connections — exactly as two processes would, so nothing is serialised in Node; only the
 * database's row locks keep money and leases right.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiError } from '../../src/errors.ts';
import { PostgresStore } from '../../src/store/postgres/pgStore.ts';
import type { TaskOutcome } from '../../src/tasks/task.ts';
import { expectLedgerConsistent, newKey, newTask } from '../contracts/store.contract.ts';
import { createTestDatabase, postgresReachable, skipWithoutPostgres, type TestDatabase } from '../helpers/postgres.ts';
import { moneyViolations } from '../money/invariants.ts';

const noLimit = { maxConcurrentTasks: null };

if (await postgresReachable()) {
  describe('postgres store: two processes on one database', () => {
    let database: TestDatabase;
    let a: PostgresStore;
    let b: PostgresStore;
    beforeEach(async () => {
      database = await createTestDatabase();
      a = await PostgresStore.open(database.url, { poolSize: 10 });
      b = await PostgresStore.open(database.url, { poolSize: 10 });
    });
    afterEach(async () => {
      await Promise.all([a.close(), b.close()]);
      await database.drop();
    });
    const either = (i: number) => (i % 2 ? b : a);

    it('50 concurrent submits across both against a balance for 10 accept exactly 10', async () => {
      const k = await a.createKey(newKey({ balanceMicros: 10 * 400_000 }));
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => either(i).createTask(newTask(k.id, { priceMicros: 400_000 }), noLimit)),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as ApiError).code).toBe('payment_required');
      expect(await b.getKey(k.id)).toMatchObject({ balanceMicros: 0, heldMicros: 4_000_000, spentMicros: 0 });
      await expectLedgerConsistent(a, k.id);
      expect(await moneyViolations(b)).toEqual([]);
    });

    it('a concurrency limit holds across both', async () => {
      const k = await a.createKey(newKey({ balanceMicros: 100_000_000 }));
      const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => either(i).createTask(newTask(k.id), { maxConcurrentTasks: 3 })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as ApiError).code).toBe('concurrency_limit_exceeded');
      expect(await a.countUnfinished()).toBe(3);
    });

    it('racing one Idempotency-Key from both creates one task, charged once (for each of several keys)', async () => {
      const k = await a.createKey(newKey({ balanceMicros: 50_000_000 }));
      const idemKeys = ['r1', 'r2', 'r3', 'r4', 'r5'];
      const calls = idemKeys.flatMap((key) =>
        Array.from({ length: 10 }, (_, i) =>
          either(i).createTask(newTask(k.id, { idempotencyKey: key }), { idempotency: { key, requestHash: 'same-body', windowMs: 86_400_000 }, maxConcurrentTasks: null }).then((r) => ({ key, ...r })),
        ),
      );
      const results = await Promise.all(calls);
      for (const key of idemKeys) {
        const mine = results.filter((r) => r.key === key);
        expect(new Set(mine.map((r) => r.task.id)).size, key).toBe(1);
        expect(mine.filter((r) => !r.replayed), key).toHaveLength(1);
      }
      expect((await b.getKey(k.id))?.heldMicros).toBe(idemKeys.length * 500_000);
      expect(await moneyViolations(a)).toEqual([]);
    });

    it('claims from both never return the same task, and together they take every due task', async () => {
      const k = await a.createKey(newKey({ balanceMicros: 1_000_000_000 }));
      const now = Date.now();
      const ids = new Set<string>();
      for (let i = 0; i < 200; i++) ids.add((await either(i).createTask(newTask(k.id, { priceMicros: 1000, nextCheckAt: now - 1000 + i }), noLimit)).task.id);
      // Four workers per process, each claiming small batches until nothing is due.
      const worker = async (store: PostgresStore, name: string): Promise<string[]> => {
        const mine: string[] = [];
        for (;;) {
          const batch = await store.claimTasks(name, now, 600_000, 7);
          if (batch.length === 0) return mine;
          for (const t of batch) expect(t.leaseOwner).toBe(name);
          mine.push(...batch.map((t) => t.id));
        }
      };
      const claimed = (await Promise.all([a, b].flatMap((s, p) => [0, 1, 2, 3].map((w) => worker(s, `p${p}:w${w}`))))).flat();
      expect(claimed.length).toBe(new Set(claimed).size);
      expect(new Set(claimed)).toEqual(ids);
      expect(await a.claimTasks('late', now, 600_000, 10)).toEqual([]);
    });

    it('one task finished from both at once moves money once', async () => {
      const k = await a.createKey(newKey({ balanceMicros: 100_000_000 }));
      const created = await Promise.all(Array.from({ length: 30 }, (_, i) => either(i).createTask(newTask(k.id, { priceMicros: 1_000_000 }), noLimit)));
      const done: TaskOutcome = { status: 'completed', result: { videos: [], expiresAt: 2_000_000_000 }, costMicros: 600_000, billedSeconds: 5 };
      const failed: TaskOutcome = { status: 'failed', error: { code: 'upstream_error', message: 'x' } };
      const results = await Promise.all(created.map(({ task }) => Promise.all([a.finishTask(task.id, done, Date.now()), b.finishTask(task.id, failed, Date.now())])));
      for (const pair of results) expect(pair.filter((r) => r?.changed)).toHaveLength(1);
      expect(await moneyViolations(b)).toEqual([]);
      expect((await a.getKey(k.id))?.heldMicros).toBe(0);
    });
  });
} else {
  skipWithoutPostgres('postgres store: two processes on one database');
}
