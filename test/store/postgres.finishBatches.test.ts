/**
 * Finishes settled a batch at a time (src/store/postgres/finishBatches.ts). The shared contract and the money
 * properties cover settlement one finish at a time and under races; here what batching could break: one
 * transaction for a turn's finishes of several keys, each settled as alone (costs below and above the hold,
 * failures, cancels, webhooks), a task finished twice in one turn, finished tasks and unknown ids in a batch,
 * a batch that fails or whose answer is lost, two processes finishing the same tasks, and closing.
 */
import { describe, expect, it } from 'vitest';
import { FinishBatches } from '../../src/store/postgres/finishBatches.ts';
import { transaction } from '../../src/store/postgres/transaction.ts';
import { PostgresStore } from '../../src/store/postgres/pgStore.ts';
import type { TaskOutcome } from '../../src/tasks/task.ts';
import { expectLedgerConsistent, newKey, newTask } from '../contracts/store.contract.ts';
import { countedTransactions, noFallback, postgresReachable, skipWithoutPostgres, storeForEachTest, testDatabaseForFile } from '../helpers/postgres.ts';

const completed = (cost: number): TaskOutcome => ({
  status: 'completed',
  result: { videos: [{ key: 'results/x/0.mp4', bytes: 10, contentType: 'video/mp4' }], expiresAt: Math.floor(Date.now() / 1000) + 3600 },
  costMicros: cost,
  billedSeconds: 4,
});
const failed: TaskOutcome = { status: 'failed', error: { code: 'upstream_error', message: 'boom' } };
const cancelled: TaskOutcome = { status: 'cancelled', error: { code: 'cancelled', message: 'by the client' } };
const noLimit = { maxConcurrentTasks: null };

if (await postgresReachable()) {
  const { database, admin } = await testDatabaseForFile();

  describe('postgres store: finishes settled together', () => {
    const store = storeForEachTest(database, admin);

    /** A batcher on the store's pool whose transactions and statements are counted; a batch that fails has no fallback. */
    function counted() {
      const { inTransaction, seen } = countedTransactions(store().pool);
      return { finishes: new FinishBatches(inTransaction, noFallback), seen };
    }

    /** `n` tasks of `keyId` at 1,000,000 µ each, every other one with a callback URL. */
    async function made(keyId: string, n: number) {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        ids.push((await store().createTask(newTask(keyId, { priceMicros: 1_000_000, callbackUrl: i % 2 ? null : `https://hooks.test/${i}` }), noLimit)).task.id);
      }
      return ids;
    }

    it('a turn’s finishes of several keys are one transaction, each settled as alone: costs, failures, cancels, webhooks', async () => {
      const a = await store().createKey(newKey({ balanceMicros: 100_000_000 }));
      const b = await store().createKey(newKey({ balanceMicros: 100_000_000 }));
      const ids = [...(await made(a.id, 8)), ...(await made(b.id, 8))];
      const outcomes = ids.map((_, i) => [completed(250_000), completed(3_000_000), failed, cancelled][i % 4]);
      const { finishes, seen } = counted();
      const results = await Promise.all(ids.map((id, i) => finishes.finish(id, outcomes[i], Date.now())));

      expect(seen.transactions).toBe(1);
      expect(seen.statements).toEqual(['SELECT * FROM tasks WHER', 'reelay_apply_moves', 'UPDATE tasks t SET statu', 'reelay_insert_webhooks']);
      for (const [i, r] of results.entries()) {
        expect(r?.changed).toBe(true);
        expect(r?.task).toEqual(await store().getTask(ids[i]));
        expect(r?.task).toMatchObject({ status: outcomes[i].status, phase: 'done', progress: 100, leaseOwner: null });
      }
      expect(results[0]?.task).toMatchObject({ costMicros: 250_000, billedSeconds: 4 });
      expect(results[1]?.task).toMatchObject({ costMicros: 1_000_000 }); // capped at the hold
      // Per key, two of each: 2 × 0.25 + 2 × 1 spent, the rest back; nothing held.
      for (const k of [a, b]) {
        expect(await store().getKey(k.id)).toMatchObject({ heldMicros: 0, spentMicros: 2_500_000, balanceMicros: 100_000_000 - 2_500_000 });
        await expectLedgerConsistent(store(), k.id);
      }
      const hooks = await admin.query('SELECT task_id, event FROM webhook_deliveries ORDER BY task_id');
      expect(hooks.rows).toEqual(ids.map((id, i) => ({ task_id: id, event: outcomes[i].status })).filter((_, i) => i % 8 % 2 === 0).sort((x, y) => (x.task_id < y.task_id ? -1 : 1)));
    });

    it('a task finished twice in one turn: the second waits for the first’s commit and moves nothing', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 100_000_000 }));
      const [t1, t2] = await made(k.id, 2);
      const { finishes, seen } = counted();
      const [first, again, other] = await Promise.all([finishes.finish(t1, completed(100), Date.now()), finishes.finish(t1, failed, Date.now()), finishes.finish(t2, failed, Date.now())]);
      expect(first).toMatchObject({ changed: true, task: { status: 'completed' } });
      expect(again).toEqual({ changed: false, task: first!.task });
      expect(other?.changed).toBe(true);
      expect(seen.transactions).toBe(2);
      expect(await store().getKey(k.id)).toMatchObject({ heldMicros: 0, spentMicros: 100 });
      await expectLedgerConsistent(store(), k.id);
    });

    it('a task already finished is answered unchanged and an unknown id with nothing, beside the others', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 100_000_000 }));
      const [done, open] = await made(k.id, 2);
      const before = (await store().finishTask(done, cancelled, Date.now()))!.task;
      const { finishes } = counted();
      const results = await Promise.all([finishes.finish(done, completed(5), Date.now()), finishes.finish('task_unknown', failed, Date.now()), finishes.finish(open, completed(5), Date.now())]);
      expect(results[0]).toEqual({ changed: false, task: before });
      expect(results[1]).toBeUndefined();
      expect(results[2]?.changed).toBe(true);
      expect(await store().getKey(k.id)).toMatchObject({ heldMicros: 0, spentMicros: 5 });
      await expectLedgerConsistent(store(), k.id);
    });

    it('a batch whose answer is lost is finished again alone, which moves nothing twice', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 100_000_000 }));
      const ids = await made(k.id, 4);
      const alone: string[] = [];
      // COMMIT went through and its answer was lost: the single path then finds every task finished.
      const finishes = new FinishBatches(
        async (fn) => {
          await transaction(store().pool, fn);
          throw new Error('Connection terminated unexpectedly');
        },
        (id, outcome, now) => (alone.push(id), store().finishTask(id, outcome, now)),
      );
      const results = await Promise.all(ids.map((id) => finishes.finish(id, completed(1_000), Date.now())));
      expect(alone).toEqual(ids);
      expect(results.map((r) => r?.changed)).toEqual([false, false, false, false]);
      expect(await store().getKey(k.id)).toMatchObject({ heldMicros: 0, spentMicros: 4_000 });
      await expectLedgerConsistent(store(), k.id);
    });

    it('two processes finishing the same tasks beside submits of the same keys: no deadlock, each task settled once', async () => {
      const other = await PostgresStore.open(database.url, { poolSize: 4 });
      try {
        const keys = await Promise.all(Array.from({ length: 4 }, () => store().createKey(newKey({ balanceMicros: 1_000_000_000 }))));
        const ids = (await Promise.all(keys.map((k) => made(k.id, 30)))).flat();
        const mine = counted();
        const results = await Promise.all([
          ...ids.map((id) => mine.finishes.finish(id, completed(400_000), Date.now())),
          ...[...ids].reverse().map((id) => other.finishTask(id, failed, Date.now())),
          ...keys.flatMap((k) => Array.from({ length: 20 }, () => other.createTask(newTask(k.id, { priceMicros: 1_000 }), noLimit))),
        ]);
        expect(mine.seen.errors).toEqual([]);
        // Each task settled by exactly one of the two finishes.
        const changed = results.slice(0, 2 * ids.length).filter((r) => r && 'changed' in r && r.changed);
        expect(changed).toHaveLength(ids.length);
        for (const k of keys) await expectLedgerConsistent(store(), k.id);
        const settled = await admin.query("SELECT count(*)::int AS n FROM ledger WHERE kind IN ('settle', 'refund')");
        expect(settled.rows[0].n).toBe(ids.length);
      } finally {
        await other.close();
      }
    });

    it('closing the store answers the finishes already handed in before the pool goes', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 100_000_000 }));
      const ids = await made(k.id, 6);
      const finishing = ids.map((id) => store().finishTask(id, failed, Date.now()));
      await store().close();
      expect((await Promise.allSettled(finishing)).map((r) => r.status)).toEqual(Array(6).fill('fulfilled'));
      expect((await admin.query("SELECT count(*)::int AS n FROM tasks WHERE status = 'failed'")).rows[0].n).toBe(6);
    });
  });
} else {
  skipWithoutPostgres('postgres finish batches');
}
