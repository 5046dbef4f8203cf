/**
 * Finished tasks settled together: the PostgreSQL store's group commit for finishTask.
 *
 * A finish moves money (a settle and a release, or a refund), so it takes its key's row lock, and one
 * transaction of six round trips per finish held that lock throughout: one key's finishes ran one at a
 * time, about 560 a second on the benchmark's machine, a tenth of what its submits now reach, and in a
 * steady state every submitted task is finished once. Here the finishes that arrive while the previous batch
 * is being written wait and go in together, as one transaction:
 *  1. lock the batch's task rows in id order and read them (the row lock a single finish serialises on; task
 *     before key, the store's lock order);
 *  2. in JavaScript, for each task not yet finished, its moves (billing/settlement.ts, as a single finish);
 *  3. all the moves at once (BATCH_MOVES: the keys locked in id order, each moved once by its total, a ledger
 *     row per move with its running balance), the task rows finished in one UPDATE, and one insert of their
 *     webhook deliveries;
 *  4. commit, then answer.
 * A task finished before (by another process, or earlier in the same turn) is answered unchanged, as a
 * second finish always is; the batch ends before a task it already holds, so the second finish of a task in
 * one turn sees the first's commit. A batch whose transaction fails is done again one finish at a time
 * through the single path, each with its own answer: a finish is idempotent (a task already finished moves
 * nothing), so this is safe even when the batch's COMMIT did succeed and only its answer was lost.
 */
import { finishMoves } from '../../billing/settlement.ts';
import { TERMINAL_STATUSES, type TaskOutcome } from '../../tasks/task.ts';
import { finishFields, toTask } from '../rows.ts';
import type { FinishResult } from '../types.ts';
import { applyMoves, insertWebhooks, type BatchMove, type NewWebhook } from './queries.ts';
import { finishRows, lockTasks, type FinishColumns } from './taskQueries.ts';
import { MAX_BATCH, SerialBatches } from './serialBatches.ts';
import type { Db, InTransaction } from './transaction.ts';

interface Waiting {
  id: string;
  outcome: TaskOutcome;
  now: number;
  done: (r: FinishResult | undefined) => void;
  fail: (e: unknown) => void;
}

export class FinishBatches extends SerialBatches<Waiting> {
  /** `alone`: the one-finish transaction, for the finishes of a batch whose transaction failed. */
  constructor(
    private readonly inTransaction: InTransaction,
    private readonly alone: (id: string, outcome: TaskOutcome, now: number) => Promise<FinishResult | undefined>,
  ) {
    super();
  }

  finish(id: string, outcome: TaskOutcome, now: number): Promise<FinishResult | undefined> {
    return new Promise<FinishResult | undefined>((done, fail) => this.enqueue({ id, outcome, now, done, fail }));
  }

  /** The first waiting finishes up to MAX_BATCH, ending before a task the batch already holds. */
  protected override nextBatchLength(): number {
    const ids = new Set<string>();
    let n = 0;
    for (; n < this.waiting.length && n < MAX_BATCH; n++) {
      if (ids.has(this.waiting[n].id)) break;
      ids.add(this.waiting[n].id);
    }
    return n;
  }

  protected async write(batch: Waiting[]): Promise<void> {
    let results: (FinishResult | undefined)[];
    try {
      results = await this.inTransaction((tx) => settle(tx, batch));
    } catch {
      for (const w of batch) {
        try {
          w.done(await this.alone(w.id, w.outcome, w.now));
        } catch (e) {
          w.fail(e);
        }
      }
      return;
    }
    results.forEach((r, i) => batch[i].done(r));
  }
}

/** Steps 1–3 above, inside the batch's transaction; each finish's result in the batch's order. */
async function settle(tx: Db, batch: readonly Waiting[]): Promise<(FinishResult | undefined)[]> {
  const rows = new Map((await lockTasks(tx, batch.map((w) => w.id))).map((r) => [String(r.id), r]));
  const moves: BatchMove[] = [];
  const columns: FinishColumns[] = [];
  const webhooks: NewWebhook[] = [];
  const unchanged = new Map<string, FinishResult>();
  for (const { id, outcome, now } of batch) {
    const row = rows.get(id);
    if (!row) continue;
    const task = toTask(row);
    if (TERMINAL_STATUSES.includes(task.status)) {
      unchanged.set(id, { task, changed: false });
      continue;
    }
    const taskMoves = finishMoves(task, outcome);
    for (const m of taskMoves) moves.push({ keyId: task.keyId, taskId: id, move: m, at: now });
    columns.push({ id, now, ...finishFields(task, outcome, taskMoves) });
    if (task.callbackUrl) webhooks.push({ taskId: id, keyId: task.keyId, url: task.callbackUrl, event: outcome.status, now });
  }
  const finished = new Map<string, FinishResult>();
  if (columns.length > 0) {
    // Every move here only adds to a balance, so only a key that no longer exists could leave one unwritten.
    const written = await applyMoves(tx, moves);
    if (written !== moves.length) throw new Error(`a finish batch wrote ${written} of its ${moves.length} ledger rows`);
    for (const r of await finishRows(tx, columns)) finished.set(String(r.id), { task: toTask(r), changed: true });
    if (finished.size !== columns.length) throw new Error(`a finish batch finished ${finished.size} of its ${columns.length} tasks`);
    if (webhooks.length > 0) await insertWebhooks(tx, webhooks);
  }
  return batch.map((w) => finished.get(w.id) ?? unchanged.get(w.id));
}
