/**
 * What the reads and task updates of the PostgreSQL store share (taskViewBatches.ts, patchBatches.ts): the
 * requests handed in during one turn of the event loop are sent together after it, and what has been sent
 * is tracked until it is answered, so the store can wait for it before closing. Each turn's statements run
 * beside earlier turns' ones; submits, which queue on key rows, have their own one-at-a-time writer
 * (heldTaskBatches.ts).
 */
export abstract class TurnBatches<W> {
  private waiting: W[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  /** Queues a request; the first of a turn schedules the send, so the turn's others join it. */
  protected add(w: W): void {
    if (this.waiting.push(w) === 1) setImmediate(() => this.flush());
  }

  /** Sends one turn's requests; each promise answers some of them and never rejects. */
  protected abstract send(turn: W[]): Promise<void>[];

  /** Resolves once every request handed in so far has its answer (the store waits for this before it closes). */
  async idle(): Promise<void> {
    while (this.waiting.length > 0 || this.inFlight.size > 0) await new Promise((r) => setImmediate(r)).then(() => Promise.all(this.inFlight));
  }

  private flush(): void {
    const turn = this.waiting;
    this.waiting = [];
    for (const sent of this.send(turn)) {
      this.inFlight.add(sent);
      void sent.then(() => this.inFlight.delete(sent));
    }
  }
}
