/**
 * Submits written together (src/store/postgres/heldTaskBatches.ts) and polls read together
 * (taskViewBatches.ts): what only the PostgreSQL store can show. The shared contract covers order, money and
 * fidelity; here how few statements a batch takes, a task PostgreSQL refuses inside a batch, a key its
 * balance does not cover, batches larger than one statement takes, two processes batching the same keys,
 * a turn's polls, and a worker's task updates (patchBatches.ts).
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.ts';
import { PostgresStore } from '../../src/store/postgres/pgStore.ts';
import { HeldTaskBatches } from '../../src/store/postgres/heldTaskBatches.ts';
import { MAX_BATCH } from '../../src/store/postgres/serialBatches.ts';
import { db as dbOf, type Db } from '../../src/store/postgres/transaction.ts';
import { newTaskRecord, toTask, toTaskView } from '../../src/store/rows.ts';
import { TaskPatchBatches } from '../../src/store/postgres/patchBatches.ts';
import { TaskViewBatches } from '../../src/store/postgres/taskViewBatches.ts';
import { holdMove } from '../../src/billing/settlement.ts';
import { expectLedgerConsistent, newKey, newTask } from '../contracts/store.contract.ts';
import { postgresReachable, skipWithoutPostgres, storeForEachTest, testDatabaseForFile } from '../helpers/postgres.ts';

if (await postgresReachable()) {
  const { database, admin } = await testDatabaseForFile();

  describe('postgres store: submits written together, polls read together', () => {
    const store = storeForEachTest(database, admin);

    /** Statements that wrote a hold, counted from the key's ledger: the batch statement writes them in one transaction. */
    const holdTransactions = async (keyId: string) =>
      Number((await admin.query("SELECT count(DISTINCT xmin::text) AS n FROM ledger WHERE key_id = $1 AND kind = 'hold'", [keyId])).rows[0].n);

    it('writes a turn’s submits of a key in a few statements, not one each', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 1_000_000_000 }));
      const made = Array.from({ length: 100 }, () => newTask(k.id, { priceMicros: 1_000 }));
      await Promise.all(made.map((t) => store().createTask(t, { maxConcurrentTasks: null })));
      expect(await holdTransactions(k.id)).toBeLessThanOrEqual(3);
      expect(Number((await admin.query('SELECT count(*) AS n FROM tasks WHERE key_id = $1', [k.id])).rows[0].n)).toBe(100);
      await expectLedgerConsistent(store(), k.id);
    });

    it('a task PostgreSQL refuses gets its own error; the rest of its batch is written', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 10_000_000 }));
      const made = Array.from({ length: 9 }, (_, i) => newTask(k.id, { priceMicros: 100_000, callbackUrl: i === 4 ? 'https://hooks.test/\u0000' : null }));
      const results = await Promise.allSettled(made.map((t) => store().createTask(t, { maxConcurrentTasks: null })));
      expect(results.map((r) => r.status)).toEqual(made.map((_, i) => (i === 4 ? 'rejected' : 'fulfilled')));
      const refused = (results[4] as PromiseRejectedResult).reason;
      expect(refused).toBeInstanceOf(ApiError);
      expect((refused as ApiError).code).toBe('invalid_value');
      expect(await store().getTask(made[4].id)).toBeUndefined();
      expect(await store().getKey(k.id)).toMatchObject({ balanceMicros: 10_000_000 - 8 * 100_000, heldMicros: 8 * 100_000 });
      await expectLedgerConsistent(store(), k.id);
    });

    it('a batch statement that got no answer is not written again one at a time: its submits fail', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 10_000_000 }));
      const statements: string[] = [];
      // As if the connection were lost after PostgreSQL committed the statement: whether it did is unknown.
      const lost: Db = {
        query: async (text, values, name) => {
          statements.push(name ?? text.slice(0, 30));
          await dbOf(store().pool).query(text, values, name);
          throw new Error('Connection terminated unexpectedly');
        },
      };
      const batches = new HeldTaskBatches(lost);
      const made = Array.from({ length: 5 }, () => newTaskRecord(newTask(k.id, { priceMicros: 1_000 })));
      const results = await Promise.allSettled(made.map((t) => batches.insert(t, holdMove(t.priceMicros))));
      expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
      expect(statements).toEqual(['reelay_insert_held_tasks']);
      // Held once, not twice.
      expect(await store().getKey(k.id)).toMatchObject({ heldMicros: 5 * 1_000 });
      await expectLedgerConsistent(store(), k.id);
    });

    it('more submits than one statement takes are written in order, statement after statement', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 1_000_000_000 }));
      const made = Array.from({ length: MAX_BATCH * 2 + 7 }, (_, i) => newTask(k.id, { priceMicros: 1_000 + i }));
      await Promise.all(made.map((t) => store().createTask(t, { maxConcurrentTasks: null })));
      const held = (await admin.query("SELECT task_id FROM ledger WHERE key_id = $1 AND kind = 'hold' ORDER BY id", [k.id])).rows.map((r) => r.task_id);
      expect(held).toEqual(made.map((t) => t.id));
      expect(await holdTransactions(k.id)).toBeGreaterThanOrEqual(3);
      await expectLedgerConsistent(store(), k.id);
    });

    it('several keys’ submits share a statement, each key charged only for its own tasks', async () => {
      const keys = await Promise.all(Array.from({ length: 4 }, () => store().createKey(newKey({ balanceMicros: 50_000_000 }))));
      const made = Array.from({ length: 100 }, (_, i) => newTask(keys[i % 4].id, { priceMicros: 10_000 * ((i % 4) + 1) }));
      await Promise.all(made.map((t) => store().createTask(t, { maxConcurrentTasks: null })));
      const xmins = (await admin.query("SELECT count(DISTINCT xmin::text) AS n FROM ledger WHERE kind = 'hold'")).rows[0].n;
      expect(Number(xmins)).toBeLessThanOrEqual(3);
      for (const [j, k] of keys.entries()) {
        expect(await store().getKey(k.id)).toMatchObject({ balanceMicros: 50_000_000 - 25 * 10_000 * (j + 1), heldMicros: 25 * 10_000 * (j + 1) });
        await expectLedgerConsistent(store(), k.id);
      }
    });

    it('a key its balance does not cover takes its tasks in order, as one at a time would, in two statements', async () => {
      const rich = await store().createKey(newKey({ balanceMicros: 10_000_000 }));
      const poor = await store().createKey(newKey({ balanceMicros: 650 }));
      const broke = await store().createKey(newKey({ balanceMicros: 0 }));
      const prices = [300, 500, 100, 400, 200];
      const made = prices.flatMap((p) => [newTask(rich.id, { priceMicros: 1_000 }), newTask(poor.id, { priceMicros: p }), newTask(broke.id, { priceMicros: 1 })]);
      const statements: string[] = [];
      const counted: Db = { query: (text, values, name) => (statements.push(name ?? text.slice(0, 30)), dbOf(store().pool).query(text, values, name)) };
      const batches = new HeldTaskBatches(counted);
      const results = await Promise.all(made.map((t) => { const r = newTaskRecord(t); return batches.insert(r, holdMove(r.priceMicros)); }));
      // rich: all five; poor: 300 (350 left), not 500, 100 (250 left), not 400, 200 (50 left); broke: none.
      expect(results).toEqual(prices.flatMap((_, i) => [true, i % 2 === 0, false]));
      expect(statements).toEqual(['reelay_insert_held_tasks', 'reelay_insert_held_tasks']);
      expect(await store().getKey(poor.id)).toMatchObject({ balanceMicros: 50, heldMicros: 600 });
      expect(await store().getKey(broke.id)).toMatchObject({ balanceMicros: 0, heldMicros: 0 });
      for (const k of [rich, poor, broke]) await expectLedgerConsistent(store(), k.id);
    });

    it('two processes batching the same keys at once queue on the key rows: no statement fails, nothing is lost', async () => {
      const other = await PostgresStore.open(database.url, { poolSize: 4 });
      try {
        const keys = await Promise.all(Array.from({ length: 6 }, () => store().createKey(newKey({ balanceMicros: 1_000_000_000 }))));
        const errors: unknown[] = [];
        const watched = (pool: pg.Pool): Db => ({
          query: (text, values, name) => dbOf(pool).query(text, values, name).catch((e: unknown) => (errors.push(e), Promise.reject(e))),
        });
        // Each "process" submits for the keys in a different order, so their batches name the keys in different orders.
        const submit = (batches: HeldTaskBatches, order: number[]) =>
          Array.from({ length: 300 }, (_, i) => {
            const t = newTaskRecord(newTask(keys[order[i % 6]].id, { priceMicros: 1_000 }));
            return batches.insert(t, holdMove(t.priceMicros));
          });
        const results = await Promise.all([
          ...submit(new HeldTaskBatches(watched(store().pool)), [0, 1, 2, 3, 4, 5]),
          ...submit(new HeldTaskBatches(watched(other.pool)), [5, 4, 3, 2, 1, 0]),
        ]);
        expect(errors).toEqual([]); // a deadlock (40P01) would fail a batch statement
        expect(results.every(Boolean)).toBe(true);
        for (const k of keys) {
          expect(await store().getKey(k.id)).toMatchObject({ heldMicros: 100 * 1_000 });
          await expectLedgerConsistent(store(), k.id);
        }
      } finally {
        await other.close();
      }
    });

    it('a turn’s polls are read in one statement, each answered with its own task (or none)', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 1_000_000_000 }));
      const made = Array.from({ length: 40 }, (_, i) => newTask(k.id, { priceMicros: 1_000 + i }));
      await Promise.all(made.map((t) => store().createTask(t, { maxConcurrentTasks: null })));
      const statements: string[] = [];
      const counted: Db = { query: (text, values, name) => (statements.push(name ?? text.slice(0, 30)), dbOf(store().pool).query(text, values, name)) };
      const reads = new TaskViewBatches(counted);
      const ids = [...made.map((t) => t.id), 'task_missing', made[3].id];
      const rows = await Promise.all(ids.map((id) => reads.read(id)));
      expect(statements).toEqual(['reelay_task_views']);
      for (const [i, id] of ids.entries()) {
        const alone = await store().getTaskView(id);
        expect(rows[i] ? toTaskView(rows[i]!) : undefined).toEqual(alone);
        if (id !== 'task_missing') expect(alone?.id).toBe(id);
      }
      expect(rows[40]).toBeUndefined();
    });

    it('closing the store() answers the submits and polls already handed in before the pool goes', async () => {
      const k = await store().createKey(newKey({ balanceMicros: 1_000_000_000 }));
      const first = newTask(k.id, { priceMicros: 1_000 });
      await store().createTask(first, { maxConcurrentTasks: null });
      const submits = Array.from({ length: 20 }, () => store().createTask(newTask(k.id, { priceMicros: 1_000 }), { maxConcurrentTasks: null }));
      const polls = Array.from({ length: 5 }, () => store().getTaskView(first.id));
      await store().close();
      expect((await Promise.allSettled([...submits, ...polls])).map((r) => r.status)).toEqual(Array(25).fill('fulfilled'));
      expect((await polls[0])?.id).toBe(first.id);
      const held = await admin.query("SELECT sum(held_delta)::int AS h FROM ledger WHERE key_id = $1 AND kind = 'hold'", [k.id]);
      expect(held.rows[0].h).toBe(21 * 1_000);
    });

    /** `n` tasks of a new key, claimed by `owner`. */
    async function claimed(n: number, owner: string) {
      const k = await store().createKey(newKey({ balanceMicros: 1_000_000_000 }));
      const made = Array.from({ length: n }, () => newTask(k.id, { priceMicros: 1_000, nextCheckAt: 0 }));
      await Promise.all(made.map((t) => store().createTask(t, { maxConcurrentTasks: null })));
      const got = await store().claimTasks(owner, Date.now(), 60_000, 1_000);
      expect(got.map((t) => t.id).sort()).toEqual(made.map((t) => t.id).sort());
      return made.map((t) => t.id);
    }

    /** A patch batcher over the store()'s pool that records the name of every statement it sends. */
    function countedPatches() {
      const statements: string[] = [];
      const counted: Db = { query: (text, values, name) => (statements.push(name ?? text.slice(0, 30)), dbOf(store().pool).query(text, values, name)) };
      return { patches: new TaskPatchBatches(counted), statements };
    }

    it('a turn’s patches of one shape are one statement, each applied as alone would apply it', async () => {
      const ids = await claimed(8, 'w1');
      await store().updateTask(ids[2], 'w1', { status: 'processing', progress: 50 }, Date.now());
      await store().updateTask(ids[3], 'w1', { release: true, nextCheckAt: 1 }, Date.now()); // no longer w1's
      await store().finishTask(ids[5], { status: 'failed', error: { code: 'upstream_error', message: 'x' } }, Date.now());
      const { patches, statements } = countedPatches();
      const next = Date.now() + 3_600_000;
      const rows = await Promise.all(
        ids.map((id) => patches.apply(id, 'w1', { status: 'pending', progress: 10.7, attempts: 0, release: true, nextCheckAt: next }, Date.now())),
      );
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(/^reelay_patches_/);
      for (const [i, id] of ids.entries()) {
        if (i === 3 || i === 5) {
          expect(rows[i], `task ${i}`).toBeUndefined();
          continue;
        }
        const task = toTask(rows[i]!);
        expect(task).toEqual(await store().getTask(id));
        // processing never returns to pending, progress never goes back.
        expect(task).toMatchObject({ status: i === 2 ? 'processing' : 'pending', progress: i === 2 ? 50 : 10, leaseOwner: null, nextCheckAt: next });
      }
      expect(await store().getTask(ids[3])).toMatchObject({ leaseOwner: null, nextCheckAt: 1 });
      expect(await store().getTask(ids[5])).toMatchObject({ status: 'failed', phase: 'done' });
    });

    it('patches of different shapes go side by side; a task patched twice in a turn gets both, in order', async () => {
      const ids = await claimed(6, 'w1');
      const { patches, statements } = countedPatches();
      const at = Date.now() + 60_000;
      const rows = await Promise.all([
        ...ids.slice(0, 4).map((id) => patches.apply(id, 'w1', { progress: 20, nextCheckAt: at }, Date.now())),
        patches.apply(ids[0], 'w1', { progress: 30, nextCheckAt: at + 1 }, Date.now()),
        ...ids.slice(4).map((id) => patches.apply(id, 'w1', { facts: { images: [] } as never, attempts: 2 }, Date.now())),
      ]);
      expect(rows.every(Boolean)).toBe(true);
      // Shape one's four tasks, then task 0's second patch alone (a single-task statement); shape two's two tasks.
      expect(statements).toHaveLength(3);
      expect(statements.filter((n) => n.startsWith('reelay_patches_'))).toHaveLength(2);
      expect(await store().getTask(ids[0])).toMatchObject({ progress: 30, nextCheckAt: at + 1, leaseOwner: 'w1', leaseUntil: at + 1 });
      expect(await store().getTask(ids[1])).toMatchObject({ progress: 20, nextCheckAt: at, leaseOwner: 'w1' });
      expect(await store().getTask(ids[5])).toMatchObject({ facts: { images: [] }, attempts: 2, progress: 0 });
    });

    it('a patch statement locks its tasks in id order, as finish batches do: opposite orders queue, not deadlock', async () => {
      const [a, b] = (await claimed(2, 'w1')).sort();
      // The plan a large table gets (an index lookup per row, in the rows' order), forced on this small one.
      const planned = new pg.Pool({ connectionString: database.url, max: 1, options: '-c enable_hashjoin=off -c enable_mergejoin=off -c enable_seqscan=off' });
      const errors: unknown[] = [];
      const watched: Db = { query: (text, values, name) => dbOf(planned).query(text, values, name).catch((e: unknown) => (errors.push(e), Promise.reject(e))) };
      const patches = new TaskPatchBatches(watched);
      // Another transaction taking both tasks in id order, as a finish batch does: it holds a ...
      const other = await store().pool.connect();
      try {
        await other.query('BEGIN');
        await other.query('SELECT id FROM tasks WHERE id = $1 FOR NO KEY UPDATE', [a]);
        // ... while one statement patches b, then a (the order the patches were made in) ...
        const both = Promise.all([b, a].map((id) => patches.apply(id, 'w1', { progress: 30 }, Date.now())));
        both.catch(() => undefined);
        await new Promise((r) => setTimeout(r, 200));
        // ... then takes b. Had the statement locked b first, this would wait for it while it waits for a:
        // a deadlock, which PostgreSQL breaks after deadlock_timeout (1 s) by failing one of the two.
        const t0 = performance.now();
        await other.query('SELECT id FROM tasks WHERE id = $1 FOR NO KEY UPDATE', [b]);
        expect(performance.now() - t0).toBeLessThan(500);
        await other.query('COMMIT');
        expect((await both).every(Boolean)).toBe(true);
      } finally {
        await other.query('ROLLBACK').catch(() => undefined);
        other.release();
        await patches.idle();
        await planned.end();
      }
      expect(errors).toEqual([]);
    });

    it('a patch PostgreSQL refuses gets its own error; the rest of its statement is applied', async () => {
      const ids = await claimed(5, 'w1');
      const results = await Promise.allSettled(
        ids.map((id, i) => store().updateTask(id, 'w1', { error: { code: 'upstream_error', message: i === 1 ? 'bad \u0000 byte' : 'retrying' }, attempts: 1 }, Date.now())),
      );
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
      expect(((results[1] as PromiseRejectedResult).reason as ApiError).code).toBe('invalid_value');
      expect(await store().getTask(ids[0])).toMatchObject({ attempts: 1, error: { message: 'retrying' } });
      expect(await store().getTask(ids[1])).toMatchObject({ attempts: 0, error: null });
    });

    it('closing the store() answers the polls and patches already handed in, with no submit in flight', async () => {
      const ids = await claimed(4, 'w1');
      // Each kind alone, on a store() of its own, so neither's wait covers for the other's.
      const polls = ids.map((id) => store().getTaskView(id));
      await store().close();
      expect((await Promise.allSettled(polls)).map((r) => r.status)).toEqual(Array(4).fill('fulfilled'));
      const other = await PostgresStore.open(database.url, { poolSize: 4 });
      const patches = ids.map((id) => other.updateTask(id, 'w1', { progress: 40 }, Date.now()));
      await other.close();
      expect((await Promise.allSettled(patches)).map((r) => r.status)).toEqual(Array(4).fill('fulfilled'));
      expect(Number((await admin.query('SELECT count(*) AS n FROM tasks WHERE progress = 40')).rows[0].n)).toBe(4);
    });
  });
} else {
  skipWithoutPostgres('postgres held-task batches');
}
