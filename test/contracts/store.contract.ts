/**
 * The contract every Store implementation runs: keys and balances, holds and their settlement, exactly-once
 * finishing, idempotency, concurrency limits, leases, paging, webhooks and usage — with the ledger
 * invariants checked after each money test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.ts';
import type { Store, NewKey, LedgerEntry } from '../../src/store/types.ts';
import type { NewTask, TaskOutcome } from '../../src/tasks/task.ts';

export type StoreFactory = () => Promise<{ store: Store; cleanup(): Promise<void> }>;

let seq = 0;
export function newKey(over: Partial<NewKey> = {}): NewKey {
  seq++;
  return {
    id: `key_${String(seq).padStart(4, '0')}_${Math.random().toString(36).slice(2, 8)}`,
    name: `k${seq}`,
    prefix: 'rk_test',
    hash: `hash_${seq}_${Math.random()}`,
    balanceMicros: 0,
    rateLimitRpm: null,
    maxConcurrentTasks: null,
    models: null,
    webhookSecret: 'whsec_test',
    createdAt: Date.now(),
    ...over,
  };
}

let taskSeq = 0;
export function newTask(keyId: string, over: Partial<NewTask> = {}): NewTask {
  taskSeq++;
  const now = Date.now();
  return {
    // ULID-like: time-ordered and unique, so "newest first" is checkable.
    id: `task_${(now * 1000 + taskSeq).toString(36).toUpperCase().padStart(26, '0').slice(-26)}`,
    keyId,
    model: 'happyhorse-1.0',
    mode: 'T2V',
    params: { prompt: 'x', resolution: '720P', duration: 5 },
    inputs: [],
    plan: { width: 1280, height: 720, fps: 24, seconds: 5, audio: true, count: 1 },
    createdAt: now,
    estimatedSeconds: 60,
    deadlineAt: now + 600_000,
    priceMicros: 500_000,
    billedSeconds: 5,
    callbackUrl: null,
    idempotencyKey: null,
    nextCheckAt: now,
    ...over,
  };
}

const completed = (cost: number): TaskOutcome => ({
  status: 'completed',
  result: { videos: [{ key: 'results/x/0.mp4', bytes: 10, contentType: 'video/mp4' }], expiresAt: Math.floor(Date.now() / 1000) + 3600 },
  costMicros: cost,
  billedSeconds: 5,
});
const failed: TaskOutcome = { status: 'failed', error: { code: 'upstream_error', message: 'boom' } };

/** Ledger rows add up to the key's figures, each row's balance_after included; balance = top-ups − spent − held. */
export async function expectLedgerConsistent(store: Store, keyId: string): Promise<void> {
  const key = (await store.getKey(keyId))!;
  const rows: LedgerEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listLedger(keyId, { cursor, limit: 500 });
    rows.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((n, r) => n + f(r), 0);
  expect(sum((r) => r.balanceDelta)).toBe(key.balanceMicros);
  // Each row's balance_after is the balance its move left (rows come newest first).
  let running = 0;
  for (const r of [...rows].reverse()) {
    running += r.balanceDelta;
    expect(r.balanceAfter, `ledger row ${r.id} (${r.kind})`).toBe(running);
  }
  expect(sum((r) => r.heldDelta)).toBe(key.heldMicros);
  expect(sum((r) => r.spentDelta)).toBe(key.spentMicros);
  const topups = sum((r) => (r.kind === 'topup' || r.kind === 'adjustment' ? r.balanceDelta : 0));
  expect(topups - key.spentMicros - key.heldMicros).toBe(key.balanceMicros);
  expect(key.balanceMicros).toBeGreaterThanOrEqual(0);
}

async function expectApiError(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x) => x,
  );
  expect(e, `expected ${code}`).toBeInstanceOf(ApiError);
  expect((e as ApiError).code).toBe(code);
}

export function runStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name} store contract`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    describe('keys', () => {
      it('creates, finds by hash, lists, updates and revokes keys; an opening balance is a top-up row', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 2_000_000, models: ['viduq3'] }));
        expect(k.balanceMicros).toBe(2_000_000);
        expect(k.models).toEqual(['viduq3']);
        expect((await store.findKeyByHash(k.hash))?.id).toBe(k.id);
        expect(await store.findKeyByHash('nope')).toBeUndefined();
        expect((await store.listKeys()).map((x) => x.id)).toContain(k.id);
        const u = await store.updateKey(k.id, { name: 'renamed', rateLimitRpm: 60, maxConcurrentTasks: 3, models: null });
        expect(u).toMatchObject({ name: 'renamed', rateLimitRpm: 60, maxConcurrentTasks: 3, models: null });
        const r = await store.revokeKey(k.id, 123);
        expect(r?.revokedAt).toBe(123);
        expect((await store.revokeKey(k.id, 456))?.revokedAt).toBe(123);
        expect(await store.updateKey('missing', { name: 'x' })).toBeUndefined();
        const ledger = await store.listLedger(k.id, { limit: 10 });
        expect(ledger.items.map((e) => e.kind)).toEqual(['topup']);
        await expectLedgerConsistent(store, k.id);
      });

      it('top-ups add; an adjustment may not take the balance below zero', async () => {
        const k = await store.createKey(newKey());
        expect((await store.adjustBalance(k.id, 1_500_000, 'topup', 'card', Date.now()))?.balanceMicros).toBe(1_500_000);
        expect((await store.adjustBalance(k.id, -500_000, 'adjustment', 'goodwill reversal', Date.now()))?.balanceMicros).toBe(1_000_000);
        await expectApiError(store.adjustBalance(k.id, -1_000_001, 'adjustment', 'too much', Date.now()), 'payment_required');
        expect((await store.getKey(k.id))?.balanceMicros).toBe(1_000_000);
        expect(await store.adjustBalance('missing', 1, 'topup', null, Date.now())).toBeUndefined();
        await expectLedgerConsistent(store, k.id);
      });
    });

    describe('holds and settlement', () => {
      it('submit holds the price in the same transaction as the task', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 1_000_000 }));
        const { task, replayed } = await store.createTask(newTask(k.id, { priceMicros: 400_000 }), { maxConcurrentTasks: null });
        expect(replayed).toBe(false);
        expect(task).toMatchObject({ status: 'pending', phase: 'queued', progress: 0, priceMicros: 400_000, costMicros: 0 });
        expect(await store.getKey(k.id)).toMatchObject({ balanceMicros: 600_000, heldMicros: 400_000, spentMicros: 0 });
        const rows = (await store.listLedger(null, { taskId: task.id, limit: 10 })).items;
        expect(rows.map((r) => [r.kind, r.balanceDelta, r.heldDelta])).toEqual([['hold', -400_000, 400_000]]);
        await expectLedgerConsistent(store, k.id);
      });

      it('a short balance is refused with payment_required and nothing is written', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 399_999 }));
        const t = newTask(k.id, { priceMicros: 400_000 });
        await expectApiError(store.createTask(t, { maxConcurrentTasks: null }), 'payment_required');
        expect(await store.getTask(t.id)).toBeUndefined();
        expect(await store.getKey(k.id)).toMatchObject({ balanceMicros: 399_999, heldMicros: 0 });
        await expectLedgerConsistent(store, k.id);
      });

      it('50 concurrent submits against a balance that covers 10 accept exactly 10', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 10 * 400_000 }));
        const results = await Promise.allSettled(
          Array.from({ length: 50 }, () => store.createTask(newTask(k.id, { priceMicros: 400_000 }), { maxConcurrentTasks: null })),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
        for (const r of results) if (r.status === 'rejected') expect((r.reason as ApiError).code).toBe('payment_required');
        expect(await store.getKey(k.id)).toMatchObject({ balanceMicros: 0, heldMicros: 4_000_000 });
        await expectLedgerConsistent(store, k.id);
      });

      it('concurrent submits of one key are each stored as made and held in the order they were made', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 100_000_000 }));
        const made = Array.from({ length: 30 }, (_, i) =>
          newTask(k.id, {
            priceMicros: 1_000 + i,
            billedSeconds: 5.5,
            params: { prompt: `clip ${i}: é ✓ "quoted" \\ back\nline`, resolution: '720P', duration: 5, image_urls: [`https://x.test/${i}.png`] },
            callbackUrl: i % 3 === 0 ? `https://hooks.test/${i}?a=1&b=2` : null,
          }),
        );
        const created = await Promise.all(made.map((t) => store.createTask(t, { maxConcurrentTasks: null })));
        for (const [i, { task }] of created.entries()) {
          expect(task.id).toBe(made[i].id);
          expect(await store.getTask(task.id)).toEqual(task);
        }
        const holds = (await store.listLedger(k.id, { limit: 100 })).items.filter((r) => r.kind === 'hold').reverse();
        expect(holds.map((r) => r.taskId)).toEqual(made.map((t) => t.id));
        expect(holds.map((r) => r.balanceDelta)).toEqual(made.map((t) => -t.priceMicros));
        await expectLedgerConsistent(store, k.id);
      });

      it('when the balance runs out among concurrent submits, the ones made first are accepted', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 5 * 300_000 + 299_999 }));
        const made = Array.from({ length: 12 }, () => newTask(k.id, { priceMicros: 300_000 }));
        const results = await Promise.allSettled(made.map((t) => store.createTask(t, { maxConcurrentTasks: null })));
        expect(results.map((r) => r.status)).toEqual([...Array(5).fill('fulfilled'), ...Array(7).fill('rejected')]);
        for (const r of results) if (r.status === 'rejected') expect((r.reason as ApiError).code).toBe('payment_required');
        for (const [i, t] of made.entries()) expect(Boolean(await store.getTask(t.id))).toBe(i < 5);
        expect(await store.getKey(k.id)).toMatchObject({ balanceMicros: 299_999, heldMicros: 1_500_000 });
        await expectLedgerConsistent(store, k.id);
      });

      it('completion settles the cost and releases the unused hold; failure and cancellation refund in full', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 3_000_000 }));
        const a = (await store.createTask(newTask(k.id, { priceMicros: 1_000_000 }), { maxConcurrentTasks: null })).task;
        const b = (await store.createTask(newTask(k.id, { priceMicros: 1_000_000 }), { maxConcurrentTasks: null })).task;
        const c = (await store.createTask(newTask(k.id, { priceMicros: 1_000_000 }), { maxConcurrentTasks: null })).task;
        const done = await store.finishTask(a.id, completed(600_000), Date.now());
        expect(done?.changed).toBe(true);
        expect(done?.task).toMatchObject({ status: 'completed', phase: 'done', progress: 100, costMicros: 600_000 });
        await store.finishTask(b.id, failed, Date.now());
        await store.finishTask(c.id, { status: 'cancelled' }, Date.now());
        expect(await store.getKey(k.id)).toMatchObject({ balanceMicros: 2_400_000, heldMicros: 0, spentMicros: 600_000 });
        expect((await store.listLedger(null, { taskId: a.id, limit: 10 })).items.map((r) => r.kind).sort()).toEqual(['hold', 'release', 'settle']);
        expect((await store.listLedger(null, { taskId: b.id, limit: 10 })).items.map((r) => r.kind).sort()).toEqual(['hold', 'refund']);
        expect((await store.getTask(b.id))?.error).toEqual({ code: 'upstream_error', message: 'boom' });
        await expectLedgerConsistent(store, k.id);
      });

      it('a cost above the hold is capped at the hold', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 1_000_000 }));
        const t = (await store.createTask(newTask(k.id, { priceMicros: 500_000 }), { maxConcurrentTasks: null })).task;
        await store.finishTask(t.id, completed(900_000), Date.now());
        expect(await store.getKey(k.id)).toMatchObject({ balanceMicros: 500_000, heldMicros: 0, spentMicros: 500_000 });
        await expectLedgerConsistent(store, k.id);
      });

      it('finishing twice moves money once, whatever the second outcome', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 1_000_000 }));
        const t = (await store.createTask(newTask(k.id), { maxConcurrentTasks: null })).task;
        const outcomes = [completed(500_000), failed, { status: 'cancelled' } as TaskOutcome, completed(500_000)];
        const results = await Promise.all(outcomes.map((o) => store.finishTask(t.id, o, Date.now())));
        expect(results.filter((r) => r?.changed)).toHaveLength(1);
        const kinds = (await store.listLedger(null, { taskId: t.id, limit: 10 })).items.map((r) => r.kind);
        expect(kinds.filter((x) => x === 'settle' || x === 'refund')).toHaveLength(1);
        expect(await store.finishTask('task_missing', failed, Date.now())).toBeUndefined();
        await expectLedgerConsistent(store, k.id);
      });
    });

    describe('idempotency and limits', () => {
      it('the same Idempotency-Key and body return the same task, charged once; another body is refused', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 5_000_000 }));
        const idem = { key: 'idem-1', requestHash: 'h1', windowMs: 86_400_000 };
        const first = await store.createTask(newTask(k.id, { idempotencyKey: 'idem-1' }), { idempotency: idem, maxConcurrentTasks: null });
        const again = await store.createTask(newTask(k.id, { idempotencyKey: 'idem-1' }), { idempotency: idem, maxConcurrentTasks: null });
        expect(again.replayed).toBe(true);
        expect(again.task.id).toBe(first.task.id);
        await expectApiError(store.createTask(newTask(k.id), { idempotency: { ...idem, requestHash: 'h2' }, maxConcurrentTasks: null }), 'idempotency_key_reused');
        expect((await store.getKey(k.id))?.heldMicros).toBe(500_000);
        // Keys are per API key: another key may use the same Idempotency-Key.
        const other = await store.createKey(newKey({ balanceMicros: 1_000_000 }));
        expect((await store.createTask(newTask(other.id), { idempotency: idem, maxConcurrentTasks: null })).replayed).toBe(false);
        await expectLedgerConsistent(store, k.id);
      });

      it('racing requests with one Idempotency-Key create one task', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 50_000_000 }));
        const idem = { key: 'race', requestHash: 'same', windowMs: 86_400_000 };
        const results = await Promise.all(Array.from({ length: 20 }, () => store.createTask(newTask(k.id), { idempotency: idem, maxConcurrentTasks: null })));
        expect(new Set(results.map((r) => r.task.id)).size).toBe(1);
        expect(results.filter((r) => !r.replayed)).toHaveLength(1);
        expect((await store.getKey(k.id))?.heldMicros).toBe(500_000);
        await expectLedgerConsistent(store, k.id);
      });

      it('an Idempotency-Key older than the window starts a new task', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 5_000_000 }));
        const idem = { key: 'old', requestHash: 'h', windowMs: 1000 };
        const first = await store.createTask(newTask(k.id, { createdAt: Date.now() - 5000 }), { idempotency: idem, maxConcurrentTasks: null });
        const later = await store.createTask(newTask(k.id), { idempotency: idem, maxConcurrentTasks: null });
        expect(later.replayed).toBe(false);
        expect(later.task.id).not.toBe(first.task.id);
      });

      it('refuses a task beyond the key’s concurrent limit until one finishes', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 10_000_000 }));
        const a = await store.createTask(newTask(k.id), { maxConcurrentTasks: 2 });
        await store.createTask(newTask(k.id), { maxConcurrentTasks: 2 });
        await expectApiError(store.createTask(newTask(k.id), { maxConcurrentTasks: 2 }), 'concurrency_limit_exceeded');
        await store.finishTask(a.task.id, failed, Date.now());
        expect((await store.createTask(newTask(k.id), { maxConcurrentTasks: 2 })).replayed).toBe(false);
        await expectLedgerConsistent(store, k.id);
      });
    });

    describe('leases and task changes', () => {
      it('claims due tasks once; a lease that expires lets another worker claim', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 10_000_000 }));
        const now = Date.now();
        const due = (await store.createTask(newTask(k.id, { nextCheckAt: now - 10 }), { maxConcurrentTasks: null })).task;
        await store.createTask(newTask(k.id, { nextCheckAt: now + 60_000 }), { maxConcurrentTasks: null });
        const a = await store.claimTasks('w1', now, 1000, 10);
        expect(a.map((t) => t.id)).toEqual([due.id]);
        expect(a[0].leaseOwner).toBe('w1');
        expect(await store.claimTasks('w2', now + 10, 1000, 10)).toEqual([]);
        expect(await store.claimTask(due.id, 'w2', now + 10, 1000)).toBeUndefined();
        const b = await store.claimTasks('w2', now + 1001, 1000, 10);
        expect(b.map((t) => t.id)).toEqual([due.id]);
        // The first worker lost its lease: its changes are refused.
        expect(await store.updateTask(due.id, 'w1', { progress: 50 }, now + 1002)).toBeUndefined();
        expect((await store.updateTask(due.id, 'w2', { progress: 50 }, now + 1002))?.progress).toBe(50);
      });

      it('progress never goes back and processing never returns to pending', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 1_000_000 }));
        const t = (await store.createTask(newTask(k.id, { nextCheckAt: 0 }), { maxConcurrentTasks: null })).task;
        await store.claimTasks('w', Date.now(), 60_000, 10);
        expect((await store.updateTask(t.id, 'w', { status: 'processing', progress: 40 }, Date.now()))?.status).toBe('processing');
        const u = await store.updateTask(t.id, 'w', { status: 'pending', progress: 10 }, Date.now());
        expect(u).toMatchObject({ status: 'processing', progress: 40 });
        expect((await store.updateTask(t.id, 'w', { progress: 250 }, Date.now()))?.progress).toBe(99);
      });

      it('release hands the task back with its next check time; finished tasks are never claimed or changed', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 1_000_000 }));
        const t = (await store.createTask(newTask(k.id, { nextCheckAt: 0 }), { maxConcurrentTasks: null })).task;
        const now = Date.now();
        await store.claimTasks('w', now, 60_000, 10);
        const upstream = { channel: 'c', provider: 'p', operation: { id: 'op1' }, startedAt: now };
        const r = await store.updateTask(t.id, 'w', { phase: 'submitted', upstream, release: true, nextCheckAt: now + 5000 }, now);
        expect(r).toMatchObject({ phase: 'submitted', leaseOwner: null, nextCheckAt: now + 5000, upstream });
        expect(await store.nextDueAt()).toBe(now + 5000);
        expect(await store.claimTasks('w', now + 4999, 60_000, 10)).toEqual([]);
        expect(await store.claimTasks('w', now + 5000, 60_000, 10)).toHaveLength(1);
        await store.finishTask(t.id, failed, now);
        expect(await store.claimTasks('w', now + 999_999, 60_000, 10)).toEqual([]);
        expect(await store.updateTask(t.id, 'w', { progress: 1 }, now)).toBeUndefined();
        expect(await store.nextDueAt()).toBeUndefined();
      });

      it('patchTask changes what updateTask would, answering only whether it did', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 1_000_000 }));
        const t = (await store.createTask(newTask(k.id, { nextCheckAt: 0 }), { maxConcurrentTasks: null })).task;
        const now = Date.now();
        await store.claimTasks('w', now, 60_000, 10);
        expect(await store.patchTask(t.id, 'w', { status: 'processing', progress: 30, estimatedSeconds: 77 }, now + 1)).toBe(true);
        // The same rules as updateTask: progress never goes back, processing never returns to pending.
        expect(await store.patchTask(t.id, 'w', { status: 'pending', progress: 10 }, now + 2)).toBe(true);
        expect(await store.getTask(t.id)).toMatchObject({ status: 'processing', progress: 30, estimatedSeconds: 77, updatedAt: now + 2, leaseOwner: 'w' });
        // A release hands the task back with its next check time.
        expect(await store.patchTask(t.id, 'w', { attempts: 2, release: true, nextCheckAt: now + 5000 }, now + 3)).toBe(true);
        expect(await store.getTask(t.id)).toMatchObject({ attempts: 2, leaseOwner: null, leaseUntil: null, nextCheckAt: now + 5000 });
        // Without the lease, or once finished, nothing changes.
        expect(await store.patchTask(t.id, 'w', { progress: 60 }, now + 4)).toBe(false);
        expect(await store.getTask(t.id)).toMatchObject({ progress: 30, updatedAt: now + 3, leaseOwner: null });
        expect(await store.claimTasks('w2', now + 5000, 60_000, 10)).toHaveLength(1);
        expect(await store.patchTask(t.id, 'w', { progress: 60 }, now + 5001)).toBe(false);
        expect(await store.patchTask(t.id, 'w2', { progress: 60 }, now + 5001)).toBe(true);
        await store.finishTask(t.id, failed, now + 5002);
        expect(await store.patchTask(t.id, 'w2', { progress: 70 }, now + 5003)).toBe(false);
        expect(await store.getTask(t.id)).toMatchObject({ status: 'failed', progress: 100, updatedAt: now + 5002 });
      });

      it('knows the lease owners and releases a dead owner’s tasks', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 1_000_000 }));
        const t = (await store.createTask(newTask(k.id, { nextCheckAt: 0 }), { maxConcurrentTasks: null })).task;
        const now = Date.now();
        await store.claimTasks('host:1', now, 600_000, 10);
        expect(await store.leaseOwners()).toEqual(['host:1']);
        expect(await store.releaseLeases('host:1', now)).toBe(1);
        expect((await store.claimTasks('host:2', now, 1000, 10)).map((x) => x.id)).toEqual([t.id]);
      });

      it('counts unfinished tasks and finds overdue ones', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 10_000_000 }));
        const now = Date.now();
        const late = (await store.createTask(newTask(k.id, { deadlineAt: now - 1, model: 'viduq3' }), { maxConcurrentTasks: null })).task;
        await store.createTask(newTask(k.id), { maxConcurrentTasks: null });
        expect(await store.countUnfinished()).toBe(2);
        expect(await store.countUnfinished('viduq3')).toBe(1);
        expect((await store.findOverdue(now, 10)).map((t) => t.id)).toEqual([late.id]);
        await store.finishTask(late.id, failed, now);
        expect(await store.findOverdue(now, 10)).toEqual([]);
        expect(await store.countUnfinished()).toBe(1);
      });
    });

    describe('reads', () => {
      it('pruneIdempotency deletes only records older than the cutoff, in batches; a pruned key can be used anew', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 10_000_000 }));
        const at = (createdAt: number, key: string) =>
          store.createTask(newTask(k.id, { createdAt, priceMicros: 1 }), { maxConcurrentTasks: null, idempotency: { key, requestHash: `h-${key}`, windowMs: 86_400_000 } });
        const base = Date.now() - 3 * 86_400_000;
        for (let i = 0; i < 5; i++) await at(base + i, `old-${i}`);
        const fresh = (await at(Date.now(), 'fresh')).task;
        const cutoff = Date.now() - 86_400_000;
        expect(await store.pruneIdempotency(cutoff, 3)).toBe(3);
        expect(await store.pruneIdempotency(cutoff, 3)).toBe(2);
        expect(await store.pruneIdempotency(cutoff, 3)).toBe(0);
        // The fresh record still replays; an old key now makes a new task.
        const again = await store.createTask(newTask(k.id, { priceMicros: 1 }), { maxConcurrentTasks: null, idempotency: { key: 'fresh', requestHash: 'h-fresh', windowMs: 86_400_000 } });
        expect(again).toMatchObject({ replayed: true, task: { id: fresh.id } });
        const reused = await store.createTask(newTask(k.id, { priceMicros: 1 }), { maxConcurrentTasks: null, idempotency: { key: 'old-0', requestHash: 'other', windowMs: 86_400_000 } });
        expect(reused.replayed).toBe(false);
      });

      it('getTaskView reads the same fields as getTask, pending, completed and failed; undefined for an unknown id', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 3_000_000 }));
        const [a, b, c] = await Promise.all([1, 2, 3].map(async () => (await store.createTask(newTask(k.id), { maxConcurrentTasks: null })).task));
        await store.finishTask(b.id, completed(300_000), Date.now());
        await store.finishTask(c.id, failed, Date.now());
        const fields = ['id', 'keyId', 'model', 'status', 'progress', 'createdAt', 'completedAt', 'estimatedSeconds', 'costMicros', 'error', 'result'] as const;
        for (const t of [a, b, c]) {
          const full = (await store.getTask(t.id))!;
          const view = await store.getTaskView(t.id);
          expect(view).toEqual(Object.fromEntries(fields.map((f) => [f, full[f]])));
        }
        expect((await store.getTaskView(b.id))?.result?.videos[0].key).toBe('results/x/0.mp4');
        expect((await store.getTaskView(c.id))?.error).toEqual({ code: 'upstream_error', message: 'boom' });
        expect(await store.getTaskView('task_01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBeUndefined();
      });

      it('where a store reads synchronously, getTaskViewNow and readTogether read what getTaskView reads; a throw leaves the store usable', async () => {
        if (!store.getTaskViewNow || !store.readTogether) return; // optional: only stores that read synchronously offer them
        const k = await store.createKey(newKey({ balanceMicros: 3_000_000 }));
        const [a, b] = await Promise.all([1, 2].map(async () => (await store.createTask(newTask(k.id), { maxConcurrentTasks: null })).task));
        const unknown = 'task_01ARZ3NDEKTSV4RRFFQ69G5FAV';
        const together = store.readTogether(() => [a.id, b.id, unknown].map((id) => store.getTaskViewNow!(id)));
        expect(together).toEqual([await store.getTaskView(a.id), await store.getTaskView(b.id), undefined]);
        expect(() =>
          store.readTogether!(() => {
            store.getTaskViewNow!(a.id);
            throw new Error('a poll failed');
          }),
        ).toThrow('a poll failed');
        // Nothing is left holding the store: writes and reads go on.
        await store.finishTask(a.id, failed, Date.now());
        expect(store.readTogether(() => store.getTaskViewNow!(a.id))?.status).toBe('failed');
      });

      it('lists a key’s tasks newest first with cursor paging and filters, never another key’s', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 100_000_000 }));
        const other = await store.createKey(newKey({ balanceMicros: 10_000_000 }));
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) ids.push((await store.createTask(newTask(k.id, { model: i % 2 ? 'viduq3' : 'happyhorse-1.0' }), { maxConcurrentTasks: null })).task.id);
        await store.createTask(newTask(other.id), { maxConcurrentTasks: null });
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listTasks(k.id, { limit: 3, cursor });
          seen.push(...page.items.map((t) => t.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(seen).toEqual([...ids].reverse());
        expect((await store.listTasks(k.id, { limit: 10, model: 'viduq3' })).items).toHaveLength(3);
        await store.finishTask(ids[0], failed, Date.now());
        expect((await store.listTasks(k.id, { limit: 10, status: 'failed' })).items.map((t) => t.id)).toEqual([ids[0]]);
      });

      it('finds expired results and forgets them', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 1_000_000 }));
        const t = (await store.createTask(newTask(k.id), { maxConcurrentTasks: null })).task;
        const o = completed(100);
        if (o.status === 'completed') o.result.expiresAt = Math.floor(Date.now() / 1000) - 10;
        await store.finishTask(t.id, o, Date.now());
        expect((await store.findExpiredResults(Date.now(), 10)).map((x) => x.id)).toEqual([t.id]);
        await store.clearResult(t.id);
        expect(await store.findExpiredResults(Date.now(), 10)).toEqual([]);
        expect((await store.getTask(t.id))?.result).toBeNull();
      });

      it('reports usage per key, model and day', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 10_000_000 }));
        const a = (await store.createTask(newTask(k.id), { maxConcurrentTasks: null })).task;
        const b = (await store.createTask(newTask(k.id), { maxConcurrentTasks: null })).task;
        await store.createTask(newTask(k.id, { model: 'viduq3' }), { maxConcurrentTasks: null });
        await store.finishTask(a.id, completed(300_000), Date.now());
        await store.finishTask(b.id, failed, Date.now());
        const rows = await store.usage({ keyId: k.id });
        const day = new Date().toISOString().slice(0, 10);
        expect(rows.find((r) => r.model === 'happyhorse-1.0')).toMatchObject({ day, tasks: 2, completed: 1, failed: 1, cancelled: 0, spentMicros: 300_000, billedSeconds: 5 });
        expect(rows.find((r) => r.model === 'viduq3')).toMatchObject({ tasks: 1, completed: 0, spentMicros: 0 });
        expect(await store.usage({ keyId: k.id, from: '2999-01-01' })).toEqual([]);
      });
    });

    describe('webhook deliveries', () => {
      it('a finished task with a callback URL gets one delivery, claimable and recorded attempt by attempt', async () => {
        const k = await store.createKey(newKey({ balanceMicros: 1_000_000 }));
        const t = (await store.createTask(newTask(k.id, { callbackUrl: 'https://hooks.example/x' }), { maxConcurrentTasks: null })).task;
        await store.finishTask(t.id, failed, Date.now());
        await store.finishTask(t.id, failed, Date.now());
        const now = Date.now();
        const claimed = await store.claimWebhooks(now, 30_000, 10);
        expect(claimed).toHaveLength(1);
        expect(claimed[0]).toMatchObject({ taskId: t.id, keyId: k.id, url: 'https://hooks.example/x', event: 'failed', attempts: 0 });
        expect(await store.claimWebhooks(now + 1, 30_000, 10)).toEqual([]);
        await store.recordWebhookAttempt({ deliveryId: claimed[0].id, attempt: 1, at: now, status: 500, error: 'HTTP 500', durationMs: 12 }, { nextAttemptAt: now + 2000 });
        expect(await store.claimWebhooks(now + 1999, 30_000, 10)).toEqual([]);
        const again = await store.claimWebhooks(now + 2000, 30_000, 10);
        expect(again[0]).toMatchObject({ attempts: 1, lastStatus: 500 });
        await store.recordWebhookAttempt({ deliveryId: claimed[0].id, attempt: 2, at: now + 2000, status: 204, error: null, durationMs: 8 }, { deliveredAt: now + 2000 });
        expect(await store.claimWebhooks(now + 999_999, 30_000, 10)).toEqual([]);
        const [d] = await store.listWebhookDeliveries({ taskId: t.id, limit: 10 });
        expect(d).toMatchObject({ deliveredAt: now + 2000, attempts: 2 });
        expect(d.attemptLog.map((a) => a.status)).toEqual([500, 204]);
      });
    });
  });
}
