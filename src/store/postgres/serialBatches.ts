/**
 * A queue of writes sent one batch at a time: what arrives while a batch is being written waits and goes in
 * the next. The base of the submit batchers (heldTaskBatches.ts, checkedTaskBatches.ts), whose batches lock
 * key rows and so are written one after another, unlike a turn's reads and patches (turnBatches.ts), which
 * go side by side.
 */

/** Most submits in one batch: bounds a statement's size (~1.5 KB of JSON a task) and how long it holds the keys' locks. */
export const MAX_BATCH = 256;

export abstract class SerialBatches<W> {
  protected readonly waiting: W[] = [];
  /** A batch is being written, or one will start at the end of this turn of the event loop. */
  private busy = false;
  private draining: Promise<void> = Promise.resolve();

  /** Resolves once everything handed in so far has its answer (the store waits for this before it closes). */
  async idle(): Promise<void> {
    while (this.busy) await this.draining;
  }

  protected enqueue(w: W): void {
    this.waiting.push(w);
    if (this.busy) return;
    this.busy = true;
    // Started after this turn of the event loop, so the turn's other writes join the batch.
    this.draining = new Promise<void>((drained) => setImmediate(() => void this.drain().then(drained)));
  }

  /** How many of the waiting writes the next batch takes (at least one). */
  protected nextBatchLength(): number {
    return Math.min(this.waiting.length, MAX_BATCH);
  }

  /** Writes and answers every write of the batch; never throws. */
  protected abstract write(batch: W[]): Promise<void>;

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) await this.write(this.waiting.splice(0, this.nextBatchLength()));
    this.busy = false;
  }
}
