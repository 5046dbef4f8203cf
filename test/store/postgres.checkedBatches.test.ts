/**
 * Submits with an Idempotency-Key or a concurrency limit, checked and written a batch at a time
 * (src/store/postgres/checkedTaskBatches.ts). The shared contract and the money properties cover the rules
 * one submit at a time and under races; here what batching could break: one transaction for a turn's
 * submits, each still answered as it would be alone and in order (replays, reused keys, limits, balance),
 * a key used twice in one turn, a batch PostgreSQL refuses, two processes on the same keys, and closing.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.ts';
import { PostgresStore } from '../../src/store/postgres/pgStore.ts';
import { CheckedTaskBatches } from '../../src/store/postgres/checkedTaskBatches.ts';
import { transaction } from '../../src/store/postgres/transaction.ts';
import type { CreateTaskOptions, CreateTaskResult } from '../../src/store/types.ts';
import type { NewTask } from '../../src/tasks/task.ts';
import { expectLedgerConsistent, newKey, newTask } from '../contracts/store.contract.ts';
import { countedTransactions, noFallback, postgresReachable, skipWithoutPostgres, storeForEachTest, testDatabaseForFile } from '../helpers/postgres.ts';

const DAY = 86_400_000;
const keyed = (key: string, requestHash = 'body-1'): CreateTaskOptions => ({ idempotency: { key, requestHash, windowMs: DAY }, maxConcurrentTasks: null });

if (await postgresReachable()) {
  const { database, admin } = await testDatabaseForFile();

  describe('postgres store: submits checked under the key lock, written together', () => {
    const store = storeForEachTest(database, admin);

    /** A batcher on the store's pool whose transactions and statements are counted; a batch that fails has no fallback. */
    function counted() {
      const { inTransaction, seen } = countedTransactions(store().pool);
      return { batches: new CheckedTaskBatches(inTransaction, noFallback), seen };
    }

    const codeOf = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? (r.reason as ApiError).code : 'ok');

    it('a turn’s keyed submits are one transaction; each is answered as alone: new, replayed, refused or started anew', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 100_000_000 }));
      const earlier = await store().createTask(newTask(k.id, { priceMicros: 1_000 }), keyed('again'));
      await store().createTask(newTask(k.id, { priceMicros: 1_000 }), keyed('other-body'));
      const old = await store().createTask(newTask(k.id, { priceMicros: 1_000, createdAt: Date.now() - 2 * DAY }), keyed('expired'));
      const { batches, seen } = counted();
      const fresh = Array.from({ length: 20 }, (_, i) => batches.create(newTask(k.id, { priceMicros: 10_000 }), keyed(`new-${i}`)));
      const again = batches.create(newTask(k.id, { priceMicros: 1_000 }), keyed('again'));
      const reused = batches.create(newTask(k.id, { priceMicros: 1_000 }), keyed('other-body', 'body-2'));
      const expired = batches.create(newTask(k.id, { priceMicros: 1_000 }), keyed('expired'));
      const results = await Promise.allSettled([...fresh, again, reused, expired]);

      expect(results.map(codeOf)).toEqual([...Array(20).fill('ok'), 'ok', 'idempotency_key_reused', 'ok']);
      expect(seen.transactions).toBe(1);
      expect(seen.statements).toEqual(['reelay_lock_keys', 'reelay_idempotency_of_pairs', 'SELECT * FROM tasks WHER', 'reelay_insert_held_tasks', 'reelay_idempotency_put']);
      const value = (i: number) => (results[i] as PromiseFulfilledResult<CreateTaskResult>).value;
      expect(value(20)).toEqual({ task: earlier.task, replayed: true });
      expect(value(22).replayed).toBe(false);
      expect(value(22).task.id).not.toBe(old.task.id);
      // The 20 new tasks and the one started anew are held; the replay and the refusal cost nothing.
      expect(await store().getKey(k.id)).toMatchObject({ heldMicros: 3 * 1_000 + 20 * 10_000 + 1_000 });
      for (const i of [0, 19, 22]) expect(await store().getTask(value(i).task.id)).toEqual(value(i).task);
      // The records now name the new tasks: a repeat of each replays it.
      expect(await store().createTask(newTask(k.id), keyed('new-7'))).toEqual({ task: value(7).task, replayed: true });
      expect(await store().createTask(newTask(k.id), keyed('expired'))).toEqual({ task: value(22).task, replayed: true });
      await expectLedgerConsistent(store(), k.id);
    });

    it('a key used twice in one turn: the second waits for the first’s commit, then replays it or is refused', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 100_000_000 }));
      const { batches, seen } = counted();
      const results = await Promise.allSettled([
        batches.create(newTask(k.id), keyed('a')),
        batches.create(newTask(k.id), keyed('b')),
        batches.create(newTask(k.id), keyed('a')),
        batches.create(newTask(k.id), keyed('b', 'body-2')),
        batches.create(newTask(k.id), keyed('c')),
      ]);
      expect(results.map(codeOf)).toEqual(['ok', 'ok', 'ok', 'idempotency_key_reused', 'ok']);
      const value = (i: number) => (results[i] as PromiseFulfilledResult<CreateTaskResult>).value;
      expect(value(2)).toEqual({ task: value(0).task, replayed: true });
      expect(value(4).replayed).toBe(false);
      // [a, b], then [a again, b again, c]: a batch never holds a key twice.
      expect(seen.transactions).toBe(2);
      expect(Number((await admin.query('SELECT count(*) AS n FROM tasks WHERE key_id = $1', [k.id])).rows[0].n)).toBe(3);
      await expectLedgerConsistent(store(), k.id);
    });

    it('a key’s concurrency limit is counted in order within a batch, other keys unaffected', async () => {
      const limited = await store().createKey(newKey({ balanceMicros: 100_000_000 }));
      const free = await store().createKey(newKey({ balanceMicros: 100_000_000 }));
      await store().createTask(newTask(limited.id), { maxConcurrentTasks: 3 });
      const { batches, seen } = counted();
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? batches.create(newTask(limited.id), { maxConcurrentTasks: 3 }) : batches.create(newTask(free.id), keyed(`f-${i}`)))),
      );
      expect(results.map(codeOf)).toEqual(['ok', 'ok', 'ok', 'ok', 'concurrency_limit_exceeded', 'ok', 'concurrency_limit_exceeded', 'ok', 'concurrency_limit_exceeded', 'ok']);
      expect(((results[4] as PromiseRejectedResult).reason as ApiError).message).toBe('This key already has 3 unfinished tasks, its limit; wait for one to finish.');
      expect(seen.transactions).toBe(1);
      expect(seen.statements).toContain('reelay_count_active_of_keys');
      expect(await store().countUnfinished()).toBe(3 + 5);
      for (const k of [limited, free]) await expectLedgerConsistent(store(), k.id);
    });

    it('a balance that runs out within a batch takes the submits in order; each refusal names the balance it met', async () => {
      const poor = await store().createKey(newKey({ balanceMicros: 650 }));
      const { batches } = counted();
      const prices = [300, 500, 100, 400, 200];
      const results = await Promise.allSettled(prices.map((p, i) => batches.create(newTask(poor.id, { priceMicros: p }), keyed(`p-${i}`))));
      expect(results.map(codeOf)).toEqual(['ok', 'payment_required', 'ok', 'payment_required', 'ok']);
      expect(((results[1] as PromiseRejectedResult).reason as ApiError).message).toBe('Insufficient balance: 0.00035 available, 0.0005 needed.');
      expect(((results[3] as PromiseRejectedResult).reason as ApiError).message).toBe('Insufficient balance: 0.00025 available, 0.0004 needed.');
      expect(await store().getKey(poor.id)).toMatchObject({ balanceMicros: 50, heldMicros: 600 });
      // A refused submit leaves no record: the same key may be used again once there is money.
      expect(Number((await admin.query('SELECT count(*) AS n FROM idempotency WHERE key_id = $1', [poor.id])).rows[0].n)).toBe(3);
      await expectLedgerConsistent(store(), poor.id);
    });

    it('a batch PostgreSQL refuses is done again one submit at a time: only the bad one fails', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 10_000_000 }));
      const made = Array.from({ length: 9 }, (_, i) => newTask(k.id, { priceMicros: 100_000, callbackUrl: i === 4 ? 'https://hooks.test/\u0000' : null }));
      const results = await Promise.allSettled(made.map((t, i) => store().createTask(t, keyed(`n-${i}`))));
      expect(results.map(codeOf)).toEqual(made.map((_, i) => (i === 4 ? 'invalid_value' : 'ok')));
      expect(await store().getTask(made[4].id)).toBeUndefined();
      expect(await store().getKey(k.id)).toMatchObject({ balanceMicros: 10_000_000 - 8 * 100_000, heldMicros: 8 * 100_000 });
      expect(await store().createTask(newTask(k.id), keyed('n-0'))).toMatchObject({ task: { id: made[0].id }, replayed: true });
      await expectLedgerConsistent(store(), k.id);
    });

    it('a batch whose statements fail before its COMMIT is done again alone; one whose COMMIT got no answer is not', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 100_000_000 }));
      const lost = () => new Error('Connection terminated unexpectedly');
      const alone: string[] = [];
      const single = (input: NewTask, opts: CreateTaskOptions) => (alone.push(opts.idempotency!.key), store().createTask(input, opts));

      // The connection goes before COMMIT is sent: PostgreSQL rolls the transaction back, so each is retried.
      const broken = new CheckedTaskBatches((fn) => transaction(store().pool, () => fn({ query: () => Promise.reject(lost()) })), single);
      const retried = await Promise.all(['r-1', 'r-2'].map((key) => broken.create(newTask(k.id, { priceMicros: 1_000 }), keyed(key))));
      expect(alone).toEqual(['r-1', 'r-2']);
      expect(retried.map((r) => r.replayed)).toEqual([false, false]);

      // COMMIT was sent and its answer lost (here it did commit): nothing is written again, each submit fails.
      alone.length = 0;
      const unanswered = new CheckedTaskBatches(async (fn) => {
        await transaction(store().pool, fn);
        throw lost();
      }, single);
      const made = [newTask(k.id, { priceMicros: 1_000 }), newTask(k.id, { priceMicros: 1_000 })];
      const results = await Promise.allSettled(made.map((t, i) => unanswered.create(t, keyed(`u-${i}`))));
      expect(results.map((r) => r.status === 'rejected' && (r.reason as Error).message)).toEqual(['Connection terminated unexpectedly', 'Connection terminated unexpectedly']);
      expect(alone).toEqual([]);
      // Each was held once; the client's retry with its key gets the task back instead of a second charge.
      expect(await store().getKey(k.id)).toMatchObject({ heldMicros: 4 * 1_000 });
      expect(await store().createTask(newTask(k.id, { priceMicros: 1_000 }), keyed('u-0'))).toMatchObject({ task: { id: made[0].id }, replayed: true });
      await expectLedgerConsistent(store(), k.id);
    });

    it('two processes batching the same keys, keyed and plain, queue on the key rows: no deadlock, nothing lost', async () => {
      const other = await PostgresStore.open(database.url, { poolSize: 4 });
      try {
        const keys = await Promise.all(Array.from({ length: 6 }, () => store().createKey(newKey({ balanceMicros: 1_000_000_000 }))));
        const mine = counted();
        const theirs = new CheckedTaskBatches((fn) => transaction(other.pool, fn), () => Promise.reject(new Error('fell back')));
        const submits = Array.from({ length: 300 }, (_, i) => [
          mine.batches.create(newTask(keys[i % 6].id, { priceMicros: 1_000 }), keyed(`m-${i}`)),
          theirs.create(newTask(keys[5 - (i % 6)].id, { priceMicros: 1_000 }), keyed(`t-${i}`)),
          other.createTask(newTask(keys[(i * 5) % 6].id, { priceMicros: 1_000 }), { maxConcurrentTasks: null }),
        ]).flat();
        const results = await Promise.allSettled(submits);
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
        expect(mine.seen.errors).toEqual([]); // a deadlock (40P01) would fail a statement, then be retried
        for (const k of keys) {
          expect(await store().getKey(k.id)).toMatchObject({ heldMicros: 150 * 1_000 });
          await expectLedgerConsistent(store(), k.id);
        }
      } finally {
        await other.close();
      }
    });

    it('closing the store() answers the keyed submits already handed in before the pool goes', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 1_000_000_000 }));
      const submits = Array.from({ length: 20 }, (_, i) => store().createTask(newTask(k.id, { priceMicros: 1_000 }), keyed(`c-${i}`)));
      await store().close();
      expect((await Promise.allSettled(submits)).map((r) => r.status)).toEqual(Array(20).fill('fulfilled'));
      expect(Number((await admin.query('SELECT count(*) AS n FROM idempotency WHERE key_id = $1', [k.id])).rows[0].n)).toBe(20);
    });
  });
} else {
  skipWithoutPostgres('postgres checked-task batches');
}
