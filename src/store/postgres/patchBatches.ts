/**
 * A worker's task updates written together: the patches made in one turn of the event loop that set the
 * same fields (a "still running, check again at …" after each status check, mostly) go to PostgreSQL as one
 * UPDATE … FROM a JSON array of rows (taskQueries.patchTasks) instead of one statement each.
 *
 * A status check is an upstream call and a patch of the task; with many tasks in flight, a worker's checks
 * come back many to a turn, and each patch paid a statement of its own: a round trip, a commit, the
 * executor's start and end. Each task's patch is applied as alone, under the same conditions (this worker
 * holds the lease, the task is unfinished), and answers with the task's row or, where a condition failed,
 * nothing. Two patches of one task in one turn go in separate statements, in the order they were made. A
 * statement that fails (PostgreSQL refuses a NUL in one task's facts, say) is retried patch by patch, so
 * only that patch gets the error. A statement locks its tasks in id order, as finish batches do, so the two
 * queue on shared tasks rather than deadlock.
 */
import type { TaskPatch } from '../types.ts';
import type { Db, Row } from './transaction.ts';
import { batchPatch, patchTask, patchTasks, type BatchPatch } from './taskQueries.ts';
import { TurnBatches } from './turnBatches.ts';

/** Most patches in one statement. */
export const MAX_PATCHES = 256;

interface Waiting {
  id: string;
  owner: string;
  patch: TaskPatch;
  now: number;
  done: (row: Row | undefined) => void;
  fail: (e: unknown) => void;
}

export class TaskPatchBatches extends TurnBatches<Waiting> {
  constructor(private readonly db: Db) {
    super();
  }

  /** Applies the patch if `owner` holds the task's lease and it is unfinished; the updated row, or undefined. */
  apply(id: string, owner: string, patch: TaskPatch, now: number): Promise<Row | undefined> {
    return new Promise((done, fail) => this.add({ id, owner, patch, now, done, fail }));
  }

  /** Groups the turn's patches by shape; each group's statements run one after another, groups side by side. */
  protected send(turn: Waiting[]): Promise<void>[] {
    const groups = new Map<string, { w: Waiting; b: BatchPatch }[]>();
    for (const w of turn) {
      const b = batchPatch(w.id, w.owner, w.patch, w.now);
      const group = groups.get(b.shape);
      if (group) group.push({ w, b });
      else groups.set(b.shape, [{ w, b }]);
    }
    return [...groups.values()].map((group) => this.sendGroup(group));
  }

  private async sendGroup(group: { w: Waiting; b: BatchPatch }[]): Promise<void> {
    let rest = group;
    while (rest.length > 0) {
      // One statement per task at most: a task patched twice waits for the next statement.
      const ids = new Set<string>();
      const batch: typeof group = [];
      const later: typeof group = [];
      for (const item of rest) {
        if (batch.length < MAX_PATCHES && !ids.has(item.w.id)) {
          ids.add(item.w.id);
          batch.push(item);
        } else later.push(item);
      }
      await this.write(batch);
      rest = later;
    }
  }

  /** Answers every patch of the batch; never throws. */
  private async write(batch: { w: Waiting; b: BatchPatch }[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const rows = await patchTasks(this.db, batch.map((x) => x.b));
        for (const { w } of batch) w.done(rows.get(w.id));
        return;
      } catch {
        // One patch's data may be what failed the statement: one at a time below, each gets its own answer.
      }
    }
    for (const { w } of batch) {
      try {
        w.done(await patchTask(this.db, w.id, w.owner, w.patch, w.now));
      } catch (e) {
        w.fail(e);
      }
    }
  }
}
