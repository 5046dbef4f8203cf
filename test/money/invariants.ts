/**
 * The money invariants, checked against a store after every step of the property tests and the crash test:
 *  - no balance below zero; per key, top-ups − settled − held = balance, and the ledger adds up to it;
 *  - each ledger row's balance_after is the key's balance once that row's move (and every earlier one) is applied;
 *  - held = the prices of the key's unfinished tasks; spent = the costs of its completed tasks;
 *  - every task has exactly one hold; every finished task exactly one settle or one refund (never both);
 *    an unfinished task has neither.
 */
import type { Store, LedgerEntry } from '../../src/store/types.ts';
import type { TaskRecord } from '../../src/tasks/task.ts';

export async function allLedger(store: Store): Promise<LedgerEntry[]> {
  const rows: LedgerEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listLedger(null, { cursor, limit: 500 });
    rows.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return rows;
}

export async function allTasks(store: Store, keyId: string): Promise<TaskRecord[]> {
  const out: TaskRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listTasks(keyId, { limit: 100, cursor });
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** Returns a list of violations (empty when every invariant holds). */
export async function moneyViolations(store: Store): Promise<string[]> {
  const problems: string[] = [];
  const ledger = await allLedger(store);
  for (const key of await store.listKeys()) {
    const rows = ledger.filter((r) => r.keyId === key.id);
    const sum = (f: (r: LedgerEntry) => number) => rows.reduce((n, r) => n + f(r), 0);
    const topups = sum((r) => (r.kind === 'topup' || r.kind === 'adjustment' ? r.balanceDelta : 0));
    if (key.balanceMicros < 0) problems.push(`${key.id}: balance ${key.balanceMicros} < 0`);
    if (sum((r) => r.balanceDelta) !== key.balanceMicros) problems.push(`${key.id}: ledger balance ${sum((r) => r.balanceDelta)} ≠ ${key.balanceMicros}`);
    if (sum((r) => r.heldDelta) !== key.heldMicros) problems.push(`${key.id}: ledger held ≠ ${key.heldMicros}`);
    if (sum((r) => r.spentDelta) !== key.spentMicros) problems.push(`${key.id}: ledger spent ≠ ${key.spentMicros}`);
    if (topups - key.spentMicros - key.heldMicros !== key.balanceMicros) problems.push(`${key.id}: top-ups ${topups} − spent ${key.spentMicros} − held ${key.heldMicros} ≠ balance ${key.balanceMicros}`);
    let running = 0;
    for (const r of [...rows].sort((a, b) => a.id - b.id)) {
      running += r.balanceDelta;
      if (r.balanceAfter !== running) problems.push(`${key.id}: ledger row ${r.id} (${r.kind}) says balance_after ${r.balanceAfter}, the moves up to it add up to ${running}`);
    }
    const tasks = await allTasks(store, key.id);
    const unfinishedPrice = tasks.filter((t) => t.phase !== 'done').reduce((n, t) => n + t.priceMicros, 0);
    if (unfinishedPrice !== key.heldMicros) problems.push(`${key.id}: held ${key.heldMicros} ≠ prices of unfinished tasks ${unfinishedPrice}`);
    const completedCost = tasks.filter((t) => t.status === 'completed').reduce((n, t) => n + t.costMicros, 0);
    if (completedCost !== key.spentMicros) problems.push(`${key.id}: spent ${key.spentMicros} ≠ costs of completed tasks ${completedCost}`);
    for (const t of tasks) {
      const kinds = rows.filter((r) => r.taskId === t.id).map((r) => r.kind);
      const count = (k: string) => kinds.filter((x) => x === k).length;
      if (count('hold') !== 1) problems.push(`${t.id}: ${count('hold')} holds`);
      const endings = count('settle') + count('refund');
      if (t.phase === 'done' && endings !== 1) problems.push(`${t.id} (${t.status}): ${count('settle')} settles + ${count('refund')} refunds`);
      if (t.phase !== 'done' && endings !== 0) problems.push(`${t.id} (unfinished): has ${endings} settle/refund rows`);
      if (t.status === 'completed' && count('settle') !== 1) problems.push(`${t.id}: completed without a settle`);
      if ((t.status === 'failed' || t.status === 'cancelled') && count('refund') !== 1) problems.push(`${t.id}: ${t.status} without a refund`);
      if (t.costMicros > t.priceMicros) problems.push(`${t.id}: cost ${t.costMicros} > held ${t.priceMicros}`);
    }
  }
  return problems;
}
