/**
 * Polls read together: the task views asked for in one turn of the event loop go to PostgreSQL as one
 * statement (taskQueries.taskViewsByIds) instead of one each.
 *
 * A poll is one indexed read, so what it costs is mostly the statement around it: a round trip, a pool
 * checkout, the protocol's messages on both sides, and the executor's start and end in the server. With
 * 64 clients polling, a turn carries several polls, and one statement for all of them pays those once.
 * Reads do not wait for each other: a new turn's batch goes out while an earlier one is still in flight.
 * Each read still sees everything committed before its request arrived, since its statement starts after.
 */
import type { Db } from './transaction.ts';
import { taskViewById, taskViewsByIds } from './taskQueries.ts';
import { TurnBatches } from './turnBatches.ts';

/** Most ids in one statement. */
export const MAX_READS = 256;

interface Waiting {
  id: string;
  done: (row: unknown[] | undefined) => void;
  fail: (e: unknown) => void;
}

export class TaskViewBatches extends TurnBatches<Waiting> {
  constructor(private readonly db: Db) {
    super();
  }

  /** The task's view columns (TASK_VIEW_COLUMNS order), or undefined when there is no such task. */
  read(id: string): Promise<unknown[] | undefined> {
    return new Promise((done, fail) => this.add({ id, done, fail }));
  }

  /** The turn's reads, MAX_READS to a statement. */
  protected send(turn: Waiting[]): Promise<void>[] {
    const sent: Promise<void>[] = [];
    for (let i = 0; i < turn.length; i += MAX_READS) sent.push(this.readBatch(turn.slice(i, i + MAX_READS)));
    return sent;
  }

  /** Answers every read of the batch; never throws. */
  private async readBatch(batch: Waiting[]): Promise<void> {
    try {
      if (batch.length === 1) {
        batch[0].done(await taskViewById(this.db, batch[0].id));
        return;
      }
      const rows = await taskViewsByIds(this.db, batch.map((w) => w.id));
      for (const w of batch) w.done(rows.get(w.id));
    } catch (e) {
      for (const w of batch) w.fail(e);
    }
  }
}
