/**
 * New tasks written together: the PostgreSQL store's group commit for submits.
 *
 * Every submit updates its key's row (the hold), and PostgreSQL keeps that row locked until the commit has
 * been flushed, so one key's submits, written one statement each, commit one at a time: a WAL flush and a
 * round trip each, about 1,400 a second on the benchmark's machine however many connections wait; and
 * every statement is a commit of its own for the server to pay. Here the submits that arrive while the
 * previous batch is being written wait, and then go in as one statement (taskQueries.insertHeldTasks):
 * each key's figures moved once by its tasks' total, a ledger row per task with its running balance, every
 * task row, one commit. One batch is in flight at a time per store; the rest of the pool serves the other
 * statements.
 *
 * A key's tasks in a batch are written all or none. When a key's balance does not cover all of them, the
 * statement returns that balance, and its tasks are taken in the order they arrived as one-at-a-time
 * writes would take them: each one the balance still covers goes into a second statement, each one it does
 * not is refused. Tasks that a statement PostgreSQL refused leaves (one task's text is refused, say) or that
 * the second statement does not write (the balance changed in between) are written one at a time, in order,
 * so each gets the answer it would have had alone. Money and order are as if the submits had run one after
 * another. A statement that got no answer at all (the connection lost) may have committed: its tasks fail,
 * as a single submit's would, rather than risk being held twice.
 */
import type { TaskRecord } from '../../tasks/task.ts';
import type { Move } from './queries.ts';
import { refusedByServer, type Db } from './transaction.ts';
import { insertHeldTask, insertHeldTasks } from './taskQueries.ts';
import { SerialBatches } from './serialBatches.ts';

interface Waiting {
  task: TaskRecord;
  hold: Move;
  done: (written: boolean) => void;
  fail: (e: unknown) => void;
  /** Answered (by a batch); a batch that then fails must not write it again. */
  settled?: boolean;
}

export class HeldTaskBatches extends SerialBatches<Waiting> {
  constructor(private readonly db: Db) {
    super();
  }

  /**
   * Writes the task with its hold (a move that only takes from the balance). True once committed; false
   * when the key's balance did not cover it, or there is no such key (then nothing of it was written).
   */
  insert(task: TaskRecord, hold: Move): Promise<boolean> {
    if (hold.balanceDelta > 0) throw new Error('a batched hold cannot add to the balance');
    return new Promise<boolean>((done, fail) => this.enqueue({ task, hold, done, fail }));
  }

  protected async write(batch: Waiting[]): Promise<void> {
    let alone = batch;
    if (batch.length > 1) {
      try {
        const first = await insertHeldTasks(this.db, batch);
        const again = this.settle(batch, first.written, first.shortKeys);
        alone = again;
        if (again.length > 1) alone = this.settle(again, (await insertHeldTasks(this.db, again)).written, null);
      } catch (e) {
        const left = alone.filter((w) => !w.settled);
        if (!refusedByServer(e)) {
          // The statement may have committed before its answer was lost: writing its tasks again could hold
          // their price twice, so they fail as a single submit would.
          for (const w of left) w.fail(e);
          return;
        }
        // PostgreSQL refused the statement, which so wrote nothing; one task's data may be why: one at a time
        // below, each gets its own answer.
        alone = left;
      }
    }
    for (const w of alone) {
      try {
        w.done(await insertHeldTask(this.db, w.task, w.hold, w.task.createdAt));
      } catch (e) {
        w.fail(e);
      }
    }
  }

  /**
   * Answers the written tasks. Of a key whose total was not covered, goes through its tasks in order as
   * one-at-a-time writes would: a task its balance still covers is kept for another statement, one it does
   * not is refused. Returns the tasks still to write, in order.
   */
  private settle(batch: Waiting[], written: Set<string>, shortKeys: Map<string, number> | null): Waiting[] {
    const left = new Map(shortKeys);
    const again: Waiting[] = [];
    for (const w of batch) {
      if (written.has(w.task.id)) {
        w.settled = true;
        w.done(true);
        continue;
      }
      if (shortKeys) {
        const balance = left.get(w.task.keyId) ?? 0;
        if (balance + w.hold.balanceDelta < 0) {
          w.settled = true;
          w.done(false);
          continue;
        }
        left.set(w.task.keyId, balance + w.hold.balanceDelta);
      }
      again.push(w);
    }
    return again;
  }
}
