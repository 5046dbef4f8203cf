/**
 * Group commit for the embedded store. With PRAGMA synchronous=FULL every commit waits for an fsync
 * (2–80 ms on shared disks), so one transaction per request caps a busy gateway at a few hundred writes a
 * second. Writes that arrive in the same event-loop turn are run in one transaction instead — each inside
 * its own savepoint, so one refusal (payment_required, say) rolls back only its own changes — and share
 * one fsync. Nobody's promise settles before the commit: "committed before the answer" still holds.
 */
import type Database from 'better-sqlite3';

interface Pending {
  fn: () => unknown;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly batch: Database.Transaction<(items: Pending[]) => Outcome[]>;
  /** Batches committed and writes in them, for metrics and the benchmark notes. */
  batches = 0;
  writes = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly maxBatch = 256,
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
  }

  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const items = this.queue.splice(0, this.maxBatch);
      let outcomes: Outcome[];
      try {
        outcomes = this.batch.immediate(items);
      } catch (e) {
        // The commit itself failed (busy beyond the timeout, disk full): nothing in the batch happened.
        for (const item of items) item.reject(e);
        continue;
      }
      this.batches++;
      this.writes += items.length;
      items.forEach((item, i) => {
        const o = outcomes[i];
        if (o.ok) item.resolve(o.value);
        else item.reject(o.error);
      });
    }
  }
}
