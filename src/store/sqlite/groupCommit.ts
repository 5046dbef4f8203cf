/**
 * Group commit for the embedded store. With PRAGMA synchronous=FULL every commit waits for an fsync
 * (2–80 ms on shared disks), so one transaction per request caps a busy gateway at a few hundred writes a
 * second. Writes that arrive in the same event-loop turn are run in one transaction instead — each inside
 * its own savepoint, so one refusal (payment_required, say) rolls back only its own changes — and share
 * one fsync. Nobody's promise settles before the commit: "committed before the answer" still holds.
 *
 * Durable mode (`walSync`, the store's synchronous=FULL): the connection runs with synchronous=NORMAL and
 * the fsync of the WAL — what FULL does inside every COMMIT — is done here instead, in the thread pool,
 * after the commit: the event loop keeps serving while the disk syncs. Writes that arrive meanwhile are
 * committed together once the loop has read all that came in (commitWhenQuiet), or after the sync if it
 * ends first, and synced together when it has ended (they could not be answered sooner anyway), so
 * batches stay as large as when the sync blocked the loop. No write's promise settles before a sync that
 * began after its commit has finished, so every answer still waits for its write to be durable
 * (docs/decisions/0012-performance.md).
 *
 * Savepoints cost every write a copy of each page it changes (10–11 µs of the ~87 µs a submitted task
 * costs the store), and serve only refusals. So a batch first runs as one plain transaction; if any write
 * in it throws, that transaction is rolled back whole and the batch runs again with a savepoint per write,
 * as do the batches of the next second (refusals come in runs: a key out of credit, a concurrency limit).
 * A write's function may therefore run twice; it must do nothing but work in this database.
 *
 * Checkpoints (`WalCheckpoints`, durable mode): a thread copies the WAL into the database file beside the
 * commits every 200 ms — twice in a row, the second copy catching up with what was committed during the
 * first — and the round after that ends with the thread's `finish` instead of a plain sync, so the WAL
 * starts again from its beginning (checkpointer.ts).
 */
import type Database from 'better-sqlite3';

interface Pending {
  fn: () => unknown;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** How long batches keep their savepoints after a write was refused. */
const SAVEPOINTS_FOR_MS = 1_000;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Makes everything committed so far durable (an fdatasync of the WAL file). */
export type WalSync = () => Promise<void>;

/**
 * Checkpoints off the event loop (checkpointer.ts): `backfill` copies the WAL into the database file while
 * commits go on; `finish` makes every commit so far durable, as WalSync does (and calls `synced` as soon as
 * they are), then copies what is left.
 */
export interface WalCheckpoints {
  backfill(): Promise<unknown>;
  finish(synced: () => void): Promise<unknown>;
  /** The checkpointer failed: SQLite's own checkpoints on the writing connection take over. */
  disable(error: unknown): void;
}

/** How often a backfill starts while writes come in: about 2,500 WAL pages at 600 batches a second. */
const BACKFILL_EVERY_MS = 200;

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  /** Each write in its own savepoint: a write that throws is undone alone. */
  private readonly batch: Database.Transaction<(items: Pending[]) => Outcome[]>;
  /** All writes in one plain transaction: a write that throws undoes the whole batch. */
  private readonly plainBatch: Database.Transaction<(items: Pending[]) => Outcome[]>;
  /** Until then (ms since the epoch), batches start with savepoints: a write was refused lately. */
  private savepointsUntil = 0;
  /** Committed, waiting for the next WAL sync (durable mode). */
  private unsynced: { item: Pending; outcome: Outcome }[] = [];
  private syncing = false;
  /** The running sync is a checkpoint's `finish`: nothing may commit until it ends. */
  private finishing = false;
  /** A check for a quiet turn is scheduled (commitWhenQuiet), and the queue's length at the last one. */
  private quietCheck = false;
  private queuedAtLastCheck = -1;
  /** One commit per sync at most: on a slow disk, writes trickling in during a long sync still form one batch. */
  private committedDuringSync = false;
  private idle: (() => void)[] = [];
  /** Where the checkpoint round stands: a backfill running, or done and the next sync a `finish`. */
  private checkpointStep: 'idle' | 'backfilling' | 'finishDue' = 'idle';
  /** When the last backfill started. */
  private lastBackfill = -Infinity;
  /** The store is closing: no backfill starts, as the checkpoint thread is about to end. */
  private closing = false;
  /** Batches committed and writes in them, for metrics and the benchmark notes. */
  batches = 0;
  writes = 0;
  syncs = 0;
  /** Batches committed while a sync ran (commitWhenQuiet). */
  commitsDuringSync = 0;
  /** Plain batches rolled back because a write threw, and run again with savepoints. */
  reruns = 0;
  /** Rounds ended by the checkpointer's `finish` (each leaves the WAL to start again). */
  checkpointRounds = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly maxBatch = 256,
    private readonly walSync: WalSync | null = null,
    private checkpoints: WalCheckpoints | null = null,
  ) {
    // Each write in its own SAVEPOINT, with statements prepared once (wrapping each write in a new
    // db.transaction() builds the wrapper function anew every time). A write that throws is rolled back
    // to its savepoint; its neighbours are not.
    const savepoint = db.prepare('SAVEPOINT write');
    const release = db.prepare('RELEASE write');
    const rollback = db.prepare('ROLLBACK TO write');
    this.batch = db.transaction((items: Pending[]) =>
      items.map((item): Outcome => {
        savepoint.run();
        try {
          const value = item.fn();
          release.run();
          return { ok: true, value };
        } catch (error) {
          rollback.run();
          release.run();
          return { ok: false, error };
        }
      }),
    );
    this.plainBatch = db.transaction((items: Pending[]) => items.map((item): Outcome => ({ ok: true, value: item.fn() })));
  }

  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    // While a sync runs, new writes are committed once the loop has read all that arrived (or a full batch
    // is ready); the sync's end starts the sync that covers them.
    if (this.syncing && this.queue.length < this.maxBatch) return this.commitWhenQuiet();
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * During a plain WAL sync: the writes waiting for it are committed as soon as a turn of the event loop
   * brings no new one, instead of after the sync ends. Their own sync then starts the moment this one ends,
   * and the loop does the commit's work while it would otherwise wait for the disk. They are still answered
   * only after a sync that began after their commit. Once per sync at most: writes that come after that
   * wait for its end, as before, so a slow disk's long sync does not turn a trickle of writes into many
   * small commits. Never during a checkpoint's `finish`, whose copy must see no new commit. The check runs
   * once per turn (setImmediate), so the loop polls for I/O without sleeping while writes keep arriving
   * during a sync — at most for that sync's duration.
   */
  private commitWhenQuiet(): void {
    if (this.quietCheck || this.finishing || this.committedDuringSync) return;
    this.quietCheck = true;
    this.queuedAtLastCheck = -1;
    setImmediate(() => this.checkQuiet());
  }

  private checkQuiet(): void {
    this.quietCheck = false;
    if (!this.syncing || this.finishing || this.scheduled || this.queue.length === 0) return;
    if (this.queue.length !== this.queuedAtLastCheck) {
      // Writes came in during the last turn: more may be on their way.
      this.queuedAtLastCheck = this.queue.length;
      this.quietCheck = true;
      setImmediate(() => this.checkQuiet());
      return;
    }
    this.commitsDuringSync++;
    this.committedDuringSync = true;
    this.flush();
  }

  /**
   * For the store's close: starts no more backfills (a copy in flight still ends), so the checkpoint
   * thread can be ended without a request of ours arriving after it.
   */
  stopCheckpoints(): void {
    this.closing = true;
  }

  /** Resolves once every write queued so far has committed and, in durable mode, been synced. */
  async settled(): Promise<void> {
    await this.run(() => undefined);
    if (this.syncing || this.unsynced.length > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const items = this.queue.splice(0, this.maxBatch);
      let outcomes: Outcome[];
      try {
        outcomes = this.commitBatch(items);
      } catch (e) {
        // The commit itself failed (busy beyond the timeout, disk full): nothing in the batch happened.
        for (const item of items) item.reject(e);
        continue;
      }
      this.batches++;
      this.writes += items.length;
      if (this.walSync) {
        // Refusals wait too: a replayed Idempotency-Key may return a task committed in a batch whose
        // sync is still running.
        items.forEach((item, i) => this.unsynced.push({ item, outcome: outcomes[i] }));
      } else {
        items.forEach((item, i) => settle(item, outcomes[i]));
      }
    }
    if (this.walSync && !this.syncing && this.unsynced.length > 0) this.sync();
  }

  /** Runs and commits a batch: plainly while writes pass, with savepoints after one was refused. */
  private commitBatch(items: Pending[]): Outcome[] {
    if (Date.now() >= this.savepointsUntil) {
      try {
        return this.plainBatch.immediate(items);
      } catch {
        // A write threw, or the commit failed: nothing of the batch happened. Run it again write by write.
        this.reruns++;
        this.savepointsUntil = Date.now() + SAVEPOINTS_FOR_MS;
      }
    }
    return this.batch.immediate(items);
  }

  private sync(): void {
    const covered = this.unsynced;
    this.unsynced = [];
    this.syncing = true;
    // A round ended by the checkpointer's `finish` is durable once the WAL is synced, before the
    // checkpoint's copy and the database file's sync (2–3 ms): its writes are answered then, while the
    // writes that arrive meanwhile still wait for the whole round.
    let told = false;
    const tellDurable = () => {
      if (told) return;
      told = true;
      this.syncs++;
      for (const { item, outcome } of covered) settle(item, outcome);
    };
    this.durable(tellDurable).then(tellDurable, (e: unknown) => {
      // Committed but perhaps not on disk: nobody may be told it is done.
      if (!told) for (const { item } of covered) item.reject(e);
    }).finally(() => {
      this.syncing = false;
      this.finishing = false;
      this.committedDuringSync = false;
      this.queuedAtLastCheck = -1;
      // Writes committed during that sync are synced now. Those still waiting are committed (and their
      // sync started) in the next turn of the event loop, not here: the answers of the writes just synced
      // go out first — they are written in this turn's check phase (fastPath.ts), once the promise chains
      // settled above have run — and their clients send their next requests while this batch commits,
      // instead of after it. Requests read in between join it.
      if (this.queue.length > 0 && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => setImmediate(() => this.flush()));
      }
      if (this.unsynced.length > 0) this.sync();
      if (!this.syncing) for (const wake of this.idle.splice(0)) wake();
      this.maybeBackfill();
    });
  }

  /**
   * The sync of a round: an fdatasync of the WAL, or, after a backfill, the checkpointer's `finish`, which
   * syncs the WAL too (and calls `synced` then, before it copies). While it runs no batch commits, so it
   * leaves every frame copied and the next commit starts the WAL again from its beginning.
   */
  private async durable(synced: () => void): Promise<void> {
    if (this.checkpointStep !== 'finishDue' || !this.checkpoints) return this.walSync!();
    this.checkpointStep = 'idle';
    this.finishing = true;
    try {
      await this.checkpoints.finish(synced);
      this.checkpointRounds++;
    } catch (e) {
      this.abandonCheckpoints(e);
      await this.walSync!();
    }
  }

  private maybeBackfill(): void {
    const c = this.checkpoints;
    const now = performance.now();
    if (!c || this.closing || this.checkpointStep !== 'idle' || now - this.lastBackfill < BACKFILL_EVERY_MS) return;
    this.checkpointStep = 'backfilling';
    this.lastBackfill = now;
    // Twice: the first copy takes ~5 ms under load, and what is committed meanwhile (~100 frames) would
    // otherwise be left to `finish`, during which nothing commits. Its database-file sync is what a finish
    // costs, and it grows with the scattered pages copied: finish took 3.1 ms (p50) after one backfill,
    // 1.8 ms after two (docs/decisions/0012-performance.md, item 54). A second copy that finds nothing new
    // does no I/O.
    c.backfill().then(() => (this.closing ? undefined : c.backfill())).then(
      () => (this.checkpointStep = 'finishDue'),
      (e: unknown) => {
        this.checkpointStep = 'idle';
        this.abandonCheckpoints(e);
      },
    );
  }

  private abandonCheckpoints(e: unknown): void {
    const c = this.checkpoints;
    this.checkpoints = null;
    c?.disable(e);
  }
}

function settle(item: Pending, o: Outcome): void {
  if (o.ok) item.resolve(o.value);
  else item.reject(o.error);
}
