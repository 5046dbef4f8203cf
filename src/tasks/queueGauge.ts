/**
 * Unfinished-task counts for the queue limits, read from the store at most every 250 ms: a submit must not
 * pay for a count over a large queue, and a limit that is a quarter-second stale still bounds the queue.
 */
import type { Store } from '../store/types.ts';

const FRESH_MS = 250;

export class QueueGauge {
  private all: { n: number; at: number; pending?: Promise<number> } = { n: 0, at: 0 };
  private readonly models = new Map<string, { n: number; at: number; pending?: Promise<number> }>();

  constructor(private readonly store: Store) {}

  total(): Promise<number> {
    return this.read(this.all, () => this.store.countUnfinished());
  }

  ofModel(model: string): Promise<number> {
    let slot = this.models.get(model);
    if (!slot) this.models.set(model, (slot = { n: 0, at: 0 }));
    return this.read(slot, () => this.store.countUnfinished(model));
  }

  private async read(slot: { n: number; at: number; pending?: Promise<number> }, count: () => Promise<number>): Promise<number> {
    if (Date.now() - slot.at < FRESH_MS) return slot.n;
    slot.pending ??= count().finally(() => (slot.pending = undefined));
    slot.n = await slot.pending;
    slot.at = Date.now();
    return slot.n;
  }
}
