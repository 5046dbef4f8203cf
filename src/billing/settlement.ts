/**
 * The money rules, as pure functions both stores apply inside their transactions:
 * what a hold is, and how a finished task's hold turns into a charge, a release or a refund.
 */
import type { LedgerKind } from '../store/types.ts';
import type { TaskOutcome, TaskRecord } from '../tasks/task.ts';

export interface LedgerMove {
  kind: LedgerKind;
  balanceDelta: number;
  heldDelta: number;
  spentDelta: number;
  note: string | null;
}

export function holdMove(priceMicros: number): LedgerMove {
  return { kind: 'hold', balanceDelta: -priceMicros, heldDelta: priceMicros, spentDelta: 0, note: null };
}

/**
 * Completion settles what the task cost (never more than was held) and releases the rest of the hold;
 * failure and cancellation refund the whole hold. Exactly one settle or one refund per task: the stores
 * call this only on the transition into a terminal state, and a unique index on (task_id, kind) backs it.
 */
export function finishMoves(task: Pick<TaskRecord, 'priceMicros'>, outcome: TaskOutcome): LedgerMove[] {
  const held = task.priceMicros;
  if (outcome.status === 'completed') {
    const cost = chargeFor(held, outcome.costMicros);
    const moves: LedgerMove[] = [{ kind: 'settle', balanceDelta: 0, heldDelta: -cost, spentDelta: cost, note: null }];
    if (held > cost) {
      moves.push({ kind: 'release', balanceDelta: held - cost, heldDelta: -(held - cost), spentDelta: 0, note: 'unused part of the hold' });
    }
    return moves;
  }
  const why = outcome.status === 'cancelled' ? 'cancelled' : `failed: ${outcome.error.code}`;
  return [{ kind: 'refund', balanceDelta: held, heldDelta: -held, spentDelta: 0, note: why }];
}

/** What a completed task is charged: its cost, capped by the hold (a client is never charged past the estimate). */
export function chargeFor(heldMicros: number, costMicros: number): number {
  return Math.max(0, Math.min(heldMicros, Math.round(costMicros)));
}
