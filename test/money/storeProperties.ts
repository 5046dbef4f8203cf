/**
 * Property-based tests of the money rules, shared by every store: fast-check generates random programs of
 * top-ups, submits (with and without Idempotency-Keys, racing or not), completions (costs below and above
 * the hold), failures, cancels, duplicate upstream results and restarts, runs them — some steps
 * concurrently — and checks every invariant after each step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.ts';
import type { Store } from '../../src/store/types.ts';
import type { TaskOutcome } from '../../src/tasks/task.ts';
import { newKey, newTask } from '../contracts/store.contract.ts';
import { moneyViolations } from './invariants.ts';

/** Opens the same store again (a restart); `open()` the first time. */
export interface ReopenableStore {
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

type Op =
  | { op: 'topup'; key: number; amount: number }
  | { op: 'submit'; key: number; price: number; idem: number | null; body: number; limit: number | null }
  | { op: 'complete'; task: number; costPercent: number }
  | { op: 'fail'; task: number }
  | { op: 'cancel'; task: number }
  | { op: 'duplicate'; task: number; outcome: 'complete' | 'fail' | 'cancel' }
  | { op: 'restart' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('topup' as const), key: fc.nat(2), amount: fc.integer({ min: 1, max: 3_000_000 }) }), weight: 2 },
  {
    arbitrary: fc.record({
      op: fc.constant('submit' as const),
      key: fc.nat(2),
      price: fc.integer({ min: 0, max: 2_000_000 }),
      idem: fc.option(fc.nat(3), { nil: null }),
      body: fc.nat(1),
      limit: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ op: fc.constant('complete' as const), task: fc.nat(40), costPercent: fc.integer({ min: 0, max: 150 }) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('fail' as const), task: fc.nat(40) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('cancel' as const), task: fc.nat(40) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('duplicate' as const), task: fc.nat(40), outcome: fc.constantFrom('complete' as const, 'fail' as const, 'cancel' as const) }), weight: 3 },
  { arbitrary: fc.constant({ op: 'restart' as const }), weight: 1 },
);

/** A program: steps, each one op or a group run concurrently. */
const programArb = fc.array(fc.oneof({ arbitrary: opArb.map((o) => [o]), weight: 3 }, { arbitrary: fc.array(opArb, { minLength: 2, maxLength: 6 }), weight: 1 }), { minLength: 5, maxLength: 25 });

export function runMoneyProperties(name: string, factory: () => Promise<ReopenableStore>, numRuns = 60): void {
  describe(`${name}: money invariants under random interleavings`, () => {
    it('hold after every step of every program', async () => {
      await fc.assert(
        fc.asyncProperty(programArb, async (program) => {
          const handle = await factory();
          let store = await handle.open();
          try {
            const keys: Awaited<ReturnType<Store['createKey']>>[] = [];
            for (let i = 0; i < 3; i++) keys.push(await store.createKey(newKey({ balanceMicros: 2_000_000 })));
            const tasks: { id: string; priceMicros: number }[] = [];
            const run = async (o: Op): Promise<void> => {
              const task = 'task' in o ? tasks[o.task % Math.max(1, tasks.length)] : undefined;
              const finish = (t: { id: string; priceMicros: number }, outcome: TaskOutcome) => store.finishTask(t.id, outcome, Date.now());
              const completed = (t: { priceMicros: number }, pct: number): TaskOutcome => ({
                status: 'completed',
                result: { videos: [], expiresAt: 2_000_000_000 },
                costMicros: Math.round((t.priceMicros * pct) / 100),
                billedSeconds: 5,
              });
              try {
                switch (o.op) {
                  case 'topup':
                    await store.adjustBalance(keys[o.key].id, o.amount, 'topup', null, Date.now());
                    return;
                  case 'submit': {
                    const idempotency = o.idem === null ? undefined : { key: `idem-${o.idem}`, requestHash: `body-${o.body}`, windowMs: 86_400_000 };
                    const r = await store.createTask(newTask(keys[o.key].id, { priceMicros: o.price }), { idempotency, maxConcurrentTasks: o.limit });
                    if (!r.replayed) tasks.push({ id: r.task.id, priceMicros: r.task.priceMicros });
                    return;
                  }
                  case 'complete':
                    if (task) await finish(task, completed(task, o.costPercent));
                    return;
                  case 'fail':
                    if (task) await finish(task, { status: 'failed', error: { code: 'upstream_error', message: 'x' } });
                    return;
                  case 'cancel':
                    if (task) await finish(task, { status: 'cancelled' });
                    return;
                  case 'duplicate':
                    if (!task) return;
                    // The same upstream result (or a late cancel) arriving twice at once.
                    await Promise.all([0, 1].map(() =>
                      finish(task, o.outcome === 'complete' ? completed(task, 80) : o.outcome === 'fail' ? { status: 'failed', error: { code: 'e', message: 'x' } } : { status: 'cancelled' }),
                    ));
                    return;
                  case 'restart':
                    await store.close();
                    store = await handle.open();
                    return;
                }
              } catch (e) {
                // Refusals a client would see are expected outcomes, not failures of the property.
                if (e instanceof ApiError && ['payment_required', 'idempotency_key_reused', 'concurrency_limit_exceeded'].includes(e.code)) return;
                throw e;
              }
            };
            for (const step of program) {
              // A restart cannot race other steps (it closes the connection they use).
              if (step.some((o) => o.op === 'restart')) for (const o of step) await run(o);
              else await Promise.all(step.map(run));
              const problems = await moneyViolations(store);
              expect(problems, JSON.stringify(step)).toEqual([]);
            }
          } finally {
            await store.close();
            await handle.cleanup();
          }
        }),
        { numRuns },
      );
    });
  });
}
